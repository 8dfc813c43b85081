/* The analysis end to end: documents, determinism, sentiment only, empty input, allocation failures. */
#include "insights/insights_int.h"
#include "test.h"

static char path_a[64], path_empty[64];

static void write_file(char *path, const char *tmpl, const char *data)
{
    snprintf(path, 64, "%s", tmpl);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(cv_write_all(fd, data, strlen(data)), CV_OK);
    close(fd);
}

static int setup(void **state)
{
    struct cv_buf b = CV_BUF_INIT(1 << 20);
    static const char *lines[] = {
        "The delivery was late again, the courier lost my parcel",
        "Shipping took two weeks, slow delivery",
        "Fast shipping and the courier was friendly",
        "The staff were rude and the waiter ignored us",
        "Friendly staff, attentive waiter",
        "Our server was great and the staff helpful",
        "Prices are too high for what you get",
        "Great value, the price was fair",
        "Nothing else to say",
    };
    CV_UNUSED(state);
    for (int rep = 0; rep < 4; rep++) {
        for (size_t i = 0; i < CV_ARRAY_LEN(lines); i++) {
            if (cv_buf_addf(&b, "{\"id\":\"r%d-%zu\",\"text\":\"%s\",\"created_at\":\"2024-03-%02dT10:00:00Z\"}\n",
                            rep, i, lines[i], 1 + rep * 7) != CV_OK) {
                return -1;
            }
        }
    }
    write_file(path_a, "/tmp/cv-analyze-XXXXXX", b.ptr);
    write_file(path_empty, "/tmp/cv-empty-XXXXXX", "");
    cv_buf_release(&b);
    return 0;
}

static int teardown(void **state)
{
    CV_UNUSED(state);
    unlink(path_a);
    unlink(path_empty);
    return 0;
}

struct lines {
    struct cv_buf b;
};

static cv_err sink_write(void *ud, const char *data, size_t len)
{
    return cv_buf_add(&((struct lines *)ud)->b, data, len);
}

/*
 * One analysis of @p path. @p recs takes the record lines (NULL drops them);
 * without @p with_sink there is no records sink at all (the spill then keeps
 * no pos/neu/neg, which only the lines show, and pass 2 formats line-number
 * ids only for kept quotes).
 */
static cv_err run(const char *path, enum ins_format fmt, bool no_themes, bool with_sink,
                  struct cv_buf *doc, struct cv_buf *recs)
{
    struct cv_clock clk;
    struct ins_options o = {0};
    struct lines l = {CV_BUF_INIT(1 << 20)};
    struct ins_sink sink = {sink_write, &l};
    const char *paths[] = {path};
    char msg[256];
    cv_err err;

    cv_clock_fixed(&clk, 1714564800000LL);
    o.clock = &clk;
    o.format = fmt;
    o.no_themes = no_themes;
    err = ins_analyze(&o, paths, 1, doc, with_sink ? &sink : NULL, msg, sizeof(msg));
    if (recs) {
        *recs = l.b;
    } else {
        cv_buf_release(&l.b);
    }
    return err;
}

static cv_err run_opts(const char *path, bool no_themes, struct cv_buf *doc, struct cv_buf *recs)
{
    return run(path, INS_FMT_JSONL, no_themes, true, doc, recs);
}

static cv_err run_fmt(const char *path, enum ins_format fmt, bool with_sink, struct cv_buf *doc)
{
    return run(path, fmt, false, with_sink, doc, NULL);
}

static cv_err run_nosink(const char *path, struct cv_buf *doc)
{
    return run_fmt(path, INS_FMT_JSONL, false, doc);
}

static cv_err run_once(const char *path, struct cv_buf *doc, struct cv_buf *recs)
{
    return run_opts(path, false, doc, recs);
}

