/*
 * sigv4 throughput on one core: verifying a typical S3 GET (six signed
 * headers) with a warm key cache and scratch buffer, signing it, deriving
 * signing keys, and decoding aws-chunked bodies. Prints "name value" lines
 * (bench/sigv4/run turns them into the markdown section).
 * usage: bench_sigv4 [seconds per measure, default 1]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sigv4/sigv4.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define AKID "AKIAIOSFODNN7EXAMPLE"
#define AMZ "20260101T120000Z"

static double secs = 1.0;
static volatile unsigned sink;

/* The headers an SDK sends with a GetObject (the Authorization is added after signing). */
#define SL(lit)                                                                                    \
    {                                                                                              \
        (lit), sizeof(lit) - 1                                                                     \
    }
static struct sigv4_header hdrs[] = {
    {SL("Host"), SL("examplebucket.s3.us-east-1.amazonaws.com")},
    {SL("User-Agent"), SL("aws-sdk-java/2.25.0 Linux/6.1 OpenJDK_64-Bit_Server_VM/21")},
    {SL("Accept-Encoding"), SL("identity")},
    {SL("amz-sdk-invocation-id"), SL("9a7e5c2b-4f3d-4f4e-8d8c-2b1f0e3d4c5b")},
    {SL("amz-sdk-request"), SL("attempt=1; max=3")},
    {SL("Range"), SL("bytes=0-1048575")},
    {SL("x-amz-content-sha256"), SL(SIGV4_EMPTY_SHA256)},
    {SL("x-amz-date"), SL(AMZ)},
    {SL("Authorization"), {NULL, 0}},
};
#define NSIGNED_FIRST 3 /* headers from index 3 on are signed */

static void must(cv_err e)
{
    if (e != CV_OK) {
        fprintf(stderr, "bench_sigv4: %s\n", cv_err_str(e));
        abort();
    }
}

/*
 * Thread CPU time: the figures are per core, and these machines are shared
 * (wall time would count the time other processes held the core).
 */
static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs @p fn in batches until secs have passed; returns calls per second. */
static double rate(void (*fn)(void *), void *arg)
{
    double t0 = now_s(), t;
    long n = 0, batch = 64;

    do {
        for (long i = 0; i < batch; i++) {
            fn(arg);
        }
        n += batch;
        t = now_s() - t0;
        if (t < secs / 20) {
            batch *= 2;
        }
    } while (t < secs);
    return (double)n / t;
}

struct vctx {
    struct sigv4_request req;
    struct sigv4_key_cache *cache;
    struct cv_buf scratch;
    struct sigv4_parsed p;
    struct sigv4_signing_key key;
};

/* The whole per-request path: parse, cached key, verify. */
static void do_verify(void *arg)
{
    struct vctx *v = arg;
    struct sigv4_parsed p;
    struct sigv4_signing_key key;

    if (sigv4_parse(&v->req, &p, NULL, 0) != CV_OK) {
        abort();
    }
    sigv4_key_cache_get(v->cache, p.access_key_id, CV_STR(SECRET), &p.scope, &key);
    if (sigv4_verify(&v->req, &p, &key, 0, &v->scratch) != CV_OK) {
        abort();
    }
}

static void do_verify_only(void *arg)
{
    struct vctx *v = arg;

    if (sigv4_verify(&v->req, &v->p, &v->key, 0, &v->scratch) != CV_OK) {
        abort();
    }
}

static void do_parse_only(void *arg)
{
    struct vctx *v = arg;
    struct sigv4_parsed p;

    if (sigv4_parse(&v->req, &p, NULL, 0) != CV_OK) {
        abort();
    }
    sink += p.signature[0];
}

static void do_cache_hit(void *arg)
{
    struct vctx *v = arg;
    struct sigv4_signing_key key;

    sigv4_key_cache_get(v->cache, v->p.access_key_id, CV_STR(SECRET), &v->p.scope, &key);
    sink += key.mac.inner.u.opaque[0];
}

struct sctx {
    struct sigv4_request req;
    struct cv_buf auth;
};

