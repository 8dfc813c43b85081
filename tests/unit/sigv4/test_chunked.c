/*
 * The aws-chunked decoder and the checksums: the S3 example chunk sequence,
 * unsigned-trailer and signed-trailer bodies for every checksum, fed whole,
 * a byte at a time, split at every point and at random points; the framing
 * and signature errors; constant memory.
 */
#include "sigv4/sigv4.h"
#include "test.h"
#include "sv_test.h"

#define AMZ "20130524T000000Z"
#define SCOPE "20130524/us-east-1/s3/aws4_request"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

static const struct sigv4_scope scope = {{"20130524", 8}, {"us-east-1", 9}, {"s3", 2}};

/* A parsed seed request as the decoder needs it (signature, date, scope). */
static void seed_parsed(struct sigv4_parsed *p, const char seed_hex[64])
{
    memset(p, 0, sizeof(*p));
    p->kind = SIGV4_AUTH_HEADER;
    p->scope = scope;
    p->amz_date = CV_STR(AMZ);
    assert_int_equal(cv_time_parse_amz(p->amz_date, &p->request_time), CV_OK);
    assert_int_equal(cv_hex_decode((struct cv_str){seed_hex, 64}, p->signature, 32), CV_OK);
    p->signature_hex = (struct cv_str){seed_hex, 64};
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ------------------------------------------------------------- encoders */

struct enc_opts {
    enum sigv4_stream_mode mode;
    enum sigv4_checksum_algo algo; /* trailer checksum or NONE */
    size_t chunk;                  /* data bytes per chunk */
    const char *seed;              /* signed modes */
    bool blank_before_trailer;     /* the s3s-style extra CRLF */
    bool upper_trailer_name;
};

/* Builds a wire body for @p data with our own signer. */
static void encode(struct cv_buf *out, const struct enc_opts *o, const char *data, size_t len,
                   char b64_out[SIGV4_CK_B64_MAX])
{
    struct sigv4_signing_key key;
    struct sigv4_checksum ck;
    char prev[65], sig[65], b64[SIGV4_CK_B64_MAX];
    uint8_t h[CV_SHA256_LEN];
    size_t off = 0;
    bool sign = o->mode != SIGV4_STREAM_UNSIGNED_TRAILER;

    sigv4_derive_key(&key, CV_STR(SECRET), &scope);
    if (sign) {
        memcpy(prev, o->seed, 64);
        prev[64] = '\0';
    }
    sigv4_checksum_init(&ck, o->algo);
    sigv4_checksum_update(&ck, data, len);
    sigv4_checksum_final(&ck, b64);
    if (b64_out) {
        memcpy(b64_out, b64, sizeof(b64));
    }
    for (;;) {
        size_t n = CV_MIN(o->chunk, len - off);
        if (sign) {
            cv_sha256(data + off, n, h);
            sigv4_chunk_signature(&key, CV_STR(AMZ), CV_STR(SCOPE), (struct cv_str){prev, 64}, h,
                                  sig);
            memcpy(prev, sig, sizeof(sig));
            assert_int_equal(cv_buf_addf(out, "%zx;chunk-signature=%s\r\n", n, sig), CV_OK);
        } else {
            assert_int_equal(cv_buf_addf(out, "%zx\r\n", n), CV_OK);
        }
        if (n == 0) {
            break;
        }
        assert_int_equal(cv_buf_add(out, data + off, n), CV_OK);
        assert_int_equal(cv_buf_adds(out, "\r\n"), CV_OK);
        off += n;
    }
    if (o->blank_before_trailer) {
        assert_int_equal(cv_buf_adds(out, "\r\n"), CV_OK);
    }
    if (o->algo != SIGV4_CK_NONE) {
        const char *hn = sigv4_checksum_header(o->algo);
        char name[64];
        snprintf(name, sizeof(name), "%s", hn);
        if (o->upper_trailer_name) {
            for (char *c = name; *c; c++) {
                *c = (*c >= 'a' && *c <= 'z') ? (char)(*c - 32) : *c;
            }
        }
        assert_int_equal(cv_buf_addf(out, "%s:%s\r\n", name, b64), CV_OK);
    }
    if (o->mode == SIGV4_STREAM_SIGNED_TRAILER) {
        struct cv_buf canon = CV_BUF_INIT(4096);
        if (o->algo != SIGV4_CK_NONE) {
            assert_int_equal(cv_buf_addf(&canon, "%s:%s\n", sigv4_checksum_header(o->algo), b64),
                             CV_OK);
        }
        cv_sha256(canon.ptr ? canon.ptr : "", canon.len, h);
        sigv4_trailer_signature(&key, CV_STR(AMZ), CV_STR(SCOPE), (struct cv_str){prev, 64}, h,
                                sig);
        assert_int_equal(cv_buf_addf(out, "x-amz-trailer-signature:%s\r\n", sig), CV_OK);
        cv_buf_release(&canon);
    }
    assert_int_equal(cv_buf_adds(out, "\r\n"), CV_OK);
}

/* ------------------------------------------------------------- decoding */

static cv_err collect(void *ud, const char *data, size_t len)
{
    return cv_buf_add(ud, data, len);
}

/*
 * Decodes @p body fed in the pieces given by @p cuts (sorted offsets) and
 * returns the first error (feed or finish). The decoded bytes land in @p out.
 */
static cv_err decode_cuts(const struct enc_opts *o, const char *seed, const char *body, size_t len,
                          const size_t *cuts, size_t ncuts, struct cv_buf *out, const char *trailer,
                          struct sigv4_chunked *keep)
{
    struct sigv4_chunked d;
    struct sigv4_signing_key key;
    struct sigv4_parsed p;
    size_t prev = 0, i;
    cv_err err;

    sigv4_derive_key(&key, CV_STR(SECRET), &scope);
    if (seed) {
        seed_parsed(&p, seed);
    }
    err = sigv4_chunked_init(&d, o->mode, seed ? &key : NULL, seed ? &p : NULL,
                             trailer ? cv_str_c(trailer) : CV_STR_NULL);
    if (err) {
        sigv4_chunked_release(&d);
        return err;
    }
    for (i = 0; i <= ncuts && !err; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        err = sigv4_chunked_feed(&d, body + prev, end - prev, collect, out);
        prev = end;
    }
    if (!err) {
        err = sigv4_chunked_finish(&d);
    }
    if (keep) {
        *keep = d;
    } else {
        sigv4_chunked_release(&d);
    }
    return err;
}

static cv_err decode_whole(const struct enc_opts *o, const char *seed, const char *body, size_t len,
                           struct cv_buf *out, const char *trailer)
{
    return decode_cuts(o, seed, body, len, NULL, 0, out, trailer, NULL);
}

static cv_err decode_bytewise(const struct enc_opts *o, const char *seed, const char *body,
                              size_t len, struct cv_buf *out, const char *trailer)
{
    size_t *cuts = malloc(len * sizeof(*cuts) + 1);
    cv_err err;

    for (size_t i = 0; i < len; i++) {
        cuts[i] = i;
    }
    err = decode_cuts(o, seed, body, len, cuts, len, out, trailer, NULL);
    free(cuts);
    return err;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static cv_err decode_random(const struct enc_opts *o, const char *seed, const char *body,
                            size_t len, struct cv_buf *out, const char *trailer)
{
    size_t cuts[24], n = (size_t)(rng() % 24);

    for (size_t i = 0; i < n; i++) {
        cuts[i] = (size_t)(rng() % (len + 1));
    }
    qsort(cuts, n, sizeof(cuts[0]), cmp_size);
    return decode_cuts(o, seed, body, len, cuts, n, out, trailer, NULL);
}

/* Every way of feeding must decode @p body to @p data with @p want. */
static void check_all_feeds(const struct enc_opts *o, const char *seed, const char *body,
                            size_t len, const char *data, size_t dlen, const char *trailer,
                            cv_err want, bool every_split)
{
    struct cv_buf out = CV_BUF_INIT(SIZE_MAX / 2);

    assert_int_equal(decode_whole(o, seed, body, len, &out, trailer), want);
    if (want == CV_OK) {
        assert_int_equal(out.len, dlen);
        assert_memory_equal(out.ptr ? out.ptr : "", data, dlen);
    }
    cv_buf_reset(&out);
    assert_int_equal(decode_bytewise(o, seed, body, len, &out, trailer), want);
    if (want == CV_OK) {
        assert_int_equal(out.len, dlen);
    }
    for (int i = 0; i < 50; i++) {
        cv_buf_reset(&out);
        assert_int_equal(decode_random(o, seed, body, len, &out, trailer), want);
        if (want == CV_OK) {
            assert_int_equal(out.len, dlen);
            assert_memory_equal(out.ptr ? out.ptr : "", data, dlen);
        }
    }
    if (every_split) {
        for (size_t c = 0; c <= len; c++) {
            cv_buf_reset(&out);
            assert_int_equal(decode_cuts(o, seed, body, len, &c, 1, &out, trailer, NULL), want);
            if (want == CV_OK) {
                assert_int_equal(out.len, dlen);
            }
        }
    }
    cv_buf_release(&out);
}

/* Finds @p needle in a binary buffer (the data may hold NULs). */
static char *find(struct cv_buf *b, const char *needle)
{
    char *p = memmem(b->ptr, b->len, needle, strlen(needle));
    assert_non_null(p);
    return p;
}

static const char SEED[] = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";

static char *make_data(size_t n)
{
    char *d = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        d[i] = (char)(rng() & 0xff);
    }
    return d;
}

/* ----------------------------------------------------------------- tests */

static void test_checksum_vectors(void **state)
{
    static const struct {
        enum sigv4_checksum_algo a;
        const char *want;
    } v[] = {
        /* check values of "123456789" from the CRC catalogue / hashlib, as base64 of BE bytes */
        {SIGV4_CK_CRC32, "y/Q5Jg=="},
        {SIGV4_CK_CRC32C, "4waSgw=="},
        {SIGV4_CK_CRC64NVME, "rosUhgp5mIg="},
        {SIGV4_CK_SHA1, "98O8HYCOBHMq32eZZczDTKeuNEE="},
        {SIGV4_CK_SHA256, "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU="},
    };
    CV_UNUSED(state);
    for (size_t i = 0; i < CV_ARRAY_LEN(v); i++) {
        struct sigv4_checksum c;
        char out[SIGV4_CK_B64_MAX];
        sigv4_checksum_init(&c, v[i].a);
        sigv4_checksum_update(&c, "1234", 4);
        sigv4_checksum_update(&c, "56789", 5);
        sigv4_checksum_final(&c, out);
        assert_string_equal(out, v[i].want);
        assert_int_equal(sigv4_checksum_from_header(cv_str_c(sigv4_checksum_header(v[i].a))),
                         v[i].a);
        assert_int_equal(sigv4_checksum_from_name(cv_str_c(sigv4_checksum_name(v[i].a))), v[i].a);
    }
    assert_int_equal(sigv4_checksum_from_header(CV_STR("X-Amz-Checksum-CRC32C")), SIGV4_CK_CRC32C);
    assert_int_equal(sigv4_checksum_from_name(CV_STR("crc64nvme")), SIGV4_CK_CRC64NVME);
    assert_int_equal(sigv4_checksum_from_header(CV_STR("x-amz-checksum-md5")), SIGV4_CK_NONE);
    assert_int_equal(sigv4_checksum_from_name(CV_STR("MD5")), SIGV4_CK_NONE);
    assert_int_equal(sigv4_stream_mode_of(CV_STR(SIGV4_STREAMING_SIGNED)), SIGV4_STREAM_SIGNED);
    assert_int_equal(sigv4_stream_mode_of(CV_STR(SIGV4_STREAMING_SIGNED_TRAILER)),
                     SIGV4_STREAM_SIGNED_TRAILER);
    assert_int_equal(sigv4_stream_mode_of(CV_STR(SIGV4_STREAMING_UNSIGNED_TRAILER)),
                     SIGV4_STREAM_UNSIGNED_TRAILER);
    assert_int_equal(sigv4_stream_mode_of(CV_STR(SIGV4_UNSIGNED_PAYLOAD)), 0);
    assert_int_equal(sigv4_stream_mode_of(CV_STR(SIGV4_EMPTY_SHA256)), 0);
}

/* The S3 documentation's chunk sequence, built from s3-examples.md's signatures. */
static void test_s3_example_sequence(void **state)
{
    const char *shared;
    char *md, sigs[3][65], seed[65];
    size_t mdlen;
    struct cv_buf body = CV_BUF_INIT(1 << 20);
    static char data[66560];
    const size_t sizes[3] = {65536, 1024, 0};
    struct enc_opts o = {SIGV4_STREAM_SIGNED, SIGV4_CK_NONE, 0, NULL, false, false};
    size_t off = 0;

    CV_UNUSED(state);
    CV_REQUIRE_SHARED(shared);
    md = sv_read_filef(&mdlen, "%s/testdata/sigv4/s3-examples.md", shared);
    assert_non_null(md);
    {
        const char *p = strstr(md, "Seed signature:");
        assert_non_null(p);
        p = strchr(p, '`');
        memcpy(seed, p + 1, 64);
        seed[64] = '\0';
    }
    for (int i = 0; i < 3; i++) {
        char key[16];
        const char *p, *eol, *last = NULL;
        snprintf(key, sizeof(key), "\n| %d |", i + 1);
        p = strstr(md, key);
        assert_non_null(p);
        eol = strchr(p + 1, '\n');
        for (const char *q = strchr(p, '`'); q && q < eol; q = strchr(q + 1, '`')) {
            last = q;
        }
        assert_non_null(last);
        memcpy(sigs[i], last - 64, 64);
        sigs[i][64] = '\0';
    }
    memset(data, 'a', sizeof(data));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(cv_buf_addf(&body, "%zx;chunk-signature=%s\r\n", sizes[i], sigs[i]),
                         CV_OK);
        assert_int_equal(cv_buf_add(&body, data + off, sizes[i]), CV_OK);
        assert_int_equal(cv_buf_adds(&body, "\r\n"), CV_OK);
        off += sizes[i];
    }
    /* The example's content-length: 66824. */
    assert_int_equal(body.len, 66824);
    check_all_feeds(&o, seed, body.ptr, body.len, data, sizeof(data), NULL, CV_OK, false);
    /* Our own encoder produces the same bytes. */
    {
        struct cv_buf mine = CV_BUF_INIT(1 << 20);
        o.chunk = 65536;
        o.seed = seed;
        encode(&mine, &o, data, sizeof(data), NULL);
        assert_int_equal(mine.len, body.len);
        assert_memory_equal(mine.ptr, body.ptr, body.len);
        cv_buf_release(&mine);
    }
    /* A wrong chunk signature anywhere fails. */
    body.ptr[23] = body.ptr[23] == '0' ? '1' : '0'; /* in the first chunk's signature */
    check_all_feeds(&o, seed, body.ptr, body.len, NULL, 0, NULL, CV_S3_SIGNATURE_DOES_NOT_MATCH,
                    false);
    cv_buf_release(&body);
    cv_free(md);
}

