/*
 * The small request-header parsers of the store: Range (s3_parse_range),
 * x-amz-copy-source-range (s3_parse_copy_range) and ETag list matching for
 * If-Match / If-None-Match (s3_etag_matches). Table-driven, one named row
 * per case.
 */
#include "store/store_int.h"
#include "test.h"

/* ---------------------------------------------------------------- Range */

struct range_case {
    const char *name;
    const char *hdr; /* NULL: no header */
    uint64_t size;
    enum range_result want;
    uint64_t off, len; /* when RANGE_OK */
};

static const struct range_case range_cases[] = {
    /* bytes=a-b */
    {"first-last", "bytes=0-9", 100, RANGE_OK, 0, 10},
    {"middle", "bytes=10-19", 100, RANGE_OK, 10, 10},
    {"one byte", "bytes=5-5", 100, RANGE_OK, 5, 1},
    {"last byte exact", "bytes=99-99", 100, RANGE_OK, 99, 1},
    {"last clamped to size", "bytes=50-1000", 100, RANGE_OK, 50, 50},
    {"last at UINT64_MAX", "bytes=0-18446744073709551615", 100, RANGE_OK, 0, 100},
    {"whole object", "bytes=0-99", 100, RANGE_OK, 0, 100},
    /* bytes=a- */
    {"open ended", "bytes=10-", 100, RANGE_OK, 10, 90},
    {"open ended from 0", "bytes=0-", 100, RANGE_OK, 0, 100},
    {"open ended last byte", "bytes=99-", 100, RANGE_OK, 99, 1},
    /* bytes=-n */
    {"suffix", "bytes=-10", 100, RANGE_OK, 90, 10},
    {"suffix whole", "bytes=-100", 100, RANGE_OK, 0, 100},
    {"suffix larger than object", "bytes=-500", 100, RANGE_OK, 0, 100},
    {"suffix one", "bytes=-1", 1, RANGE_OK, 0, 1},
    /* whitespace */
    {"leading and trailing space", "  bytes=1-2  ", 100, RANGE_OK, 1, 2},
    {"space after =", "bytes= 1-2", 100, RANGE_OK, 1, 2},
    {"space around dash", "bytes=1 - 2", 100, RANGE_OK, 1, 2},
    {"tab", "\tbytes=\t3-4\t", 100, RANGE_OK, 3, 2},
    /* multi-range: S3 sends the whole object */
    {"multi-range", "bytes=0-1,5-6", 100, RANGE_NONE, 0, 0},
    {"multi-range trailing comma", "bytes=0-1,", 100, RANGE_NONE, 0, 0},
    /* syntactically invalid: ignored */
    {"absent", NULL, 100, RANGE_NONE, 0, 0},
    {"empty", "", 100, RANGE_NONE, 0, 0},
    {"other unit", "items=0-1", 100, RANGE_NONE, 0, 0},
    {"no equals", "bytes 0-1", 100, RANGE_NONE, 0, 0},
    {"no dash", "bytes=5", 100, RANGE_NONE, 0, 0},
    {"dash only", "bytes=-", 100, RANGE_NONE, 0, 0},
    {"nothing after =", "bytes=", 100, RANGE_NONE, 0, 0},
    {"reversed", "bytes=9-3", 100, RANGE_NONE, 0, 0},
    {"reversed past end", "bytes=500-200", 100, RANGE_NONE, 0, 0},
    {"negative first", "bytes=--5", 100, RANGE_NONE, 0, 0},
    {"plus sign", "bytes=+1-2", 100, RANGE_NONE, 0, 0},
    {"letters", "bytes=a-b", 100, RANGE_NONE, 0, 0},
    {"hex", "bytes=0x1-0x2", 100, RANGE_NONE, 0, 0},
    {"two dashes", "bytes=1-2-3", 100, RANGE_NONE, 0, 0},
    {"first overflows", "bytes=18446744073709551616-", 100, RANGE_NONE, 0, 0},
    {"suffix overflows", "bytes=-18446744073709551616", 100, RANGE_NONE, 0, 0},
    {"space inside number", "bytes=1 0-20", 100, RANGE_NONE, 0, 0},
    /* unsatisfiable */
    {"first == size", "bytes=100-200", 100, RANGE_UNSATISFIABLE, 0, 0},
    {"first > size", "bytes=1000-", 100, RANGE_UNSATISFIABLE, 0, 0},
    {"first == size open", "bytes=100-", 100, RANGE_UNSATISFIABLE, 0, 0},
    {"suffix zero", "bytes=-0", 100, RANGE_UNSATISFIABLE, 0, 0},
    {"empty object first-last", "bytes=0-0", 0, RANGE_UNSATISFIABLE, 0, 0},
    {"empty object open", "bytes=0-", 0, RANGE_UNSATISFIABLE, 0, 0},
    {"empty object suffix", "bytes=-5", 0, RANGE_UNSATISFIABLE, 0, 0},
    /* an empty object with an invalid header is still just ignored */
    {"empty object invalid", "bytes=x", 0, RANGE_NONE, 0, 0},
    /* huge objects */
    {"huge object tail", "bytes=-1", UINT64_MAX, RANGE_OK, UINT64_MAX - 1, 1},
    {"huge object open", "bytes=1-", UINT64_MAX, RANGE_OK, 1, UINT64_MAX - 1},
};

