/*
 * Multipart uploads. Parts are stored like objects (inline or a durable
 * file); completing an upload does not copy data: the parts become the
 * object's segments, in one metadata commit. ETag: MD5 of the parts' MD5s,
 * then "-N".
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIN_PART_SIZE (5u << 20)

struct upload_info {
    char bucket[64];
    char *key; /* arena */
    size_t keylen;
    char initiator[160];
    char initiator_account[13];
    int64_t created;
    char *meta; /* arena */
    size_t metalen;
    char ck_algo[16];
    char storage_class[24];
    char *acl;  /* stored ACL (arena), or NULL */
    char *tags; /* stored form (arena), or NULL */
};

static cv_err upload_load(struct store_req *r, const char *id, struct upload_info *u)
{
    struct db_conn *c = db_reader(r->st->db);
    sqlite3_stmt *s;
    cv_err err = CV_S3_NO_SUCH_UPLOAD;

    memset(u, 0, sizeof(*u));
    if (!c) {
        return CV_ENOMEM;
    }
    s = db_stmt(c, STMT_UPLOAD_GET);
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW) {
        struct cv_str b = db_col_str(s, 0), k = db_col_str(s, 1), m = db_col_str(s, 5);
        struct cv_str ca = db_col_str(s, 6), sc = db_col_str(s, 7), acl = db_col_str(s, 8);
        struct cv_str tags = db_col_str(s, 9);
        if (tags.ptr && tags.len) {
            u->tags = cv_arena_strndup(&r->arena, tags.ptr, tags.len);
        }
        snprintf(u->bucket, sizeof(u->bucket), "%.*s", (int)b.len, b.ptr);
        u->key = cv_arena_strndup(&r->arena, k.ptr, k.len);
        u->keylen = k.len;
        snprintf(u->initiator, sizeof(u->initiator), "%s", (const char *)sqlite3_column_text(s, 2));
        snprintf(u->initiator_account, sizeof(u->initiator_account), "%s",
                 (const char *)sqlite3_column_text(s, 3));
        u->created = sqlite3_column_int64(s, 4);
        if (m.ptr) {
            u->meta = cv_arena_strndup(&r->arena, m.ptr, m.len);
            u->metalen = m.len;
        }
        snprintf(u->ck_algo, sizeof(u->ck_algo), "%.*s", (int)ca.len, ca.ptr ? ca.ptr : "");
        snprintf(u->storage_class, sizeof(u->storage_class), "%.*s", (int)sc.len,
                 sc.ptr ? sc.ptr : "");
        if (acl.ptr && acl.len) {
            u->acl = cv_arena_strndup(&r->arena, acl.ptr, acl.len);
        }
        err = u->key && (!acl.len || u->acl) ? CV_OK : CV_ENOMEM;
        /* The upload must belong to the object the request names. */
        if (!err && (!cv_str_eq_c(r->bucket, u->bucket) ||
                     !cv_str_eq(r->key, (struct cv_str){u->key, u->keylen}))) {
            err = CV_S3_NO_SUCH_UPLOAD;
        }
    }
    db_reader_done(r->st->db, c);
    return err;
}

/*
 * AbortMultipartUpload and ListParts: the upload's initiator (or the root of
 * its account) is allowed by default; an explicit Deny still wins.
 */
static bool mpu_allowed(struct store_req *r, const char *action, const struct upload_info *u)
{
    bool initiator = (r->ident.arn[0] && strcmp(r->ident.arn, u->initiator) == 0) ||
                     (r->ident.kind == IDENT_ROOT &&
                      strcmp(r->ident.account, u->initiator_account) == 0);

    if (store_allowed_ex(r, action, r->bucket, r->key, r->bi,
                         (struct cv_str){r->bucket_policy.ptr ? r->bucket_policy.ptr : "",
                                         r->bucket_policy.len},
                         initiator)) {
        return true;
    }
    resp_error(r, CV_S3_ACCESS_DENIED, NULL, NULL);
    return false;
}

static const char *upload_id_param(struct store_req *r)
{
    const struct query_param *q = req_param(r, "uploadId");

    if (!q || q->value.len == 0 || q->value.len > 128) {
        return NULL;
    }
    return cv_arena_strndup(&r->arena, q->value.ptr, q->value.len);
}

static void no_such_upload(struct store_req *r, const char *id)
{
    resp_error(r, CV_S3_NO_SUCH_UPLOAD, NULL, "UploadId", id ? id : "", NULL);
}

/* ------------------------------------------------------------- create */

struct create_upload_job {
    struct store_req *r;
    const char *id;
    const char *meta;
    size_t metalen;
    const char *ck_algo, *storage_class, *acl, *tags;
    struct obj_lock lock; /* Object Lock headers: the completed version's lock */
};

