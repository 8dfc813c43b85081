/*
 * Word lists: VADER's rule words (negations, boosters and dampeners, as the
 * published method defines them), an English stopword list, generic
 * feedback words and a small list of aspect synonyms for themes. The last
 * three are our own, written for this project (docs/internals/insights.md).
 */
#include "insights/insights_int.h"

#include <stdlib.h>
#include <string.h>

#define B_INCR 0.293
#define B_DECR (-0.293)

/* VADER's NEGATE list. */
static const char *const negate_words[] = {
    "aint",    "arent",    "cannot",   "cant",     "couldnt",  "darent",  "didnt",    "doesnt",
    "ain't",   "aren't",   "can't",    "couldn't", "daren't",  "didn't",  "doesn't",  "dont",
    "hadnt",   "hasnt",    "havent",   "isnt",     "mightnt",  "mustnt",  "neither",  "don't",
    "hadn't",  "hasn't",   "haven't",  "isn't",    "mightn't", "mustn't", "neednt",   "needn't",
    "never",   "none",     "nope",     "nor",      "not",      "nothing", "nowhere",  "oughtnt",
    "shant",   "shouldnt", "uhuh",     "wasnt",    "werent",   "oughtn't", "shan't",  "shouldn't",
    "uh-uh",   "wasn't",   "weren't",  "without",  "wont",     "wouldnt", "won't",    "wouldn't",
    "rarely",  "seldom",   "despite",
};

/* VADER's BOOSTER_DICT: intensifiers (+) and dampeners (-). */
static const char *const boost_up[] = {
    "absolutely", "amazingly",  "awfully",     "completely",   "considerable", "considerably",
    "decidedly",  "deeply",     "effing",      "enormous",     "enormously",   "entirely",
    "especially", "exceptional", "exceptionally", "extreme",    "extremely",    "fabulously",
    "flipping",   "flippin",    "frackin",     "fracking",     "fricking",     "frickin",
    "frigging",   "friggin",    "fully",       "fuckin",       "fucking",      "fuggin",
    "fugging",    "greatly",    "hella",       "highly",       "hugely",       "incredible",
    "incredibly", "intensely",  "major",       "majorly",      "more",         "most",
    "particularly", "purely",   "quite",       "really",       "remarkably",   "so",
    "substantially", "thoroughly", "total",    "totally",      "tremendous",   "tremendously",
    "uber",       "unbelievably", "unusually", "utter",        "utterly",      "very",
};
static const char *const boost_down[] = {
    "almost",  "barely",     "hardly",   "just enough", "kind of", "kinda",  "kindof",
    "kind-of", "less",       "little",   "marginal",    "marginally", "occasional",
    "occasionally", "partly", "scarce",  "scarcely",    "slight",  "slightly", "somewhat",
    "sort of", "sorta",      "sortof",   "sort-of",
};

