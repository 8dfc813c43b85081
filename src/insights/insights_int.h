/*
 * insights, module-private: generated tables, the text helpers and
 * tokenizer, the vocabulary cache, the VADER scorer, the streaming readers,
 * the theme model and the JSON writer. Exposed here for the unit tests.
 */
#ifndef CV_INSIGHTS_INT_H
#define CV_INSIGHTS_INT_H

#include "insights/insights.h"

#include <string.h>

/* ------------------------------------------------------ generated tables */

/* The VADER lexicon (single-token entries), sorted by bytes. */
struct ins_lex_entry {
    const char *word;
    uint32_t len;
    double valence;
};
extern const struct ins_lex_entry ins_lexicon[];
extern const size_t ins_lexicon_len;

/* Single code point emoji -> Unicode short name, sorted by code point. */
struct ins_emoji_entry {
    uint32_t cp;
    const char *name;
    uint32_t len;
};
extern const struct ins_emoji_entry ins_emoji[];
extern const size_t ins_emoji_len;

/* Nouns whose most frequent WordNet 3.0 sense is a food or drink, sorted. */
extern const char *const ins_food_nouns[];
extern const size_t ins_food_nouns_len;
extern const char ins_wordnet_notice[];

/** Lexicon valence of a lower-cased token, or false when absent. */
bool ins_lexicon_find(const char *w, size_t len, double *valence);
/** The emoji description of @p cp, or NULL. */
const struct ins_emoji_entry *ins_emoji_find(uint32_t cp);

/* ------------------------------------------------------------ text (text.c) */

/**
 * Decodes the code point at @p s (at least one byte; @p len bytes left).
 * Invalid sequences decode as U+FFFD, one byte long. *adv gets the length.
 */
uint32_t ins_utf8_decode(const unsigned char *s, size_t len, size_t *adv);
/** Appends the UTF-8 encoding of @p cp (at most 4 bytes) to @p out. */
size_t ins_utf8_encode(uint32_t cp, char *out);
/** Python's str.isspace() for a code point (split() separators). */
bool ins_cp_is_space(uint32_t cp);
/** Simple case mapping for Latin, Greek, Cyrillic; others unchanged. */
uint32_t ins_cp_lower(uint32_t cp);
/** 1 upper-case letter, -1 lower-case letter, 0 uncased. */
int ins_cp_case(uint32_t cp);
/** Python's str.isupper(): some cased character and none lower-case. */
bool ins_is_upper(const char *s, size_t len);
/** True when all @p len bytes are ASCII (fast path). */
bool ins_is_ascii(const char *s, size_t len);

/* ---------------------------------------------------- vocabulary (vocab.c) */

/* VADER's function words, compared case-insensitively. */
enum ins_special {
    INS_SP_NONE = 0,
    INS_SP_KIND,
    INS_SP_OF,
    INS_SP_NO,
    INS_SP_OR,
    INS_SP_NOR,
    INS_SP_NEVER,
    INS_SP_SO,
    INS_SP_THIS,
    INS_SP_WITHOUT,
    INS_SP_DOUBT,
    INS_SP_LEAST,
    INS_SP_AT,
    INS_SP_VERY,
    INS_SP_BUT,
};

enum ins_word_flags {
    INS_W_LEX = 1 << 0,   /* in the lexicon */
    INS_W_NEG = 1 << 1,   /* VADER negated(): a negation word or contains "n't" */
    INS_W_BOOST = 1 << 2, /* a booster or dampener */
    INS_W_DAMP = 1 << 3,  /* with INS_W_BOOST: a dampener (B_DECR), else B_INCR */
    INS_W_IDIOM = 1 << 4, /* a word of one of VADER's multi-word idioms or boosters */
    INS_W_BUT = 1 << 5,   /* "but" (INS_SP_BUT): the tokenizer notes the first one */
};

