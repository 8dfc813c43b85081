/*
 * store internals: shared by the files of the store module only.
 */
#ifndef CV_STORE_INT_H
#define CV_STORE_INT_H

#include "store/store.h"
#include "sigv4/sigv4.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

/* ------------------------------------------------------------------ db */

/*
 * Every SQL statement of the store, prepared once per connection
 * (X(id, sql)). Keys are TEXT compared with SQLite's BINARY collation,
 * which is byte order: the order S3 lists keys in.
 */
#define STORE_STMTS(X)                                                                             \
    X(ACCOUNT_BY_ID, "SELECT id, name, canonical_id FROM accounts WHERE id = ?1")                 \
    X(ACCOUNT_BY_NAME, "SELECT id, name, canonical_id FROM accounts WHERE name = ?1")             \
    X(ACCOUNT_BY_CANONICAL, "SELECT id, name FROM accounts WHERE canonical_id = ?1")              \
    X(ACCOUNT_FIRST, "SELECT id, name, canonical_id FROM accounts ORDER BY created, id LIMIT 1")  \
    X(ACCOUNT_INSERT,                                                                              \
      "INSERT INTO accounts(id, name, canonical_id, created) VALUES (?1, ?2, ?3, ?4)")             \
    X(KEY_BY_ID, "SELECT k.account, k.user, k.secret, k.status, u.user_id, u.path, "              \
                 "a.canonical_id FROM access_keys k JOIN accounts a ON a.id = k.account LEFT "    \
                 "JOIN users u ON u.account = k.account AND u.name = k.user WHERE k.akid = ?1")   \
    X(KEY_INSERT, "INSERT INTO access_keys(akid, account, user, secret, status, created) "        \
                  "VALUES (?1, ?2, ?3, ?4, 'Active', ?5)")                                         \
    X(KEY_ROOT_OF, "SELECT akid, secret FROM access_keys WHERE account = ?1 AND user IS NULL "   \
                   "ORDER BY created LIMIT 1")                                                     \
    X(BUCKET_GET, "SELECT account, created, policy, ownership, region, policy_lockout, (SELECT "  \
                  "status FROM bucket_versioning WHERE bucket = ?1), pab, EXISTS(SELECT 1 FROM "   \
                  "bucket_object_lock WHERE bucket = ?1) FROM buckets WHERE name = ?1")           \
    X(BUCKET_VSTATE, "SELECT (SELECT status FROM bucket_versioning WHERE bucket = ?1) FROM "       \
                     "buckets WHERE name = ?1")                                                    \
    X(BUCKET_SET_VERSIONING,                                                                       \
      "INSERT OR REPLACE INTO bucket_versioning(bucket, status) VALUES (?1, ?2)")                  \
    X(BUCKET_ANY_VERSION, "SELECT 1 FROM versions WHERE bucket = ?1 LIMIT 1")                                                      \
    X(BUCKET_INSERT, "INSERT INTO buckets(name, account, created, ownership, region, acl, pab) "   \
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")                                        \
    X(BUCKET_SET_PAB, "UPDATE buckets SET pab = ?2 WHERE name = ?1")                               \
    X(BUCKET_DELETE, "DELETE FROM buckets WHERE name = ?1")                                        \
    X(BUCKET_LIST, "SELECT name, created FROM buckets WHERE account = ?1 AND name > ?2 AND "      \
                   "substr(name, 1, length(?3)) = ?3 ORDER BY name LIMIT ?4")                     \
    X(BUCKET_ANY_OBJECT, "SELECT 1 FROM objects WHERE bucket = ?1 LIMIT 1")                        \
    X(BUCKET_ANY_UPLOAD, "SELECT 1 FROM uploads WHERE bucket = ?1 LIMIT 1")                        \
    X(BUCKET_SET_POLICY, "UPDATE buckets SET policy = ?2, policy_lockout = ?3 WHERE name = ?1")    \
    X(BUCKET_SET_ACL, "UPDATE buckets SET acl = ?2 WHERE name = ?1")                               \
    X(BUCKET_GET_ACL, "SELECT acl FROM buckets WHERE name = ?1")                                   \
    X(OBJ_GET, "SELECT id, size, etag, mtime, meta, body, file, ck_algo, ck_value, nparts, "       \
               "storage_class, acl, tags, vid, 0 FROM objects WHERE bucket = ?1 AND key = ?2")    \
    X(OBJ_TAGS, "SELECT id, tags FROM objects WHERE bucket = ?1 AND key = ?2")                     \
    X(OBJ_SET_TAGS, "UPDATE objects SET tags = ?2 WHERE id = ?1")                                  \
    X(OBJ_HEAD_ID, "SELECT id, file, nparts, etag, vid FROM objects WHERE bucket = ?1 AND "       \
                   "key = ?2")                                                                     \
    X(OBJ_INSERT, "INSERT INTO objects(bucket, key, size, etag, mtime, meta, body, file, "        \
                  "ck_algo, ck_value, nparts, storage_class, acl, tags, vid) VALUES (?1, ?2, ?3, " \
                  "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)")                                   \
    X(OBJ_DELETE, "DELETE FROM objects WHERE id = ?1")                                             \
    X(OBJ_GET_ACL, "SELECT acl, id FROM objects WHERE bucket = ?1 AND key = ?2")                   \
    X(BUCKET_SET_OWNERSHIP, "UPDATE buckets SET ownership = ?2 WHERE name = ?1")                   \
    X(OBJ_SET_ACL, "UPDATE objects SET acl = ?2 WHERE id = ?1")                                    \
    X(OBJ_LIST, "SELECT key, size, etag, mtime, storage_class FROM objects WHERE bucket = ?1 AND " \
                "key >= ?2 ORDER BY key LIMIT ?3")                                                  \
    X(SEG_INSERT, "INSERT INTO segments(object, seq, size, body, file) VALUES (?1, ?2, ?3, ?4, ?5)") \
    X(SEG_LIST, "SELECT seq, size, body, file FROM segments WHERE object = ?1 ORDER BY seq")       \
    X(SEG_DELETE, "DELETE FROM segments WHERE object = ?1")                                        \
    X(UPLOAD_INSERT, "INSERT INTO uploads(id, bucket, key, initiator, initiator_account, created, " \
                     "meta, ck_algo, storage_class, acl, tags) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, " \
                     "?8, ?9, ?10, ?11)")                                                            \
    X(UPLOAD_GET, "SELECT bucket, key, initiator, initiator_account, created, meta, ck_algo, "     \
                  "storage_class, acl, tags FROM uploads WHERE id = ?1")                            \
    X(UPLOAD_DELETE, "DELETE FROM uploads WHERE id = ?1")                                          \
    X(UPLOAD_LIST, "SELECT id, key, initiator, initiator_account, created, storage_class FROM "   \
                   "uploads WHERE bucket = ?1 AND (key > ?2 OR (key = ?2 AND id > ?3)) ORDER BY " \
                   "key, id LIMIT ?4")                                                              \
    X(PART_PUT, "INSERT OR REPLACE INTO parts(upload, num, size, etag, mtime, body, file, "       \
                "ck_value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")                               \
    X(PART_GET_FILE, "SELECT file FROM parts WHERE upload = ?1 AND num = ?2")                      \
    X(PART_LIST, "SELECT num, size, etag, mtime, body, file, ck_value FROM parts WHERE upload = "  \
                 "?1 AND num > ?2 ORDER BY num LIMIT ?3")                                           \
    X(PART_FILES, "SELECT file FROM parts WHERE upload = ?1 AND file IS NOT NULL")                 \
    X(PART_DELETE_ALL, "DELETE FROM parts WHERE upload = ?1")                                      \
    X(COMPLETED_PUT, "INSERT OR REPLACE INTO completed_uploads(id, bucket, key, etag, completed) " \
                     "VALUES (?1, ?2, ?3, ?4, ?5)")                                                  \
    X(COMPLETED_EXPIRE, "DELETE FROM completed_uploads WHERE completed < ?1")                      \
    X(UPLOAD_CK_ALGO, "SELECT ck_algo FROM uploads WHERE id = ?1")                              \
    X(VER_ARCHIVE, "INSERT INTO versions(bucket, key, vid, marker, size, etag, mtime, meta, body, " \
                   "file, ck_algo, ck_value, nparts, storage_class, acl, tags) SELECT bucket, key, " \
                   "coalesce(vid, 'null'), 0, size, etag, mtime, meta, body, file, ck_algo, "      \
                   "ck_value, nparts, storage_class, acl, tags FROM objects WHERE id = ?1")        \
    X(VER_RESTORE, "INSERT INTO objects(bucket, key, size, etag, mtime, meta, body, file, "        \
                   "ck_algo, ck_value, nparts, storage_class, acl, tags, vid) SELECT bucket, key, " \
                   "size, etag, mtime, meta, body, file, ck_algo, ck_value, nparts, "              \
                   "storage_class, acl, tags, nullif(vid, 'null') FROM versions WHERE id = ?1")    \
    X(VER_MARKER, "INSERT INTO versions(bucket, key, vid, marker, size, etag, mtime, acl) "        \
                  "VALUES (?1, ?2, ?3, 1, 0, '', ?4, ?5)")                                          \
    X(VER_GET, "SELECT id, size, etag, mtime, meta, body, file, ck_algo, ck_value, nparts, "       \
               "storage_class, acl, tags, vid, marker FROM versions WHERE bucket = ?1 AND key = ?2 " \
               "AND vid = ?3")                                                                      \
    X(VER_LATEST, "SELECT id, size, etag, mtime, meta, body, file, ck_algo, ck_value, nparts, "    \
                  "storage_class, acl, tags, vid, marker FROM versions WHERE bucket = ?1 AND "     \
                  "key = ?2 ORDER BY id DESC LIMIT 1")                                              \
    X(VER_DELETE, "DELETE FROM versions WHERE id = ?1")                                            \
    X(LOCK_GET, "SELECT mode, until, hold FROM object_locks WHERE bucket = ?1 AND key = ?2 AND "  \
                "vid = ?3")                                                                        \
    X(LOCK_PUT, "INSERT OR REPLACE INTO object_locks(bucket, key, vid, mode, until, hold) "       \
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")                                                 \
    X(LOCK_DELETE, "DELETE FROM object_locks WHERE bucket = ?1 AND key = ?2 AND vid = ?3")       \
    X(LOCK_VERSION, "SELECT 1 FROM objects WHERE bucket = ?1 AND key = ?2 AND coalesce(vid, "      \
                    "'null') = ?3 UNION ALL SELECT 1 FROM versions WHERE bucket = ?1 AND key = "  \
                    "?2 AND vid = ?3 AND NOT marker")                                              \
    X(LOCK_ADOPT, "UPDATE OR REPLACE object_locks SET vid = ?4 WHERE bucket = ?1 AND key = ?2 "  \
                  "AND vid = ?3")                                                                  \
    X(SEG_MOVE, "UPDATE segments SET object = ?2 WHERE object = ?1")                              \
    X(VER_LIST, "SELECT key, vid, marker, size, etag, mtime, storage_class, acl FROM (SELECT key, " \
                "coalesce(vid, 'null') AS vid, 0 AS marker, size, etag, mtime, storage_class, "    \
                "acl, 1 AS cur, id FROM objects WHERE bucket = ?1 AND key >= ?2 UNION ALL SELECT " \
                "key, vid, marker, size, etag, mtime, storage_class, acl, 0, id FROM versions "    \
                "WHERE bucket = ?1 AND key >= ?2) ORDER BY key, cur DESC, id DESC")

