/*
 * The listing engine (store_list) over a real SQLite database: named cases
 * over a fixed key set (delimiters, prefixes, start-after, max-keys, byte
 * order), paging through large folded prefixes, bucket isolation, and a
 * comparison against a reference implementation (sort + filter) over
 * randomized key sets with fixed seeds for every combination of a grid of
 * (prefix, delimiter, max-keys, start-after); an allocation-failure sweep.
 */
#include "store/store_int.h"
#include "test.h"
#include "st_test.h"

#include <pthread.h>

struct fixture {
    char dir[64];
    struct db *db;
    struct db_conn *c;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    st_mkdtemp(f->dir);
    f->db = st_db_open(f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    if (f->c) {
        db_reader_done(f->db, f->c);
    }
    db_close(f->db);
    st_rmtree(f->dir);
    free(f);
    return 0;
}

static struct db_conn *reader(struct fixture *f)
{
    if (!f->c) {
        f->c = db_reader(f->db);
        assert_non_null(f->c);
    }
    return f->c;
}

/* cv_str from an optional C string (NULL: absent parameter). */
static struct cv_str opt(const char *s)
{
    return s ? cv_str_c(s) : CV_STR_NULL;
}

/* Renders a page as "a [p/] b" (+ " +" when truncated). Raw bytes. */
static void render(const struct list_result *lr, struct cv_buf *out)
{
    for (size_t i = 0; i < lr->n; i++) {
        const struct list_entry *e = &lr->entries[i];
        if (i) {
            assert_int_equal(cv_buf_addc(out, ' '), CV_OK);
        }
        assert_int_equal(cv_buf_addf(out, e->is_prefix ? "[%.*s]" : "%.*s", (int)e->keylen, e->key),
                         CV_OK);
    }
    if (lr->truncated) {
        assert_int_equal(cv_buf_adds(out, " +"), CV_OK);
    }
    if (!out->ptr) {
        assert_int_equal(cv_buf_add(out, "", 0), CV_OK);
    }
}

/* Printable form for failure messages. */
static const char *esc(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch < 0x7F) {
            out[o++] = (char)ch;
        } else {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02X", ch);
        }
    }
    out[o] = '\0';
    return out;
}

/* ------------------------------------------------------------ fixed set */

static const char *const fixed_keys[] = {
    "a",     "a/",    "a/b", "a/b/c", "a/c",  "a//d",     "b",        "b/x",        "bar",
    "c.txt", "d/e/f", "d/g", "z",     "\x7F", "\xC2\x80", "\xC3\xA9", "\xC3\xA9/x",
};

/* Keys of another bucket, interleaved in byte order: never listed. */
static const char *const other_keys[] = {"a/0", "aa", "b/y", "c", "zz", "\xC3\xA9/y"};

struct list_case {
    const char *name;
    const char *prefix, *delim, *start; /* NULL: absent */
    unsigned max_keys;
    const char *want;
    const char *next; /* next_marker when truncated (NULL: not checked) */
};

