/*
 * Fuzzes presigned-query parsing and verification.
 *
 * Input: byte 0 = flags/expires selector; then lines: raw query, raw path,
 * then "name:value" headers. Besides crashes, checks a round trip: the same
 * request presigned by sigv4_presign_ex() must parse as a presigned request
 * with the expiry given, and verify.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4/sigv4.h"

#define MAXH 16
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define AMZ "20130524T000000Z"

static bool clean_name(struct cv_str n)
{
    if (n.len == 0) {
        return false;
    }
    for (size_t i = 0; i < n.len; i++) {
        unsigned char c = (unsigned char)n.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_')) {
            return false;
        }
    }
    return true;
}

static void roundtrip(const struct sigv4_request *req, unsigned flags, int64_t expires,
                      const char *token)
{
    struct sigv4_credentials cred = {CV_STR("AKIDFUZZ"), CV_STR(SECRET), cv_str_c(token)};
    struct cv_buf q = CV_BUF_INIT(1 << 20), scratch = CV_BUF_INIT(1 << 22),
                  tok = CV_BUF_INIT(1 << 16);
    struct sigv4_request r = *req;
    struct sigv4_parsed p;
    struct sigv4_signing_key key;
    cv_err e;

    if (req->nheaders == 0 ||
        memmem(req->raw_query.ptr ? req->raw_query.ptr : "", req->raw_query.len, "X-Amz-", 6) ||
        memmem(req->raw_query.ptr ? req->raw_query.ptr : "", req->raw_query.len, "AWSAccessKeyId",
               14)) {
        return;
    }
    for (size_t i = 0; i < req->nheaders; i++) {
        if (!clean_name(req->headers[i].name) ||
            cv_str_eq_ci_c(req->headers[i].name, "authorization")) {
            return;
        }
    }
    e = sigv4_presign_ex(req, &cred, CV_STR("eu-west-1"), CV_STR("s3"), CV_STR(AMZ), expires, flags,
                         &q);
    if (expires < 1 || expires > SIGV4_MAX_EXPIRES_S) {
        if (e != CV_EINVAL) {
            abort();
        }
        goto out;
    }
    if (e != CV_OK) {
        goto out;
    }
    r.raw_query = (struct cv_str){q.ptr, q.len};
    e = sigv4_parse(&r, &p, NULL, 0);
    if (e != CV_OK || p.kind != SIGV4_AUTH_QUERY || p.expires != expires) {
        abort();
    }
    if (sigv4_check_time(&p, 1369353600 + expires) != CV_OK ||
        sigv4_check_time(&p, 1369353600 + expires + 1) != CV_S3_EXPIRED_PRESIGNED) {
        abort();
    }
    if (sigv4_security_token(&p, &tok) != CV_OK || strcmp(tok.ptr ? tok.ptr : "", token) != 0) {
        abort();
    }
    sigv4_derive_key(&key, CV_STR(SECRET), &p.scope);
    e = sigv4_verify(&r, &p, &key, flags, &scratch);
    if (e != CV_OK && e != CV_ETOOBIG) {
        abort();
    }
out:
    cv_buf_release(&q);
    cv_buf_release(&scratch);
    cv_buf_release(&tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t expiries[] = {1, 60, 3600, 86400, 604800, 0, 604801, -1};
    static const char *tokens[] = {"", "IQoJb3JpZ2luX2Vj/+==", "a b&c=d%"};
    struct cv_str lines[2 + MAXH];
    struct sigv4_header h[MAXH];
    struct sigv4_request req;
    struct sigv4_parsed p;
    struct cv_str rest;
    size_t nl = 0, nh = 0;
    unsigned flags;

    if (size < 1) {
        return 0;
    }
    flags = data[0] & 7u;
    rest = (struct cv_str){(const char *)data + 1, size - 1};
    while (nl < CV_ARRAY_LEN(lines)) {
        struct cv_str line;
        bool more = cv_str_split(rest, '\n', &line, &rest);
        lines[nl++] = line;
        if (!more) {
            break;
        }
    }
    while (nl < 2) {
        lines[nl++] = CV_STR("");
    }
    memset(&req, 0, sizeof(req));
    req.method = CV_STR("GET");
    req.raw_query = lines[0];
    req.raw_path = lines[1];
    for (size_t i = 2; i < nl && nh < MAXH; i++) {
        struct cv_str name, value;
        if (cv_str_split(lines[i], ':', &name, &value)) {
            h[nh++] = (struct sigv4_header){name, value};
        }
    }
    req.headers = h;
    req.nheaders = nh;

    if (sigv4_parse(&req, &p, NULL, 0) == CV_OK && p.kind == SIGV4_AUTH_QUERY) {
        struct sigv4_signing_key key;
        struct cv_buf scratch = CV_BUF_INIT(1 << 22), tok = CV_BUF_INIT(1 << 16);
        if (p.expires < 1 || p.expires > SIGV4_MAX_EXPIRES_S) {
            abort();
        }
        (void)sigv4_check_time(&p, 1369353600);
        (void)sigv4_security_token(&p, &tok);
        sigv4_derive_key(&key, CV_STR(SECRET), &p.scope);
        (void)sigv4_verify(&req, &p, &key, flags, &scratch);
        cv_buf_release(&scratch);
        cv_buf_release(&tok);
    }
    roundtrip(&req, flags & 3u, expiries[(data[0] >> 3) & 7u], tokens[(data[0] >> 6) % 3]);
    return 0;
}
