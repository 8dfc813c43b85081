/*
 * Authentication: who sent this request? SigV4 header or presigned query
 * auth, or nobody (anonymous). Errors carry AWS's codes and, for a bad
 * signature, the canonical request and string to sign we computed, so a
 * client author can see what differs. Secrets are never logged.
 */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p)
{
    struct cv_buf *b = p;

    if (b) {
        cv_buf_release(b);
        cv_free(b);
    }
}

static void scratch_init(void)
{
    pthread_key_create(&scratch_key, scratch_free);
}

/* A per-thread scratch buffer for canonical requests (no malloc per request). */
static struct cv_buf *scratch(void)
{
    struct cv_buf *b;

    pthread_once(&scratch_once, scratch_init);
    b = pthread_getspecific(scratch_key);
    if (!b) {
        b = cv_malloc(sizeof(*b));
        if (b) {
            cv_buf_init(b, 1 << 20);
            pthread_setspecific(scratch_key, b);
        }
    }
    return b;
}

static void build_request(struct store_req *r, struct sigv4_request *sr, struct cv_str payload)
{
    memset(sr, 0, sizeof(*sr));
    sr->method = r->method;
    sr->raw_path = r->raw_path;
    sr->raw_query = r->raw_query;
    sr->headers = r->headers;
    sr->nheaders = r->nheaders;
    sr->payload_hash = payload;
}

static void hex_bytes(const char *s, size_t n, struct cv_buf *out)
{
    size_t i;
    cv_err err = CV_OK;

    for (i = 0; i < n && !err; i++) {
        err = cv_buf_addf(out, i ? " %02x" : "%02x", (unsigned char)s[i]);
    }
}

static void signature_mismatch(struct store_req *r, struct cv_buf *sc)
{
    /* sc holds: canonical request, NUL, string to sign. */
    struct cv_buf crb = CV_BUF_INIT(1 << 20), stsb = CV_BUF_INIT(1 << 20);
    const char *creq = sc && sc->ptr ? sc->ptr : "";
    size_t creq_len = strlen(creq);
    const char *sts = sc && sc->ptr && creq_len < sc->len ? sc->ptr + creq_len + 1 : "";
    char akid[64];

    hex_bytes(creq, creq_len, &crb);
    hex_bytes(sts, strlen(sts), &stsb);
    cv_errf(akid, sizeof(akid), "%.*s", (int)r->auth.access_key_id.len, r->auth.access_key_id.ptr);
    {
        char sig[80];
        cv_errf(sig, sizeof(sig), "%.*s", (int)CV_MIN(r->auth.signature_hex.len, 70),
                r->auth.signature_hex.ptr);
        resp_error(r, CV_S3_SIGNATURE_DOES_NOT_MATCH, NULL, "AWSAccessKeyId", akid,
                   "StringToSign", sts, "SignatureProvided", sig, "StringToSignBytes",
                   stsb.ptr ? stsb.ptr : "", "CanonicalRequest", creq, "CanonicalRequestBytes",
                   crb.ptr ? crb.ptr : "", NULL);
    }
    cv_buf_release(&crb);
    cv_buf_release(&stsb);
}

