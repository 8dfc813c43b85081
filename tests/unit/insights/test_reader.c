/* The CSV, JSON Lines and text readers: edge cases and error messages. */
#include "insights/insights_int.h"
#include "test.h"

#include <fcntl.h>

/* A pipe-free input: the data in an unlinked temporary file. */
static int make_input(const char *data, size_t len)
{
    char tmpl[] = "/tmp/cv-reader-XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    unlink(tmpl);
    assert_int_equal(cv_write_all(fd, data, len), CV_OK);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

struct got {
    char text[8][128];
    char id[8][32];
    uint64_t line[8];
    int64_t time[8];
    size_t n;
    char err[8][512];
    size_t nerr;
};

static bool no_line_ids; /* read_all() sets the reader's no_line_ids (pass 1's reader) */

static cv_err read_all(const char *data, enum ins_format fmt, const struct ins_options *opt,
                       bool skip, struct got *g)
{
    struct ins_reader r;
    struct ins_record rec;
    int fd = make_input(data, strlen(data));
    cv_err err, last = CV_OK;

    memset(g, 0, sizeof(*g));
    err = ins_reader_init(&r, "in.csv", fd, fmt, opt);
    if (err) {
        ins_reader_release(&r);
        close(fd);
        return err;
    }
    r.no_line_ids = no_line_ids;
    for (;;) {
        err = ins_reader_next(&r, &rec);
        if (err == CV_ENOENT) {
            break;
        }
        if (err) {
            last = err;
            if (g->nerr < 8) {
                memcpy(g->err[g->nerr++], r.err, sizeof(r.err));
            }
            if (!skip || r.fatal || err == CV_ENOMEM) {
                break;
            }
            continue;
        }
        if (g->n < 8) {
            snprintf(g->text[g->n], 128, "%.*s", (int)rec.text.len, rec.text.ptr);
            snprintf(g->id[g->n], 32, "%.*s", (int)rec.id.len, rec.id.ptr);
            g->line[g->n] = rec.line;
            g->time[g->n] = rec.has_time ? rec.time_ms : -1;
            g->n++;
        }
    }
    ins_reader_release(&r);
    close(fd);
    return last;
}

static void test_csv_quotes_newlines_crlf_bom(void **state)
{
    struct got g;
    CV_UNUSED(state);
    const char *data = "\xEF\xBB\xBFid,text,created_at\r\n"
                       "1,plain,2024-03-01\r\n"
                       "2,\"with, comma and \"\"quotes\"\"\",2024-03-02T10:00:00Z\r\n"
                       "3,\"two\r\nlines\",\r\n"
                       "\r\n"
                       "4,last without newline,1709251200";
    assert_int_equal(read_all(data, INS_FMT_CSV, NULL, false, &g), CV_OK);
    assert_int_equal(g.n, 4);
    assert_string_equal(g.text[0], "plain");
    assert_string_equal(g.id[0], "1");
    assert_int_equal(g.time[0], 1709251200000LL);
    assert_string_equal(g.text[1], "with, comma and \"quotes\"");
    assert_int_equal(g.time[1], 1709373600000LL);
    assert_string_equal(g.text[2], "two\r\nlines");
    assert_int_equal(g.time[2], -1);
    assert_int_equal(g.line[2], 4);
    assert_string_equal(g.text[3], "last without newline");
    assert_int_equal(g.line[3], 7); /* the record after the embedded newline and a blank line */
    assert_int_equal(g.time[3], 1709251200000LL);
}

static void test_csv_columns(void **state)
{
    struct got g;
    struct ins_options o = {0};
    CV_UNUSED(state);
    o.text_column = "comment";
    o.id_column = "ref";
    assert_int_equal(read_all("ref,x,comment\nA,1,hello\n", INS_FMT_CSV, &o, false, &g), CV_OK);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.text[0], "hello");
    assert_string_equal(g.id[0], "A");
    /* A missing column is fatal and names the file, the line and the columns. */
    assert_int_equal(read_all("a,b\n1,2\n", INS_FMT_CSV, NULL, true, &g), CV_EPARSE);
    assert_string_equal(g.err[0], "in.csv:1: no column \"text\" in the header (columns: a, b)");
    assert_int_equal(g.n, 0);
}

