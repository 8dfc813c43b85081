/*
 * Text helpers and the VADER tokenizer: UTF-8 decoding, Python-compatible
 * white space and case rules (for Latin, Greek and Cyrillic letters), emoji
 * replacement and token splitting.
 */
#include "insights/insights_int.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

const struct ins_emoji_entry *ins_emoji_find(uint32_t cp)
{
    size_t lo = 0, hi = ins_emoji_len;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (ins_emoji[mid].cp == cp) {
            return &ins_emoji[mid];
        }
        if (ins_emoji[mid].cp < cp) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

uint32_t ins_utf8_decode(const unsigned char *s, size_t len, size_t *adv)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;

    if (c < 0x80) {
        *adv = 1;
        return c;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 1;
        cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 2;
        cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 3;
        cp = c & 0x07u;
    } else {
        *adv = 1;
        return 0xFFFD;
    }
    if (len <= n) {
        *adv = 1;
        return 0xFFFD;
    }
    for (size_t k = 1; k <= n; k++) {
        if ((s[k] & 0xC0) != 0x80) {
            *adv = 1;
            return 0xFFFD;
        }
        cp = cp << 6 | (s[k] & 0x3Fu);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
        *adv = 1;
        return 0xFFFD;
    }
    *adv = n + 1;
    return cp;
}

size_t ins_utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

bool ins_cp_is_space(uint32_t cp)
{
    if (cp < 0x80) {
        return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
    }
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

int ins_cp_case(uint32_t cp)
{
    if (cp < 0x80) {
        if (cp >= 'A' && cp <= 'Z') {
            return 1;
        }
        return (cp >= 'a' && cp <= 'z') ? -1 : 0;
    }
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) {
        return 1;
    }
    if ((cp >= 0xDF && cp <= 0xFF && cp != 0xF7) || cp == 0xB5 || cp == 0xAA || cp == 0xBA) {
        return -1;
    }
    if (cp >= 0x100 && cp <= 0x17F) {
        if (cp == 0x130) {
            return 1;
        }
        if (cp == 0x131 || cp == 0x138 || cp == 0x149 || cp == 0x17F) {
            return -1;
        }
        if (cp == 0x178) {
            return 1;
        }
        if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E)) {
            return (cp & 1) ? 1 : -1;
        }
        return (cp & 1) ? -1 : 1;
    }
    if ((cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) || cp == 0x386 ||
        (cp >= 0x388 && cp <= 0x38F && cp != 0x38B && cp != 0x38D)) {
        return 1;
    }
    if (cp >= 0x3AC && cp <= 0x3CE) {
        return -1;
    }
    if (cp >= 0x400 && cp <= 0x42F) {
        return 1;
    }
    if (cp >= 0x430 && cp <= 0x45F) {
        return -1;
    }
    return 0;
}

uint32_t ins_cp_lower(uint32_t cp)
{
    if (cp < 0x80) {
        return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    }
    if (ins_cp_case(cp) != 1) {
        return cp;
    }
    if (cp <= 0xDE) {
        return cp + 0x20;
    }
    if (cp <= 0x17F) {
        if (cp == 0x130) {
            return 'i';
        }
        if (cp == 0x178) {
            return 0xFF;
        }
        return cp + 1;
    }
    if (cp == 0x386) {
        return 0x3AC;
    }
    if (cp >= 0x388 && cp <= 0x38A) {
        return cp + 37;
    }
    if (cp == 0x38C) {
        return 0x3CC;
    }
    if (cp == 0x38E || cp == 0x38F) {
        return cp + 63;
    }
    if (cp >= 0x391 && cp <= 0x3A9) {
        return cp + 0x20;
    }
    if (cp >= 0x400 && cp <= 0x40F) {
        return cp + 0x50;
    }
    return cp + 0x20; /* 0x410..0x42F */
}

bool ins_is_ascii(const char *s, size_t len)
{
    size_t i = 0;
    uint64_t acc = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        acc |= x;
    }
    for (; i < len; i++) {
        acc |= (unsigned char)s[i];
    }
    return (acc & 0x8080808080808080ull) == 0;
}

bool ins_is_upper(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    bool cased = false;
    size_t i = 0;

    while (i < len) {
        size_t adv;
        uint32_t cp = ins_utf8_decode(p + i, len - i, &adv);
        int c = ins_cp_case(cp);

        if (c < 0) {
            return false;
        }
        if (c > 0) {
            cased = true;
        }
        i += adv;
    }
    return cased;
}

