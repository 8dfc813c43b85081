/*
 * The metadata database: the group commit under 16 concurrent writers
 * (every row there, a failed job rolled back alone, batching happened),
 * read-your-writes through the reader pool, durability across a reopen,
 * and the schema on a fresh and a reopened database.
 */
#include "store/store_int.h"
#include "test.h"
#include "st_test.h"

#include <pthread.h>

#define NTHREADS 16
#define PER_THREAD 40

struct one_row {
    char key[32];
    bool fail; /* insert, then return an error: must be rolled back */
};

static cv_err one_row_tx(struct db_conn *c, void *arg)
{
    const struct one_row *r = arg;
    sqlite3_stmt *s = db_stmt(c, STMT_OBJ_INSERT);

    if (!s) {
        return CV_EDB;
    }
    sqlite3_bind_text(s, 1, "g", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, r->key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, 1);
    sqlite3_bind_text(s, 4, "\"e\"", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, 1);
    sqlite3_bind_int64(s, 11, 0); /* nparts NOT NULL */
    if (sqlite3_step(s) != SQLITE_DONE) {
        return CV_EDB;
    }
    return r->fail ? CV_EINVAL : CV_OK;
}

static int64_t count_rows(struct db *db, const char *like)
{
    struct db_conn *c = db_reader(db);
    sqlite3_stmt *s = NULL;
    int64_t n = -1;

    assert_non_null(c);
    assert_int_equal(
        sqlite3_prepare_v2(c->h, "SELECT count(*) FROM objects WHERE key LIKE ?1", -1, &s, NULL),
        SQLITE_OK);
    sqlite3_bind_text(s, 1, like, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW) {
        n = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    db_reader_done(db, c);
    return n;
}

/* Is the key there, seen through a pooled reader with a prepared statement? */
static bool visible(struct db *db, const char *key)
{
    struct db_conn *c = db_reader(db);
    sqlite3_stmt *s;
    bool found;

    assert_non_null(c);
    s = db_stmt(c, STMT_OBJ_HEAD_ID);
    assert_non_null(s);
    sqlite3_bind_text(s, 1, "g", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    found = sqlite3_step(s) == SQLITE_ROW;
    db_reader_done(db, c);
    return found;
}

struct worker {
    struct db *db;
    int id;
    int ok, failed_as_expected, invisible;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;

    for (int i = 0; i < PER_THREAD; i++) {
        struct one_row r;
        cv_err err;

        memset(&r, 0, sizeof(r));
        r.fail = i % 10 == 9;
        snprintf(r.key, sizeof(r.key), "%s-%02d-%04d", r.fail ? "bad" : "ok", w->id, i);
        err = db_write(w->db, one_row_tx, &r);
        if (r.fail) {
            w->failed_as_expected += err == CV_EINVAL;
        } else if (err == CV_OK) {
            w->ok++;
            /* The write is committed when db_write returns. */
            w->invisible += !visible(w->db, r.key);
        }
    }
    return NULL;
}

static void test_group_commit(void **state)
{
    char dir[64];
    struct db *db;
    pthread_t th[NTHREADS];
    struct worker w[NTHREADS];
    uint64_t commits = 0, writes = 0;
    int ok = 0, bad = 0, invisible = 0;
    int want_bad = NTHREADS * (PER_THREAD / 10), want_ok = NTHREADS * PER_THREAD - want_bad;

    (void)state;
    st_mkdtemp(dir);
    db = st_db_open(dir);
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (struct worker){db, i, 0, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        ok += w[i].ok;
        bad += w[i].failed_as_expected;
        invisible += w[i].invisible;
    }
    assert_int_equal(ok, want_ok);
    assert_int_equal(bad, want_bad);
    assert_int_equal(invisible, 0);
    assert_int_equal(count_rows(db, "ok-%"), want_ok);
    assert_int_equal(count_rows(db, "bad-%"), 0); /* each failed job rolled back alone */
    db_stats(db, &commits, &writes);
    print_message("group commit: %llu writes in %llu commits (%.2f writes/commit)\n",
                  (unsigned long long)writes, (unsigned long long)commits,
                  commits ? (double)writes / (double)commits : 0.0);
    assert_int_equal(writes, (uint64_t)(NTHREADS * PER_THREAD));
    /* 16 writers queue behind each fsync'ed commit: batches form. */
    assert_true(commits < writes);
    assert_true(commits > 0);

    /* Durable across a close and reopen. */
    db_close(db);
    db = st_db_open(dir);
    assert_int_equal(count_rows(db, "ok-%"), want_ok);
    assert_true(visible(db, "ok-15-0038"));
    assert_false(visible(db, "bad-15-0039"));
    db_stats(db, &commits, &writes);
    assert_int_equal(writes, 0);
    db_close(db);
    st_rmtree(dir);
}

/* A job's error comes back to its caller and leaves the writer usable. */
static void test_job_error(void **state)
{
    char dir[64];
    struct db *db;
    struct one_row r;

    (void)state;
    st_mkdtemp(dir);
    db = st_db_open(dir);
    memset(&r, 0, sizeof(r));
    snprintf(r.key, sizeof(r.key), "dup");
    assert_int_equal(db_write(db, one_row_tx, &r), CV_OK);
    /* UNIQUE(bucket, key): the second insert fails inside SQLite. */
    assert_int_equal(db_write(db, one_row_tx, &r), CV_EDB);
    r.fail = true;
    snprintf(r.key, sizeof(r.key), "rolled-back");
    assert_int_equal(db_write(db, one_row_tx, &r), CV_EINVAL);
    r.fail = false;
    snprintf(r.key, sizeof(r.key), "after");
    assert_int_equal(db_write(db, one_row_tx, &r), CV_OK);
    assert_true(visible(db, "dup"));
    assert_false(visible(db, "rolled-back"));
    assert_true(visible(db, "after"));
    assert_int_equal(count_rows(db, "%"), 2);
    db_close(db);
    st_rmtree(dir);
}

/* A fresh database carries a schema version and every table. */
static void test_schema(void **state)
{
    char dir[64];
    struct db *db;
    struct db_conn *c;
    sqlite3_stmt *s = NULL;
    static const char *const tables[] = {"settings",
                                         "accounts",
                                         "users",
                                         "access_keys",
                                         "buckets",
                                         "objects",
                                         "segments",
                                         "uploads",
                                         "parts",
                                         "user_policies",
                                         "groups",
                                         "group_members",
                                         "roles",
                                         "entity_policies",
                                         "managed_policies",
                                         "attached_policies",
                                         "oidc_providers",
                                         "oidc_values"};

    (void)state;
    st_mkdtemp(dir);
    db = st_db_open(dir);
    c = db_reader(db);
    assert_non_null(c);
    assert_int_equal(sqlite3_prepare_v2(c->h, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    /* Versioned (2 added tags, 3 completed uploads, 4 IAM groups, roles,
     * managed policies, OIDC); db_open never leaves 0. */
    assert_true(sqlite3_column_int(s, 0) >= 4);
    sqlite3_finalize(s);
    for (size_t i = 0; i < CV_ARRAY_LEN(tables); i++) {
        assert_int_equal(sqlite3_prepare_v2(c->h,
                                            "SELECT 1 FROM sqlite_master WHERE type='table' AND "
                                            "name=?1",
                                            -1, &s, NULL),
                         SQLITE_OK);
        sqlite3_bind_text(s, 1, tables[i], -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_ROW) {
            fail_msg("table %s missing", tables[i]);
        }
        sqlite3_finalize(s);
    }
    /* Every prepared statement of the store compiles against it. */
    for (int id = 0; id < STMT__COUNT; id++) {
        if (!db_stmt(c, (enum store_stmt)id)) {
            fail_msg("statement %d does not prepare", id);
        }
    }
    db_reader_done(db, c);
    db_close(db);
    st_rmtree(dir);
}

static cv_err drop_iam_tables(struct db_conn *c, void *arg)
{
    (void)arg;
    return sqlite3_exec(c->h,
                        "DROP TABLE groups; DROP TABLE group_members; DROP TABLE roles;"
                        "DROP TABLE entity_policies; DROP TABLE managed_policies;"
                        "DROP TABLE attached_policies; DROP TABLE oidc_providers;"
                        "DROP TABLE oidc_values; ALTER TABLE objects DROP COLUMN vid;"
                        "ALTER TABLE buckets DROP COLUMN pab;"
                        "PRAGMA user_version = 3;",
                        NULL, NULL, NULL) == SQLITE_OK
               ? CV_OK
               : CV_EDB;
}

static cv_err exec_args_job(struct db_conn *c, void *arg)
{
    cv_err *out = arg;

    out[0] = db_exec_args(c,
                          "INSERT INTO groups(account, name, group_id, path, created) VALUES "
                          "(?1, ?2, ?3, ?4, ?5)",
                          "ssssi", "111122223333", "Devs", "AGPA1", "/", (int64_t)42);
    /* Same name in another case: the NOCASE key refuses it. */
    out[1] = db_exec_args(c,
                          "INSERT INTO groups(account, name, group_id, path, created) VALUES "
                          "(?1, ?2, ?3, ?4, ?5)",
                          "ssssi", "111122223333", "devs", "AGPA2", "/", (int64_t)43);
    /* A NULL text binds NULL (roles.description may be NULL). */
    out[2] = db_exec_args(c,
                          "INSERT INTO roles(account, name, role_id, path, created, trust, "
                          "description) VALUES (?1, ?2, ?3, '/', ?4, '{}', ?5)",
                          "sssis", "111122223333", "r", "AROA1", (int64_t)1, NULL);
    out[3] = db_exec_args(c, "SELECT nonsense FROM nowhere", "");
    return CV_OK;
}

/* A version-3 database gets the IAM tables when opened (migration 3 -> 4),
 * and db_exec_args maps constraint failures to EntityAlreadyExists. */
static void test_migrate_3_to_4(void **state)
{
    char dir[64];
    struct db *db;
    struct db_conn *c;
    sqlite3_stmt *s = NULL;
    cv_err res[4];

    (void)state;
    st_mkdtemp(dir);
    db = st_db_open(dir);
    assert_int_equal(db_write(db, drop_iam_tables, NULL), CV_OK);
    db_close(db);
    db = st_db_open(dir);
    c = db_reader(db);
    assert_non_null(c);
    assert_int_equal(sqlite3_prepare_v2(c->h, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), 7); /* migrated to the current version */
    sqlite3_finalize(s);
    assert_int_equal(
        sqlite3_prepare_v2(c->h, "SELECT COUNT(*) FROM attached_policies", -1, &s, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    sqlite3_finalize(s);
    db_reader_done(db, c);
    assert_int_equal(db_write(db, exec_args_job, res), CV_OK);
    assert_int_equal(res[0], CV_OK);
    assert_int_equal(res[1], CV_IAM_ENTITY_EXISTS);
    assert_int_equal(res[2], CV_OK);
    assert_int_equal(res[3], CV_EDB);
    db_close(db);
    st_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_commit),
        cmocka_unit_test(test_job_error),
        cmocka_unit_test(test_schema),
        cmocka_unit_test(test_migrate_3_to_4),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