/* --no-themes: the same record lines up to their (empty) theme lists, themes []. */
static void test_sentiment_only(void **state)
{
    struct cv_buf df = CV_BUF_INIT(1 << 22), dn = CV_BUF_INIT(1 << 22), rf, rn;
    CV_UNUSED(state);
    assert_int_equal(run_opts(path_a, false, &df, &rf), CV_OK);
    assert_int_equal(run_opts(path_a, true, &dn, &rn), CV_OK);
    assert_null(strstr(df.ptr, "\"themes\": []"));
    assert_non_null(strstr(dn.ptr, "\"themes\": []"));
    assert_non_null(strstr(dn.ptr, "\"unthemed\": {\"records\": 36, \"share\": 1.0000}"));
    /* The overall sentiment block is the full run's. */
    const char *sf = strstr(df.ptr, "\"sentiment\": {"), *sn = strstr(dn.ptr, "\"sentiment\": {");
    const char *ef = strstr(df.ptr, "\"themes\": ["), *en = strstr(dn.ptr, "\"themes\": [");
    assert_true(sf && sn && ef && en && ef - sf == en - sn);
    assert_memory_equal(sf, sn, (size_t)(ef - sf));
    /* Line by line: identical up to "themes", then [] for every record. */
    const char *pf = rf.ptr, *pn = rn.ptr;
    size_t lines = 0;
    while (pf < rf.ptr + rf.len && pn < rn.ptr + rn.len) {
        const char *tf = strstr(pf, ",\"themes\":["), *tn = strstr(pn, ",\"themes\":[");
        assert_true(tf && tn && tf - pf == tn - pn);
        assert_memory_equal(pf, pn, (size_t)(tf - pf));
        assert_true(strncmp(tn, ",\"themes\":[]}\n", 14) == 0);
        pf = strchr(tf, '\n') + 1;
        pn = tn + 14;
        lines++;
    }
    assert_int_equal(lines, 36);
    assert_true(pn == rn.ptr + rn.len);
    cv_buf_release(&df);
    cv_buf_release(&dn);
    cv_buf_release(&rf);
    cv_buf_release(&rn);
}

static void test_document(void **state)
{
    struct cv_buf d1 = CV_BUF_INIT(1 << 22), d2 = CV_BUF_INIT(1 << 22), r1, r2;
    CV_UNUSED(state);
    assert_int_equal(run_once(path_a, &d1, &r1), CV_OK);
    assert_int_equal(run_once(path_a, &d2, &r2), CV_OK);
    /* Byte-identical output for the same input and options. */
    assert_int_equal(d1.len, d2.len);
    assert_memory_equal(d1.ptr, d2.ptr, d1.len);
    assert_int_equal(r1.len, r2.len);
    assert_memory_equal(r1.ptr, r2.ptr, r1.len);
    /* The same document without the records sink. */
    struct cv_buf d3 = CV_BUF_INIT(1 << 22);
    assert_int_equal(run_nosink(path_a, &d3), CV_OK);
    assert_int_equal(d1.len, d3.len);
    assert_memory_equal(d1.ptr, d3.ptr, d1.len);
    cv_buf_release(&d3);
    /* Plain text: quote ids are line numbers, with the sink or without. */
    struct cv_buf t1 = CV_BUF_INIT(1 << 22), t2 = CV_BUF_INIT(1 << 22);
    char tpath[64];
    write_file(tpath, "/tmp/cv-analyze-text-XXXXXX",
               "The delivery was late again, the courier lost my parcel\n"
               "Shipping took two weeks, slow delivery\n\n"
               "Fast shipping and the courier was friendly\n"
               "The staff were rude and the waiter ignored us\n"
               "Friendly staff, attentive waiter\n"
               "Our server was great and the staff helpful\n"
               "The courier left the parcel at the door, fast delivery\n");
    assert_int_equal(run_fmt(tpath, INS_FMT_TEXT, true, &t1), CV_OK);
    assert_int_equal(run_fmt(tpath, INS_FMT_TEXT, false, &t2), CV_OK);
    assert_int_equal(t1.len, t2.len);
    assert_memory_equal(t1.ptr, t2.ptr, t1.len);
    assert_non_null(strstr(t2.ptr, "{\"id\": \"4\"")); /* line 4, after the blank line */
    unlink(tpath);
    cv_buf_release(&t1);
    cv_buf_release(&t2);
    assert_non_null(strstr(d1.ptr, "\"schema\": \"caravel.insights/v1\""));
    assert_non_null(strstr(d1.ptr, "\"generated_at\": \"2024-05-01T12:00:00.000Z\""));
    assert_non_null(strstr(d1.ptr, "\"records\": 36"));
    assert_non_null(strstr(d1.ptr, "\"period\":\"week\"") ? strstr(d1.ptr, "\"period\":\"week\"")
                                                           : strstr(d1.ptr, "\"period\":\"day\""));
    /* One NDJSON line per record, in input order, with sentiment and themes. */
    size_t nl = 0;
    for (size_t i = 0; i < r1.len; i++) {
        nl += r1.ptr[i] == '\n';
    }
    assert_int_equal(nl, 36);
    assert_true(strncmp(r1.ptr, "{\"id\":\"r0-0\",\"sentiment\":{\"compound\":", 37) == 0);
    cv_buf_release(&d1);
    cv_buf_release(&d2);
    cv_buf_release(&r1);
    cv_buf_release(&r2);
}