/* ------------------------------------------------------------- tokenizer */

/* Byte classes for the ASCII fast path. */
enum { CL_OTHER = 0, CL_SPACE = 1, CL_PUNCT = 2, CL_HIGH = 4, CL_UPPER = 8, CL_LOWER = 16 };

static unsigned char byte_class[256];
static unsigned char lower_tab[256];
static bool tables_ready;

static void init_tables(void)
{
    const char *punct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    for (unsigned i = 0; i < 256; i++) {
        unsigned char cl = CL_OTHER;
        if (i == ' ' || (i >= 0x09 && i <= 0x0D) || (i >= 0x1C && i <= 0x1F)) {
            cl = CL_SPACE;
        } else if (i >= 0x80) {
            cl = CL_HIGH;
        } else if (i >= 'A' && i <= 'Z') {
            cl = CL_UPPER;
        } else if (i >= 'a' && i <= 'z') {
            cl = CL_LOWER;
        } else if (i != 0 && strchr(punct, (int)i)) {
            cl = CL_PUNCT;
        }
        byte_class[i] = cl;
        lower_tab[i] = (unsigned char)((i >= 'A' && i <= 'Z') ? i + 32 : i);
    }
    tables_ready = true;
}

void ins_tokbuf_release(struct ins_tokbuf *tb)
{
    if (!tb) {
        return;
    }
    cv_free(tb->toks);
    cv_free(tb->keys);
    cv_free(tb->lex);
    cv_free(tb->val);
    tb->keys = NULL;
    tb->lex = NULL;
    tb->val = NULL;
    tb->toks = NULL;
    tb->ntoks = tb->cap = 0;
    cv_free(tb->low);
    tb->low = NULL;
    tb->lowcap = 0;
    cv_buf_release(&tb->text);
}

/*
 * VADER (Python) replaces every emoji code point with its description,
 * preceded by a space unless the previous character was a space, and
 * followed by nothing: "a😀b" becomes "a grinning faceb".
 */
static cv_err expand_emoji(struct ins_tokbuf *tb, const char *text, size_t len, bool *expanded)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0, copied = 0;
    bool prev_space = true, any = false;
    cv_err err = CV_OK;

    *expanded = false;
    if (tb->text.max == 0) {
        cv_buf_init(&tb->text, SIZE_MAX / 2);
    }
    cv_buf_reset(&tb->text);
    while (i < len) {
        size_t adv;
        uint32_t cp;
        const struct ins_emoji_entry *e;

        if (p[i] < 0x80) {
            prev_space = p[i] == ' ';
            i++;
            continue;
        }
        cp = ins_utf8_decode(p + i, len - i, &adv);
        e = cp >= 0xA9 ? ins_emoji_find(cp) : NULL;
        if (!e) {
            prev_space = false;
            i += adv;
            continue;
        }
        any = true;
        err = cv_buf_add(&tb->text, text + copied, i - copied);
        if (!err && !prev_space) {
            err = cv_buf_addc(&tb->text, ' ');
        }
        if (!err) {
            err = cv_buf_add(&tb->text, e->name, e->len);
        }
        if (err) {
            return err;
        }
        prev_space = false;
        i += adv;
        copied = i;
    }
    if (any) {
        err = cv_buf_add(&tb->text, text + copied, len - copied);
        *expanded = err == CV_OK;
    }
    return err;
}

/* Long tokens are never interned: they cannot be lexicon words. */
static struct ins_word long_plain = {"", 0, 0, 0, 0, 0, 0, 0, 0, INS_PIECE_STOP};
static struct ins_word long_neg = {"", 0, 0, 0, 0, INS_W_NEG, 0, 0, 0, INS_PIECE_STOP};
#define TOKEN_INTERN_MAX 60

static cv_err grow_toks(struct ins_tokbuf *tb)
{
    size_t ncap = tb->cap ? tb->cap * 2 : 64;
    struct ins_tok *nt = cv_realloc(tb->toks, ncap * sizeof(*nt));

    if (!nt) {
        return CV_ENOMEM;
    }
    tb->toks = nt;
    struct ins_key *nk = cv_realloc(tb->keys, ncap * sizeof(*nk));
    if (!nk) {
        return CV_ENOMEM;
    }
    tb->keys = nk;
    uint32_t *nx = cv_realloc(tb->lex, ncap * sizeof(*nx));
    if (!nx) {
        return CV_ENOMEM;
    }
    tb->lex = nx;
    double *nv = cv_realloc(tb->val, ncap * sizeof(*nv));
    if (!nv) {
        return CV_ENOMEM;
    }
    tb->val = nv;
    tb->cap = ncap;
    return CV_OK;
}