/* A piece of a token for themes: a stem id, or INS_PIECE_STOP (a boundary). */
#define INS_PIECE_STOP UINT32_MAX
struct ins_piece {
    uint32_t stem;
    uint16_t off, len; /* the surface form inside the word's key */
    uint8_t group;     /* the surface form's aspect group (ins_aspect_group), or 0 */
};

/*
 * One distinct lower-cased token. Entries never move once created. They live
 * in 64-byte slots (the entry and, for keys of up to 15 bytes, the key), so
 * a lookup touches one cache line of entry data.
 */
struct ins_word {
    const char *key; /* lower-cased, NUL-terminated, owned by the vocabulary */
    uint32_t len;
    uint32_t hash;
    double valence; /* lexicon valence when INS_W_LEX */
    uint64_t count; /* occurrences seen (first pass) */
    uint16_t flags;
    uint8_t special; /* enum ins_special */
    uint8_t npieces;
    uint32_t pieces; /* index of the first piece in the vocabulary's pool */
    uint32_t stem1;  /* the stem of the only piece when npieces == 1 */
};

/* VADER's booster scalar of a word with INS_W_BOOST. */
static inline double ins_word_boost(const struct ins_word *w)
{
    return (w->flags & INS_W_DAMP) ? -0.293 : 0.293;
}

/* Kind of a stem, for theme candidates. */
enum ins_stem_kind {
    INS_STEM_CONTENT = 0, /* may name a theme */
    INS_STEM_GENERIC,     /* a feature only: generic feedback word */
    INS_STEM_SENTIMENT,   /* a feature only: a sentiment-laden word */
};

struct ins_stem {
    const char *key; /* owned by the vocabulary */
    uint32_t len;
    uint32_t hash;
    uint32_t df;       /* records containing it (first pass; set from smarks after it) */
    uint32_t sdf;      /* sampled records containing it (set by ins_model_build) */
    uint8_t kind;      /* enum ins_stem_kind: kind0, or content for an aspect word */
    uint8_t kind0;     /* the kind of its surface forms (the strongest) */
    uint8_t group;     /* built-in aspect synonym group + 1, or 0 */
    uint32_t surface_word; /* word index of the most frequent surface form */
    uint16_t surface_off, surface_len;
    uint64_t surface_count;
};

struct ins_arena; /* chunked bump allocator */

struct ins_vocab {
    unsigned char **wchunks; /* word slots, INS_WCHUNK per chunk, in creation order */
    void **wchunk_raw;       /* the allocations behind wchunks (aligned inside) */
    uint32_t nwords, nchunks, capchunks;
    uint64_t *wtab; /* open addressing: hash << 32 | (word index + 1); 0 = empty */
    uint32_t wmask;
    struct ins_stem *stems;
    uint32_t nstems, capstems;
    uint32_t *stab;
    uint32_t smask;
    struct ins_piece *pool;
    uint32_t npool, cappool;
    struct ins_arena *arena;
    void *stemmer; /* struct sb_stemmer */
    uint32_t max_words; /* beyond it, tokens are scored but not interned */
    bool no_pieces;     /* sentiment only: new words get no theme pieces (no stemming) */
    void *scratch_ring; /* entries for tokens that are not interned */
    /* adjacent content-stem pairs (stopword-delimited bigrams) */
    struct ins_bigram_slot *btab;
    uint32_t bmask, nbigrams;
    /* per stem, dense (one cache line holds 8): record stamp and document frequency */
    struct ins_stem_mark *smarks;
    /* stems of "customer", "service", "care", "support" ("customer service" is support) */
    uint32_t st_customer, st_service, st_care, st_support;
};

/* A bigram table slot: key a<<32|b, count (0 = empty). */
struct ins_bigram_slot {
    uint64_t key;
    uint32_t count, pad;
};

struct ins_stem_mark {
    uint32_t stamp; /* last record (a per-run stamp) that contained the stem */
    uint32_t df;    /* records containing it (first pass) */
    uint8_t sentiment; /* the stem's kind is INS_STEM_SENTIMENT (for bigrams) */
    uint8_t slot;      /* its index in the stamped record's stem list, or 0xFF (not listed) */
};

