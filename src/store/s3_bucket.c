/* Bucket operations: list, create, head, delete, location, versioning, policy, ACL. */
#include "store_int.h"
#include "policy/policy.h"

#include <stdio.h>
#include <string.h>

cv_err s3_account_info(struct store *st, const char *account, char canonical[65], char name[65])
{
    struct db_conn *c = db_reader(st->db);
    sqlite3_stmt *s;
    cv_err err = CV_ENOENT;

    canonical[0] = name[0] = '\0';
    if (!c) {
        return CV_ENOMEM;
    }
    s = db_stmt(c, STMT_ACCOUNT_BY_ID);
    if (s) {
        sqlite3_bind_text(s, 1, account, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW) {
            snprintf(name, 65, "%s", (const char *)sqlite3_column_text(s, 1));
            snprintf(canonical, 65, "%s", (const char *)sqlite3_column_text(s, 2));
            err = CV_OK;
        }
    }
    db_reader_done(st->db, c);
    return err;
}

static void set_xml(struct store_req *r, int status)
{
    r->resp.status = status;
    r->resp.content_type = "application/xml";
}

void s3_list_buckets(struct store_req *r)
{
    struct cv_buf *b = &r->resp.body;
    struct cv_buf after = CV_BUF_INIT(256), last = CV_BUF_INIT(256);
    const struct query_param *mb = req_param(r, "max-buckets");
    const struct query_param *ct = req_param(r, "continuation-token");
    const struct query_param *pf = req_param(r, "prefix");
    struct db_conn *c;
    sqlite3_stmt *s;
    char canonical[65], name[65];
    uint64_t max = 10000;
    unsigned count = 0;
    bool truncated = false;
    cv_err err;

    if (!store_authorize(r, "s3:ListAllMyBuckets", CV_STR_NULL, CV_STR_NULL, NULL)) {
        return;
    }
    if (mb && (cv_parse_u64(mb->value, &max) || max < 1 || max > 10000)) {
        resp_error(r, CV_S3_INVALID_ARGUMENT, "max-buckets must be between 1 and 10000",
                   "ArgumentName", "max-buckets", NULL);
        return;
    }
    if (ct && ct->value.len && cv_base64_decode(&after, ct->value)) {
        resp_error(r, CV_S3_INVALID_ARGUMENT, "The continuation token provided is incorrect",
                   "ArgumentName", "continuation-token", NULL);
        return;
    }
    err = s3_account_info(r->st, r->ident.account, canonical, name);
    if (err) {
        cv_buf_release(&after);
        resp_error(r, err == CV_ENOENT ? CV_S3_ACCESS_DENIED : err, NULL, NULL);
        return;
    }
    c = db_reader(r->st->db);
    if (!c) {
        cv_buf_release(&after);
        resp_error(r, CV_ENOMEM, NULL, NULL);
        return;
    }
    s = db_stmt(c, STMT_BUCKET_LIST);
    err = s ? CV_OK : CV_EDB;
    if (!err) {
        sqlite3_bind_text(s, 1, r->ident.account, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, after.ptr ? after.ptr : "", (int)after.len, SQLITE_STATIC);
        db_bind_str(s, 3, pf ? pf->value : CV_STR(""));
        sqlite3_bind_int64(s, 4, (sqlite3_int64)max + 1);
        err = xml_begin(b, "ListAllMyBucketsResult");
    }
    if (!err) {
        err = cv_buf_adds(b, "<Owner>");
    }
    if (!err) {
        err = xml_elemc(b, "ID", canonical);
    }
    if (!err) {
        err = xml_elemc(b, "DisplayName", name);
    }
    if (!err) {
        err = cv_buf_adds(b, "</Owner><Buckets>");
    }
    while (!err && sqlite3_step(s) == SQLITE_ROW) {
        char date[25];
        struct cv_str bn = db_col_str(s, 0);
        if (count == max) {
            truncated = true;
            break;
        }
        count++;
        cv_buf_reset(&last);
        err = cv_buf_add(&last, bn.ptr, bn.len);
        cv_time_iso8601_ms(sqlite3_column_int64(s, 1), date);
        if (!err) {
            err = cv_buf_adds(b, "<Bucket>");
        }
        if (!err) {
            err = xml_elem(b, "Name", bn.ptr, bn.len);
        }
        if (!err) {
            err = xml_elemc(b, "CreationDate", date);
        }
        if (!err) {
            err = xml_elemc(b, "BucketRegion", r->st->region);
        }
        if (!err) {
            err = cv_buf_adds(b, "</Bucket>");
        }
    }
    if (!err) {
        err = cv_buf_adds(b, "</Buckets>");
    }
    if (!err && truncated) {
        struct cv_buf tok = CV_BUF_INIT(512);
        err = cv_base64_encode(&tok, (const uint8_t *)last.ptr, last.len);
        if (!err) {
            err = xml_elem(b, "ContinuationToken", tok.ptr, tok.len);
        }
        cv_buf_release(&tok);
    }
    if (!err && pf) {
        err = xml_elem(b, "Prefix", pf->value.ptr, pf->value.len);
    }
    if (!err) {
        err = xml_end(b, "ListAllMyBucketsResult");
    }
    db_reader_done(r->st->db, c);
    cv_buf_release(&after);
    cv_buf_release(&last);
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    set_xml(r, 200);
}

