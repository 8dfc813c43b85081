/* Unit tests for the base module. */
#include "test.h"

static void buf_basics(void **state)
{
    struct cv_buf b = CV_BUF_INIT(16);
    char *p;
    size_t n;

    (void)state;
    assert_int_equal(cv_buf_adds(&b, "hello"), CV_OK);
    assert_int_equal(cv_buf_addf(&b, " %d", 42), CV_OK);
    assert_string_equal(b.ptr, "hello 42");
    assert_int_equal(b.len, 8);
    assert_int_equal(cv_buf_add(&b, "\0x", 2), CV_OK);
    assert_int_equal(b.len, 10);
    cv_buf_setlen(&b, 5);
    assert_string_equal(b.ptr, "hello");
    /* Over the cap: the buffer is released, the error is ETOOBIG. */
    assert_int_equal(cv_buf_adds(&b, "0123456789abcdef"), CV_ETOOBIG);
    assert_null(b.ptr);
    assert_int_equal(b.len, 0);
    assert_int_equal(cv_buf_adds(&b, "0123456789abcdef"), CV_OK); /* exactly max */
    p = cv_buf_detach(&b, &n);
    assert_int_equal(n, 16);
    assert_null(b.ptr);
    cv_free(p);
    p = cv_buf_detach(&b, &n);
    assert_string_equal(p, "");
    cv_free(p);
    cv_buf_release(NULL);
}

static void buf_escape(void **state)
{
    struct cv_buf b = CV_BUF_INIT(1024);

    (void)state;
    assert_int_equal(cv_buf_add_xml(&b, "a<b>&\"c'\x01", 9), CV_OK);
    assert_string_equal(b.ptr, "a&lt;b&gt;&amp;&quot;c&apos;&#x1;");
    cv_buf_reset(&b);
    assert_int_equal(cv_buf_add_json(&b, "q\"\\\n\x02", 5), CV_OK);
    assert_string_equal(b.ptr, "q\\\"\\\\\\n\\u0002");
    cv_buf_release(&b);
}

static cv_err buf_alloc_body(void)
{
    struct cv_buf b = CV_BUF_INIT(1 << 20);
    cv_err err = CV_OK;
    int i;

    for (i = 0; i < 100 && !err; i++) {
        err = cv_buf_addf(&b, "line %d of some text\n", i);
    }
    cv_buf_release(&b);
    return err;
}

static void buf_alloc_sweep(void **state)
{
    (void)state;
    CV_ALLOC_SWEEP(buf_alloc_body());
}

static void str_parse(void **state)
{
    uint64_t u;
    int64_t i;
    struct cv_str h, t;

    (void)state;
    assert_int_equal(cv_parse_u64(CV_STR("18446744073709551615"), &u), CV_OK);
    assert_true(u == UINT64_MAX);
    assert_int_equal(cv_parse_u64(CV_STR("18446744073709551616"), &u), CV_EPARSE);
    assert_int_equal(cv_parse_u64(CV_STR(""), &u), CV_EPARSE);
    assert_int_equal(cv_parse_u64(CV_STR("12a"), &u), CV_EPARSE);
    assert_int_equal(cv_parse_u64(CV_STR("+1"), &u), CV_EPARSE);
    assert_int_equal(cv_parse_i64(CV_STR("-9223372036854775808"), &i), CV_OK);
    assert_true(i == INT64_MIN);
    assert_int_equal(cv_parse_i64(CV_STR("9223372036854775808"), &i), CV_EPARSE);
    assert_true(cv_str_split(CV_STR("a=b=c"), '=', &h, &t));
    assert_true(cv_str_eq_c(h, "a") && cv_str_eq_c(t, "b=c"));
    assert_false(cv_str_split(CV_STR("abc"), '=', &h, &t));
    assert_true(cv_str_eq_c(h, "abc") && t.len == 0);
    assert_true(cv_str_eq_c(cv_str_trim(CV_STR(" \t x y \t")), "x y"));
    assert_true(cv_str_eq_ci_c(CV_STR("Content-MD5"), "content-md5"));
    assert_true(cv_str_cmp(CV_STR("a"), CV_STR("ab")) < 0);
    assert_true(cv_str_cmp(CV_STR("b"), CV_STR("ab")) > 0);
}

