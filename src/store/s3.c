/*
 * The S3 layer: which operation a request is, what it needs before its body
 * is read (bucket, permission, limits), and the helpers the operations share.
 */
#include "store_int.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct op_info {
    const char *name;
    const char *action; /* IAM action checked before the body (NULL: the handler decides) */
    bool object;        /* action on the object ARN (else the bucket ARN) */
    bool needs_bucket;  /* the bucket must exist */
    enum body_kind body;
};

static const struct op_info ops[OP__COUNT] = {
    [OP_UNKNOWN] = {"Unknown", NULL, false, false, BODY_NONE},
    [OP_LIST_BUCKETS] = {"ListBuckets", NULL, false, false, BODY_NONE}, /* in the handler */
    [OP_CREATE_BUCKET] = {"CreateBucket", "s3:CreateBucket", false, false, BODY_XML},
    [OP_HEAD_BUCKET] = {"HeadBucket", "s3:ListBucket", false, true, BODY_NONE},
    [OP_DELETE_BUCKET] = {"DeleteBucket", "s3:DeleteBucket", false, true, BODY_NONE},
    [OP_GET_BUCKET_LOCATION] = {"GetBucketLocation", "s3:GetBucketLocation", false, true,
                                BODY_NONE},
    [OP_GET_BUCKET_VERSIONING] = {"GetBucketVersioning", "s3:GetBucketVersioning", false, true,
                                  BODY_NONE},
    [OP_PUT_BUCKET_VERSIONING] = {"PutBucketVersioning", "s3:PutBucketVersioning", false, true,
                                  BODY_XML},
    [OP_LIST_OBJECTS] = {"ListObjects", "s3:ListBucket", false, true, BODY_NONE},
    [OP_LIST_OBJECTS_V2] = {"ListObjectsV2", "s3:ListBucket", false, true, BODY_NONE},
    [OP_LIST_OBJECT_VERSIONS] = {"ListObjectVersions", "s3:ListBucketVersions", false, true,
                                 BODY_NONE},
    [OP_DELETE_OBJECTS] = {"DeleteObjects", NULL, false, true, BODY_XML},
    [OP_GET_BUCKET_POLICY] = {"GetBucketPolicy", "s3:GetBucketPolicy", false, true, BODY_NONE},
    [OP_PUT_BUCKET_POLICY] = {"PutBucketPolicy", "s3:PutBucketPolicy", false, true, BODY_XML},
    [OP_DELETE_BUCKET_POLICY] = {"DeleteBucketPolicy", "s3:DeleteBucketPolicy", false, true,
                                 BODY_NONE},
    [OP_GET_BUCKET_ACL] = {"GetBucketAcl", "s3:GetBucketAcl", false, true, BODY_NONE},
    [OP_PUT_BUCKET_ACL] = {"PutBucketAcl", "s3:PutBucketAcl", false, true, BODY_XML},
    [OP_LIST_MULTIPART_UPLOADS] = {"ListMultipartUploads", "s3:ListBucketMultipartUploads", false,
                                   true, BODY_NONE},
    [OP_GET_BUCKET_OWNERSHIP] = {"GetBucketOwnershipControls", "s3:GetBucketOwnershipControls",
                                 false, true, BODY_NONE},
    [OP_PUT_BUCKET_OWNERSHIP] = {"PutBucketOwnershipControls", "s3:PutBucketOwnershipControls",
                                 false, true, BODY_XML},
    /* AWS asks for s3:PutBucketOwnershipControls to delete them too. */
    [OP_DELETE_BUCKET_OWNERSHIP] = {"DeleteBucketOwnershipControls",
                                    "s3:PutBucketOwnershipControls", false, true, BODY_NONE},
    [OP_PUT_OBJECT] = {"PutObject", "s3:PutObject", true, true, BODY_OBJECT},
    [OP_GET_OBJECT] = {"GetObject", "s3:GetObject", true, true, BODY_NONE},
    [OP_HEAD_OBJECT] = {"HeadObject", "s3:GetObject", true, true, BODY_NONE},
    [OP_DELETE_OBJECT] = {"DeleteObject", "s3:DeleteObject", true, true, BODY_NONE},
    [OP_COPY_OBJECT] = {"CopyObject", "s3:PutObject", true, true, BODY_NONE},
    [OP_GET_OBJECT_ACL] = {"GetObjectAcl", "s3:GetObjectAcl", true, true, BODY_NONE},
    [OP_PUT_OBJECT_ACL] = {"PutObjectAcl", "s3:PutObjectAcl", true, true, BODY_XML},
    [OP_GET_OBJECT_TAGGING] = {"GetObjectTagging", "s3:GetObjectTagging", true, true, BODY_NONE},
    /* The tags in the body are condition keys: decided once the body is in. */
    [OP_PUT_OBJECT_TAGGING] = {"PutObjectTagging", NULL, true, true, BODY_XML},
    [OP_DELETE_OBJECT_TAGGING] = {"DeleteObjectTagging", "s3:DeleteObjectTagging", true, true,
                                  BODY_NONE},
    [OP_CREATE_MULTIPART] = {"CreateMultipartUpload", "s3:PutObject", true, true, BODY_NONE},
    [OP_UPLOAD_PART] = {"UploadPart", "s3:PutObject", true, true, BODY_OBJECT},
    [OP_UPLOAD_PART_COPY] = {"UploadPartCopy", "s3:PutObject", true, true, BODY_NONE},
    [OP_COMPLETE_MULTIPART] = {"CompleteMultipartUpload", "s3:PutObject", true, true, BODY_XML},
    /* The initiator's default permission needs the upload: decided in the handler. */
    [OP_ABORT_MULTIPART] = {"AbortMultipartUpload", NULL, true, true, BODY_NONE},
    [OP_LIST_PARTS] = {"ListParts", NULL, true, true, BODY_NONE},
    [OP_IAM_QUERY] = {"IamQuery", NULL, false, false, BODY_FORM},
    [OP_GET_BUCKET_CORS] = {"GetBucketCors", "s3:GetBucketCORS", false, true, BODY_NONE},
    [OP_PUT_BUCKET_CORS] = {"PutBucketCors", "s3:PutBucketCORS", false, true, BODY_XML},
    [OP_DELETE_BUCKET_CORS] = {"DeleteBucketCors", "s3:PutBucketCORS", false, true, BODY_NONE},
    [OP_CORS_PREFLIGHT] = {"PreflightRequest", NULL, false, true, BODY_NONE},
    /* Needs s3:GetObject (here) and s3:GetObjectAttributes (the handler). */
    [OP_GET_OBJECT_ATTRIBUTES] = {"GetObjectAttributes", "s3:GetObject", true, true, BODY_NONE},
    /* Authenticated and authorized from the form, when the file part begins. */
    [OP_POST_OBJECT] = {"PostObject", NULL, false, true, BODY_POST},
    [OP_GET_BUCKET_TAGGING] = {"GetBucketTagging", "s3:GetBucketTagging", false, true, BODY_NONE},
    [OP_PUT_BUCKET_TAGGING] = {"PutBucketTagging", "s3:PutBucketTagging", false, true, BODY_XML},
    [OP_DELETE_BUCKET_TAGGING] = {"DeleteBucketTagging", "s3:PutBucketTagging", false, true,
                                  BODY_NONE},
    [OP_GET_BUCKET_PAB] = {"GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock", false, true,
                           BODY_NONE},
    [OP_PUT_BUCKET_PAB] = {"PutPublicAccessBlock", "s3:PutBucketPublicAccessBlock", false, true,
                           BODY_XML},
    /* AWS asks for s3:PutBucketPublicAccessBlock to delete it too. */
    [OP_DELETE_BUCKET_PAB] = {"DeletePublicAccessBlock", "s3:PutBucketPublicAccessBlock", false,
                              true, BODY_NONE},
    [OP_GET_BUCKET_POLICY_STATUS] = {"GetBucketPolicyStatus", "s3:GetBucketPolicyStatus", false,
                                     true, BODY_NONE},
    [OP_GET_OBJECT_LOCK_CONFIG] = {"GetObjectLockConfiguration",
                                   "s3:GetBucketObjectLockConfiguration", false, true, BODY_NONE},
    [OP_PUT_OBJECT_LOCK_CONFIG] = {"PutObjectLockConfiguration",
                                   "s3:PutBucketObjectLockConfiguration", false, true, BODY_XML},
    [OP_GET_OBJECT_RETENTION] = {"GetObjectRetention", "s3:GetObjectRetention", true, true,
                                 BODY_NONE},
    [OP_PUT_OBJECT_RETENTION] = {"PutObjectRetention", "s3:PutObjectRetention", true, true,
                                 BODY_XML},
    [OP_GET_OBJECT_LEGAL_HOLD] = {"GetObjectLegalHold", "s3:GetObjectLegalHold", true, true,
                                  BODY_NONE},
    [OP_PUT_OBJECT_LEGAL_HOLD] = {"PutObjectLegalHold", "s3:PutObjectLegalHold", true, true,
                                  BODY_XML},
};

