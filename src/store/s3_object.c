/* Object operations: PUT, GET/HEAD, DELETE, COPY, ACL, tagging. */
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const storage_classes[] = {
    "STANDARD",    "REDUCED_REDUNDANCY", "STANDARD_IA",  "ONEZONE_IA", "INTELLIGENT_TIERING",
    "GLACIER",     "DEEP_ARCHIVE",       "OUTPOSTS",     "GLACIER_IR", "SNOW",
    "EXPRESS_ONEZONE",
};

static bool storage_class_valid(struct cv_str sc)
{
    size_t i;

    for (i = 0; i < CV_ARRAY_LEN(storage_classes); i++) {
        if (cv_str_eq_c(sc, storage_classes[i])) {
            return true;
        }
    }
    return false;
}

static char *arena_cstr(struct store_req *r, struct cv_str s)
{
    return cv_arena_strndup(&r->arena, s.ptr ? s.ptr : "", s.ptr ? s.len : 0);
}

/*
 * Before the body of an object write (or of a request document) is read:
 * integrity headers, storage class, metadata size, ACL. Sets the error and
 * returns false on bad input, so nothing is read or stored.
 */
bool s3_body_precheck(struct store_req *r)
{
    struct cv_str md5 = req_header(r, "content-md5");
    struct cv_str sc = req_header(r, "x-amz-storage-class");
    struct cv_str algo = req_header(r, "x-amz-sdk-checksum-algorithm");
    enum sigv4_checksum_algo ck = SIGV4_CK_NONE;
    size_t i;

    if (md5.ptr) {
        struct cv_buf d = CV_BUF_INIT(64);
        cv_err err = cv_base64_decode(&d, cv_str_trim(md5));
        bool ok = !err && d.len == CV_MD5_LEN;
        if (ok) {
            memcpy(r->content_md5, d.ptr, CV_MD5_LEN);
            r->want_md5_check = true;
        }
        cv_buf_release(&d);
        if (!ok) {
            resp_error(r, CV_S3_INVALID_DIGEST, NULL, "Content-MD5", "", NULL);
            return false;
        }
    }
    for (i = 0; i < r->nheaders; i++) {
        enum sigv4_checksum_algo a = sigv4_checksum_from_header(r->headers[i].name);
        if (a != SIGV4_CK_NONE) {
            if (ck != SIGV4_CK_NONE) {
                resp_error(r, CV_S3_INVALID_REQUEST,
                           "Expecting a single x-amz-checksum- header. Multiple checksum Types "
                           "are not allowed.",
                           NULL);
                return false;
            }
            ck = a;
            cv_errf(r->ck_expect, sizeof(r->ck_expect), "%.*s",
                    (int)CV_MIN(r->headers[i].value.len, SIGV4_CK_B64_MAX - 1),
                    r->headers[i].value.ptr);
        }
    }
    if (ck == SIGV4_CK_NONE) {
        struct cv_str tr = req_header(r, "x-amz-trailer");
        if (tr.ptr) {
            ck = sigv4_checksum_from_header(cv_str_trim(tr));
        }
    }
    if (ck == SIGV4_CK_NONE && !algo.ptr) {
        algo = req_header(r, "x-amz-checksum-algorithm");
    }
    if (ck == SIGV4_CK_NONE && algo.ptr) {
        ck = sigv4_checksum_from_name(algo);
        if (ck == SIGV4_CK_NONE) {
            resp_error(r, CV_S3_INVALID_REQUEST, "Value for x-amz-sdk-checksum-algorithm header "
                                                 "is invalid.",
                       NULL);
            return false;
        }
    }
    if (ck == SIGV4_CK_NONE && r->op == OP_UPLOAD_PART) {
        /* Parts of an upload created with a checksum algorithm carry it. */
        const struct query_param *uid = req_param(r, "uploadId");
        struct db_conn *c = uid ? db_reader(r->st->db) : NULL;
        sqlite3_stmt *q = c ? db_stmt(c, STMT_UPLOAD_CK_ALGO) : NULL;
        if (q) {
            db_bind_str(q, 1, uid->value);
            if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0)) {
                ck = sigv4_checksum_from_name(db_col_str(q, 0));
            }
        }
        db_reader_done(r->st->db, c);
    }
    if (ck != SIGV4_CK_NONE) {
        sigv4_checksum_init(&r->ck, ck);
    }
    if (sc.ptr && !storage_class_valid(sc)) {
        resp_error(r, CV_S3_INVALID_STORAGE_CLASS, NULL, "StorageClassRequested", "", NULL);
        return false;
    }
    if (r->op == OP_PUT_OBJECT || r->op == OP_CREATE_MULTIPART || r->op == OP_COPY_OBJECT) {
        struct cv_buf meta = CV_BUF_INIT(64 * 1024);
        bool too_large = false;
        cv_err err = meta_collect(r, &meta, &too_large);
        cv_buf_release(&meta);
        if (err || too_large) {
            resp_error(r, CV_S3_METADATA_TOO_LARGE, NULL, "MaxSizeAllowed", "2048", NULL);
            return false;
        }
        {
            const char *stored;
            if (s3_acl_for_write(r, r->bi, &stored)) {
                return false; /* a bad ACL is refused before the body is read */
            }
        }
        {
            struct cv_str sse = req_header(r, "x-amz-server-side-encryption");
            if (sse.ptr && !cv_str_eq_c(sse, "AES256")) {
                resp_error(r, CV_S3_NOT_IMPLEMENTED,
                           "Only x-amz-server-side-encryption: AES256 is supported.", NULL);
                return false;
            }
        }
    }
    return true;
}