static const struct list_case list_cases[] = {
    {"all keys, byte order", NULL, NULL, NULL, 1000,
     "a a/ a//d a/b a/b/c a/c b b/x bar c.txt d/e/f d/g z \x7F \xC2\x80 \xC3\xA9 \xC3\xA9/x", NULL},
    {"delimiter /", NULL, "/", NULL, 1000,
     "a [a/] b [b/] bar c.txt [d/] z \x7F \xC2\x80 \xC3\xA9 [\xC3\xA9/]", NULL},
    {"empty prefix and delimiter strings", "", NULL, "", 1000,
     "a a/ a//d a/b a/b/c a/c b b/x bar c.txt d/e/f d/g z \x7F \xC2\x80 \xC3\xA9 \xC3\xA9/x", NULL},
    {"prefix a/ with delimiter: key equal to prefix, empty segment", "a/", "/", NULL, 1000,
     "a/ [a//] a/b [a/b/] a/c", NULL},
    {"prefix a/ without delimiter", "a/", NULL, NULL, 1000, "a/ a//d a/b a/b/c a/c", NULL},
    {"prefix without trailing delimiter", "a", "/", NULL, 1000, "a [a/]", NULL},
    {"prefix a/b with delimiter", "a/b", "/", NULL, 1000, "a/b [a/b/]", NULL},
    {"prefix equal to a whole key", "bar", "/", NULL, 1000, "bar", NULL},
    {"prefix matching nothing", "q", "/", NULL, 1000, "", NULL},
    {"prefix past every key", "\xF4\x8F\xBF\xBF", NULL, NULL, 1000, "", NULL},
    {"multi-character delimiter", "a", "/b", NULL, 1000, "a a/ a//d [a/b] a/c", NULL},
    {"delimiter // ", NULL, "//", NULL, 1000,
     "a a/ [a//] a/b a/b/c a/c b b/x bar c.txt d/e/f d/g z \x7F \xC2\x80 \xC3\xA9 \xC3\xA9/x",
     NULL},
    {"multi-byte delimiter", NULL, "\xC3\xA9", "z", 1000, "\x7F \xC2\x80 [\xC3\xA9]", NULL},
    {"delimiter longer than the remaining key", "c.tx", ".txt", NULL, 1000, "c.txt", NULL},
    {"delimiter never present", NULL, "#", "c", 1000,
     "c.txt d/e/f d/g z \x7F \xC2\x80 \xC3\xA9 \xC3\xA9/x", NULL},
    /* max-keys: keys and common prefixes both count. */
    {"max-keys 1", NULL, "/", NULL, 1, "a +", "a"},
    {"max-keys 3, prefixes count", NULL, "/", NULL, 3, "a [a/] b +", "b"},
    {"truncated exactly at a common prefix", NULL, "/", NULL, 2, "a [a/] +", "a/"},
    {"max-keys equal to the number of entries", NULL, "/", NULL, 12,
     "a [a/] b [b/] bar c.txt [d/] z \x7F \xC2\x80 \xC3\xA9 [\xC3\xA9/]", NULL},
    {"max-keys one less than the entries", NULL, "/", NULL, 11,
     "a [a/] b [b/] bar c.txt [d/] z \x7F \xC2\x80 \xC3\xA9 +", "\xC3\xA9"},
    {"max-keys 0", NULL, "/", NULL, 0, "", NULL},
    {"max-keys 0 with prefix", "a/", NULL, NULL, 0, "", NULL},
    /* start-after */
    {"start-after a key", NULL, NULL, "b", 3, "b/x bar c.txt +", "c.txt"},
    {"start-after a missing key", NULL, NULL, "b0", 1000,
     "bar c.txt d/e/f d/g z \x7F \xC2\x80 \xC3\xA9 \xC3\xA9/x", NULL},
    {"start-after equal to a common prefix", NULL, "/", "a/", 3, "b [b/] bar +", "bar"},
    {"start-after equal to the last common prefix", NULL, "/", "d/", 1000,
     "z \x7F \xC2\x80 \xC3\xA9 [\xC3\xA9/]", NULL},
    {"start-after inside a common prefix", NULL, "/", "a/b", 2, "b [b/] +", "b/"},
    {"start-after inside the prefix, no delimiter", "a/", NULL, "a/b", 1000, "a/b/c a/c", NULL},
    {"start-after inside the prefix, with delimiter", "a/", "/", "a/", 1000, "[a//] a/b [a/b/] a/c",
     NULL},
    {"start-after inside a nested common prefix", "a/", "/", "a/b/", 1000, "a/c", NULL},
    {"start-after before the prefix", "b", NULL, "a/zzz", 1000, "b b/x bar", NULL},
    {"start-after a proper prefix of the prefix", "b/", NULL, "b", 1000, "b/x", NULL},
    {"start-after past the prefix", "b", NULL, "c", 1000, "", NULL},
    {"start-after the last key", NULL, NULL, "\xC3\xA9/x", 1000, "", NULL},
    {"start-after past every key", NULL, NULL, "\xF4\x8F\xBF\xBF", 1000, "", NULL},
    /* byte order around 0x7F / 0x80 */
    {"after z comes 0x7F then U+0080", NULL, NULL, "z", 2, "\x7F \xC2\x80 +", "\xC2\x80"},
    {"start-after 0x7F", NULL, NULL, "\x7F", 1000, "\xC2\x80 \xC3\xA9 \xC3\xA9/x", NULL},
    {"prefix 0x7F", "\x7F", NULL, NULL, 1000, "\x7F", NULL},
    {"prefix U+00E9 with delimiter", "\xC3\xA9", "/", NULL, 1000, "\xC3\xA9 [\xC3\xA9/]", NULL},
    {"prefix lead byte only", "\xC3", NULL, NULL, 1000, "\xC3\xA9 \xC3\xA9/x", NULL},
};

