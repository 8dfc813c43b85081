/*
 * The write connection's SQLite VFS (dbvfs.c): a commit's WAL frames reach
 * the file in one write instead of two per frame, and nothing changes for
 * anyone reading: other connections (default VFS) see every commit right
 * after it, pages spilled in the middle of a big transaction read back
 * correctly, checkpoints complete, and the file passes integrity_check
 * after a reopen. The write count comes from the unix VFS's own system-call
 * hooks (xSetSystemCall), the same ones SQLite's test suite uses.
 */
#include "store/store_int.h"
#include "test.h"
#include "st_test.h"

#include <errno.h>
#include <fcntl.h>

static long nwrites;
static bool fail_writes; /* the disk is full */
static sqlite3_syscall_ptr real_pwrite, real_pwrite64, real_write;

static ssize_t count_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    nwrites++;
    if (fail_writes) {
        errno = ENOSPC;
        return -1;
    }
    return ((ssize_t(*)(int, const void *, size_t, off_t))real_pwrite)(fd, buf, n, off);
}

static ssize_t count_pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    nwrites++;
    if (fail_writes) {
        errno = ENOSPC;
        return -1;
    }
    return ((ssize_t(*)(int, const void *, size_t, off_t))real_pwrite64)(fd, buf, n, off);
}

static ssize_t count_write(int fd, const void *buf, size_t n)
{
    nwrites++;
    if (fail_writes) {
        errno = ENOSPC;
        return -1;
    }
    return ((ssize_t(*)(int, const void *, size_t))real_write)(fd, buf, n);
}

static int setup(void **state)
{
    sqlite3_vfs *unix_vfs = sqlite3_vfs_find("unix");

    (void)state;
    assert_non_null(unix_vfs);
    real_pwrite = unix_vfs->xGetSystemCall(unix_vfs, "pwrite");
    real_pwrite64 = unix_vfs->xGetSystemCall(unix_vfs, "pwrite64");
    real_write = unix_vfs->xGetSystemCall(unix_vfs, "write");
    if (real_pwrite) {
        unix_vfs->xSetSystemCall(unix_vfs, "pwrite", (sqlite3_syscall_ptr)count_pwrite);
    }
    if (real_pwrite64) {
        unix_vfs->xSetSystemCall(unix_vfs, "pwrite64", (sqlite3_syscall_ptr)count_pwrite64);
    }
    unix_vfs->xSetSystemCall(unix_vfs, "write", (sqlite3_syscall_ptr)count_write);
    assert_int_equal(db_vfs_register(), CV_OK);
    return 0;
}

static sqlite3 *open_db(const char *dir, const char *vfs)
{
    char path[128];
    sqlite3 *h = NULL;

    snprintf(path, sizeof(path), "%s/t.db", dir);
    assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(h,
                                  "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                  "CREATE TABLE IF NOT EXISTS t(k INTEGER PRIMARY KEY, v BLOB);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    return h;
}

/* The body of row k: 4 KiB (or n bytes) that depend on k. */
static void body_of(int k, unsigned char *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = (unsigned char)(k * 31 + i * 7);
    }
}

static void insert_rows(sqlite3 *h, int from, int to, size_t n)
{
    unsigned char *v = malloc(n);
    sqlite3_stmt *s = NULL;

    assert_non_null(v);
    assert_int_equal(sqlite3_prepare_v2(h, "INSERT OR REPLACE INTO t VALUES(?1, ?2)", -1, &s, NULL),
                     SQLITE_OK);
    for (int k = from; k < to; k++) {
        body_of(k, v, n);
        sqlite3_bind_int(s, 1, k);
        sqlite3_bind_blob(s, 2, v, (int)n, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(s), SQLITE_DONE);
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    free(v);
}

/* Every row in [from, to) is there with its body, seen through @p h. */
static void check_rows(sqlite3 *h, int from, int to, size_t n)
{
    unsigned char *want = malloc(n);
    sqlite3_stmt *s = NULL;

    assert_non_null(want);
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT v FROM t WHERE k = ?1", -1, &s, NULL),
                     SQLITE_OK);
    for (int k = from; k < to; k++) {
        sqlite3_bind_int(s, 1, k);
        if (sqlite3_step(s) != SQLITE_ROW) {
            fail_msg("row %d is missing", k);
        }
        body_of(k, want, n);
        assert_int_equal(sqlite3_column_bytes(s, 0), (int)n);
        if (memcmp(sqlite3_column_blob(s, 0), want, n) != 0) {
            fail_msg("row %d has the wrong body", k);
        }
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    free(want);
}

static void exec_ok(sqlite3 *h, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("%s: %s", sql, msg ? msg : "?");
    }
}