static void str_codecs(void **state)
{
    struct cv_buf b = CV_BUF_INIT(1024);
    uint8_t raw[4];
    char hex[9];

    (void)state;
    assert_int_equal(cv_hex_decode(CV_STR("DEADbeef"), raw, 4), CV_OK);
    cv_hex_encode(raw, 4, hex);
    assert_string_equal(hex, "deadbeef");
    assert_int_equal(cv_hex_decode(CV_STR("DEADbee"), raw, 4), CV_EPARSE);
    assert_int_equal(cv_hex_decode(CV_STR("DEADbeeg"), raw, 4), CV_EPARSE);

    assert_int_equal(cv_base64_encode(&b, (const uint8_t *)"foobar", 6), CV_OK);
    assert_string_equal(b.ptr, "Zm9vYmFy");
    cv_buf_reset(&b);
    assert_int_equal(cv_base64_encode(&b, (const uint8_t *)"fo", 2), CV_OK);
    assert_string_equal(b.ptr, "Zm8=");
    cv_buf_reset(&b);
    assert_int_equal(cv_base64_decode(&b, CV_STR("Zm9vYg==")), CV_OK);
    assert_string_equal(b.ptr, "foob");
    cv_buf_reset(&b);
    assert_int_equal(cv_base64_decode(&b, CV_STR("Zm9vY")), CV_EPARSE);
    assert_int_equal(cv_base64_decode(&b, CV_STR("Zm=vYg==")), CV_EPARSE);
    assert_int_equal(cv_base64_decode(&b, CV_STR("Zm9v\nYg==")), CV_EPARSE);
    cv_buf_reset(&b);

    assert_int_equal(cv_uri_encode(&b, CV_STR("a b/c~d$é"), true), CV_OK);
    assert_string_equal(b.ptr, "a%20b/c~d%24%C3%A9");
    cv_buf_reset(&b);
    assert_int_equal(cv_uri_encode(&b, CV_STR("a/b"), false), CV_OK);
    assert_string_equal(b.ptr, "a%2Fb");
    cv_buf_reset(&b);
    assert_int_equal(cv_uri_decode(&b, CV_STR("a%2Fb+c%7e"), true), CV_OK);
    assert_string_equal(b.ptr, "a/b c~");
    cv_buf_reset(&b);
    assert_int_equal(cv_uri_decode(&b, CV_STR("bad%2"), false), CV_EPARSE);
    cv_buf_reset(&b);
    assert_int_equal(cv_uri_decode(&b, CV_STR("bad%zz"), false), CV_EPARSE);
    cv_buf_release(&b);
}

