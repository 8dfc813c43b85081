/*
 * End to end through the HTTP front, in-process: a store on 127.0.0.1
 * (ephemeral port, fixed clock) driven with requests signed by our SigV4
 * signer, reusing fuzz/fuzz_store_http.c's harness as the client.
 *
 *   - CompleteMultipartUpload compares each part's ETag exactly: "*" or an
 *     ETag list is InvalidPart, as on AWS; the right ETag, quoted or not,
 *     completes.
 *   - ListObjectsV2 pages through continuation tokens over HTTP.
 */
#include "test.h"
#include "../../../fuzz/fuzz_store_http.c"

/* A signed request; returns the status, body into @p body (may be NULL). */
static int call(const char *method, const char *path, const char *query, const char *body,
                struct cv_buf *out)
{
    struct hreq q;
    struct cv_buf w = CV_BUF_INIT(1 << 20);
    struct reply rp;
    char hash[65];
    int status;

    hreq_init(&q);
    assert_int_equal(cv_buf_grow(&q.hstore, 1 << 16), CV_OK);
    assert_int_equal(cv_buf_adds(&q.path, path), CV_OK);
    if (query[0]) {
        assert_int_equal(cv_buf_adds(&q.query, query), CV_OK);
    }
    q.method = method;
    sha256_hex(body, strlen(body), hash);
    assert_true(sign(&q, "s3", hash, NULL));
    wire(&q, (struct cv_str){q.query.ptr ? q.query.ptr : "", q.query.len}, cv_str_c(body), &w);
    roundtrip(w.ptr, w.len, false, 10000, &rp);
    status = check_response(&rp, strcmp(method, "HEAD") == 0);
    if (out && rp.data.ptr) {
        const char *b = strstr(rp.data.ptr, "\r\n\r\n");
        cv_buf_reset(out);
        assert_int_equal(cv_buf_adds(out, b ? b + 4 : ""), CV_OK);
    }
    cv_buf_release(&rp.data);
    cv_buf_release(&w);
    hreq_release(&q);
    return status;
}

/* The text of the first <name> element of @p xml into @p out. */
static void xml_value(const struct cv_buf *xml, const char *name, char *out, size_t cap)
{
    char open[64], close[64];
    const char *s, *e;

    snprintf(open, sizeof(open), "<%s>", name);
    snprintf(close, sizeof(close), "</%s>", name);
    out[0] = '\0';
    s = xml->ptr ? strstr(xml->ptr, open) : NULL;
    e = s ? strstr(s, close) : NULL;
    if (s && e) {
        s += strlen(open);
        snprintf(out, cap, "%.*s", (int)(e - s), s);
    }
}

static void test_complete_etag(void **state)
{
    struct cv_buf b = CV_BUF_INIT(1 << 20);
    char upload[128], query[256], etag[80], doc[512], bare[80];
    static const char part[] = "part one data";

    (void)state;
    assert_int_equal(call("POST", "/" BUCKET "/mpu.bin", "uploads", "", &b), 200);
    xml_value(&b, "UploadId", upload, sizeof(upload));
    assert_true(upload[0] != '\0');
    snprintf(query, sizeof(query), "partNumber=1&uploadId=%s", upload);
    {
        /* The part's ETag comes back in a header. */
        struct hreq q;
        struct cv_buf w = CV_BUF_INIT(1 << 20);
        struct reply rp;
        char hash[65];
        const char *h;
        hreq_init(&q);
        assert_int_equal(cv_buf_grow(&q.hstore, 1 << 16), CV_OK);
        assert_int_equal(cv_buf_adds(&q.path, "/" BUCKET "/mpu.bin"), CV_OK);
        assert_int_equal(cv_buf_adds(&q.query, query), CV_OK);
        q.method = "PUT";
        sha256_hex(part, sizeof(part) - 1, hash);
        assert_true(sign(&q, "s3", hash, NULL));
        wire(&q, (struct cv_str){q.query.ptr, q.query.len}, CV_STR(part), &w);
        roundtrip(w.ptr, w.len, false, 10000, &rp);
        assert_int_equal(check_response(&rp, false), 200);
        h = strcasestr(rp.data.ptr, "\r\nETag: ");
        assert_non_null(h);
        snprintf(etag, sizeof(etag), "%.*s", (int)strcspn(h + 8, "\r"), h + 8);
        cv_buf_release(&rp.data);
        cv_buf_release(&w);
        hreq_release(&q);
    }
    assert_true(etag[0] == '"');
    snprintf(bare, sizeof(bare), "%.*s", (int)strlen(etag) - 2, etag + 1);
    snprintf(query, sizeof(query), "uploadId=%s", upload);

    {
        char l1[200], l2[200];
        const char *wrong[6] = {"*", "\"*\"", "W/*",
                                l1,  l2,      "\"00000000000000000000000000000000\""};
        snprintf(l1, sizeof(l1), "\"0000\", %s", etag);
        snprintf(l2, sizeof(l2), "%s, \"0000\"", etag);
        for (size_t i = 0; i < CV_ARRAY_LEN(wrong); i++) {
            snprintf(doc, sizeof(doc),
                     "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag>"
                     "</Part></CompleteMultipartUpload>",
                     wrong[i]);
            if (call("POST", "/" BUCKET "/mpu.bin", query, doc, &b) != 400 ||
                !strstr(b.ptr, "<Code>InvalidPart</Code>")) {
                fail_msg("ETag '%s' completed the upload: %s", wrong[i], b.ptr);
            }
        }
    }
    /* Unquoted is the same ETag. */
    snprintf(doc, sizeof(doc),
             "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag>"
             "</Part></CompleteMultipartUpload>",
             bare);
    assert_int_equal(call("POST", "/" BUCKET "/mpu.bin", query, doc, &b), 200);
    assert_non_null(strstr(b.ptr, "<CompleteMultipartUploadResult"));
    assert_int_equal(call("GET", "/" BUCKET "/mpu.bin", "", "", &b), 200);
    assert_string_equal(b.ptr, part);
    cv_buf_release(&b);
}

