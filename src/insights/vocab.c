/*
 * The vocabulary cache: every distinct lower-cased token is analysed once
 * (lexicon valence, VADER flags, its theme pieces and their Snowball stems)
 * and found again with one hash lookup.
 */
#include "insights/insights_int.h"

#include <libstemmer.h>
#include <string.h>

/* ----------------------------------------------------------------- arena */

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    char data[];
};

struct ins_arena {
    struct arena_chunk *head;
};

static void *arena_alloc(struct ins_arena *a, size_t n)
{
    struct arena_chunk *c = a->head;

    n = (n + 7) & ~(size_t)7;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        c = cv_malloc(sizeof(*c) + cap);
        if (!c) {
            return NULL;
        }
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

static void arena_free(struct ins_arena *a)
{
    struct arena_chunk *c = a ? a->head : NULL;

    while (c) {
        struct arena_chunk *n = c->next;
        cv_free(c);
        c = n;
    }
}

/* ------------------------------------------------------------------ hash */

#define VOCAB_MAX_WORDS (4u << 20)
#define OVERFLOW_RING 1024

struct overflow {
    struct ins_word ring[OVERFLOW_RING];
    char keys[OVERFLOW_RING][64];
    unsigned next;
};

static cv_err seed_groups(struct ins_vocab *v);

cv_err ins_vocab_init(struct ins_vocab *v)
{
    memset(v, 0, sizeof(*v));
    v->max_words = VOCAB_MAX_WORDS;
    v->wmask = 4095;
    v->smask = 4095;
    v->wtab = cv_calloc(v->wmask + 1, sizeof(uint64_t));
    v->stab = cv_calloc(v->smask + 1, sizeof(uint32_t));
    v->arena = cv_calloc(1, sizeof(*v->arena));
    v->stemmer = sb_stemmer_new("english", NULL);
    if (!v->wtab || !v->stab || !v->arena || !v->stemmer || seed_groups(v) != CV_OK) {
        ins_vocab_release(v);
        return CV_ENOMEM;
    }
    return CV_OK;
}

void ins_vocab_release(struct ins_vocab *v)
{
    if (!v) {
        return;
    }
    for (uint32_t i = 0; i < v->nchunks; i++) {
        cv_free(v->wchunk_raw[i]);
    }
    cv_free(v->wchunks);
    cv_free(v->wchunk_raw);
    cv_free(v->wtab);
    cv_free(v->stems);
    cv_free(v->stab);
    cv_free(v->pool);
    arena_free(v->arena);
    cv_free(v->arena);
    cv_free(v->scratch_ring);
    cv_free(v->btab);
    cv_free(v->smarks);
    if (v->stemmer) {
        sb_stemmer_delete(v->stemmer);
    }
    memset(v, 0, sizeof(*v));
}

static const struct {
    const char *w;
    enum ins_special sp;
} specials[] = {
    {"kind", INS_SP_KIND},     {"of", INS_SP_OF},       {"no", INS_SP_NO},
    {"or", INS_SP_OR},         {"nor", INS_SP_NOR},     {"never", INS_SP_NEVER},
    {"so", INS_SP_SO},         {"this", INS_SP_THIS},   {"without", INS_SP_WITHOUT},
    {"doubt", INS_SP_DOUBT},   {"least", INS_SP_LEAST}, {"at", INS_SP_AT},
    {"very", INS_SP_VERY},     {"but", INS_SP_BUT},
};

static uint32_t stem_intern(struct ins_vocab *v, const char *s, size_t len, cv_err *err)
{
    uint32_t h = ins_vocab_hash(s, len);
    uint32_t pos = h & v->smask;

    for (;;) {
        uint32_t e = v->stab[pos];
        if (!e) {
            break;
        }
        struct ins_stem *st = &v->stems[e - 1];
        if (st->hash == h && st->len == len && memcmp(st->key, s, len) == 0) {
            return e - 1;
        }
        pos = (pos + 1) & v->smask;
    }
    if (v->nstems == v->capstems) {
        uint32_t ncap = v->capstems ? v->capstems * 2 : 1024;
        struct ins_stem *ns = cv_realloc(v->stems, ncap * sizeof(*ns));
        if (!ns) {
            *err = CV_ENOMEM;
            return INS_PIECE_STOP;
        }
        v->stems = ns;
        struct ins_stem_mark *nm = cv_realloc(v->smarks, ncap * sizeof(*nm));
        if (!nm) {
            *err = CV_ENOMEM;
            return INS_PIECE_STOP;
        }
        v->smarks = nm;
        v->capstems = ncap;
    }
    if ((v->nstems + 1) * 2 > v->smask) {
        uint32_t nmask = v->smask * 2 + 1;
        uint32_t *nt = cv_calloc((size_t)nmask + 1, sizeof(uint32_t));
        if (!nt) {
            *err = CV_ENOMEM;
            return INS_PIECE_STOP;
        }
        for (uint32_t i = 0; i < v->nstems; i++) {
            uint32_t p = v->stems[i].hash & nmask;
            while (nt[p]) {
                p = (p + 1) & nmask;
            }
            nt[p] = i + 1;
        }
        cv_free(v->stab);
        v->stab = nt;
        v->smask = nmask;
        pos = h & nmask;
        while (v->stab[pos]) {
            pos = (pos + 1) & nmask;
        }
    }
    char *key = arena_alloc(v->arena, len + 1);
    if (!key) {
        *err = CV_ENOMEM;
        return INS_PIECE_STOP;
    }
    memcpy(key, s, len);
    key[len] = '\0';
    struct ins_stem *st = &v->stems[v->nstems];
    memset(st, 0, sizeof(*st));
    st->key = key;
    st->len = (uint32_t)len;
    st->hash = h;
    st->surface_word = UINT32_MAX;
    v->smarks[v->nstems].stamp = 0;
    v->smarks[v->nstems].df = 0;
    v->smarks[v->nstems].sentiment = 0;
    v->smarks[v->nstems].slot = 0xFF;
    v->stab[pos] = v->nstems + 1;
    return v->nstems++;
}

static uint32_t stem_of(struct ins_vocab *v, const char *w, size_t len, cv_err *err)
{
    const sb_symbol *st = sb_stemmer_stem(v->stemmer, (const sb_symbol *)w, (int)len);

    if (!st) {
        *err = CV_ENOMEM;
        return INS_PIECE_STOP;
    }
    return stem_intern(v, (const char *)st, (size_t)sb_stemmer_length(v->stemmer), err);
}

/* The stems the "customer service" rule needs. */
static cv_err seed_groups(struct ins_vocab *v)
{
    cv_err err = CV_OK;

    v->st_customer = stem_of(v, "customer", 8, &err);
    if (!err) {
        v->st_service = stem_of(v, "service", 7, &err);
    }
    if (!err) {
        v->st_care = stem_of(v, "care", 4, &err);
    }
    if (!err) {
        v->st_support = stem_of(v, "support", 7, &err);
    }
    return err;
}

void ins_vocab_resolve_groups(struct ins_vocab *v)
{
    uint64_t *tot = cv_calloc((size_t)v->nstems + 1, 2 * sizeof(uint64_t));

    if (!tot) {
        return; /* keep the provisional groups */
    }
    for (uint32_t i = 0; i < v->nwords; i++) {
        const struct ins_word *w = ins_vocab_at(v, i);
        const struct ins_piece *p = ins_word_pieces(v, w);
        for (unsigned k = 0; k < w->npieces; k++) {
            uint32_t st = p[k].stem;
            if (st == INS_PIECE_STOP) {
                continue;
            }
            tot[2 * (size_t)st] += w->count;
            if (p[k].group && p[k].group == v->stems[st].group) {
                tot[2 * (size_t)st + 1] += w->count;
            }
        }
    }
    for (uint32_t st = 0; st < v->nstems; st++) {
        struct ins_stem *s = &v->stems[st];
        if (s->group && tot[2 * (size_t)st + 1] * 2 < tot[2 * (size_t)st]) {
            s->group = 0;
        }
        s->kind = s->group ? INS_STEM_CONTENT : s->kind0;
    }
    cv_free(tot);
}

/* Tokens that name no aspect: @mentions and links. */
static bool stop_token(const char *k, size_t n)
{
    if (n > 0 && k[0] == '@') {
        return true;
    }
    if (n >= 4 && memcmp(k, "www.", 4) == 0) {
        return true;
    }
    for (size_t i = 0; i + 3 <= n; i++) {
        if (k[i] == ':' && k[i + 1] == '/' && k[i + 2] == '/') {
            return true;
        }
    }
    return false;
}

/* Length of a separator at p[i] (ASCII non-letter, Latin-1 or general punctuation), or 0. */
static size_t sep_len(const unsigned char *p, size_t i, size_t n)
{
    unsigned char c = p[i];

    if (c < 0x80) {
        return (c >= 'a' && c <= 'z') ? 0 : 1;
    }
    if (c == 0xC2 && i + 1 < n && p[i + 1] >= 0xA0 && p[i + 1] <= 0xBF) {
        return 2;
    }
    if (c == 0xC3 && i + 1 < n && (p[i + 1] == 0x97 || p[i + 1] == 0xB7)) {
        return 2; /* multiplication and division signs */
    }
    if (c == 0xE2 && i + 2 < n && (p[i + 1] == 0x80 || p[i + 1] == 0x81)) {
        return 3;
    }
    return 0;
}

/* Breaks a lower-cased token into theme pieces. */
static cv_err add_pieces(struct ins_vocab *v, struct ins_word *w)
{
    const unsigned char *p = (const unsigned char *)w->key;
    size_t i = 0, n = w->len;
    uint32_t first = v->npool, count = 0;
    bool last_stop = true;

    if (v->no_pieces) {
        return CV_OK; /* npieces 0, stem1 INS_PIECE_STOP: no theme words */
    }

    if (stop_token(w->key, w->len)) {
        n = 0; /* no pieces: a boundary */
    }

    while (i < n && count < 250) {
        size_t a, sl;
        struct ins_piece pc;
        cv_err err = CV_OK;

        sl = sep_len(p, i, n);
        if (sl) {
            i += sl;
            continue;
        }
        a = i;
        while (i < n && sep_len(p, i, n) == 0) {
            i++;
        }
        pc.off = (uint16_t)a;
        pc.len = (uint16_t)(i - a);
        pc.stem = INS_PIECE_STOP;
        pc.group = 0;
        if (i - a >= 2 && i - a <= 40 && !ins_is_stopword(w->key + a, i - a)) {
            const sb_symbol *st =
                sb_stemmer_stem(v->stemmer, (const sb_symbol *)w->key + a, (int)(i - a));
            if (!st) {
                return CV_ENOMEM;
            }
            int stl = sb_stemmer_length(v->stemmer);
            pc.stem = stem_intern(v, (const char *)st, (size_t)stl, &err);
            if (err) {
                return err;
            }
            struct ins_stem *s = &v->stems[pc.stem];
            double val;
            uint8_t kind = INS_STEM_CONTENT;
            /* The group is settled by ins_vocab_resolve_groups(); until then the first seen. */
            pc.group = (uint8_t)ins_aspect_group(w->key + a, i - a);
            if (pc.group && !s->group) {
                s->group = pc.group;
            }
            if (ins_lexicon_find(w->key + a, i - a, &val) && (val >= 0.5 || val <= -0.5)) {
                kind = INS_STEM_SENTIMENT;
            } else if (ins_is_generic(w->key + a, i - a)) {
                kind = INS_STEM_GENERIC;
            }
            if (kind > s->kind0) {
                s->kind0 = kind;
            }
            s->kind = s->group ? INS_STEM_CONTENT : s->kind0;
            v->smarks[pc.stem].sentiment = s->kind == INS_STEM_SENTIMENT;
        }
        if (pc.stem == INS_PIECE_STOP && last_stop) {
            continue;
        }
        if (v->npool == v->cappool) {
            uint32_t ncap = v->cappool ? v->cappool * 2 : 4096;
            struct ins_piece *np = cv_realloc(v->pool, ncap * sizeof(*np));
            if (!np) {
                return CV_ENOMEM;
            }
            v->pool = np;
            v->cappool = ncap;
        }
        v->pool[v->npool++] = pc;
        count++;
        last_stop = pc.stem == INS_PIECE_STOP;
    }
    w->pieces = first;
    w->npieces = (uint8_t)count;
    w->stem1 = count == 1 ? v->pool[first].stem : INS_PIECE_STOP;
    return CV_OK;
}

static void analyse_word(struct ins_word *w)
{
    double val;

    if (ins_lexicon_find(w->key, w->len, &val)) {
        w->flags |= INS_W_LEX;
        w->valence = val;
    }
    if (ins_booster_find(w->key, w->len, &val)) {
        w->flags |= INS_W_BOOST;
        if (val < 0) {
            w->flags |= INS_W_DAMP;
        }
    }
    if (w->len <= 7 && ins_is_idiom_word(w->key, w->len)) { /* the longest is "beating" */
        w->flags |= INS_W_IDIOM;
    }
    if (ins_is_negate_word(w->key, w->len)) {
        w->flags |= INS_W_NEG;
    } else {
        for (size_t k = 0; k + 3 <= w->len; k++) {
            if (w->key[k] == 'n' && w->key[k + 1] == '\'' && w->key[k + 2] == 't') {
                w->flags |= INS_W_NEG;
                break;
            }
        }
    }
    for (size_t k = 0; w->len <= 7 && k < CV_ARRAY_LEN(specials); k++) {
        if (w->len > 0 && specials[k].w[0] == w->key[0] && strlen(specials[k].w) == w->len &&
            memcmp(specials[k].w, w->key, w->len) == 0) {
            w->special = (uint8_t)specials[k].sp;
            if (specials[k].sp == INS_SP_BUT) {
                w->flags |= INS_W_BUT;
            }
            break;
        }
    }
}

static struct ins_word *overflow_word(struct ins_vocab *v, const char *lower, size_t len)
{
    struct ins_word *w;
    char *key;

    if (!v->scratch_ring) {
        v->scratch_ring = cv_calloc(1, sizeof(struct overflow));
        if (!v->scratch_ring) {
            return NULL;
        }
    }
    struct overflow *o = v->scratch_ring;
    unsigned slot = o->next++ % OVERFLOW_RING;
    w = &o->ring[slot];
    key = o->keys[slot];
    memset(w, 0, sizeof(*w));
    if (len > 63) {
        len = 63;
    }
    memcpy(key, lower, len);
    key[len] = '\0';
    w->key = key;
    w->len = (uint32_t)len;
    w->stem1 = INS_PIECE_STOP;
    analyse_word(w);
    return w;
}

static bool key_eq(const char *a, const char *b, size_t len)
{
    /* Short keys (most words) compare without a call. */
    while (len >= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y) {
            return false;
        }
        a += 8;
        b += 8;
        len -= 8;
    }
    while (len--) {
        if (*a++ != *b++) {
            return false;
        }
    }
    return true;
}