const char *s3_op_name(int op)
{
    if (op < 0 || op >= OP__COUNT || !ops[op].name) {
        return "Unknown";
    }
    return ops[op].name;
}

enum body_kind s3_body_kind(int op)
{
    return op > 0 && op < OP__COUNT ? ops[op].body : BODY_NONE;
}

/* Bucket sub-resources we know but do not implement: NotImplemented, clearly. */
static const char *const unsupported_subresources[] = {
    "accelerate", "analytics",  "encryption", "intelligent-tiering",
    "inventory",  "lifecycle", "logging",  "metrics",    "notification",
    "replication", "requestPayment", "restore",
    "select",  "torrent",    "website",
    "tagging",    "policyStatus", "ownershipControls",
};

static bool has_unsupported(const struct store_req *r)
{
    size_t i;

    for (i = 0; i < CV_ARRAY_LEN(unsupported_subresources); i++) {
        if (req_has_param(r, unsupported_subresources[i])) {
            return true;
        }
    }
    return false;
}

int s3_route(struct store_req *r)
{
    struct cv_str m = r->method;
    bool get = cv_str_eq_c(m, "GET"), put = cv_str_eq_c(m, "PUT");
    bool head = cv_str_eq_c(m, "HEAD"), del = cv_str_eq_c(m, "DELETE");
    bool post = cv_str_eq_c(m, "POST");

    if (r->bucket.len && cv_str_eq_c(m, "OPTIONS")) {
        return OP_CORS_PREFLIGHT;
    }
    if (!r->bucket.len) {
        if (get || head) {
            return OP_LIST_BUCKETS;
        }
        if (post) {
            return OP_IAM_QUERY;
        }
        return OP_UNKNOWN;
    }
    if (!r->has_key) {
        if (req_has_param(r, "tagging") && (get || put || del)) {
            return get ? OP_GET_BUCKET_TAGGING : put ? OP_PUT_BUCKET_TAGGING
                                                     : OP_DELETE_BUCKET_TAGGING;
        }
        if (req_has_param(r, "object-lock") && (get || put)) {
            return get ? OP_GET_OBJECT_LOCK_CONFIG : OP_PUT_OBJECT_LOCK_CONFIG;
        }
        if (req_has_param(r, "cors") && (get || put || del)) {
            return get ? OP_GET_BUCKET_CORS : put ? OP_PUT_BUCKET_CORS : OP_DELETE_BUCKET_CORS;
        }
        if (req_has_param(r, "publicAccessBlock") && (get || put || del)) {
            return get ? OP_GET_BUCKET_PAB : put ? OP_PUT_BUCKET_PAB : OP_DELETE_BUCKET_PAB;
        }
        if (req_has_param(r, "policyStatus") && get) {
            return OP_GET_BUCKET_POLICY_STATUS;
        }
        if (put) {
            if (req_has_param(r, "policy")) {
                return OP_PUT_BUCKET_POLICY;
            }
            if (req_has_param(r, "acl")) {
                return OP_PUT_BUCKET_ACL;
            }
            if (req_has_param(r, "versioning")) {
                return OP_PUT_BUCKET_VERSIONING;
            }
            if (req_has_param(r, "ownershipControls")) {
                return OP_PUT_BUCKET_OWNERSHIP;
            }
            if (has_unsupported(r)) {
                return OP_UNKNOWN;
            }
            return OP_CREATE_BUCKET;
        }
        if (get || head) {
            if (head) {
                return OP_HEAD_BUCKET;
            }
            if (req_has_param(r, "policy")) {
                return OP_GET_BUCKET_POLICY;
            }
            if (req_has_param(r, "location")) {
                return OP_GET_BUCKET_LOCATION;
            }
            if (req_has_param(r, "versioning")) {
                return OP_GET_BUCKET_VERSIONING;
            }
            if (req_has_param(r, "acl")) {
                return OP_GET_BUCKET_ACL;
            }
            if (req_has_param(r, "uploads")) {
                return OP_LIST_MULTIPART_UPLOADS;
            }
            if (req_has_param(r, "versions")) {
                return OP_LIST_OBJECT_VERSIONS;
            }
            if (req_has_param(r, "ownershipControls")) {
                return OP_GET_BUCKET_OWNERSHIP;
            }
            if (has_unsupported(r)) {
                return OP_UNKNOWN;
            }
            {
                const struct query_param *lt = req_param(r, "list-type");
                if (lt && cv_str_eq_c(lt->value, "2")) {
                    return OP_LIST_OBJECTS_V2;
                }
            }
            return OP_LIST_OBJECTS;
        }
        if (del) {
            if (req_has_param(r, "policy")) {
                return OP_DELETE_BUCKET_POLICY;
            }
            if (req_has_param(r, "ownershipControls")) {
                return OP_DELETE_BUCKET_OWNERSHIP;
            }
            if (has_unsupported(r)) {
                return OP_UNKNOWN;
            }
            return OP_DELETE_BUCKET;
        }
        if (post && req_has_param(r, "delete")) {
            return OP_DELETE_OBJECTS;
        }
        if (post && !r->nparams) {
            return OP_POST_OBJECT;
        }
        return OP_UNKNOWN;
    }
    /* Object level. */
    if (put) {
        if (req_has_param(r, "uploadId") || req_has_param(r, "partNumber")) {
            return req_has_header(r, "x-amz-copy-source") ? OP_UPLOAD_PART_COPY : OP_UPLOAD_PART;
        }
        if (req_has_param(r, "acl")) {
            return OP_PUT_OBJECT_ACL;
        }
        if (req_has_param(r, "tagging")) {
            return OP_PUT_OBJECT_TAGGING;
        }
        if (req_has_param(r, "retention")) {
            return OP_PUT_OBJECT_RETENTION;
        }
        if (req_has_param(r, "legal-hold")) {
            return OP_PUT_OBJECT_LEGAL_HOLD;
        }
        if (has_unsupported(r)) {
            return OP_UNKNOWN;
        }
        return req_has_header(r, "x-amz-copy-source") ? OP_COPY_OBJECT : OP_PUT_OBJECT;
    }
    if (get) {
        if (req_has_param(r, "uploadId")) {
            return OP_LIST_PARTS;
        }
        if (req_has_param(r, "acl")) {
            return OP_GET_OBJECT_ACL;
        }
        if (req_has_param(r, "tagging")) {
            return OP_GET_OBJECT_TAGGING;
        }
        if (req_has_param(r, "attributes")) {
            return OP_GET_OBJECT_ATTRIBUTES;
        }
        if (req_has_param(r, "retention")) {
            return OP_GET_OBJECT_RETENTION;
        }
        if (req_has_param(r, "legal-hold")) {
            return OP_GET_OBJECT_LEGAL_HOLD;
        }
        if (has_unsupported(r)) {
            return OP_UNKNOWN;
        }
        return OP_GET_OBJECT;
    }
    if (head) {
        return OP_HEAD_OBJECT;
    }
    if (del) {
        if (req_has_param(r, "uploadId")) {
            return OP_ABORT_MULTIPART;
        }
        if (req_has_param(r, "tagging")) {
            return OP_DELETE_OBJECT_TAGGING;
        }
        if (has_unsupported(r)) {
            return OP_UNKNOWN;
        }
        return OP_DELETE_OBJECT;
    }
    if (post) {
        if (req_has_param(r, "uploads")) {
            return OP_CREATE_MULTIPART;
        }
        if (req_has_param(r, "uploadId")) {
            return OP_COMPLETE_MULTIPART;
        }
    }
    return OP_UNKNOWN;
}