/* --------------------------------------------------------- create/delete */

struct create_job {
    struct store_req *r;
    const char *ownership;
    const char *acl;
    bool has_pab;
    unsigned pab;
    bool object_lock; /* x-amz-bucket-object-lock-enabled: versioning on, lock enabled */
    char existing_owner[13];
};

static cv_err create_bucket_tx(struct db_conn *c, void *arg)
{
    struct create_job *j = arg;
    sqlite3_stmt *s = db_stmt(c, STMT_BUCKET_GET);

    if (!s) {
        return CV_EDB;
    }
    db_bind_str(s, 1, j->r->bucket);
    if (sqlite3_step(s) == SQLITE_ROW) {
        snprintf(j->existing_owner, sizeof(j->existing_owner), "%s",
                 (const char *)sqlite3_column_text(s, 0));
        sqlite3_reset(s);
        return strcmp(j->existing_owner, j->r->ident.account) == 0
                   ? CV_S3_BUCKET_ALREADY_OWNED_BY_YOU
                   : CV_S3_BUCKET_ALREADY_EXISTS;
    }
    sqlite3_reset(s);
    s = db_stmt(c, STMT_BUCKET_INSERT);
    db_bind_str(s, 1, j->r->bucket);
    sqlite3_bind_text(s, 2, j->r->ident.account, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, j->r->now_ms);
    sqlite3_bind_text(s, 4, j->ownership, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, j->r->st->region, -1, SQLITE_STATIC);
    if (j->acl) {
        sqlite3_bind_text(s, 6, j->acl, -1, SQLITE_STATIC);
    }
    if (j->has_pab) {
        sqlite3_bind_int(s, 7, (int)j->pab);
    }
    if (sqlite3_step(s) != SQLITE_DONE) {
        return CV_EDB;
    }
    if (j->object_lock) {
        s = db_stmt(c, STMT_BUCKET_SET_VERSIONING);
        db_bind_str(s, 1, j->r->bucket);
        sqlite3_bind_text(s, 2, "Enabled", -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE) {
            return CV_EDB;
        }
        return bucket_doc_write(c, BUCKET_DOC_LOCK, j->r->bucket, "Enabled");
    }
    return CV_OK;
}

