/*
 * Helpers shared by the store's unit tests: a temporary data directory,
 * a metadata database in it, and rows put straight into `objects`.
 * Include after "test.h".
 */
#ifndef CV_ST_TEST_H
#define CV_ST_TEST_H

#include <ftw.h>
#include <stdio.h>

static int st_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes a temporary directory tree (best effort). */
static inline void st_rmtree(const char *dir)
{
    if (dir && dir[0]) {
        nftw(dir, st_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    }
}

/* Makes a fresh /tmp/cv-store-test-XXXXXX directory in @p dir. */
static inline void st_mkdtemp(char dir[64])
{
    snprintf(dir, 64, "/tmp/cv-store-test-XXXXXX");
    assert_non_null(mkdtemp(dir));
}

/* Opens DIR/meta.db (creating the schema). */
static inline struct db *st_db_open(const char *dir)
{
    char path[128], msg[256] = "";
    struct db *db = NULL;

    snprintf(path, sizeof(path), "%s/meta.db", dir);
    if (db_open(path, &db, msg, sizeof(msg)) != CV_OK) {
        fail_msg("db_open %s: %s", path, msg);
    }
    return db;
}

/* A db_write job inserting keys (explicit lengths) into one bucket. */
struct st_insert {
    const char *bucket;
    const struct cv_str *keys;
    size_t n;
    int64_t mtime;
};

static cv_err st_insert_tx(struct db_conn *c, void *arg)
{
    const struct st_insert *in = arg;
    sqlite3_stmt *s = NULL;
    cv_err err = CV_OK;

    if (sqlite3_prepare_v2(c->h,
                           "INSERT INTO objects(bucket, key, size, etag, mtime, storage_class) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                           -1, &s, NULL) != SQLITE_OK) {
        return CV_EDB;
    }
    for (size_t i = 0; i < in->n && !err; i++) {
        char etag[48];
        snprintf(etag, sizeof(etag), "\"etag-%zu\"", i);
        sqlite3_reset(s);
        sqlite3_bind_text(s, 1, in->bucket, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, in->keys[i].ptr, (int)in->keys[i].len, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, (sqlite3_int64)(in->keys[i].len * 10 + 1));
        sqlite3_bind_text(s, 4, etag, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 5, in->mtime);
        if (i % 3 == 0) {
            sqlite3_bind_null(s, 6);
        } else {
            sqlite3_bind_text(s, 6, "STANDARD_IA", -1, SQLITE_STATIC);
        }
        if (sqlite3_step(s) != SQLITE_DONE) {
            err = CV_EDB;
        }
    }
    sqlite3_finalize(s);
    return err;
}

static inline void st_insert_keys(struct db *db, const char *bucket, const struct cv_str *keys,
                                  size_t n)
{
    struct st_insert in = {bucket, keys, n, 1700000000000};
    assert_int_equal(db_write(db, st_insert_tx, &in), CV_OK);
}

/* Same for NUL-terminated keys. */
static inline void st_insert_cstrs(struct db *db, const char *bucket, const char *const *keys,
                                   size_t n)
{
    struct cv_str *v = calloc(n ? n : 1, sizeof(*v));
    assert_non_null(v);
    for (size_t i = 0; i < n; i++) {
        v[i] = cv_str_c(keys[i]);
    }
    st_insert_keys(db, bucket, v, n);
    free(v);
}

#endif