enum store_stmt {
#define STMT_ENUM_(id, sql) STMT_##id,
    STORE_STMTS(STMT_ENUM_)
#undef STMT_ENUM_
        STMT__COUNT
};

/* One SQLite connection with its prepared statements. */
struct db_conn {
    sqlite3 *h;
    sqlite3_stmt *stmts[STMT__COUNT];
    struct db_conn *next_free;
};

/* A write job run inside the writer's transaction (group commit). */
typedef cv_err (*db_write_fn)(struct db_conn *c, void *arg);

struct db;

/* SQLite VFS of the write connection: writes batched until a sync (dbvfs.c). */
#define DB_VFS_WRITE_BEHIND "caravel-wb"
CV_WUR cv_err db_vfs_register(void);
CV_WUR cv_err db_open(const char *path, struct db **out, char *errmsg, size_t errlen);
void db_close(struct db *db);
/** A read connection from the pool; never NULL unless out of memory. */
struct db_conn *db_reader(struct db *db);
void db_reader_done(struct db *db, struct db_conn *c);
/**
 * Runs @p fn in the writer thread inside a transaction shared with other
 * writes (one WAL fsync for the batch), and returns when the batch is
 * durably committed. fn's own error rolls back only its savepoint.
 */
CV_WUR cv_err db_write(struct db *db, db_write_fn fn, void *arg);
/**
 * db_write() for a job that changes only objects, versions and uploads
 * (never buckets, their settings or identities): it leaves db_meta_gen()
 * as it is, so cached bucket metadata stays valid.
 */
CV_WUR cv_err db_write_objects(struct db *db, db_write_fn fn, void *arg);
/** Bumped after every commit that may have changed anything but objects. */
uint64_t db_meta_gen(struct db *db);
/* Small per-bucket documents in their own tables (dropped with the bucket). */
enum bucket_doc { BUCKET_DOC_CORS, BUCKET_DOC_TAGS, BUCKET_DOC_LOCK };
/** Appends the bucket's document to @p out; *found false when it has none. */
CV_WUR cv_err bucket_doc_get(struct db *db, enum bucket_doc kind, struct cv_str bucket,
                             struct cv_buf *out, bool *found);
/** bucket_doc_set() inside a write job already running in the writer. */
CV_WUR cv_err bucket_doc_write(struct db_conn *c, enum bucket_doc kind, struct cv_str bucket,
                               const char *doc);
/** Stores @p doc (NULL: deletes it) in the writer; a no-op for a missing bucket. */
CV_WUR cv_err bucket_doc_set(struct db *db, enum bucket_doc kind, struct cv_str bucket,
                             const char *doc);
/**
 * Runs one statement: @p fmt has one letter per parameter, 's' text
 * (const char *, NULL binds NULL) or 'i' int64_t. A constraint failure is
 * CV_IAM_ENTITY_EXISTS, any other failure CV_EDB.
 */
CV_WUR cv_err db_exec_args(struct db_conn *c, const char *sql, const char *fmt, ...);
/** A reset statement of @p c. */
sqlite3_stmt *db_stmt(struct db_conn *c, enum store_stmt id);
/** Binds a cv_str as TEXT (SQLITE_STATIC: must outlive the step). */
int db_bind_str(sqlite3_stmt *s, int i, struct cv_str v);
/** A column as a borrowed cv_str (valid until the next step/reset). */
struct cv_str db_col_str(sqlite3_stmt *s, int i);
/** Number of commits / batched writes so far (for the bench). */
void db_stats(struct db *db, uint64_t *commits, uint64_t *writes);

