/*
 * Independent signers: requests signed by botocore (S3SigV4Auth and
 * S3SigV4QueryAuth, through botocore_sign.py) and by `curl --aws-sigv4`
 * (captured on a loopback listener) must verify; one changed bit must not.
 * Skips with a message when python3/botocore or curl is missing.
 */
#include "sigv4/sigv4.h"
#include "test.h"
#include "sv_test.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#define PY "/usr/bin/python3"

/* Verifies @p r (kind, secret); 0 on success, prints the detail otherwise. */
static int verify_req(const char *what, struct sigv4_request *r, const char *secret,
                      enum sigv4_auth_kind kind, struct cv_buf *scratch)
{
    struct sigv4_parsed p;
    struct sigv4_signing_key key;
    char msg[256];
    cv_err e = sigv4_parse(r, &p, msg, sizeof(msg));

    if (e) {
        print_message("%s: parse: %s (%s)\n", what, cv_err_str(e), msg);
        return 1;
    }
    if (p.kind != kind) {
        print_message("%s: kind %d\n", what, p.kind);
        return 1;
    }
    e = sigv4_check_time(&p, time(NULL));
    if (e) {
        print_message("%s: time: %s\n", what, cv_err_str(e));
        return 1;
    }
    sigv4_derive_key(&key, cv_str_c(secret), &p.scope);
    e = sigv4_verify(r, &p, &key, 0, scratch);
    if (e) {
        print_message("%s: verify: %s\n%s\n", what, cv_err_str(e),
                      scratch->ptr ? scratch->ptr : "");
        return 1;
    }
    return 0;
}

/* Expects @p r to fail verification (after a change). */
static int expect_reject(const char *what, struct sigv4_request *r, const char *secret)
{
    struct sigv4_parsed p;
    struct sigv4_signing_key key;
    struct cv_buf scratch = CV_BUF_INIT(1 << 20);
    cv_err e = sigv4_parse(r, &p, NULL, 0);
    int bad = 0;

    if (e == CV_OK) {
        sigv4_derive_key(&key, cv_str_c(secret), &p.scope);
        e = sigv4_verify(r, &p, &key, 0, &scratch);
    }
    if (e == CV_OK) {
        print_message("%s: a changed request still verified\n", what);
        bad = 1;
    }
    cv_buf_release(&scratch);
    return bad;
}

static bool have_botocore(void)
{
    return access(PY, X_OK) == 0 && system(PY " -c 'import botocore.auth' >/dev/null 2>&1") == 0;
}

