/*
 * The aws-chunked body decoder (STREAMING-AWS4-HMAC-SHA256-PAYLOAD,
 * ...-PAYLOAD-TRAILER, STREAMING-UNSIGNED-PAYLOAD-TRAILER): a byte-driven
 * state machine that accepts the body split anywhere and keeps only one line
 * (chunk header or trailer) plus hash states in memory.
 */
#include "sigv4/sigv4_int.h"

#include <string.h>

enum {
    CK_SIZE = 0, /* reading a chunk-size line */
    CK_DATA,     /* chunk_left bytes of data to come */
    CK_DATA_CR,  /* the CRLF after the data */
    CK_DATA_LF,
    CK_TRAILER, /* after the final chunk: trailer lines up to an empty line */
    CK_DONE,
};

/* S3's largest single PUT; a bigger chunk is a framing error. */
#define CK_MAX_CHUNK (5ull << 30)

static void sig_common(struct sigv4_mac *m, const char *alg, size_t alglen, struct cv_str amz_date,
                       struct cv_str scope, struct cv_str prev_sig)
{
    sigv4_mac_add(m, alg, alglen);
    sigv4_mac_add(m, "\n", 1);
    sigv4_mac_add(m, amz_date.ptr, amz_date.len);
    sigv4_mac_add(m, "\n", 1);
    sigv4_mac_add(m, scope.ptr, scope.len);
    sigv4_mac_add(m, "\n", 1);
    sigv4_mac_add(m, prev_sig.ptr, prev_sig.len);
    sigv4_mac_add(m, "\n", 1);
}

void sigv4_chunk_signature(const struct sigv4_signing_key *key, struct cv_str amz_date,
                           struct cv_str scope, struct cv_str prev_sig,
                           const uint8_t data_sha256[CV_SHA256_LEN], char out[65])
{
    static const char alg[] = "AWS4-HMAC-SHA256-PAYLOAD";
    struct sigv4_mac m;
    uint8_t sig[CV_SHA256_LEN];
    char hx[65];

    sigv4_mac_init(&m, key);
    sig_common(&m, alg, sizeof(alg) - 1, amz_date, scope, prev_sig);
    sigv4_mac_add(&m, SIGV4_EMPTY_SHA256 "\n", sizeof(SIGV4_EMPTY_SHA256));
    cv_hex_encode(data_sha256, CV_SHA256_LEN, hx);
    sigv4_mac_add(&m, hx, 64);
    sigv4_mac_final(&m, key, sig);
    cv_hex_encode(sig, sizeof(sig), out);
}

void sigv4_trailer_signature(const struct sigv4_signing_key *key, struct cv_str amz_date,
                             struct cv_str scope, struct cv_str prev_sig,
                             const uint8_t trailer_sha256[CV_SHA256_LEN], char out[65])
{
    static const char alg[] = "AWS4-HMAC-SHA256-TRAILER";
    struct sigv4_mac m;
    uint8_t sig[CV_SHA256_LEN];
    char hx[65];

    sigv4_mac_init(&m, key);
    sig_common(&m, alg, sizeof(alg) - 1, amz_date, scope, prev_sig);
    cv_hex_encode(trailer_sha256, CV_SHA256_LEN, hx);
    sigv4_mac_add(&m, hx, 64);
    sigv4_mac_final(&m, key, sig);
    cv_hex_encode(sig, sizeof(sig), out);
}

enum sigv4_stream_mode sigv4_stream_mode_of(struct cv_str v)
{
    v = cv_str_trim(v);
    if (cv_str_eq_c(v, SIGV4_STREAMING_SIGNED)) {
        return SIGV4_STREAM_SIGNED;
    }
    if (cv_str_eq_c(v, SIGV4_STREAMING_SIGNED_TRAILER)) {
        return SIGV4_STREAM_SIGNED_TRAILER;
    }
    if (cv_str_eq_c(v, SIGV4_STREAMING_UNSIGNED_TRAILER)) {
        return SIGV4_STREAM_UNSIGNED_TRAILER;
    }
    return (enum sigv4_stream_mode)0;
}

static bool is_signed(const struct sigv4_chunked *d)
{
    return d->mode != SIGV4_STREAM_UNSIGNED_TRAILER;
}