/* After the body: Content-MD5 and x-amz-checksum-* against what arrived. */
static bool body_digests_ok(struct store_req *r, uint8_t md5[CV_MD5_LEN], char ck_out[64])
{
    cv_md5_final(&r->md5, md5);
    ck_out[0] = '\0';
    if (r->want_md5_check && !cv_ct_equal(md5, r->content_md5, CV_MD5_LEN)) {
        char got[40], want[40];
        struct cv_buf b1 = CV_BUF_INIT(64), b2 = CV_BUF_INIT(64);
        if (cv_base64_encode(&b1, md5, CV_MD5_LEN) ||
            cv_base64_encode(&b2, r->content_md5, CV_MD5_LEN)) {
            cv_buf_release(&b1); /* the message just loses its detail */
        }
        snprintf(got, sizeof(got), "%s", b1.ptr ? b1.ptr : "");
        snprintf(want, sizeof(want), "%s", b2.ptr ? b2.ptr : "");
        cv_buf_release(&b1);
        cv_buf_release(&b2);
        resp_error(r, CV_S3_BAD_DIGEST, NULL, "ExpectedDigest", want, "CalculatedDigest", got,
                   NULL);
        return false;
    }
    if (r->ck.algo != SIGV4_CK_NONE) {
        sigv4_checksum_final(&r->ck, ck_out);
        if (r->ck_expect[0] && strcmp(ck_out, r->ck_expect) != 0) {
            char msg[128];
            snprintf(msg, sizeof(msg), "The %s you specified did not match the calculated checksum.",
                     sigv4_checksum_name(r->ck.algo));
            resp_error(r, CV_S3_BAD_CHECKSUM, msg, NULL);
            return false;
        }
    }
    return true;
}

/* The x-amz-tagging of an object write, in stored form (arena), or NULL. */
static const char *request_tags(struct store_req *r)
{
    struct cv_buf b = CV_BUF_INIT(8192);
    char *out = NULL;

    if (!r->authz_request_tags || !r->authz_request_tags->n) {
        return NULL;
    }
    if (tags_encode(r->authz_request_tags, &b) == CV_OK) {
        out = cv_arena_strndup(&r->arena, b.ptr, b.len);
    }
    cv_buf_release(&b);
    return out;
}

/* ---------------------------------------------------------------- PUT */

void s3_put_object(struct store_req *r)
{
    struct obj_commit oc;
    struct obj_lock lock;
    struct cv_buf meta = CV_BUF_INIT(64 * 1024);
    uint8_t md5[CV_MD5_LEN];
    char etag[35], ck[64];
    bool too_large;
    const char *acl = NULL;
    struct cv_str inm = req_header(r, "if-none-match"), im = req_header(r, "if-match");
    struct cv_str sc = req_header(r, "x-amz-storage-class");
    cv_err err;

    memset(&oc, 0, sizeof(oc));
    oc.arena = &r->arena;
    if (!body_digests_ok(r, md5, ck)) {
        blob_writer_abort(&r->blob);
        return;
    }
    if (!s3_lock_for_put(r, &lock)) {
        blob_writer_abort(&r->blob);
        return;
    }
    oc.lock = &lock;
    if (s3_acl_for_write(r, r->bi, &acl)) {
        blob_writer_abort(&r->blob);
        return;
    }
    err = meta_collect(r, &meta, &too_large);
    if (err) {
        blob_writer_abort(&r->blob);
        resp_error(r, err, NULL, NULL);
        goto out;
    }
    s3_etag_from_md5(md5, etag);
    oc.bucket = r->bucket;
    oc.key = r->key;
    oc.size = r->body_size;
    oc.etag = etag;
    oc.mtime = r->now_ms;
    oc.meta = meta.ptr;
    oc.metalen = meta.len;
    if (blob_is_file(&r->blob)) {
        oc.file = r->blob.id;
    } else {
        oc.body = r->blob.mem.ptr ? r->blob.mem.ptr : "";
        oc.bodylen = r->blob.mem.len;
    }
    if (r->ck.algo != SIGV4_CK_NONE) {
        oc.ck_algo = sigv4_checksum_name(r->ck.algo);
        oc.ck_value = ck;
    }
    oc.storage_class = sc.ptr ? arena_cstr(r, sc) : NULL;
    oc.acl = acl;
    oc.tags = request_tags(r);
    if (inm.ptr) {
        if (!cv_str_eq_c(cv_str_trim(inm), "*")) {
            blob_writer_abort(&r->blob);
            resp_error(r, CV_S3_NOT_IMPLEMENTED,
                       "If-None-Match on PutObject only accepts '*'.", NULL);
            goto out;
        }
        oc.cond = PUT_COND_IF_NONE_MATCH_STAR;
    } else if (im.ptr) {
        oc.cond = PUT_COND_IF_MATCH;
        oc.cond_etag = im;
    }
    err = db_write_objects(r->st->db, obj_commit_tx, &oc);
    if (err) {
        blob_writer_abort(&r->blob);
        resp_error(r, err, NULL, NULL);
        goto out;
    }
    /* The body now belongs to the metadata. */
    r->blob.id[0] = '\0';
    blob_writer_release(&r->blob);
    obj_commit_cleanup(r->st, &oc);
    (void)resp_header(r, "ETag", etag);
    if (oc.vid[0] && strcmp(oc.vid, "null") != 0) {
        (void)resp_header(r, "x-amz-version-id", oc.vid);
    }
    if (oc.ck_algo) {
        (void)resp_header(r, sigv4_checksum_header(r->ck.algo), ck);
    }
    if (req_has_header(r, "x-amz-server-side-encryption")) {
        (void)resp_header(r, "x-amz-server-side-encryption", "AES256");
    }
    r->resp.status = 200;
out:
    cv_buf_release(&meta);
}

/* ---------------------------------------------------------------- GET */