static void utf8(void **state)
{
    (void)state;
    assert_true(cv_utf8_valid("plain", 5));
    assert_true(cv_utf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9));
    assert_false(cv_utf8_valid("\xc0\xaf", 2));         /* overlong */
    assert_false(cv_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(cv_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(cv_utf8_valid("\xe2\x82", 2));         /* truncated */
    assert_false(cv_utf8_valid("\xff", 1));
}

static void clock_formats(void **state)
{
    char amz[17], iso[25], http[30];
    int64_t t, ms;
    struct cv_clock c;

    (void)state;
    cv_time_amz(1369353600, amz);
    assert_string_equal(amz, "20130524T000000Z");
    cv_time_iso8601_ms(1369353600123, iso);
    assert_string_equal(iso, "2013-05-24T00:00:00.123Z");
    cv_time_http(1369353600, http);
    assert_string_equal(http, "Fri, 24 May 2013 00:00:00 GMT");
    assert_int_equal(cv_time_parse_amz(CV_STR("20130524T000000Z"), &t), CV_OK);
    assert_int_equal(t, 1369353600);
    assert_int_equal(cv_time_parse_amz(CV_STR("20130230T000000Z"), &t), CV_EPARSE);
    assert_int_equal(cv_time_parse_amz(CV_STR("20130524T000000"), &t), CV_EPARSE);
    assert_int_equal(cv_time_parse_http(CV_STR("Fri, 24 May 2013 00:00:00 GMT"), &t), CV_OK);
    assert_int_equal(t, 1369353600);
    assert_int_equal(cv_time_parse_http(CV_STR("Friday, 24-May-13 00:00:00 GMT"), &t), CV_OK);
    assert_int_equal(t, 1369353600);
    assert_int_equal(cv_time_parse_http(CV_STR("Fri May 24 00:00:00 2013"), &t), CV_OK);
    assert_int_equal(t, 1369353600);
    assert_int_equal(cv_time_parse_http(CV_STR("yesterday"), &t), CV_EPARSE);
    /* RFC 2822 zones (Python's email.utils.formatdate, botocore's Date header). */
    assert_int_equal(cv_time_parse_http(CV_STR("Fri, 24 May 2013 00:00:00 -0000"), &t), CV_OK);
    assert_int_equal(t, 1369353600);
    assert_int_equal(cv_time_parse_http(CV_STR("Fri, 24 May 2013 02:00:00 +0200"), &t), CV_OK);
    assert_int_equal(t, 1369353600);
    assert_int_equal(cv_time_parse_http(CV_STR("Fri, 24 May 2013 00:00:00 +2400"), &t), CV_EPARSE);
    assert_int_equal(cv_time_parse_http(CV_STR("Fri, 24 May 2013 00:00:00 XYZ"), &t), CV_EPARSE);
    assert_int_equal(cv_time_parse_iso8601(CV_STR("2013-05-24T00:00:00Z"), &ms), CV_OK);
    assert_int_equal(ms, 1369353600000);
    assert_int_equal(cv_time_parse_iso8601(CV_STR("2013-05-24T02:00:00.5+02:00"), &ms), CV_OK);
    assert_int_equal(ms, 1369353600500);
    assert_int_equal(cv_time_parse_iso8601(CV_STR("2013-05-24"), &ms), CV_OK);
    assert_int_equal(ms, 1369353600000);
    assert_int_equal(cv_time_parse_iso8601(CV_STR("2013-13-24"), &ms), CV_EPARSE);
    cv_clock_fixed(&c, 42);
    assert_int_equal(cv_clock_now_ms(&c), 42);
    assert_true(cv_clock_now_ms(cv_clock_system()) > 1700000000000);
}

static void crypto_hashes(void **state)
{
    uint8_t d[32];
    char hex[65];
    struct cv_sha256 s;
    struct cv_sha1 s1;

    (void)state;
    cv_sha256("", 0, d);
    cv_hex_encode(d, 32, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    cv_sha256_init(&s);
    cv_sha256_update(&s, "a", 1);
    cv_sha256_update(&s, "bc", 2);
    cv_sha256_final(&s, d);
    cv_hex_encode(d, 32, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* RFC 4231 test case 2 */
    cv_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, d);
    cv_hex_encode(d, 32, hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* RFC 4231 test case 6: a key longer than the block */
    {
        uint8_t key[131];
        memset(key, 0xaa, sizeof(key));
        cv_hmac_sha256(key, sizeof(key), "Test Using Larger Than Block-Size Key - Hash Key First",
                       54, d);
        cv_hex_encode(d, 32, hex);
        assert_string_equal(hex,
                            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }
    /* RFC 2202 HMAC-SHA1 test cases 2 and 6 (a key longer than the block) */
    cv_hmac_sha1("Jefe", 4, "what do ya want for nothing?", 28, d);
    cv_hex_encode(d, 20, hex);
    assert_string_equal(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    {
        uint8_t key[80];
        memset(key, 0xaa, sizeof(key));
        cv_hmac_sha1(key, sizeof(key), "Test Using Larger Than Block-Size Key - Hash Key First",
                     54, d);
        cv_hex_encode(d, 20, hex);
        assert_string_equal(hex, "aa4ae5e15272d00e95705637ce8a3b55ed402112");
    }
    cv_md5("", 0, d);
    cv_hex_encode(d, 16, hex);
    assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
    cv_sha1_init(&s1);
    cv_sha1_update(&s1, "abc", 3);
    cv_sha1_final(&s1, d);
    cv_hex_encode(d, 20, hex);
    assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
}

static void crypto_crcs(void **state)
{
    char big[1000];
    uint32_t a;

    (void)state;
    assert_true(cv_crc32(0, "123456789", 9) == 0xCBF43926u);
    assert_true(cv_crc32c(0, "123456789", 9) == 0xE3069283u);
    assert_true(cv_crc64nvme(0, "123456789", 9) == 0xAE8B14860A799888ull);
    /* Streaming equals one shot, at odd split points. */
    memset(big, 'x', sizeof(big));
    a = cv_crc32c(cv_crc32c(0, big, 333), big + 333, sizeof(big) - 333);
    assert_true(a == cv_crc32c(0, big, sizeof(big)));
    assert_true(cv_crc64nvme(cv_crc64nvme(0, big, 7), big + 7, sizeof(big) - 7) ==
                cv_crc64nvme(0, big, sizeof(big)));
}

static void crypto_aead(void **state)
{
    uint8_t key[32];
    struct cv_buf sealed = CV_BUF_INIT(1024), plain = CV_BUF_INIT(1024);

    (void)state;
    memset(key, 7, sizeof(key));
    assert_int_equal(cv_aead_seal(&sealed, key, "secret", 6, "aad", 3), CV_OK);
    assert_int_equal(sealed.len, 12 + 6 + 16);
    assert_null(memmem(sealed.ptr, sealed.len, "secret", 6));
    assert_int_equal(cv_aead_open(&plain, key, sealed.ptr, sealed.len, "aad", 3), CV_OK);
    assert_string_equal(plain.ptr, "secret");
    cv_buf_reset(&plain);
    assert_int_equal(cv_aead_open(&plain, key, sealed.ptr, sealed.len, "aaX", 3), CV_ECRYPTO);
    sealed.ptr[14] ^= 1;
    cv_buf_reset(&plain);
    assert_int_equal(cv_aead_open(&plain, key, sealed.ptr, sealed.len, "aad", 3), CV_ECRYPTO);
    assert_true(cv_ct_equal("abc", "abc", 3));
    assert_false(cv_ct_equal("abc", "abd", 3));
    cv_buf_release(&sealed);
    cv_buf_release(&plain);
}

static void files(void **state)
{
    char dir[] = "/tmp/cv-test-XXXXXX";
    char path[256], sub[256];
    struct cv_buf b = CV_BUF_INIT(1024);

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/f", dir);
    assert_int_equal(cv_file_write_atomic(path, "one", 3, 0600), CV_OK);
    assert_int_equal(cv_file_write_atomic(path, "two!", 4, 0600), CV_OK);
    assert_int_equal(cv_file_read(path, &b), CV_OK);
    assert_string_equal(b.ptr, "two!");
    snprintf(sub, sizeof(sub), "%s/a/b/c", dir);
    assert_int_equal(cv_mkdir_p(sub, 0700), CV_OK);
    assert_int_equal(cv_mkdir_p(sub, 0700), CV_OK);
    cv_buf_reset(&b);
    snprintf(sub, sizeof(sub), "%s/missing", dir);
    assert_int_equal(cv_file_read(sub, &b), CV_ENOENT);
    cv_buf_release(&b);
    unlink(path);
    snprintf(sub, sizeof(sub), "rm -rf '%s'", dir);
    assert_int_equal(system(sub), 0);
}

static void arena(void **state)
{
    struct cv_arena a = CV_ARENA_INIT(256);
    char *s, *big;
    int i;

    (void)state;
    for (i = 0; i < 100; i++) {
        s = cv_arena_strndup(&a, "hello", 5);
        assert_non_null(s);
        assert_string_equal(s, "hello");
        assert_true(((uintptr_t)s & 15) == 0);
    }
    big = cv_arena_alloc(&a, 10000);
    assert_non_null(big);
    memset(big, 1, 10000);
    s = cv_arena_strndup(&a, "after", 5);
    assert_string_equal(s, "after");
    cv_arena_release(&a);
    assert_null(a.head);
    cv_arena_release(&a);
}

static void errors(void **state)
{
    (void)state;
    assert_string_equal(cv_err_wire_code(CV_S3_NO_SUCH_KEY), "NoSuchKey");
    assert_int_equal(cv_err_http_status(CV_S3_NO_SUCH_KEY), 404);
    assert_string_equal(cv_err_name(CV_ENOMEM), "ENOMEM");
    assert_string_equal(cv_err_str(CV_S3_NO_SUCH_BUCKET), "The specified bucket does not exist");
    assert_string_equal(cv_err_wire_code((cv_err)9999), "InternalError");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_basics),    cmocka_unit_test(buf_escape),
        cmocka_unit_test(buf_alloc_sweep), cmocka_unit_test(str_parse),
        cmocka_unit_test(str_codecs),    cmocka_unit_test(utf8),
        cmocka_unit_test(clock_formats), cmocka_unit_test(crypto_hashes),
        cmocka_unit_test(crypto_crcs),   cmocka_unit_test(crypto_aead),
        cmocka_unit_test(files), cmocka_unit_test(arena),         cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