#define INS_WSLOT 64u
#define INS_WCHUNK_BITS 12u
#define INS_WCHUNK (1u << INS_WCHUNK_BITS)

CV_WUR cv_err ins_vocab_init(struct ins_vocab *v);
void ins_vocab_release(struct ins_vocab *v);
/** The word with index @p i (< v->nwords), in creation order. */
static inline struct ins_word *ins_vocab_at(const struct ins_vocab *v, uint32_t i)
{
    return (struct ins_word *)(void *)(v->wchunks[i >> INS_WCHUNK_BITS] +
                                       (size_t)(i & (INS_WCHUNK - 1)) * INS_WSLOT);
}
/** The vocabulary's hash of a key (ins_vocab_word_h wants this value). */
static inline uint32_t ins_vocab_hash(const char *s, size_t len)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ len;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        h = (h ^ x) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
    }
    if (i < len) {
        uint64_t x = 0;
        memcpy(&x, s + i, len - i);
        h = (h ^ x) * 0xC4CEB9FE1A85EC53ull;
    }
    h ^= h >> 29;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
    return (uint32_t)h;
}
/**
 * ins_vocab_hash() for a key followed by at least 8 readable bytes (it reads
 * past the key and masks instead of copying the tail).
 */
static inline uint32_t ins_vocab_hash_padded(const char *s, size_t len)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ len;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        h = (h ^ x) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
    }
    if (i < len) {
        uint64_t x;
        memcpy(&x, s + i, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        x &= ~0ull << (64 - 8 * (len - i)); /* the first len-i bytes */
#else
        x &= ~0ull >> (64 - 8 * (len - i));
#endif
        h = (h ^ x) * 0xC4CEB9FE1A85EC53ull;
    }
    h ^= h >> 29;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
    return (uint32_t)h;
}
/**
 * Starts fetching the table slot of a key with hash @p h (ins_vocab_words
 * reads it once the record's keys are known). Returns UINT32_MAX: no
 * candidate entry yet (struct ins_key.cand).
 */
static inline uint32_t ins_vocab_hint(const struct ins_vocab *v, uint32_t h)
{
    __builtin_prefetch(&v->wtab[h & v->wmask]);
    return UINT32_MAX;
}
/**
 * Returns the entry for the lower-cased token @p lower (borrowed: valid until
 * ins_vocab_release, or until the next call for the scratch entry of a token
 * that could not be interned), creating it on first sight. NULL on CV_ENOMEM.
 */
struct ins_word *ins_vocab_word(struct ins_vocab *v, const char *lower, size_t len);
/** ins_vocab_word() with the key's ins_vocab_hash() already computed. */
struct ins_word *ins_vocab_word_h(struct ins_vocab *v, const char *lower, size_t len,
                                  uint32_t hash);
/**
 * Counts @p n bigrams (keys a<<32|b) in order, fetching their slots first;
 * silently stops adding new ones past a cap.
 */
void ins_vocab_bigrams(struct ins_vocab *v, const uint64_t *keys, size_t n);
/**
 * The two halves of ins_vocab_bigrams, for a caller that fetches one
 * record's slots and counts them a record later (the same counts, as long
 * as the keys are added in the order they were seen).
 */
void ins_vocab_bigrams_prefetch(const struct ins_vocab *v, const uint64_t *keys, size_t n);
void ins_vocab_bigrams_add(struct ins_vocab *v, const uint64_t *keys, size_t n);
/** Halves every bigram count (dropping those that reach 0): the sample was halved. */
void ins_vocab_bigrams_halve(struct ins_vocab *v);
static inline const struct ins_piece *ins_word_pieces(const struct ins_vocab *v,
                                                     const struct ins_word *w)
{
    return v->pool + w->pieces;
}

/* ------------------------------------------------ word lists (words.c) */