void s3_create_bucket(struct store_req *r)
{
    struct create_job j;
    struct cv_str own = req_header(r, "x-amz-object-ownership");
    char bname[80];
    cv_err err;

    memset(&j, 0, sizeof(j));
    j.r = r;
    snprintf(bname, sizeof(bname), "%.*s", (int)CV_MIN(r->bucket.len, 70), r->bucket.ptr);
    {
        struct cv_str ol = req_header(r, "x-amz-bucket-object-lock-enabled");
        if (ol.ptr) {
            if (cv_str_eq_ci_c(cv_str_trim(ol), "true")) {
                j.object_lock = true;
            } else if (!cv_str_eq_ci_c(cv_str_trim(ol), "false")) {
                resp_error(r, CV_S3_INVALID_ARGUMENT,
                           "Invalid x-amz-bucket-object-lock-enabled header", NULL);
                return;
            }
        }
    }
    if (!s3_bucket_name_valid(r->bucket)) {
        resp_error(r, CV_S3_INVALID_BUCKET_NAME, NULL, "BucketName", bname, NULL);
        return;
    }
    if (!store_authorize(r, "s3:CreateBucket", r->bucket, CV_STR_NULL, NULL)) {
        return;
    }
    if (r->xml.len) {
        struct xml_node *root = NULL;
        const struct xml_node *lc;
        err = xml_parse(&r->arena, r->xml.ptr, r->xml.len, &root);
        if (err || strcmp(root->name, "CreateBucketConfiguration") != 0) {
            resp_error(r, CV_S3_MALFORMED_XML, NULL, NULL);
            return;
        }
        lc = xml_child(root, "LocationConstraint");
        if (lc && xml_text(lc).len && !cv_str_eq_c(xml_text(lc), r->st->region)) {
            char loc[80];
            snprintf(loc, sizeof(loc), "%.*s", (int)CV_MIN(xml_text(lc).len, 60),
                     xml_text(lc).ptr);
            resp_error(r, CV_S3_INVALID_LOCATION, NULL, "LocationConstraint", loc, NULL);
            return;
        }
    }
    j.ownership = r->st->cfg.default_object_ownership;
    if (own.ptr) {
        if (s3_ownership_valid(own)) {
            j.ownership = cv_arena_strndup(&r->arena, own.ptr, own.len);
        } else {
            resp_error(r, CV_S3_INVALID_ARGUMENT, "Invalid x-amz-object-ownership header", NULL);
            return;
        }
    }
    if (!j.ownership) {
        resp_error(r, CV_ENOMEM, NULL, NULL);
        return;
    }
    /* Block Public Access: all four settings unless the store says otherwise. */
    j.has_pab = !r->st->cfg.no_default_public_access_block;
    j.pab = j.has_pab ? PAB_ALL : 0;
    {
        struct bucket_info nb;
        struct acl_req q;
        struct acl *a = NULL;

        memset(&nb, 0, sizeof(nb));
        snprintf(nb.account, sizeof(nb.account), "%s", r->ident.account);
        snprintf(nb.ownership, sizeof(nb.ownership), "%s", j.ownership);
        nb.has_pab = j.has_pab;
        nb.pab = j.pab;
        q.bi = &nb;
        q.owner_account = r->ident.account;
        q.bucket = true;
        q.body = false;
        q.enforced_err = CV_S3_ACL_OWNERSHIP_CONFLICT;
        if (s3_acl_from_request(r, &q, &a)) {
            return; /* response set */
        }
        if (a && !s3_acl_enforced(&nb) && s3_acl_stored(r, a, &j.acl)) {
            resp_error(r, CV_ENOMEM, NULL, NULL);
            return;
        }
    }
    err = db_write(r->st->db, create_bucket_tx, &j);
    if (err == CV_S3_BUCKET_ALREADY_OWNED_BY_YOU && strcmp(r->st->region, "us-east-1") == 0) {
        err = CV_OK; /* us-east-1 answers 200 to its owner, for legacy reasons (as AWS) */
    }
    if (err) {
        resp_error(r, err, NULL, "BucketName", bname, NULL);
        return;
    }
    (void)resp_headerf(r, "Location", "/%s", bname);
    r->resp.status = 200;
}

void s3_head_bucket(struct store_req *r)
{
    (void)resp_header(r, "x-amz-bucket-region", r->bi->region);
    (void)resp_header(r, "x-amz-access-point-alias", "false");
    r->resp.status = 200;
}

struct delete_bucket_job {
    struct store_req *r;
    struct obj_commit oc; /* collects the part files of abandoned uploads */
};