static const enum sigv4_checksum_algo ALL_ALGOS[] = {SIGV4_CK_CRC32, SIGV4_CK_CRC32C, SIGV4_CK_SHA1,
                                                     SIGV4_CK_SHA256, SIGV4_CK_CRC64NVME};

static void test_unsigned_trailer(void **state)
{
    size_t dlen = 2500;
    char *data = make_data(dlen);

    CV_UNUSED(state);
    for (size_t a = 0; a < CV_ARRAY_LEN(ALL_ALGOS); a++) {
        struct enc_opts o = {SIGV4_STREAM_UNSIGNED_TRAILER, ALL_ALGOS[a], 1000, NULL, false, false};
        struct cv_buf body = CV_BUF_INIT(1 << 20), out = CV_BUF_INIT(1 << 20);
        struct sigv4_chunked d;
        char b64[SIGV4_CK_B64_MAX];
        const char *got;
        const char *hn = sigv4_checksum_header(ALL_ALGOS[a]);

        encode(&body, &o, data, dlen, b64);
        check_all_feeds(&o, NULL, body.ptr, body.len, data, dlen, hn, CV_OK, a == 0);
        assert_int_equal(decode_cuts(&o, NULL, body.ptr, body.len, NULL, 0, &out, hn, &d), CV_OK);
        assert_int_equal(sigv4_chunked_checksum(&d, &got), ALL_ALGOS[a]);
        assert_string_equal(got, b64);
        assert_int_equal(d.decoded_total, dlen);
        sigv4_chunked_release(&d);

        /* The same with the extra CRLF some encoders put before the trailer, and an upper-case
         * name. */
        cv_buf_reset(&body);
        o.blank_before_trailer = true;
        o.upper_trailer_name = true;
        encode(&body, &o, data, dlen, NULL);
        check_all_feeds(&o, NULL, body.ptr, body.len, data, dlen, hn, CV_OK, false);

        /* One changed data byte: the checksum no longer matches. */
        cv_buf_reset(&body);
        o.blank_before_trailer = false;
        o.upper_trailer_name = false;
        encode(&body, &o, data, dlen, NULL);
        body.ptr[10] ^= 0x01; /* inside the first chunk's data ("3e8\r\n" is 5 bytes) */
        check_all_feeds(&o, NULL, body.ptr, body.len, NULL, 0, hn, CV_S3_BAD_CHECKSUM, false);
        cv_buf_release(&body);
        cv_buf_release(&out);
    }
    free(data);
}