static void test_cases(void **state)
{
    struct fixture *f = *state;
    struct db_conn *c;

    st_insert_cstrs(f->db, "bkt", fixed_keys, CV_ARRAY_LEN(fixed_keys));
    st_insert_cstrs(f->db, "bkt-other", other_keys, CV_ARRAY_LEN(other_keys));
    st_insert_cstrs(f->db, "bks", other_keys, CV_ARRAY_LEN(other_keys));
    c = reader(f);
    for (size_t i = 0; i < CV_ARRAY_LEN(list_cases); i++) {
        const struct list_case *lc = &list_cases[i];
        struct cv_arena a = CV_ARENA_INIT(4096);
        struct list_params p = {opt(lc->prefix), opt(lc->delim), opt(lc->start), lc->max_keys};
        struct list_result lr;
        struct cv_buf got = CV_BUF_INIT(1 << 16);
        char e1[512], e2[512];
        cv_err err = store_list(c, &a, CV_STR("bkt"), &p, &lr);

        if (err) {
            fail_msg("list case '%s': %s", lc->name, cv_err_str(err));
        }
        render(&lr, &got);
        if (strcmp(got.ptr, lc->want) != 0) {
            fail_msg("list case '%s':\n  got  '%s'\n  want '%s'", lc->name,
                     esc(got.ptr, got.len, e1, sizeof(e1)),
                     esc(lc->want, strlen(lc->want), e2, sizeof(e2)));
        }
        if (lr.truncated && lc->next && !cv_str_eq_c(lr.next_marker, lc->next)) {
            fail_msg("list case '%s': next marker '%s'", lc->name,
                     esc(lr.next_marker.ptr, lr.next_marker.len, e1, sizeof(e1)));
        }
        /* Every entry carries its row's data; prefixes carry none. */
        for (size_t k = 0; k < lr.n; k++) {
            const struct list_entry *e = &lr.entries[k];
            if (e->is_prefix) {
                assert_int_equal(e->size, 0);
            } else {
                assert_int_equal(e->size, e->keylen * 10 + 1);
                assert_true(strncmp(e->etag, "\"etag-", 6) == 0);
                assert_int_equal(e->mtime, 1700000000000);
                assert_true(strcmp(e->storage_class, "STANDARD") == 0 ||
                            strcmp(e->storage_class, "STANDARD_IA") == 0);
            }
            assert_int_equal(strlen(e->key), e->keylen);
        }
        cv_buf_release(&got);
        cv_arena_release(&a);
    }
}