/* ------------------------------------------------------------ buckets */

bool s3_bucket_name_valid(struct cv_str n)
{
    size_t i;
    unsigned dots = 0;
    bool all_digits_dots = true;

    if (n.len < 3 || n.len > 63) {
        return false;
    }
    for (i = 0; i < n.len; i++) {
        char c = n.ptr[i];
        bool lower = c >= 'a' && c <= 'z', digit = c >= '0' && c <= '9';
        if (!lower && !digit && c != '.' && c != '-') {
            return false;
        }
        if (c == '.') {
            dots++;
            if (i > 0 && n.ptr[i - 1] == '.') {
                return false;
            }
        }
        if (!digit && c != '.') {
            all_digits_dots = false;
        }
    }
    if (!((n.ptr[0] >= 'a' && n.ptr[0] <= 'z') || (n.ptr[0] >= '0' && n.ptr[0] <= '9'))) {
        return false;
    }
    {
        char e = n.ptr[n.len - 1];
        if (!((e >= 'a' && e <= 'z') || (e >= '0' && e <= '9'))) {
            return false;
        }
    }
    if (all_digits_dots && dots == 3) {
        return false; /* looks like an IPv4 address */
    }
    if (cv_str_starts_with(n, "xn--") || cv_str_starts_with(n, "sthree-")) {
        return false;
    }
    if ((n.len >= 8 && memcmp(n.ptr + n.len - 8, "-s3alias", 8) == 0) ||
        (n.len >= 7 && memcmp(n.ptr + n.len - 7, "--ol-s3", 7) == 0)) {
        return false;
    }
    return true;
}