static void test_csv_errors(void **state)
{
    struct got g;
    struct ins_options o = {0};
    CV_UNUSED(state);
    /* An unbalanced quote, reported at the line where the record starts. */
    assert_int_equal(read_all("text\nok\n\"never closed\nmore\n", INS_FMT_CSV, NULL, false, &g),
                     CV_EPARSE);
    assert_string_equal(g.err[0], "in.csv:3: unbalanced quote: the quoted field never ends");
    /* Garbage after a closing quote; skipping resumes at the next line. */
    assert_int_equal(read_all("text\n\"a\"b\ngood\n", INS_FMT_CSV, NULL, true, &g), CV_EPARSE);
    assert_string_equal(g.err[0], "in.csv:2: unexpected character after a closing quote");
    assert_int_equal(g.n, 1);
    assert_string_equal(g.text[0], "good");
    /* Too few fields, invalid UTF-8, a bad time. */
    assert_int_equal(read_all("id,text\n1\n2,caf\xc3\n3,fine\n", INS_FMT_CSV, NULL, true, &g),
                     CV_EUTF8);
    assert_string_equal(g.err[0], "in.csv:2: 1 fields, the header has 2");
    assert_string_equal(g.err[1], "in.csv:3: invalid UTF-8");
    assert_int_equal(g.n, 1);
    assert_string_equal(g.id[0], "3");
    assert_int_equal(read_all("text,created_at\nx,yesterday\n", INS_FMT_CSV, NULL, false, &g),
                     CV_EPARSE);
    assert_string_equal(g.err[0],
                        "in.csv:2: column \"created_at\" is not an ISO 8601 time or Unix seconds");
    /* A record over the limit. */
    o.max_record_bytes = 16;
    assert_int_equal(read_all("text\nshort\n\"this one is far too long\"\nok\n", INS_FMT_CSV, &o,
                              true, &g),
                     CV_ETOOBIG);
    assert_string_equal(g.err[0], "in.csv:3: record longer than the limit");
    assert_int_equal(g.n, 2);
    assert_string_equal(g.text[1], "ok");
}

static void test_jsonl(void **state)
{
    struct got g;
    CV_UNUSED(state);
    const char *data = "{\"id\": 7, \"text\": \"caf\\u00e9 \\ud83d\\ude00 \\\"ok\\\"\", \"x\": [1, {\"y\": null}]}\n"
                       "\n"
                       "{\"text\":\"plain\",\"created_at\":\"2024-03-01 12:00:00\",\"id\":\"a\"}\r\n";
    assert_int_equal(read_all(data, INS_FMT_JSONL, NULL, false, &g), CV_OK);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.text[0], "caf\xc3\xa9 \xf0\x9f\x98\x80 \"ok\"");
    assert_string_equal(g.id[0], "7");
    assert_string_equal(g.text[1], "plain");
    assert_string_equal(g.id[1], "a");
    assert_int_equal(g.line[1], 3);
    assert_int_equal(g.time[1], 1709294400000LL);

    assert_int_equal(read_all("{\"text\": 1}\n{\"txt\": \"a\"}\n{\"text\": \"a\",}\n[1]\n"
                              "{\"text\": \"\\ud800\"}\n{\"text\":\"ok\"} x\n{\"text\":\"fine\"}\n",
                              INS_FMT_JSONL, NULL, true, &g),
                     CV_EPARSE);
    assert_string_equal(g.err[0], "in.csv:1: not a string: \"text\" member");
    assert_string_equal(g.err[1], "in.csv:2: no \"text\" member");
    assert_string_equal(g.err[2], "in.csv:3: invalid JSON: expected a member name");
    assert_string_equal(g.err[3], "in.csv:4: invalid JSON: not a JSON object");
    assert_string_equal(g.err[4], "in.csv:5: invalid JSON: unpaired surrogate");
    assert_string_equal(g.err[5], "in.csv:6: invalid JSON: trailing characters after the object");
    assert_int_equal(g.n, 1);
    assert_string_equal(g.text[0], "fine");
}