/* A new slot for word number v->nwords (chunks of INS_WCHUNK 64-byte slots). */
static struct ins_word *new_slot(struct ins_vocab *v)
{
    uint32_t c = v->nwords >> INS_WCHUNK_BITS;

    if (c == v->nchunks) {
        if (v->nchunks == v->capchunks) {
            uint32_t ncap = v->capchunks ? v->capchunks * 2 : 16;
            unsigned char **nc = cv_realloc(v->wchunks, ncap * sizeof(*nc));
            if (!nc) {
                return NULL;
            }
            v->wchunks = nc;
            void **nr = cv_realloc(v->wchunk_raw, ncap * sizeof(*nr));
            if (!nr) {
                return NULL;
            }
            v->wchunk_raw = nr;
            v->capchunks = ncap;
        }
        void *raw = cv_malloc((size_t)INS_WCHUNK * INS_WSLOT + INS_WSLOT);
        if (!raw) {
            return NULL;
        }
        uintptr_t at = ((uintptr_t)raw + INS_WSLOT - 1) & ~(uintptr_t)(INS_WSLOT - 1);
        v->wchunk_raw[c] = raw;
        v->wchunks[c] = (unsigned char *)at;
        v->nchunks++;
    }
    return ins_vocab_at(v, v->nwords);
}