/* @p sql prepared and stepped to its first row (the caller finalizes). */
static sqlite3_stmt *first_row(sqlite3 *h, const char *sql)
{
    sqlite3_stmt *s = NULL;

    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    return s;
}

static void assert_integrity(sqlite3 *h)
{
    sqlite3_stmt *s = first_row(h, "PRAGMA integrity_check");

    assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
    sqlite3_finalize(s);
}

/* One commit of 50 rows of 4 KiB: write calls with the default VFS and with ours. */
static long commit_writes(const char *dir, const char *vfs)
{
    sqlite3 *h = open_db(dir, vfs);
    long before;

    exec_ok(h, "PRAGMA wal_autocheckpoint=0");
    insert_rows(h, 0, 1, 4096); /* the WAL exists and has its header */
    exec_ok(h, "BEGIN");
    insert_rows(h, 1, 51, 4096);
    before = nwrites;
    exec_ok(h, "COMMIT");
    before = nwrites - before;
    sqlite3_close(h);
    return before;
}

static void test_one_write_per_commit(void **state)
{
    char d1[64], d2[64];
    long plain, batched;

    (void)state;
    st_mkdtemp(d1);
    st_mkdtemp(d2);
    plain = commit_writes(d1, NULL);
    batched = commit_writes(d2, DB_VFS_WRITE_BEHIND);
    print_message("writes for one 50-row commit: default VFS %ld, %s %ld\n", plain,
                  DB_VFS_WRITE_BEHIND, batched);
    /* Two per frame (header, page) with the default VFS: 50 overflow pages at least. */
    assert_true(plain >= 100);
    assert_true(batched >= 1);
    assert_true(batched <= 2);
    st_rmtree(d1);
    st_rmtree(d2);
}

/*
 * Many commits through our VFS, with a checkpoint every 20 pages, while a
 * second connection on the default VFS reads every commit right after it.
 */
static void test_readers_see_every_commit(void **state)
{
    char dir[64];
    sqlite3 *w, *r;
    sqlite3_stmt *s = NULL;
    int log = -1, done = -1;

    (void)state;
    st_mkdtemp(dir);
    w = open_db(dir, DB_VFS_WRITE_BEHIND);
    r = open_db(dir, NULL);
    exec_ok(w, "PRAGMA wal_autocheckpoint=20");
    for (int i = 0; i < 60; i++) {
        exec_ok(w, "BEGIN");
        insert_rows(w, i * 5, i * 5 + 5, 3000 + (size_t)i * 100);
        exec_ok(w, "COMMIT");
        check_rows(r, i * 5, i * 5 + 5, 3000 + (size_t)i * 100);
    }
    s = first_row(w, "PRAGMA wal_checkpoint(TRUNCATE)");
    assert_int_equal(sqlite3_column_int(s, 0), 0); /* not busy */
    log = sqlite3_column_int(s, 1);
    done = sqlite3_column_int(s, 2);
    sqlite3_finalize(s);
    assert_int_equal(log, done);
    sqlite3_close(r);
    sqlite3_close(w);
    r = open_db(dir, NULL);
    for (int i = 0; i < 60; i++) {
        check_rows(r, i * 5, i * 5 + 5, 3000 + (size_t)i * 100);
    }
    assert_integrity(r);
    sqlite3_close(r);
    st_rmtree(dir);
}

/*
 * A transaction far bigger than the page cache (and than the VFS buffer):
 * SQLite spills pages to the WAL before the commit and reads them back.
 */