/*
 * The bucket-row cache. Nearly every request reads its bucket's row (owner,
 * ownership, policy, versioning); reading it from SQLite costs a read
 * transaction, and after each commit the reader's page cache is stale, so
 * under a stream of PUTs every request paid for page reads and file locks.
 * Entries are tagged with db_meta_gen() read *before* the database read;
 * the writer bumps it after any commit that may change bucket metadata (all
 * but the object writes), so an entry is used only while no such commit has
 * happened since it was read. Misses (no such bucket) are cached the same way.
 */
#define BCACHE_SLOTS 64

struct bcache_entry {
    char name[64]; /* bucket names are at most 63 bytes */
    size_t len;
    bool used, found;
    uint64_t gen;
    struct bucket_info bi;
    char *policy; /* NULL when the bucket has none */
    size_t policy_len;
};

struct bucket_cache {
    pthread_mutex_t mu;
    struct bcache_entry e[BCACHE_SLOTS];
};

cv_err store_bucket_cache_init(struct store *st)
{
    st->buckets = cv_calloc(1, sizeof(*st->buckets));
    if (!st->buckets) {
        return CV_ENOMEM;
    }
    pthread_mutex_init(&st->buckets->mu, NULL);
    return CV_OK;
}

void store_bucket_cache_free(struct store *st)
{
    size_t i;

    if (!st->buckets) {
        return;
    }
    for (i = 0; i < BCACHE_SLOTS; i++) {
        cv_free(st->buckets->e[i].policy);
    }
    pthread_mutex_destroy(&st->buckets->mu);
    cv_free(st->buckets);
    st->buckets = NULL;
}

static size_t bcache_slot(struct cv_str name)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    size_t i;

    for (i = 0; i < name.len; i++) {
        h = (h ^ (uint8_t)name.ptr[i]) * 1099511628211ull;
    }
    return (size_t)(h % BCACHE_SLOTS);
}

/* 1 hit (found), 0 hit (no such bucket), -1 miss. */
static int bcache_get(struct store *st, struct cv_str name, struct bucket_info *bi,
                      struct cv_buf *policy, cv_err *err)
{
    struct bucket_cache *bc = st->buckets;
    struct bcache_entry *e;
    int ret = -1;

    if (!bc || name.len >= sizeof(e->name)) {
        return -1;
    }
    e = &bc->e[bcache_slot(name)];
    pthread_mutex_lock(&bc->mu);
    if (e->used && e->gen == db_meta_gen(st->db) && e->len == name.len &&
        memcmp(e->name, name.ptr, name.len) == 0) {
        ret = e->found ? 1 : 0;
        *err = CV_OK;
        if (e->found) {
            *bi = e->bi;
            if (policy && e->policy) {
                *err = cv_buf_add(policy, e->policy, e->policy_len);
            }
        }
    }
    pthread_mutex_unlock(&bc->mu);
    return ret;
}