static bool is_hex64(struct cv_str s)
{
    size_t i;

    if (s.len != 64) {
        return false;
    }
    for (i = 0; i < 64; i++) {
        char c = s.ptr[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

static void set_identity_arn(struct identity *id)
{
    if (id->kind == IDENT_ROOT) {
        snprintf(id->arn, sizeof(id->arn), "arn:aws:iam::%s:root", id->account);
    }
}

bool store_identify(struct store_req *r, struct cv_str akid, char *secret, size_t secretlen)
{
    bool active = false;
    cv_err err = store_lookup_key(r->st, akid, &r->ident, secret, secretlen, &active);

    if (err || !active) {
        char a[64];
        cv_errf(a, sizeof(a), "%.*s", (int)CV_MIN(akid.len, 40), akid.ptr);
        memset(&r->ident, 0, sizeof(r->ident));
        if (err && err != CV_ENOENT) {
            resp_error(r, err, NULL, NULL);
        } else if (r->op == OP_IAM_QUERY) {
            resp_error(r, CV_IAM_INVALID_CLIENT_TOKEN, NULL, NULL);
        } else {
            resp_error(r, CV_S3_INVALID_ACCESS_KEY_ID, NULL, "AWSAccessKeyId", a, NULL);
        }
        cv_secure_zero(secret, secretlen);
        return false;
    }
    set_identity_arn(&r->ident);
    return true;
}

bool store_authenticate(struct store_req *r)
{
    struct store *st = r->st;
    struct sigv4_request sr;
    struct cv_str payload;
    char msg[256] = "";
    char secret[128];
    bool form = r->op == OP_IAM_QUERY;
    struct cv_buf *sc;
    cv_err err;
    int64_t now_s = r->now_ms / 1000;

    r->content_sha256 = req_header(r, "x-amz-content-sha256");
    payload = r->content_sha256;
    if (!payload.ptr) {
        payload = CV_STR(SIGV4_UNSIGNED_PAYLOAD);
    }
    build_request(r, &sr, payload);
    err = sigv4_parse(&sr, &r->auth, msg, sizeof(msg));
    if (err) {
        if (err == CV_EUNSUPPORTED) {
            resp_error(r, CV_S3_INVALID_REQUEST,
                       "The authorization mechanism you have provided is not supported. Please "
                       "use AWS4-HMAC-SHA256.",
                       NULL);
        } else {
            resp_error(r, err, msg[0] ? msg : NULL, NULL);
        }
        return false;
    }
    if (r->auth.kind == SIGV4_AUTH_NONE) {
        r->ident.kind = IDENT_ANONYMOUS;
        snprintf(r->ident.account, sizeof(r->ident.account), "anonymous");
        goto payload;
    }
    /* Checked before the signature: without it we cannot know what was signed. */
    if (r->auth.kind == SIGV4_AUTH_HEADER && !form && !r->content_sha256.ptr) {
        resp_error(r, CV_S3_INVALID_REQUEST,
                   "Missing required header for this request: x-amz-content-sha256", NULL);
        return false;
    }
    err = sigv4_check_time(&r->auth, now_s);
    if (err) {
        char rt[17], srv[17];
        cv_time_amz(r->auth.request_time, rt);
        cv_time_amz(now_s, srv);
        if (err == CV_S3_REQUEST_TIME_TOO_SKEWED) {
            resp_error(r, err, NULL, "RequestTime", rt, "ServerTime", srv,
                       "MaxAllowedSkewMilliseconds", "900000", NULL);
        } else {
            char exp[32];
            snprintf(exp, sizeof(exp), "%lld", (long long)r->auth.expires);
            resp_error(r, err, NULL, "X-Amz-Expires", exp, "ServerTime", srv, NULL);
        }
        return false;
    }
    /* The credential scope must name this service and region. */
    if (form) {
        if (!cv_str_eq_c(r->auth.scope.service, "iam") &&
            !cv_str_eq_c(r->auth.scope.service, "sts")) {
            resp_error(r, CV_S3_AUTH_HEADER_MALFORMED,
                       "Credential should be scoped to a valid service ('iam' or 'sts').", NULL);
            return false;
        }
    } else if (!cv_str_eq_c(r->auth.scope.service, "s3")) {
        snprintf(msg, sizeof(msg),
                 "The authorization header is malformed; incorrect service \"%.*s\". This "
                 "endpoint belongs to \"s3\".",
                 (int)CV_MIN(r->auth.scope.service.len, 32), r->auth.scope.service.ptr);
        resp_error(r,
                   r->auth.kind == SIGV4_AUTH_QUERY ? CV_S3_AUTH_QUERY_ERROR
                                                    : CV_S3_AUTH_HEADER_MALFORMED,
                   msg, NULL);
        return false;
    } else if (!cv_str_eq_c(r->auth.scope.region, st->region)) {
        char region[64];
        snprintf(region, sizeof(region), "%.*s", (int)CV_MIN(r->auth.scope.region.len, 40),
                 r->auth.scope.region.ptr);
        if (r->auth.kind == SIGV4_AUTH_QUERY) {
            snprintf(msg, sizeof(msg),
                     "Error parsing the X-Amz-Credential parameter; the region '%s' is wrong; "
                     "expecting '%s'",
                     region, st->region);
            resp_error(r, CV_S3_AUTH_QUERY_ERROR, msg, "Region", st->region, NULL);
        } else {
            snprintf(msg, sizeof(msg),
                     "The authorization header is malformed; the region '%s' is wrong; "
                     "expecting '%s'",
                     region, st->region);
            resp_error(r, CV_S3_AUTH_HEADER_MALFORMED, msg, "Region", st->region, NULL);
        }
        (void)resp_header(r, "x-amz-bucket-region", st->region);
        return false;
    }
    if (!store_identify(r, r->auth.access_key_id, secret, sizeof(secret))) {
        return false;
    }
    sigv4_key_cache_get(st->keys, r->auth.access_key_id, cv_str_c(secret), &r->auth.scope,
                        &r->skey);
    cv_secure_zero(secret, sizeof(secret));
    if (form) {
        return true; /* verified with the body: store_authenticate_form() */
    }
    sc = scratch();
    if (!sc) {
        resp_error(r, CV_ENOMEM, NULL, NULL);
        return false;
    }
    err = sigv4_verify(&sr, &r->auth, &r->skey, 0, sc);
    if (err == CV_S3_SIGNATURE_DOES_NOT_MATCH) {
        signature_mismatch(r, sc);
        return false;
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        return false;
    }
payload:
    if (!r->content_sha256.ptr) {
        return true; /* anonymous, presigned, or an IAM form */
    }
    r->stream_mode = sigv4_stream_mode_of(r->content_sha256);
    if (r->stream_mode) {
        if (r->stream_mode != SIGV4_STREAM_UNSIGNED_TRAILER && r->auth.kind != SIGV4_AUTH_HEADER) {
            resp_error(r, CV_S3_INVALID_ARGUMENT,
                       "Streaming signed payloads need header authentication.", NULL);
            return false;
        }
        return true;
    }
    if (cv_str_eq_c(r->content_sha256, SIGV4_UNSIGNED_PAYLOAD)) {
        return true;
    }
    if (is_hex64(r->content_sha256)) {
        r->payload_hex = true;
        if (cv_hex_decode(r->content_sha256, r->payload_expect, CV_SHA256_LEN)) {
            r->payload_hex = false;
        }
        return true;
    }
    resp_error(r, CV_S3_INVALID_ARGUMENT,
               "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, "
               "STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, "
               "or a valid sha256 value.",
               NULL);
    return false;
}

bool store_authenticate_form(struct store_req *r)
{
    struct sigv4_request sr;
    uint8_t d[CV_SHA256_LEN];
    char hex[65];
    struct cv_buf *sc;
    cv_err err;

    if (r->auth.kind == SIGV4_AUTH_NONE) {
        return true; /* the IAM layer refuses anonymous callers */
    }
    cv_sha256(r->xml.ptr ? r->xml.ptr : "", r->xml.len, d);
    cv_hex_encode(d, sizeof(d), hex);
    if (r->content_sha256.ptr && !cv_str_eq_ci_c(r->content_sha256, hex) &&
        !cv_str_eq_c(r->content_sha256, SIGV4_UNSIGNED_PAYLOAD)) {
        resp_error(r, CV_S3_CONTENT_SHA256_MISMATCH, NULL, NULL);
        return false;
    }
    build_request(r, &sr, r->content_sha256.ptr ? r->content_sha256 : cv_str_c(hex));
    sc = scratch();
    if (!sc) {
        resp_error(r, CV_ENOMEM, NULL, NULL);
        return false;
    }
    err = sigv4_verify(&sr, &r->auth, &r->skey, 0, sc);
    if (err == CV_S3_SIGNATURE_DOES_NOT_MATCH) {
        signature_mismatch(r, sc);
        return false;
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        return false;
    }
    return true;
}