struct ins_word *ins_vocab_word(struct ins_vocab *v, const char *lower, size_t len)
{
    return ins_vocab_word_h(v, lower, len, ins_vocab_hash(lower, len));
}

struct ins_word *ins_vocab_word_h(struct ins_vocab *v, const char *lower, size_t len, uint32_t h)
{
    uint32_t pos = h & v->wmask;
    struct ins_word *w;
    char *key;

    for (;;) {
        uint64_t e = v->wtab[pos];
        if (!e) {
            break;
        }
        if ((uint32_t)(e >> 32) == h) {
            w = ins_vocab_at(v, (uint32_t)e - 1);
            if (w->len == len && key_eq(w->key, lower, len)) {
                return w;
            }
        }
        pos = (pos + 1) & v->wmask;
    }
    if (v->nwords >= v->max_words) {
        return overflow_word(v, lower, len);
    }
    if ((uint64_t)(v->nwords + 1) * 4 > (uint64_t)(v->wmask + 1) * 3) {
        uint32_t nmask = v->wmask * 2 + 1;
        uint64_t *nt = cv_calloc((size_t)nmask + 1, sizeof(uint64_t));
        if (!nt) {
            return NULL;
        }
        for (uint32_t i = 0; i < v->nwords; i++) {
            uint32_t wh = ins_vocab_at(v, i)->hash;
            uint32_t p = wh & nmask;
            while (nt[p]) {
                p = (p + 1) & nmask;
            }
            nt[p] = (uint64_t)wh << 32 | (i + 1);
        }
        cv_free(v->wtab);
        v->wtab = nt;
        v->wmask = nmask;
        pos = h & nmask;
        while (v->wtab[pos]) {
            pos = (pos + 1) & nmask;
        }
    }
    w = new_slot(v);
    if (!w) {
        return NULL;
    }
    memset(w, 0, INS_WSLOT);
    /* Short keys live in the slot, right after the entry: one cache line. */
    if (len + 1 <= INS_WSLOT - sizeof(*w)) {
        key = (char *)(w + 1);
    } else {
        key = arena_alloc(v->arena, len + 1);
        if (!key) {
            return NULL;
        }
    }
    memcpy(key, lower, len);
    key[len] = '\0';
    w->key = key;
    w->len = (uint32_t)len;
    w->hash = h;
    w->stem1 = INS_PIECE_STOP;
    analyse_word(w);
    if (add_pieces(v, w) != CV_OK) {
        return NULL;
    }
    v->wtab[pos] = (uint64_t)h << 32 | (v->nwords + 1);
    v->nwords++;
    return w;
}