/* Fills @p o from a row of OBJ_GET / VER_GET / VER_LATEST (same columns). */
static cv_err fill_row(struct store_req *r, sqlite3_stmt *s, struct obj_row *o, bool want_body,
                       bool noncurrent)
{
    struct cv_str e = db_col_str(s, 2), m = db_col_str(s, 4), f = db_col_str(s, 6);
    struct cv_str ca = db_col_str(s, 7), cvv = db_col_str(s, 8), scl = db_col_str(s, 10);
    struct cv_str acl = db_col_str(s, 11), tags = db_col_str(s, 12), vid = db_col_str(s, 13);
    cv_err err = CV_OK;

    if (tags.ptr && tags.len) {
        o->tags = cv_arena_strndup(&r->arena, tags.ptr, tags.len);
    }
    /* Segments of a noncurrent version are keyed by -id (objects.c). */
    o->id = noncurrent ? -sqlite3_column_int64(s, 0) : sqlite3_column_int64(s, 0);
    o->size = (uint64_t)sqlite3_column_int64(s, 1);
    snprintf(o->etag, sizeof(o->etag), "%.*s", (int)e.len, e.ptr);
    o->mtime = sqlite3_column_int64(s, 3);
    if (vid.ptr) {
        snprintf(o->vid, sizeof(o->vid), "%.*s", (int)CV_MIN(vid.len, 39), vid.ptr);
    } else {
        snprintf(o->vid, sizeof(o->vid), "null");
    }
    o->marker = sqlite3_column_int(s, 14) != 0;
    if (m.ptr) {
        o->meta = cv_arena_strndup(&r->arena, m.ptr, m.len);
        o->metalen = m.len;
        if (!o->meta) {
            err = CV_ENOMEM;
        }
    }
    snprintf(o->file, sizeof(o->file), "%.*s", (int)CV_MIN(f.len, 32), f.ptr ? f.ptr : "");
    snprintf(o->ck_algo, sizeof(o->ck_algo), "%.*s", (int)ca.len, ca.ptr ? ca.ptr : "");
    snprintf(o->ck_value, sizeof(o->ck_value), "%.*s", (int)cvv.len, cvv.ptr ? cvv.ptr : "");
    o->nparts = sqlite3_column_int64(s, 9);
    snprintf(o->storage_class, sizeof(o->storage_class), "%.*s", (int)scl.len,
             scl.ptr ? scl.ptr : "");
    if (acl.ptr && acl.len) {
        o->acl = cv_arena_strndup(&r->arena, acl.ptr, acl.len);
        if (!o->acl) {
            err = CV_ENOMEM;
        }
    }
    o->inline_body = sqlite3_column_type(s, 5) != SQLITE_NULL;
    if (!err && want_body && o->inline_body) {
        o->bodylen = (size_t)sqlite3_column_bytes(s, 5);
        o->body = cv_memdup(o->bodylen ? sqlite3_column_blob(s, 5) : "", o->bodylen);
        if (!o->body) {
            err = CV_ENOMEM;
        }
    }
    return err;
}

/*
 * Loads a key's current row, or version @p vid of it (NULL: the current
 * one). With want_body, an inline body is copied out. A missing key whose
 * latest version is a delete marker answers CV_S3_NO_SUCH_KEY with
 * o->marker and o->vid set; a missing version CV_S3_NO_SUCH_VERSION.
 */
cv_err obj_load_version(struct store_req *r, struct cv_str bucket, struct cv_str key,
                        const char *vid, struct obj_row *o, bool want_body)
{
    struct db_conn *c = db_reader(r->st->db);
    sqlite3_stmt *s;
    cv_err err = vid ? CV_S3_NO_SUCH_VERSION : CV_S3_NO_SUCH_KEY;

    memset(o, 0, sizeof(*o));
    if (!c) {
        return CV_ENOMEM;
    }
    s = db_stmt(c, STMT_OBJ_GET);
    if (!s) {
        err = CV_EDB;
        goto out;
    }
    db_bind_str(s, 1, bucket);
    db_bind_str(s, 2, key);
    if (sqlite3_step(s) == SQLITE_ROW) {
        struct cv_str v = db_col_str(s, 13);
        if (!vid || (!v.ptr && strcmp(vid, "null") == 0) || cv_str_eq_c(v, vid)) {
            err = fill_row(r, s, o, want_body, false);
            goto out;
        }
    }
    sqlite3_reset(s);
    /* A noncurrent version, or the delete marker a missing key may have. */
    s = db_stmt(c, vid ? STMT_VER_GET : STMT_VER_LATEST);
    db_bind_str(s, 1, bucket);
    db_bind_str(s, 2, key);
    if (vid) {
        sqlite3_bind_text(s, 3, vid, -1, SQLITE_STATIC);
    }
    if (sqlite3_step(s) == SQLITE_ROW) {
        if (vid) {
            err = fill_row(r, s, o, want_body, true);
        } else if (sqlite3_column_int(s, 14)) {
            struct cv_str v = db_col_str(s, 13);
            o->marker = true;
            snprintf(o->vid, sizeof(o->vid), "%.*s", (int)CV_MIN(v.len, 39), v.ptr ? v.ptr : "");
            o->mtime = sqlite3_column_int64(s, 3);
        }
    }
out:
    if (s) {
        sqlite3_reset(s);
    }
    db_reader_done(r->st->db, c);
    return err;
}

cv_err obj_load(struct store_req *r, struct cv_str bucket, struct cv_str key, struct obj_row *o,
                bool want_body)
{
    return obj_load_version(r, bucket, key, NULL, o, want_body);
}

bool s3_version_param(struct store_req *r, const char **vid)
{
    const struct query_param *p = req_param(r, "versionId");

    *vid = NULL;
    if (!p) {
        return true;
    }
    if (!p->value.len || !store_vid_valid(p->value)) {
        resp_error(r, CV_S3_INVALID_ARGUMENT, "Invalid version id specified", "ArgumentName",
                   "versionId", NULL);
        return false;
    }
    *vid = cv_arena_strndup(&r->arena, p->value.ptr, p->value.len);
    if (!*vid) {
        resp_error(r, CV_ENOMEM, NULL, NULL);
        return false;
    }
    return true;
}

void s3_version_header(struct store_req *r, const char *vid)
{
    if (vid[0] && (strcmp(vid, "null") != 0 || (r->bi && r->bi->versioning != VS_OFF))) {
        (void)resp_header(r, "x-amz-version-id", vid);
    }
}

void obj_row_release(struct obj_row *o)
{
    cv_free(o->body);
    o->body = NULL;
}

