/*
 * A large body's pipeline (hasher.c) and the stream it writes through
 * (blob.c): the hash thread's MD5 is the body's, the disk thread's file
 * holds exactly the body whatever the last piece's length, a buffer the
 * filesystem cannot take directly goes through the page cache instead,
 * and a write error comes back from hasher_finish() instead of a file with
 * a hole in it.
 */
#include "store/store_int.h"
#include "test.h"
#include "st_test.h"

#include <fcntl.h>
#include <sys/stat.h>

#define MIB (1u << 20)

/* A body that is not a repeating pattern: a misplaced block would show. */
static char *make_body(size_t n)
{
    char *b = malloc(n ? n : 1);
    uint32_t x = 2463534242u;
    size_t i;

    assert_non_null(b);
    for (i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b[i] = (char)(x >> 24);
    }
    return b;
}

/* A fresh data directory @p dir and a stream writer @p w in it. */
static void begin(char dir[64], struct blob_writer *w)
{
    st_mkdtemp(dir);
    assert_int_equal(blob_prepare_dirs(dir), CV_OK);
    blob_writer_init(w, dir, 128 * 1024);
    assert_int_equal(blob_begin_stream(w), CV_OK);
}

/* Reads DIR/objects/XX/ID back and compares it with @p want. */
static void check_file(const char *dir, const struct blob_writer *w, const char *want, size_t n)
{
    struct cv_buf path = CV_BUF_INIT(4096);
    struct stat sb;
    char *got = malloc(n + 1);
    ssize_t r;
    int fd;

    assert_non_null(got);
    assert_int_equal(blob_path(dir, cv_str_c(w->id), &path), CV_OK);
    fd = open(path.ptr, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &sb), 0);
    assert_int_equal((size_t)sb.st_size, n); /* no padding left behind */
    r = pread(fd, got, n + 1, 0);
    assert_int_equal((size_t)r, n);
    assert_memory_equal(got, want, n);
    close(fd);
    free(got);
    cv_buf_release(&path);
}

/* The whole pipeline for @p n bytes fed in pieces of @p step bytes. */
static void pipeline(size_t n, size_t step)
{
    char dir[64];
    char *body = make_body(n);
    struct blob_writer w;
    struct hasher *h = NULL;
    struct cv_md5 md5;
    uint8_t got[CV_MD5_LEN], want[CV_MD5_LEN];
    size_t off;

    begin(dir, &w);
    cv_md5_init(&md5);
    assert_int_equal(hasher_start(&h, &md5, NULL, NULL, &w), CV_OK);
    for (off = 0; off < n; off += step) {
        hasher_feed(h, body + off, CV_MIN(step, n - off));
    }
    assert_int_equal(hasher_finish(h), CV_OK);
    cv_md5_final(&md5, got);
    cv_md5(body, n, want);
    assert_memory_equal(got, want, CV_MD5_LEN);
    assert_int_equal(w.size, n);
    assert_int_equal(blob_finish(&w), CV_OK);
    check_file(dir, &w, body, n);
    blob_writer_release(&w);
    st_rmtree(dir);
    free(body);
}

static void test_pipeline_lengths(void **state)
{
    (void)state;
    /* Whole slots, one byte either side of a block, a tail of one byte,
     * MHD-sized pieces that straddle the 1 MiB slots. */
    pipeline(8 * MIB, 65536);
    pipeline(8 * MIB + 1, 65536);
    pipeline(8 * MIB + 4095, 100000);
    pipeline(8 * MIB + 4097, 98304 + 7);
    pipeline(9 * MIB - 1, 1 * MIB);
    pipeline(3 * MIB + 12345, 3 * MIB + 12345); /* one call, several slots */
}

/* A buffer the disk cannot take directly (not aligned): the rest of the
 * file goes through the page cache, and the file is still exact. */
static void test_unaligned_buffer_falls_back(void **state)
{
    char dir[64];
    size_t n = 2 * MIB + 100;
    char *body = make_body(n);
    char *mem = malloc(2 * MIB + 2 * BLOB_ALIGN);
    char *al = blob_aligned(mem);
    struct blob_writer w;

    (void)state;
    begin(dir, &w);
    /* First MiB aligned, second from an odd address, then a short tail. */
    memcpy(al, body, MIB);
    assert_int_equal(blob_stream_write(&w, al, MIB, MIB), CV_OK);
    memcpy(al + 1, body + MIB, MIB);
    assert_int_equal(blob_stream_write(&w, al + 1, MIB, MIB), CV_OK);
    assert_false(w.direct);
    memcpy(al, body + 2 * MIB, 100);
    assert_int_equal(blob_stream_write(&w, al, 100, MIB), CV_OK);
    assert_int_equal(blob_stream_end(&w), CV_OK);
    assert_int_equal(blob_finish(&w), CV_OK);
    check_file(dir, &w, body, n);
    blob_writer_release(&w);
    st_rmtree(dir);
    free(mem);
    free(body);
}