/** True for an English stopword (a phrase boundary, never a feature). */
bool ins_is_stopword(const char *w, size_t len);
/** True for a generic feedback word (a feature, never a theme name). */
bool ins_is_generic(const char *w, size_t len);
/** Built-in aspect group of a listed word (1-based, exact match), or 0. */
unsigned ins_synonym_group(const char *w, size_t len);
/** The name of aspect group @p g ("service", "food", ...), or "". */
const char *ins_group_name(unsigned g);
/** An attribute aspect (price, cleanliness, location): it outweighs the entity it rates. */
bool ins_group_is_attribute(unsigned g);
/**
 * The aspect group of a surface word: a listed aspect word or an inflection
 * of one ("crashes", "delivered", "priced"), or a food noun: 1-based, or 0.
 */
unsigned ins_aspect_group(const char *w, size_t len);
/**
 * After the first pass: a stem keeps the aspect group of its surface forms
 * only when they make at least half of its occurrences ("attention" is not
 * "attentive", "produced" is not "produce"). Returns the stems regrouped.
 */
void ins_vocab_resolve_groups(struct ins_vocab *v);
/** A food noun (WordNet), plural forms included. */
bool ins_is_food_noun(const char *w, size_t len);
extern const unsigned ins_group_support, ins_group_food;
/** VADER booster value of a lower-cased word, or false. */
bool ins_booster_find(const char *w, size_t len, double *scalar);
/** A word of one of VADER's multi-word idioms or booster phrases (vader.c). */
bool ins_is_idiom_word(const char *w, size_t len);
/** VADER negation word (NEGATE list). */
bool ins_is_negate_word(const char *w, size_t len);

/* -------------------------------------------------- tokenizer and VADER */

struct ins_tok {
    struct ins_word *w; /* owned by the vocabulary */
    uint8_t upper;       /* str.isupper() of the token as written */
    uint8_t break_after; /* punctuation ended the token: a phrase boundary */
    uint8_t mention;     /* written as an @mention: no theme word, a boundary */
};

/* A token's key for a batch lookup: bytes [off, off+len) of a buffer. */
struct ins_key {
    uint32_t off, len; /* len == INS_KEY_SKIP: the token's word is already set */
    uint32_t hash;     /* ins_vocab_hash() of the key */
    uint32_t cand;     /* the probable word (ins_vocab_hint, ins_vocab_words), or UINT32_MAX */
};
#define INS_KEY_SKIP UINT32_MAX

/**
 * Looks up (and interns) @p n keys of @p base at once, setting toks[i].w:
 * the table slots and entries of all keys are fetched before any is
 * compared, so their cache misses overlap. CV_ENOMEM only.
 */
CV_WUR cv_err ins_vocab_words(struct ins_vocab *v, const char *base, struct ins_key *keys,
                              size_t n, struct ins_tok *toks);

/*
 * Per-record scratch: the emoji-expanded text, the lower-cased token and the
 * token array, reused across records.
 */
struct ins_tokbuf {
    struct ins_tok *toks;
    size_t ntoks, cap;
    struct cv_buf text; /* emoji-expanded copy when needed */
    char *low;          /* lower-cased copy of an ASCII record */
    size_t lowcap;
    struct ins_key *keys; /* cap entries: the record's keys in low */
    unsigned excl, quest; /* '!' and '?' counts */
    /* What VADER needs beyond the tokens, noted as they are found: */
    uint32_t *lex;  /* cap entries: positions of the lexicon tokens, in order */
    double *val;    /* cap entries: ins_vader's scratch (the lexicon tokens' valences) */
    size_t nlex;    /* lexicon tokens */
    size_t but_at;  /* position of the first "but", or SIZE_MAX */
    size_t nupper;  /* tokens that are str.isupper() */
};
void ins_tokbuf_release(struct ins_tokbuf *tb);

/**
 * Tokenizes @p text the way VADER does (emoji replaced by their names,
 * split on white space, surrounding ASCII punctuation stripped unless that
 * leaves two characters or fewer) and looks each token up in @p v, counting
 * it (ins_word.count).
 */