cv_err sigv4_chunked_init(struct sigv4_chunked *d, enum sigv4_stream_mode mode,
                          const struct sigv4_signing_key *key, const struct sigv4_parsed *p,
                          struct cv_str trailer)
{
    struct cv_str rest, item;

    memset(d, 0, sizeof(*d));
    cv_buf_init(&d->trailer_text, 4096);
    if (mode != SIGV4_STREAM_SIGNED && mode != SIGV4_STREAM_SIGNED_TRAILER &&
        mode != SIGV4_STREAM_UNSIGNED_TRAILER) {
        return CV_EINVAL;
    }
    d->mode = mode;
    d->state = CK_SIZE;
    /* x-amz-trailer: one checksum header (a list of one is fine). */
    rest = cv_str_trim(trailer);
    while (rest.len) {
        enum sigv4_checksum_algo a;
        cv_str_split(rest, ',', &item, &rest);
        item = cv_str_trim(item);
        if (item.len == 0) {
            continue;
        }
        a = sigv4_checksum_from_header(item);
        if (a == SIGV4_CK_NONE || d->declared != SIGV4_CK_NONE) {
            return CV_EINVAL;
        }
        d->declared = a;
    }
    if (d->declared != SIGV4_CK_NONE && mode == SIGV4_STREAM_SIGNED) {
        return CV_EINVAL;
    }
    sigv4_checksum_init(&d->checksum, d->declared);
    if (is_signed(d)) {
        if (!key || !p || p->kind == SIGV4_AUTH_NONE) {
            return CV_EINVAL;
        }
        if (sigv4_scope_format(&p->scope, d->scope, sizeof(d->scope)) == 0) {
            return CV_EINVAL;
        }
        d->key = *key;
        sigv4_amz_date(p, d->amz_date);
        cv_hex_encode(p->signature, CV_SHA256_LEN, d->prev_sig);
    }
    return CV_OK;
}

static cv_err fail(struct sigv4_chunked *d, cv_err err)
{
    d->err = err;
    return err;
}

static struct cv_str prev(const struct sigv4_chunked *d)
{
    return (struct cv_str){d->prev_sig, 64};
}

/* Checks chunk_sig against the data hash; on success it becomes prev_sig. */
static cv_err check_chunk_sig(struct sigv4_chunked *d, const uint8_t h[CV_SHA256_LEN])
{
    char want[65];
    uint8_t a[CV_SHA256_LEN], b[CV_SHA256_LEN];

    sigv4_chunk_signature(&d->key, (struct cv_str){d->amz_date, 16}, cv_str_c(d->scope), prev(d), h,
                          want);
    if (cv_hex_decode((struct cv_str){d->chunk_sig, 64}, a, sizeof(a)) != CV_OK ||
        cv_hex_decode((struct cv_str){want, 64}, b, sizeof(b)) != CV_OK ||
        !cv_ct_equal(a, b, sizeof(a))) {
        return CV_S3_SIGNATURE_DOES_NOT_MATCH;
    }
    memcpy(d->prev_sig, want, sizeof(want));
    return CV_OK;
}

static cv_err on_size_line(struct sigv4_chunked *d, struct cv_str l)
{
    static const char ext[] = ";chunk-signature=";
    uint64_t size = 0;
    size_t i = 0;

    while (i < l.len && sigv4_hexval((unsigned char)l.ptr[i]) >= 0) {
        if (i == 16) {
            return CV_S3_INVALID_CHUNK;
        }
        size = size << 4 | (uint64_t)sigv4_hexval((unsigned char)l.ptr[i]);
        i++;
    }
    if (i == 0 || size > CK_MAX_CHUNK) {
        return CV_S3_INVALID_CHUNK;
    }
    if (is_signed(d)) {
        if (l.len - i != sizeof(ext) - 1 + 64 || memcmp(l.ptr + i, ext, sizeof(ext) - 1) != 0) {
            return CV_S3_INVALID_CHUNK;
        }
        memcpy(d->chunk_sig, l.ptr + i + sizeof(ext) - 1, 64);
        d->chunk_sig[64] = '\0';
        for (size_t k = 0; k < 64; k++) {
            if (sigv4_hexval((unsigned char)d->chunk_sig[k]) < 0) {
                return CV_S3_INVALID_CHUNK;
            }
        }
        cv_sha256_init(&d->chunk_hash);
    } else if (i < l.len && l.ptr[i] != ';') {
        /* Unsigned: only HTTP chunk extensions may follow the size. */
        return CV_S3_INVALID_CHUNK;
    }
    if (size == 0) {
        if (is_signed(d)) {
            uint8_t h[CV_SHA256_LEN];
            cv_err err;
            cv_sha256_final(&d->chunk_hash, h);
            err = check_chunk_sig(d, h);
            if (err) {
                return err;
            }
        }
        d->state = CK_TRAILER;
        return CV_OK;
    }
    d->chunk_left = size;
    d->state = CK_DATA;
    return CV_OK;
}