static void test_empty_bucket(void **state)
{
    struct fixture *f = *state;
    const char *delims[] = {NULL, "/"};
    unsigned maxes[] = {0, 1, 1000};

    st_insert_cstrs(f->db, "full", fixed_keys, CV_ARRAY_LEN(fixed_keys));
    for (size_t d = 0; d < 2; d++) {
        for (size_t m = 0; m < 3; m++) {
            struct cv_arena a = CV_ARENA_INIT(4096);
            struct list_params p = {CV_STR_NULL, opt(delims[d]), CV_STR_NULL, maxes[m]};
            struct list_result lr;
            assert_int_equal(store_list(reader(f), &a, CV_STR("empty"), &p, &lr), CV_OK);
            assert_int_equal(lr.n, 0);
            assert_false(lr.truncated);
            assert_null(lr.next_marker.ptr);
            cv_arena_release(&a);
        }
    }
}

/* ---------------------------------------------------------- paging */

/* Pages through with @p max_keys, starting after @p start; returns the
 * concatenation rendered (without truncation marks); checks each page. */
static void page_all(struct fixture *f, const char *bucket, struct list_params p,
                     struct cv_buf *out, size_t *pages)
{
    struct cv_buf marker = CV_BUF_INIT(1 << 16);

    *pages = 0;
    for (;;) {
        struct cv_arena a = CV_ARENA_INIT(1 << 16);
        struct list_result lr;

        assert_int_equal(store_list(reader(f), &a, cv_str_c(bucket), &p, &lr), CV_OK);
        (*pages)++;
        assert_true(lr.n <= p.max_keys);
        for (size_t i = 0; i < lr.n; i++) {
            const struct list_entry *e = &lr.entries[i];
            assert_int_equal(
                cv_buf_addf(out, e->is_prefix ? "[%.*s]\n" : "%.*s\n", (int)e->keylen, e->key),
                CV_OK);
        }
        if (!lr.truncated) {
            cv_arena_release(&a);
            break;
        }
        assert_int_equal(lr.n, p.max_keys);
        assert_true(lr.next_marker.ptr == lr.entries[lr.n - 1].key);
        cv_buf_reset(&marker);
        assert_int_equal(cv_buf_add(&marker, lr.next_marker.ptr, lr.next_marker.len), CV_OK);
        p.start_after = (struct cv_str){marker.ptr, marker.len};
        cv_arena_release(&a);
        assert_true(*pages < 100000);
    }
    if (!out->ptr) {
        assert_int_equal(cv_buf_add(out, "", 0), CV_OK);
    }
    cv_buf_release(&marker);
}

/* 5000 keys under one prefix fold into one entry, and page as keys. */
static void test_big_prefix(void **state)
{
    struct fixture *f = *state;
    size_t n = 5000, pages = 0;
    struct cv_str *keys = calloc(n + 2, sizeof(*keys));
    char *store = calloc(n + 2, 16);
    struct cv_buf got = CV_BUF_INIT(1 << 20);

    assert_non_null(keys);
    assert_non_null(store);
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(store + i * 16, 16, "big/%05zu", i);
        keys[i] = (struct cv_str){store + i * 16, (size_t)len};
    }
    keys[n] = CV_STR("alpha");
    keys[n + 1] = CV_STR("zeta");
    st_insert_keys(f->db, "b", keys, n + 2);

    {
        struct cv_arena a = CV_ARENA_INIT(4096);
        struct list_params p = {CV_STR_NULL, CV_STR("/"), CV_STR_NULL, 1000};
        struct list_result lr;
        assert_int_equal(store_list(reader(f), &a, CV_STR("b"), &p, &lr), CV_OK);
        render(&lr, &got);
        assert_string_equal(got.ptr, "alpha [big/] zeta");
        cv_buf_reset(&got);
        /* Truncated right at the folded prefix; the next page skips it whole. */
        p.max_keys = 2;
        assert_int_equal(store_list(reader(f), &a, CV_STR("b"), &p, &lr), CV_OK);
        render(&lr, &got);
        assert_string_equal(got.ptr, "alpha [big/] +");
        cv_buf_reset(&got);
        p.start_after = lr.next_marker;
        assert_int_equal(store_list(reader(f), &a, CV_STR("b"), &p, &lr), CV_OK);
        render(&lr, &got);
        assert_string_equal(got.ptr, "zeta");
        cv_buf_reset(&got);
        /* Prefix + delimiter: the prefix's own keys. */
        p.prefix = CV_STR("big/");
        p.start_after = CV_STR_NULL;
        p.max_keys = 3;
        assert_int_equal(store_list(reader(f), &a, CV_STR("b"), &p, &lr), CV_OK);
        render(&lr, &got);
        assert_string_equal(got.ptr, "big/00000 big/00001 big/00002 +");
        cv_buf_reset(&got);
        cv_arena_release(&a);
    }
    /* Without a delimiter every key pages through exactly once. */
    {
        struct list_params p = {CV_STR("big/"), CV_STR_NULL, CV_STR_NULL, 1000};
        size_t lines = 0;
        page_all(f, "b", p, &got, &pages);
        assert_int_equal(pages, 5);
        for (size_t i = 0; i < got.len; i++) {
            lines += got.ptr[i] == '\n';
        }
        assert_int_equal(lines, n);
        assert_true(strncmp(got.ptr, "big/00000\nbig/00001\n", 20) == 0);
        assert_true(strcmp(got.ptr + got.len - 10, "big/04999\n") == 0);
        cv_buf_reset(&got);
        /* A page size that does not divide the batch size (256). */
        p.max_keys = 333;
        page_all(f, "b", p, &got, &pages);
        assert_int_equal(pages, 16);
    }
    cv_buf_release(&got);
    free(store);
    free(keys);
}