static void bcache_put(struct store *st, struct cv_str name, uint64_t gen, bool found,
                       const struct bucket_info *bi, struct cv_str pol)
{
    struct bucket_cache *bc = st->buckets;
    struct bcache_entry *e;
    char *copy = NULL;

    if (!bc || name.len >= sizeof(e->name)) {
        return;
    }
    if (found && pol.ptr) {
        copy = cv_malloc(pol.len ? pol.len : 1);
        if (!copy) {
            return;
        }
        memcpy(copy, pol.ptr, pol.len);
    }
    e = &bc->e[bcache_slot(name)];
    pthread_mutex_lock(&bc->mu);
    cv_free(e->policy);
    memcpy(e->name, name.ptr, name.len);
    e->len = name.len;
    e->used = true;
    e->found = found;
    e->gen = gen;
    if (found) {
        e->bi = *bi;
    }
    e->policy = copy;
    e->policy_len = copy ? pol.len : 0;
    pthread_mutex_unlock(&bc->mu);
}

cv_err s3_bucket_get(struct store_req *r, struct cv_str name, struct bucket_info *bi,
                     struct cv_buf *policy)
{
    struct db_conn *c;
    sqlite3_stmt *s;
    cv_err err = CV_S3_NO_SUCH_BUCKET;
    uint64_t gen;
    int rc, hit = bcache_get(r->st, name, bi, policy, &err);

    if (hit >= 0) {
        return hit ? err : CV_S3_NO_SUCH_BUCKET;
    }
    gen = db_meta_gen(r->st->db); /* before the read: see above */
    c = db_reader(r->st->db);
    if (!c) {
        return CV_ENOMEM;
    }
    err = CV_S3_NO_SUCH_BUCKET;
    s = db_stmt(c, STMT_BUCKET_GET);
    if (!s) {
        err = CV_EDB;
        goto out;
    }
    db_bind_str(s, 1, name);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        struct cv_str acct = db_col_str(s, 0), pol = db_col_str(s, 2);
        struct cv_str own = db_col_str(s, 3), reg = db_col_str(s, 4);
        memset(bi, 0, sizeof(*bi));
        snprintf(bi->account, sizeof(bi->account), "%.*s", (int)acct.len, acct.ptr);
        bi->created = sqlite3_column_int64(s, 1);
        snprintf(bi->ownership, sizeof(bi->ownership), "%.*s", (int)own.len, own.ptr);
        snprintf(bi->region, sizeof(bi->region), "%.*s", (int)reg.len, reg.ptr);
        bi->has_policy = pol.ptr != NULL;
        bi->policy_lockout = sqlite3_column_int(s, 5) != 0;
        bi->versioning = store_vstate(db_col_str(s, 6));
        bi->has_pab = sqlite3_column_type(s, 7) != SQLITE_NULL;
        bi->pab = bi->has_pab ? (unsigned)sqlite3_column_int(s, 7) & PAB_ALL : 0;
        bi->object_lock = sqlite3_column_int(s, 8) != 0;
        err = CV_OK;
        if (policy && pol.ptr) {
            err = cv_buf_add(policy, pol.ptr, pol.len);
        }
        if (!err) {
            bcache_put(r->st, name, gen, true, bi, pol);
        }
    } else if (rc == SQLITE_DONE) {
        bcache_put(r->st, name, gen, false, NULL, CV_STR_NULL);
    }
out:
    db_reader_done(r->st->db, c);
    return err;
}

/* ------------------------------------------------------------ prechecks */

bool s3_canned_acl_valid(struct cv_str acl)
{
    static const char *const names[] = {"private",
                                        "public-read",
                                        "public-read-write",
                                        "authenticated-read",
                                        "aws-exec-read",
                                        "bucket-owner-read",
                                        "bucket-owner-full-control",
                                        "log-delivery-write"};
    size_t i;

    for (i = 0; i < CV_ARRAY_LEN(names); i++) {
        if (cv_str_eq_c(acl, names[i])) {
            return true;
        }
    }
    return false;
}

/* Object writes that carry an ACL also need s3:PutObjectAcl (IAM.md §3). */
static bool sends_acl(const struct store_req *r)
{
    return req_has_header(r, "x-amz-acl") || s3_has_grant_headers(r);
}

/* Operations on an existing object whose tags are condition keys. */
static bool uses_existing_tags(int op)
{
    return op == OP_GET_OBJECT || op == OP_HEAD_OBJECT || op == OP_GET_OBJECT_ACL ||
           op == OP_PUT_OBJECT_ACL || op == OP_GET_OBJECT_TAGGING ||
           op == OP_PUT_OBJECT_TAGGING || op == OP_DELETE_OBJECT_TAGGING;
}

/*
 * s3:RequestObjectTag/KEY come from x-amz-tagging; s3:ExistingObjectTag/KEY from
 * the stored object, loaded only when a policy could look at them (a bucket
 * policy, or an IAM user's policies).
 */