static void do_sign(void *arg)
{
    struct sctx *s = arg;
    struct sigv4_credentials cred = {CV_STR(AKID), CV_STR(SECRET), CV_STR_NULL};

    cv_buf_reset(&s->auth);
    if (sigv4_sign(&s->req, &cred, CV_STR("us-east-1"), CV_STR("s3"), CV_STR(AMZ), 0, &s->auth) !=
        CV_OK) {
        abort();
    }
}

static void do_derive(void *arg)
{
    static const struct sigv4_scope scope = {{"20260101", 8}, {"us-east-1", 9}, {"s3", 2}};
    struct sigv4_signing_key k;

    (void)arg;
    sigv4_derive_key(&k, CV_STR(SECRET), &scope);
    sink += k.mac.outer.u.opaque[3];
}

static cv_err discard(void *ud, const char *data, size_t len)
{
    (void)ud;
    sink += (unsigned)data[len - 1];
    return CV_OK;
}

/* Decodes a 64 MiB body in 256 KiB reads; returns MB/s (decoded bytes). */
static double chunked_rate(enum sigv4_stream_mode mode, enum sigv4_checksum_algo algo)
{
    static const struct sigv4_scope scope = {{"20260101", 8}, {"us-east-1", 9}, {"s3", 2}};
    const size_t total = 64u << 20, chunk = 65536;
    struct cv_buf body = CV_BUF_INIT(SIZE_MAX / 2);
    struct sigv4_signing_key key;
    struct sigv4_parsed p;
    struct sigv4_checksum ck;
    char prev[65], sig[65], b64[SIGV4_CK_B64_MAX];
    uint8_t h[CV_SHA256_LEN];
    char *data = malloc(chunk);
    double t0, t, best = 0;
    bool sign = mode != SIGV4_STREAM_UNSIGNED_TRAILER;

    for (size_t i = 0; i < chunk; i++) {
        data[i] = (char)(i * 131 + 7);
    }
    sigv4_derive_key(&key, CV_STR(SECRET), &scope);
    memset(&p, 0, sizeof(p));
    p.kind = SIGV4_AUTH_HEADER;
    p.scope = scope;
    p.amz_date = CV_STR(AMZ);
    memset(p.signature, 0x42, sizeof(p.signature));
    cv_hex_encode(p.signature, 32, prev);
    sigv4_checksum_init(&ck, algo);
    for (size_t off = 0; off <= total; off += chunk) {
        size_t n = off < total ? chunk : 0;
        if (sign) {
            cv_sha256(data, n, h);
            sigv4_chunk_signature(&key, CV_STR(AMZ), CV_STR("20260101/us-east-1/s3/aws4_request"),
                                  (struct cv_str){prev, 64}, h, sig);
            memcpy(prev, sig, sizeof(sig));
            must(cv_buf_addf(&body, "%zx;chunk-signature=%s\r\n", n, sig));
        } else {
            must(cv_buf_addf(&body, "%zx\r\n", n));
        }
        if (n) {
            must(cv_buf_add(&body, data, n));
            must(cv_buf_adds(&body, "\r\n"));
            sigv4_checksum_update(&ck, data, n);
        }
    }
    sigv4_checksum_final(&ck, b64);
    if (algo) {
        must(cv_buf_addf(&body, "%s:%s\r\n", sigv4_checksum_header(algo), b64));
    }
    if (mode == SIGV4_STREAM_SIGNED_TRAILER) {
        char canon[128];
        int n = snprintf(canon, sizeof(canon), "%s:%s\n", sigv4_checksum_header(algo), b64);
        cv_sha256(canon, (size_t)n, h);
        sigv4_trailer_signature(&key, CV_STR(AMZ), CV_STR("20260101/us-east-1/s3/aws4_request"),
                                (struct cv_str){prev, 64}, h, sig);
        must(cv_buf_addf(&body, "x-amz-trailer-signature:%s\r\n", sig));
    }
    must(cv_buf_adds(&body, "\r\n"));
    for (int rep = 0; rep < 3; rep++) {
        struct sigv4_chunked d;
        t0 = now_s();
        must(sigv4_chunked_init(&d, mode, &key, &p,
                                algo ? cv_str_c(sigv4_checksum_header(algo)) : CV_STR_NULL));
        for (size_t off = 0; off < body.len; off += 262144) {
            must(sigv4_chunked_feed(&d, body.ptr + off, CV_MIN(262144, body.len - off), discard,
                                    NULL));
        }
        must(sigv4_chunked_finish(&d));
        sigv4_chunked_release(&d);
        t = now_s() - t0;
        if ((double)total / t / 1e6 > best) {
            best = (double)total / t / 1e6;
        }
    }
    cv_buf_release(&body);
    free(data);
    return best;
}