static void test_range(void **state)
{
    (void)state;
    for (size_t i = 0; i < CV_ARRAY_LEN(range_cases); i++) {
        const struct range_case *c = &range_cases[i];
        uint64_t off = 0xDEAD, len = 0xBEEF;
        struct cv_str h = c->hdr ? cv_str_c(c->hdr) : CV_STR_NULL;
        enum range_result got = s3_parse_range(h, c->size, &off, &len);

        if (got != c->want) {
            fail_msg("range case '%s': got %d, want %d", c->name, (int)got, (int)c->want);
        }
        if (got == RANGE_OK) {
            if (off != c->off || len != c->len) {
                fail_msg("range case '%s': got [%llu,+%llu), want [%llu,+%llu)", c->name,
                         (unsigned long long)off, (unsigned long long)len,
                         (unsigned long long)c->off, (unsigned long long)c->len);
            }
            assert_true(len > 0);
            assert_true(off + len <= c->size && off + len >= off);
        } else if (off != 0xDEAD || len != 0xBEEF) {
            fail_msg("range case '%s': outputs written on a non-OK result", c->name);
        }
    }
}

/* A header that is not NUL-terminated is read only within its length. */
static void test_range_unterminated(void **state)
{
    char buf[16];
    uint64_t off = 0, len = 0;

    (void)state;
    memcpy(buf, "bytes=1-23456789", 16); /* length given as 9: "bytes=1-2" */
    assert_int_equal(s3_parse_range((struct cv_str){buf, 9}, 100, &off, &len), RANGE_OK);
    assert_int_equal(off, 1);
    assert_int_equal(len, 2);
}

/* ------------------------------------------------ x-amz-copy-source-range */

struct copy_case {
    const char *name;
    const char *hdr;
    uint64_t size;
    cv_err want;
    uint64_t off, len;
};

static const struct copy_case copy_cases[] = {
    {"first-last", "bytes=0-9", 100, CV_OK, 0, 10},
    {"whole", "bytes=0-99", 100, CV_OK, 0, 100},
    {"one byte", "bytes=42-42", 100, CV_OK, 42, 1},
    {"last byte", "bytes=99-99", 100, CV_OK, 99, 1},
    {"outer whitespace", " bytes=1-2 ", 100, CV_OK, 1, 2},
    /* syntax: InvalidArgument */
    {"open ended", "bytes=0-", 100, CV_S3_INVALID_ARGUMENT, 0, 0},
    {"suffix", "bytes=-10", 100, CV_S3_INVALID_ARGUMENT, 0, 0},
    {"reversed", "bytes=9-3", 100, CV_S3_INVALID_ARGUMENT, 0, 0},
    {"multi", "bytes=0-1,2-3", 100, CV_S3_INVALID_ARGUMENT, 0, 0},
    {"no prefix", "0-9", 100, CV_S3_INVALID_ARGUMENT, 0, 0},
    {"empty", "", 100, CV_S3_INVALID_ARGUMENT, 0, 0},
    {"letters", "bytes=a-b", 100, CV_S3_INVALID_ARGUMENT, 0, 0},
    {"inner space", "bytes= 0-9", 100, CV_S3_INVALID_ARGUMENT, 0, 0},
    {"overflow", "bytes=0-18446744073709551616", 100, CV_S3_INVALID_ARGUMENT, 0, 0},
    /* bounds: InvalidRange */
    {"last == size", "bytes=0-100", 100, CV_S3_INVALID_RANGE, 0, 0},
    {"first past end", "bytes=100-150", 100, CV_S3_INVALID_RANGE, 0, 0},
    {"empty source", "bytes=0-0", 0, CV_S3_INVALID_RANGE, 0, 0},
};