static cv_err create_upload_tx(struct db_conn *c, void *arg)
{
    struct create_upload_job *j = arg;
    sqlite3_stmt *s = db_stmt(c, STMT_UPLOAD_INSERT);

    sqlite3_bind_text(s, 1, j->id, -1, SQLITE_STATIC);
    db_bind_str(s, 2, j->r->bucket);
    db_bind_str(s, 3, j->r->key);
    sqlite3_bind_text(s, 4, j->r->ident.arn[0] ? j->r->ident.arn : "anonymous", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, j->r->ident.account, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, j->r->now_ms);
    sqlite3_bind_text(s, 7, j->meta ? j->meta : "", (int)j->metalen, SQLITE_STATIC);
    if (j->ck_algo) {
        sqlite3_bind_text(s, 8, j->ck_algo, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(s, 8);
    }
    if (j->storage_class) {
        sqlite3_bind_text(s, 9, j->storage_class, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(s, 9);
    }
    if (j->acl) {
        sqlite3_bind_text(s, 10, j->acl, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(s, 10);
    }
    if (j->tags) {
        sqlite3_bind_text(s, 11, j->tags, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(s, 11);
    }
    if (sqlite3_step(s) != SQLITE_DONE) {
        return CV_EDB;
    }
    return s3_lock_store_upload(c, j->r->bucket, j->r->key, j->id, &j->lock);
}

void s3_create_multipart(struct store_req *r)
{
    struct create_upload_job j;
    struct cv_buf meta = CV_BUF_INIT(64 * 1024), *b = &r->resp.body;
    struct cv_str sc = req_header(r, "x-amz-storage-class");
    char id[33];
    bool too_large;
    cv_err err;

    memset(&j, 0, sizeof(j));
    j.r = r;
    if (s3_acl_for_write(r, r->bi, &j.acl)) {
        return; /* response set */
    }
    if (!s3_lock_for_put(r, &j.lock)) {
        return; /* response set */
    }
    err = blob_new_id(id);
    if (!err) {
        err = meta_collect(r, &meta, &too_large);
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        goto out;
    }
    j.id = id;
    j.meta = meta.ptr;
    j.metalen = meta.len;
    j.ck_algo = r->ck.algo ? sigv4_checksum_name(r->ck.algo) : NULL;
    j.storage_class = sc.ptr ? cv_arena_strndup(&r->arena, sc.ptr, sc.len) : NULL;
    if (r->authz_request_tags && r->authz_request_tags->n) {
        struct cv_buf t = CV_BUF_INIT(8192);
        if (tags_encode(r->authz_request_tags, &t) == CV_OK) {
            j.tags = cv_arena_strndup(&r->arena, t.ptr, t.len);
        }
        cv_buf_release(&t);
    }
    err = db_write(r->st->db, create_upload_tx, &j);
    if (!err) {
        err = xml_begin(b, "InitiateMultipartUploadResult");
    }
    if (!err) {
        err = xml_elem(b, "Bucket", r->bucket.ptr, r->bucket.len);
    }
    if (!err) {
        err = xml_elem(b, "Key", r->key.ptr, r->key.len);
    }
    if (!err) {
        err = xml_elemc(b, "UploadId", id);
    }
    if (!err) {
        err = xml_end(b, "InitiateMultipartUploadResult");
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        goto out;
    }
    if (j.ck_algo) {
        (void)resp_header(r, "x-amz-checksum-algorithm", j.ck_algo);
    }
    r->resp.status = 200;
    r->resp.content_type = "application/xml";
out:
    cv_buf_release(&meta);
}

/* ---------------------------------------------------------- upload part */

struct part_job {
    const char *upload_id;
    int64_t num;
    uint64_t size;
    const char *etag;
    int64_t mtime;
    const void *body;
    size_t bodylen;
    const char *file;
    const char *ck;
    struct obj_commit oc; /* for the replaced part's file */
};

static cv_err put_part_tx(struct db_conn *c, void *arg)
{
    struct part_job *j = arg;
    sqlite3_stmt *s = db_stmt(c, STMT_UPLOAD_GET);
    cv_err err;

    sqlite3_bind_text(s, 1, j->upload_id, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return CV_S3_NO_SUCH_UPLOAD; /* aborted or completed meanwhile */
    }
    sqlite3_reset(s);
    s = db_stmt(c, STMT_PART_GET_FILE);
    sqlite3_bind_text(s, 1, j->upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, j->num);
    if (sqlite3_step(s) == SQLITE_ROW) {
        err = obj_commit_add_old(&j->oc, db_col_str(s, 0));
        if (err) {
            sqlite3_reset(s);
            return err;
        }
    }
    sqlite3_reset(s);
    s = db_stmt(c, STMT_PART_PUT);
    sqlite3_bind_text(s, 1, j->upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, j->num);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)j->size);
    sqlite3_bind_text(s, 4, j->etag, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, j->mtime);
    if (j->file) {
        sqlite3_bind_null(s, 6);
        sqlite3_bind_text(s, 7, j->file, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_blob(s, 6, j->body ? j->body : "", (int)j->bodylen, SQLITE_STATIC);
        sqlite3_bind_null(s, 7);
    }
    if (j->ck) {
        sqlite3_bind_text(s, 8, j->ck, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(s, 8);
    }
    if (sqlite3_step(s) != SQLITE_DONE) {
        j->oc.nold = 0;
        return CV_EDB;
    }
    return CV_OK;
}

static bool parse_part_number(struct store_req *r, int64_t *num)
{
    const struct query_param *pn = req_param(r, "partNumber");
    uint64_t v;

    if (!pn || cv_parse_u64(pn->value, &v) || v < 1 || v > r->st->cfg.limits.max_parts) {
        resp_error(r, CV_S3_TOO_MANY_PARTS, NULL, "ArgumentName", "partNumber", NULL);
        return false;
    }
    *num = (int64_t)v;
    return true;
}

void s3_upload_part(struct store_req *r, bool copy)
{
    struct part_job j;
    struct upload_info u;
    struct blob_writer cw;
    struct blob_writer *w = copy ? &cw : &r->blob;
    uint8_t md5[CV_MD5_LEN];
    char etag[35], ck[SIGV4_CK_B64_MAX] = "";
    const char *id = upload_id_param(r);
    cv_err err;

    memset(&j, 0, sizeof(j));
    j.oc.arena = &r->arena;
    blob_writer_init(&cw, r->st->data_dir, r->st->cfg.limits.inline_max);
    if (!parse_part_number(r, &j.num)) {
        goto fail;
    }
    if (!id || upload_load(r, id, &u) != CV_OK) {
        no_such_upload(r, id);
        goto fail;
    }
    if (copy) {
        struct cv_str sb, sk;
        struct bucket_info sbi;
        struct cv_md5 m;
        struct db_conn *c;
        sqlite3_stmt *s;
        int64_t oid = 0, nparts = 0;
        uint64_t size = 0, off = 0, len;
        char file[33] = "";
        void *body = NULL;
        bool inl = false;
        char lm[25];

        const char *svid = NULL;
        int pass;

        if (s3_copy_source(r, &sb, &sk, &svid)) {
            goto fail;
        }
        struct cv_buf spol = CV_BUF_INIT(64 * 1024);
        bool allowed;

        err = s3_bucket_get(r, sb, &sbi, &spol);
        if (err) {
            cv_buf_release(&spol);
            resp_error(r, err, NULL, NULL);
            goto fail;
        }
        allowed = store_allowed_ex(r, "s3:GetObject", sb, sk, &sbi,
                                   (struct cv_str){spol.ptr ? spol.ptr : "", spol.len}, false);
        cv_buf_release(&spol);
        if (!allowed) {
            resp_error(r, CV_S3_ACCESS_DENIED, NULL, NULL);
            goto fail;
        }
        c = db_reader(r->st->db);
        if (!c) {
            resp_error(r, CV_ENOMEM, NULL, NULL);
            goto fail;
        }
        err = CV_S3_NO_SUCH_KEY;
        /* The current row, else (with a versionId) a noncurrent version,
         * whose segments are keyed by -id (objects.c). */
        for (pass = 0; pass < 2 && err == CV_S3_NO_SUCH_KEY; pass++) {
            struct cv_str f, e, v;
            if (pass == 1 && !svid) {
                break;
            }
            s = db_stmt(c, pass ? STMT_VER_GET : STMT_OBJ_GET);
            db_bind_str(s, 1, sb);
            db_bind_str(s, 2, sk);
            if (pass) {
                sqlite3_bind_text(s, 3, svid, -1, SQLITE_STATIC);
            }
            if (sqlite3_step(s) != SQLITE_ROW) {
                sqlite3_reset(s);
                continue;
            }
            v = db_col_str(s, 13);
            if (!pass && svid && !(cv_str_eq_c(v, svid) || (!v.ptr && strcmp(svid, "null") == 0))) {
                sqlite3_reset(s);
                continue;
            }
            if (sqlite3_column_int(s, 14)) {
                sqlite3_reset(s);
                err = CV_S3_INVALID_REQUEST; /* a delete marker */
                break;
            }
            f = db_col_str(s, 6);
            e = db_col_str(s, 2);
            err = CV_OK;
            if (s3_copy_cond_failed(r, e.ptr ? e.ptr : "", sqlite3_column_int64(s, 3))) {
                err = CV_S3_PRECONDITION_FAILED;
            }
            oid = pass ? -sqlite3_column_int64(s, 0) : sqlite3_column_int64(s, 0);
            size = (uint64_t)sqlite3_column_int64(s, 1);
            nparts = sqlite3_column_int64(s, 9);
            snprintf(file, sizeof(file), "%.*s", (int)CV_MIN(f.len, 32), f.ptr ? f.ptr : "");
            inl = sqlite3_column_type(s, 5) != SQLITE_NULL;
            if (inl && !err) {
                body = cv_memdup(sqlite3_column_blob(s, 5) ? sqlite3_column_blob(s, 5) : "",
                                 (size_t)sqlite3_column_bytes(s, 5));
                if (!body) {
                    err = CV_ENOMEM;
                }
            }
        }
        db_reader_done(r->st->db, c);
        if (err) {
            resp_error(r, err, NULL, NULL);
            goto fail;
        }
        len = size;
        {
            struct cv_str rng = req_header(r, "x-amz-copy-source-range");
            cv_err rerr = rng.ptr ? s3_parse_copy_range(rng, size, &off, &len) : CV_OK;
            if (rerr) {
                cv_free(body);
                resp_error(r, rerr,
                           rerr == CV_S3_INVALID_RANGE
                               ? "The specified copy range is beyond the size of the source object"
                               : "The x-amz-copy-source-range value must be of the form "
                                 "bytes=first-last where first and last are the zero-based offsets "
                                 "of the first and last bytes to copy",
                           NULL);
                goto fail;
            }
        }
        cv_md5_init(&m);
        err = s3_copy_data(r, oid, inl, body, file, nparts, off, len, &cw, &m);
        cv_free(body);
        if (!err) {
            err = blob_finish(&cw);
        }
        if (err) {
            resp_error(r, err, NULL, NULL);
            goto fail;
        }
        cv_md5_final(&m, md5);
        j.size = len;
        cv_time_iso8601_ms(r->now_ms, lm);
        s3_etag_from_md5(md5, etag);
        err = xml_begin(&r->resp.body, "CopyPartResult");
        if (!err) {
            err = xml_elemc(&r->resp.body, "LastModified", lm);
        }
        if (!err) {
            err = xml_elemc(&r->resp.body, "ETag", etag);
        }
        if (!err) {
            err = xml_end(&r->resp.body, "CopyPartResult");
        }
        if (err) {
            resp_error(r, err, NULL, NULL);
            goto fail;
        }
        r->resp.content_type = "application/xml";
    } else {
        cv_md5_final(&r->md5, md5);
        if (r->want_md5_check && !cv_ct_equal(md5, r->content_md5, CV_MD5_LEN)) {
            resp_error(r, CV_S3_BAD_DIGEST, NULL, NULL);
            goto fail;
        }
        if (r->ck.algo != SIGV4_CK_NONE) {
            sigv4_checksum_final(&r->ck, ck);
            if (r->ck_expect[0] && strcmp(ck, r->ck_expect) != 0) {
                resp_error(r, CV_S3_BAD_CHECKSUM, NULL, NULL);
                goto fail;
            }
        }
        j.size = r->body_size;
        s3_etag_from_md5(md5, etag);
    }
    j.upload_id = id;
    j.etag = etag;
    j.mtime = r->now_ms;
    if (blob_is_file(w)) {
        j.file = w->id;
    } else {
        j.body = w->mem.ptr ? w->mem.ptr : "";
        j.bodylen = w->mem.len;
    }
    j.ck = ck[0] ? ck : NULL;
    err = db_write(r->st->db, put_part_tx, &j);
    if (err) {
        if (err == CV_S3_NO_SUCH_UPLOAD) {
            no_such_upload(r, id);
        } else {
            resp_error(r, err, NULL, NULL);
        }
        goto fail;
    }
    w->id[0] = '\0'; /* owned by the part row now */
    blob_writer_release(w);
    obj_commit_cleanup(r->st, &j.oc);
    (void)resp_header(r, "ETag", etag);
    if (ck[0]) {
        (void)resp_header(r, sigv4_checksum_header(r->ck.algo), ck);
    }
    r->resp.status = 200;
    return;
fail:
    blob_writer_abort(&cw);
    if (!copy) {
        blob_writer_abort(&r->blob);
    }
    if (!r->resp.status) {
        resp_error(r, CV_EINTERNAL, NULL, NULL);
    }
}

/* ------------------------------------------------------------ complete */

struct part_row {
    int64_t num;
    uint64_t size;
    char etag[80];
    void *body; /* cv_malloc'd inline copy, or NULL */
    size_t bodylen;
    bool inline_body;
    char file[33];
    char ck[SIGV4_CK_B64_MAX];      /* the part's stored checksum (base64), or "" */
    char ck_req[SIGV4_CK_B64_MAX];  /* the checksum the Complete document names, or "" */
};

/* A part's ETag as the client lists it against the stored one: one exact
 * value, quotes optional (not an If-Match list: no "*", no commas). */
static bool part_etag_eq(struct cv_str given, struct cv_str stored)
{
    if (given.len >= 2 && given.ptr[0] == '"' && given.ptr[given.len - 1] == '"') {
        given.ptr++;
        given.len -= 2;
    }
    if (stored.len >= 2 && stored.ptr[0] == '"' && stored.ptr[stored.len - 1] == '"') {
        stored.ptr++;
        stored.len -= 2;
    }
    return given.len > 0 && cv_str_eq(given, stored);
}

/*
 * The composite checksum of a multipart object (what AWS reports for
 * uploads with a checksum algorithm): the algorithm over the concatenated
 * raw checksums of the parts, in base64, then "-N".
 */
static cv_err composite_checksum(enum sigv4_checksum_algo algo, const struct part_row *parts,
                                 size_t n, char *out, size_t outlen)
{
    struct sigv4_checksum c;
    char b64[SIGV4_CK_B64_MAX];
    size_t i;

    sigv4_checksum_init(&c, algo);
    for (i = 0; i < n; i++) {
        struct cv_buf raw = CV_BUF_INIT(64);
        cv_err err = cv_base64_decode(&raw, cv_str_c(parts[i].ck));
        if (err || !parts[i].ck[0]) {
            cv_buf_release(&raw);
            return CV_S3_INVALID_PART;
        }
        sigv4_checksum_update(&c, raw.ptr, raw.len);
        cv_buf_release(&raw);
    }
    sigv4_checksum_final(&c, b64);
    snprintf(out, outlen, "%s-%zu", b64, n);
    return CV_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * CompleteMultipartUpload is idempotent on AWS: completing an upload that was
 * just completed answers as the first time did, while the object is still
 * the one it produced. The commit keeps (upload id, bucket, key, ETag).
 */
static bool completed_again(struct store_req *r, const char *id)
{
    struct db_conn *c = db_reader(r->st->db);
    sqlite3_stmt *q = NULL, *o;
    char etag[80] = "";
    bool ok = false;
    cv_err err;

    if (!c) {
        return false;
    }
    if (sqlite3_prepare_v2(c->h,
                           "SELECT etag FROM completed_uploads WHERE id = ?1 AND bucket = ?2 AND "
                           "key = ?3",
                           -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
        db_bind_str(q, 2, r->bucket);
        db_bind_str(q, 3, r->key);
        if (sqlite3_step(q) == SQLITE_ROW) {
            snprintf(etag, sizeof(etag), "%s", (const char *)sqlite3_column_text(q, 0));
        }
    }
    sqlite3_finalize(q);
    if (etag[0]) {
        o = db_stmt(c, STMT_OBJ_HEAD_ID);
        db_bind_str(o, 1, r->bucket);
        db_bind_str(o, 2, r->key);
        ok = sqlite3_step(o) == SQLITE_ROW && sqlite3_column_text(o, 3) &&
             strcmp((const char *)sqlite3_column_text(o, 3), etag) == 0;
        sqlite3_reset(o);
    }
    db_reader_done(r->st->db, c);
    if (!ok) {
        return false;
    }
    err = xml_begin(&r->resp.body, "CompleteMultipartUploadResult");
    if (!err) {
        err = xml_elem(&r->resp.body, "Bucket", r->bucket.ptr, r->bucket.len);
    }
    if (!err) {
        err = xml_elem(&r->resp.body, "Key", r->key.ptr, r->key.len);
    }
    if (!err) {
        err = xml_elemc(&r->resp.body, "ETag", etag);
    }
    if (!err) {
        err = xml_end(&r->resp.body, "CompleteMultipartUploadResult");
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        return true;
    }
    r->resp.status = 200;
    r->resp.content_type = "application/xml";
    return true;
}

void s3_complete_multipart(struct store_req *r)
{
    const char *id = upload_id_param(r);
    struct upload_info u;
    struct xml_node *root = NULL;
    const struct xml_node *p;
    struct part_row *parts = NULL;
    struct seg_src *segs = NULL;
    int64_t *nums = NULL;
    size_t n = 0, i, k;
    struct cv_md5 m;
    uint8_t md5[CV_MD5_LEN];
    char etag[48];
    uint64_t total = 0;
    struct obj_commit oc;
    struct cv_buf *b = &r->resp.body;
    enum sigv4_checksum_algo algo;
    char composite[SIGV4_CK_B64_MAX + 16] = "";
    cv_err err;

    memset(&oc, 0, sizeof(oc));
    if (!id || upload_load(r, id, &u) != CV_OK) {
        if (id && completed_again(r, id)) {
            return; /* a repeated Complete of a finished upload answers the same (AWS) */
        }
        no_such_upload(r, id);
        return;
    }
    algo = sigv4_checksum_from_name(cv_str_c(u.ck_algo));
    root = xml_parse_doc(&r->arena, &r->xml, "CompleteMultipartUpload");
    if (!root) {
        resp_error(r, CV_S3_MALFORMED_XML, NULL, NULL);
        return;
    }
    for (p = root->child; p; p = p->next) {
        n += strcmp(p->name, "Part") == 0;
    }
    if (n == 0 || n > r->st->cfg.limits.max_parts) {
        resp_error(r, CV_S3_MALFORMED_XML, n ? "Too many parts" : "You must specify at least one "
                                                                 "part",
                   NULL);
        return;
    }
    parts = cv_arena_alloc(&r->arena, n * sizeof(*parts));
    segs = cv_arena_alloc(&r->arena, n * sizeof(*segs));
    nums = cv_arena_alloc(&r->arena, n * sizeof(*nums));
    if (!parts || !segs || !nums) {
        resp_error(r, CV_ENOMEM, NULL, NULL);
        return;
    }
    memset(parts, 0, n * sizeof(*parts));
    /* The requested list, in ascending order. */
    k = 0;
    for (p = root->child; p; p = p->next) {
        uint64_t v;
        if (strcmp(p->name, "Part") != 0) {
            continue;
        }
        if (cv_parse_u64(cv_str_trim(xml_text(xml_child(p, "PartNumber"))), &v) || v < 1 ||
            v > 10000) {
            resp_error(r, CV_S3_MALFORMED_XML, NULL, NULL);
            return;
        }
        if (k && (int64_t)v <= parts[k - 1].num) {
            resp_error(r, CV_S3_INVALID_PART_ORDER, NULL, NULL);
            return;
        }
        parts[k].num = (int64_t)v;
        {
            struct cv_str e = cv_str_trim(xml_text(xml_child(p, "ETag")));
            snprintf(parts[k].etag, sizeof(parts[k].etag), "%.*s", (int)CV_MIN(e.len, 78), e.ptr);
        }
        if (algo != SIGV4_CK_NONE) {
            char tag[32];
            const struct xml_node *ckn;
            snprintf(tag, sizeof(tag), "Checksum%s", sigv4_checksum_name(algo));
            ckn = xml_child(p, tag);
            if (ckn) {
                struct cv_str ckv = cv_str_trim(xml_text(ckn));
                snprintf(parts[k].ck_req, sizeof(parts[k].ck_req), "%.*s",
                         (int)CV_MIN(ckv.len, SIGV4_CK_B64_MAX - 1), ckv.ptr);
            }
        }
        k++;
    }
    /* Look each part up. */
    {
        struct db_conn *c = db_reader(r->st->db);
        sqlite3_stmt *s;
        size_t want = 0;
        if (!c) {
            resp_error(r, CV_ENOMEM, NULL, NULL);
            return;
        }
        s = db_stmt(c, STMT_PART_LIST);
        sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, 0);
        sqlite3_bind_int64(s, 3, 100000);
        err = CV_OK;
        while (!err && want < n && sqlite3_step(s) == SQLITE_ROW) {
            int64_t num = sqlite3_column_int64(s, 0);
            struct part_row *pr;
            if (num < parts[want].num) {
                continue;
            }
            if (num > parts[want].num) {
                break; /* a requested part is missing */
            }
            pr = &parts[want];
            pr->size = (uint64_t)sqlite3_column_int64(s, 1);
            if (!part_etag_eq(cv_str_c(pr->etag), db_col_str(s, 2))) {
                break;
            }
            snprintf(pr->etag, sizeof(pr->etag), "%s", (const char *)sqlite3_column_text(s, 2));
            pr->inline_body = sqlite3_column_type(s, 4) != SQLITE_NULL;
            if (pr->inline_body) {
                pr->bodylen = (size_t)sqlite3_column_bytes(s, 4);
                pr->body = cv_memdup(sqlite3_column_blob(s, 4) ? sqlite3_column_blob(s, 4) : "",
                                     pr->bodylen);
                if (!pr->body) {
                    err = CV_ENOMEM;
                }
            } else {
                struct cv_str f = db_col_str(s, 5);
                snprintf(pr->file, sizeof(pr->file), "%.*s", (int)CV_MIN(f.len, 32),
                         f.ptr ? f.ptr : "");
            }
            if (sqlite3_column_text(s, 6)) {
                snprintf(pr->ck, sizeof(pr->ck), "%s", (const char *)sqlite3_column_text(s, 6));
            }
            if (pr->ck_req[0] && strcmp(pr->ck_req, pr->ck) != 0) {
                break; /* the named checksum is not the part's: InvalidPart */
            }
            want++;
        }
        db_reader_done(r->st->db, c);
        if (!err && want < n) {
            char num[24];
            snprintf(num, sizeof(num), "%lld", (long long)parts[want].num);
            resp_error(r, CV_S3_INVALID_PART, NULL, "UploadId", id, "PartNumber", num, "ETag",
                       parts[want].etag, NULL);
            goto out;
        }
        if (err) {
            resp_error(r, err, NULL, NULL);
            goto out;
        }
    }
    cv_md5_init(&m);
    for (i = 0; i < n; i++) {
        uint8_t pm[CV_MD5_LEN];
        struct cv_str e = cv_str_c(parts[i].etag);
        if (i + 1 < n && parts[i].size < MIN_PART_SIZE) {
            char num[24], sz[24];
            snprintf(num, sizeof(num), "%lld", (long long)parts[i].num);
            snprintf(sz, sizeof(sz), "%llu", (unsigned long long)parts[i].size);
            resp_error(r, CV_S3_ENTITY_TOO_SMALL, NULL, "ProposedSize", sz, "MinSizeAllowed",
                       "5242880", "PartNumber", num, "ETag", parts[i].etag, NULL);
            goto out;
        }
        if (e.len >= 2 && e.ptr[0] == '"') {
            e.ptr++;
            e.len -= 2;
        }
        if (cv_hex_decode(e, pm, CV_MD5_LEN) == CV_OK) {
            cv_md5_update(&m, pm, CV_MD5_LEN);
        }
        total += parts[i].size;
        segs[i].num = parts[i].num;
        segs[i].size = parts[i].size;
        segs[i].body = parts[i].inline_body ? parts[i].body : NULL;
        segs[i].bodylen = parts[i].bodylen;
        segs[i].file = parts[i].inline_body ? NULL : parts[i].file;
        nums[i] = parts[i].num;
    }
    cv_md5_final(&m, md5);
    if (algo != SIGV4_CK_NONE) {
        struct cv_str want_ck = req_header(r, sigv4_checksum_header(algo));
        if (composite_checksum(algo, parts, n, composite, sizeof(composite)) != CV_OK) {
            resp_error(r, CV_S3_INVALID_PART, "A part has no checksum of the upload's algorithm.",
                       NULL);
            goto out;
        }
        if (want_ck.ptr && !cv_str_eq_c(cv_str_trim(want_ck), composite)) {
            resp_error(r, CV_S3_BAD_CHECKSUM, NULL, NULL);
            goto out;
        }
    }
    etag[0] = '"';
    cv_hex_encode(md5, CV_MD5_LEN, etag + 1);
    snprintf(etag + 33, sizeof(etag) - 33, "-%zu\"", n);
    qsort(nums, n, sizeof(*nums), cmp_i64);
    oc.arena = &r->arena;
    oc.bucket = r->bucket;
    oc.key = r->key;
    oc.size = total;
    oc.etag = etag;
    oc.mtime = r->now_ms;
    oc.meta = u.meta;
    oc.metalen = u.metalen;
    oc.nparts = (int64_t)n;
    oc.segs = segs;
    oc.nsegs = n;
    oc.storage_class = u.storage_class[0] ? u.storage_class : NULL;
    oc.acl = u.acl;
    oc.tags = u.tags;
    if (composite[0]) {
        oc.ck_algo = sigv4_checksum_name(algo);
        oc.ck_value = composite;
    }
    oc.upload_id = id;
    oc.used_parts = nums;
    oc.nused = n;
    err = db_write(r->st->db, obj_commit_tx, &oc);
    if (err) {
        if (err == CV_S3_NO_SUCH_UPLOAD) {
            no_such_upload(r, id);
        } else {
            resp_error(r, err, NULL, NULL);
        }
        goto out;
    }
    obj_commit_cleanup(r->st, &oc);
    if (oc.vid[0] && strcmp(oc.vid, "null") != 0) {
        (void)resp_header(r, "x-amz-version-id", oc.vid);
    }
    err = xml_begin(b, "CompleteMultipartUploadResult");
    if (!err) {
        err = cv_buf_addf(b, "<Location>http://%s/%.*s/", r->st->cfg.listen_host,
                          (int)r->bucket.len, r->bucket.ptr);
    }
    if (!err) {
        err = cv_uri_encode(b, r->key, true);
    }
    if (!err) {
        err = cv_buf_adds(b, "</Location>");
    }
    if (!err) {
        err = xml_elem(b, "Bucket", r->bucket.ptr, r->bucket.len);
    }
    if (!err) {
        err = xml_elem(b, "Key", r->key.ptr, r->key.len);
    }
    if (!err) {
        err = xml_elemc(b, "ETag", etag);
    }
    if (!err && composite[0]) {
        char tag[32];
        snprintf(tag, sizeof(tag), "Checksum%s", sigv4_checksum_name(algo));
        err = xml_elemc(b, tag, composite);
        if (!err) {
            err = xml_elemc(b, "ChecksumType", "COMPOSITE");
        }
    }
    if (!err) {
        err = xml_end(b, "CompleteMultipartUploadResult");
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        goto out;
    }
    r->resp.status = 200;
    r->resp.content_type = "application/xml";
out:
    for (i = 0; i < n; i++) {
        cv_free(parts[i].body);
    }
}

/* --------------------------------------------------------------- abort */

struct abort_job {
    const char *id;
    struct cv_str bucket, key;
    struct obj_commit oc;
};

static cv_err abort_tx(struct db_conn *c, void *arg)
{
    struct abort_job *j = arg;
    sqlite3_stmt *s = db_stmt(c, STMT_PART_FILES);
    cv_err err = CV_OK;

    sqlite3_bind_text(s, 1, j->id, -1, SQLITE_STATIC);
    while (!err && sqlite3_step(s) == SQLITE_ROW) {
        err = obj_commit_add_old(&j->oc, db_col_str(s, 0));
    }
    sqlite3_reset(s);
    if (err) {
        return err;
    }
    s = db_stmt(c, STMT_PART_DELETE_ALL);
    sqlite3_bind_text(s, 1, j->id, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) {
        return CV_EDB;
    }
    s = db_stmt(c, STMT_UPLOAD_DELETE);
    sqlite3_bind_text(s, 1, j->id, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) {
        return CV_EDB;
    }
    if (!sqlite3_changes(c->h)) {
        return CV_S3_NO_SUCH_UPLOAD;
    }
    return s3_lock_drop_upload(c, j->bucket, j->key, j->id);
}

void s3_abort_multipart(struct store_req *r)
{
    struct abort_job j;
    struct upload_info u;
    cv_err err;

    memset(&j, 0, sizeof(j));
    j.id = upload_id_param(r);
    j.bucket = r->bucket;
    j.key = r->key;
    j.oc.arena = &r->arena;
    if (!j.id || upload_load(r, j.id, &u) != CV_OK) {
        if (store_allowed(r, "s3:AbortMultipartUpload", r->bucket, r->key, r->bi)) {
            no_such_upload(r, j.id);
        } else {
            resp_error(r, CV_S3_ACCESS_DENIED, NULL, NULL);
        }
        return;
    }
    if (!mpu_allowed(r, "s3:AbortMultipartUpload", &u)) {
        return;
    }
    err = db_write(r->st->db, abort_tx, &j);
    if (err) {
        j.oc.nold = 0;
        if (err == CV_S3_NO_SUCH_UPLOAD) {
            no_such_upload(r, j.id);
        } else {
            resp_error(r, err, NULL, NULL);
        }
        return;
    }
    obj_commit_cleanup(r->st, &j.oc);
    r->resp.status = 204;
}

/* ---------------------------------------------------------------- lists */

/*
 * <Initiator> / <Owner>: an account (a root initiator, and every owner) is
 * named by its canonical id and account name, an IAM user by its ARN and
 * user name, as AWS.
 */
static cv_err principal_xml(struct store_req *r, struct cv_buf *b, const char *tag,
                            const char *arn, const char *account)
{
    char cid[65], name[65];
    size_t n = strlen(arn);
    bool root = n >= 5 && strcmp(arn + n - 5, ":root") == 0;
    cv_err err = cv_buf_addf(b, "<%s>", tag);

    if (!err && (root || !arn[0] || strcmp(arn, "anonymous") == 0) &&
        s3_account_info(r->st, account, cid, name) == CV_OK) {
        err = xml_elemc(b, "ID", cid);
        if (!err) {
            err = xml_elemc(b, "DisplayName", name);
        }
    } else if (!err) {
        const char *slash = strrchr(arn, '/');
        err = xml_elemc(b, "ID", arn);
        if (!err) {
            err = xml_elemc(b, "DisplayName", slash ? slash + 1 : arn);
        }
    }
    if (!err) {
        err = cv_buf_addf(b, "</%s>", tag);
    }
    return err;
}

/* The account that will own the object an upload completes into. */
static const char *upload_owner(const struct store_req *r, const char *initiator_account)
{
    return s3_acl_enforced(r->bi) || !initiator_account[0] ? r->bi->account : initiator_account;
}

void s3_list_parts(struct store_req *r)
{
    const char *id = upload_id_param(r);
    struct upload_info u;
    const struct query_param *mk = req_param(r, "part-number-marker");
    const struct query_param *mp = req_param(r, "max-parts");
    uint64_t marker = 0, maxp = 1000;
    struct db_conn *c;
    sqlite3_stmt *s;
    struct cv_buf *b = &r->resp.body;
    int64_t last = 0;
    unsigned count = 0;
    bool truncated = false;
    cv_err err;

    if (!id || upload_load(r, id, &u) != CV_OK) {
        if (store_allowed(r, "s3:ListMultipartUploadParts", r->bucket, r->key, r->bi)) {
            no_such_upload(r, id);
        } else {
            resp_error(r, CV_S3_ACCESS_DENIED, NULL, NULL);
        }
        return;
    }
    if (!mpu_allowed(r, "s3:ListMultipartUploadParts", &u)) {
        return;
    }
    if ((mk && cv_parse_u64(mk->value, &marker)) || (mp && cv_parse_u64(mp->value, &maxp))) {
        resp_error(r, CV_S3_INVALID_ARGUMENT, NULL, NULL);
        return;
    }
    if (maxp > 1000) {
        maxp = 1000;
    }
    c = db_reader(r->st->db);
    if (!c) {
        resp_error(r, CV_ENOMEM, NULL, NULL);
        return;
    }
    err = xml_begin(b, "ListPartsResult");
    if (!err) {
        err = xml_elem(b, "Bucket", r->bucket.ptr, r->bucket.len);
    }
    if (!err) {
        err = xml_elem(b, "Key", r->key.ptr, r->key.len);
    }
    if (!err) {
        err = xml_elemc(b, "UploadId", id);
    }
    if (!err) {
        err = principal_xml(r, b, "Initiator", u.initiator, u.initiator_account);
    }
    if (!err) {
        err = principal_xml(r, b, "Owner", "", upload_owner(r, u.initiator_account));
    }
    if (!err) {
        err = xml_elemc(b, "StorageClass", u.storage_class[0] ? u.storage_class : "STANDARD");
    }
    if (!err) {
        err = xml_elemf(b, "PartNumberMarker", "%llu", (unsigned long long)marker);
    }
    s = db_stmt(c, STMT_PART_LIST);
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)marker);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)maxp + 1);
    {
        struct cv_buf items = CV_BUF_INIT(8 << 20);
        while (!err && sqlite3_step(s) == SQLITE_ROW) {
            char lm[25];
            if (count == maxp) {
                truncated = true;
                break;
            }
            count++;
            last = sqlite3_column_int64(s, 0);
            cv_time_iso8601_ms(sqlite3_column_int64(s, 3), lm);
            err = cv_buf_addf(&items, "<Part><PartNumber>%lld</PartNumber>", (long long)last);
            if (!err) {
                err = xml_elemc(&items, "LastModified", lm);
            }
            if (!err) {
                err = xml_elemc(&items, "ETag", (const char *)sqlite3_column_text(s, 2));
            }
            if (!err) {
                err = xml_elemf(&items, "Size", "%lld", (long long)sqlite3_column_int64(s, 1));
            }
            if (!err && sqlite3_column_text(s, 6) && u.ck_algo[0]) {
                char tag[40];
                snprintf(tag, sizeof(tag), "Checksum%s", u.ck_algo);
                err = xml_elemc(&items, tag, (const char *)sqlite3_column_text(s, 6));
            }
            if (!err) {
                err = cv_buf_adds(&items, "</Part>");
            }
        }
        if (!err) {
            err = xml_elemf(b, "NextPartNumberMarker", "%lld", (long long)last);
        }
        if (!err) {
            err = xml_elemf(b, "MaxParts", "%llu", (unsigned long long)maxp);
        }
        if (!err) {
            err = xml_elemc(b, "IsTruncated", truncated ? "true" : "false");
        }
        if (!err && items.len) {
            err = cv_buf_add(b, items.ptr, items.len);
        }
        cv_buf_release(&items);
    }
    db_reader_done(r->st->db, c);
    if (!err) {
        err = xml_end(b, "ListPartsResult");
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 200;
    r->resp.content_type = "application/xml";
}

void s3_list_multipart_uploads(struct store_req *r)
{
    const struct query_param *km = req_param(r, "key-marker"), *um = req_param(r, "upload-id-marker");
    const struct query_param *mu = req_param(r, "max-uploads"), *pf = req_param(r, "prefix");
    const struct query_param *dl = req_param(r, "delimiter");
    uint64_t maxu = 1000;
    struct cv_buf prefixes = CV_BUF_INIT(16 << 20);
    struct cv_str last_cp = CV_STR_NULL; /* the common prefix emitted last (in prefixes) */
    struct db_conn *c;
    sqlite3_stmt *s;
    struct cv_buf *b = &r->resp.body;
    unsigned count = 0;
    bool truncated = false;
    char next_key[1100] = "", next_id[140] = "";
    struct cv_buf items = CV_BUF_INIT(16 << 20);
    cv_err err;

    if (mu && cv_parse_u64(mu->value, &maxu)) {
        resp_error(r, CV_S3_INVALID_ARGUMENT, NULL, NULL);
        return;
    }
    if (maxu > 1000) {
        maxu = 1000;
    }
    c = db_reader(r->st->db);
    if (!c) {
        resp_error(r, CV_ENOMEM, NULL, NULL);
        return;
    }
    s = db_stmt(c, STMT_UPLOAD_LIST);
    db_bind_str(s, 1, r->bucket);
    db_bind_str(s, 2, km ? km->value : CV_STR(""));
    /* Without upload-id-marker only keys after key-marker follow (ids are hex:
     * "~" sorts after every one of them). */
    db_bind_str(s, 3, um ? um->value : (km ? CV_STR("~") : CV_STR("")));
    sqlite3_bind_int64(s, 4, 100000);
    err = CV_OK;
    while (!err && sqlite3_step(s) == SQLITE_ROW) {
        struct cv_str key = db_col_str(s, 1), uid = db_col_str(s, 0);
        char lm[25];
        size_t plen = pf ? pf->value.len : 0, cpl = 0;
        if (pf && (key.len < pf->value.len || memcmp(key.ptr, pf->value.ptr, pf->value.len) != 0)) {
            continue;
        }
        /* Keys with the delimiter after the prefix fold into common prefixes. */
        if (dl && dl->value.len) {
            for (size_t i = plen; i + dl->value.len <= key.len; i++) {
                if (memcmp(key.ptr + i, dl->value.ptr, dl->value.len) == 0) {
                    cpl = i + dl->value.len;
                    break;
                }
            }
        }
        if (cpl && last_cp.len == cpl && memcmp(last_cp.ptr, key.ptr, cpl) == 0) {
            /* Under the prefix just reported: skipped, but a later page starts after it. */
            snprintf(next_key, sizeof(next_key), "%.*s", (int)key.len, key.ptr);
            snprintf(next_id, sizeof(next_id), "%.*s", (int)uid.len, uid.ptr);
            continue;
        }
        if (count == maxu) {
            truncated = true;
            break;
        }
        count++;
        snprintf(next_key, sizeof(next_key), "%.*s", (int)key.len, key.ptr);
        snprintf(next_id, sizeof(next_id), "%.*s", (int)uid.len, uid.ptr);
        if (cpl) {
            err = cv_buf_adds(&prefixes, "<CommonPrefixes>");
            if (!err) {
                err = xml_elem(&prefixes, "Prefix", key.ptr, cpl);
            }
            if (!err) {
                err = cv_buf_adds(&prefixes, "</CommonPrefixes>");
            }
            last_cp.ptr = cv_arena_strndup(&r->arena, key.ptr, cpl);
            last_cp.len = cpl;
            if (!err && !last_cp.ptr) {
                err = CV_ENOMEM;
            }
            continue;
        }
        cv_time_iso8601_ms(sqlite3_column_int64(s, 4), lm);
        err = cv_buf_adds(&items, "<Upload>");
        if (!err) {
            err = xml_elem(&items, "Key", key.ptr, key.len);
        }
        if (!err) {
            err = xml_elem(&items, "UploadId", uid.ptr, uid.len);
        }
        if (!err) {
            err = principal_xml(r, &items, "Initiator", (const char *)sqlite3_column_text(s, 2),
                                (const char *)sqlite3_column_text(s, 3));
        }
        if (!err) {
            err = principal_xml(r, &items, "Owner", "",
                                upload_owner(r, (const char *)sqlite3_column_text(s, 3)));
        }
        if (!err) {
            err = xml_elemc(&items, "StorageClass",
                            sqlite3_column_text(s, 5) ? (const char *)sqlite3_column_text(s, 5)
                                                      : "STANDARD");
        }
        if (!err) {
            err = xml_elemc(&items, "Initiated", lm);
        }
        if (!err) {
            err = cv_buf_adds(&items, "</Upload>");
        }
    }
    db_reader_done(r->st->db, c);
    if (!err) {
        err = xml_begin(b, "ListMultipartUploadsResult");
    }
    if (!err) {
        err = xml_elem(b, "Bucket", r->bucket.ptr, r->bucket.len);
    }
    if (!err) {
        err = xml_elem(b, "KeyMarker", km ? km->value.ptr : "", km ? km->value.len : 0);
    }
    if (!err) {
        err = xml_elem(b, "UploadIdMarker", um ? um->value.ptr : "", um ? um->value.len : 0);
    }
    if (!err) {
        err = xml_elemc(b, "NextKeyMarker", next_key);
    }
    if (!err) {
        err = xml_elemc(b, "NextUploadIdMarker", next_id);
    }
    if (!err && pf) {
        err = xml_elem(b, "Prefix", pf->value.ptr, pf->value.len);
    }
    if (!err && dl) {
        err = xml_elem(b, "Delimiter", dl->value.ptr, dl->value.len);
    }
    if (!err) {
        err = xml_elemf(b, "MaxUploads", "%llu", (unsigned long long)maxu);
    }
    if (!err) {
        err = xml_elemc(b, "IsTruncated", truncated ? "true" : "false");
    }
    if (!err && items.len) {
        err = cv_buf_add(b, items.ptr, items.len);
    }
    if (!err && prefixes.len) {
        err = cv_buf_add(b, prefixes.ptr, prefixes.len);
    }
    if (!err) {
        err = xml_end(b, "ListMultipartUploadsResult");
    }
    cv_buf_release(&items);
    cv_buf_release(&prefixes);
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 200;
    r->resp.content_type = "application/xml";
}