/* ---------------------------------------------------------------- blobs */

/*
 * Object bodies. Up to inline_max bytes stay in memory and are committed
 * inline in SQLite; beyond that the body spills to DIR/tmp/ID, and
 * blob_finish() fsyncs it and renames it to DIR/objects/XX/ID (with a
 * directory fsync) so the metadata commit that follows refers to a durable
 * file.
 */
struct blob_writer {
    const char *dir; /* data dir, borrowed */
    size_t inline_max;
    struct cv_buf mem;
    int fd;
    char id[33];
    uint64_t size;
    uint64_t flushed; /* bytes handed to sync_file_range so far */
    bool finished;
    bool direct; /* stream: the file is open with O_DIRECT */
    bool padded; /* stream: the last piece was written padded to a block */
};

void blob_writer_init(struct blob_writer *w, const char *dir, size_t inline_max);
CV_WUR cv_err blob_write(struct blob_writer *w, const void *p, size_t n);
CV_WUR cv_err blob_finish(struct blob_writer *w);
/** Is the body a file (id set) or inline (mem)? Valid after blob_finish. */
static inline bool blob_is_file(const struct blob_writer *w)
{
    return w->id[0] != '\0';
}
/** Removes the temp or committed-but-unreferenced file; frees memory. */
void blob_writer_abort(struct blob_writer *w);
/** Frees memory only (the file now belongs to the metadata). */
void blob_writer_release(struct blob_writer *w);
/** DIR/objects/XX/ID into @p out. */
CV_WUR cv_err blob_path(const char *dir, struct cv_str id, struct cv_buf *out);
/** Opens a committed body file read-only; CV_ENOENT if it is gone. */
CV_WUR cv_err blob_open(const char *dir, struct cv_str id, int *fd);
/** Unlinks a body file (after the metadata no longer refers to it). */
void blob_unlink(const char *dir, const char *id);
/** Random 32-hex id. */
CV_WUR cv_err blob_new_id(char out[33]);
/** Start-up: empty DIR/tmp, create DIR/objects/00..ff. */
CV_WUR cv_err blob_prepare_dirs(const char *dir);
/*
 * A stream: a large body written by one other thread (the hasher's disk
 * thread) in order, straight from aligned buffers. blob_begin_stream()
 * creates the temp file (O_DIRECT where the filesystem allows); each
 * blob_stream_write() appends @p n bytes from @p p, whose buffer holds
 * @p cap bytes (a piece shorter than a whole number of BLOB_ALIGN blocks
 * must be the last, and is padded with zeros in @p p up to the next block);
 * blob_stream_end() cuts that padding off. blob_finish() as usual.
 */
#define BLOB_ALIGN 4096u
/** The first BLOB_ALIGN boundary at or after @p p. */
static inline char *blob_aligned(char *p)
{
    return p + (BLOB_ALIGN - (uintptr_t)p % BLOB_ALIGN) % BLOB_ALIGN;
}
CV_WUR cv_err blob_begin_stream(struct blob_writer *w);
CV_WUR cv_err blob_stream_write(struct blob_writer *w, char *p, size_t n, size_t cap);
CV_WUR cv_err blob_stream_end(struct blob_writer *w);
/** Undoes blob_begin_stream(): removes the file and leaves a fresh writer. */
void blob_stream_cancel(struct blob_writer *w);
/** Copies [off, off+len) of file @p src_fd into the writer. */
CV_WUR cv_err blob_copy_from_fd(struct blob_writer *w, int src_fd, uint64_t off, uint64_t len);

/*
 * Hashing beside receiving (hasher.c): MD5, and optionally SHA-256 and a
 * checksum, of a large body in a second thread, and with @p stream (a
 * writer after blob_begin_stream()) its writing to disk in a third.
 * hasher_feed() copies; the states and the writer are the caller's again
 * only after hasher_finish(), which drains, joins and frees (NULL ok).
 */
struct hasher;
CV_WUR cv_err hasher_start(struct hasher **out, struct cv_md5 *md5, struct cv_sha256 *sha,
                           struct sigv4_checksum *ck, struct blob_writer *stream);
void hasher_feed(struct hasher *h, const char *data, size_t len);
/** Drains, joins and frees; returns the disk thread's error, if any. */
CV_WUR cv_err hasher_finish(struct hasher *h);
/* Bodies at least this large are hashed beside receiving. */
#define HASHER_MIN_BODY (8u << 20)

/* ------------------------------------------------------------ identity */

enum ident_kind { IDENT_ANONYMOUS = 0, IDENT_ROOT, IDENT_USER };

struct identity {
    enum ident_kind kind;
    char account[13];
    char user[65];     /* IAM user name (kind USER) */
    char user_id[32];  /* AIDA... (kind USER) */
    char arn[600];     /* arn:aws:iam::ACCOUNT:root | :user/PATHNAME */
    char akid[24];
    char canonical[65]; /* the account's canonical user id */
};

/* ------------------------------------------------------------- requests */

struct query_param {
    struct cv_str name, value; /* decoded */
    bool has_value;
};

enum body_kind {
    BODY_NONE = 0,
    BODY_XML,    /* small request document, buffered (DeleteObjects, ...) */
    BODY_OBJECT, /* streamed into a blob writer (PutObject, UploadPart) */
    BODY_FORM,   /* IAM/STS query form, buffered; signature checked after the body */
    BODY_POST,   /* POST Object form: fields parsed, the file streamed into a blob writer */
    BODY_DISCARD /* read and dropped (an error is already decided) */
};

struct store_segment {
    int64_t seq;
    uint64_t size;
    void *mem; /* inline body (owned by the response) */
    char file[33];
    int fd; /* opened early so a concurrent overwrite cannot pull it away; -1 if not */
};

/* What a handler answers; http.c turns it into an MHD response. */
struct store_resp {
    int status;
    struct cv_buf body;
    const char *content_type;
    struct {
        const char *name;
        const char *value;
    } headers[40];
    size_t nheaders;
    /* Streaming body instead of @body: a file range or segment list. */
    bool stream;
    uint64_t stream_len;
    uint64_t stream_off;          /* offset into the concatenated segments */
    struct store_segment *segs;   /* arena */
    size_t nsegs;
};

/* A bucket's versioning state (never set: VS_OFF). */
enum vstate { VS_OFF = 0, VS_ENABLED, VS_SUSPENDED };
/** "Enabled" / "Suspended" (NULL: never set) to the state. */
enum vstate store_vstate(struct cv_str status);

struct bucket_info {
    char account[13];
    int64_t created;
    char ownership[32];
    char region[32];
    bool has_policy;
    bool policy_lockout; /* put with ConfirmRemoveSelfBucketAccess: no root lock-out guard */
    enum vstate versioning;
    bool has_pab;        /* has a PublicAccessBlockConfiguration */
    unsigned pab;        /* its settings (PAB_* bits; 0 without one) */
    bool object_lock; /* Object Lock enabled (s3_lock.c) */
};

/*
 * Object tags (tags.c): stored as the canonical "k=v&k2=v2" form (URL
 * encoded, the x-amz-tagging header's format).
 */