/* The segments of a multipart object (inline bodies copied). */
static cv_err load_segments(struct store_req *r, int64_t id, struct store_segment **out,
                            size_t *n)
{
    struct db_conn *c = db_reader(r->st->db);
    sqlite3_stmt *s;
    struct store_segment *segs = NULL;
    size_t cnt = 0, cap = 0;
    cv_err err = CV_OK;

    *out = NULL;
    *n = 0;
    if (!c) {
        return CV_ENOMEM;
    }
    s = db_stmt(c, STMT_SEG_LIST);
    sqlite3_bind_int64(s, 1, id);
    while (!err && sqlite3_step(s) == SQLITE_ROW) {
        struct store_segment *sg;
        if (cnt == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct store_segment *ns = cv_arena_alloc(&r->arena, ncap * sizeof(*ns));
            if (!ns) {
                err = CV_ENOMEM;
                break;
            }
            if (cnt) {
                memcpy(ns, segs, cnt * sizeof(*ns));
            }
            segs = ns;
            cap = ncap;
        }
        sg = &segs[cnt++];
        memset(sg, 0, sizeof(*sg));
        sg->fd = -1;
        sg->seq = sqlite3_column_int64(s, 0);
        sg->size = (uint64_t)sqlite3_column_int64(s, 1);
        if (sqlite3_column_type(s, 2) != SQLITE_NULL) {
            sg->mem = cv_memdup(sqlite3_column_blob(s, 2) ? sqlite3_column_blob(s, 2) : "",
                                (size_t)sqlite3_column_bytes(s, 2));
            if (!sg->mem) {
                err = CV_ENOMEM;
            }
        } else {
            struct cv_str f = db_col_str(s, 3);
            snprintf(sg->file, sizeof(sg->file), "%.*s", (int)CV_MIN(f.len, 32),
                     f.ptr ? f.ptr : "");
        }
    }
    db_reader_done(r->st->db, c);
    if (err) {
        for (size_t i = 0; i < cnt; i++) {
            cv_free(segs[i].mem);
        }
        return err;
    }
    *out = segs;
    *n = cnt;
    return CV_OK;
}

static void close_segments(struct store_segment *segs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cv_free(segs[i].mem);
        segs[i].mem = NULL;
        if (segs[i].fd >= 0) {
            close(segs[i].fd);
            segs[i].fd = -1;
        }
    }
}

/* Emits the stored headers (Content-Type, x-amz-meta-*, ...). */
static void emit_meta(struct store_req *r, const char *meta, size_t len, bool *has_ctype)
{
    const char *p = meta, *end = meta + len;

    *has_ctype = false;
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *colon = memchr(p, ':', (size_t)((nl ? nl : end) - p));
        if (!nl) {
            nl = end;
        }
        if (colon) {
            char *name = cv_arena_strndup(&r->arena, p, (size_t)(colon - p));
            char *value = cv_arena_strndup(&r->arena, colon + 1, (size_t)(nl - colon - 1));
            if (name && value && strcmp(name, "x-amz-tagging-count") != 0) {
                if (strcmp(name, "content-type") == 0) {
                    *has_ctype = true;
                }
                /* MHD refuses empty header values; a lone space is the same
                 * field value to every HTTP client (OWS is not part of it). */
                (void)resp_header(r, name, value[0] ? value : " ");
            }
        }
        p = nl + 1;
    }
}

static bool cond_failed_get(struct store_req *r, const struct obj_row *o, int *status)
{
    struct cv_str im = req_header(r, "if-match"), inm = req_header(r, "if-none-match");
    struct cv_str ims = req_header(r, "if-modified-since");
    struct cv_str ius = req_header(r, "if-unmodified-since");
    int64_t t, mtime_s = o->mtime / 1000;

    if (im.ptr) {
        if (!s3_etag_matches(im, o->etag)) {
            *status = 412;
            return true;
        }
    } else if (ius.ptr && cv_time_parse_http(cv_str_trim(ius), &t) == CV_OK && mtime_s > t) {
        *status = 412;
        return true;
    }
    if (inm.ptr) {
        if (s3_etag_matches(inm, o->etag)) {
            *status = 304;
            return true;
        }
    } else if (ims.ptr && cv_time_parse_http(cv_str_trim(ims), &t) == CV_OK && mtime_s <= t) {
        *status = 304;
        return true;
    }
    return false;
}

static const char *const overrides[][2] = {
    {"response-content-type", "Content-Type"},
    {"response-content-language", "Content-Language"},
    {"response-expires", "Expires"},
    {"response-cache-control", "Cache-Control"},
    {"response-content-disposition", "Content-Disposition"},
    {"response-content-encoding", "Content-Encoding"},
};

/* Replaces a response header (case-insensitive name) or adds it. */
static void set_header(struct store_req *r, const char *name, const char *value)
{
    size_t i;

    for (i = 0; i < r->resp.nheaders; i++) {
        if (strcasecmp(r->resp.headers[i].name, name) == 0) {
            char *v = cv_arena_strndup(&r->arena, value, strlen(value));
            if (v) {
                r->resp.headers[i].value = v;
            }
            return;
        }
    }
    (void)resp_header(r, name, value);
}