CV_WUR cv_err ins_tokenize(struct ins_vocab *v, struct ins_tokbuf *tb, const char *text,
                           size_t len);

/** VADER's polarity_scores() over a tokenized record. */
void ins_vader(const struct ins_tokbuf *tb, struct ins_sentiment *out);

/* ------------------------------------------------------- spill (spill.c) */

/*
 * A byte stream written once, then read once: a memory buffer of @c cap
 * bytes that moves on to an unlinked temporary file ($TMPDIR) when it fills.
 */
struct ins_spill {
    unsigned char *buf;
    size_t len, pos, cap; /* buf[pos..len) is unread (when reading) */
    int fd;               /* -1 while everything fits in memory */
    bool reading, eof;
    uint64_t file_bytes;
};
CV_WUR cv_err ins_spill_init(struct ins_spill *s, size_t cap);
void ins_spill_release(struct ins_spill *s);
/** Appends @p n (at most cap) bytes. CV_EIO when the temporary file fails. */
CV_WUR cv_err ins_spill_put(struct ins_spill *s, const void *p, size_t n);
/**
 * Makes room for @p n (at most cap) bytes at the end and sets *p there
 * (borrowed: valid until the next call); the caller writes up to @p n bytes
 * and adds what it wrote to s->len. CV_EIO when the temporary file fails.
 */
CV_WUR cv_err ins_spill_reserve(struct ins_spill *s, size_t n, unsigned char **p);
/** Switches to reading from the start. */
CV_WUR cv_err ins_spill_rewind(struct ins_spill *s);
/** Makes at least @p n (<= cap) unread bytes available in buf[pos..len), fewer at the end. */
CV_WUR cv_err ins_spill_need(struct ins_spill *s, size_t n);

/* ------------------------------------------------------ readers (reader.c) */

struct ins_record {
    struct cv_str id;   /* borrowed until the next call; empty = none */
    struct cv_str text; /* borrowed until the next call */
    bool has_time;
    int64_t time_ms;
    uint64_t line; /* 1-based line where the record starts */
    bool line_id;  /* the id is the line number, left unformatted (no_line_ids) */
};

struct ins_reader {
    const char *name; /* borrows: for messages */
    int fd;
    enum ins_format format;
    char *buf;
    size_t start, end, cap;
    bool eof;
    uint64_t line; /* line number of buf[start] */
    size_t max_record;
    /* CSV */
    bool header_done;
    int col_text, col_id, col_time;
    unsigned ncols;
    struct cv_str *fields;
    unsigned fields_cap;
    struct cv_buf unq; /* unquoted CSV fields / unescaped JSON strings */
    const char *text_key, *id_key, *time_key;
    bool id_required, time_required;
    bool no_line_ids; /* leave rec->id empty where it would be the line number
                         (rec->line_id says so; pass 1, and pass 2 without --records) */
    bool nna_ok;      /* nna is known: */
    size_t nna;       /* buf[nna] is the first non-ASCII byte from where it was sought, or end */
    char idbuf[24];
    /* accounting */
    uint64_t bytes;
    struct cv_sha256 *hash; /* when set, every byte read is hashed */
    int spool_fd;           /* when >= 0, every byte read is copied there */
    bool fatal; /* the error cannot be skipped (a missing column, a read error) */
    char err[512];
};

/**
 * Opens a reader over @p fd (borrowed, not closed). The column/key names are
 * borrowed. Returns CV_ENOMEM only.
 */
CV_WUR cv_err ins_reader_init(struct ins_reader *r, const char *name, int fd,
                              enum ins_format fmt, const struct ins_options *opt);
void ins_reader_release(struct ins_reader *r);
/**
 * The next record: CV_OK, CV_ENOENT at the end, or an input error
 * (CV_EPARSE, CV_EUTF8, CV_ETOOBIG, CV_EIO) with "NAME:LINE: what" in r->err.
 * After an input error the reader has skipped the bad record and may be
 * called again (for --skip-invalid), except after CV_EIO.
 */