/*
 * key_eq() for two keys that are followed by readable bytes up to their next
 * multiple of 8: an entry's key (in its 64-byte slot, or 8-byte rounded in
 * the arena) and a key of a lower-cased record (8 bytes of slack). The
 * tail is compared masked, without a byte loop.
 */
static inline bool key_eq_padded(const char *a, const char *b, size_t len)
{
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y) {
            return false;
        }
    }
    if (i < len) {
        uint64_t x, y, m;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        m = ~0ull << (64 - 8 * (len - i));
#else
        m = ~0ull >> (64 - 8 * (len - i));
#endif
        return ((x ^ y) & m) == 0;
    }
    return true;
}

cv_err ins_vocab_words(struct ins_vocab *v, const char *base, struct ins_key *keys, size_t n,
                       struct ins_tok *toks)
{
    /* 1. (The caller fetched every key's table slot, ins_vocab_hint.) */
    /* 2. A slot with the key's hash names a candidate entry: fetch it. */
    for (size_t i = 0; i < n; i++) {
        if (keys[i].len == INS_KEY_SKIP || keys[i].cand != UINT32_MAX) {
            continue;
        }
        uint32_t pos = keys[i].hash & v->wmask;
        for (;;) {
            uint64_t e = v->wtab[pos];
            if (!e) {
                break;
            }
            if ((uint32_t)(e >> 32) == keys[i].hash) {
                keys[i].cand = (uint32_t)e - 1;
                __builtin_prefetch(ins_vocab_at(v, keys[i].cand));
                break;
            }
            pos = (pos + 1) & v->wmask;
        }
    }
    /* 3. Confirm the candidates; the others take the full path (probe, intern). */
    for (size_t i = 0; i < n; i++) {
        const struct ins_key *k = &keys[i];
        struct ins_word *w;
        if (k->len == INS_KEY_SKIP) {
            continue;
        }
        if (k->cand != UINT32_MAX) {
            w = ins_vocab_at(v, k->cand);
            if (w->len == k->len && key_eq_padded(w->key, base + k->off, k->len)) {
                toks[i].w = w;
                /*
                 * (No prefetch of the stem's mark for collect_stems: the
                 * marks stay in L2, and the prefetch cost 4-6 % of a 50 MB
                 * run here; round 4.)
                 */
                continue;
            }
        }
        w = ins_vocab_word_h(v, base + k->off, k->len, k->hash);
        if (!w) {
            return CV_ENOMEM;
        }
        toks[i].w = w;
    }
    return CV_OK;
}