void s3_get_object(struct store_req *r, bool head)
{
    struct obj_row o;
    uint64_t off = 0, len;
    bool ranged = false, has_ctype = false;
    const struct query_param *pn = req_param(r, "partNumber");
    char lm[30], tmp[128];
    int cond_status = 0;
    const char *vid = NULL;
    cv_err err;
    size_t i;
    int attempt;

    if (!s3_version_param(r, &vid)) {
        return;
    }
    for (attempt = 0;; attempt++) {
        err = obj_load_version(r, r->bucket, r->key, vid, &o, !head);
        if (err == CV_S3_NO_SUCH_KEY) {
            /* 404 only to callers who may list the bucket (with the key as
             * the prefix); others learn nothing. */
            if (s3_may_list_key(r)) {
                resp_error(r, err, NULL, "Key", r->key.ptr, NULL);
                if (o.marker) {
                    (void)resp_header(r, "x-amz-delete-marker", "true");
                    (void)resp_header(r, "x-amz-version-id", o.vid);
                }
            } else {
                resp_error(r, CV_S3_ACCESS_DENIED, NULL, NULL);
            }
            return;
        }
        if (err == CV_S3_NO_SUCH_VERSION) {
            resp_error(r, err, NULL, "Key", r->key.ptr, "VersionId", vid, NULL);
            return;
        }
        if (err) {
            resp_error(r, err, NULL, NULL);
            return;
        }
        if (o.marker) {
            /* A delete marker named by its version id has no body (AWS: 405). */
            resp_error(r, CV_S3_METHOD_NOT_ALLOWED,
                       "The specified method is not allowed against this resource.", NULL);
            (void)resp_header(r, "x-amz-delete-marker", "true");
            (void)resp_header(r, "x-amz-version-id", o.vid);
            cv_time_http(o.mtime / 1000, lm);
            (void)resp_header(r, "Last-Modified", lm);
            return;
        }
        if (head || o.inline_body || attempt >= 3) {
            break;
        }
        /* Open body files now: a concurrent overwrite may unlink them. */
        if (o.nparts == 0) {
            r->resp.segs = cv_arena_alloc(&r->arena, sizeof(*r->resp.segs));
            if (!r->resp.segs) {
                obj_row_release(&o);
                resp_error(r, CV_ENOMEM, NULL, NULL);
                return;
            }
            memset(r->resp.segs, 0, sizeof(*r->resp.segs));
            r->resp.nsegs = 1;
            r->resp.segs[0].size = o.size;
            snprintf(r->resp.segs[0].file, sizeof(r->resp.segs[0].file), "%s", o.file);
            err = blob_open(r->st->data_dir, cv_str_c(o.file), &r->resp.segs[0].fd);
        } else {
            err = load_segments(r, o.id, &r->resp.segs, &r->resp.nsegs);
            for (i = 0; !err && i < r->resp.nsegs && r->resp.nsegs <= 256; i++) {
                if (!r->resp.segs[i].mem) {
                    err = blob_open(r->st->data_dir, cv_str_c(r->resp.segs[i].file),
                                    &r->resp.segs[i].fd);
                }
            }
        }
        if (err != CV_ENOENT) {
            break;
        }
        close_segments(r->resp.segs, r->resp.nsegs);
        r->resp.nsegs = 0;
        obj_row_release(&o);
    }
    if (err) {
        close_segments(r->resp.segs, r->resp.nsegs);
        r->resp.nsegs = 0;
        obj_row_release(&o);
        resp_error(r, err, NULL, NULL);
        return;
    }
    if (cond_failed_get(r, &o, &cond_status)) {
        close_segments(r->resp.segs, r->resp.nsegs);
        r->resp.nsegs = 0;
        obj_row_release(&o);
        if (cond_status == 412) {
            resp_error(r, CV_S3_PRECONDITION_FAILED, NULL, "Condition", "If-Match", NULL);
        } else {
            r->resp.status = 304;
            (void)resp_header(r, "ETag", o.etag);
            cv_time_http(o.mtime / 1000, lm);
            (void)resp_header(r, "Last-Modified", lm);
        }
        return;
    }
    len = o.size;
    if (pn) {
        uint64_t n;
        if (cv_parse_u64(pn->value, &n) || n < 1 || n > 10000) {
            resp_error(r, CV_S3_INVALID_ARGUMENT,
                       "Part number must be an integer between 1 and 10000, inclusive", NULL);
            goto fail;
        }
        if (o.nparts == 0) {
            if (n != 1) {
                resp_error(r, CV_S3_INVALID_PART, "The requested partnumber is not satisfiable",
                           NULL);
                goto fail;
            }
        } else {
            struct store_segment *segs = r->resp.segs;
            size_t nsegs = r->resp.nsegs;
            struct store_segment *hsegs = NULL;
            size_t hn = 0;
            if (head) {
                err = load_segments(r, o.id, &hsegs, &hn);
                if (err) {
                    resp_error(r, err, NULL, NULL);
                    goto fail;
                }
                segs = hsegs;
                nsegs = hn;
            }
            if (n > nsegs) {
                close_segments(hsegs, hn);
                resp_error(r, CV_S3_INVALID_PART, "The requested partnumber is not satisfiable",
                           NULL);
                goto fail;
            }
            for (i = 0; i + 1 < n; i++) {
                off += segs[i].size;
            }
            len = segs[n - 1].size;
            ranged = true;
            close_segments(hsegs, hn);
        }
        snprintf(tmp, sizeof(tmp), "%lld", (long long)(o.nparts ? o.nparts : 1));
        (void)resp_header(r, "x-amz-mp-parts-count", tmp);
    } else {
        switch (s3_parse_range(req_header(r, "range"), o.size, &off, &len)) {
        case RANGE_OK:
            ranged = true;
            break;
        case RANGE_UNSATISFIABLE: {
            char sz[32];
            struct cv_str rh = req_header(r, "range");
            snprintf(sz, sizeof(sz), "%llu", (unsigned long long)o.size);
            snprintf(tmp, sizeof(tmp), "%.*s", (int)CV_MIN(rh.len, 100), rh.ptr);
            resp_error(r, CV_S3_INVALID_RANGE, NULL, "RangeRequested", tmp, "ActualObjectSize",
                       sz, NULL);
            (void)resp_headerf(r, "Content-Range", "bytes */%s", sz);
            goto fail;
        }
        default:
            off = 0;
            len = o.size;
        }
    }
    /* Headers. */
    if (o.meta) {
        emit_meta(r, o.meta, o.metalen, &has_ctype);
    }
    if (!has_ctype) {
        (void)resp_header(r, "Content-Type", "binary/octet-stream");
    }
    (void)resp_header(r, "ETag", o.etag);
    cv_time_http(o.mtime / 1000, lm);
    (void)resp_header(r, "Last-Modified", lm);
    (void)resp_header(r, "Accept-Ranges", "bytes");
    s3_version_header(r, o.vid);
    s3_lock_headers(r, o.vid);
    if (o.storage_class[0] && strcmp(o.storage_class, "STANDARD") != 0) {
        (void)resp_header(r, "x-amz-storage-class", o.storage_class);
    }
    if (o.tags) {
        size_t ntags = 1;
        for (const char *t = o.tags; *t; t++) {
            ntags += *t == '&';
        }
        (void)resp_headerf(r, "x-amz-tagging-count", "%zu", ntags);
    }
    if (o.ck_algo[0] && cv_str_eq_ci_c(req_header(r, "x-amz-checksum-mode"), "ENABLED") &&
        !ranged) {
        enum sigv4_checksum_algo a = sigv4_checksum_from_name(cv_str_c(o.ck_algo));
        if (a != SIGV4_CK_NONE) {
            (void)resp_header(r, sigv4_checksum_header(a), o.ck_value);
            (void)resp_header(r, "x-amz-checksum-type", o.nparts ? "COMPOSITE" : "FULL_OBJECT");
        }
    }
    if (ranged) {
        (void)resp_headerf(r, "Content-Range", "bytes %llu-%llu/%llu", (unsigned long long)off,
                           (unsigned long long)(off + len - 1), (unsigned long long)o.size);
    }
    for (i = 0; i < CV_ARRAY_LEN(overrides); i++) {
        const struct query_param *p = req_param(r, overrides[i][0]);
        if (p) {
            if (r->ident.kind == IDENT_ANONYMOUS) {
                resp_error(r, CV_S3_INVALID_REQUEST,
                           "Request specific response headers cannot be used for anonymous GET "
                           "requests.",
                           NULL);
                goto fail;
            }
            snprintf(tmp, sizeof(tmp), "%.*s", (int)CV_MIN(p->value.len, 120), p->value.ptr);
            set_header(r, overrides[i][1], tmp);
        }
    }
    /* Body. */
    r->resp.status = ranged && !pn ? 206 : (pn && o.nparts ? 206 : 200);
    r->resp.stream = true;
    r->resp.stream_off = off;
    r->resp.stream_len = len;
    if (!head && o.inline_body) {
        r->resp.segs = cv_arena_alloc(&r->arena, sizeof(*r->resp.segs));
        if (!r->resp.segs) {
            obj_row_release(&o);
            resp_error(r, CV_ENOMEM, NULL, NULL);
            return;
        }
        memset(r->resp.segs, 0, sizeof(*r->resp.segs));
        r->resp.segs[0].fd = -1;
        r->resp.segs[0].mem = o.body; /* ownership to the response */
        r->resp.segs[0].size = o.bodylen;
        r->resp.nsegs = 1;
        o.body = NULL;
    }
    obj_row_release(&o);
    return;
fail:
    close_segments(r->resp.segs, r->resp.nsegs);
    r->resp.nsegs = 0;
    r->resp.stream = false;
    obj_row_release(&o);
}