#define TAGS_MAX 10
struct tag_set {
    struct cv_str key[TAGS_MAX], value[TAGS_MAX]; /* decoded, arena */
    size_t n;
};
/** Parses the x-amz-tagging form; CV_S3_INVALID_TAG (message in @p msg) on bad input. */
CV_WUR cv_err tags_parse_query(struct cv_arena *a, struct cv_str q, struct tag_set *ts,
                               char *msg, size_t msglen);
/** Parses a Tagging XML document. */
CV_WUR cv_err tags_parse_xml(struct cv_arena *a, const char *xml, size_t len, struct tag_set *ts,
                             char *msg, size_t msglen);
/** The canonical stored form. */
CV_WUR cv_err tags_encode(const struct tag_set *ts, struct cv_buf *out);
/** <Tagging><TagSet>...</TagSet></Tagging> for GetObjectTagging. */
CV_WUR cv_err tags_write_xml(struct cv_arena *a, struct cv_str stored, struct cv_buf *out);

struct store_req {
    struct store *st;
    struct cv_arena arena;
    char request_id[17];
    char host_id[33];
    int64_t now_ms;

    /* The request as received. */
    struct cv_str method;
    struct cv_str raw_uri, raw_path, raw_query;
    struct sigv4_header *headers;
    size_t nheaders;
    size_t head_bytes;
    struct query_param *params;
    size_t nparams;
    char peer[64];

    /* Routing. */
    struct cv_str bucket;
    struct cv_str key; /* decoded */
    bool has_key;
    bool virtual_host;
    int op; /* enum s3_op */

    /* The bucket the request names, loaded by s3_precheck(). */
    bool bucket_loaded;
    struct bucket_info *bi;
    struct cv_buf bucket_policy; /* its policy document, if any */

    /* For the ListBucket decision that picks 404 or 403 for a missing key:
     * the key is the s3:prefix (so prefix-scoped grants work, as on AWS). */
    struct cv_str authz_prefix;
    /* Tags for the s3:RequestObjectTag/s3:ExistingObjectTag condition keys. */
    const struct tag_set *authz_request_tags;
    const struct tag_set *authz_existing_tags;

    /* Authentication. */
    struct identity ident;
    struct sigv4_parsed auth;
    struct sigv4_signing_key skey;
    struct cv_str content_sha256;
    enum sigv4_stream_mode stream_mode;
    bool payload_hex; /* content_sha256 is a hex digest to check */
    uint8_t payload_expect[CV_SHA256_LEN];

    /* Body. */
    enum body_kind body_kind;
    struct s3_post *post; /* POST Object form state (arena) */
    bool has_content_length;
    uint64_t content_length;
    uint64_t decoded_length; /* x-amz-decoded-content-length, or content length */
    bool has_decoded_length;
    uint64_t received;       /* wire bytes */
    uint64_t body_size;      /* decoded bytes */
    uint64_t body_max;
    int64_t body_started_ms;
    cv_err body_err;
    char body_errmsg[256];
    struct cv_buf xml;
    struct blob_writer blob;
    struct sigv4_chunked *chunked;
    struct cv_sha256 sha;
    struct cv_md5 md5;
    bool want_md5_check;
    uint8_t content_md5[CV_MD5_LEN];
    struct sigv4_checksum ck;
    char ck_expect[SIGV4_CK_B64_MAX]; /* from the header, if given */
    struct hasher *hasher; /* large bodies: md5/sha/ck are its until finished */
    bool blob_stream;      /* ...and its disk thread writes blob (a stream) */
    bool started;
    bool deferred; /* response decided on the head, sent on the next callback */

    /* Response. */
    struct store_resp resp;
    cv_err err; /* for the access log */
};

/* Request helpers (http.c). */
struct cv_str req_header(const struct store_req *r, const char *name);
bool req_has_header(const struct store_req *r, const char *name);
const struct query_param *req_param(const struct store_req *r, const char *name);
bool req_has_param(const struct store_req *r, const char *name);
/** Adds a response header; value copied into the request arena. */
cv_err resp_header(struct store_req *r, const char *name, const char *value);
cv_err resp_headerf(struct store_req *r, const char *name, const char *fmt, ...)
    CV_PRINTF(3, 4);
/**
 * Turns @p code into an S3 error response; @p msg overrides AWS's message
 * (NULL keeps it). Extra XML elements may follow as name/value pairs
 * terminated by NULL.
 */
void resp_error(struct store_req *r, cv_err code, const char *msg, ...);
/** Starts an XML document body: the declaration and the root element with the S3 xmlns. */
CV_WUR cv_err xml_begin(struct cv_buf *b, const char *root);
CV_WUR cv_err xml_end(struct cv_buf *b, const char *root);
CV_WUR cv_err xml_elem(struct cv_buf *b, const char *name, const char *text, size_t len);
CV_WUR cv_err xml_elemc(struct cv_buf *b, const char *name, const char *text);
CV_WUR cv_err xml_elemf(struct cv_buf *b, const char *name, const char *fmt, ...) CV_PRINTF(3, 4);
CV_WUR cv_err xml_open(struct cv_buf *b, const char *name);
CV_WUR cv_err xml_close(struct cv_buf *b, const char *name);

/*
 * A tiny DOM for the request documents S3 accepts (DeleteObjects,
 * CompleteMultipartUpload, CreateBucketConfiguration, AccessControlPolicy,
 * VersioningConfiguration), parsed with expat. Names without namespace.
 */
struct xml_node {
    const char *name;
    struct cv_buf text;
    struct xml_node *child, *next, *parent;
};
CV_WUR cv_err xml_parse(struct cv_arena *a, const char *data, size_t len, struct xml_node **root);
/** A request document whose root element must be @p root_name: the root, or
 * NULL when the body is empty, malformed or has another root (MalformedXML). */
struct xml_node *xml_parse_doc(struct cv_arena *a, const struct cv_buf *body, const char *root_name);
/** First child named @p name, or NULL. */
const struct xml_node *xml_child(const struct xml_node *n, const char *name);
struct cv_str xml_text(const struct xml_node *n);

/* ------------------------------------------------------------- store */

struct store {
    struct store_config cfg;
    char *data_dir;
    char *region;
    char **domains;
    size_t ndomains;
    struct db *db;
    struct sigv4_key_cache *keys;
    uint8_t master_key[CV_AES_KEY_LEN];
    struct MHD_Daemon *mhd;
    unsigned port;
    char default_account[13];
    atomic_uint_least64_t requests;
    /* Credential cache: akid -> identity + secret, invalidated by IAM writes. */
    pthread_mutex_t cred_lock;
    struct cred_entry *creds;
    size_t ncreds, credcap;
    atomic_uint_least64_t cred_gen; /* bumped by every IAM write */
    int lock_fd;
    struct authz_cache *authz; /* compiled policies (authz.c) */
    struct bucket_cache *buckets; /* bucket rows by name (s3.c), keyed to db_meta_gen() */
    atomic_uint stream_buffers; /* large read buffers held by responses (http.c) */
    atomic_uint hashers;        /* uploads hashed by their own thread (http.c) */
};

/** The bucket-row cache of s3_bucket_get(): created on open, freed on close. */
CV_WUR cv_err store_bucket_cache_init(struct store *st);
void store_bucket_cache_free(struct store *st);

/** Looks up an access key: identity and secret (decrypted). */
CV_WUR cv_err store_lookup_key(struct store *st, struct cv_str akid, struct identity *id,
                               char *secret, size_t secretlen, bool *active);