/* Notes a token that VADER needs to find (a lexicon word, the first "but"). */
static inline void note_vader(struct ins_tokbuf *tb, size_t i, const struct ins_word *w)
{
    if (w->flags & INS_W_LEX) {
        tb->lex[tb->nlex++] = (uint32_t)i;
    }
    if ((w->flags & INS_W_BUT) && tb->but_at == SIZE_MAX) {
        tb->but_at = i;
    }
}

/* VADER's "n't" test on a token as written (for tokens too long to intern). */
static struct ins_word *long_word(const unsigned char *p, size_t c, size_t d)
{
    for (size_t k = c; k + 3 <= d; k++) {
        if ((p[k] == 'n' || p[k] == 'N') && p[k + 1] == '\'' &&
            (p[k + 2] == 't' || p[k + 2] == 'T')) {
            return &long_neg;
        }
    }
    return &long_plain;
}

/*
 * The end of the token starting at @p i of an ASCII record: the first white
 * space byte at or after i, or @p len. Eight bytes at a time over the
 * lower-cased copy (8 bytes of slack): a byte <= 0x20 is a candidate
 * (white space is 0x09-0x0D, 0x1C-0x1F, 0x20), confirmed by its class.
 */
static size_t token_end(const char *low, const unsigned char *p, size_t i, size_t len)
{
    for (;;) {
        uint64_t x, m;
        memcpy(&x, low + i, 8);
        m = ~(x + 0x5F5F5F5F5F5F5F5Full) & 0x8080808080808080ull;
        while (m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
            size_t j = i + (size_t)(__builtin_clzll(m) >> 3);
            m &= ~(0x8000000000000000ull >> (8 * (j - i)));
#else
            size_t j = i + (size_t)(__builtin_ctzll(m) >> 3);
            m &= m - 1;
#endif
            if (j >= len) {
                return len;
            }
            if (byte_class[p[j]] == CL_SPACE) {
                return j;
            }
        }
        i += 8;
        if (i >= len) {
            return len;
        }
    }
}

/* str.isupper() of an ASCII token: a capital and no small letter (most exit at once). */
static bool ascii_upper(const unsigned char *p, size_t a, size_t b)
{
    bool up = false;

    for (size_t k = a; k < b; k++) {
        unsigned cl = byte_class[p[k]];
        if (cl == CL_LOWER) {
            return false;
        }
        up |= cl == CL_UPPER;
    }
    return up;
}

/*
 * The fast path for an all-ASCII record (no emoji, no Unicode spaces, ASCII
 * case rules): the record is lower-cased in one pass, '!' and '?' are
 * counted in one pass, and each token is a range of the lower-cased copy.
 */
static cv_err tokenize_ascii(struct ins_vocab *v, struct ins_tokbuf *tb, const char *text,
                             size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    unsigned excl = 0, quest = 0;
    size_t i = 0;
    char *low;

    if (tb->lowcap < len + 8) { /* 8 bytes of slack for ins_vocab_hash_padded() */
        size_t ncap = len < 256 ? 256 + 8 : len + len / 2 + 8;
        char *nl = cv_realloc(tb->low, ncap);
        if (!nl) {
            return CV_ENOMEM;
        }
        tb->low = nl;
        tb->lowcap = ncap;
    }
    low = tb->low;
    unsigned char any = 0;
    size_t k0 = 0;
#if defined(__SSE2__)
    /*
     * Sixteen bytes at a time: lower-case A-Z (signed compares: bytes >= 0x80
     * are negative, never in range); '!' and '?' counted in byte lanes
     * (subtracting the all-ones compare masks), summed every 255 blocks;
     * the high bits ORed (non-ASCII). The scalar loop below does the tail.
     */
    if (len >= 16) {
        const __m128i a1 = _mm_set1_epi8('A' - 1), z1 = _mm_set1_epi8('Z' + 1);
        const __m128i d32 = _mm_set1_epi8(32), ex = _mm_set1_epi8('!'), qu = _mm_set1_epi8('?');
        const __m128i zero = _mm_setzero_si128();
        __m128i hi = zero;
        while (k0 + 16 <= len) {
            __m128i ce = zero, cq = zero;
            size_t end = k0 + 16 * (size_t)255;
            if (end > len - 15) {
                end = len - 15; /* blocks start below len - 15 */
            }
            for (; k0 < end; k0 += 16) {
                __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + k0));
                __m128i up = _mm_and_si128(_mm_cmpgt_epi8(x, a1), _mm_cmplt_epi8(x, z1));
                _mm_storeu_si128((__m128i *)(void *)(low + k0),
                                 _mm_add_epi8(x, _mm_and_si128(up, d32)));
                ce = _mm_sub_epi8(ce, _mm_cmpeq_epi8(x, ex));
                cq = _mm_sub_epi8(cq, _mm_cmpeq_epi8(x, qu));
                hi = _mm_or_si128(hi, x);
            }
            __m128i se = _mm_sad_epu8(ce, zero), sq = _mm_sad_epu8(cq, zero);
            excl += (unsigned)(_mm_cvtsi128_si32(se) + _mm_cvtsi128_si32(_mm_srli_si128(se, 8)));
            quest += (unsigned)(_mm_cvtsi128_si32(sq) + _mm_cvtsi128_si32(_mm_srli_si128(sq, 8)));
        }
        any = _mm_movemask_epi8(hi) ? 0x80 : 0;
    }