/* ------------------------------------------------------------- DELETE */

void s3_delete_object(struct store_req *r)
{
    struct obj_commit oc;
    const char *vid = NULL;
    cv_err err;

    if (!s3_version_param(r, &vid)) {
        return;
    }
    memset(&oc, 0, sizeof(oc));
    oc.arena = &r->arena;
    oc.bucket = r->bucket;
    oc.key = r->key;
    oc.mtime = r->now_ms;
    oc.version_id = vid;
    oc.bypass_governance = vid && r->bi->object_lock && s3_lock_bypass(r, r->key);
    err = db_write_objects(r->st->db, obj_delete_tx, &oc);
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    obj_commit_cleanup(r->st, &oc);
    if (oc.marker) {
        (void)resp_header(r, "x-amz-delete-marker", "true");
    }
    if (oc.vid[0] && (vid || r->bi->versioning != VS_OFF)) {
        (void)resp_header(r, "x-amz-version-id", oc.vid);
    }
    r->resp.status = 204;
}

/* --------------------------------------------------------------- COPY */

/* Parses x-amz-copy-source ("/bucket/key?versionId=null", URL-encoded). */
cv_err s3_copy_source(struct store_req *r, struct cv_str *bucket, struct cv_str *key,
                      const char **version)
{
    struct cv_str src = req_header(r, "x-amz-copy-source"), path, q, b, k;
    struct cv_buf dec = CV_BUF_INIT(8192);
    cv_err err;

    *version = NULL;
    src = cv_str_trim(src);
    cv_str_split(src, '?', &path, &q);
    if (q.len) {
        struct cv_str name, val;
        cv_str_split(q, '=', &name, &val);
        if (!cv_str_eq_c(name, "versionId") || !store_vid_valid(val)) {
            resp_error(r, CV_S3_INVALID_ARGUMENT, "Invalid version id specified", NULL);
            return CV_S3_INVALID_ARGUMENT;
        }
        *version = cv_arena_strndup(&r->arena, val.ptr, val.len);
        if (!*version) {
            resp_error(r, CV_ENOMEM, NULL, NULL);
            return CV_ENOMEM;
        }
    }
    err = cv_uri_decode(&dec, path, false);
    if (err) {
        cv_buf_release(&dec);
        resp_error(r, CV_S3_INVALID_ARGUMENT, "Invalid copy source encoding", NULL);
        return CV_S3_INVALID_ARGUMENT;
    }
    path.ptr = cv_arena_strndup(&r->arena, dec.ptr ? dec.ptr : "", dec.len);
    path.len = dec.len;
    cv_buf_release(&dec);
    if (!path.ptr) {
        resp_error(r, CV_ENOMEM, NULL, NULL);
        return CV_ENOMEM;
    }
    if (path.len && path.ptr[0] == '/') {
        path.ptr++;
        path.len--;
    }
    if (!cv_str_split(path, '/', &b, &k) || !b.len || !k.len) {
        resp_error(r, CV_S3_INVALID_ARGUMENT, "Copy Source must mention the source bucket and key: "
                                              "sourcebucket/sourcekey",
                   "ArgumentName", "x-amz-copy-source", NULL);
        return CV_S3_INVALID_ARGUMENT;
    }
    *bucket = b;
    *key = k;
    return CV_OK;
}

bool s3_copy_cond_failed(struct store_req *r, const char *etag, int64_t mtime_ms)
{
    struct cv_str im = req_header(r, "x-amz-copy-source-if-match");
    struct cv_str inm = req_header(r, "x-amz-copy-source-if-none-match");
    struct cv_str ims = req_header(r, "x-amz-copy-source-if-modified-since");
    struct cv_str ius = req_header(r, "x-amz-copy-source-if-unmodified-since");
    int64_t t, m = mtime_ms / 1000;

    if (im.ptr && !s3_etag_matches(im, etag)) {
        return true;
    }
    if (inm.ptr && s3_etag_matches(inm, etag)) {
        return true;
    }
    if (!im.ptr && ius.ptr && cv_time_parse_http(cv_str_trim(ius), &t) == CV_OK && m > t) {
        return true;
    }
    if (!inm.ptr && ims.ptr && cv_time_parse_http(cv_str_trim(ims), &t) == CV_OK && m <= t) {
        return true;
    }
    return false;
}

/* Streams [off, off+len) of a stored object into @p w, hashing MD5. */
cv_err s3_copy_data(struct store_req *r, int64_t id, bool inline_body, const void *body,
                    const char *file, int64_t nparts, uint64_t off, uint64_t len,
                    struct blob_writer *w, struct cv_md5 *md5)
{
    char buf[65536];
    cv_err err = CV_OK;