static bool tags_for_authz(struct store_req *r)
{
    struct cv_str hdr = req_header(r, "x-amz-tagging");
    char msg[160] = "";

    if (hdr.ptr && (r->op == OP_PUT_OBJECT || r->op == OP_CREATE_MULTIPART ||
                    r->op == OP_COPY_OBJECT)) {
        struct tag_set *ts = cv_arena_alloc(&r->arena, sizeof(*ts));
        cv_err err = ts ? tags_parse_query(&r->arena, hdr, ts, msg, sizeof(msg)) : CV_ENOMEM;
        if (err) {
            resp_error(r, err, msg[0] ? msg : NULL, NULL);
            return false;
        }
        r->authz_request_tags = ts;
    }
    if (uses_existing_tags(r->op) && r->bi &&
        (r->bi->has_policy || r->ident.kind == IDENT_USER)) {
        struct db_conn *c = db_reader(r->st->db);
        sqlite3_stmt *s = c ? db_stmt(c, STMT_OBJ_TAGS) : NULL;
        if (s) {
            db_bind_str(s, 1, r->bucket);
            db_bind_str(s, 2, r->key);
            if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 1)) {
                struct tag_set *ts = cv_arena_alloc(&r->arena, sizeof(*ts));
                struct cv_str stored = db_col_str(s, 1);
                struct cv_str copy = {cv_arena_strndup(&r->arena, stored.ptr, stored.len),
                                      stored.len};
                if (ts && copy.ptr &&
                    tags_parse_query(&r->arena, copy, ts, msg, sizeof(msg)) == CV_OK) {
                    r->authz_existing_tags = ts;
                }
            }
        }
        db_reader_done(r->st->db, c);
    }
    return true;
}

/* The key as a C string in the arena ("" if out of memory). */
static const char *arena_key(struct store_req *r)
{
    const char *k = cv_arena_strndup(&r->arena, r->key.ptr, r->key.len);

    return k ? k : "";
}

/*
 * GetObject/HeadObject of a missing key in a bucket with ACLs on: no object
 * ACL can grant it, so, as AWS, callers who may list the bucket learn 404
 * (the same answer the handler gives when a policy allowed the read).
 */
static bool missing_key_listable(struct store_req *r)
{
    struct db_conn *c;
    sqlite3_stmt *s;
    bool missing = false;

    if ((r->op != OP_GET_OBJECT && r->op != OP_HEAD_OBJECT) || !r->bi || s3_acl_enforced(r->bi)) {
        return false;
    }
    c = db_reader(r->st->db);
    s = c ? db_stmt(c, STMT_OBJ_HEAD_ID) : NULL;
    if (s) {
        db_bind_str(s, 1, r->bucket);
        db_bind_str(s, 2, r->key);
        missing = sqlite3_step(s) == SQLITE_DONE;
    }
    db_reader_done(r->st->db, c);
    return missing && s3_may_list_key(r);
}

bool s3_may_list_key(struct store_req *r)
{
    bool may_list;

    r->authz_prefix = r->key;
    may_list = store_allowed(r, "s3:ListBucket", r->bucket, CV_STR_NULL, r->bi);
    r->authz_prefix = CV_STR_NULL;
    return may_list;
}

/* The IAM action of the request: a versionId names the *Version actions (AWS). */
static const char *op_action(const struct store_req *r, const struct op_info *oi)
{
    if (!req_has_param(r, "versionId")) {
        return oi->action;
    }
    switch (r->op) {
    case OP_GET_OBJECT:
    case OP_HEAD_OBJECT:
    case OP_GET_OBJECT_ATTRIBUTES: /* + s3:GetObjectVersionAttributes in the handler */
        return "s3:GetObjectVersion";
    case OP_DELETE_OBJECT:
        return "s3:DeleteObjectVersion";
    default:
        return oi->action;
    }
}