/* Many common prefixes, each holding several keys: reseeks across batches. */
static void test_many_prefixes(void **state)
{
    struct fixture *f = *state;
    size_t np = 300, per = 3, n = np * per, pages;
    struct cv_str *keys = calloc(n, sizeof(*keys));
    char *store = calloc(n, 24);
    struct cv_buf got = CV_BUF_INIT(1 << 20), want = CV_BUF_INIT(1 << 20);
    unsigned maxes[] = {1, 7, 256, 257, 1000};

    assert_non_null(keys);
    assert_non_null(store);
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(store + i * 24, 24, "d/%03zu/%c", i / per, (char)('x' + i % per));
        keys[i] = (struct cv_str){store + i * 24, (size_t)len};
    }
    st_insert_keys(f->db, "m", keys, n);
    for (size_t i = 0; i < np; i++) {
        assert_int_equal(cv_buf_addf(&want, "[d/%03zu/]\n", i), CV_OK);
    }
    for (size_t m = 0; m < CV_ARRAY_LEN(maxes); m++) {
        struct list_params p = {CV_STR("d/"), CV_STR("/"), CV_STR_NULL, maxes[m]};
        cv_buf_reset(&got);
        page_all(f, "m", p, &got, &pages);
        assert_string_equal(got.ptr, want.ptr);
        assert_int_equal(pages, (np + maxes[m] - 1) / maxes[m]);
    }
    cv_buf_release(&got);
    cv_buf_release(&want);
    free(store);
    free(keys);
}

/* ------------------------------------------------------ reference model */

static uint64_t rng_state;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Key pieces: ASCII, delimiters, and UTF-8 around the 0x7F/0x80 boundary. */
static const char *const pieces[] = {
    "a",
    "b",
    "/",
    "/",
    "-",
    "ab",
    "\x7F",
    "\xC2\x80",
    "\xC3\xA9",
    "\xE6\x97\xA5",
    "\xF0\x9D\x84\x9E",
    "0",
    "~",
    ".",
};

static int cmp_str(const void *x, const void *y)
{
    return cv_str_cmp(*(const struct cv_str *)x, *(const struct cv_str *)y);
}