CV_WUR cv_err ins_reader_next(struct ins_reader *r, struct ins_record *rec);
/** The format implied by a file name. */
enum ins_format ins_format_from_name(const char *path);

/*
 * A strict JSON value scanner for JSON Lines (json.c). Parses one object,
 * extracting the string (or number, for ids and times) values of three
 * top-level keys. Unescaped strings go into @p scratch.
 */
struct ins_json_field {
    const char *key;
    struct cv_str val;
    bool found, is_string;
};
CV_WUR cv_err ins_json_object(const char *s, size_t len, struct ins_json_field *fields,
                              size_t nfields, struct cv_buf *scratch, const char **what);

/* ------------------------------------------------------- themes (themes.c) */

/* Records kept for the theme model: stem ids of a deterministic sample. */
struct ins_sample {
    uint32_t *ids;  /* stem ids (INS_STEM_MOD flags kept), record after record */
    size_t nids, capids, maxids;
    uint32_t *recs; /* start of each record in ids; nrecs+1 entries */
    size_t nrecs, caprecs;
    uint32_t *recno; /* the record's number in the input */
    uint32_t stride; /* keeps records whose number % stride == 0 */
};

struct ins_theme {
    uint32_t *members; /* stem ids */
    size_t nmembers;
    uint32_t head; /* stem of the label */
    char label[96];
    uint32_t df; /* records in the sample that mention a member */
    float cohesion; /* mean context similarity of the members (1 for one word) */
};

struct ins_model {
    struct ins_theme *themes;
    size_t nthemes;
    /* weights: stem -> (theme, weight) lists, CSR */
    uint32_t *wstart; /* nstems + 1 */
    uint32_t *wtheme;
    float *wval;
    /* weak weights (the second pass, for a record no theme reached): CSR */
    uint32_t *xstart; /* nstems + 1 */
    uint32_t *xtheme;
    float *xval;
    uint32_t nstems;
    float threshold;
    /*
     * The strong weights again as dense rows (built last by ins_model_build):
     * rowof[stem] is a row index, 0 (a row of zeros) for a stem without
     * weights; a row holds `stride` floats
     * (the themes, padded with zeros to a multiple of 4), so a record's
     * scores are a few vector adds per stem instead of a branchy list walk.
     * Each theme has at most one weight per stem, so the sums are the same
     * floats as the list's.
     */
    uint32_t *rowof;
    float *rows;
    uint32_t stride;
    uint32_t *xrowof; /* the weak weights the same way */
    float *xrows;
};

void ins_sample_init(struct ins_sample *s, size_t maxids);
void ins_sample_release(struct ins_sample *s);
/** Adds a record's distinct stems; decimates when full. */
CV_WUR cv_err ins_sample_add(struct ins_sample *s, uint32_t recno, const uint32_t *ids, size_t n);

/** Builds the themes from the vocabulary statistics and the sample. */
CV_WUR cv_err ins_model_build(struct ins_model *m, struct ins_vocab *v, const struct ins_sample *s,
                              uint64_t nrecords, unsigned max_themes);
void ins_model_release(struct ins_model *m);
/**
 * (Re)builds the dense rows (rowof, rows, xrowof, xrows) from the weight
 * lists; ins_model_build calls it. CV_ENOMEM only.
 */
CV_WUR cv_err ins_model_dense_rows(struct ins_model *m);
/* In a record's stem list: the stem only ever modifies the next word ("food delivery"). */
#define INS_STEM_MOD (1u << 31)

/**
 * Assigns a record (its distinct stems, some flagged INS_STEM_MOD: their
 * weights count half) to themes: fills @p out (up to
 * @p max theme indices, best first) and returns their count. *score gets the
 * best theme's score. A record whose best strong score is below m->threshold
 * gets at most one theme, by its strong and weak (xstart...) weights
 * together, when they reach the second pass's threshold (1.3).
 */
size_t ins_model_assign(const struct ins_model *m, const uint32_t *stems, size_t n, uint32_t *out,
                        size_t max, float *score);

#endif