/* What @aws-sdk/client-s3 v3 sends for a stream body, written out literally. */
static void test_unsigned_literal(void **state)
{
    static const char body[] =
        "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
    struct enc_opts o = {SIGV4_STREAM_UNSIGNED_TRAILER, SIGV4_CK_CRC32, 0, NULL, false, false};
    struct cv_buf out = CV_BUF_INIT(1024);

    CV_UNUSED(state);
    check_all_feeds(&o, NULL, body, sizeof(body) - 1, "hello world", 11, "x-amz-checksum-crc32",
                    CV_OK, true);
    /* Without a declared trailer the same body is refused (undeclared trailer). */
    assert_int_equal(decode_whole(&o, NULL, body, sizeof(body) - 1, &out, NULL),
                     CV_S3_INVALID_CHUNK);
    /* No trailer at all, none declared: fine. */
    cv_buf_reset(&out);
    assert_int_equal(decode_whole(&o, NULL, "3\r\nabc\r\n0\r\n\r\n", 13, &out, NULL), CV_OK);
    assert_int_equal(out.len, 3);
    /* HTTP chunk extensions are ignored in unsigned mode. */
    cv_buf_reset(&out);
    assert_int_equal(decode_whole(&o, NULL, "3;x=y\r\nabc\r\n0\r\n\r\n", 17, &out, NULL), CV_OK);
    cv_buf_release(&out);
}