#endif
    for (size_t k = k0; k < len; k++) {
        unsigned char ch = p[k];
        low[k] = (char)(ch + ((unsigned char)(ch - 'A') < 26u ? 32u : 0u));
        excl += ch == '!';
        quest += ch == '?';
        any |= ch;
    }
    if (any & 0x80) {
        return CV_EAGAIN; /* not ASCII after all: the general path */
    }
    memset(low + len, 0, 8);
    tb->excl = excl;
    tb->quest = quest;
    while (i < len) {
        size_t a, b, c, d;
        bool brk;
        struct ins_tok *t;
        struct ins_key *k;

        while (i < len && byte_class[p[i]] == CL_SPACE) {
            i++;
        }
        if (i >= len) {
            break;
        }
        a = i;
        b = token_end(low, p, i, len);
        i = b;
        c = a;
        d = b;
        brk = false;
        if (byte_class[p[a]] == CL_PUNCT || byte_class[p[b - 1]] == CL_PUNCT) {
            while (c < d && byte_class[p[c]] == CL_PUNCT) {
                c++;
            }
            while (d > c && byte_class[p[d - 1]] == CL_PUNCT) {
                d--;
            }
            brk = d < b;
            if (d - c <= 2) {
                c = a;
                d = b;
            }
        }
        if (tb->ntoks == tb->cap && grow_toks(tb) != CV_OK) {
            return CV_ENOMEM;
        }
        t = &tb->toks[tb->ntoks];
        k = &tb->keys[tb->ntoks];
        if (d - c > TOKEN_INTERN_MAX) {
            t->w = long_word(p, c, d);
            k->len = INS_KEY_SKIP;
        } else {
            k->off = (uint32_t)c;
            k->len = (uint32_t)(d - c);
            k->hash = ins_vocab_hash_padded(low + c, d - c);
            k->cand = ins_vocab_hint(v, k->hash);
        }
        t->upper = ascii_upper(p, a, b);
        tb->nupper += t->upper;
        t->break_after = brk; /* punctuation ended the token */
        t->mention = p[a] == '@';
        tb->ntoks++;
    }
    if (ins_vocab_words(v, low, tb->keys, tb->ntoks, tb->toks) != CV_OK) {
        return CV_ENOMEM;
    }
    for (size_t n = 0; n < tb->ntoks; n++) {
        struct ins_word *w = tb->toks[n].w;
        w->count++;
        if (w->flags & (INS_W_LEX | INS_W_BUT)) {
            note_vader(tb, n, w);
        }
    }
    return CV_OK;
}