/** Drops cached credentials (after any IAM change). */
void store_creds_invalidate(struct store *st);
/** Encrypts/decrypts a secret with the master key (AAD = the access key id). */
CV_WUR cv_err store_seal_secret(struct store *st, const char *akid, const char *secret,
                                struct cv_buf *out);
CV_WUR cv_err store_open_secret(struct store *st, const char *akid, const void *sealed, size_t len,
                                char *secret, size_t secretlen);

/* ------------------------------------------------------------ S3 layer */

enum s3_op {
    OP_UNKNOWN = 0,
    OP_LIST_BUCKETS,
    OP_CREATE_BUCKET,
    OP_HEAD_BUCKET,
    OP_DELETE_BUCKET,
    OP_GET_BUCKET_LOCATION,
    OP_GET_BUCKET_VERSIONING,
    OP_PUT_BUCKET_VERSIONING,
    OP_LIST_OBJECTS,
    OP_LIST_OBJECTS_V2,
    OP_LIST_OBJECT_VERSIONS,
    OP_DELETE_OBJECTS,
    OP_GET_BUCKET_POLICY,
    OP_PUT_BUCKET_POLICY,
    OP_DELETE_BUCKET_POLICY,
    OP_GET_BUCKET_ACL,
    OP_PUT_BUCKET_ACL,
    OP_LIST_MULTIPART_UPLOADS,
    OP_GET_BUCKET_OWNERSHIP,
    OP_PUT_BUCKET_OWNERSHIP,
    OP_DELETE_BUCKET_OWNERSHIP,
    OP_PUT_OBJECT,
    OP_GET_OBJECT,
    OP_HEAD_OBJECT,
    OP_DELETE_OBJECT,
    OP_COPY_OBJECT,
    OP_GET_OBJECT_ACL,
    OP_PUT_OBJECT_ACL,
    OP_GET_OBJECT_TAGGING,
    OP_PUT_OBJECT_TAGGING,
    OP_DELETE_OBJECT_TAGGING,
    OP_CREATE_MULTIPART,
    OP_UPLOAD_PART,
    OP_UPLOAD_PART_COPY,
    OP_COMPLETE_MULTIPART,
    OP_ABORT_MULTIPART,
    OP_LIST_PARTS,
    OP_IAM_QUERY, /* POST / form: IAM or STS */
    OP_GET_BUCKET_CORS,
    OP_PUT_BUCKET_CORS,
    OP_DELETE_BUCKET_CORS,
    OP_CORS_PREFLIGHT, /* OPTIONS: never authenticated */
    OP_GET_OBJECT_ATTRIBUTES,
    OP_POST_OBJECT, /* browser upload: authenticated from the form */
    OP_GET_BUCKET_TAGGING,
    OP_PUT_BUCKET_TAGGING,
    OP_DELETE_BUCKET_TAGGING,
    OP_GET_BUCKET_PAB,
    OP_PUT_BUCKET_PAB,
    OP_DELETE_BUCKET_PAB,
    OP_GET_BUCKET_POLICY_STATUS,
    OP_GET_OBJECT_LOCK_CONFIG,
    OP_PUT_OBJECT_LOCK_CONFIG,
    OP_GET_OBJECT_RETENTION,
    OP_PUT_OBJECT_RETENTION,
    OP_GET_OBJECT_LEGAL_HOLD,
    OP_PUT_OBJECT_LEGAL_HOLD,
    OP__COUNT
};

const char *s3_op_name(int op);
/** Decides the operation from method, bucket/key and subresources. */
int s3_route(struct store_req *r);
/** What body the operation reads. */
enum body_kind s3_body_kind(int op);
/** Runs a body-less operation, or one whose body has been received. */
void s3_dispatch(struct store_req *r);
/** Validation before reading any body (limits, headers); sets resp on error. */
bool s3_precheck(struct store_req *r);

/* Shared by the operations. */
/** Loads a bucket; CV_S3_NO_SUCH_BUCKET if absent. @p policy (may be NULL) gets its policy. */
CV_WUR cv_err s3_bucket_get(struct store_req *r, struct cv_str name, struct bucket_info *bi,
                            struct cv_buf *policy);
bool s3_bucket_name_valid(struct cv_str name);
/** Ops per file. */
void s3_list_buckets(struct store_req *r);
void s3_create_bucket(struct store_req *r);
void s3_head_bucket(struct store_req *r);
void s3_delete_bucket(struct store_req *r);
void s3_get_bucket_location(struct store_req *r);
void s3_get_bucket_versioning(struct store_req *r);
void s3_put_bucket_versioning(struct store_req *r);
void s3_get_bucket_policy(struct store_req *r);
void s3_put_bucket_policy(struct store_req *r);
void s3_delete_bucket_policy(struct store_req *r);
void s3_get_bucket_acl(struct store_req *r);
void s3_put_bucket_acl(struct store_req *r);
void s3_get_bucket_ownership(struct store_req *r);
void s3_put_bucket_ownership(struct store_req *r);
void s3_delete_bucket_ownership(struct store_req *r);
void s3_list_objects(struct store_req *r, int version);
void s3_list_object_versions(struct store_req *r);
void s3_delete_objects(struct store_req *r);
void s3_put_object(struct store_req *r);
void s3_get_object(struct store_req *r, bool head);
void s3_delete_object(struct store_req *r);
void s3_copy_object(struct store_req *r);
void s3_get_object_acl(struct store_req *r);
/* CORS (s3_cors.c). */
void s3_get_bucket_cors(struct store_req *r);
void s3_put_bucket_cors(struct store_req *r);
void s3_delete_bucket_cors(struct store_req *r);
void s3_cors_preflight(struct store_req *r);
/** Adds Access-Control-* headers when the request has an Origin a CORS rule allows. */
void s3_cors_decorate(struct store_req *r);
/* Bucket tagging (s3_btags.c). */
void s3_get_bucket_tagging(struct store_req *r);
void s3_put_bucket_tagging(struct store_req *r);
void s3_delete_bucket_tagging(struct store_req *r);
/*
 * Block Public Access (s3_pab.c; docs/internals/store-pab.md). A bucket's
 * PublicAccessBlockConfiguration is four flags in buckets.pab (NULL: none).
 */
enum pab_flag {
    PAB_BLOCK_PUBLIC_ACLS = 1 << 0,     /* refuse new public ACLs */
    PAB_IGNORE_PUBLIC_ACLS = 1 << 1,    /* public ACL grants authorize nothing */
    PAB_BLOCK_PUBLIC_POLICY = 1 << 2,   /* refuse a public bucket policy */
    PAB_RESTRICT_PUBLIC_BUCKETS = 1 << 3, /* a public policy serves the owner's account only */
    PAB_ALL = 0xf
};
/** Is the flag set on the bucket (false without a configuration)? */
static inline bool pab_on(const struct bucket_info *bi, unsigned flag)
{
    return bi && bi->has_pab && (bi->pab & flag) != 0;
}
/**
 * AWS's "meaning of public" for a bucket policy: an Allow statement that
 * grants to Principal "*" (or an AWS "*", or with NotPrincipal) without a
 * condition that fixes one of the narrowing keys to literal values makes the
 * policy public. Text that does not parse as JSON is reported public.
 */
bool pab_policy_is_public(const char *text, size_t len);
void s3_get_public_access_block(struct store_req *r);
void s3_put_public_access_block(struct store_req *r);
void s3_delete_public_access_block(struct store_req *r);
void s3_get_bucket_policy_status(struct store_req *r);

