/*
 * Canonical request, string to sign, key derivation, verification and
 * signing (header and presigned query).
 *
 * The verify path allocates nothing once the caller's scratch buffer has
 * grown: the canonical request is written into it in one pass (query
 * parameters are sorted in place as views and compared through a lazy
 * re-encoding iterator, header names are looked up case-insensitively in
 * the request), then hashed; the string to sign is fed to the HMAC midstates
 * piece by piece instead of being assembled.
 */
#include "sigv4/sigv4_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* clang-format off */
#define U1(c) [c] = 1
const uint8_t sigv4_unreserved[256] = {
    U1('A'), U1('B'), U1('C'), U1('D'), U1('E'), U1('F'), U1('G'), U1('H'), U1('I'), U1('J'),
    U1('K'), U1('L'), U1('M'), U1('N'), U1('O'), U1('P'), U1('Q'), U1('R'), U1('S'), U1('T'),
    U1('U'), U1('V'), U1('W'), U1('X'), U1('Y'), U1('Z'),
    U1('a'), U1('b'), U1('c'), U1('d'), U1('e'), U1('f'), U1('g'), U1('h'), U1('i'), U1('j'),
    U1('k'), U1('l'), U1('m'), U1('n'), U1('o'), U1('p'), U1('q'), U1('r'), U1('s'), U1('t'),
    U1('u'), U1('v'), U1('w'), U1('x'), U1('y'), U1('z'),
    U1('0'), U1('1'), U1('2'), U1('3'), U1('4'), U1('5'), U1('6'), U1('7'), U1('8'), U1('9'),
    U1('-'), U1('_'), U1('.'), U1('~'),
};
#undef U1
/* clang-format on */

static const char HEXUP[] = "0123456789ABCDEF";

/* cv_buf_addc/cv_buf_add with the common case (room left) inline. */
static inline cv_err addc(struct cv_buf *b, char c)
{
    if (b->len + 1 < b->cap) {
        b->ptr[b->len++] = c;
        b->ptr[b->len] = '\0';
        return CV_OK;
    }
    return cv_buf_addc(b, c);
}

static inline cv_err addn(struct cv_buf *b, const void *p, size_t n)
{
    if (n < b->cap - b->len && b->ptr) {
        memcpy(b->ptr + b->len, p, n);
        b->len += n;
        b->ptr[b->len] = '\0';
        return CV_OK;
    }
    return cv_buf_add(b, p, n);
}

