/*
 * Patterns (wildcards and policy variables), the arena, and the small value
 * parsers the conditions need (decimals, CIDRs, dates). Matching allocates
 * nothing.
 */
#include "policy/policy_int.h"

#include <arpa/inet.h>
#include <string.h>

/* ---------------------------------------------------------------- arena */

struct policy_arena_block {
    struct policy_arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

#define ARENA_BLOCK 4096

void *policy_arena_alloc(struct policy_arena *a, size_t n)
{
    struct policy_arena_block *b = a->head;
    size_t need = (n + 15) & ~(size_t)15;
    void *p;

    if (need < n) {
        return NULL;
    }
    if (!b || b->cap - b->used < need) {
        size_t cap = need > ARENA_BLOCK ? need : ARENA_BLOCK;
        b = cv_malloc(sizeof(*b) + cap);
        if (!b) {
            return NULL;
        }
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    p = b->data + b->used;
    b->used += need;
    memset(p, 0, n);
    return p;
}

char *policy_arena_strndup(struct policy_arena *a, const char *s, size_t n)
{
    char *p = policy_arena_alloc(a, n + 1);

    if (!p) {
        return NULL;
    }
    if (n) {
        memcpy(p, s, n);
    }
    p[n] = '\0';
    return p;
}

void policy_arena_release(struct policy_arena *a)
{
    struct policy_arena_block *b = a->head;

    while (b) {
        struct policy_arena_block *next = b->next;
        cv_free(b);
        b = next;
    }
    a->head = NULL;
}

/* ------------------------------------------------------------ variables */

enum pvar_issue policy_var_parse(struct cv_str text, size_t i, size_t *end, struct cv_str *key,
                                 struct cv_str *def, bool *has_def, char *escape)
{
    size_t j = i + 2, k;
    const char *t = text.ptr;

    *has_def = false;
    *escape = 0;
    *def = CV_STR_NULL;
    k = j;
    while (k < text.len && t[k] != '}' && t[k] != ',') {
        k++;
    }
    if (k >= text.len) {
        return PVAR_MISSING_BRACE;
    }
    key->ptr = t + j;
    key->len = k - j;
    if (key->len == 0) {
        return PVAR_EMPTY;
    }
    for (size_t m = j; m < k; m++) {
        if (t[m] == ' ' || t[m] == '\t') {
            return PVAR_SPACE;
        }
        if (t[m] == '$' && m + 1 < k && t[m + 1] == '{') {
            return PVAR_MISSING_BRACE;
        }
    }
    if (t[k] == '}') {
        if (key->len == 1 && (t[j] == '*' || t[j] == '?' || t[j] == '$')) {
            *escape = t[j];
        }
        *end = k + 1;
        return PVAR_OK;
    }
    /* ", 'default'}" */
    k++;
    while (k < text.len && t[k] == ' ') {
        k++;
    }
    if (k >= text.len) {
        return PVAR_MISSING_BRACE;
    }
    if (t[k] != '\'') {
        return PVAR_MISSING_QUOTE;
    }
    size_t q = k + 1;
    while (q < text.len && t[q] != '\'') {
        q++;
    }
    if (q >= text.len) {
        return PVAR_MISSING_QUOTE;
    }
    def->ptr = t + k + 1;
    def->len = q - (k + 1);
    *has_def = true;
    q++;
    while (q < text.len && t[q] == ' ') {
        q++;
    }
    if (q >= text.len || t[q] != '}') {
        return PVAR_MISSING_BRACE;
    }
    *end = q + 1;
    return PVAR_OK;
}

/* ------------------------------------------------------------- patterns */

/* One pass over @p text; with @p segs NULL it only counts. */
static uint32_t build_segs(struct cv_str text, unsigned flags, struct pseg *segs, uint8_t *nvars,
                           bool *too_many)
{
    uint32_t n = 0;
    size_t i = 0, lit_start = 0;
    uint8_t vars = 0;
    const char *t = text.ptr;

#define FLUSH_LIT(upto)                                                                            \
    do {                                                                                           \
        if ((upto) > lit_start) {                                                                  \
            if (segs) {                                                                            \
                segs[n] = (struct pseg){                                                           \
                    PSEG_LIT, 0, false, {t + lit_start, (upto)-lit_start}, CV_STR_NULL};           \
            }                                                                                      \
            n++;                                                                                   \
        }                                                                                          \
    } while (0)

    while (i < text.len) {
        char c = t[i];
        if ((flags & PPAT_WILD) && (c == '*' || c == '?')) {
            FLUSH_LIT(i);
            if (c == '*') {
                /* Collapse runs of '*'. */
                if (!(i > 0 && t[i - 1] == '*' && lit_start == i)) {
                    if (segs) {
                        segs[n] = (struct pseg){PSEG_STAR, 0, false, CV_STR_NULL, CV_STR_NULL};
                    }
                    n++;
                }
            } else {
                if (segs) {
                    segs[n] = (struct pseg){PSEG_QMARK, 0, false, CV_STR_NULL, CV_STR_NULL};
                }
                n++;
            }
            i++;
            lit_start = i;
            continue;
        }
        if ((flags & PPAT_VARS) && c == '$' && i + 1 < text.len && t[i + 1] == '{') {
            size_t end;
            struct cv_str key, def;
            bool has_def;
            char esc;
            if (policy_var_parse(text, i, &end, &key, &def, &has_def, &esc) == PVAR_OK) {
                FLUSH_LIT(i);
                if (esc) {
                    if (segs) {
                        segs[n] = (struct pseg){PSEG_LIT, 0, false, {t + i + 2, 1}, CV_STR_NULL};
                    }
                } else {
                    if (vars >= PPAT_MAX_VARS) {
                        *too_many = true;
                    }
                    if (segs) {
                        segs[n] = (struct pseg){PSEG_VAR, vars, has_def, key, def};
                    }
                    vars++;
                }
                n++;
                i = end;
                lit_start = i;
                continue;
            }
        }
        i++;
    }
    FLUSH_LIT(i);
#undef FLUSH_LIT
    *nvars = vars;
    return n;
}

cv_err ppat_compile(struct policy_arena *a, struct cv_str text, unsigned flags, struct ppat *out)
{
    uint8_t nvars = 0;
    bool too_many = false;
    uint32_t n = build_segs(text, flags, NULL, &nvars, &too_many);
    struct pseg *segs;

    memset(out, 0, sizeof(*out));
    if (too_many) {
        return CV_EINVAL;
    }
    segs = policy_arena_alloc(a, (n ? n : 1) * sizeof(*segs));
    if (!segs) {
        return CV_ENOMEM;
    }
    n = build_segs(text, flags, segs, &nvars, &too_many);
    out->segs = segs;
    out->nsegs = n;
    out->nvars = nvars;
    if (nvars) {
        out->shape = PSHAPE_GENERAL;
    } else if (n == 0) {
        out->shape = PSHAPE_EXACT;
        out->lit = (struct cv_str){text.ptr, 0};
    } else if (n == 1 && segs[0].kind == PSEG_LIT) {
        out->shape = PSHAPE_EXACT;
        out->lit = segs[0].s;
    } else if (n == 1 && segs[0].kind == PSEG_STAR) {
        out->shape = PSHAPE_ANY;
    } else if (n == 2 && segs[0].kind == PSEG_LIT && segs[1].kind == PSEG_STAR) {
        out->shape = PSHAPE_PREFIX;
        out->lit = segs[0].s;
    } else {
        out->shape = PSHAPE_GENERAL;
    }
    return CV_OK;
}

const struct policy_ctx_key *policy_req_key(const struct policy_request *req, struct cv_str name)
{
    size_t i;

    for (i = 0; i < req->nkeys; i++) {
        if (cv_str_eq_ci(req->keys[i].name, name)) {
            return &req->keys[i];
        }
    }
    return NULL;
}

static inline bool ch_eq(char a, char b, bool ci)
{
    return ci ? policy_lower((unsigned char)a) == policy_lower((unsigned char)b) : a == b;
}

static bool mem_eq(const char *a, const char *b, size_t n, bool ci)
{
    size_t i;

    if (!ci) {
        return n == 0 || memcmp(a, b, n) == 0;
    }
    for (i = 0; i < n; i++) {
        if (!ch_eq(a[i], b[i], true)) {
            return false;
        }
    }
    return true;
}

/* Glob over segments; VAR segments take vals[vi]. */
static bool glob_segs(const struct pseg *segs, uint32_t n, const struct cv_str *vals,
                      struct cv_str text, bool ci)
{
    size_t si = 0, so = 0, t = 0, bsi = 0, bso = 0, bt = 0;
    bool star = false;

#define SEG_TEXT(k) (segs[k].kind == PSEG_VAR ? vals[segs[k].vi] : segs[k].s)
#define NORM()                                                                                     \
    while (si < n && (segs[si].kind == PSEG_LIT || segs[si].kind == PSEG_VAR) &&                   \
           so >= SEG_TEXT(si).len) {                                                               \
        si++;                                                                                      \
        so = 0;                                                                                    \
    }

    for (;;) {
        NORM();
        if (t == text.len) {
            break;
        }
        if (si < n) {
            uint8_t k = segs[si].kind;
            if (k == PSEG_STAR) {
                star = true;
                si++;
                so = 0;
                NORM();
                bsi = si;
                bso = so;
                bt = t;
                continue;
            }
            if (k == PSEG_QMARK) {
                si++;
                so = 0;
                t++;
                continue;
            }
            if (ch_eq(SEG_TEXT(si).ptr[so], text.ptr[t], ci)) {
                so++;
                t++;
                continue;
            }
        }
        if (!star) {
            return false;
        }
        bt++;
        t = bt;
        si = bsi;
        so = bso;
    }
    for (;;) {
        NORM();
        if (si == n) {
            return true;
        }
        if (segs[si].kind != PSEG_STAR) {
            return false;
        }
        si++;
        so = 0;
    }
#undef NORM
#undef SEG_TEXT
}

bool ppat_match(const struct ppat *p, struct cv_str text, const struct policy_request *req, bool ci)
{
    struct cv_str vals[PPAT_MAX_VARS];
    uint32_t i;

    switch (p->shape) {
    case PSHAPE_EXACT:
        return text.len == p->lit.len && mem_eq(text.ptr, p->lit.ptr, text.len, ci);
    case PSHAPE_PREFIX:
        return text.len >= p->lit.len && mem_eq(text.ptr, p->lit.ptr, p->lit.len, ci);
    case PSHAPE_ANY:
        return true;
    default:
        break;
    }
    for (i = 0; i < p->nsegs; i++) {
        const struct pseg *s = &p->segs[i];
        const struct policy_ctx_key *k;
        if (s->kind != PSEG_VAR) {
            continue;
        }
        k = req ? policy_req_key(req, s->s) : NULL;
        if (k && k->nvalues == 1) {
            vals[s->vi] = k->values[0];
        } else if (s->has_def) {
            vals[s->vi] = s->def;
        } else {
            return false; /* no value: matches nothing (IAM.md §1.7) */
        }
    }
    return glob_segs(p->segs, p->nsegs, vals, text, ci);
}

bool policy_glob(struct cv_str pat, struct cv_str text, bool ci)
{
    /* Small enough for a stack copy of the segments in the common case. */
    struct pseg segs[64];
    uint8_t nvars = 0;
    bool too_many = false;
    uint32_t n = build_segs(pat, PPAT_WILD, NULL, &nvars, &too_many);
    size_t pi = 0, ti = 0, bp = 0, bt = 0;
    bool star = false;

    if (n <= CV_ARRAY_LEN(segs)) {
        build_segs(pat, PPAT_WILD, segs, &nvars, &too_many);
        return glob_segs(segs, n, NULL, text, ci);
    }
    /* Plain character glob for long patterns. */
    while (ti < text.len) {
        if (pi < pat.len && pat.ptr[pi] == '*') {
            star = true;
            bp = ++pi;
            bt = ti;
        } else if (pi < pat.len && (pat.ptr[pi] == '?' || ch_eq(pat.ptr[pi], text.ptr[ti], ci))) {
            pi++;
            ti++;
        } else if (star) {
            pi = bp;
            ti = ++bt;
        } else {
            return false;
        }
    }
    while (pi < pat.len && pat.ptr[pi] == '*') {
        pi++;
    }
    return pi == pat.len;
}

bool ppat_can_match_without_slash(const struct ppat *p)
{
    uint32_t i;

    for (i = 0; i < p->nsegs; i++) {
        if (p->segs[i].kind == PSEG_LIT && memchr(p->segs[i].s.ptr, '/', p->segs[i].s.len)) {
            return false;
        }
    }
    return true;
}

bool ppat_can_match_with_slash(const struct ppat *p)
{
    uint32_t i;

    for (i = 0; i < p->nsegs; i++) {
        const struct pseg *s = &p->segs[i];
        if (s->kind != PSEG_LIT || memchr(s->s.ptr, '/', s->s.len)) {
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------------- ARN */

bool policy_arn_split(struct cv_str arn, struct cv_str c[6])
{
    size_t i, start = 0;
    int k = 0;

    for (i = 0; i < arn.len && k < 5; i++) {
        if (arn.ptr[i] == ':') {
            c[k].ptr = arn.ptr + start;
            c[k].len = i - start;
            k++;
            start = i + 1;
        }
    }
    if (k < 5) {
        return false;
    }
    c[5].ptr = arn.ptr + start;
    c[5].len = arn.len - start;
    return true;
}

/* -------------------------------------------------------------- numbers */

bool policy_dec_parse(struct cv_str s, struct pdec *out)
{
    size_t i = 0, a, b;

    memset(out, 0, sizeof(*out));
    if (i < s.len && (s.ptr[i] == '-' || s.ptr[i] == '+')) {
        out->neg = s.ptr[i] == '-';
        i++;
    }
    a = i;
    while (i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9') {
        i++;
    }
    if (i == a) {
        return false;
    }
    out->ip = (struct cv_str){s.ptr + a, i - a};
    if (i < s.len && s.ptr[i] == '.') {
        i++;
        b = i;
        while (i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9') {
            i++;
        }
        if (i == b) {
            return false;
        }
        out->fp = (struct cv_str){s.ptr + b, i - b};
    }
    if (i != s.len) {
        return false;
    }
    while (out->ip.len > 0 && out->ip.ptr[0] == '0') {
        out->ip.ptr++;
        out->ip.len--;
    }
    while (out->fp.len > 0 && out->fp.ptr[out->fp.len - 1] == '0') {
        out->fp.len--;
    }
    if (out->ip.len == 0 && out->fp.len == 0) {
        out->neg = false; /* -0 == 0 */
    }
    return true;
}

static int mag_cmp(const struct pdec *a, const struct pdec *b)
{
    size_t i, n;
    int c;

    if (a->ip.len != b->ip.len) {
        return a->ip.len < b->ip.len ? -1 : 1;
    }
    if (a->ip.len) {
        c = memcmp(a->ip.ptr, b->ip.ptr, a->ip.len);
        if (c) {
            return c < 0 ? -1 : 1;
        }
    }
    n = CV_MAX(a->fp.len, b->fp.len);
    for (i = 0; i < n; i++) {
        char ca = i < a->fp.len ? a->fp.ptr[i] : '0';
        char cb = i < b->fp.len ? b->fp.ptr[i] : '0';
        if (ca != cb) {
            return ca < cb ? -1 : 1;
        }
    }
    return 0;
}

int policy_dec_cmp(const struct pdec *a, const struct pdec *b)
{
    if (a->neg != b->neg) {
        return a->neg ? -1 : 1;
    }
    return a->neg ? -mag_cmp(a, b) : mag_cmp(a, b);
}

/* ------------------------------------------------------------------ IPs */

static bool addr_parse(struct cv_str s, struct pcidr *out)
{
    char buf[64];

    if (s.len == 0 || s.len >= sizeof(buf)) {
        return false;
    }
    memcpy(buf, s.ptr, s.len);
    buf[s.len] = '\0';
    memset(out, 0, sizeof(*out));
    if (memchr(s.ptr, ':', s.len)) {
        if (inet_pton(AF_INET6, buf, out->addr) != 1) {
            return false;
        }
        out->family = 6;
        out->bits = 128;
    } else {
        if (inet_pton(AF_INET, buf, out->addr) != 1) {
            return false;
        }
        out->family = 4;
        out->bits = 32;
    }
    return true;
}

bool policy_cidr_parse(struct cv_str s, struct pcidr *out)
{
    ptrdiff_t slash = cv_str_find(s, '/');
    uint64_t bits;

    if (slash < 0) {
        return addr_parse(s, out);
    }
    if (!addr_parse((struct cv_str){s.ptr, (size_t)slash}, out)) {
        return false;
    }
    struct cv_str b = {s.ptr + slash + 1, s.len - (size_t)slash - 1};
    if (b.len == 0 || b.len > 3 || cv_parse_u64(b, &bits) != CV_OK || bits > out->bits) {
        return false;
    }
    out->bits = (uint8_t)bits;
    return true;
}

bool policy_ip_parse(struct cv_str s, struct pcidr *out)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (!addr_parse(s, out)) {
        return false;
    }
    if (out->family == 6 && memcmp(out->addr, mapped, 12) == 0) {
        memmove(out->addr, out->addr + 12, 4);
        memset(out->addr + 4, 0, 12);
        out->family = 4;
        out->bits = 32;
    }
    return true;
}

bool policy_cidr_contains(const struct pcidr *net, const struct pcidr *ip)
{
    unsigned full, rem;

    if (net->family != ip->family) {
        return false;
    }
    full = net->bits / 8u;
    rem = net->bits % 8u;
    if (full && memcmp(net->addr, ip->addr, full) != 0) {
        return false;
    }
    if (rem) {
        uint8_t mask = (uint8_t)(0xffu << (8u - rem));
        if ((net->addr[full] & mask) != (ip->addr[full] & mask)) {
            return false;
        }
    }
    return true;
}

/* ---------------------------------------------------------------- dates */

bool policy_date_parse(struct cv_str s, int64_t *ms)
{
    int64_t v;
    size_t i;
    bool digits = s.len > 0;

    for (i = 0; i < s.len; i++) {
        if (!(s.ptr[i] >= '0' && s.ptr[i] <= '9') && !(i == 0 && s.ptr[i] == '-' && s.len > 1)) {
            digits = false;
            break;
        }
    }
    if (digits) {
        if (s.len > 15 || cv_parse_i64(s, &v) != CV_OK) {
            return false;
        }
        *ms = v * 1000;
        return true;
    }
    return cv_time_parse_iso8601(s, ms) == CV_OK;
}

/* --------------------------------------------------------------- names */

bool policy_bucket_name_ok(struct cv_str b)
{
    size_t i;
    bool all_ipish = true;
    int dots = 0;

    if (b.len < 3 || b.len > 63) {
        return false;
    }
    for (i = 0; i < b.len; i++) {
        char c = b.ptr[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && c != '.' && c != '-') {
            return false;
        }
        if ((i == 0 || i == b.len - 1) && !alnum) {
            return false;
        }
        if (c == '.' && i > 0 && b.ptr[i - 1] == '.') {
            return false;
        }
        if (c == '.') {
            dots++;
        } else if (!(c >= '0' && c <= '9')) {
            all_ipish = false;
        }
    }
    if (all_ipish && dots == 3) {
        return false;
    }
    if (cv_str_starts_with(b, "xn--")) {
        return false;
    }
    if ((b.len >= 8 && memcmp(b.ptr + b.len - 8, "-s3alias", 8) == 0) ||
        (b.len >= 7 && memcmp(b.ptr + b.len - 7, "--ol-s3", 7) == 0)) {
        return false;
    }
    return true;
}