static void test_copy_range(void **state)
{
    (void)state;
    for (size_t i = 0; i < CV_ARRAY_LEN(copy_cases); i++) {
        const struct copy_case *c = &copy_cases[i];
        uint64_t off = 0xDEAD, len = 0xBEEF;
        cv_err got = s3_parse_copy_range(cv_str_c(c->hdr), c->size, &off, &len);

        if (got != c->want) {
            fail_msg("copy range case '%s': got %s, want %s", c->name, cv_err_str(got),
                     cv_err_str(c->want));
        }
        if (got == CV_OK && (off != c->off || len != c->len)) {
            fail_msg("copy range case '%s': got [%llu,+%llu)", c->name, (unsigned long long)off,
                     (unsigned long long)len);
        }
        if (got == CV_OK) {
            assert_true(len > 0 && off + len <= c->size);
        }
    }
}

/* ----------------------------------------------------------------- ETags */

struct etag_case {
    const char *name;
    const char *header;
    const char *etag; /* as stored: quoted */
    bool want;
};

#define E1 "\"9bb58f26192e4ba00f01e2e7b136bbd8\""
#define E1_BARE "9bb58f26192e4ba00f01e2e7b136bbd8"

static const struct etag_case etag_cases[] = {
    {"quoted equal", E1, E1, true},
    {"unquoted header", E1_BARE, E1, true},
    {"unquoted stored", E1, E1_BARE, true},
    {"weak prefix", "W/" E1, E1, true},
    {"star", "*", E1, true},
    {"star quoted", "\"*\"", E1, true},
    {"list, second", "\"aaa\", " E1, E1, true},
    {"list, first", E1 ",\"bbb\"", E1, true},
    {"list with spaces", "  \"aaa\" ,  " E1 "  ", E1, true},
    {"list with star", "\"aaa\", *", E1, true},
    {"list with empty items", ",," E1 ",", E1, true},
    {"multipart etag", "\"d41d8cd98f00b204e9800998ecf8427e-2\"",
     "\"d41d8cd98f00b204e9800998ecf8427e-2\"", true},
    {"different", "\"0bb58f26192e4ba00f01e2e7b136bbd8\"", E1, false},
    {"list, none", "\"aaa\", \"bbb\"", E1, false},
    {"prefix only", "\"9bb58f26\"", E1, false},
    {"longer", "\"9bb58f26192e4ba00f01e2e7b136bbd8x\"", E1, false},
    {"unbalanced quote", "\"9bb58f26192e4ba00f01e2e7b136bbd8", E1, false},
    {"empty header", "", E1, false},
    {"only commas", ",,,", E1, false},
    {"case differs", "\"9BB58F26192E4BA00F01E2E7B136BBD8\"", E1, false},
    {"multipart suffix missing", "\"d41d8cd98f00b204e9800998ecf8427e\"",
     "\"d41d8cd98f00b204e9800998ecf8427e-2\"", false},
};

static void test_etag(void **state)
{
    (void)state;
    for (size_t i = 0; i < CV_ARRAY_LEN(etag_cases); i++) {
        const struct etag_case *c = &etag_cases[i];
        bool got = s3_etag_matches(cv_str_c(c->header), c->etag);
        if (got != c->want) {
            fail_msg("etag case '%s': got %d, want %d", c->name, got, c->want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_range_unterminated),
        cmocka_unit_test(test_copy_range),
        cmocka_unit_test(test_etag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