static void test_botocore_signed(void **state)
{
    const char *src = getenv("CV_SOURCE_DIR");
    char cmd[4096], line[1 << 16];
    FILE *f;
    int n = 0, bad = 0, nquery = 0;
    struct cv_buf scratch = CV_BUF_INIT(1 << 20);
    uint64_t x = 12345;

    CV_UNUSED(state);
    if (!src || !have_botocore()) {
        print_message("SKIP: " PY " with botocore (or CV_SOURCE_DIR) is missing\n");
        skip();
        return;
    }
    snprintf(cmd, sizeof(cmd), PY " %s/tests/unit/sigv4/botocore_sign.py 200", src);
    f = popen(cmd, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr), *hs;
        struct sigv4_header h[32];
        struct sigv4_request r;
        const char *secret, *kind;
        char what[64];
        size_t i, nh;
        enum sigv4_auth_kind k;

        assert_non_null(o);
        memset(&r, 0, sizeof(r));
        r.method = cv_str_c(json_string_value(json_object_get(o, "method")));
        r.raw_path = cv_str_c(json_string_value(json_object_get(o, "path")));
        r.raw_query = cv_str_c(json_string_value(json_object_get(o, "query")));
        secret = json_string_value(json_object_get(o, "secret"));
        kind = json_string_value(json_object_get(o, "kind"));
        hs = json_object_get(o, "headers");
        nh = json_array_size(hs);
        assert_true(nh <= CV_ARRAY_LEN(h));
        for (i = 0; i < nh; i++) {
            json_t *pair = json_array_get(hs, i);
            h[i].name = cv_str_c(json_string_value(json_array_get(pair, 0)));
            h[i].value = cv_str_c(json_string_value(json_array_get(pair, 1)));
        }
        r.headers = h;
        r.nheaders = nh;
        k = strcmp(kind, "query") == 0 ? SIGV4_AUTH_QUERY : SIGV4_AUTH_HEADER;
        nquery += k == SIGV4_AUTH_QUERY;
        snprintf(what, sizeof(what), "botocore #%d (%s)", n, kind);
        if (verify_req(what, &r, secret, k, &scratch)) {
            print_message("  %s %.*s?%.*s\n", json_string_value(json_object_get(o, "method")),
                          (int)r.raw_path.len, r.raw_path.ptr, (int)r.raw_query.len,
                          r.raw_query.ptr);
            bad++;
        }
        /* One bit changed: in the method, in a path letter, in the secret. */
        {
            char m[16], path[4096], sec[128];
            struct cv_str saved;
            snprintf(m, sizeof(m), "%.*s", (int)r.method.len, r.method.ptr);
            m[x++ % strlen(m)] ^= 0x01;
            saved = r.method;
            r.method = cv_str_c(m);
            bad += expect_reject(what, &r, secret);
            r.method = saved;

            snprintf(path, sizeof(path), "%.*s", (int)r.raw_path.len, r.raw_path.ptr);
            for (size_t t = 0, len = strlen(path); t < len; t++) {
                size_t pos = (size_t)(x++ % len);
                bool in_escape =
                    (pos >= 1 && path[pos - 1] == '%') || (pos >= 2 && path[pos - 2] == '%');
                if (((path[pos] >= 'a' && path[pos] <= 'z') ||
                     (path[pos] >= 'A' && path[pos] <= 'Z')) &&
                    !in_escape) {
                    path[pos] ^= 0x01;
                    saved = r.raw_path;
                    r.raw_path = cv_str_c(path);
                    bad += expect_reject(what, &r, secret);
                    r.raw_path = saved;
                    break;
                }
            }
            snprintf(sec, sizeof(sec), "%s", secret);
            sec[x++ % strlen(sec)] ^= 0x01;
            bad += expect_reject(what, &r, sec);
        }
        json_decref(o);
        n++;
    }
    assert_int_equal(pclose(f), 0);
    print_message("botocore: %d requests (%d presigned) verified, 1-bit changes rejected\n", n,
                  nquery);
    assert_int_equal(n, 200);
    assert_true(nquery > 30);
    assert_int_equal(bad, 0);
    cv_buf_release(&scratch);
}

/* ------------------------------------------------------------------ curl */

/* Reads one HTTP/1.1 request (headers + Content-Length body) from @p fd. */
static bool read_request(int fd, struct cv_buf *out)
{
    size_t need = 0;
    bool have_head = false;

    for (;;) {
        char buf[4096];
        struct pollfd pfd = {fd, POLLIN, 0};
        ssize_t n;
        if (poll(&pfd, 1, 10000) <= 0) {
            return false;
        }
        n = read(fd, buf, sizeof(buf));
        if (n <= 0) {
            return have_head && out->len >= need;
        }
        assert_int_equal(cv_buf_add(out, buf, (size_t)n), CV_OK);
        if (!have_head) {
            char *end = strstr(out->ptr, "\r\n\r\n");
            if (end) {
                char *cl = strcasestr(out->ptr, "\r\ncontent-length:");
                uint64_t len = 0;
                have_head = true;
                if (cl && cl < end) {
                    cl += 17;
                    while (*cl == ' ') {
                        cl++;
                    }
                    while (*cl >= '0' && *cl <= '9') {
                        len = len * 10 + (uint64_t)(*cl++ - '0');
                    }
                }
                need = (size_t)(end - out->ptr) + 4 + (size_t)len;
            }
        }
        if (have_head && out->len >= need) {
            return true;
        }
    }
}

#define CURL_AK "AKIDCURLEXAMPLE"
#define CURL_SK "curlSecret/Key+With=Odd/Chars0123456789"