static void test_signed_trailer(void **state)
{
    size_t dlen = 3000;
    char *data = make_data(dlen);

    CV_UNUSED(state);
    for (size_t a = 0; a < CV_ARRAY_LEN(ALL_ALGOS); a++) {
        struct enc_opts o = {SIGV4_STREAM_SIGNED_TRAILER, ALL_ALGOS[a], 1024, SEED, false, false};
        struct cv_buf body = CV_BUF_INIT(1 << 20);
        const char *hn = sigv4_checksum_header(ALL_ALGOS[a]);
        char *p;

        encode(&body, &o, data, dlen, NULL);
        check_all_feeds(&o, SEED, body.ptr, body.len, data, dlen, hn, CV_OK, a == 0);

        /* Tampered trailer signature. */
        p = find(&body, "x-amz-trailer-signature:") + 24;
        p[5] = p[5] == '0' ? '1' : '0';
        check_all_feeds(&o, SEED, body.ptr, body.len, NULL, 0, hn, CV_S3_SIGNATURE_DOES_NOT_MATCH,
                        false);
        p[5] = p[5] == '0' ? '1' : '0';
        /* A tampered checksum value breaks the trailer signature first. */
        p = find(&body, hn) + strlen(hn) + 1;
        *p = *p == 'A' ? 'B' : 'A';
        check_all_feeds(&o, SEED, body.ptr, body.len, NULL, 0, hn, CV_S3_SIGNATURE_DOES_NOT_MATCH,
                        false);
        cv_buf_release(&body);
    }
    /* Signed trailer with no checksum: the signature covers an empty trailer. */
    {
        struct enc_opts o = {SIGV4_STREAM_SIGNED_TRAILER, SIGV4_CK_NONE, 700, SEED, false, false};
        struct cv_buf body = CV_BUF_INIT(1 << 20);
        encode(&body, &o, data, dlen, NULL);
        check_all_feeds(&o, SEED, body.ptr, body.len, data, dlen, NULL, CV_OK, false);
        cv_buf_release(&body);
    }
    /* Data that does not match its checksum, correctly signed: BadDigest. */
    {
        struct enc_opts o = {SIGV4_STREAM_SIGNED_TRAILER, SIGV4_CK_CRC32, 1024, SEED, false, false};
        struct cv_buf body = CV_BUF_INIT(1 << 20);
        struct sigv4_signing_key key;
        struct sigv4_checksum ck;
        char prev[65], sig[65], b64[SIGV4_CK_B64_MAX], *tp;
        uint8_t h[32];
        /* Chunks signed normally, then a trailer of a different payload, signed. */
        encode(&body, &o, data, dlen, NULL);
        tp = find(&body, "x-amz-checksum-crc32:");
        /* The final chunk's signature is on the line before the trailer. */
        memcpy(prev, tp - 2 - 64, 64);
        prev[64] = '\0';
        cv_buf_setlen(&body, (size_t)(tp - body.ptr));
        sigv4_checksum_init(&ck, SIGV4_CK_CRC32);
        sigv4_checksum_update(&ck, "other", 5);
        sigv4_checksum_final(&ck, b64);
        {
            char canon[128];
            int n = snprintf(canon, sizeof(canon), "x-amz-checksum-crc32:%s\n", b64);
            cv_sha256(canon, (size_t)n, h);
        }
        sigv4_derive_key(&key, CV_STR(SECRET), &scope);
        sigv4_trailer_signature(&key, CV_STR(AMZ), CV_STR(SCOPE), (struct cv_str){prev, 64}, h,
                                sig);
        assert_int_equal(
            cv_buf_addf(&body, "x-amz-checksum-crc32:%s\r\nx-amz-trailer-signature:%s\r\n\r\n", b64,
                        sig),
            CV_OK);
        check_all_feeds(&o, SEED, body.ptr, body.len, NULL, 0, "x-amz-checksum-crc32",
                        CV_S3_BAD_CHECKSUM, false);
        cv_buf_release(&body);
    }
    free(data);
}