/* Object Lock (s3_lock.c). */
struct obj_lock {
    char mode[12]; /* GOVERNANCE / COMPLIANCE, "" for no retention */
    int64_t until; /* retain-until, Unix ms */
    int hold;      /* legal hold: 1 ON */
    bool has_hold; /* the request set the legal hold */
    bool any;      /* something to store */
};
void s3_put_object_lock_config(struct store_req *r);
void s3_get_object_lock_config(struct store_req *r);
void s3_put_object_retention(struct store_req *r);
void s3_get_object_retention(struct store_req *r);
void s3_put_object_legal_hold(struct store_req *r);
void s3_get_object_legal_hold(struct store_req *r);
/** The lock a new object version gets (headers, else the bucket's default);
 *  false with the response set when the headers are wrong. */
bool s3_lock_for_put(struct store_req *r, struct obj_lock *lk);
/** Stores @p lk for a version, inside the writer's transaction. */
CV_WUR cv_err s3_lock_store(struct db_conn *c, struct cv_str bucket, struct cv_str key,
                            const char *vid, const struct obj_lock *lk);
/** In the writer, before a version is deleted: AccessDenied while it is locked
 *  (GOVERNANCE yields to @p bypass); else drops its lock row. */
CV_WUR cv_err s3_lock_check_delete(struct db_conn *c, struct cv_str bucket, struct cv_str key,
                                   const char *vid, int64_t now_ms, bool bypass);
/** The lock a multipart upload is created with (CreateMultipartUpload)... */
CV_WUR cv_err s3_lock_store_upload(struct db_conn *c, struct cv_str bucket, struct cv_str key,
                                   const char *upload_id, const struct obj_lock *lk);
/** ... becomes its version's at CompleteMultipartUpload... */
CV_WUR cv_err s3_lock_adopt_upload(struct db_conn *c, struct cv_str bucket, struct cv_str key,
                                   const char *upload_id, const char *vid);
/** ... or goes with it (abort). */
CV_WUR cv_err s3_lock_drop_upload(struct db_conn *c, struct cv_str bucket, struct cv_str key,
                                  const char *upload_id);
/** x-amz-bypass-governance-retention: true, from a caller allowed s3:BypassGovernanceRetention. */
bool s3_lock_bypass(struct store_req *r, struct cv_str key);
/** x-amz-object-lock-* headers of a GET/HEAD answer (Object Lock buckets only). */
void s3_lock_headers(struct store_req *r, const char *vid);
/* POST Object (s3_post.c). */
struct s3_post;
/** Sets up the form parser from Content-Type; false with the error set. */
bool s3_post_begin(struct store_req *r);
/** Feeds body bytes; CV_ECANCELED when the response is already set. */
CV_WUR cv_err s3_post_feed(struct store_req *r, const char *data, size_t len);
/** The message of the last form error, or NULL. */
const char *s3_post_errmsg(const struct store_req *r);
void s3_post_object(struct store_req *r);
/* A key's current row (s3_object.c). */
struct obj_row {
    int64_t id;
    uint64_t size;
    char etag[80];
    int64_t mtime;
    char *meta; /* arena */
    size_t metalen;
    void *body; /* cv_malloc'd copy of an inline body (NULL otherwise) */
    size_t bodylen;
    bool inline_body;
    char file[33];
    char ck_algo[16];
    char ck_value[SIGV4_CK_B64_MAX];
    int64_t nparts;
    char storage_class[24];
    char *acl;  /* stored ACL (arena), or NULL */
    char *tags; /* stored form (arena), or NULL */
    char vid[40]; /* version id ("null" for the null version) */
    bool marker;  /* a delete marker (no body) */
};
/** Loads the current version of a key; with @p want_body an inline body is copied out. */
/**
 * obj_load() of version @p vid (NULL: the current one). A missing key whose
 * latest version is a delete marker answers CV_S3_NO_SUCH_KEY with o->marker
 * and o->vid set; a missing version CV_S3_NO_SUCH_VERSION; a version that is
 * a delete marker CV_OK with o->marker.
 */
CV_WUR cv_err obj_load_version(struct store_req *r, struct cv_str bucket, struct cv_str key,
                               const char *vid, struct obj_row *o, bool want_body);
/** The versionId parameter (NULL if absent); false with the error set when malformed. */
bool s3_version_param(struct store_req *r, const char **vid);
/** x-amz-version-id on an answer about version @p vid (not on never-versioned buckets). */
void s3_version_header(struct store_req *r, const char *vid);
CV_WUR cv_err obj_load(struct store_req *r, struct cv_str bucket, struct cv_str key,
                       struct obj_row *o, bool want_body);
/** Frees what obj_load() copied out. */
void obj_row_release(struct obj_row *o);
/** May the caller list the bucket with the request's key as prefix (404 vs 403 for a missing key)? */
bool s3_may_list_key(struct store_req *r);
/* GetObjectAttributes (s3_attrs.c). */
void s3_get_object_attributes(struct store_req *r);
void s3_put_object_acl(struct store_req *r);
void s3_get_object_tagging(struct store_req *r);
void s3_put_object_tagging(struct store_req *r);
void s3_delete_object_tagging(struct store_req *r);
void s3_create_multipart(struct store_req *r);
void s3_upload_part(struct store_req *r, bool copy);
void s3_complete_multipart(struct store_req *r);
void s3_abort_multipart(struct store_req *r);
void s3_list_parts(struct store_req *r);
void s3_list_multipart_uploads(struct store_req *r);

/*
 * Listing engine, independent of HTTP so it can be unit-tested: walks keys
 * of a bucket in byte order from a start point, folding keys that contain
 * the delimiter after the prefix into common prefixes.
 */
struct list_params {
    struct cv_str prefix, delimiter, start_after; /* start_after: exclusive */
    unsigned max_keys;
};
struct list_entry {
    char *key; /* arena */
    size_t keylen;
    bool is_prefix;
    uint64_t size;
    char etag[80];
    int64_t mtime;
    char storage_class[24];
};
struct list_result {
    struct list_entry *entries; /* arena */
    size_t n;
    bool truncated;
    struct cv_str next_marker; /* last key or prefix returned */
};
CV_WUR cv_err store_list(struct db_conn *c, struct cv_arena *a, struct cv_str bucket,
                         const struct list_params *p, struct list_result *out);

/* The metadata header block: "name:value\n" lines (lower-case names). */
CV_WUR cv_err meta_collect(struct store_req *r, struct cv_buf *meta, bool *too_large);

/*
 * Range header parsing (range.c): RANGE_NONE when the header is absent,
 * syntactically invalid or multi-range (S3 then sends the whole object),
 * RANGE_OK with [*off, *off + *len), or RANGE_UNSATISFIABLE (416).
 */
enum range_result { RANGE_NONE = 0, RANGE_OK, RANGE_UNSATISFIABLE };
enum range_result s3_parse_range(struct cv_str hdr, uint64_t size, uint64_t *off, uint64_t *len);
/** x-amz-copy-source-range: CV_S3_INVALID_ARGUMENT (syntax) or CV_S3_INVALID_RANGE (bounds). */
CV_WUR cv_err s3_parse_copy_range(struct cv_str hdr, uint64_t size, uint64_t *off, uint64_t *len);

/*
 * Authorization (authz.c): may the request's identity perform @p action on
 * the bucket (key.ptr == NULL) or object? On denial the AccessDenied
 * response is set and false returned. @p bi is the bucket's info (NULL for
 * ListBuckets/CreateBucket).
 */
bool store_authorize(struct store_req *r, const char *action, struct cv_str bucket,
                     struct cv_str key, const struct bucket_info *bi);