/* A random set of unique keys, sorted in byte order, in key_pool. */
#define NKEYS 160
static char key_pool[NKEYS][64];
static size_t make_keys(uint64_t seed, size_t want, struct cv_str *keys)
{
    size_t n = 0;

    rng_state = seed;
    while (n < want) {
        char buf[64];
        size_t len = 0, np = 1 + rng() % 6;
        for (size_t i = 0; i < np; i++) {
            const char *pc = pieces[rng() % CV_ARRAY_LEN(pieces)];
            size_t pl = strlen(pc);
            memcpy(buf + len, pc, pl);
            len += pl;
        }
        memcpy(key_pool[n], buf, len);
        keys[n].ptr = key_pool[n];
        keys[n].len = len;
        n++;
    }
    qsort(keys, n, sizeof(*keys), cmp_str);
    /* Drop duplicates. */
    {
        size_t w = 0;
        for (size_t i = 0; i < n; i++) {
            if (w && cv_str_eq(keys[w - 1], keys[i])) {
                continue;
            }
            keys[w++] = keys[i];
        }
        n = w;
    }
    return n;
}

/* The common prefix of @p k (length), or 0 — the reference's own search. */
static size_t ref_cp(struct cv_str k, struct cv_str prefix, struct cv_str delim)
{
    if (!delim.len || k.len < prefix.len || memcmp(k.ptr, prefix.ptr, prefix.len) != 0) {
        return 0;
    }
    for (size_t i = prefix.len; i + delim.len <= k.len; i++) {
        if (memcmp(k.ptr + i, delim.ptr, delim.len) == 0) {
            return i + delim.len;
        }
    }
    return 0;
}

/*
 * The whole listing by definition: keys under the prefix, in byte order;
 * those holding the delimiter after the prefix fold into their common
 * prefix (once); entries at or before start-after are left out, and a
 * start-after that falls inside a common prefix leaves that prefix out.
 */
static void reference(const struct cv_str *keys, size_t n, struct list_params p, struct cv_buf *out)
{
    struct cv_str last_cp = CV_STR_NULL;
    size_t scp = p.start_after.len ? ref_cp(p.start_after, p.prefix, p.delimiter) : 0;

    for (size_t i = 0; i < n; i++) {
        struct cv_str k = keys[i];
        size_t cp;
        if (k.len < p.prefix.len || (p.prefix.len && memcmp(k.ptr, p.prefix.ptr, p.prefix.len))) {
            continue;
        }
        cp = ref_cp(k, p.prefix, p.delimiter);
        if (cp) {
            struct cv_str cps = {k.ptr, cp};
            if (scp && cv_str_eq(cps, (struct cv_str){p.start_after.ptr, scp})) {
                continue;
            }
            if (cv_str_cmp(k, p.start_after) <= 0 || cv_str_eq(cps, last_cp)) {
                continue;
            }
            last_cp = cps;
            assert_int_equal(cv_buf_addf(out, "[%.*s]\n", (int)cp, k.ptr), CV_OK);
        } else if (cv_str_cmp(k, p.start_after) > 0) {
            assert_int_equal(cv_buf_addf(out, "%.*s\n", (int)k.len, k.ptr), CV_OK);
        }
    }
    if (!out->ptr) {
        assert_int_equal(cv_buf_add(out, "", 0), CV_OK);
    }
}