static void test_empty_input(void **state)
{
    struct cv_buf d = CV_BUF_INIT(1 << 20);
    CV_UNUSED(state);
    assert_int_equal(run_once(path_empty, &d, NULL), CV_OK);
    assert_non_null(strstr(d.ptr, "\"records\": 0"));
    assert_non_null(strstr(d.ptr, "\"themes\": []"));
    assert_non_null(strstr(d.ptr, "\"time_range\": null"));
    cv_buf_release(&d);
}

static void test_missing_file(void **state)
{
    struct cv_buf d = CV_BUF_INIT(1 << 20);
    const char *paths[] = {"/nonexistent/feedback.csv"};
    char msg[256];
    CV_UNUSED(state);
    assert_int_equal(ins_analyze(NULL, paths, 1, &d, NULL, msg, sizeof(msg)), CV_ENOENT);
    assert_non_null(strstr(msg, "/nonexistent/feedback.csv: cannot open"));
    cv_buf_release(&d);
}

static cv_err sweep_once(void)
{
    struct cv_buf d = CV_BUF_INIT(1 << 22), r;
    cv_err err = run_once(path_a, &d, &r);
    cv_buf_release(&d);
    cv_buf_release(&r);
    return err;
}

static cv_err sweep_sentiment_only(void)
{
    struct cv_buf d = CV_BUF_INIT(1 << 22), r;
    cv_err err = run_opts(path_a, true, &d, &r);
    cv_buf_release(&d);
    cv_buf_release(&r);
    return err;
}

/*
 * More than 32768 stems: records whose stem ids need more than 15 bits go
 * to the spill in its wide form and must come back as they went (every
 * record names the delivery theme; a garbled stem list loses it or fails).
 */
static void test_many_stems(void **state)
{
    struct cv_buf in = CV_BUF_INIT(1 << 23), d = CV_BUF_INIT(1 << 22);
    char path[64];
    CV_UNUSED(state);
    for (unsigned i = 0; i < 36000; i++) {
        char w[8];
        unsigned x = i;
        for (int k = 0; k < 5; k++) { /* a made-up word per record: its own stem */
            w[k] = (char)('a' + x % 26);
            x /= 26;
        }
        w[5] = '\0';
        assert_int_equal(cv_buf_addf(&in, "{\"id\":\"m%u\",\"text\":\"zq%s delivery late, courier lost the parcel\"}\n", i, w), CV_OK);
    }
    write_file(path, "/tmp/cv-stems-XXXXXX", in.ptr);
    assert_int_equal(run_nosink(path, &d), CV_OK);
    assert_non_null(strstr(d.ptr, "\"records\": 36000"));
    assert_non_null(strstr(d.ptr, "\"unthemed\": {\"records\": 0,"));
    unlink(path);
    cv_buf_release(&in);
    cv_buf_release(&d);
}

static void test_alloc_failures(void **state)
{
    CV_UNUSED(state);
    CV_ALLOC_SWEEP(sweep_once());
    CV_ALLOC_SWEEP(sweep_sentiment_only());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_document),
        cmocka_unit_test(test_sentiment_only),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_many_stems),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
