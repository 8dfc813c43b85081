/*
 * Fuzzes the Authorization header parser and the canonical request builder.
 *
 * Input: byte 0 = flags; then lines: Authorization value, method, raw path,
 * raw query, then "name:value" headers. Besides crashes, checks a round
 * trip: the same request signed by sigv4_sign() must parse and verify.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4/sigv4.h"

#define MAXH 24
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define AMZ "20130524T000000Z"

static bool token_name(struct cv_str n)
{
    if (n.len == 0) {
        return false;
    }
    for (size_t i = 0; i < n.len; i++) {
        unsigned char c = (unsigned char)n.ptr[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.' || c == '~' || c == '!' || c == '#' ||
                  c == '$' || c == '&' || c == '\'' || c == '*' || c == '+' || c == '^' ||
                  c == '`' || c == '|';
        if (!ok) {
            return false;
        }
    }
    return true;
}

static void roundtrip(const struct sigv4_request *req, unsigned flags)
{
    struct sigv4_header h[MAXH + 2];
    struct sigv4_request r = *req;
    struct sigv4_credentials cred = {CV_STR("AKIDFUZZ"), CV_STR(SECRET), CV_STR_NULL};
    struct cv_buf auth = CV_BUF_INIT(1 << 20), scratch = CV_BUF_INIT(1 << 22);
    struct sigv4_parsed p;
    struct sigv4_signing_key key;
    size_t n = 0;
    cv_err e;

    if (memmem(req->raw_query.ptr ? req->raw_query.ptr : "", req->raw_query.len, "X-Amz-Algorithm",
               15)) {
        return;
    }
    for (size_t i = 0; i < req->nheaders; i++) {
        struct cv_str nm = req->headers[i].name;
        if (!token_name(nm)) {
            return; /* SignedHeaders cannot carry it */
        }
        if (cv_str_eq_ci_c(nm, "authorization") || cv_str_eq_ci_c(nm, "x-amz-date") ||
            cv_str_eq_ci_c(nm, "date")) {
            continue;
        }
        h[n++] = req->headers[i];
    }
    h[n++] = (struct sigv4_header){CV_STR("X-Amz-Date"), CV_STR(AMZ)};
    r.headers = h;
    r.nheaders = n;
    if (sigv4_sign(&r, &cred, CV_STR("us-east-1"), CV_STR("s3"), CV_STR(AMZ), flags, &auth) !=
        CV_OK) {
        goto out;
    }
    h[n++] = (struct sigv4_header){CV_STR("Authorization"), {auth.ptr, auth.len}};
    r.nheaders = n;
    e = sigv4_parse(&r, &p, NULL, 0);
    if (e != CV_OK || p.kind != SIGV4_AUTH_HEADER) {
        abort();
    }
    sigv4_derive_key(&key, CV_STR(SECRET), &p.scope);
    e = sigv4_verify(&r, &p, &key, flags, &scratch);
    if (e != CV_OK && e != CV_ETOOBIG) {
        abort();
    }
    /* A wrong key must not verify. */
    sigv4_derive_key(&key, CV_STR("other"), &p.scope);
    if (sigv4_verify(&r, &p, &key, flags, &scratch) == CV_OK) {
        abort();
    }
out:
    cv_buf_release(&auth);
    cv_buf_release(&scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cv_str lines[4 + MAXH];
    struct sigv4_header h[MAXH + 1];
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
    while (nl < 4) {
        lines[nl++] = CV_STR("");
    }
    memset(&req, 0, sizeof(req));
    req.method = lines[1];
    req.raw_path = lines[2];
    req.raw_query = lines[3];
    if (lines[0].len) {
        h[nh++] = (struct sigv4_header){CV_STR("Authorization"), lines[0]};
    }
    for (size_t i = 4; i < nl && nh < CV_ARRAY_LEN(h); i++) {
        struct cv_str name, value;
        if (!cv_str_split(lines[i], ':', &name, &value)) {
            continue;
        }
        h[nh++] = (struct sigv4_header){name, value};
    }
    req.headers = h;
    req.nheaders = nh;
    if (flags & 4) {
        req.payload_hash = CV_STR(SIGV4_UNSIGNED_PAYLOAD);
    }

    if (sigv4_parse(&req, &p, NULL, 0) == CV_OK && p.kind != SIGV4_AUTH_NONE) {
        struct sigv4_signing_key key;
        struct cv_buf scratch = CV_BUF_INIT(1 << 22), creq = CV_BUF_INIT(1 << 22);
        cv_err e;
        char amz[17];

        (void)sigv4_check_time(&p, 1369353600);
        sigv4_amz_date(&p, amz);
        sigv4_derive_key(&key, CV_STR(SECRET), &p.scope);
        e = sigv4_verify(&req, &p, &key, flags, &scratch);
        if (e == CV_S3_SIGNATURE_DOES_NOT_MATCH) {
            /* scratch: the canonical request (as canonical_request builds it), NUL, string to sign
             */
            if (sigv4_canonical_request(&req, &p, flags, &creq) != CV_OK ||
                scratch.len < creq.len + 1 + 17 || memcmp(scratch.ptr, creq.ptr, creq.len) != 0 ||
                scratch.ptr[creq.len] != '\0' ||
                memcmp(scratch.ptr + creq.len + 1, "AWS4-HMAC-SHA256\n", 17) != 0) {
                abort();
            }
        }
        cv_buf_release(&scratch);
        cv_buf_release(&creq);
    }
    roundtrip(&req, flags & 3u);
    return 0;
}