/* A short piece ends the stream: another piece after it is refused. */
static void test_short_piece_is_last(void **state)
{
    char dir[64];
    char *mem = malloc(MIB + BLOB_ALIGN);
    char *al = blob_aligned(mem);
    struct blob_writer w;

    (void)state;
    begin(dir, &w);
    memset(al, 'a', MIB);
    if (w.direct) {
        assert_int_equal(blob_stream_write(&w, al, 10, MIB), CV_OK);
        assert_int_equal(blob_stream_write(&w, al, 10, MIB), CV_EINVAL);
    }
    blob_writer_abort(&w);
    st_rmtree(dir);
    free(mem);
}

/* The disk thread cannot write (here: the descriptor is read-only, as a
 * full disk or an I/O error would fail it): hasher_finish() says so, after
 * the hash thread has still seen every byte. */
static void test_write_error_comes_back(void **state)
{
    char dir[64];
    size_t n = 5 * MIB + 3;
    char *body = make_body(n);
    struct blob_writer w;
    struct hasher *h = NULL;
    struct cv_md5 md5;
    struct cv_buf path = CV_BUF_INIT(4096);
    uint8_t got[CV_MD5_LEN], want[CV_MD5_LEN];
    int wfd;

    (void)state;
    begin(dir, &w);
    assert_int_equal(cv_buf_addf(&path, "%s/tmp/%s", dir, w.id), CV_OK);
    wfd = w.fd;
    w.fd = open(path.ptr, O_RDONLY);
    assert_true(w.fd >= 0);
    cv_md5_init(&md5);
    assert_int_equal(hasher_start(&h, &md5, NULL, NULL, &w), CV_OK);
    hasher_feed(h, body, n);
    assert_int_equal(hasher_finish(h), CV_EIO);
    cv_md5_final(&md5, got);
    cv_md5(body, n, want);
    assert_memory_equal(got, want, CV_MD5_LEN);
    close(wfd);
    blob_writer_abort(&w); /* removes the temp file */
    assert_int_equal(access(path.ptr, F_OK), -1);
    cv_buf_release(&path);
    st_rmtree(dir);
    free(body);
}

/* blob_stream_cancel() removes the file and leaves a writer that works as
 * a fresh one: small bodies stay in memory again. */
static void test_cancel_leaves_fresh_writer(void **state)
{
    char dir[64];
    struct blob_writer w;
    struct cv_buf path = CV_BUF_INIT(4096);

    (void)state;
    begin(dir, &w);
    assert_int_equal(cv_buf_addf(&path, "%s/tmp/%s", dir, w.id), CV_OK);
    assert_int_equal(access(path.ptr, F_OK), 0);
    blob_stream_cancel(&w);
    assert_int_equal(access(path.ptr, F_OK), -1);
    assert_int_equal(w.fd, -1);
    assert_false(w.direct);
    assert_int_equal(blob_write(&w, "abc", 3), CV_OK);
    assert_int_equal(w.fd, -1);
    assert_int_equal(w.mem.len, 3);
    blob_writer_abort(&w);
    cv_buf_release(&path);
    st_rmtree(dir);
}

/* One pipeline without a disk thread, started under the allocation sweep:
 * every failure frees what was allocated (ASan checks). */
static cv_err start_feed_finish(void)
{
    struct hasher *h = NULL;
    struct cv_md5 md5;
    cv_err err;

    cv_md5_init(&md5);
    err = hasher_start(&h, &md5, NULL, NULL, NULL);
    if (err) {
        assert_null(h);
        return err;
    }
    hasher_feed(h, "abc", 3);
    return hasher_finish(h);
}

static void test_start_allocation_failures(void **state)
{
    (void)state;
    CV_ALLOC_SWEEP(start_feed_finish());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipeline_lengths),
        cmocka_unit_test(test_unaligned_buffer_falls_back),
        cmocka_unit_test(test_short_piece_is_last),
        cmocka_unit_test(test_write_error_comes_back),
        cmocka_unit_test(test_cancel_leaves_fresh_writer),
        cmocka_unit_test(test_start_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