static cv_err check_trailer_sig(struct sigv4_chunked *d, struct cv_str sig)
{
    uint8_t h[CV_SHA256_LEN], a[CV_SHA256_LEN], b[CV_SHA256_LEN];
    char want[65];

    if (sig.len != 64 || cv_hex_decode(sig, a, sizeof(a)) != CV_OK) {
        return CV_S3_INVALID_CHUNK;
    }
    cv_sha256(d->trailer_text.ptr ? d->trailer_text.ptr : "", d->trailer_text.len, h);
    sigv4_trailer_signature(&d->key, (struct cv_str){d->amz_date, 16}, cv_str_c(d->scope), prev(d),
                            h, want);
    if (cv_hex_decode((struct cv_str){want, 64}, b, sizeof(b)) != CV_OK ||
        !cv_ct_equal(a, b, sizeof(a))) {
        return CV_S3_SIGNATURE_DOES_NOT_MATCH;
    }
    memcpy(d->prev_sig, want, sizeof(want));
    return CV_OK;
}

static cv_err end_of_trailers(struct sigv4_chunked *d)
{
    char got[SIGV4_CK_B64_MAX];

    if (d->mode == SIGV4_STREAM_SIGNED_TRAILER && !d->trailer_sig_seen) {
        return CV_S3_INVALID_CHUNK;
    }
    if (d->declared != SIGV4_CK_NONE) {
        if (d->ntrailers != 1) {
            return CV_S3_INVALID_CHUNK;
        }
        sigv4_checksum_final(&d->checksum, got);
        if (strcmp(got, d->trailers[0].value) != 0) {
            return CV_S3_BAD_CHECKSUM;
        }
    }
    d->state = CK_DONE;
    return CV_OK;
}