static void test_text(void **state)
{
    struct got g;
    struct ins_options o = {0};
    CV_UNUSED(state);
    assert_int_equal(read_all("first\r\n\n  \nsecond\nbad \xff byte\nthird", INS_FMT_TEXT, NULL,
                              true, &g),
                     CV_EUTF8);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.text[0], "first");
    assert_string_equal(g.id[1], "4"); /* ids are line numbers */
    assert_string_equal(g.text[2], "third");
    assert_string_equal(g.err[0], "in.csv:5: invalid UTF-8");
    /*
     * The reader looks ahead for the next non-ASCII byte: lines before it,
     * the line holding it (valid or not) and lines after it are each judged
     * on their own.
     */
    assert_int_equal(read_all("plain one\ncaf\xc3\xa9 ok\nplain two\nx \xc3 cut\nplain three\n"
                              "\xe2\x82\xac first\nlast \xf0\x9f\x98\x80\n",
                              INS_FMT_TEXT, NULL, true, &g),
                     CV_EUTF8);
    assert_int_equal(g.nerr, 1);
    assert_string_equal(g.err[0], "in.csv:4: invalid UTF-8");
    assert_int_equal(g.n, 6);
    assert_string_equal(g.text[1], "caf\xc3\xa9 ok");
    assert_string_equal(g.text[3], "plain three");
    assert_string_equal(g.text[4], "\xe2\x82\xac first");
    assert_string_equal(g.text[5], "last \xf0\x9f\x98\x80");
    assert_int_equal(read_all("{\"text\": \"ok\"}\n{\"text\": \"bad \xff\"}\n{\"text\": \"fine\"}\n",
                              INS_FMT_JSONL, NULL, true, &g),
                     CV_EUTF8);
    assert_string_equal(g.err[0], "in.csv:2: invalid UTF-8");
    assert_int_equal(g.n, 2);
    assert_string_equal(g.text[1], "fine");
    o.max_record_bytes = 16;
    assert_int_equal(read_all("a line that is much longer than sixteen bytes\nok\n", INS_FMT_TEXT,
                              &o, true, &g),
                     CV_ETOOBIG);
    assert_string_equal(g.err[0], "in.csv:1: line longer than the limit");
    assert_int_equal(g.n, 1);
    assert_string_equal(g.text[0], "ok");
    /* Empty input is no records, not an error. */
    assert_int_equal(read_all("", INS_FMT_CSV, NULL, false, &g), CV_OK);
    assert_int_equal(g.n, 0);
    assert_int_equal(ins_format_from_name("x.CSV"), INS_FMT_CSV);
    assert_int_equal(ins_format_from_name("x.ndjson"), INS_FMT_JSONL);
    assert_int_equal(ins_format_from_name("notes"), INS_FMT_TEXT);
}

/* Pass 1 reads no ids: line-number ids are left empty, ids from the input are kept. */
static void test_no_line_ids(void **state)
{
    struct got g;
    CV_UNUSED(state);
    no_line_ids = true;
    assert_int_equal(read_all("first\nsecond\n", INS_FMT_TEXT, NULL, false, &g), CV_OK);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.text[1], "second");
    assert_string_equal(g.id[1], "");
    assert_int_equal(g.line[1], 2);
    assert_int_equal(read_all("{\"id\":\"x7\",\"text\":\"a\"}\n{\"text\":\"b\"}\n", INS_FMT_JSONL,
                              NULL, false, &g),
                     CV_OK);
    assert_string_equal(g.id[0], "x7");
    assert_string_equal(g.id[1], "");
    no_line_ids = false;
    assert_int_equal(read_all("{\"id\":\"x7\",\"text\":\"a\"}\n{\"text\":\"b\"}\n", INS_FMT_JSONL,
                              NULL, false, &g),
                     CV_OK);
    assert_string_equal(g.id[1], "2");
}

static cv_err sweep_once(void)
{
    struct got g;
    return read_all("id,text\n1,\"a \"\"b\"\"\"\n2,c\n", INS_FMT_CSV, NULL, false, &g);
}

static void test_alloc_failures(void **state)
{
    CV_UNUSED(state);
    CV_ALLOC_SWEEP(sweep_once());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_quotes_newlines_crlf_bom),
        cmocka_unit_test(test_csv_columns),
        cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_jsonl),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_no_line_ids),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