static void test_signed_plain(void **state)
{
    size_t dlen = 5000;
    char *data = make_data(dlen);
    struct enc_opts o = {SIGV4_STREAM_SIGNED, SIGV4_CK_NONE, 999, SEED, false, false};
    struct cv_buf body = CV_BUF_INIT(1 << 20);

    CV_UNUSED(state);
    encode(&body, &o, data, dlen, NULL);
    check_all_feeds(&o, SEED, body.ptr, body.len, data, dlen, NULL, CV_OK, true);
    /* A different seed signature: the first chunk fails. */
    check_all_feeds(&o, "5f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
                    body.ptr, body.len, NULL, 0, NULL, CV_S3_SIGNATURE_DOES_NOT_MATCH, false);
    /* Signatures chain: without the first chunk the second one fails. */
    {
        const char *second = memmem(body.ptr + 1, body.len - 1, "3e7;chunk-signature=", 20);
        assert_non_null(second);
        check_all_feeds(&o, SEED, second, body.len - (size_t)(second - body.ptr), NULL, 0, NULL,
                        CV_S3_SIGNATURE_DOES_NOT_MATCH, false);
    }
    /* A plain signed stream carries no trailer. */
    {
        struct cv_buf out = CV_BUF_INIT(1 << 20);
        struct sigv4_chunked d;
        struct sigv4_parsed p;
        struct sigv4_signing_key key;
        seed_parsed(&p, SEED);
        sigv4_derive_key(&key, CV_STR(SECRET), &scope);
        assert_int_equal(
            sigv4_chunked_init(&d, SIGV4_STREAM_SIGNED, &key, &p, CV_STR("x-amz-checksum-crc32")),
            CV_EINVAL);
        sigv4_chunked_release(&d);
        assert_int_equal(sigv4_chunked_init(&d, SIGV4_STREAM_SIGNED, NULL, NULL, CV_STR_NULL),
                         CV_EINVAL);
        sigv4_chunked_release(&d);
        assert_int_equal(sigv4_chunked_init(&d, SIGV4_STREAM_UNSIGNED_TRAILER, NULL, NULL,
                                            CV_STR("x-amz-meta-foo")),
                         CV_EINVAL);
        sigv4_chunked_release(&d);
        assert_int_equal(sigv4_chunked_init(&d, SIGV4_STREAM_UNSIGNED_TRAILER, NULL, NULL,
                                            CV_STR("x-amz-checksum-crc32,x-amz-checksum-sha1")),
                         CV_EINVAL);
        sigv4_chunked_release(&d);
        assert_int_equal(sigv4_chunked_init(&d, (enum sigv4_stream_mode)9, NULL, NULL, CV_STR_NULL),
                         CV_EINVAL);
        sigv4_chunked_release(&d);
        cv_buf_release(&out);
    }
    cv_buf_release(&body);
    free(data);
}