/* Runs curl with @p opts on @p path against a one-shot listener; returns the request bytes. */
static bool curl_capture(const char *opts, const char *path, struct cv_buf *req)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0), cs;
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    char cmd[4096];
    FILE *f;
    bool ok;
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

    assert_true(ls >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(ls, 1), 0);
    assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &alen), 0);
    snprintf(cmd, sizeof(cmd),
             "curl -s -o /dev/null --max-time 10 --aws-sigv4 aws:amz:us-east-1:s3 "
             "--user " CURL_AK ":" CURL_SK " %s 'http://127.0.0.1:%d%s'",
             opts, ntohs(a.sin_port), path);
    f = popen(cmd, "r");
    assert_non_null(f);
    {
        struct pollfd pfd = {ls, POLLIN, 0};
        assert_true(poll(&pfd, 1, 10000) == 1);
    }
    cs = accept(ls, NULL, NULL);
    assert_true(cs >= 0);
    ok = read_request(cs, req);
    if (write(cs, resp, sizeof(resp) - 1) < 0) {
        ok = false;
    }
    close(cs);
    close(ls);
    pclose(f);
    return ok;
}

static void test_curl_signed(void **state)
{
    static const struct {
        const char *opts, *path;
    } cases[] = {
        {"", "/bucket/key.txt"},
        {"-H 'x-amz-meta-note:  two   spaces '", "/bucket/a%20b/c~d"},
        {"-X PUT --data-binary 'hello world' -H 'Content-Type: text/plain'", "/bucket/obj"},
        /* Sorted on purpose: curl before 8.1 signs the query unsorted (its bug). */
        {"", "/bucket?list-type=2&max-keys=10&prefix=photos%2F2006%2F"},
        {"", "/bucket?delete=&versionId=a%2Bb"},
        {"-X DELETE", "/bucket/k%C3%BC%24"},
        {"-I", "/bucket/head-me"},
    };
    int ok = 0;

    CV_UNUSED(state);
    if (system("curl --version >/dev/null 2>&1") != 0) {
        print_message("SKIP: curl is missing\n");
        skip();
        return;
    }
    for (size_t i = 0; i < CV_ARRAY_LEN(cases); i++) {
        struct cv_buf raw = CV_BUF_INIT(1 << 20), scratch = CV_BUF_INIT(1 << 20);
        struct sv_req r;
        char *copy;
        size_t len;
        char what[32];
        bool has_auth = false;

        assert_true(curl_capture(cases[i].opts, cases[i].path, &raw));
        copy = cv_memdup(raw.ptr, raw.len);
        len = raw.len;
        assert_true(sv_req_parse(&r, copy, len));
        /*
         * The payload line: the x-amz-content-sha256 header when curl sends
         * one (newer curl), else the SHA-256 of the body curl sent (7.88 signs
         * the body hash without the header; a store must hash the body then).
         */
        for (size_t k = 0; k < r.nh; k++) {
            has_auth = has_auth || cv_str_eq_ci_c(r.hdrs[k].name, "authorization");
            if (cv_str_eq_ci_c(r.hdrs[k].name, "x-amz-content-sha256")) {
                r.req.payload_hash = CV_STR_NULL;
            }
        }
        if (!has_auth) {
            print_message("curl sent no Authorization header:\n%s\n", raw.ptr);
            fail();
        }
        snprintf(what, sizeof(what), "curl case %zu", i);
        if (verify_req(what, &r.req, CURL_SK, SIGV4_AUTH_HEADER, &scratch)) {
            print_message("%s\n", raw.ptr);
            fail();
        }
        /* Another secret, another path: rejected. */
        assert_int_equal(expect_reject(what, &r.req, CURL_SK "x"), 0);
        r.req.raw_path = CV_STR("/bucket/other");
        assert_int_equal(expect_reject(what, &r.req, CURL_SK), 0);
        ok++;
        cv_free(copy);
        cv_buf_release(&raw);
        cv_buf_release(&scratch);
    }
    print_message("curl --aws-sigv4: %d requests verified\n", ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_botocore_signed),
        cmocka_unit_test(test_curl_signed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