static void test_spill_and_rewrite(void **state)
{
    char dir[64];
    sqlite3 *w, *r;

    (void)state;
    st_mkdtemp(dir);
    w = open_db(dir, DB_VFS_WRITE_BEHIND);
    exec_ok(w, "PRAGMA cache_size=8");
    exec_ok(w, "BEGIN");
    insert_rows(w, 0, 400, 4096);
    insert_rows(w, 100, 300, 1000); /* rewrites pages spilled earlier */
    check_rows(w, 0, 100, 4096);
    check_rows(w, 100, 300, 1000);
    exec_ok(w, "COMMIT");
    exec_ok(w, "BEGIN");
    insert_rows(w, 50, 150, 2000);
    exec_ok(w, "ROLLBACK");
    r = open_db(dir, NULL);
    check_rows(r, 0, 100, 4096);
    check_rows(r, 100, 300, 1000);
    check_rows(r, 300, 400, 4096);
    assert_integrity(r);
    sqlite3_close(r);
    sqlite3_close(w);
    r = open_db(dir, NULL);
    check_rows(r, 0, 100, 4096);
    check_rows(r, 300, 400, 4096);
    assert_integrity(r);
    sqlite3_close(r);
    st_rmtree(dir);
}

/* A commit whose deferred write fails reports it, and loses nothing committed before. */
static void test_full_disk(void **state)
{
    char dir[64];
    sqlite3 *w, *r;
    sqlite3_stmt *s;
    int rc;

    (void)state;
    st_mkdtemp(dir);
    w = open_db(dir, DB_VFS_WRITE_BEHIND);
    insert_rows(w, 0, 20, 4096);
    exec_ok(w, "BEGIN");
    insert_rows(w, 20, 40, 4096);
    fail_writes = true;
    rc = sqlite3_exec(w, "COMMIT", NULL, NULL, NULL);
    fail_writes = false;
    assert_int_equal(rc & 0xff, SQLITE_FULL);
    sqlite3_close(w);
    r = open_db(dir, NULL);
    check_rows(r, 0, 20, 4096);
    s = first_row(r, "SELECT count(*) FROM t");
    assert_int_equal(sqlite3_column_int(s, 0), 20);
    sqlite3_finalize(s);
    assert_integrity(r);
    sqlite3_close(r);
    st_rmtree(dir);
}

/*
 * A rolled-back transaction that spilled leaves frames in the buffer. Another writer
 * (another process, here a default-VFS connection) then commits frames at
 * the same WAL offsets. Our connection's next transaction must not write the
 * stale frames over them: the buffer goes out before the WAL write lock is
 * released, as the default VFS would have written it.
 */
static void test_rollback_then_other_writer(void **state)
{
    char dir[64];
    sqlite3 *a, *b, *r;

    (void)state;
    st_mkdtemp(dir);
    a = open_db(dir, DB_VFS_WRITE_BEHIND);
    b = open_db(dir, NULL);
    exec_ok(a, "PRAGMA wal_autocheckpoint=0");
    exec_ok(b, "PRAGMA wal_autocheckpoint=0");
    insert_rows(a, 0, 5, 4096);
    /* A cache this small spills frames into the WAL before the rollback. */
    exec_ok(a, "PRAGMA cache_size=2");
    exec_ok(a, "BEGIN");
    insert_rows(a, 100, 110, 4096);
    exec_ok(a, "ROLLBACK");

    exec_ok(b, "BEGIN");
    insert_rows(b, 200, 210, 2000);
    exec_ok(b, "COMMIT");
    exec_ok(a, "BEGIN");
    insert_rows(a, 300, 302, 3000);
    exec_ok(a, "COMMIT");
    sqlite3_close(a);
    sqlite3_close(b);
    r = open_db(dir, NULL);
    check_rows(r, 0, 5, 4096);
    check_rows(r, 200, 210, 2000);
    check_rows(r, 300, 302, 3000);
    assert_integrity(r);
    sqlite3_close(r);
    st_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_write_per_commit),
        cmocka_unit_test(test_readers_see_every_commit),
        cmocka_unit_test(test_spill_and_rewrite),
        cmocka_unit_test(test_full_disk),
        cmocka_unit_test(test_rollback_then_other_writer),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