/* Malformed bodies in unsigned mode (framing only). */
static void test_framing_errors(void **state)
{
    static const struct {
        const char *name, *body;
        cv_err want;
    } cases[] = {
        {"empty", "", CV_S3_INCOMPLETE_BODY},
        {"truncated size line", "3", CV_S3_INCOMPLETE_BODY},
        {"truncated data", "5\r\nhel", CV_S3_INCOMPLETE_BODY},
        {"missing final chunk", "3\r\nabc\r\n", CV_S3_INCOMPLETE_BODY},
        {"missing end of trailers", "3\r\nabc\r\n0\r\n", CV_S3_INCOMPLETE_BODY},
        {"garbage size", "zz\r\nabc\r\n0\r\n\r\n", CV_S3_INVALID_CHUNK},
        {"negative size", "-3\r\nabc\r\n0\r\n\r\n", CV_S3_INVALID_CHUNK},
        {"empty size", "\r\nabc\r\n0\r\n\r\n", CV_S3_INVALID_CHUNK},
        {"space after size", "3 \r\nabc\r\n0\r\n\r\n", CV_S3_INVALID_CHUNK},
        {"17 hex digits", "00000000000000003\r\nabc\r\n0\r\n\r\n", CV_S3_INVALID_CHUNK},
        {"over 5 GiB", "140000001\r\n", CV_S3_INVALID_CHUNK},
        {"bare LF", "3\nabc\r\n0\r\n\r\n", CV_S3_INVALID_CHUNK},
        {"data too long", "3\r\nabcd\r\n0\r\n\r\n", CV_S3_INVALID_CHUNK},
        {"data too short", "3\r\nab\r\n0\r\n\r\n", CV_S3_INVALID_CHUNK},
        {"bytes after end", "3\r\nabc\r\n0\r\n\r\nX", CV_S3_INVALID_CHUNK},
        {"trailer without colon", "3\r\nabc\r\n0\r\nnonsense\r\n\r\n", CV_S3_INVALID_CHUNK},
        {"two blank lines", "3\r\nabc\r\n0\r\n\r\n\r\n", CV_S3_INVALID_CHUNK},
    };
    struct enc_opts o = {SIGV4_STREAM_UNSIGNED_TRAILER, SIGV4_CK_NONE, 0, NULL, false, false};

    CV_UNUSED(state);
    for (size_t i = 0; i < CV_ARRAY_LEN(cases); i++) {
        struct cv_buf out = CV_BUF_INIT(1024);
        cv_err got = decode_whole(&o, NULL, cases[i].body, strlen(cases[i].body), &out, NULL);
        if (got != cases[i].want) {
            print_message("%s: got %s\n", cases[i].name, cv_err_str(got));
        }
        assert_int_equal(got, cases[i].want);
        cv_buf_reset(&out);
        assert_int_equal(
            decode_bytewise(&o, NULL, cases[i].body, strlen(cases[i].body), &out, NULL),
            cases[i].want);
        cv_buf_release(&out);
    }
    /* Trailer problems with a declared CRC32 trailer. */
    {
        static const struct {
            const char *name, *body;
            cv_err want;
        } tc[] = {
            /* The first blank line may separate the trailer: more is expected. */
            {"declared trailer missing", "3\r\nabc\r\n0\r\n\r\n", CV_S3_INCOMPLETE_BODY},
            {"declared trailer absent", "3\r\nabc\r\n0\r\n\r\n\r\n", CV_S3_INVALID_CHUNK},
            {"another checksum", "3\r\nabc\r\n0\r\nx-amz-checksum-crc32c:Ad5FvQ==\r\n\r\n",
             CV_S3_INVALID_CHUNK},
            {"duplicate",
             "3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n"
             "x-amz-checksum-crc32:NSRBwg==\r\n\r\n",
             CV_S3_INVALID_CHUNK},
            {"empty value", "3\r\nabc\r\n0\r\nx-amz-checksum-crc32:\r\n\r\n", CV_S3_INVALID_CHUNK},
            {"wrong value", "3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n",
             CV_S3_BAD_CHECKSUM},
            {"signature in unsigned mode",
             "3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\nx-amz-trailer-signature:00\r\n\r\n",
             CV_S3_INVALID_CHUNK},
            {"good", "3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n", CV_OK},
            {"good, spaces", "3\r\nabc\r\n0\r\nx-amz-checksum-crc32 : NSRBwg== \r\n\r\n", CV_OK},
        };
        for (size_t i = 0; i < CV_ARRAY_LEN(tc); i++) {
            struct cv_buf out = CV_BUF_INIT(1024);
            cv_err got = decode_whole(&o, NULL, tc[i].body, strlen(tc[i].body), &out,
                                      "x-amz-checksum-crc32");
            if (got != tc[i].want) {
                print_message("%s: got %s\n", tc[i].name, cv_err_str(got));
            }
            assert_int_equal(got, tc[i].want);
            cv_buf_release(&out);
        }
    }
    /* An overlong chunk-size line (a flood of digits or an extension) stops early. */
    {
        char big[2048];
        struct cv_buf out = CV_BUF_INIT(1024);
        memset(big, '0', sizeof(big));
        assert_int_equal(decode_whole(&o, NULL, big, sizeof(big), &out, NULL), CV_S3_INVALID_CHUNK);
        memcpy(big, "3;", 2);
        memset(big + 2, 'x', sizeof(big) - 2);
        assert_int_equal(decode_bytewise(&o, NULL, big, sizeof(big), &out, NULL),
                         CV_S3_INVALID_CHUNK);
        cv_buf_release(&out);
    }
}