    if (inline_body) {
        cv_md5_update(md5, (const char *)body + off, (size_t)len);
        return blob_write(w, (const char *)body + off, (size_t)len);
    }
    if (nparts == 0) {
        int fd = -1;
        err = blob_open(r->st->data_dir, cv_str_c(file), &fd);
        while (!err && len) {
            size_t want = len < sizeof(buf) ? (size_t)len : sizeof(buf);
            ssize_t n = pread(fd, buf, want, (off_t)off);
            if (n <= 0) {
                err = CV_EIO;
                break;
            }
            cv_md5_update(md5, buf, (size_t)n);
            err = blob_write(w, buf, (size_t)n);
            off += (uint64_t)n;
            len -= (uint64_t)n;
        }
        if (fd >= 0) {
            close(fd);
        }
        return err;
    }
    {
        struct store_segment *segs = NULL;
        size_t n, i;
        err = load_segments(r, id, &segs, &n);
        for (i = 0; !err && i < n && len; i++) {
            uint64_t take;
            if (off >= segs[i].size) {
                off -= segs[i].size;
                continue;
            }
            take = CV_MIN(segs[i].size - off, len);
            err = s3_copy_data(r, 0, segs[i].mem != NULL, segs[i].mem, segs[i].file, 0, off, take,
                               w, md5);
            off = 0;
            len -= take;
        }
        close_segments(segs, n);
    }
    return err;
}

void s3_copy_object(struct store_req *r)
{
    struct cv_str sb, sk;
    struct bucket_info sbi;
    struct obj_row o;
    struct obj_commit oc;
    struct cv_buf meta = CV_BUF_INIT(64 * 1024), spol = CV_BUF_INIT(64 * 1024);
    struct cv_str directive = req_header(r, "x-amz-metadata-directive");
    struct cv_str sc = req_header(r, "x-amz-storage-class");
    struct blob_writer w;
    struct cv_md5 md5;
    uint8_t digest[CV_MD5_LEN];
    char etag[35], lm[25];
    bool replace = false, too_large;
    const char *acl = NULL, *svid = NULL;
    struct obj_lock lock;
    cv_err err;

    memset(&o, 0, sizeof(o));
    memset(&oc, 0, sizeof(oc));
    blob_writer_init(&w, r->st->data_dir, r->st->cfg.limits.inline_max);
    if (!s3_lock_for_put(r, &lock)) {
        goto out;
    }
    oc.lock = &lock;
    if (s3_copy_source(r, &sb, &sk, &svid)) {
        goto out;
    }
    if (directive.ptr) {
        if (cv_str_eq_c(directive, "REPLACE")) {
            replace = true;
        } else if (!cv_str_eq_c(directive, "COPY")) {
            resp_error(r, CV_S3_INVALID_ARGUMENT, "Unknown metadata directive.", NULL);
            goto out;
        }
    }
    err = s3_bucket_get(r, sb, &sbi, &spol);
    if (err) {
        resp_error(r, err, NULL, NULL);
        goto out;
    }
    if (!store_allowed_ex(r, "s3:GetObject", sb, sk, &sbi,
                          (struct cv_str){spol.ptr ? spol.ptr : "", spol.len}, false)) {
        resp_error(r, CV_S3_ACCESS_DENIED, NULL, NULL);
        goto out;
    }
    err = obj_load_version(r, sb, sk, svid, &o, true);
    if (!err && o.marker) {
        /* Copying a delete marker named by its version id (AWS: 400). */
        err = CV_S3_INVALID_REQUEST;
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        goto out;
    }
    if (s3_copy_cond_failed(r, o.etag, o.mtime)) {
        resp_error(r, CV_S3_PRECONDITION_FAILED, NULL, NULL);
        goto out;
    }
    if (cv_str_eq(sb, r->bucket) && cv_str_eq(sk, r->key) && !svid && !replace && !sc.ptr &&
        !req_has_header(r, "x-amz-server-side-encryption")) {
        resp_error(r, CV_S3_INVALID_REQUEST,
                   "This copy request is illegal because it is trying to copy an object to itself "
                   "without changing the object's metadata, storage class, website redirect "
                   "location or encryption attributes.",
                   NULL);
        goto out;
    }
    if (o.size > r->st->cfg.limits.max_put_bytes) {
        resp_error(r, CV_S3_INVALID_REQUEST,
                   "The specified copy source is larger than the maximum allowable size for a "
                   "copy source: 5368709120",
                   NULL);
        goto out;
    }
    if (s3_acl_for_write(r, r->bi, &acl)) {
        goto out;
    }
    cv_md5_init(&md5);
    err = s3_copy_data(r, o.id, o.inline_body, o.body, o.file, o.nparts, 0, o.size, &w, &md5);
    if (!err) {
        err = blob_finish(&w);
    }
    if (err) {
        resp_error(r, err == CV_ENOENT ? CV_S3_NO_SUCH_KEY : err, NULL, NULL);
        goto out;
    }
    cv_md5_final(&md5, digest);
    s3_etag_from_md5(digest, etag);
    if (replace) {
        err = meta_collect(r, &meta, &too_large);
        if (err) {
            resp_error(r, err, NULL, NULL);
            goto out;
        }
        oc.meta = meta.ptr;
        oc.metalen = meta.len;
    } else {
        oc.meta = o.meta;
        oc.metalen = o.metalen;
    }
    oc.arena = &r->arena;
    oc.bucket = r->bucket;
    oc.key = r->key;
    oc.size = o.size;
    oc.etag = etag;
    oc.mtime = r->now_ms;
    if (blob_is_file(&w)) {
        oc.file = w.id;
    } else {
        oc.body = w.mem.ptr ? w.mem.ptr : "";
        oc.bodylen = w.mem.len;
    }
    if (o.ck_algo[0] && o.nparts == 0) {
        oc.ck_algo = o.ck_algo;
        oc.ck_value = o.ck_value;
    }
    oc.storage_class = sc.ptr ? arena_cstr(r, sc) : (o.storage_class[0] ? o.storage_class : NULL);
    oc.acl = acl;
    oc.tags = cv_str_eq_c(req_header(r, "x-amz-tagging-directive"), "REPLACE") ? request_tags(r)
                                                                               : o.tags;
    err = db_write_objects(r->st->db, obj_commit_tx, &oc);
    if (err) {
        resp_error(r, err, NULL, NULL);
        goto out;
    }
    w.id[0] = '\0'; /* committed */
    obj_commit_cleanup(r->st, &oc);
    if (oc.vid[0] && strcmp(oc.vid, "null") != 0) {
        (void)resp_header(r, "x-amz-version-id", oc.vid);
    }
    if (svid || (sbi.versioning != VS_OFF)) {
        (void)resp_header(r, "x-amz-copy-source-version-id", o.vid);
    }
    cv_time_iso8601_ms(r->now_ms, lm);
    err = xml_begin(&r->resp.body, "CopyObjectResult");
    if (!err) {
        err = xml_elemc(&r->resp.body, "LastModified", lm);
    }
    if (!err) {
        err = xml_elemc(&r->resp.body, "ETag", etag);
    }
    if (!err) {
        err = xml_end(&r->resp.body, "CopyObjectResult");
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        goto out;
    }
    r->resp.status = 200;
    r->resp.content_type = "application/xml";
out:
    blob_writer_abort(&w);
    obj_row_release(&o);
    cv_buf_release(&meta);
    cv_buf_release(&spol);
}