/* Function words: phrase boundaries for themes, never features. */
static const char *const stopwords[] = {
    "a", "about", "above", "actually", "after", "again", "against", "ago", "ain", "all",
    "almost", "along", "already", "also", "although", "always", "am", "among", "an", "and",
    "another", "any", "anybody", "anyone", "anything", "anyway", "anyways", "anywhere", "are",
    "aren", "around", "as", "at", "away", "back", "basically", "be", "became", "because",
    "become", "been", "before", "being", "below", "besides", "between", "both", "but", "by",
    "came", "can", "cannot", "cant", "come", "comes", "coming", "could", "couldn", "couldnt",
    "definitely", "did", "didn", "didnt", "do", "does", "doesn", "doesnt", "doing", "don",
    "done", "dont", "down", "during", "each", "either", "else", "enough", "etc", "even",
    "ever", "every", "everybody", "everyone", "everything", "everywhere", "far", "few",
    "first", "for", "from", "further", "get", "gets", "getting", "give", "given", "gives",
    "go", "goes", "going", "gone", "got", "gotten", "guess", "had", "hadn", "has", "hasn",
    "have", "haven", "having", "he", "her", "here", "hers", "herself", "him", "himself",
    "his", "how", "however", "i", "id", "if", "im", "in", "indeed", "instead", "into", "is",
    "isn", "isnt", "it", "its", "itself", "ive", "just", "keep", "kept", "kind", "kinda",
    "know", "knew", "last", "least", "less", "let", "lets", "like", "liked", "ll", "lot",
    "lots", "made", "make", "makes", "making", "many", "may", "maybe", "me", "might", "mine",
    "more", "most", "much", "must", "my", "myself", "nearly", "need", "needed",
    "needs", "neither", "never", "next", "no", "nobody", "none", "nor", "not", "nothing",
    "now", "of", "off", "often", "oh", "ok", "okay", "on", "once", "one", "ones", "only",
    "onto", "or", "other", "others", "otherwise", "ought", "our", "ours", "ourselves", "out",
    "over", "own", "per", "perhaps", "please", "pretty", "probably", "put", "quite",
    "rather", "re", "really", "said", "same", "saw", "say", "says", "see", "seem", "seemed",
    "seems", "seen", "several", "shall", "she", "should", "shouldn", "since", "so", "some",
    "somebody", "someone", "something", "sometimes", "somewhat", "soon", "sort", "still",
    "such", "sure", "take", "taken", "takes", "tell", "than", "that", "thats", "the",
    "their", "theirs", "them", "themselves", "then", "there", "theres", "these", "they",
    "thing", "things", "think", "this", "those", "though", "thought", "three", "through",
    "thus", "to", "together", "told", "too", "took", "toward", "towards", "two", "under",
    "unless", "until", "up", "upon", "us", "use", "used", "using", "usually", "ve", "very",
    "via", "want", "wanted", "wants", "was", "wasn", "wasnt", "way", "we", "well", "went",
    "were", "weren", "what", "whatever", "when", "whenever", "where", "whether", "which",
    "while", "who", "whoever", "whole", "whom", "whose", "why", "will", "with", "within",
    "without", "won", "wont", "would", "wouldn", "yeah", "yes", "yet", "you", "youd",
    "youll", "your", "youre", "yours", "yourself", "yourselves", "youve",
    /* numbers: never themes */
    "zero", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "fifteen", "twenty", "thirty", "forty", "fifty", "hundred", "thousand", "million",
    "dozen",
};

/* Words that carry little on their own in feedback: features, not theme names. */
static const char *const generic_words[] = {
    "amount", "area", "bit", "business", "buy", "bought", "call", "called", "case",
    "company", "customer", "customers", "date", "day", "days", "deal", "end", "everything",
    "experience", "fact", "family", "feel", "feeling", "felt", "find", "found", "friend",
    "friends", "guy", "guys", "half", "hand", "hour", "hours", "idea", "issue", "issues",
    "item", "items", "job", "life", "little", "look", "looked", "looking", "looks", "man",
    "minute", "minutes", "month", "months", "morning", "night", "number", "overall",
    "part", "people", "person", "place", "point", "problem", "problems", "product",
    "products", "purchase", "reason", "review", "reviews", "right", "seriously",
    "star", "stars", "start", "started", "stuff", "thank", "thanks", "time", "times",
    "today", "tonight", "tried", "try", "trying", "visit", "week", "weeks", "woman",
    "work", "worked", "works", "year", "years", "yesterday", "lol", "haha", "http", "https",
    "www", "com", "rt", "amp", "quot", "gt", "lt", "film", "films", "movie", "movies",
    "story", "stories",
    /* common verbs of narration */
    "add", "added", "ask", "asked", "asking", "believe", "believed", "decide", "decided",
    "expect", "expected", "happen", "happened", "happens", "hope", "hoped", "mention",
    "mentioned", "remember", "saying", "talk", "talked", "talking", "wish", "wonder",
    "wondering", "second", "third", "anyone", "whatever", "maybe",
    /* the order and the wait: part of many aspects, the name of none */
    "order", "orders", "ordered", "ordering", "wait", "waited", "waiting", "forever", "ages",
    "url", "removed", "new", "old",
};