static cv_err on_trailer_line(struct sigv4_chunked *d, struct cv_str l)
{
    struct cv_str name, value;
    size_t i;
    cv_err err;

    if (l.len == 0) {
        if (d->declared != SIGV4_CK_NONE && d->ntrailers == 0 && !d->trailer_sig_seen &&
            !d->blank_seen) {
            d->blank_seen = true; /* "0...\r\n\r\n" then the trailers */
            return CV_OK;
        }
        return end_of_trailers(d);
    }
    if (d->mode == SIGV4_STREAM_SIGNED || d->trailer_sig_seen) {
        return CV_S3_INVALID_CHUNK;
    }
    if (!cv_str_split(l, ':', &name, &value)) {
        return CV_S3_INVALID_CHUNK;
    }
    name = cv_str_trim(name);
    value = cv_str_trim(value);
    if (d->mode == SIGV4_STREAM_SIGNED_TRAILER && cv_str_eq_ci_c(name, "x-amz-trailer-signature")) {
        err = check_trailer_sig(d, value);
        if (!err) {
            d->trailer_sig_seen = true;
        }
        return err;
    }
    if (d->declared == SIGV4_CK_NONE || sigv4_checksum_from_header(name) != d->declared ||
        d->ntrailers >= 1 || name.len >= sizeof(d->trailers[0].name) ||
        value.len >= sizeof(d->trailers[0].value) || value.len == 0) {
        return CV_S3_INVALID_CHUNK;
    }
    for (i = 0; i < name.len; i++) {
        char c = name.ptr[i];
        d->trailers[d->ntrailers].name[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    d->trailers[d->ntrailers].name[name.len] = '\0';
    memcpy(d->trailers[d->ntrailers].value, value.ptr, value.len);
    d->trailers[d->ntrailers].value[value.len] = '\0';
    if (d->mode == SIGV4_STREAM_SIGNED_TRAILER) {
        err = cv_buf_addf(&d->trailer_text, "%s:%s\n", d->trailers[d->ntrailers].name,
                          d->trailers[d->ntrailers].value);
        if (err) {
            return err;
        }
    }
    d->ntrailers++;
    return CV_OK;
}

/* Takes bytes into the line buffer; returns the complete line (without CRLF) when there is one. */
static cv_err take_line(struct sigv4_chunked *d, const char **data, size_t *len, bool *complete,
                        struct cv_str *line)
{
    const char *nl = memchr(*data, '\n', *len);
    size_t n = nl ? (size_t)(nl - *data) + 1 : *len;

    *complete = false;
    if (n > sizeof(d->line) - d->line_len) {
        return CV_S3_INVALID_CHUNK; /* overlong line */
    }
    memcpy(d->line + d->line_len, *data, n);
    d->line_len += n;
    *data += n;
    *len -= n;
    if (!nl) {
        return CV_OK;
    }
    if (d->line_len < 2 || d->line[d->line_len - 2] != '\r') {
        return CV_S3_INVALID_CHUNK;
    }
    *line = (struct cv_str){d->line, d->line_len - 2};
    d->line_len = 0;
    *complete = true;
    return CV_OK;
}

cv_err sigv4_chunked_feed(struct sigv4_chunked *d, const char *data, size_t len, sigv4_data_cb cb,
                          void *ud)
{
    cv_err err = CV_OK;

    if (d->err) {
        return d->err;
    }
    while (len && !err) {
        switch (d->state) {
        case CK_SIZE:
        case CK_TRAILER: {
            struct cv_str line;
            bool complete;
            err = take_line(d, &data, &len, &complete, &line);
            if (!err && complete) {
                err = d->state == CK_SIZE ? on_size_line(d, line) : on_trailer_line(d, line);
            }
            break;
        }
        case CK_DATA: {
            size_t n = (size_t)CV_MIN((uint64_t)len, d->chunk_left);
            err = cb ? cb(ud, data, n) : CV_OK;
            if (err) {
                break;
            }
            if (is_signed(d)) {
                cv_sha256_update(&d->chunk_hash, data, n);
            }
            sigv4_checksum_update(&d->checksum, data, n);
            d->decoded_total += n;
            d->chunk_left -= n;
            data += n;
            len -= n;
            if (d->chunk_left == 0) {
                if (is_signed(d)) {
                    uint8_t h[CV_SHA256_LEN];
                    cv_sha256_final(&d->chunk_hash, h);
                    err = check_chunk_sig(d, h);
                }
                d->state = CK_DATA_CR;
            }
            break;
        }
        case CK_DATA_CR:
            if (*data != '\r') {
                err = CV_S3_INVALID_CHUNK;
                break;
            }
            data++;
            len--;
            d->state = CK_DATA_LF;
            break;
        case CK_DATA_LF:
            if (*data != '\n') {
                err = CV_S3_INVALID_CHUNK;
                break;
            }
            data++;
            len--;
            d->state = CK_SIZE;
            break;
        case CK_DONE:
        default:
            err = CV_S3_INVALID_CHUNK; /* bytes after the end */
            break;
        }
    }
    return err ? fail(d, err) : CV_OK;
}

cv_err sigv4_chunked_finish(struct sigv4_chunked *d)
{
    if (d->err) {
        return d->err;
    }
    if (d->state != CK_DONE) {
        return fail(d, CV_S3_INCOMPLETE_BODY);
    }
    return CV_OK;
}

enum sigv4_checksum_algo sigv4_chunked_checksum(const struct sigv4_chunked *d, const char **b64)
{
    if (d->state != CK_DONE || d->err || d->ntrailers == 0) {
        if (b64) {
            *b64 = NULL;
        }
        return SIGV4_CK_NONE;
    }
    if (b64) {
        *b64 = d->trailers[0].value;
    }
    return d->declared;
}

void sigv4_chunked_release(struct sigv4_chunked *d)
{
    if (!d) {
        return;
    }
    cv_buf_release(&d->trailer_text);
    cv_secure_zero(&d->key, sizeof(d->key));
}