bool s3_precheck(struct store_req *r)
{
    const struct op_info *oi = &ops[r->op];
    const char *action = op_action(r, oi);
    struct cv_str nokey = CV_STR_NULL;
    cv_err err;

    if (r->op == OP_IAM_QUERY) {
        return true;
    }
    if (r->has_key && r->key.len > r->st->cfg.limits.max_key_bytes) {
        char n[32];
        snprintf(n, sizeof(n), "%zu", r->key.len);
        resp_error(r, CV_S3_KEY_TOO_LONG, NULL, "Size", n, "MaxSizeAllowed", "1024", NULL);
        return false;
    }
    if (r->has_key && !cv_utf8_valid(r->key.ptr, r->key.len)) {
        resp_error(r, CV_S3_INVALID_URI, "Object keys must be valid UTF-8.", NULL);
        return false;
    }
    if (oi->needs_bucket) {
        r->bi = cv_arena_alloc(&r->arena, sizeof(*r->bi));
        if (!r->bi) {
            resp_error(r, CV_ENOMEM, NULL, NULL);
            return false;
        }
        cv_buf_init(&r->bucket_policy, 64 * 1024);
        err = s3_bucket_get(r, r->bucket, r->bi, &r->bucket_policy);
        if (err) {
            cv_buf_release(&r->bucket_policy);
            if (err == CV_S3_NO_SUCH_BUCKET) {
                char b[80];
                snprintf(b, sizeof(b), "%.*s", (int)CV_MIN(r->bucket.len, 70), r->bucket.ptr);
                resp_error(r, err, NULL, "BucketName", b, NULL);
            } else {
                resp_error(r, err, NULL, NULL);
            }
            return false;
        }
        r->bucket_loaded = true;
        /* x-amz-expected-bucket-owner: another owner is AccessDenied, as AWS. */
        {
            struct cv_str eo = req_header(r, "x-amz-expected-bucket-owner");
            if (eo.ptr && !cv_str_eq_c(cv_str_trim(eo), r->bi->account)) {
                resp_error(r, CV_S3_ACCESS_DENIED, NULL, NULL);
                return false;
            }
        }
    }
    if (!tags_for_authz(r)) {
        return false;
    }
    if (action && !store_allowed(r, action, r->bucket, oi->object ? r->key : nokey, r->bi)) {
        if (missing_key_listable(r)) {
            resp_error(r, CV_S3_NO_SUCH_KEY, NULL, "Key", arena_key(r), NULL);
        } else {
            resp_error(r, CV_S3_ACCESS_DENIED, NULL, NULL);
        }
        return false;
    }
    /* An ACL on an object write is a second permission. */
    if ((r->op == OP_PUT_OBJECT || r->op == OP_COPY_OBJECT || r->op == OP_CREATE_MULTIPART) &&
        sends_acl(r) && !store_authorize(r, "s3:PutObjectAcl", r->bucket, r->key, r->bi)) {
        return false;
    }
    if (r->op == OP_PUT_OBJECT && req_has_header(r, "x-amz-tagging") &&
        !store_authorize(r, "s3:PutObjectTagging", r->bucket, r->key, r->bi)) {
        return false;
    }
    if (ops[r->op].body == BODY_OBJECT || ops[r->op].body == BODY_XML ||
        r->op == OP_COPY_OBJECT || r->op == OP_CREATE_MULTIPART) {
        return s3_body_precheck(r);
    }
    return true;
}

void s3_dispatch(struct store_req *r)
{
    switch (r->op) {
    case OP_LIST_BUCKETS:
        s3_list_buckets(r);
        break;
    case OP_CREATE_BUCKET:
        s3_create_bucket(r);
        break;
    case OP_HEAD_BUCKET:
        s3_head_bucket(r);
        break;
    case OP_DELETE_BUCKET:
        s3_delete_bucket(r);
        break;
    case OP_GET_BUCKET_LOCATION:
        s3_get_bucket_location(r);
        break;
    case OP_GET_BUCKET_VERSIONING:
        s3_get_bucket_versioning(r);
        break;
    case OP_PUT_BUCKET_VERSIONING:
        s3_put_bucket_versioning(r);
        break;
    case OP_LIST_OBJECTS:
        s3_list_objects(r, 1);
        break;
    case OP_LIST_OBJECTS_V2:
        s3_list_objects(r, 2);
        break;
    case OP_LIST_OBJECT_VERSIONS:
        s3_list_object_versions(r);
        break;
    case OP_DELETE_OBJECTS:
        s3_delete_objects(r);
        break;
    case OP_GET_BUCKET_POLICY:
        s3_get_bucket_policy(r);
        break;
    case OP_PUT_BUCKET_POLICY:
        s3_put_bucket_policy(r);
        break;
    case OP_DELETE_BUCKET_POLICY:
        s3_delete_bucket_policy(r);
        break;
    case OP_GET_BUCKET_ACL:
        s3_get_bucket_acl(r);
        break;
    case OP_PUT_BUCKET_ACL:
        s3_put_bucket_acl(r);
        break;
    case OP_GET_BUCKET_OWNERSHIP:
        s3_get_bucket_ownership(r);
        break;
    case OP_PUT_BUCKET_OWNERSHIP:
        s3_put_bucket_ownership(r);
        break;
    case OP_DELETE_BUCKET_OWNERSHIP:
        s3_delete_bucket_ownership(r);
        break;
    case OP_LIST_MULTIPART_UPLOADS:
        s3_list_multipart_uploads(r);
        break;
    case OP_PUT_OBJECT:
        s3_put_object(r);
        break;
    case OP_GET_OBJECT:
        s3_get_object(r, false);
        break;
    case OP_HEAD_OBJECT:
        s3_get_object(r, true);
        break;
    case OP_DELETE_OBJECT:
        s3_delete_object(r);
        break;
    case OP_COPY_OBJECT:
        s3_copy_object(r);
        break;
    case OP_GET_OBJECT_ACL:
        s3_get_object_acl(r);
        break;
    case OP_PUT_OBJECT_ACL:
        s3_put_object_acl(r);
        break;
    case OP_GET_OBJECT_TAGGING:
        s3_get_object_tagging(r);
        break;
    case OP_PUT_OBJECT_TAGGING:
        s3_put_object_tagging(r);
        break;
    case OP_DELETE_OBJECT_TAGGING:
        s3_delete_object_tagging(r);
        break;
    case OP_CREATE_MULTIPART:
        s3_create_multipart(r);
        break;
    case OP_UPLOAD_PART:
        s3_upload_part(r, false);
        break;
    case OP_UPLOAD_PART_COPY:
        s3_upload_part(r, true);
        break;
    case OP_COMPLETE_MULTIPART:
        s3_complete_multipart(r);
        break;
    case OP_ABORT_MULTIPART:
        s3_abort_multipart(r);
        break;
    case OP_LIST_PARTS:
        s3_list_parts(r);
        break;
    case OP_IAM_QUERY:
        store_iam_dispatch(r);
        break;
    case OP_GET_BUCKET_CORS:
        s3_get_bucket_cors(r);
        break;
    case OP_PUT_BUCKET_CORS:
        s3_put_bucket_cors(r);
        break;
    case OP_DELETE_BUCKET_CORS:
        s3_delete_bucket_cors(r);
        break;
    case OP_CORS_PREFLIGHT:
        s3_cors_preflight(r);
        break;
    case OP_GET_OBJECT_ATTRIBUTES:
        s3_get_object_attributes(r);
        break;
    case OP_POST_OBJECT:
        s3_post_object(r);
        break;
    case OP_GET_BUCKET_TAGGING:
        s3_get_bucket_tagging(r);
        break;
    case OP_PUT_BUCKET_TAGGING:
        s3_put_bucket_tagging(r);
        break;
    case OP_DELETE_BUCKET_TAGGING:
        s3_delete_bucket_tagging(r);
        break;
    case OP_GET_BUCKET_PAB:
        s3_get_public_access_block(r);
        break;
    case OP_PUT_BUCKET_PAB:
        s3_put_public_access_block(r);
        break;
    case OP_DELETE_BUCKET_PAB:
        s3_delete_public_access_block(r);
        break;
    case OP_GET_BUCKET_POLICY_STATUS:
        s3_get_bucket_policy_status(r);
        break;
    case OP_GET_OBJECT_LOCK_CONFIG:
        s3_get_object_lock_config(r);
        break;
    case OP_PUT_OBJECT_LOCK_CONFIG:
        s3_put_object_lock_config(r);
        break;
    case OP_GET_OBJECT_RETENTION:
        s3_get_object_retention(r);
        break;
    case OP_PUT_OBJECT_RETENTION:
        s3_put_object_retention(r);
        break;
    case OP_GET_OBJECT_LEGAL_HOLD:
        s3_get_object_legal_hold(r);
        break;
    case OP_PUT_OBJECT_LEGAL_HOLD:
        s3_put_object_legal_hold(r);
        break;
    default:
        resp_error(r, CV_S3_NOT_IMPLEMENTED, NULL, NULL);
        break;
    }
}