/*
 * Aspects common in customer feedback (restaurants, hotels, shops and
 * delivery, apps and software), our own general-purpose list: the words of
 * a group always land in one theme, so synonyms that rarely share a record
 * (staff / waiter / service; delivery / shipping / courier) are one theme.
 * Words match by their Snowball stem, so inflections need not be listed
 * ("delivered", "deliveries"). The food aspect also takes every noun whose
 * most frequent WordNet sense is a food or drink (gen_tables.py). The first
 * word names the aspect (ins_group_name).
 */
static const char *const synonym_groups[][64] = {
    {"service", "staff", "waiter", "waitress", "server", "waitstaff", "employee", "host",
     "hostess", "bartender", "barista", "receptionist", "reception", "concierge", "clerk",
     "doorman", "bellboy", "bellhop", "porter", "sommelier", "personnel",
     "attendant", "attentive", "manager", "hospitality", NULL},
    {"delivery", "delivered", "shipping", "ship", "shipment", "courier", "dispatch", "parcel", "tracking",
     "package", "carrier", "postage", "transit", NULL},
    {"price", "pricing", "cost", "costly", "value", "money", "expensive", "cheap", "cheaper",
     "cheapest", "overpriced", "affordable", "pricey", "pricy", "inexpensive", "fee", "bargain",
     "budget", "discount", "worth", "markup", NULL},
    {"ambience", "ambiance", "atmosphere", "decor", "d\xc3\xa9" "cor", "music", "vibe",
     "interior", "decoration", "noisy", "noise", "loud", "crowded", "cramped",
     "cozy", "cosy", "romantic", "charm", "elegant", "stylish", "seating", "terrace", NULL},
    {"food", "dish", "meal", "cuisine", "flavor", "flavour", "flavorful", "flavourful",
     "flavorless", "flavourless", "taste", "tasty", "tasteless", "delicious", "yummy", "bland",
     "portion", "chef", "drink", "burger", "cake", "cream", "egg", "menu", "overcooked", "undercooked", "salty", "spicy", "soggy", "stale", "juicy", "crispy", "chewy",
     NULL},
    {"support", "helpdesk", "helpline", "hotline", "agent", "representative", "rep", "chatbot",
     "callback", "chat", "complaint", NULL},
    {"app", "application", "software", "website", "site", "interface", "ui", "crash", "bug",
     "buggy", "glitch", "glitchy", "freeze", "frozen", "lag", "laggy", "loading", "update",
     "version", "error", "stable", "stability", "unstable", "sync",
     NULL},
    {"battery", "charge", "charging", "charger", NULL},
    {"size", "sizing", "fit", NULL},
    {"payment", "pay", "paying", "checkout", "billing", "billed", "invoice", "refund", "card",
     "cash", "paypal", "transaction", "receipt", "overcharge", NULL},
    {"cleanliness", "clean", "cleaning", "dirty", "dirt", "filthy", "filth", "spotless",
     "hygiene", "hygienic", "unhygienic", "sanitary", "unsanitary", "dust", "dusty", "stain",
     "mold", "mould", "moldy", "mouldy", "grime", "grimy", "grubby", "tidy", "untidy",
     "immaculate", "sticky", "smelly", "stink", "odor", "odour", "cockroach", "roach", "mice",
     "pest", "vermin", "housekeeping", "trash", "litter", "rubbish", "garbage", NULL},
    {"location", "located", "situated", "neighborhood", "neighbourhood", "downtown", "central",
     "centre", "center", "nearby", "near", "distance", "walkable", "metro", "subway",
     "station", "airport", "beach", "transport", "bus", "tram", "city", "surroundings", NULL},
    {"room", "bedroom", "suite", "bed", "mattress", "pillow", "bathroom", "shower", "bathtub",
     "balcony", "aircon", "heater", "heating", "minibar", "furniture", "curtain", "window",
     "wall", "space", "spacious", "soundproofing", NULL},
};

/* "customer service", "customer care": support, not staff (see collect_stems). */
const unsigned ins_group_support = 6;
const unsigned ins_group_food = 5;

