/*
 * The store's metadata in SQLite (WAL).
 *
 * Writes: one writer thread owns the only write connection. Request threads
 * hand it jobs; it runs every job queued since the last commit inside one
 * transaction (each job in its own savepoint) and commits once, so N
 * concurrent PUTs share a single WAL fsync (group commit). synchronous=FULL
 * makes each commit durable before db_write() returns.
 *
 * Reads: a pool of read connections; WAL lets them run beside the writer and
 * each statement sees the last committed state.
 */
#include "store_int.h"

#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static const char *const stmt_sql[] = {
#define STMT_SQL_(id, sql) sql,
    STORE_STMTS(STMT_SQL_)
#undef STMT_SQL_
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS settings(k TEXT PRIMARY KEY, v TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS accounts("
    " id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, canonical_id TEXT NOT NULL,"
    " created INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS accounts_canonical ON accounts(canonical_id);"
    "CREATE TABLE IF NOT EXISTS users("
    " account TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, user_id TEXT NOT NULL UNIQUE,"
    " path TEXT NOT NULL DEFAULT '/', created INTEGER NOT NULL, PRIMARY KEY(account, name));"
    "CREATE TABLE IF NOT EXISTS access_keys("
    " akid TEXT PRIMARY KEY, account TEXT NOT NULL, user TEXT, secret BLOB NOT NULL,"
    " status TEXT NOT NULL, created INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS access_keys_owner ON access_keys(account, user);"
    "CREATE TABLE IF NOT EXISTS user_policies("
    " account TEXT NOT NULL, user TEXT NOT NULL COLLATE NOCASE, name TEXT NOT NULL,"
    " document TEXT NOT NULL, PRIMARY KEY(account, user, name));"
    "CREATE TABLE IF NOT EXISTS buckets("
    " name TEXT PRIMARY KEY, account TEXT NOT NULL, created INTEGER NOT NULL, policy TEXT,"
    " ownership TEXT NOT NULL, region TEXT NOT NULL, acl TEXT,"
    " policy_lockout INTEGER NOT NULL DEFAULT 0, pab INTEGER);"
    "CREATE TABLE IF NOT EXISTS objects("
    " id INTEGER PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL,"
    " etag TEXT NOT NULL, mtime INTEGER NOT NULL, meta TEXT, body BLOB, file TEXT,"
    " ck_algo TEXT, ck_value TEXT, nparts INTEGER NOT NULL DEFAULT 0, storage_class TEXT,"
    " acl TEXT, tags TEXT, vid TEXT, UNIQUE(bucket, key));"
    "CREATE TABLE IF NOT EXISTS segments("
    " object INTEGER NOT NULL, seq INTEGER NOT NULL, size INTEGER NOT NULL, body BLOB,"
    " file TEXT, PRIMARY KEY(object, seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS uploads("
    " id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL, initiator TEXT NOT NULL,"
    " initiator_account TEXT NOT NULL, created INTEGER NOT NULL, meta TEXT, ck_algo TEXT,"
    " storage_class TEXT, acl TEXT, tags TEXT);"
    "CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads(bucket, key, id);"
    "CREATE TABLE IF NOT EXISTS parts("
    " upload TEXT NOT NULL, num INTEGER NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,"
    " mtime INTEGER NOT NULL, body BLOB, file TEXT, ck_value TEXT,"
    " PRIMARY KEY(upload, num)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS bucket_cors(bucket TEXT PRIMARY KEY, doc TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS bucket_tags(bucket TEXT PRIMARY KEY, doc TEXT NOT NULL);"
    "CREATE TRIGGER IF NOT EXISTS bucket_tags_gc AFTER DELETE ON buckets"
    " BEGIN DELETE FROM bucket_tags WHERE bucket = OLD.name; END;"
    "CREATE TRIGGER IF NOT EXISTS bucket_cors_gc AFTER DELETE ON buckets"
    " BEGIN DELETE FROM bucket_cors WHERE bucket = OLD.name; END;"
    /* Object Lock (s3_lock.c): a bucket's configuration ("Enabled" or
     * "Enabled MODE D|Y N"), and the retention / legal hold of object
     * versions, keyed by version id (object lock needs versioning). */
    "CREATE TABLE IF NOT EXISTS bucket_object_lock(bucket TEXT PRIMARY KEY, doc TEXT NOT NULL);"
    "CREATE TRIGGER IF NOT EXISTS bucket_object_lock_gc AFTER DELETE ON buckets"
    " BEGIN DELETE FROM bucket_object_lock WHERE bucket = OLD.name;"
    " DELETE FROM object_locks WHERE bucket = OLD.name; END;"
    "CREATE TABLE IF NOT EXISTS object_locks("
    " bucket TEXT NOT NULL, key TEXT NOT NULL, vid TEXT NOT NULL, mode TEXT, until INTEGER,"
    " hold INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(bucket, key, vid)) WITHOUT ROWID;"
    /* Versioning (objects.c): a bucket's state, and the versions that are not
     * the current object (noncurrent ones and delete markers; segments of a
     * row here are keyed by -id). The current version stays in objects. */
    "CREATE TABLE IF NOT EXISTS bucket_versioning(bucket TEXT PRIMARY KEY, status TEXT NOT NULL);"
    "CREATE TRIGGER IF NOT EXISTS bucket_versioning_gc AFTER DELETE ON buckets"
    " BEGIN DELETE FROM bucket_versioning WHERE bucket = OLD.name; END;"
    "CREATE TABLE IF NOT EXISTS versions("
    " id INTEGER PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL, vid TEXT NOT NULL,"
    " marker INTEGER NOT NULL DEFAULT 0, size INTEGER NOT NULL, etag TEXT NOT NULL,"
    " mtime INTEGER NOT NULL, meta TEXT, body BLOB, file TEXT, ck_algo TEXT, ck_value TEXT,"
    " nparts INTEGER NOT NULL DEFAULT 0, storage_class TEXT, acl TEXT, tags TEXT,"
    " UNIQUE(bucket, key, vid));"
    "CREATE INDEX IF NOT EXISTS versions_by_key ON versions(bucket, key, id);"
    "CREATE TABLE IF NOT EXISTS completed_uploads("
    " id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL, etag TEXT NOT NULL,"
    " completed INTEGER NOT NULL);"
    "";

/* v4: groups, roles, customer managed policies, attachments, OIDC providers
 * (a second string: ISO C caps one literal at 4095 characters). */
static const char schema_iam[] =
    "CREATE TABLE IF NOT EXISTS groups("
    " account TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, group_id TEXT NOT NULL UNIQUE,"
    " path TEXT NOT NULL DEFAULT '/', created INTEGER NOT NULL, PRIMARY KEY(account, name));"
    "CREATE TABLE IF NOT EXISTS group_members("
    " account TEXT NOT NULL, grp TEXT NOT NULL COLLATE NOCASE, user TEXT NOT NULL COLLATE NOCASE,"
    " PRIMARY KEY(account, grp, user));"
    "CREATE INDEX IF NOT EXISTS group_members_user ON group_members(account, user);"
    "CREATE TABLE IF NOT EXISTS roles("
    " account TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, role_id TEXT NOT NULL UNIQUE,"
    " path TEXT NOT NULL DEFAULT '/', created INTEGER NOT NULL, trust TEXT NOT NULL,"
    " description TEXT, max_session INTEGER NOT NULL DEFAULT 3600, PRIMARY KEY(account, name));"
    "CREATE TABLE IF NOT EXISTS entity_policies("
    " account TEXT NOT NULL, kind TEXT NOT NULL, entity TEXT NOT NULL COLLATE NOCASE,"
    " name TEXT NOT NULL, document TEXT NOT NULL, PRIMARY KEY(account, kind, entity, name));"
    "CREATE TABLE IF NOT EXISTS managed_policies("
    " account TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, policy_id TEXT NOT NULL UNIQUE,"
    " path TEXT NOT NULL DEFAULT '/', arn TEXT NOT NULL UNIQUE, description TEXT,"
    " document TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY(account, name));"
    "CREATE TABLE IF NOT EXISTS attached_policies("
    " account TEXT NOT NULL, kind TEXT NOT NULL, entity TEXT NOT NULL COLLATE NOCASE,"
    " arn TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(account, kind, entity, arn));"
    "CREATE INDEX IF NOT EXISTS attached_policies_arn ON attached_policies(arn);"
    "CREATE TABLE IF NOT EXISTS oidc_providers("
    " account TEXT NOT NULL, arn TEXT NOT NULL, url TEXT NOT NULL, created INTEGER NOT NULL,"
    " PRIMARY KEY(account, arn));"
    "CREATE TABLE IF NOT EXISTS oidc_values("
    " account TEXT NOT NULL, arn TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,"
    " seq INTEGER NOT NULL, PRIMARY KEY(account, arn, kind, value));"
    "";

/* Schema versions: 1 first release; 2 adds object/upload tags and the bucket
 * policy's ConfirmRemoveSelfBucketAccess flag; 3 remembers completed uploads
 * (the table is created by the schema above, IF NOT EXISTS); 4 adds IAM groups,
 * roles, customer managed policies, policy attachments and OIDC providers
 * (tables created by the schema too); 5 indexes accounts by canonical id
 * (ACL grantees are named by it). ACL documents themselves live in the acl
 * columns that exist since 1 (see acl.c for the stored form). 6 gives the
 * current object its version id (NULL: the "null" version); the versioning
 * tables are created by the schema above, as are bucket_cors and bucket_tags
 * (with triggers that drop their rows with the bucket), version-free. 7 adds
 * the bucket's Block Public Access flags (buckets.pab, NULL: no configuration;
 * buckets that existed before keep none). */
#define SCHEMA_VERSION 7
static const char *const migrations[] = {
    NULL,
    /* 1 -> 2 */
    "ALTER TABLE objects ADD COLUMN tags TEXT;"
    "ALTER TABLE uploads ADD COLUMN tags TEXT;"
    "ALTER TABLE buckets ADD COLUMN policy_lockout INTEGER NOT NULL DEFAULT 0;",
    /* 2 -> 3: completed_uploads, created by the schema */
    "SELECT 1;",
    /* 3 -> 4: groups, group_members, roles, entity_policies, managed_policies,
     * attached_policies, oidc_providers, oidc_values: created by the schema */
    "SELECT 1;",
    /* 4 -> 5: ACL grantees are looked up by canonical id */
    "CREATE INDEX IF NOT EXISTS accounts_canonical ON accounts(canonical_id);",
    /* 5 -> 6: version ids (versioning) */
    "ALTER TABLE objects ADD COLUMN vid TEXT;",
    /* 6 -> 7: Block Public Access (s3_pab.c) */
    "ALTER TABLE buckets ADD COLUMN pab INTEGER;",
};

static cv_err migrate(struct db_conn *c, char *errmsg, size_t errlen)
{
    sqlite3_stmt *q = NULL;
    int v = 0;
    char *msg = NULL;
    char sql[64];

    if (sqlite3_prepare_v2(c->h, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW) {
        v = sqlite3_column_int(q, 0);
    }
    sqlite3_finalize(q);
    /* A fresh database got the current schema from CREATE TABLE. */
    if (v == 0) {
        v = SCHEMA_VERSION;
    }
    for (; v < SCHEMA_VERSION; v++) {
        if (sqlite3_exec(c->h, migrations[v], NULL, NULL, &msg) != SQLITE_OK) {
            cv_errf(errmsg, errlen, "cannot migrate the schema to version %d: %s", v + 1,
                    msg ? msg : "?");
            sqlite3_free(msg);
            return CV_EDB;
        }
    }
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
    return sqlite3_exec(c->h, sql, NULL, NULL, NULL) == SQLITE_OK ? CV_OK : CV_EDB;
}

struct write_job {
    db_write_fn fn;
    void *arg;
    cv_err result;
    bool objects_only; /* touches objects, versions, uploads: no bucket metadata */
    sem_t done;        /* posted once, after the writer let go of the queue lock */
    struct write_job *next;
    struct write_job *wake; /* set on a batch's first job: the rest, for its waiter to wake */
};

/* The writer's transaction-control statements, prepared once. */
enum tx_stmt { TX_BEGIN, TX_SAVEPOINT, TX_RELEASE, TX_ROLLBACK_TO, TX_COMMIT, TX_ROLLBACK, TX__N };
static const char *const tx_sql[TX__N] = {"BEGIN IMMEDIATE", "SAVEPOINT job", "RELEASE job",
                                          "ROLLBACK TO job", "COMMIT", "ROLLBACK"};

struct db {
    char *path;
    pthread_mutex_t mu;
    pthread_cond_t work_cv;
    sqlite3_stmt *tx[TX__N];
    struct write_job *head, **tail;
    bool stop;
    bool writer_idle; /* waiting on work_cv: a new job must signal it */
    bool thread_started;
    atomic_uint_least64_t meta_gen; /* bumped after commits that may change bucket metadata */
    pthread_t thread;
    struct db_conn *writer;
    pthread_mutex_t pool_mu;
    struct db_conn *pool;
    size_t npool;
    uint64_t commits, writes;
};

/* Idle read connections kept. Each holds a small page cache (the OS page
 * cache serves the rest), so RSS stays flat under many connections. */
#define DB_POOL_MAX 16

static void conn_close(struct db_conn *c)
{
    size_t i;

    if (!c) {
        return;
    }
    for (i = 0; i < STMT__COUNT; i++) {
        sqlite3_finalize(c->stmts[i]);
    }
    sqlite3_close_v2(c->h);
    cv_free(c);
}

static cv_err conn_open(const char *path, bool writer, struct db_conn **out, char *errmsg,
                        size_t errlen)
{
    struct db_conn *c = cv_calloc(1, sizeof(*c));
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
    cv_err err = CV_OK;

    if (!c) {
        return CV_ENOMEM;
    }
    /* The write connection batches its file writes (dbvfs.c); it syncs every commit. */
    if (sqlite3_open_v2(path, &c->h, flags, writer ? DB_VFS_WRITE_BEHIND : NULL) != SQLITE_OK) {
        cv_errf(errmsg, errlen, "cannot open %s: %s", path, c->h ? sqlite3_errmsg(c->h) : "?");
        err = CV_EDB;
        goto out;
    }
    sqlite3_busy_timeout(c->h, 10000);
    sqlite3_extended_result_codes(c->h, 1);
    if (sqlite3_exec(c->h,
                     writer ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                              "PRAGMA foreign_keys=OFF; PRAGMA cache_size=-8000;"
                              "PRAGMA temp_store=MEMORY;"
                            : "PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;"
                              "PRAGMA cache_size=-512; PRAGMA temp_store=MEMORY;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        cv_errf(errmsg, errlen, "cannot configure %s: %s", path, sqlite3_errmsg(c->h));
        err = CV_EDB;
        goto out;
    }
out:
    if (err) {
        conn_close(c);
        c = NULL;
    }
    *out = c;
    return err;
}

sqlite3_stmt *db_stmt(struct db_conn *c, enum store_stmt id)
{
    sqlite3_stmt *s = c->stmts[id];

    if (!s) {
        if (sqlite3_prepare_v3(c->h, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) !=
            SQLITE_OK) {
            cv_error("store: cannot prepare statement %d: %s", (int)id, sqlite3_errmsg(c->h));
            return NULL;
        }
        c->stmts[id] = s;
    } else {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
    }
    return s;
}

int db_bind_str(sqlite3_stmt *s, int i, struct cv_str v)
{
    if (!v.ptr) {
        return sqlite3_bind_null(s, i);
    }
    return sqlite3_bind_text(s, i, v.len ? v.ptr : "", (int)v.len, SQLITE_STATIC);
}

struct cv_str db_col_str(sqlite3_stmt *s, int i)
{
    struct cv_str v;

    v.ptr = (const char *)sqlite3_column_text(s, i);
    v.len = v.ptr ? (size_t)sqlite3_column_bytes(s, i) : 0;
    return v;
}

static bool tx_run(struct db *db, enum tx_stmt t)
{
    sqlite3_stmt *s = db->tx[t];
    int rc;

    if (!s && sqlite3_prepare_v3(db->writer->h, tx_sql[t], -1, SQLITE_PREPARE_PERSISTENT, &s,
                                 NULL) != SQLITE_OK) {
        cv_error("store: %s: %s", tx_sql[t], sqlite3_errmsg(db->writer->h));
        return false;
    }
    db->tx[t] = s;
    rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        cv_error("store: %s: %s", tx_sql[t], sqlite3_errmsg(db->writer->h));
        return false;
    }
    return true;
}

/* Wakes each waiter of a list without holding any lock (a woken thread does
 * not block on one again). A waiter frees its job once sem_wait returns, so
 * read next first; glibc's sem_post does not touch the semaphore after the
 * waiter can see the post. */
static void jobs_done(struct write_job *j)
{
    while (j) {
        struct write_job *next = j->next;
        sem_post(&j->done);
        j = next;
    }
}

/*
 * The writer wakes only the first waiter of a batch, and that waiter wakes
 * the rest (write_job_run). Waking a thread costs the waker several
 * microseconds, far more in a paravirtualised guest, where it is an
 * inter-processor interrupt; the writer is the one thread every later
 * batch waits for, so the wake-ups move off it. With 16 connections
 * putting 4 KiB objects: about 15 % more PUTs per second and 8 % less CPU
 * per PUT (docs/internals/bench.md).
 */
static void batch_done(struct write_job *batch)
{
    batch->wake = batch->next;
    sem_post(&batch->done);
}

static void *writer_main(void *arg)
{
    struct db *db = arg;

    for (;;) {
        struct write_job *batch, *j;
        bool ok, meta = false;
        uint64_t n = 0;

        pthread_mutex_lock(&db->mu);
        while (!db->head && !db->stop) {
            db->writer_idle = true;
            pthread_cond_wait(&db->work_cv, &db->mu);
        }
        db->writer_idle = false;
        batch = db->head;
        db->head = NULL;
        db->tail = &db->head;
        pthread_mutex_unlock(&db->mu);
        if (!batch) {
            break;
        }

        ok = tx_run(db, TX_BEGIN);
        for (j = batch; j; j = j->next) {
            n++;
            meta |= !j->objects_only;
            if (!ok) {
                j->result = CV_EDB;
                continue;
            }
            if (!tx_run(db, TX_SAVEPOINT)) {
                j->result = CV_EDB;
                continue;
            }
            j->result = j->fn(db->writer, j->arg);
            if (j->result) {
                tx_run(db, TX_ROLLBACK_TO);
            }
            tx_run(db, TX_RELEASE);
        }
        if (ok && !tx_run(db, TX_COMMIT)) {
            tx_run(db, TX_ROLLBACK);
            for (j = batch; j; j = j->next) {
                if (!j->result) {
                    j->result = CV_EDB;
                }
            }
        }
        /* Caches of bucket metadata compare this after their read: bump it
         * once the change is visible, before anyone hears it is done. */
        if (meta) {
            atomic_fetch_add(&db->meta_gen, 1);
        }
        pthread_mutex_lock(&db->mu);
        db->commits++;
        db->writes += n;
        pthread_mutex_unlock(&db->mu);
        batch_done(batch);
    }
    return NULL;
}

static cv_err write_job_run(struct db *db, db_write_fn fn, void *arg, bool objects_only)
{
    struct write_job job;
    bool wake;

    job.fn = fn;
    job.arg = arg;
    job.result = CV_OK;
    job.objects_only = objects_only;
    job.next = NULL;
    job.wake = NULL;
    if (sem_init(&job.done, 0, 0) != 0) {
        return CV_EINTERNAL;
    }
    pthread_mutex_lock(&db->mu);
    if (db->stop) {
        pthread_mutex_unlock(&db->mu);
        sem_destroy(&job.done);
        return CV_ECANCELED;
    }
    *db->tail = &job;
    db->tail = &job.next;
    wake = db->writer_idle;
    db->writer_idle = false;
    pthread_mutex_unlock(&db->mu);
    if (wake) {
        pthread_cond_signal(&db->work_cv);
    }
    while (sem_wait(&job.done) != 0) {
        /* EINTR: wait on */
    }
    jobs_done(job.wake); /* the first of its batch: the others wait on us */
    sem_destroy(&job.done);
    return job.result;
}

cv_err db_write(struct db *db, db_write_fn fn, void *arg)
{
    return write_job_run(db, fn, arg, false);
}

cv_err db_write_objects(struct db *db, db_write_fn fn, void *arg)
{
    return write_job_run(db, fn, arg, true);
}

uint64_t db_meta_gen(struct db *db)
{
    return atomic_load(&db->meta_gen);
}

void db_stats(struct db *db, uint64_t *commits, uint64_t *writes)
{
    pthread_mutex_lock(&db->mu);
    *commits = db->commits;
    *writes = db->writes;
    pthread_mutex_unlock(&db->mu);
}

struct db_conn *db_reader(struct db *db)
{
    struct db_conn *c;

    pthread_mutex_lock(&db->pool_mu);
    c = db->pool;
    if (c) {
        db->pool = c->next_free;
        db->npool--;
    }
    pthread_mutex_unlock(&db->pool_mu);
    if (!c && conn_open(db->path, false, &c, NULL, 0) != CV_OK) {
        return NULL;
    }
    return c;
}

void db_reader_done(struct db *db, struct db_conn *c)
{
    size_t i;

    if (!c) {
        return;
    }
    for (i = 0; i < STMT__COUNT; i++) {
        if (c->stmts[i]) {
            sqlite3_reset(c->stmts[i]);
        }
    }
    pthread_mutex_lock(&db->pool_mu);
    if (db->npool < DB_POOL_MAX) {
        c->next_free = db->pool;
        db->pool = c;
        db->npool++;
        c = NULL;
    }
    pthread_mutex_unlock(&db->pool_mu);
    conn_close(c);
}

cv_err db_open(const char *path, struct db **out, char *errmsg, size_t errlen)
{
    struct db *db = cv_calloc(1, sizeof(*db));
    cv_err err;
    char *msg = NULL;

    *out = NULL;
    if (!db) {
        return CV_ENOMEM;
    }
    pthread_mutex_init(&db->mu, NULL);
    pthread_mutex_init(&db->pool_mu, NULL);
    pthread_cond_init(&db->work_cv, NULL);
    db->tail = &db->head;
    db->path = cv_strdup(path);
    if (!db->path) {
        err = CV_ENOMEM;
        goto out;
    }
    err = db_vfs_register();
    if (err) {
        cv_errf(errmsg, errlen, "cannot register the SQLite VFS %s", DB_VFS_WRITE_BEHIND);
        goto out;
    }
    err = conn_open(path, true, &db->writer, errmsg, errlen);
    if (err) {
        goto out;
    }
    if (sqlite3_exec(db->writer->h, schema, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(db->writer->h, schema_iam, NULL, NULL, &msg) != SQLITE_OK) {
        cv_errf(errmsg, errlen, "cannot create the schema in %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        err = CV_EDB;
        goto out;
    }
    err = migrate(db->writer, errmsg, errlen);
    if (err) {
        goto out;
    }
    if (pthread_create(&db->thread, NULL, writer_main, db) != 0) {
        err = CV_EINTERNAL;
        goto out;
    }
    db->thread_started = true;
out:
    if (err) {
        db_close(db);
        db = NULL;
    }
    *out = db;
    return err;
}

void db_close(struct db *db)
{
    struct db_conn *c;

    if (!db) {
        return;
    }
    if (db->thread_started) {
        pthread_mutex_lock(&db->mu);
        db->stop = true;
        pthread_cond_signal(&db->work_cv);
        pthread_mutex_unlock(&db->mu);
        pthread_join(db->thread, NULL);
    }
    for (c = db->pool; c;) {
        struct db_conn *next = c->next_free;
        conn_close(c);
        c = next;
    }
    db->pool = NULL;
    for (size_t t = 0; t < TX__N; t++) {
        sqlite3_finalize(db->tx[t]);
    }
    if (db->writer) {
        /* A clean shutdown folds the WAL back into the database. */
        sqlite3_exec(db->writer->h, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    }
    conn_close(db->writer);
    pthread_mutex_destroy(&db->mu);
    pthread_mutex_destroy(&db->pool_mu);
    pthread_cond_destroy(&db->work_cv);
    cv_free(db->path);
    cv_free(db);
}

cv_err db_exec_args(struct db_conn *c, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *q = NULL;
    va_list ap;
    int i, rc;

    if (sqlite3_prepare_v2(c->h, sql, -1, &q, NULL) != SQLITE_OK) {
        return CV_EDB;
    }
    va_start(ap, fmt);
    for (i = 0; fmt[i]; i++) {
        if (fmt[i] == 'i') {
            sqlite3_bind_int64(q, i + 1, va_arg(ap, int64_t));
        } else {
            const char *s = va_arg(ap, const char *);
            if (s) {
                sqlite3_bind_text(q, i + 1, s, -1, SQLITE_STATIC);
            } else {
                sqlite3_bind_null(q, i + 1);
            }
        }
    }
    va_end(ap);
    rc = sqlite3_step(q);
    sqlite3_finalize(q);
    if ((rc & 0xff) == SQLITE_CONSTRAINT) { /* extended codes may be on */
        return CV_IAM_ENTITY_EXISTS;
    }
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? CV_OK : CV_EDB;
}

/* ------------------------------------------------------- bucket documents */

/* One small per-bucket document per table (CORS rules, tags), dropped with
 * the bucket by a trigger. */
static const char *const bucket_doc_get_sql[] = {
    [BUCKET_DOC_CORS] = "SELECT doc FROM bucket_cors WHERE bucket = ?1",
    [BUCKET_DOC_TAGS] = "SELECT doc FROM bucket_tags WHERE bucket = ?1",
    [BUCKET_DOC_LOCK] = "SELECT doc FROM bucket_object_lock WHERE bucket = ?1",
};
static const char *const bucket_doc_put_sql[] = {
    [BUCKET_DOC_CORS] = "INSERT OR REPLACE INTO bucket_cors(bucket, doc) "
                        "SELECT name, ?2 FROM buckets WHERE name = ?1",
    [BUCKET_DOC_TAGS] = "INSERT OR REPLACE INTO bucket_tags(bucket, doc) "
                        "SELECT name, ?2 FROM buckets WHERE name = ?1",
    [BUCKET_DOC_LOCK] = "INSERT OR REPLACE INTO bucket_object_lock(bucket, doc) "
                        "SELECT name, ?2 FROM buckets WHERE name = ?1",
};
static const char *const bucket_doc_delete_sql[] = {
    [BUCKET_DOC_CORS] = "DELETE FROM bucket_cors WHERE bucket = ?1",
    [BUCKET_DOC_TAGS] = "DELETE FROM bucket_tags WHERE bucket = ?1",
    [BUCKET_DOC_LOCK] = "DELETE FROM bucket_object_lock WHERE bucket = ?1",
};

cv_err bucket_doc_get(struct db *db, enum bucket_doc kind, struct cv_str bucket,
                      struct cv_buf *out, bool *found)
{
    struct db_conn *c = db_reader(db);
    sqlite3_stmt *q = NULL;
    cv_err err = CV_OK;

    *found = false;
    if (!c) {
        return CV_ENOMEM;
    }
    if (sqlite3_prepare_v2(c->h, bucket_doc_get_sql[kind], -1, &q, NULL) != SQLITE_OK) {
        err = CV_EDB;
        goto out;
    }
    db_bind_str(q, 1, bucket);
    if (sqlite3_step(q) == SQLITE_ROW) {
        struct cv_str d = db_col_str(q, 0);
        *found = true;
        err = cv_buf_add(out, d.ptr ? d.ptr : "", d.len);
    }
out:
    sqlite3_finalize(q);
    db_reader_done(db, c);
    return err;
}

struct bucket_doc_job {
    enum bucket_doc kind;
    struct cv_str bucket;
    const char *doc;
};

cv_err bucket_doc_write(struct db_conn *c, enum bucket_doc kind, struct cv_str bucket,
                        const char *doc)
{
    sqlite3_stmt *q = NULL;
    cv_err err = CV_OK;
    const char *sql = doc ? bucket_doc_put_sql[kind] : bucket_doc_delete_sql[kind];

    if (sqlite3_prepare_v2(c->h, sql, -1, &q, NULL) != SQLITE_OK) {
        return CV_EDB;
    }
    db_bind_str(q, 1, bucket);
    if (doc) {
        sqlite3_bind_text(q, 2, doc, -1, SQLITE_STATIC);
    }
    if (sqlite3_step(q) != SQLITE_DONE) {
        err = CV_EDB;
    }
    sqlite3_finalize(q);
    return err;
}

static cv_err bucket_doc_tx(struct db_conn *c, void *arg)
{
    struct bucket_doc_job *j = arg;

    return bucket_doc_write(c, j->kind, j->bucket, j->doc);
}

cv_err bucket_doc_set(struct db *db, enum bucket_doc kind, struct cv_str bucket, const char *doc)
{
    struct bucket_doc_job j = {kind, bucket, doc};

    return db_write(db, bucket_doc_tx, &j);
}