static void test_signed_framing_errors(void **state)
{
    struct enc_opts o = {SIGV4_STREAM_SIGNED, SIGV4_CK_NONE, 0, SEED, false, false};
    char sig64[65];
    struct cv_buf out = CV_BUF_INIT(1024);

    CV_UNUSED(state);
    memset(sig64, 'a', 64);
    sig64[64] = '\0';
    for (int i = 0; i < 5; i++) {
        char body[256];
        int n = 0;
        switch (i) {
        case 0: /* no chunk-signature */
            n = snprintf(body, sizeof(body), "3\r\nabc\r\n");
            break;
        case 1: /* junk after the signature */
            n = snprintf(body, sizeof(body), "3;chunk-signature=%s;x\r\nabc\r\n", sig64);
            break;
        case 2: /* short signature */
            n = snprintf(body, sizeof(body), "3;chunk-signature=%.63s\r\nabc\r\n", sig64);
            break;
        case 3: /* misspelt */
            n = snprintf(body, sizeof(body), "3;chunk-signatur=%s\r\nabc\r\n", sig64);
            break;
        default: /* not hex */
            n = snprintf(body, sizeof(body), "3;chunk-signature=%.63sg\r\nabc\r\n", sig64);
            break;
        }
        cv_buf_reset(&out);
        assert_int_equal(decode_whole(&o, SEED, body, (size_t)n, &out, NULL), CV_S3_INVALID_CHUNK);
    }
    /* Well-formed but wrongly signed. */
    {
        char body[256];
        int n = snprintf(body, sizeof(body), "3;chunk-signature=%s\r\nabc\r\n", sig64);
        cv_buf_reset(&out);
        assert_int_equal(decode_whole(&o, SEED, body, (size_t)n, &out, NULL),
                         CV_S3_SIGNATURE_DOES_NOT_MATCH);
    }
    /* Signed trailer mode: the trailer signature line is required. */
    {
        struct enc_opts ot = {
            SIGV4_STREAM_SIGNED_TRAILER, SIGV4_CK_CRC32, 1000, SEED, false, false};
        struct cv_buf body = CV_BUF_INIT(4096);
        char *p;
        encode(&body, &ot, "abc", 3, NULL);
        p = find(&body, "x-amz-trailer-signature:");
        cv_buf_setlen(&body, (size_t)(p - body.ptr));
        assert_int_equal(cv_buf_adds(&body, "\r\n"), CV_OK);
        cv_buf_reset(&out);
        assert_int_equal(decode_whole(&ot, SEED, body.ptr, body.len, &out, "x-amz-checksum-crc32"),
                         CV_S3_INVALID_CHUNK);
        cv_buf_release(&body);
    }
    cv_buf_release(&out);
}

static cv_err refuse_after_10(void *ud, const char *data, size_t len)
{
    size_t *seen = ud;
    CV_UNUSED(data);
    *seen += len;
    return *seen > 10 ? CV_EIO : CV_OK;
}

