/*
 * Fuzzes the aws-chunked decoder in its three modes.
 *
 * Byte 0: bits 0-1 mode, bit 2 "generate" (build a valid body from the rest
 * of the input with our own signer, then change one byte of it), bits 3-5
 * the trailer checksum; byte 1: split seed. Every body is decoded whole and
 * split at pseudo-random points: both runs must agree on the result, the
 * decoded bytes and their count. An unchanged generated body must decode to
 * exactly its payload.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4/sigv4.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define AMZ "20130524T000000Z"
#define SCOPE "20130524/us-east-1/s3/aws4_request"
#define SEED "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"

struct sink {
    struct cv_sha256 h;
    size_t n;
};

static cv_err sink_cb(void *ud, const char *data, size_t len)
{
    struct sink *s = ud;
    cv_sha256_update(&s->h, data, len);
    s->n += len;
    return CV_OK;
}

struct result {
    cv_err err;
    uint8_t digest[CV_SHA256_LEN];
    size_t n;
    uint64_t total;
};

static void setup(struct sigv4_signing_key *key, struct sigv4_parsed *p)
{
    static const struct sigv4_scope scope = {{"20130524", 8}, {"us-east-1", 9}, {"s3", 2}};

    memset(p, 0, sizeof(*p));
    p->kind = SIGV4_AUTH_HEADER;
    p->scope = scope;
    p->amz_date = CV_STR(AMZ);
    (void)cv_time_parse_amz(p->amz_date, &p->request_time);
    (void)cv_hex_decode(CV_STR(SEED), p->signature, CV_SHA256_LEN);
    sigv4_derive_key(key, CV_STR(SECRET), &scope);
}

static struct result decode(enum sigv4_stream_mode mode, const char *trailer, const char *body,
                            size_t len, uint32_t split_seed)
{
    struct sigv4_chunked d;
    struct sigv4_signing_key key;
    struct sigv4_parsed p;
    struct sink s;
    struct result r;
    size_t off = 0;

    memset(&r, 0, sizeof(r));
    setup(&key, &p);
    cv_sha256_init(&s.h);
    s.n = 0;
    r.err = sigv4_chunked_init(&d, mode, &key, &p, cv_str_c(trailer));
    while (!r.err && off < len) {
        size_t n = len - off;
        if (split_seed) {
            split_seed ^= split_seed << 13;
            split_seed ^= split_seed >> 17;
            split_seed ^= split_seed << 5;
            n = CV_MIN(n, (size_t)(split_seed % 97) + 1);
        }
        r.err = sigv4_chunked_feed(&d, body + off, n, sink_cb, &s);
        off += n;
    }
    if (!r.err) {
        r.err = sigv4_chunked_finish(&d);
    }
    r.total = d.decoded_total;
    sigv4_chunked_release(&d);
    cv_sha256_final(&s.h, r.digest);
    r.n = s.n;
    return r;
}

/* A valid body for @p payload: chunk sizes taken from the payload bytes. */
static void generate(struct cv_buf *out, enum sigv4_stream_mode mode, enum sigv4_checksum_algo algo,
                     const uint8_t *payload, size_t len)
{
    struct sigv4_signing_key key;
    struct sigv4_parsed p;
    struct sigv4_checksum ck;
    char prev[65] = SEED, sig[65], b64[SIGV4_CK_B64_MAX];
    uint8_t h[CV_SHA256_LEN];
    size_t off = 0;
    bool sign = mode != SIGV4_STREAM_UNSIGNED_TRAILER;

    setup(&key, &p);
    sigv4_checksum_init(&ck, algo);
    sigv4_checksum_update(&ck, payload, len);
    sigv4_checksum_final(&ck, b64);
    for (;;) {
        size_t n = off < len ? CV_MIN(len - off, (size_t)payload[off] % 64 + 1) : 0;
        if (sign) {
            cv_sha256(payload + off, n, h);
            sigv4_chunk_signature(&key, CV_STR(AMZ), CV_STR(SCOPE), (struct cv_str){prev, 64}, h,
                                  sig);
            memcpy(prev, sig, sizeof(sig));
            (void)cv_buf_addf(out, "%zx;chunk-signature=%s\r\n", n, sig);
        } else {
            (void)cv_buf_addf(out, "%zx\r\n", n);
        }
        if (n == 0) {
            break;
        }
        (void)cv_buf_add(out, payload + off, n);
        (void)cv_buf_adds(out, "\r\n");
        off += n;
    }
    if (algo != SIGV4_CK_NONE) {
        (void)cv_buf_addf(out, "%s:%s\r\n", sigv4_checksum_header(algo), b64);
    }
    if (mode == SIGV4_STREAM_SIGNED_TRAILER) {
        char canon[128];
        int n = algo != SIGV4_CK_NONE
                    ? snprintf(canon, sizeof(canon), "%s:%s\n", sigv4_checksum_header(algo), b64)
                    : 0;
        cv_sha256(canon, (size_t)n, h);
        sigv4_trailer_signature(&key, CV_STR(AMZ), CV_STR(SCOPE), (struct cv_str){prev, 64}, h,
                                sig);
        (void)cv_buf_addf(out, "x-amz-trailer-signature:%s\r\n", sig);
    }
    (void)cv_buf_adds(out, "\r\n");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum sigv4_stream_mode modes[] = {SIGV4_STREAM_SIGNED, SIGV4_STREAM_SIGNED_TRAILER,
                                                   SIGV4_STREAM_UNSIGNED_TRAILER,
                                                   SIGV4_STREAM_UNSIGNED_TRAILER};
    enum sigv4_stream_mode mode;
    enum sigv4_checksum_algo algo;
    const char *trailer;
    struct cv_buf gen = CV_BUF_INIT(1 << 20);
    const char *body;
    size_t len;
    struct result a, b;
    bool pristine = false;

    if (size < 2) {
        return 0;
    }
    mode = modes[data[0] & 3u];
    algo = (enum sigv4_checksum_algo)((data[0] >> 3) % 6);
    if (mode == SIGV4_STREAM_SIGNED) {
        algo = SIGV4_CK_NONE;
    }
    trailer = algo ? sigv4_checksum_header(algo) : "";
    body = (const char *)data + 2;
    len = size - 2;
    if (data[0] & 4u) {
        generate(&gen, mode, algo, data + 2, size - 2);
        if (gen.ptr == NULL) {
            return 0;
        }
        /* Change one byte, chosen by the split seed, unless it points past the end. */
        if (data[1] < gen.len && data[1] != 0) {
            gen.ptr[data[1]] ^= (char)(data[size - 1] | 1);
        } else {
            pristine = true;
        }
        body = gen.ptr;
        len = gen.len;
    }
    a = decode(mode, trailer, body, len, 0);
    b = decode(mode, trailer, body, len, (uint32_t)data[1] * 2654435761u + 1u);
    if (a.err != b.err || a.n != b.n || a.total != b.total ||
        memcmp(a.digest, b.digest, sizeof(a.digest)) != 0) {
        abort();
    }
    if (a.n != a.total) {
        abort();
    }
    if (pristine) {
        uint8_t want[CV_SHA256_LEN];
        cv_sha256(data + 2, size - 2, want);
        if (a.err != CV_OK || a.n != size - 2 || memcmp(a.digest, want, sizeof(want)) != 0) {
            abort();
        }
    }
    cv_buf_release(&gen);
    return 0;
}