#define BIGRAM_MAX (1u << 20)

static inline uint32_t bigram_pos(uint64_t key, uint32_t mask)
{
    return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 40) & mask;
}

static void bigram_add(struct ins_vocab *v, uint64_t key)
{
    uint32_t pos;

    if (!v->btab) {
        v->bmask = 65535;
        v->btab = cv_calloc((size_t)v->bmask + 1, sizeof(*v->btab));
        if (!v->btab) {
            v->bmask = 0;
            return;
        }
    }
    pos = bigram_pos(key, v->bmask);
    for (;;) {
        struct ins_bigram_slot *e = &v->btab[pos];
        if (e->count == 0) {
            break;
        }
        if (e->key == key) {
            e->count++;
            return;
        }
        pos = (pos + 1) & v->bmask;
    }
    if (v->nbigrams >= BIGRAM_MAX) {
        return;
    }
    if ((v->nbigrams + 1) * 2 > v->bmask) {
        uint32_t nmask = v->bmask * 2 + 1;
        struct ins_bigram_slot *nt = cv_calloc((size_t)nmask + 1, sizeof(*nt));
        if (!nt) {
            return;
        }
        for (uint32_t i = 0; i <= v->bmask; i++) {
            if (v->btab[i].count) {
                uint32_t p = bigram_pos(v->btab[i].key, nmask);
                while (nt[p].count) {
                    p = (p + 1) & nmask;
                }
                nt[p] = v->btab[i];
            }
        }
        cv_free(v->btab);
        v->btab = nt;
        v->bmask = nmask;
        pos = bigram_pos(key, nmask);
        while (v->btab[pos].count) {
            pos = (pos + 1) & nmask;
        }
    }
    v->btab[pos].key = key;
    v->btab[pos].count = 1;
    v->nbigrams++;
}