int main(int argc, char **argv)
{
    struct vctx v;
    struct sctx s;
    struct cv_buf auth = CV_BUF_INIT(4096);
    struct sigv4_credentials cred = {CV_STR(AKID), CV_STR(SECRET), CV_STR_NULL};
    struct sigv4_request signreq = {CV_STR("GET"),
                                    CV_STR("/photos/2026/summer%20trip/IMG_0042.jpg"),
                                    CV_STR("versionId=3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"),
                                    hdrs,
                                    CV_ARRAY_LEN(hdrs) - 1,
                                    CV_STR_NULL};
    struct sigv4_header signed_only[CV_ARRAY_LEN(hdrs)];
    size_t ns = 0;

    if (argc > 1) {
        secs = atof(argv[1]);
    }
    /* Sign with the six headers an SDK signs (host, amz-sdk-*, range, x-amz-*). */
    signed_only[ns++] = hdrs[0];
    for (size_t i = NSIGNED_FIRST; i < CV_ARRAY_LEN(hdrs) - 1; i++) {
        signed_only[ns++] = hdrs[i];
    }
    signreq.headers = signed_only;
    signreq.nheaders = ns;
    if (sigv4_sign(&signreq, &cred, CV_STR("us-east-1"), CV_STR("s3"), CV_STR(AMZ), 0, &auth) !=
        CV_OK) {
        return 1;
    }
    hdrs[CV_ARRAY_LEN(hdrs) - 1].value = (struct cv_str){auth.ptr, auth.len};

    memset(&v, 0, sizeof(v));
    v.req = signreq;
    v.req.headers = hdrs;
    v.req.nheaders = CV_ARRAY_LEN(hdrs);
    cv_buf_init(&v.scratch, 1 << 20);
    if (sigv4_key_cache_new(1024, &v.cache) != CV_OK ||
        sigv4_parse(&v.req, &v.p, NULL, 0) != CV_OK) {
        return 1;
    }
    sigv4_derive_key(&v.key, CV_STR(SECRET), &v.p.scope);
    do_verify(&v); /* warm cache and scratch */

    printf("signed_headers %zu\n", ns);
    printf("canonical_bytes %zu\n", v.scratch.len);
    fprintf(stderr, "sigv4: verify...\n");
    printf("verify_per_s %.0f\n", rate(do_verify, &v));
    printf("verify_only_per_s %.0f\n", rate(do_verify_only, &v));
    printf("parse_per_s %.0f\n", rate(do_parse_only, &v));
    printf("cache_hit_per_s %.0f\n", rate(do_cache_hit, &v));
    fprintf(stderr, "sigv4: sign...\n");
    s.req = signreq;
    cv_buf_init(&s.auth, 4096);
    printf("sign_per_s %.0f\n", rate(do_sign, &s));
    printf("derive_per_s %.0f\n", rate(do_derive, NULL));
    fprintf(stderr, "sigv4: chunked...\n");
    printf("chunked_signed_mb_s %.0f\n", chunked_rate(SIGV4_STREAM_SIGNED, SIGV4_CK_NONE));
    printf("chunked_unsigned_crc32c_mb_s %.0f\n",
           chunked_rate(SIGV4_STREAM_UNSIGNED_TRAILER, SIGV4_CK_CRC32C));
    printf("chunked_unsigned_crc32_mb_s %.0f\n",
           chunked_rate(SIGV4_STREAM_UNSIGNED_TRAILER, SIGV4_CK_CRC32));
    printf("chunked_signed_trailer_crc64nvme_mb_s %.0f\n",
           chunked_rate(SIGV4_STREAM_SIGNED_TRAILER, SIGV4_CK_CRC64NVME));
    sigv4_key_cache_free(v.cache);
    cv_buf_release(&v.scratch);
    cv_buf_release(&s.auth);
    cv_buf_release(&auth);
    return 0;
}