static inline unsigned char lc(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* Case-insensitive equality of two header names. */
static inline bool name_eq(struct cv_str a, struct cv_str b)
{
    size_t i;

    if (a.len != b.len) {
        return false;
    }
    for (i = 0; i < a.len; i++) {
        if (lc((unsigned char)a.ptr[i]) != lc((unsigned char)b.ptr[i])) {
            return false;
        }
    }
    return true;
}
/* Small arrays live on the stack; only unusual requests allocate. */
#define STACK_PARAMS 32
#define STACK_HEADERS 64

void sigv4_mac_final(struct sigv4_mac *m, const struct sigv4_signing_key *k,
                     uint8_t out[CV_SHA256_LEN])
{
    uint8_t ih[CV_SHA256_LEN];
    struct cv_sha256 o = k->mac.outer;

    cv_sha256_final(&m->c, ih);
    cv_sha256_update(&o, ih, sizeof(ih));
    cv_sha256_final(&o, out);
}

size_t sigv4_scope_format(const struct sigv4_scope *s, char *out, size_t cap)
{
    static const char term[] = "aws4_request";
    size_t n = s->date.len + 1 + s->region.len + 1 + s->service.len + 1 + (sizeof(term) - 1);
    char *o = out;

    if (n >= cap) {
        if (cap) {
            out[0] = '\0';
        }
        return 0;
    }
    memcpy(o, s->date.ptr, s->date.len);
    o += s->date.len;
    *o++ = '/';
    if (s->region.len) {
        memcpy(o, s->region.ptr, s->region.len);
    }
    o += s->region.len;
    *o++ = '/';
    memcpy(o, s->service.ptr, s->service.len);
    o += s->service.len;
    *o++ = '/';
    memcpy(o, term, sizeof(term));
    return n;
}

/* ------------------------------------------------------------ encoding */

/*
 * Appends @p raw URI-encoded: percent-escapes are decoded first when
 * @p decode (a malformed escape stays a literal '%'), then every byte but the
 * unreserved ones (and '/' when @p keep_slash) becomes %XX.
 */
static cv_err put_enc(struct cv_buf *b, struct cv_str raw, bool keep_slash, bool decode)
{
    const unsigned char *p = (const unsigned char *)raw.ptr;
    char *o;
    size_t i;
    cv_err err;

    if (raw.len > (SIZE_MAX - 1) / 3) {
        return CV_ETOOBIG;
    }
    err = cv_buf_grow(b, raw.len * 3);
    if (err) {
        return err;
    }
    o = b->ptr + b->len;
    for (i = 0; i < raw.len; i++) {
        unsigned c = p[i];
        if (decode && c == '%' && i + 2 < raw.len) {
            int hi = sigv4_hexval(p[i + 1]), lo = sigv4_hexval(p[i + 2]);
            if (hi >= 0 && lo >= 0) {
                c = (unsigned)(hi << 4 | lo);
                i += 2;
            }
        }
        if (sigv4_unreserved[c] || (keep_slash && c == '/')) {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = HEXUP[c >> 4];
            *o++ = HEXUP[c & 15];
        }
    }
    b->len = (size_t)(o - b->ptr);
    b->ptr[b->len] = '\0';
    return CV_OK;
}

/* Yields the canonical (decoded, re-encoded) bytes of a raw query component. */
struct enc_it {
    const unsigned char *p, *end;
    char pend[2];
    int npend;
};

static int enc_next(struct enc_it *it)
{
    unsigned c;

    if (it->npend) {
        it->npend--;
        return (unsigned char)it->pend[1 - it->npend];
    }
    if (it->p == it->end) {
        return -1;
    }
    c = *it->p++;
    if (c == '%' && it->end - it->p >= 2) {
        int hi = sigv4_hexval(it->p[0]), lo = sigv4_hexval(it->p[1]);
        if (hi >= 0 && lo >= 0) {
            c = (unsigned)(hi << 4 | lo);
            it->p += 2;
        }
    }
    if (sigv4_unreserved[c]) {
        return (int)c;
    }
    it->pend[0] = HEXUP[c >> 4];
    it->pend[1] = HEXUP[c & 15];
    it->npend = 2;
    return '%';
}

/* Compares two raw components by their canonical encodings (bytewise, shorter first). */
static int enc_cmp(struct cv_str a, struct cv_str b)
{
    struct enc_it x = {(const unsigned char *)a.ptr, (const unsigned char *)a.ptr + a.len, {0}, 0};
    struct enc_it y = {(const unsigned char *)b.ptr, (const unsigned char *)b.ptr + b.len, {0}, 0};

    for (;;) {
        int cx = enc_next(&x), cy = enc_next(&y);
        if (cx != cy) {
            return cx < cy ? -1 : 1;
        }
        if (cx < 0) {
            return 0;
        }
    }
}

/* ----------------------------------------------------------------- path */

/*
 * Generic-service path: botocore's remove_dot_segments on the raw path
 * (empty and "." segments dropped, ".." pops, leading and trailing '/'
 * kept), each segment then encoded.
 */
static cv_err put_path_normalized(struct cv_buf *b, struct cv_str raw, bool decode)
{
    size_t base, count = 0, i = 0;
    cv_err err = CV_OK;

    if (raw.len == 0) {
        return addc(b, '/');
    }
    if (raw.ptr[0] == '/') {
        err = addc(b, '/');
        if (err) {
            return err;
        }
    }
    base = b->len;
    while (i <= raw.len) {
        size_t j = i;
        struct cv_str seg;
        while (j < raw.len && raw.ptr[j] != '/') {
            j++;
        }
        seg = (struct cv_str){raw.ptr + i, j - i};
        i = j + 1;
        if (seg.len == 0 || (seg.len == 1 && seg.ptr[0] == '.')) {
            continue;
        }
        if (seg.len == 2 && seg.ptr[0] == '.' && seg.ptr[1] == '.') {
            if (count) {
                size_t k = b->len;
                while (k > base && b->ptr[k - 1] != '/') {
                    k--;
                }
                /* k is just past the separator; drop it too unless first. */
                cv_buf_setlen(b, k > base ? k - 1 : base);
                count--;
            }
            continue;
        }
        if (count) {
            err = addc(b, '/');
            if (err) {
                return err;
            }
        }
        err = put_enc(b, seg, false, decode);
        if (err) {
            return err;
        }
        count++;
    }
    if (raw.ptr[raw.len - 1] == '/' && count) {
        err = addc(b, '/');
    }
    return err;
}

static cv_err put_path(struct cv_buf *b, struct cv_str raw, unsigned flags)
{
    bool decode = !(flags & SIGV4_DOUBLE_ENCODE);

    if (flags & SIGV4_NORMALIZE_PATH) {
        return put_path_normalized(b, raw, decode);
    }
    if (raw.len == 0) {
        return addc(b, '/');
    }
    return put_enc(b, raw, true, decode);
}

/* ---------------------------------------------------------------- query */

struct qparam {
    struct cv_str k, v;
};

static int qparam_cmp(const void *a, const void *b)
{
    const struct qparam *x = a, *y = b;
    int c = enc_cmp(x->k, y->k);

    return c ? c : enc_cmp(x->v, y->v);
}

static bool query_next(struct cv_str *rest, struct qparam *out)
{
    while (rest->len) {
        struct cv_str seg;
        cv_str_split(*rest, '&', &seg, rest);
        if (seg.len == 0) {
            continue;
        }
        if (!cv_str_split(seg, '=', &out->k, &out->v)) {
            out->v = (struct cv_str){seg.ptr + seg.len, 0};
        }
        return true;
    }
    return false;
}

static bool query_skip(const struct qparam *q, bool presigned, unsigned flags)
{
    if (!presigned) {
        return false;
    }
    if (cv_str_eq_c(q->k, "X-Amz-Signature")) {
        return true;
    }
    return (flags & SIGV4_QUERY_TOKEN_UNSIGNED) && cv_str_eq_c(q->k, "X-Amz-Security-Token");
}

static cv_err put_query(struct cv_buf *b, struct cv_str raw, bool presigned, unsigned flags)
{
    struct qparam local[STACK_PARAMS], *qs = local, q;
    struct cv_str rest = raw;
    size_t n = 0, i;
    cv_err err = CV_OK;

    while (query_next(&rest, &q)) {
        n++;
    }
    if (n > STACK_PARAMS) {
        qs = cv_malloc(n * sizeof(*qs));
        if (!qs) {
            return CV_ENOMEM;
        }
    }
    n = 0;
    rest = raw;
    while (query_next(&rest, &q)) {
        if (!query_skip(&q, presigned, flags)) {
            qs[n++] = q;
        }
    }
    if (n <= 16) {
        for (i = 1; i < n; i++) {
            struct qparam t = qs[i];
            size_t j = i;
            while (j > 0 && qparam_cmp(&qs[j - 1], &t) > 0) {
                qs[j] = qs[j - 1];
                j--;
            }
            qs[j] = t;
        }
    } else {
        qsort(qs, n, sizeof(*qs), qparam_cmp);
    }
    for (i = 0; i < n && !err; i++) {
        if (i) {
            err = addc(b, '&');
        }
        if (!err) {
            err = put_enc(b, qs[i].k, false, true);
        }
        if (!err) {
            err = addc(b, '=');
        }
        if (!err) {
            err = put_enc(b, qs[i].v, false, true);
        }
    }
    if (qs != local) {
        cv_free(qs);
    }
    return err;
}

/* -------------------------------------------------------------- headers */

/* The whitespace collapsed in header values, as a table (hot loop). */
#define W1(c) [c] = 1
static const uint8_t ws_tab[256] = {W1(' '), W1('\t'), W1('\n'), W1('\r'), W1('\v'), W1('\f')};
#undef W1

/* Writes a header value trimmed, inner whitespace runs collapsed to one space; returns the end. */
static char *write_value(char *o, struct cv_str v)
{
    const unsigned char *p = (const unsigned char *)v.ptr, *e = p + v.len;

    while (p < e && ws_tab[*p]) {
        p++;
    }
    while (e > p && ws_tab[e[-1]]) {
        e--;
    }
    while (p < e) {
        const unsigned char *q = p;
        while (q < e && !ws_tab[*q]) {
            q++;
        }
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        if (q == e) {
            break;
        }
        *o++ = ' ';
        while (ws_tab[*q]) { /* ends before e: e[-1] is not whitespace */
            q++;
        }
        p = q;
    }
    return o;
}

static cv_err put_lower(struct cv_buf *b, struct cv_str s)
{
    size_t i;
    cv_err err = cv_buf_grow(b, s.len);

    if (err) {
        return err;
    }
    for (i = 0; i < s.len; i++) {
        b->ptr[b->len++] = (char)lc((unsigned char)s.ptr[i]);
    }
    b->ptr[b->len] = '\0';
    return CV_OK;
}

/* "name:v1,v2\n" for every request header called @p name (any case). */
static cv_err put_header(struct cv_buf *b, const struct sigv4_request *req, struct cv_str name)
{
    size_t i, need = name.len + 2, found = 0;
    char *o;
    cv_err err;

    for (i = 0; i < req->nheaders; i++) {
        if (name_eq(req->headers[i].name, name)) {
            need += req->headers[i].value.len + 1;
            found++;
        }
    }
    if (!found) {
        return CV_S3_AUTH_HEADER_MALFORMED;
    }
    err = cv_buf_grow(b, need);
    if (err) {
        return err;
    }
    o = b->ptr + b->len;
    for (i = 0; i < name.len; i++) {
        *o++ = (char)lc((unsigned char)name.ptr[i]);
    }
    *o++ = ':';
    found = 0;
    for (i = 0; i < req->nheaders; i++) {
        const struct sigv4_header *h = &req->headers[i];
        if (!name_eq(h->name, name)) {
            continue;
        }
        if (found++) {
            *o++ = ',';
        }
        o = write_value(o, h->value);
    }
    *o++ = '\n';
    b->len = (size_t)(o - b->ptr);
    b->ptr[b->len] = '\0';
    return CV_OK;
}

static struct cv_str find_header(const struct sigv4_request *req, const char *name)
{
    size_t i, n = strlen(name);

    for (i = 0; i < req->nheaders; i++) {
        if (name_eq(req->headers[i].name, (struct cv_str){name, n})) {
            return cv_str_trim(req->headers[i].value);
        }
    }
    return CV_STR_NULL;
}

static struct cv_str payload_line(const struct sigv4_request *req, bool presigned)
{
    struct cv_str h;

    if (req->payload_hash.len) {
        return req->payload_hash;
    }
    h = find_header(req, "x-amz-content-sha256");
    if (h.len) {
        return h;
    }
    return presigned ? CV_STR(SIGV4_UNSIGNED_PAYLOAD) : CV_STR(SIGV4_EMPTY_SHA256);
}

/* The canonical request for an explicit SignedHeaders list. */
static cv_err canon_build(const struct sigv4_request *req, struct cv_str signed_headers,
                          bool presigned, unsigned flags, struct cv_str payload, struct cv_buf *b)
{
    struct cv_str rest = signed_headers, name;
    cv_err err = addn(b, req->method.ptr, req->method.len);

    if (!err) {
        err = addc(b, '\n');
    }
    if (!err) {
        err = put_path(b, req->raw_path, flags);
    }
    if (!err) {
        err = addc(b, '\n');
    }
    if (!err) {
        err = put_query(b, req->raw_query, presigned, flags);
    }
    if (!err) {
        err = addc(b, '\n');
    }
    while (!err && sigv4_sh_next(&rest, &name)) {
        if (name.len == 0) {
            return CV_S3_AUTH_HEADER_MALFORMED;
        }
        err = put_header(b, req, name);
    }
    if (!err) {
        err = addc(b, '\n');
    }
    rest = signed_headers;
    for (bool first = true; !err && sigv4_sh_next(&rest, &name); first = false) {
        if (!first) {
            err = addc(b, ';');
        }
        if (!err) {
            err = put_lower(b, name);
        }
    }
    if (!err) {
        err = addc(b, '\n');
    }
    if (!err) {
        err = addn(b, payload.ptr, payload.len);
    }
    return err;
}

static int lower_cmp(struct cv_str a, struct cv_str b)
{
    size_t i, n = CV_MIN(a.len, b.len);

    for (i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a.ptr[i], y = (unsigned char)b.ptr[i];
        x = (x >= 'A' && x <= 'Z') ? (unsigned char)(x + 32) : x;
        y = (y >= 'A' && y <= 'Z') ? (unsigned char)(y + 32) : y;
        if (x != y) {
            return x < y ? -1 : 1;
        }
    }
    return a.len < b.len ? -1 : a.len > b.len;
}

/* Appends "a;b;c": every header name of the request, lower-cased, sorted, unique. */
static cv_err all_signed_headers(const struct sigv4_request *req, struct cv_buf *out)
{
    size_t local[STACK_HEADERS], *ix = local, n = req->nheaders, i, j;
    cv_err err = CV_OK;

    if (n == 0) {
        return CV_EINVAL; /* at least host is signed */
    }
    if (n > STACK_HEADERS) {
        ix = cv_malloc(n * sizeof(*ix));
        if (!ix) {
            return CV_ENOMEM;
        }
    }
    for (i = 0; i < n; i++) {
        size_t t = i;
        j = i;
        while (j > 0 && lower_cmp(req->headers[ix[j - 1]].name, req->headers[t].name) > 0) {
            ix[j] = ix[j - 1];
            j--;
        }
        ix[j] = t;
    }
    for (i = 0; i < n && !err; i++) {
        struct cv_str nm = req->headers[ix[i]].name;
        if (nm.len == 0) {
            err = CV_EINVAL;
            break;
        }
        if (i && lower_cmp(req->headers[ix[i - 1]].name, nm) == 0) {
            continue;
        }
        if (i) {
            err = addc(out, ';');
        }
        if (!err) {
            err = put_lower(out, nm);
        }
    }
    if (ix != local) {
        cv_free(ix);
    }
    return err;
}

cv_err sigv4_canonical_request(const struct sigv4_request *req, const struct sigv4_parsed *p,
                               unsigned flags, struct cv_buf *out)
{
    struct cv_buf sh = CV_BUF_INIT(64 * 1024);
    cv_err err;

    if (p) {
        bool q = p->kind == SIGV4_AUTH_QUERY;
        return canon_build(req, p->signed_headers, q, flags, payload_line(req, q), out);
    }
    err = all_signed_headers(req, &sh);
    if (!err) {
        err = canon_build(req, (struct cv_str){sh.ptr, sh.len}, false, flags,
                          payload_line(req, false), out);
    }
    cv_buf_release(&sh);
    return err;
}

/* ------------------------------------------------------- string to sign */

static void hash_hex(const void *data, size_t len, char out[65])
{
    uint8_t h[CV_SHA256_LEN];

    cv_sha256(data, len, h);
    cv_hex_encode(h, sizeof(h), out);
}

cv_err sigv4_string_to_sign(struct cv_str amz_date, const struct sigv4_scope *scope,
                            struct cv_str canonical_request, struct cv_buf *out)
{
    char hx[65];
    cv_err err;

    hash_hex(canonical_request.ptr, canonical_request.len, hx);
    err = cv_buf_addf(out, "%s\n%.*s\n%.*s/%.*s/%.*s/aws4_request\n%s", SIGV4_ALGORITHM,
                      (int)amz_date.len, amz_date.ptr, (int)scope->date.len, scope->date.ptr,
                      (int)scope->region.len, scope->region.ptr, (int)scope->service.len,
                      scope->service.ptr, hx);
    return err;
}

/* HMAC(key, string to sign) without assembling the string. */
static void sign_sts(const struct sigv4_signing_key *key, const char amz_date[16],
                     const struct sigv4_scope *scope, const char creq_hex[64],
                     uint8_t out[CV_SHA256_LEN])
{
    struct sigv4_mac m;

    sigv4_mac_init(&m, key);
    sigv4_mac_add(&m, SIGV4_ALGORITHM "\n", sizeof(SIGV4_ALGORITHM));
    sigv4_mac_add(&m, amz_date, 16);
    sigv4_mac_add(&m, "\n", 1);
    sigv4_mac_add(&m, scope->date.ptr, scope->date.len);
    sigv4_mac_add(&m, "/", 1);
    sigv4_mac_add(&m, scope->region.ptr, scope->region.len);
    sigv4_mac_add(&m, "/", 1);
    sigv4_mac_add(&m, scope->service.ptr, scope->service.len);
    sigv4_mac_add(&m, "/aws4_request\n", 14);
    sigv4_mac_add(&m, creq_hex, 64);
    sigv4_mac_final(&m, key, out);
}

void sigv4_amz_date(const struct sigv4_parsed *p, char out[17])
{
    int64_t t;

    if (p->amz_date.len == 16 && cv_time_parse_amz(p->amz_date, &t) == CV_OK) {
        memcpy(out, p->amz_date.ptr, 16);
        out[16] = '\0';
        return;
    }
    cv_time_amz(p->request_time, out);
}

/* --------------------------------------------------------- derivation */

void sigv4_derive_key(struct sigv4_signing_key *out, struct cv_str secret,
                      const struct sigv4_scope *scope)
{
    uint8_t k[CV_SHA256_LEN], k2[CV_SHA256_LEN];
    uint8_t kbuf[64];
    struct cv_hmac_sha256_key hk;

    if (secret.len + 4 <= sizeof(kbuf)) {
        memcpy(kbuf, "AWS4", 4);
        if (secret.len) {
            memcpy(kbuf + 4, secret.ptr, secret.len);
        }
        cv_hmac_sha256_key_init(&hk, kbuf, secret.len + 4);
    } else {
        /* A long key is hashed by HMAC anyway; do it without a copy. */
        struct cv_sha256 c;
        cv_sha256_init(&c);
        cv_sha256_update(&c, "AWS4", 4);
        cv_sha256_update(&c, secret.ptr, secret.len);
        cv_sha256_final(&c, kbuf);
        cv_hmac_sha256_key_init(&hk, kbuf, CV_SHA256_LEN);
    }
    cv_hmac_sha256_key_mac(&hk, scope->date.ptr, scope->date.len, k);
    cv_hmac_sha256(k, sizeof(k), scope->region.ptr, scope->region.len, k2);
    cv_hmac_sha256(k2, sizeof(k2), scope->service.ptr, scope->service.len, k);
    cv_hmac_sha256(k, sizeof(k), "aws4_request", 12, k2);
    cv_hmac_sha256_key_init(&out->mac, k2, sizeof(k2));
    cv_secure_zero(kbuf, sizeof(kbuf));
    cv_secure_zero(k, sizeof(k));
    cv_secure_zero(k2, sizeof(k2));
    cv_secure_zero(&hk, sizeof(hk));
}

/* ------------------------------------------------------------- verify */

cv_err sigv4_verify(const struct sigv4_request *req, const struct sigv4_parsed *p,
                    const struct sigv4_signing_key *key, unsigned flags, struct cv_buf *scratch)
{
    bool q = p->kind == SIGV4_AUTH_QUERY;
    char date[17], hx[65];
    uint8_t sig[CV_SHA256_LEN];
    size_t clen;
    cv_err err;

    if (p->kind == SIGV4_AUTH_NONE) {
        return CV_EINVAL;
    }
    cv_buf_reset(scratch);
    err = canon_build(req, p->signed_headers, q, flags, payload_line(req, q), scratch);
    if (err) {
        return err;
    }
    clen = scratch->len;
    hash_hex(scratch->ptr, clen, hx);
    sigv4_amz_date(p, date);
    sign_sts(key, date, &p->scope, hx, sig);
    if (cv_ct_equal(sig, p->signature, sizeof(sig))) {
        return CV_OK;
    }
    /* For the error body: canonical request, NUL, string to sign. */
    err = cv_buf_addc(scratch, '\0');
    if (!err) {
        err = sigv4_string_to_sign((struct cv_str){date, 16}, &p->scope,
                                   (struct cv_str){scratch->ptr, clen}, scratch);
    }
    return err ? err : CV_S3_SIGNATURE_DOES_NOT_MATCH;
}

/* -------------------------------------------------------------- signing */

static cv_err check_amz_date(struct cv_str amz_date)
{
    int64_t t;

    return cv_time_parse_amz(amz_date, &t) == CV_OK ? CV_OK : CV_EINVAL;
}

cv_err sigv4_sign(const struct sigv4_request *req, const struct sigv4_credentials *cred,
                  struct cv_str region, struct cv_str service, struct cv_str amz_date,
                  unsigned flags, struct cv_buf *authorization)
{
    struct cv_buf sh = CV_BUF_INIT(64 * 1024), cr = CV_BUF_INIT(16 * 1024 * 1024);
    struct sigv4_scope scope = {{amz_date.ptr, 8}, region, service};
    struct sigv4_signing_key key;
    uint8_t sig[CV_SHA256_LEN];
    char hx[65];
    cv_err err = check_amz_date(amz_date);

    if (!err) {
        err = all_signed_headers(req, &sh);
    }
    if (!err) {
        err = canon_build(req, (struct cv_str){sh.ptr, sh.len}, false, flags,
                          payload_line(req, false), &cr);
    }
    if (!err) {
        hash_hex(cr.ptr, cr.len, hx);
        sigv4_derive_key(&key, cred->secret, &scope);
        sign_sts(&key, amz_date.ptr, &scope, hx, sig);
        cv_secure_zero(&key, sizeof(key));
        cv_hex_encode(sig, sizeof(sig), hx);
        err = cv_buf_addf(authorization,
                          "%s Credential=%.*s/%.8s/%.*s/%.*s/aws4_request, SignedHeaders=%s, "
                          "Signature=%s",
                          SIGV4_ALGORITHM, (int)cred->access_key_id.len, cred->access_key_id.ptr,
                          amz_date.ptr, (int)region.len, region.ptr, (int)service.len, service.ptr,
                          sh.ptr, hx);
    }
    cv_buf_release(&sh);
    cv_buf_release(&cr);
    return err;
}

static cv_err add_param(struct cv_buf *q, const char *key, struct cv_str value)
{
    cv_err err = CV_OK;

    if (q->len) {
        err = cv_buf_addc(q, '&');
    }
    if (!err) {
        err = cv_buf_adds(q, key);
    }
    if (!err) {
        err = cv_buf_addc(q, '=');
    }
    if (!err) {
        err = put_enc(q, value, false, false);
    }
    return err;
}

cv_err sigv4_presign_ex(const struct sigv4_request *req, const struct sigv4_credentials *cred,
                        struct cv_str region, struct cv_str service, struct cv_str amz_date,
                        int64_t expires_s, unsigned flags, struct cv_buf *query_out)
{
    struct cv_buf sh = CV_BUF_INIT(64 * 1024), q = CV_BUF_INIT(1024 * 1024),
                  cr = CV_BUF_INIT(16 * 1024 * 1024), tmp = CV_BUF_INIT(4096);
    struct sigv4_scope scope = {{amz_date.ptr, 8}, region, service};
    struct sigv4_request r2 = *req;
    struct sigv4_signing_key key;
    uint8_t sig[CV_SHA256_LEN];
    char hx[65], num[24];
    cv_err err = check_amz_date(amz_date);

    if (!err && (expires_s < 1 || expires_s > SIGV4_MAX_EXPIRES_S)) {
        err = CV_EINVAL;
    }
    if (!err) {
        err = all_signed_headers(req, &sh);
    }
    if (!err && req->raw_query.len) {
        err = cv_buf_add(&q, req->raw_query.ptr, req->raw_query.len);
    }
    if (!err) {
        err = add_param(&q, "X-Amz-Algorithm", CV_STR(SIGV4_ALGORITHM));
    }
    if (!err) {
        err = cv_buf_addf(&tmp, "%.*s/%.8s/%.*s/%.*s/aws4_request", (int)cred->access_key_id.len,
                          cred->access_key_id.ptr, amz_date.ptr, (int)region.len, region.ptr,
                          (int)service.len, service.ptr);
    }
    if (!err) {
        err = add_param(&q, "X-Amz-Credential", (struct cv_str){tmp.ptr, tmp.len});
    }
    if (!err) {
        err = add_param(&q, "X-Amz-Date", amz_date);
    }
    if (!err) {
        int n = snprintf(num, sizeof(num), "%lld", (long long)expires_s);
        err = add_param(&q, "X-Amz-Expires", (struct cv_str){num, (size_t)n});
    }
    if (!err) {
        err = add_param(&q, "X-Amz-SignedHeaders", (struct cv_str){sh.ptr, sh.len});
    }
    if (!err && cred->session_token.len) {
        err = add_param(&q, "X-Amz-Security-Token", cred->session_token);
    }
    if (!err) {
        r2.raw_query = (struct cv_str){q.ptr, q.len};
        err = canon_build(
            &r2, (struct cv_str){sh.ptr, sh.len}, true, flags,
            req->payload_hash.len ? req->payload_hash : CV_STR(SIGV4_UNSIGNED_PAYLOAD), &cr);
    }
    if (!err) {
        hash_hex(cr.ptr, cr.len, hx);
        sigv4_derive_key(&key, cred->secret, &scope);
        sign_sts(&key, amz_date.ptr, &scope, hx, sig);
        cv_secure_zero(&key, sizeof(key));
        cv_hex_encode(sig, sizeof(sig), hx);
        err = add_param(&q, "X-Amz-Signature", (struct cv_str){hx, 64});
    }
    if (!err) {
        err = cv_buf_add(query_out, q.ptr, q.len);
    }
    cv_buf_release(&sh);
    cv_buf_release(&q);
    cv_buf_release(&cr);
    cv_buf_release(&tmp);
    return err;
}

cv_err sigv4_presign(const struct sigv4_request *req, const struct sigv4_credentials *cred,
                     struct cv_str region, struct cv_str service, struct cv_str amz_date,
                     int64_t expires_s, struct cv_buf *query_out)
{
    struct sigv4_request r2 = *req;

    r2.payload_hash = CV_STR(SIGV4_UNSIGNED_PAYLOAD);
    return sigv4_presign_ex(&r2, cred, region, service, amz_date, expires_s, 0, query_out);
}