static void test_reference(void **state)
{
    struct fixture *f = *state;
    static const uint64_t seeds[] = {0x1234567887654321ull, 0xC0FFEEull, 42};
    const char *prefixes[] = {"", "a", "a/", "b/", "\xC3\xA9", "/", "\x7F", "zz"};
    const char *delims[] = {NULL, "/", "a/", "//", "\xC3\xA9", "b"};
    unsigned maxes[] = {1, 2, 3, 10, 1000};
    size_t combos = 0, total_pages = 0;

    for (size_t si = 0; si < CV_ARRAY_LEN(seeds); si++) {
        struct cv_str keys[NKEYS];
        char bucket[16];
        size_t n = make_keys(seeds[si], CV_ARRAY_LEN(keys), keys);
        /* Start points: none, keys from the set, strings between keys,
         * common prefixes (by construction "a/", "b/", "/"). */
        struct cv_str starts[10];
        size_t ns = 0;

        snprintf(bucket, sizeof(bucket), "r%zu", si);
        st_insert_keys(f->db, bucket, keys, n);
        starts[ns++] = CV_STR_NULL;
        starts[ns++] = keys[n / 3];
        starts[ns++] = keys[n / 2];
        starts[ns++] = keys[n - 1];
        starts[ns++] = CV_STR("a/");
        starts[ns++] = CV_STR("b/");
        starts[ns++] = CV_STR("a/b");
        starts[ns++] = CV_STR("ab\x7F");
        starts[ns++] = CV_STR("\xC2\x80");
        starts[ns++] = CV_STR("/");

        for (size_t pi = 0; pi < CV_ARRAY_LEN(prefixes); pi++) {
            for (size_t di = 0; di < CV_ARRAY_LEN(delims); di++) {
                for (size_t mi = 0; mi < CV_ARRAY_LEN(maxes); mi++) {
                    for (size_t st = 0; st < ns; st++) {
                        struct list_params p = {cv_str_c(prefixes[pi]), opt(delims[di]), starts[st],
                                                maxes[mi]};
                        struct cv_buf got = CV_BUF_INIT(1 << 20), want = CV_BUF_INIT(1 << 20);
                        size_t pages = 0;
                        char e1[256], e2[256], e3[256], e4[64], e5[256];

                        reference(keys, n, p, &want);
                        page_all(f, bucket, p, &got, &pages);
                        if (strcmp(got.ptr, want.ptr) != 0) {
                            size_t d = 0;
                            while (got.ptr[d] && got.ptr[d] == want.ptr[d]) {
                                d++;
                            }
                            fail_msg(
                                "seed %zu prefix '%s' delim '%s' max %u start '%s': "
                                "differs at byte %zu:\n got  ...%s\n want ...%s",
                                si, esc(prefixes[pi], strlen(prefixes[pi]), e3, 64),
                                delims[di] ? esc(delims[di], strlen(delims[di]), e4, 64) : "(none)",
                                maxes[mi],
                                starts[st].ptr ? esc(starts[st].ptr, starts[st].len, e1, sizeof(e1))
                                               : "(none)",
                                d, esc(got.ptr + d, CV_MIN(got.len - d, 60), e2, sizeof(e2)),
                                esc(want.ptr + d, CV_MIN(want.len - d, 60), e5, sizeof(e5)));
                        }
                        combos++;
                        total_pages += pages;
                        cv_buf_release(&got);
                        cv_buf_release(&want);
                    }
                }
            }
        }
    }
    print_message("reference listing: %zu combinations, %zu pages\n", combos, total_pages);
}

/* ------------------------------------------------ allocation failures */

static struct fixture *sweep_fixture;

static cv_err list_once(void)
{
    static const struct list_params ps[] = {
        {{"", 0}, {"/", 1}, {"a/b", 3}, 1000},
        {{"a/", 2}, {"/", 1}, {NULL, 0}, 2},
        {{NULL, 0}, {NULL, 0}, {"b", 1}, 1000},
    };
    cv_err err = CV_OK;

    for (size_t i = 0; i < CV_ARRAY_LEN(ps) && !err; i++) {
        struct cv_arena a = CV_ARENA_INIT(256);
        struct list_result lr;
        err = store_list(reader(sweep_fixture), &a, CV_STR("bkt"), &ps[i], &lr);
        assert_true(err == CV_OK || err == CV_ENOMEM);
        if (!err) {
            assert_true(lr.n > 0);
        }
        cv_arena_release(&a);
    }
    return err;
}

static void test_alloc_sweep(void **state)
{
    struct fixture *f = *state;

    st_insert_cstrs(f->db, "bkt", fixed_keys, CV_ARRAY_LEN(fixed_keys));
    sweep_fixture = f;
    (void)reader(f);
    CV_ALLOC_SWEEP(list_once());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_bucket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_prefixes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reference, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_sweep, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