/* ------------------------------------------------------------ metadata */

static const char *const stored_headers[] = {
    "content-type",      "content-encoding",        "content-disposition",
    "content-language",  "cache-control",           "expires",
    "x-amz-website-redirect-location", "x-amz-server-side-encryption",
};

cv_err meta_collect(struct store_req *r, struct cv_buf *meta, bool *too_large)
{
    size_t i, k, user_bytes = 0;
    cv_err err = CV_OK;

    *too_large = false;
    for (i = 0; i < r->nheaders && !err; i++) {
        struct cv_str n = r->headers[i].name, v = r->headers[i].value;
        bool keep = false;

        if (n.len > 11 && cv_str_eq_ci((struct cv_str){n.ptr, 11}, CV_STR("x-amz-meta-"))) {
            keep = true;
            user_bytes += n.len - 11 + v.len;
        } else {
            for (k = 0; k < CV_ARRAY_LEN(stored_headers); k++) {
                if (cv_str_eq_ci_c(n, stored_headers[k])) {
                    keep = true;
                    break;
                }
            }
        }
        if (!keep) {
            continue;
        }
        if (cv_str_eq_ci_c(n, "content-encoding")) {
            /* aws-chunked is transport framing, not the object's encoding. */
            struct cv_str enc = v, tok, rest;
            struct cv_buf kept = CV_BUF_INIT(1024);
            while (enc.len && !err) {
                cv_str_split(enc, ',', &tok, &rest);
                tok = cv_str_trim(tok);
                enc = rest;
                if (tok.len && !cv_str_eq_ci_c(tok, "aws-chunked")) {
                    if (kept.len) {
                        err = cv_buf_adds(&kept, ", ");
                    }
                    if (!err) {
                        err = cv_buf_add(&kept, tok.ptr, tok.len);
                    }
                }
            }
            if (!err && kept.len) {
                err = cv_buf_addf(meta, "content-encoding:%s\n", kept.ptr);
            }
            cv_buf_release(&kept);
            continue;
        }
        for (k = 0; k < n.len && !err; k++) {
            char c = n.ptr[k];
            err = cv_buf_addc(meta, (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c);
        }
        if (!err) {
            err = cv_buf_addc(meta, ':');
        }
        for (k = 0; k < v.len && !err; k++) {
            /* Header values cannot hold line breaks; keep the block parseable. */
            char c = v.ptr[k] == '\n' || v.ptr[k] == '\r' ? ' ' : v.ptr[k];
            err = cv_buf_addc(meta, c);
        }
        if (!err) {
            err = cv_buf_addc(meta, '\n');
        }
    }
    if (user_bytes > r->st->cfg.limits.max_meta_bytes) {
        *too_large = true;
    }
    return err;
}

void s3_etag_from_md5(const uint8_t md5[CV_MD5_LEN], char out[35])
{
    out[0] = '"';
    cv_hex_encode(md5, CV_MD5_LEN, out + 1);
    out[33] = '"';
    out[34] = '\0';
}