static void test_callback_and_sticky_error(void **state)
{
    static const char body[] = "20\r\n0123456789abcdef0123456789abcdef\r\n0\r\n\r\n";
    struct sigv4_chunked d;
    size_t seen = 0;

    CV_UNUSED(state);
    assert_int_equal(sigv4_chunked_init(&d, SIGV4_STREAM_UNSIGNED_TRAILER, NULL, NULL, CV_STR_NULL),
                     CV_OK);
    assert_int_equal(sigv4_chunked_feed(&d, body, sizeof(body) - 1, refuse_after_10, &seen),
                     CV_EIO);
    /* Sticky: later calls return the same error and pass nothing on. */
    seen = 0;
    assert_int_equal(sigv4_chunked_feed(&d, "x", 1, refuse_after_10, &seen), CV_EIO);
    assert_int_equal(seen, 0);
    assert_int_equal(sigv4_chunked_finish(&d), CV_EIO);
    assert_int_equal(sigv4_chunked_checksum(&d, NULL), SIGV4_CK_NONE);
    sigv4_chunked_release(&d);
    sigv4_chunked_release(NULL);
}

static cv_err discard(void *ud, const char *data, size_t len)
{
    CV_UNUSED(ud);
    CV_UNUSED(data);
    CV_UNUSED(len);
    return CV_OK;
}

/* 8 MiB through each mode without a single allocation past init: constant memory. */
static void test_constant_memory(void **state)
{
    size_t dlen = 8u << 20;
    char *data = make_data(dlen);
    const struct enc_opts modes[] = {
        {SIGV4_STREAM_UNSIGNED_TRAILER, SIGV4_CK_CRC64NVME, 65536, NULL, false, false},
        {SIGV4_STREAM_SIGNED, SIGV4_CK_NONE, 65536, SEED, false, false},
        {SIGV4_STREAM_SIGNED_TRAILER, SIGV4_CK_CRC32C, 65536, SEED, false, false},
    };

    CV_UNUSED(state);
    for (size_t m = 0; m < CV_ARRAY_LEN(modes); m++) {
        struct cv_buf body = CV_BUF_INIT(SIZE_MAX / 2);
        struct sigv4_chunked d;
        struct sigv4_signing_key key;
        struct sigv4_parsed p;
        const char *tr = modes[m].algo ? sigv4_checksum_header(modes[m].algo) : NULL;
        long allocs;

        encode(&body, &modes[m], data, dlen, NULL);
        sigv4_derive_key(&key, CV_STR(SECRET), &scope);
        seed_parsed(&p, SEED);
        assert_int_equal(
            sigv4_chunked_init(&d, modes[m].mode, &key, &p, tr ? cv_str_c(tr) : CV_STR_NULL),
            CV_OK);
        cv_alloc_fail_after(-1); /* resets the counter */
        for (size_t off = 0; off < body.len; off += 7001) {
            assert_int_equal(
                sigv4_chunked_feed(&d, body.ptr + off, CV_MIN(7001, body.len - off), discard, NULL),
                CV_OK);
        }
        assert_int_equal(sigv4_chunked_finish(&d), CV_OK);
        allocs = cv_alloc_count();
        /* The signed trailer keeps its canonical text in one small buffer. */
        assert_true(allocs <= (modes[m].mode == SIGV4_STREAM_SIGNED_TRAILER ? 1 : 0));
        assert_int_equal(d.decoded_total, dlen);
        sigv4_chunked_release(&d);
        cv_buf_release(&body);
    }
    free(data);
}

static cv_err sweep_signed_trailer(void)
{
    static char body[4096];
    static size_t blen;
    struct sigv4_chunked d;
    struct sigv4_signing_key key;
    struct sigv4_parsed p;
    cv_err err;

    if (!blen) {
        struct enc_opts o = {SIGV4_STREAM_SIGNED_TRAILER, SIGV4_CK_SHA256, 100, SEED, false, false};
        struct cv_buf b = CV_BUF_INIT(4096);
        encode(&b, &o,
               "0123456789012345678901234567890123456789012345678901234567890123456789"
               "01234567890123456789012345678901234567890123456789",
               120, NULL);
        memcpy(body, b.ptr, b.len);
        blen = b.len;
        cv_buf_release(&b);
    }
    sigv4_derive_key(&key, CV_STR(SECRET), &scope);
    seed_parsed(&p, SEED);
    err = sigv4_chunked_init(&d, SIGV4_STREAM_SIGNED_TRAILER, &key, &p,
                             CV_STR("x-amz-checksum-sha256"));
    if (!err) {
        err = sigv4_chunked_feed(&d, body, blen, discard, NULL);
    }
    if (!err) {
        err = sigv4_chunked_finish(&d);
    }
    sigv4_chunked_release(&d);
    return err;
}

static void test_alloc_sweep(void **state)
{
    CV_UNUSED(state);
    assert_int_equal(sweep_signed_trailer(), CV_OK);
    CV_ALLOC_SWEEP(sweep_signed_trailer());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checksum_vectors),
        cmocka_unit_test(test_s3_example_sequence),
        cmocka_unit_test(test_unsigned_trailer),
        cmocka_unit_test(test_unsigned_literal),
        cmocka_unit_test(test_signed_trailer),
        cmocka_unit_test(test_signed_plain),
        cmocka_unit_test(test_framing_errors),
        cmocka_unit_test(test_signed_framing_errors),
        cmocka_unit_test(test_callback_and_sticky_error),
        cmocka_unit_test(test_constant_memory),
        cmocka_unit_test(test_alloc_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