static void test_list_v2_paging(void **state)
{
    struct cv_buf b = CV_BUF_INIT(1 << 20), seen = CV_BUF_INIT(1 << 20);
    char token[512] = "", query[1024], path[64];
    int pages = 0;

    (void)state;
    assert_int_equal(call("PUT", "/pg-bkt", "", "", NULL), 200);
    for (int i = 0; i < 7; i++) {
        snprintf(path, sizeof(path), "/pg-bkt/k%d", i);
        assert_int_equal(call("PUT", path, "", "x", NULL), 200);
    }
    assert_int_equal(call("PUT", "/pg-bkt/sub/a", "", "x", NULL), 200);
    assert_int_equal(call("PUT", "/pg-bkt/sub/b", "", "x", NULL), 200);
    for (;;) {
        char trunc[16];
        const char *s;
        if (token[0]) {
            struct cv_buf enc = CV_BUF_INIT(1024);
            assert_int_equal(cv_uri_encode(&enc, cv_str_c(token), false), CV_OK);
            snprintf(query, sizeof(query),
                     "continuation-token=%s&delimiter=%%2F&list-type=2&"
                     "max-keys=3",
                     enc.ptr);
            cv_buf_release(&enc);
        } else {
            snprintf(query, sizeof(query), "delimiter=%%2F&list-type=2&max-keys=3");
        }
        assert_int_equal(call("GET", "/pg-bkt", query, "", &b), 200);
        pages++;
        for (s = strstr(b.ptr, "<Key>"); s; s = strstr(s + 5, "<Key>")) {
            assert_int_equal(cv_buf_addf(&seen, "%.*s ", (int)strcspn(s + 5, "<"), s + 5), CV_OK);
        }
        for (s = strstr(b.ptr, "<Prefix>sub/"); s; s = strstr(s + 8, "<Prefix>sub/")) {
            assert_int_equal(cv_buf_adds(&seen, "[sub/] "), CV_OK);
        }
        xml_value(&b, "IsTruncated", trunc, sizeof(trunc));
        if (strcmp(trunc, "true") != 0) {
            break;
        }
        xml_value(&b, "NextContinuationToken", token, sizeof(token));
        assert_true(token[0] != '\0');
        assert_true(pages < 10);
    }
    assert_string_equal(seen.ptr, "k0 k1 k2 k3 k4 k5 k6 [sub/] ");
    assert_int_equal(pages, 3);
    cv_buf_release(&b);
    cv_buf_release(&seen);
}

static int setup(void **state)
{
    int argc = 0;
    char **argv = NULL;

    (void)state;
    return LLVMFuzzerInitialize(&argc, &argv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_etag),
        cmocka_unit_test(test_list_v2_paging),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