/** The same check without setting a response (DeleteObjects per key). */
bool store_allowed(struct store_req *r, const char *action, struct cv_str bucket,
                   struct cv_str key, const struct bucket_info *bi);
/**
 * The check for a bucket other than the request's (copy sources) with its
 * policy text, and for multipart operations with the initiator's default.
 */
bool store_allowed_ex(struct store_req *r, const char *action, struct cv_str bucket,
                      struct cv_str key, const struct bucket_info *bi, struct cv_str policy_text,
                      bool mpu_initiator);
/** IAM API permission (iam:CreateUser on arn:aws:iam::A:user/N): root always, users by policy. */
bool store_authorize_iam(struct store_req *r, const char *action, const char *resource_arn);
CV_WUR cv_err store_authz_init(struct store *st);
void store_authz_free(struct store *st);

/*
 * Committing an object version (objects.c): replaces whatever the key held,
 * atomically, inside the group commit. Old body files are returned so the
 * caller unlinks them after the commit.
 */
struct seg_src {
    int64_t num;
    uint64_t size;
    const void *body; /* inline, or NULL */
    size_t bodylen;
    const char *file; /* or NULL */
};
enum put_cond { PUT_COND_NONE = 0, PUT_COND_IF_NONE_MATCH_STAR, PUT_COND_IF_MATCH };
struct obj_commit {
    struct cv_str bucket, key;
    uint64_t size;
    const char *etag;
    int64_t mtime;
    const char *meta;
    size_t metalen;
    const void *body; /* inline body (NULL: file or segments) */
    size_t bodylen;
    const char *file;
    const char *ck_algo, *ck_value;
    int64_t nparts;
    const char *storage_class;
    const char *acl;
    const struct seg_src *segs;
    size_t nsegs;
    enum put_cond cond;
    struct cv_str cond_etag;
    const char *tags; /* canonical stored form, or NULL */
    /* Multipart completion: the upload to retire with this commit. */
    const char *upload_id;
    const int64_t *used_parts; /* part numbers that became segments */
    size_t nused;
    /* Versioning. In: the version a delete names (NULL: the key). Out: the
     * version id written or removed ("" when the bucket never had
     * versioning and none was named), and whether it is a delete marker. */
    const char *version_id;
    char vid[40];
    bool marker;
    /* Object Lock: the lock of the version written; the bypass of a delete. */
    const struct obj_lock *lock;
    bool bypass_governance;
    /* Output: files to unlink after the commit (arena). */
    struct cv_arena *arena;
    char **old_files;
    size_t nold, oldcap;
};
CV_WUR cv_err obj_commit_tx(struct db_conn *c, void *arg);
/** Collects a file id to unlink after commit. */
CV_WUR cv_err obj_commit_add_old(struct obj_commit *oc, struct cv_str file);
/** Unlinks the files an obj_commit retired. */
void obj_commit_cleanup(struct store *st, struct obj_commit *oc);
/** Removes a key (and its body files) in the writer; CV_OK even when absent. */
CV_WUR cv_err obj_delete_tx(struct db_conn *c, void *arg);
/** A new version id: 12 hex digits of @p now_ms then 20 random hex (time-ordered, URL-safe). */
CV_WUR cv_err store_new_vid(int64_t now_ms, char out[40]);
/** Is @p v a version id this store could have made ("null" or 32 lower-case hex)? */
bool store_vid_valid(struct cv_str v);
/** ETag compare for If-Match lists: "a", "b" / *; quotes optional. */
bool s3_etag_matches(struct cv_str header, const char *etag);

/* Object-write prechecks before the body is read (s3_object.c). */
bool s3_body_precheck(struct store_req *r);
/**
 * Parses x-amz-copy-source into bucket and key (arena) and its ?versionId=
 * (arena, or NULL); sets the error.
 */
CV_WUR cv_err s3_copy_source(struct store_req *r, struct cv_str *bucket, struct cv_str *key,
                             const char **version);
/** Do the x-amz-copy-source-if-* headers refuse a source with this ETag and mtime? */
bool s3_copy_cond_failed(struct store_req *r, const char *etag, int64_t mtime_ms);
/** Copies [off, off+len) of a stored body into @p w, updating @p md5. */
CV_WUR cv_err s3_copy_data(struct store_req *r, int64_t id, bool inline_body, const void *body,
                           const char *file, int64_t nparts, uint64_t off, uint64_t len,
                           struct blob_writer *w, struct cv_md5 *md5);

/* Account lookups: canonical user id and name (64+1 bytes each). */
CV_WUR cv_err s3_account_info(struct store *st, const char *account, char canonical[65],
                              char name[65]);

/*
 * ACLs (acl.c): the document model, its parsers and stored form, and the
 * request rules of Object Ownership. They authorize through authz.c's ACL
 * step (docs/policy.md, ACLs) unless the bucket is BucketOwnerEnforced.
 */
enum acl_perm {
    ACL_READ = 1 << 0,
    ACL_WRITE = 1 << 1,
    ACL_READ_ACP = 1 << 2,
    ACL_WRITE_ACP = 1 << 3,
    ACL_FULL_CONTROL = 1 << 4,
};
enum acl_grantee { ACL_USER = 0, ACL_EMAIL, ACL_ALL_USERS, ACL_AUTH_USERS, ACL_LOG_DELIVERY };
#define ACL_MAX_GRANTS 100 /* AWS's limit */
#define ACL_ID_MAX 129     /* canonical id or e-mail address, with the NUL */
struct acl_grant {
    enum acl_grantee kind;
    enum acl_perm perm;
    char id[ACL_ID_MAX]; /* ACL_USER: canonical id; ACL_EMAIL: the address; else "" */
};
struct acl {
    char owner[13]; /* owning account id */
    size_t n;
    struct acl_grant g[ACL_MAX_GRANTS]; /* in the order given */
};
/** Empties @p a and sets its owner (borrowed string, copied). */
void acl_init(struct acl *a, const char *owner_account);
/** Appends a grant; CV_S3_MALFORMED_ACL past ACL_MAX_GRANTS, CV_S3_INVALID_ARGUMENT for a bad id. */
CV_WUR cv_err acl_add(struct acl *a, enum acl_grantee kind, struct cv_str id, enum acl_perm perm);
/** "READ", "FULL_CONTROL", ... (static). */
const char *acl_perm_name(enum acl_perm p);
/**
 * The grants of canned ACL @p name for a resource owned by @p owner_cid in a
 * bucket owned by @p bucket_owner_cid (@p bucket: the resource is the bucket).
 * Replaces a's grants, keeps its owner; CV_S3_INVALID_ARGUMENT for an unknown name.
 */
CV_WUR cv_err acl_canned(struct cv_str name, const char *owner_cid, const char *bucket_owner_cid,
                         bool bucket, struct acl *a);
/** Appends the grantees of one x-amz-grant-* header value; CV_S3_INVALID_ARGUMENT on bad syntax. */
CV_WUR cv_err acl_parse_grant_header(struct cv_str value, enum acl_perm perm, struct acl *a);
/**
 * Parses an AccessControlPolicy document into a's grants (a's owner is left
 * alone); @p owner_cid gets Owner/ID ("" if absent). CV_S3_MALFORMED_ACL for
 * a bad document, CV_S3_INVALID_ARGUMENT for an unknown group URI.
 */
CV_WUR cv_err acl_parse_xml(struct cv_arena *ar, const char *xml, size_t len, struct acl *a,
                            char owner_cid[ACL_ID_MAX]);