/* ---------------------------------------------------------------- ACL */

void s3_get_object_acl(struct store_req *r)
{
    struct acl *a = cv_arena_alloc(&r->arena, sizeof(*a));
    bool found = false;
    cv_err err = a ? s3_acl_load(r->st, r->bucket, &r->key, r->bi, a, &found) : CV_ENOMEM;

    if (!err && !found) {
        err = CV_S3_NO_SUCH_KEY;
    }
    if (!err) {
        err = s3_acl_xml(r, a, &r->resp.body);
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 200;
    r->resp.content_type = "application/xml";
}

struct obj_acl_job {
    int64_t id;
    const char *acl; /* stored form, or NULL (the bucket owner's private) */
};

static cv_err set_obj_acl_tx(struct db_conn *c, void *arg)
{
    struct obj_acl_job *j = arg;
    sqlite3_stmt *s = db_stmt(c, STMT_OBJ_SET_ACL);

    sqlite3_bind_int64(s, 1, j->id);
    if (j->acl) {
        sqlite3_bind_text(s, 2, j->acl, -1, SQLITE_STATIC);
    }
    if (sqlite3_step(s) != SQLITE_DONE) {
        return CV_EDB;
    }
    return sqlite3_changes(c->h) ? CV_OK : CV_S3_NO_SUCH_KEY;
}

void s3_put_object_acl(struct store_req *r)
{
    struct obj_row o;
    struct obj_acl_job j = {0, NULL};
    struct acl *cur = cv_arena_alloc(&r->arena, sizeof(*cur)), *a = NULL;
    struct acl_req q;
    bool found = false;
    cv_err err = obj_load(r, r->bucket, r->key, &o, false);

    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    obj_row_release(&o);
    j.id = o.id;
    /* The owner stays; the ACL is replaced. */
    err = cur ? s3_acl_load(r->st, r->bucket, &r->key, r->bi, cur, &found) : CV_ENOMEM;
    if (!err && !found) {
        err = CV_S3_NO_SUCH_KEY;
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    q.bi = r->bi;
    q.owner_account = cur->owner;
    q.bucket = false;
    q.body = true;
    q.enforced_err = CV_S3_ACL_NOT_SUPPORTED;
    if (s3_acl_from_request(r, &q, &a)) {
        return; /* response set */
    }
    if (!a) {
        resp_error(r, CV_S3_MALFORMED_ACL,
                   "You must specify an ACL: a canned ACL header, grant headers or an "
                   "AccessControlPolicy document.",
                   NULL);
        return;
    }
    if (!s3_acl_enforced(r->bi)) {
        err = s3_acl_stored(r, a, &j.acl);
    }
    if (!err) {
        err = db_write(r->st->db, set_obj_acl_tx, &j);
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 200;
}

void s3_get_object_tagging(struct store_req *r)
{
    struct obj_row o;
    cv_err err = obj_load(r, r->bucket, r->key, &o, false);

    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    obj_row_release(&o);
    err = tags_write_xml(&r->arena, cv_str_c(o.tags ? o.tags : ""), &r->resp.body);
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 200;
    r->resp.content_type = "application/xml";
}

struct tags_job {
    struct cv_str bucket, key;
    const char *tags; /* NULL: delete */
};

static cv_err set_tags_tx(struct db_conn *c, void *arg)
{
    struct tags_job *j = arg;
    sqlite3_stmt *s = db_stmt(c, STMT_OBJ_TAGS);
    int64_t id;

    db_bind_str(s, 1, j->bucket);
    db_bind_str(s, 2, j->key);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return CV_S3_NO_SUCH_KEY;
    }
    id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    s = db_stmt(c, STMT_OBJ_SET_TAGS);
    sqlite3_bind_int64(s, 1, id);
    if (j->tags && j->tags[0]) {
        sqlite3_bind_text(s, 2, j->tags, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(s, 2);
    }
    return sqlite3_step(s) == SQLITE_DONE ? CV_OK : CV_EDB;
}

void s3_put_object_tagging(struct store_req *r)
{
    struct tag_set ts;
    struct tags_job j = {r->bucket, r->key, NULL};
    struct cv_buf enc = CV_BUF_INIT(8192);
    char msg[160] = "";
    cv_err err;

    err = tags_parse_xml(&r->arena, r->xml.ptr ? r->xml.ptr : "", r->xml.len, &ts, msg,
                         sizeof(msg));
    if (err) {
        resp_error(r, err, msg[0] ? msg : NULL, NULL);
        return;
    }
    /* The new tags are condition keys of this decision (IAM.md §3). */
    r->authz_request_tags = &ts;
    if (!store_authorize(r, "s3:PutObjectTagging", r->bucket, r->key, r->bi)) {
        return;
    }
    err = tags_encode(&ts, &enc);
    j.tags = enc.ptr;
    if (!err) {
        err = db_write(r->st->db, set_tags_tx, &j);
    }
    cv_buf_release(&enc);
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 200;
}

void s3_delete_object_tagging(struct store_req *r)
{
    struct tags_job j = {r->bucket, r->key, NULL};
    cv_err err = db_write(r->st->db, set_tags_tx, &j);

    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 204;
}