static cv_err delete_bucket_tx(struct db_conn *c, void *arg)
{
    struct delete_bucket_job *j = arg;
    struct store_req *r = j->r;
    sqlite3_stmt *s, *u;
    cv_err err = CV_OK;
    int rc;

    s = db_stmt(c, STMT_BUCKET_ANY_OBJECT);
    db_bind_str(s, 1, r->bucket);
    rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_ROW) {
        return CV_S3_BUCKET_NOT_EMPTY;
    }
    /* Noncurrent versions and delete markers keep it alive too (AWS). */
    s = db_stmt(c, STMT_BUCKET_ANY_VERSION);
    db_bind_str(s, 1, r->bucket);
    rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_ROW) {
        return CV_S3_BUCKET_NOT_EMPTY;
    }
    /* Unfinished multipart uploads do not keep a bucket alive (as on AWS):
     * they go with it. */
    u = NULL;
    if (sqlite3_prepare_v2(c->h, "SELECT id FROM uploads WHERE bucket = ?1", -1, &u, NULL) !=
        SQLITE_OK) {
        return CV_EDB;
    }
    db_bind_str(u, 1, r->bucket);
    while (!err && sqlite3_step(u) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(u, 0);
        s = db_stmt(c, STMT_PART_FILES);
        sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
        while (!err && sqlite3_step(s) == SQLITE_ROW) {
            err = obj_commit_add_old(&j->oc, db_col_str(s, 0));
        }
        sqlite3_reset(s);
        s = db_stmt(c, STMT_PART_DELETE_ALL);
        sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
        if (!err && sqlite3_step(s) != SQLITE_DONE) {
            err = CV_EDB;
        }
    }
    sqlite3_finalize(u);
    if (!err) {
        sqlite3_stmt *d = NULL;
        if (sqlite3_prepare_v2(c->h, "DELETE FROM uploads WHERE bucket = ?1", -1, &d, NULL) !=
            SQLITE_OK) {
            return CV_EDB;
        }
        db_bind_str(d, 1, r->bucket);
        if (sqlite3_step(d) != SQLITE_DONE) {
            err = CV_EDB;
        }
        sqlite3_finalize(d);
    }
    if (err) {
        j->oc.nold = 0;
        return err;
    }
    s = db_stmt(c, STMT_BUCKET_DELETE);
    db_bind_str(s, 1, r->bucket);
    if (sqlite3_step(s) != SQLITE_DONE) {
        j->oc.nold = 0;
        return CV_EDB;
    }
    if (!sqlite3_changes(c->h)) {
        j->oc.nold = 0;
        return CV_S3_NO_SUCH_BUCKET;
    }
    return CV_OK;
}

void s3_delete_bucket(struct store_req *r)
{
    struct delete_bucket_job j;
    char bname[80];
    cv_err err;

    memset(&j, 0, sizeof(j));
    j.r = r;
    j.oc.arena = &r->arena;
    err = db_write(r->st->db, delete_bucket_tx, &j);
    snprintf(bname, sizeof(bname), "%.*s", (int)CV_MIN(r->bucket.len, 70), r->bucket.ptr);
    if (err) {
        resp_error(r, err, NULL, "BucketName", bname, NULL);
        return;
    }
    obj_commit_cleanup(r->st, &j.oc);
    r->resp.status = 204;
}