/** The stored form (appended to @p out). E-mail grantees must have been resolved away. */
CV_WUR cv_err acl_encode(const struct acl *a, struct cv_buf *out);
/** Reads a stored ACL; NULL/empty or a legacy canned name: owned by the bucket owner. */
CV_WUR cv_err acl_decode(struct cv_str stored, const char *bucket_account, const char *bucket_cid,
                         struct acl *a);
/**
 * Does @p a give @p need (or FULL_CONTROL) to the caller with canonical id
 * @p canonical (NULL: anonymous)? @p groups_only counts only AllUsers /
 * AuthenticatedUsers grants.
 */
bool acl_grants(const struct acl *a, const char *canonical, bool groups_only,
                enum acl_perm need);
/** acl_grants() that skips AllUsers / AuthenticatedUsers grants (IgnorePublicAcls). */
bool acl_grants_private(const struct acl *a, const char *canonical, bool groups_only,
                        enum acl_perm need);
/** Does @p a grant anything to AllUsers or AuthenticatedUsers (AWS's public ACL)? */
bool acl_is_public(const struct acl *a);
/** Only FULL_CONTROL grants to @p owner_cid (what BucketOwnerEnforced accepts)? */
bool acl_owner_only(const struct acl *a, const char *owner_cid);

bool s3_ownership_valid(struct cv_str s);
bool s3_acl_enforced(const struct bucket_info *bi);

/* What an ACL-setting request is about. */
struct acl_req {
    const struct bucket_info *bi; /* borrowed */
    const char *owner_account;    /* the resource's owner (borrowed) */
    bool bucket;                  /* the resource is the bucket */
    bool body;                    /* an AccessControlPolicy body may carry the ACL */
    cv_err enforced_err;          /* answer for a non-owner ACL under BucketOwnerEnforced */
};
/**
 * The ACL a request sets: x-amz-acl, x-amz-grant-* or (q->body) the XML
 * body; grantee ids checked against the accounts. *out (arena) stays NULL
 * when the request carries none. Sets the error response.
 */
CV_WUR cv_err s3_acl_from_request(struct store_req *r, const struct acl_req *q, struct acl **out);
/**
 * The stored ACL (and so the owner) of an object the request writes under
 * the bucket's Object Ownership; NULL: the bucket owner's private default.
 * Sets the error response.
 */
CV_WUR cv_err s3_acl_for_write(struct store_req *r, const struct bucket_info *bi,
                               const char **stored);
/** @p a's stored form in the request arena. */
CV_WUR cv_err s3_acl_stored(struct store_req *r, const struct acl *a, const char **out);
/** The AccessControlPolicy document S3 answers with. */
CV_WUR cv_err s3_acl_xml(struct store_req *r, const struct acl *a, struct cv_buf *out);
/**
 * Loads the ACL of a bucket (@p key NULL) or object; *found false when the
 * row is absent. BucketOwnerEnforced buckets read as private.
 */
CV_WUR cv_err s3_acl_load(struct store *st, struct cv_str bucket, const struct cv_str *key,
                          const struct bucket_info *bi, struct acl *a, bool *found);

/** Does the request carry any x-amz-grant-* header? */
bool s3_has_grant_headers(const struct store_req *r);

/* A canned ACL name is valid? */
bool s3_canned_acl_valid(struct cv_str acl);

/* The object's ETag quoted, built from an MD5 or a multipart md5-of-md5s. */
void s3_etag_from_md5(const uint8_t md5[CV_MD5_LEN], char out[35]);

/* IAM and STS query APIs (iam.c). */
void store_iam_dispatch(struct store_req *r);
/** An IAM/STS-shaped error (<ErrorResponse>), @p msg NULL for the default text. */
void iam_error(struct store_req *r, cv_err code, const char *msg);
void iam_errorf(struct store_req *r, cv_err code, const char *fmt, ...) CV_PRINTF(3, 4);

/* Shared by iam.c and iam_ent.c (groups, roles, managed policies, OIDC). */
#define IAM_NS "https://iam.amazonaws.com/doc/2010-05-08/"
struct iam_form {
    struct query_param *p; /* arena-owned */
    size_t n;
};
struct iam_user_row {
    char name[65];
    char user_id[32];
    char path[520];
    int64_t created;
};
/** The form field @p name; returns borrowed (request arena), NULL when absent. */
const struct query_param *iam_form_get(const struct iam_form *f, const char *name);
/** The form field as a NUL-terminated arena copy, NULL when absent. */
const char *iam_form_str(struct store_req *r, const struct iam_form *f, const char *name);
/** Wraps @p result (borrowed, may be NULL) into <ActionResponse><ActionResult>. */
void iam_ok(struct store_req *r, const char *action, const char *ns, struct cv_buf *result);
/** [\w+=,.@-]{1,max} */
bool iam_name_valid(const char *s, size_t max);
/** /.../ of printable ASCII, at most 512 */
bool iam_path_valid(const char *p);
/** @p n random characters of A-Z2-7 into @p out (n + 1 bytes), n <= 64. */
CV_WUR cv_err iam_random_upper(char *out, size_t n);
void iam_iso_seconds(int64_t ms, char out[25]);
CV_WUR cv_err iam_user_get(struct store_req *r, const char *account, const char *name,
                           struct iam_user_row *u);
CV_WUR cv_err iam_user_xml(struct cv_buf *b, const char *account, const struct iam_user_row *u,
                           const char *wrap);
/** After any IAM write: drops cached credentials and compiled identity policies. */
void iam_changed(struct store *st);
/** Runs @p sql with up to three text parameters; a constraint failure is ENTITY_EXISTS. */
CV_WUR cv_err iam_exec1(struct db_conn *c, const char *sql, const char *a, const char *b,
                        const char *cc, int *changes);
/** The first column of the first row of @p sql as an integer, -1 on error. */
int64_t iam_count1(struct db_conn *c, const char *sql, const char *a, const char *b);
/** Serves the group/role/managed-policy/OIDC actions; false when @p action is not one. */
bool iam_ent_dispatch(struct store_req *r, const struct iam_form *f, struct cv_str action);
/** Renames a user in its group memberships and policy attachments (UpdateUser). */
CV_WUR cv_err iam_ent_rename_user(struct db_conn *c, const char *account, const char *from,
                                  const char *to);
/** Built-in AWS managed policy document for @p arn; NULL when not one. Static. */
const char *iam_aws_policy_doc(const char *arn, size_t arnlen);

/* HTTP front (http.c). */
CV_WUR cv_err store_http_start(struct store *st, char *errmsg, size_t errlen);
void store_http_stop(struct store *st);

/*
 * Authentication (auth.c). store_authenticate() runs on the request head:
 * it fills r->ident (anonymous when unsigned), verifies the signature (for
 * S3; IAM/STS forms are verified by store_authenticate_form() once their
 * body is in, since their payload hash covers the body), and prepares the
 * payload checks. On failure it sets the error response and returns false.
 */
/**
 * Looks up @p akid: fills r->ident (ARN included) and @p secret; false with
 * the error set (InvalidAccessKeyId, or InvalidClientTokenId for IAM/STS).
 */
bool store_identify(struct store_req *r, struct cv_str akid, char *secret, size_t secretlen);
bool store_authenticate(struct store_req *r);
bool store_authenticate_form(struct store_req *r);

/* Access log + dispatch entry from http.c. */
void store_access_log(struct store_req *r);

#endif