/*
 * One hash table for every word list (and the lexicon and the food nouns):
 * a word's classes are one probe away. Built once, with libc malloc (not
 * cv_malloc, so allocation failure sweeps do not count it), for the process.
 */
enum {
    WB_STOP = 1 << 0,
    WB_GENERIC = 1 << 1,
    WB_NEGATE = 1 << 2,
    WB_BOOST_UP = 1 << 3,
    WB_BOOST_DOWN = 1 << 4,
    WB_FOOD = 1 << 5,
};

struct wentry {
    const char *w; /* NULL: empty slot */
    uint32_t len;
    uint16_t bits;
    uint8_t group;
    int32_t lex; /* index in ins_lexicon, or -1 */
};

static struct wentry *wtab;
static uint32_t wmask;
static bool wtab_ready;

static struct wentry *wslot(const char *w, size_t len, bool add)
{
    uint32_t pos = ins_vocab_hash(w, len) & wmask;

    for (;;) {
        struct wentry *e = &wtab[pos];
        if (!e->w) {
            if (!add) {
                return NULL;
            }
            e->w = w;
            e->len = (uint32_t)len;
            e->lex = -1;
            return e;
        }
        if (e->len == len && memcmp(e->w, w, len) == 0) {
            return e;
        }
        pos = (pos + 1) & wmask;
    }
}

static void add_list(const char *const *list, size_t n, uint16_t bits)
{
    for (size_t i = 0; i < n; i++) {
        wslot(list[i], strlen(list[i]), true)->bits |= bits;
    }
}

static void init_words(void)
{
    size_t total = CV_ARRAY_LEN(stopwords) + CV_ARRAY_LEN(generic_words) +
                   CV_ARRAY_LEN(negate_words) + CV_ARRAY_LEN(boost_up) +
                   CV_ARRAY_LEN(boost_down) + ins_food_nouns_len + ins_lexicon_len + 1024;
    uint32_t cap = 1024;

    while (cap < 2 * total) {
        cap *= 2;
    }
    wtab = calloc(cap, sizeof(*wtab));
    if (!wtab) {
        wtab_ready = true; /* out of memory at start-up: every list is empty */
        return;
    }
    wmask = cap - 1;
    add_list(stopwords, CV_ARRAY_LEN(stopwords), WB_STOP);
    add_list(generic_words, CV_ARRAY_LEN(generic_words), WB_GENERIC);
    add_list(negate_words, CV_ARRAY_LEN(negate_words), WB_NEGATE);
    add_list(boost_up, CV_ARRAY_LEN(boost_up), WB_BOOST_UP);
    add_list(boost_down, CV_ARRAY_LEN(boost_down), WB_BOOST_DOWN);
    add_list(ins_food_nouns, ins_food_nouns_len, WB_FOOD);
    for (size_t g = 0; g < CV_ARRAY_LEN(synonym_groups); g++) {
        for (size_t k = 0; synonym_groups[g][k]; k++) {
            struct wentry *e = wslot(synonym_groups[g][k], strlen(synonym_groups[g][k]), true);
            if (!e->group) {
                e->group = (uint8_t)(g + 1);
            }
        }
    }
    for (size_t i = 0; i < ins_lexicon_len; i++) {
        struct wentry *e = wslot(ins_lexicon[i].word, ins_lexicon[i].len, true);
        if (e->lex < 0) {
            e->lex = (int32_t)i;
        }
    }
    wtab_ready = true;
}

static const struct wentry *lookup(const char *w, size_t len)
{
    if (!wtab_ready) {
        init_words();
    }
    return wtab ? wslot(w, len, false) : NULL;
}

bool ins_lexicon_find(const char *w, size_t len, double *valence)
{
    const struct wentry *e = lookup(w, len);

    if (!e || e->lex < 0) {
        return false;
    }
    *valence = ins_lexicon[e->lex].valence;
    return true;
}

bool ins_is_stopword(const char *w, size_t len)
{
    const struct wentry *e = lookup(w, len);
    return e && (e->bits & WB_STOP);
}

bool ins_is_generic(const char *w, size_t len)
{
    const struct wentry *e = lookup(w, len);
    return e && (e->bits & WB_GENERIC);
}