void s3_get_bucket_location(struct store_req *r)
{
    struct cv_buf *b = &r->resp.body;
    cv_err err;

    /* us-east-1 is reported as an empty constraint, as AWS does. */
    if (strcmp(r->bi->region, "us-east-1") == 0) {
        err = cv_buf_adds(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint "
                             "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>");
    } else {
        err = xml_begin(b, "LocationConstraint");
        if (!err) {
            err = cv_buf_add_xml(b, r->bi->region, strlen(r->bi->region));
        }
        if (!err) {
            err = xml_end(b, "LocationConstraint");
        }
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    set_xml(r, 200);
}

void s3_get_bucket_versioning(struct store_req *r)
{
    struct cv_buf *b = &r->resp.body;
    cv_err err = xml_begin(b, "VersioningConfiguration");

    /* No Status element before the first PutBucketVersioning (AWS). */
    if (!err && r->bi->versioning != VS_OFF) {
        err = xml_elemc(b, "Status", r->bi->versioning == VS_ENABLED ? "Enabled" : "Suspended");
    }
    if (!err) {
        err = xml_end(b, "VersioningConfiguration");
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    set_xml(r, 200);
}

struct versioning_job {
    struct cv_str bucket;
    const char *status;
};

static cv_err set_versioning_tx(struct db_conn *c, void *arg)
{
    struct versioning_job *j = arg;
    sqlite3_stmt *s = db_stmt(c, STMT_BUCKET_VSTATE);

    if (!s) {
        return CV_EDB;
    }
    db_bind_str(s, 1, j->bucket);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return CV_S3_NO_SUCH_BUCKET;
    }
    sqlite3_reset(s);
    s = db_stmt(c, STMT_BUCKET_SET_VERSIONING);
    db_bind_str(s, 1, j->bucket);
    sqlite3_bind_text(s, 2, j->status, -1, SQLITE_STATIC);
    return sqlite3_step(s) == SQLITE_DONE ? CV_OK : CV_EDB;
}

void s3_put_bucket_versioning(struct store_req *r)
{
    struct xml_node *root = NULL;
    const struct xml_node *st, *mfa;
    struct versioning_job j;
    cv_err err;

    root = xml_parse_doc(&r->arena, &r->xml, "VersioningConfiguration");
    if (!root) {
        resp_error(r, CV_S3_MALFORMED_XML, NULL, NULL);
        return;
    }
    st = xml_child(root, "Status");
    mfa = xml_child(root, "MfaDelete");
    if (mfa && cv_str_eq_c(xml_text(mfa), "Enabled")) {
        resp_error(r, CV_S3_NOT_IMPLEMENTED,
                   "MFA delete cannot be enabled: this store has no MFA devices.", NULL);
        return;
    }
    if (mfa && !cv_str_eq_c(xml_text(mfa), "Disabled")) {
        resp_error(r, CV_S3_MALFORMED_XML, NULL, NULL);
        return;
    }
    if (!st) {
        /* Nothing to change (AWS accepts an empty configuration). */
        r->resp.status = 200;
        return;
    }
    if (cv_str_eq_c(xml_text(st), "Enabled")) {
        j.status = "Enabled";
    } else if (cv_str_eq_c(xml_text(st), "Suspended")) {
        j.status = "Suspended";
        if (r->bi->object_lock) {
            resp_error(r, CV_S3_INVALID_BUCKET_STATE,
                       "An Object Lock configuration is present on this bucket, so the "
                       "versioning state cannot be changed.",
                       NULL);
            return;
        }
    } else {
        resp_error(r, CV_S3_MALFORMED_XML, NULL, NULL);
        return;
    }
    j.bucket = r->bucket;
    err = db_write(r->st->db, set_versioning_tx, &j);
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 200;
}

/* ------------------------------------------------------------- policy */

/* Bucket-policy operations from outside the owner's account: 405 (AWS). */
static bool owner_account_only(struct store_req *r)
{
    if (strcmp(r->bi->account, r->ident.account) != 0) {
        resp_error(r, CV_S3_METHOD_NOT_ALLOWED, NULL, NULL);
        return false;
    }
    return true;
}

void s3_get_bucket_policy(struct store_req *r)
{
    char bname[80];

    if (!owner_account_only(r)) {
        return;
    }
    snprintf(bname, sizeof(bname), "%.*s", (int)CV_MIN(r->bucket.len, 70), r->bucket.ptr);
    if (!r->bi->has_policy) {
        resp_error(r, CV_S3_NO_SUCH_BUCKET_POLICY, NULL, "BucketName", bname, NULL);
        return;
    }
    cv_buf_release(&r->resp.body);
    r->resp.body = r->bucket_policy;
    cv_buf_init(&r->bucket_policy, 0);
    r->resp.status = 200;
    r->resp.content_type = "application/json";
}

struct policy_job {
    struct store_req *r;
    const char *doc; /* NULL: delete */
    size_t len;
    bool lockout; /* x-amz-confirm-remove-self-bucket-access: true */
};

static cv_err set_policy_tx(struct db_conn *c, void *arg)
{
    struct policy_job *j = arg;
    sqlite3_stmt *s = db_stmt(c, STMT_BUCKET_SET_POLICY);

    db_bind_str(s, 1, j->r->bucket);
    if (j->doc) {
        sqlite3_bind_text(s, 2, j->doc, (int)j->len, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(s, 2);
    }
    sqlite3_bind_int(s, 3, j->lockout ? 1 : 0);
    if (sqlite3_step(s) != SQLITE_DONE) {
        return CV_EDB;
    }
    return sqlite3_changes(c->h) ? CV_OK : CV_S3_NO_SUCH_BUCKET;
}

/* Does a principal named in a bucket policy exist (IAM.md §1.3)? */
static bool principal_exists(void *ud, enum policy_principal_ref kind, struct cv_str id)
{
    struct store *st = ud;
    struct db_conn *c = db_reader(st->db);
    sqlite3_stmt *q = NULL;
    const char *sql;
    bool found = false;

    if (!c) {
        return false;
    }
    switch (kind) {
    case POLICY_REF_ACCOUNT:
        sql = "SELECT 1 FROM accounts WHERE id = ?1";
        break;
    case POLICY_REF_CANONICAL:
        sql = "SELECT 1 FROM accounts WHERE canonical_id = ?1";
        break;
    case POLICY_REF_USER_ID:
        sql = "SELECT 1 FROM users WHERE user_id = ?1";
        break;
    default:
        /* arn:aws:iam::ACCOUNT:user/PATH/NAME, compared as written (names are
         * case-sensitive in principals). */
        sql = "SELECT 1 FROM users WHERE 'arn:aws:iam::' || account || ':user' || path || name "
              "= ?1 COLLATE BINARY";
        break;
    }
    if (sqlite3_prepare_v2(c->h, sql, -1, &q, NULL) == SQLITE_OK) {
        db_bind_str(q, 1, id);
        found = sqlite3_step(q) == SQLITE_ROW;
    }
    sqlite3_finalize(q);
    db_reader_done(st->db, c);
    return found;
}

void s3_put_bucket_policy(struct store_req *r)
{
    struct policy_job j = {r, r->xml.ptr ? r->xml.ptr : "", r->xml.len,
                           cv_str_eq_ci_c(req_header(r, "x-amz-confirm-remove-self-bucket-access"),
                                          "true")};
    struct policy_parse_opts o;
    struct policy *p = NULL;
    char bucket[80], msg[512] = "";
    cv_err err;

    if (!owner_account_only(r)) {
        return;
    }
    snprintf(bucket, sizeof(bucket), "%.*s", (int)CV_MIN(r->bucket.len, 70), r->bucket.ptr);
    memset(&o, 0, sizeof(o));
    o.type = POLICY_BUCKET;
    o.bucket = bucket;
    o.principal_exists = principal_exists;
    o.principal_ud = r->st;
    o.name = "bucket-policy";
    err = policy_parse(j.doc, j.len, &o, &p, msg, sizeof(msg));
    policy_free(p);
    if (err == CV_ETOOBIG) {
        resp_error(r, CV_S3_MALFORMED_POLICY, msg[0] ? msg : "Policies must be at most 20 KB",
                   NULL);
        return;
    }
    if (err) {
        resp_error(r, err == CV_ENOMEM ? err : CV_S3_MALFORMED_POLICY, msg[0] ? msg : NULL, NULL);
        return;
    }
    if (pab_on(r->bi, PAB_BLOCK_PUBLIC_POLICY) && pab_policy_is_public(j.doc, j.len)) {
        resp_error(r, CV_S3_ACCESS_DENIED, NULL, NULL);
        return;
    }
    err = db_write(r->st->db, set_policy_tx, &j);
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 204;
}

void s3_delete_bucket_policy(struct store_req *r)
{
    struct policy_job j = {r, NULL, 0, false};
    cv_err err;

    if (!owner_account_only(r)) {
        return;
    }
    err = db_write(r->st->db, set_policy_tx, &j);
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 204;
}

/* ---------------------------------------------------------------- ACL */

void s3_get_bucket_acl(struct store_req *r)
{
    struct acl *a = cv_arena_alloc(&r->arena, sizeof(*a));
    bool found = false;
    cv_err err = a ? s3_acl_load(r->st, r->bucket, NULL, r->bi, a, &found) : CV_ENOMEM;

    if (!err && !found) {
        err = CV_S3_NO_SUCH_BUCKET;
    }
    if (!err) {
        err = s3_acl_xml(r, a, &r->resp.body);
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    set_xml(r, 200);
}

struct acl_job {
    struct store_req *r;
    const char *acl; /* stored form, or NULL (private) */
};

static cv_err set_bucket_acl_tx(struct db_conn *c, void *arg)
{
    struct acl_job *j = arg;
    sqlite3_stmt *s = db_stmt(c, STMT_BUCKET_SET_ACL);

    db_bind_str(s, 1, j->r->bucket);
    if (j->acl) {
        sqlite3_bind_text(s, 2, j->acl, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(s, 2);
    }
    return sqlite3_step(s) == SQLITE_DONE ? CV_OK : CV_EDB;
}

void s3_put_bucket_acl(struct store_req *r)
{
    struct acl_job j = {r, NULL};
    struct acl_req q = {r->bi, r->bi->account, true, true, CV_S3_ACL_NOT_SUPPORTED};
    struct acl *a = NULL;
    cv_err err;

    err = s3_acl_from_request(r, &q, &a);
    if (err) {
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
        err = db_write(r->st->db, set_bucket_acl_tx, &j);
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 200;
}

/* ---------------------------------------------------- ownership controls */

void s3_get_bucket_ownership(struct store_req *r)
{
    struct cv_buf *b = &r->resp.body;
    cv_err err;

    if (!r->bi->ownership[0]) {
        char bname[80];
        snprintf(bname, sizeof(bname), "%.*s", (int)CV_MIN(r->bucket.len, 70), r->bucket.ptr);
        resp_error(r, CV_S3_OWNERSHIP_NOT_FOUND, NULL, "BucketName", bname, NULL);
        return;
    }
    err = xml_begin(b, "OwnershipControls");
    if (!err) {
        err = cv_buf_adds(b, "<Rule>");
    }
    if (!err) {
        err = xml_elemc(b, "ObjectOwnership", r->bi->ownership);
    }
    if (!err) {
        err = cv_buf_adds(b, "</Rule>");
    }
    if (!err) {
        err = xml_end(b, "OwnershipControls");
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    set_xml(r, 200);
}

struct ownership_job {
    struct store_req *r;
    const char *ownership; /* "" after DeleteBucketOwnershipControls */
};

static cv_err set_ownership_tx(struct db_conn *c, void *arg)
{
    struct ownership_job *j = arg;
    sqlite3_stmt *s = db_stmt(c, STMT_BUCKET_SET_OWNERSHIP);

    db_bind_str(s, 1, j->r->bucket);
    sqlite3_bind_text(s, 2, j->ownership, -1, SQLITE_STATIC);
    return sqlite3_step(s) == SQLITE_DONE ? CV_OK : CV_EDB;
}

/* OwnershipControls: exactly one Rule with one valid ObjectOwnership. */
static cv_err parse_ownership(struct store_req *r, const char **out)
{
    struct xml_node *root = NULL;
    const struct xml_node *rule, *n;
    struct cv_str v;
    unsigned nrules = 0;

    root = xml_parse_doc(&r->arena, &r->xml, "OwnershipControls");
    if (!root) {
        return CV_S3_MALFORMED_XML;
    }
    for (n = root->child; n; n = n->next) {
        nrules += strcmp(n->name, "Rule") == 0;
    }
    rule = xml_child(root, "Rule");
    v = cv_str_trim(xml_text(xml_child(rule, "ObjectOwnership")));
    if (nrules != 1 || !s3_ownership_valid(v)) {
        return CV_S3_MALFORMED_XML;
    }
    *out = cv_arena_strndup(&r->arena, v.ptr, v.len);
    return *out ? CV_OK : CV_ENOMEM;
}

void s3_put_bucket_ownership(struct store_req *r)
{
    struct ownership_job j = {r, NULL};
    cv_err err = parse_ownership(r, &j.ownership);

    if (!err && strcmp(j.ownership, "BucketOwnerEnforced") == 0 && !s3_acl_enforced(r->bi)) {
        /* As AWS: ACLs cannot be disabled while the bucket ACL grants anyone else. */
        struct acl *a = cv_arena_alloc(&r->arena, sizeof(*a));
        char cid[65], name[65];
        bool found = false;
        err = a ? s3_acl_load(r->st, r->bucket, NULL, r->bi, a, &found) : CV_ENOMEM;
        if (!err) {
            err = s3_account_info(r->st, r->bi->account, cid, name);
        }
        if (!err && !acl_owner_only(a, cid)) {
            err = CV_S3_ACL_OWNERSHIP_CONFLICT;
        }
    }
    if (!err) {
        err = db_write(r->st->db, set_ownership_tx, &j);
    }
    if (err) {
        resp_error(r, err == CV_ENOENT ? CV_EINTERNAL : err, NULL, NULL);
        return;
    }
    r->resp.status = 200;
}

void s3_delete_bucket_ownership(struct store_req *r)
{
    struct ownership_job j = {r, ""};
    cv_err err = db_write(r->st->db, set_ownership_tx, &j);

    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 204;
}