void ins_vocab_bigrams_halve(struct ins_vocab *v)
{
    uint32_t live = 0, nmask = 65535;
    struct ins_bigram_slot *nt;

    if (!v->btab) {
        return;
    }
    for (uint32_t i = 0; i <= v->bmask; i++) {
        live += v->btab[i].count >= 2;
    }
    while ((live + 1) * 2 > nmask) {
        nmask = nmask * 2 + 1;
    }
    nt = cv_calloc((size_t)nmask + 1, sizeof(*nt));
    if (!nt) {
        return; /* keep the counts as they are */
    }
    for (uint32_t i = 0; i <= v->bmask; i++) {
        if (v->btab[i].count >= 2) {
            uint32_t p = bigram_pos(v->btab[i].key, nmask);
            while (nt[p].count) {
                p = (p + 1) & nmask;
            }
            nt[p].key = v->btab[i].key;
            nt[p].count = v->btab[i].count / 2;
        }
    }
    cv_free(v->btab);
    v->btab = nt;
    v->bmask = nmask;
    v->nbigrams = live;
}

void ins_vocab_bigrams_prefetch(const struct ins_vocab *v, const uint64_t *keys, size_t n)
{
    if (v->btab) {
        for (size_t i = 0; i < n; i++) {
            __builtin_prefetch(&v->btab[bigram_pos(keys[i], v->bmask)]);
        }
    }
}

void ins_vocab_bigrams_add(struct ins_vocab *v, const uint64_t *keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bigram_add(v, keys[i]);
    }
}

void ins_vocab_bigrams(struct ins_vocab *v, const uint64_t *keys, size_t n)
{
    ins_vocab_bigrams_prefetch(v, keys, n);
    ins_vocab_bigrams_add(v, keys, n);
}