bool ins_is_negate_word(const char *w, size_t len)
{
    const struct wentry *e = lookup(w, len);
    return e && (e->bits & WB_NEGATE);
}

unsigned ins_synonym_group(const char *w, size_t len)
{
    const struct wentry *e = lookup(w, len);
    return e ? e->group : 0;
}

bool ins_booster_find(const char *w, size_t len, double *scalar)
{
    const struct wentry *e = lookup(w, len);

    if (!e || !(e->bits & (WB_BOOST_UP | WB_BOOST_DOWN))) {
        return false;
    }
    *scalar = (e->bits & WB_BOOST_UP) ? B_INCR : B_DECR;
    return true;
}

static bool food_find(const char *w, size_t len)
{
    const struct wentry *e = lookup(w, len);
    return e && (e->bits & WB_FOOD);
}

unsigned ins_aspect_group(const char *w, size_t len)
{
    static const struct {
        const char *suf, *rep;
        unsigned char sl, rl; /* their lengths */
    } rules[] = {{"ies", "y", 3, 1}, {"ied", "y", 3, 1}, {"es", "", 2, 0}, {"s", "", 1, 0},
                 {"ed", "", 2, 0},   {"ed", "e", 2, 1},  {"d", "", 1, 0},  {"ing", "", 3, 0},
                 {"ing", "e", 3, 1}};
    char base[48];
    unsigned g = ins_synonym_group(w, len);

    if (g || len >= sizeof(base) - 4) {
        return g;
    }
    for (size_t r = 0; r < CV_ARRAY_LEN(rules); r++) {
        size_t sl = rules[r].sl, rl = rules[r].rl;
        if (len > sl + 2 && memcmp(w + len - sl, rules[r].suf, sl) == 0) {
            size_t bl = len - sl;
            memcpy(base, w, bl);
            memcpy(base + bl, rules[r].rep, rl);
            g = ins_synonym_group(base, bl + rl);
            /* a doubled consonant: "shipped", "chatting" */
            if (!g && rl == 0 && bl >= 3 && base[bl - 1] == base[bl - 2] &&
                (sl == 2 || sl == 3)) {
                g = ins_synonym_group(base, bl - 1);
            }
            if (g) {
                return g;
            }
        }
    }
    if (ins_is_food_noun(w, len) && !ins_is_generic(w, len)) {
        return ins_group_food;
    }
    return 0;
}

bool ins_group_is_attribute(unsigned g)
{
    /* Qualities people rate of something else: "overpriced drinks" is about price. */
    const char *n = ins_group_name(g);
    return strcmp(n, "price") == 0 || strcmp(n, "cleanliness") == 0 || strcmp(n, "location") == 0;
}

const char *ins_group_name(unsigned g)
{
    return g >= 1 && g <= CV_ARRAY_LEN(synonym_groups) ? synonym_groups[g - 1][0] : "";
}

bool ins_is_food_noun(const char *w, size_t len)
{
    /* WordNet's noun detachment rules (morphy) for plurals. */
    static const struct {
        const char *suf, *rep;
        unsigned char sl, rl; /* their lengths */
    } rules[] = {{"s", "", 1, 0},      {"ses", "s", 3, 1},   {"xes", "x", 3, 1},
                 {"zes", "z", 3, 1},   {"ches", "ch", 4, 2}, {"shes", "sh", 4, 2},
                 {"men", "man", 3, 3}, {"ies", "y", 3, 1}};
    char base[48];

    if (len < 3 || len >= sizeof(base) - 4) {
        return false;
    }
    if (food_find(w, len)) {
        return true;
    }
    for (size_t r = 0; r < CV_ARRAY_LEN(rules); r++) {
        size_t sl = rules[r].sl, rl = rules[r].rl;
        if (len > sl + 2 && memcmp(w + len - sl, rules[r].suf, sl) == 0) {
            memcpy(base, w, len - sl);
            memcpy(base + len - sl, rules[r].rep, rl);
            if (food_find(base, len - sl + rl)) {
                return true;
            }
        }
    }
    return false;
}