cv_err ins_tokenize(struct ins_vocab *v, struct ins_tokbuf *tb, const char *text, size_t len)
{
    const unsigned char *p;
    size_t i = 0;
    bool expanded = false;
    cv_err err = CV_OK;
    char lower[TOKEN_INTERN_MAX + 8];

    if (!tables_ready) {
        init_tables();
    }
    tb->ntoks = 0;
    tb->excl = tb->quest = 0;
    tb->nlex = tb->nupper = 0;
    tb->but_at = SIZE_MAX;
    /* Most records are ASCII: the fast path finds out as it lower-cases. */
    err = tokenize_ascii(v, tb, text, len);
    if (err != CV_EAGAIN) {
        return err;
    }
    err = CV_OK;
    {
        err = expand_emoji(tb, text, len, &expanded);
        if (err) {
            return err;
        }
        if (expanded) {
            text = tb->text.ptr;
            len = tb->text.len;
        }
    }
    p = (const unsigned char *)text;
    while (i < len) {
        size_t a, b, c, d, k, cps, ll;
        bool high = false, brk = false;
        struct ins_word *w;
        struct ins_tok *t;

        /* Skip white space (ASCII and Unicode). */
        for (;;) {
            if (i >= len) {
                break;
            }
            if (byte_class[p[i]] == CL_SPACE) {
                i++;
                continue;
            }
            if (p[i] >= 0x80) {
                size_t adv;
                uint32_t cp = ins_utf8_decode(p + i, len - i, &adv);
                if (ins_cp_is_space(cp)) {
                    i += adv;
                    continue;
                }
            }
            break;
        }
        if (i >= len) {
            break;
        }
        a = i;
        for (;;) {
            if (i >= len) {
                break;
            }
            unsigned char cl = byte_class[p[i]];
            if (cl == CL_SPACE) {
                break;
            }
            if (cl == CL_HIGH) {
                size_t adv;
                uint32_t cp = ins_utf8_decode(p + i, len - i, &adv);
                if (ins_cp_is_space(cp)) {
                    break;
                }
                high = true;
                i += adv;
                continue;
            }
            if (p[i] == '!') {
                tb->excl++;
            } else if (p[i] == '?') {
                tb->quest++;
            }
            i++;
        }
        b = i;
        /* Strip ASCII punctuation at both ends (str.strip(string.punctuation)). */
        c = a;
        d = b;
        while (c < d && byte_class[p[c]] == CL_PUNCT) {
            c++;
        }
        while (d > c && byte_class[p[d - 1]] == CL_PUNCT) {
            d--;
        }
        if (d < b) {
            brk = true;
        }
        /* Keep the original when two characters or fewer remain (emoticons). */
        if (!high) {
            cps = d - c;
        } else {
            cps = 0;
            for (k = c; k < d && cps <= 2; k++) {
                cps += (p[k] & 0xC0) != 0x80;
            }
        }
        if (cps <= 2) {
            c = a;
            d = b;
        }
        /* Lower-case and look up. */
        if (tb->ntoks == tb->cap && grow_toks(tb) != CV_OK) {
            return CV_ENOMEM;
        }
        t = &tb->toks[tb->ntoks];
        ll = 0;
        if (!high) {
            bool up = false, lo = false;
            if (d - c <= TOKEN_INTERN_MAX) {
                for (k = c; k < d; k++) {
                    unsigned char cl = byte_class[p[k]];
                    up |= cl == CL_UPPER;
                    lo |= cl == CL_LOWER;
                    lower[ll++] = (char)lower_tab[p[k]];
                }
            } else {
                for (k = c; k < d; k++) {
                    unsigned char cl = byte_class[p[k]];
                    up |= cl == CL_UPPER;
                    lo |= cl == CL_LOWER;
                }
                ll = d - c;
            }
            t->upper = up && !lo;
        } else {
            t->upper = ins_is_upper(text + c, d - c);
            k = c;
            while (k < d && ll <= TOKEN_INTERN_MAX) {
                size_t adv;
                uint32_t cp = ins_utf8_decode(p + k, d - k, &adv);
                if (cp == 0xFFFD) {
                    lower[ll++] = (char)p[k];
                } else {
                    ll += ins_utf8_encode(ins_cp_lower(cp), lower + ll);
                }
                k += adv;
            }
            if (k < d) {
                ll = TOKEN_INTERN_MAX + 1;
            }
        }
        if (ll > TOKEN_INTERN_MAX) {
            /* Too long for the lexicon; only VADER's "n't" test applies. */
            w = long_word(p, c, d);
        } else {
            w = ins_vocab_word(v, lower, ll);
            if (!w) {
                return CV_ENOMEM;
            }
        }
        w->count++;
        t->w = w;
        t->break_after = brk;
        t->mention = p[a] == '@';
        tb->nupper += t->upper;
        note_vader(tb, tb->ntoks, w);
        tb->ntoks++;
    }
    return CV_OK;
}
