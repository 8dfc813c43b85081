/*
 * S3 Object Lock: a bucket's Object Lock configuration (enabled at creation
 * with x-amz-bucket-object-lock-enabled, or later on a versioned bucket;
 * an optional default retention), and per object version a retention
 * (GOVERNANCE or COMPLIANCE until a date) and a legal hold.
 *
 * The rules are AWS's ("Locking objects with Object Lock"):
 *   - a version under an active retention or a legal hold cannot be
 *     deleted (DeleteObject / DeleteObjects with a version id);
 *     GOVERNANCE yields to x-amz-bypass-governance-retention: true from a
 *     caller allowed s3:BypassGovernanceRetention, COMPLIANCE to nobody;
 *   - an active retention may always be extended in its own mode; any
 *     other change (shorter, another mode, removal) needs the bypass under
 *     GOVERNANCE and is refused under COMPLIANCE;
 *   - a delete without a version id only adds a delete marker, so it is
 *     always allowed; versioning cannot be suspended on such a bucket.
 *
 * State: the bucket's configuration is the bucket document BUCKET_DOC_LOCK
 * ("Enabled", or "Enabled MODE D|Y N"); versions' locks are rows of
 * object_locks keyed by (bucket, key, version id).
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000ll

static bool mode_valid(struct cv_str m)
{
    return cv_str_eq_c(m, "GOVERNANCE") || cv_str_eq_c(m, "COMPLIANCE");
}

/* ------------------------------------------------------- configuration */

struct lock_conf {
    bool enabled;
    char mode[12]; /* "" when there is no default retention */
    char unit;     /* 'D' days or 'Y' years */
    long n;
};

static cv_err conf_load(struct store_req *r, struct lock_conf *lc)
{
    struct cv_buf doc = CV_BUF_INIT(256);
    bool found = false;
    cv_err err = bucket_doc_get(r->st->db, BUCKET_DOC_LOCK, r->bucket, &doc, &found);

    memset(lc, 0, sizeof(*lc));
    if (!err && found && doc.ptr) {
        char unit = 0;
        char mode[12] = "";
        long n = 0;
        const char *p = doc.ptr;
        lc->enabled = strncmp(p, "Enabled", 7) == 0;
        p += strcspn(p, " ");
        if (*p == ' ') {
            char *end = NULL;
            p++;
            size_t ml = strcspn(p, " ");
            if (ml < sizeof(mode)) {
                memcpy(mode, p, ml);
                mode[ml] = '\0';
            }
            p += ml;
            if (*p == ' ' && (p[1] == 'D' || p[1] == 'Y') && p[2] == ' ') {
                unit = p[1];
                n = strtol(p + 3, &end, 10);
            }
            if (unit && n > 0 && mode[0]) {
                snprintf(lc->mode, sizeof(lc->mode), "%s", mode);
                lc->unit = unit;
                lc->n = n;
            }
        }
    }
    cv_buf_release(&doc);
    return err;
}

void s3_put_object_lock_config(struct store_req *r)
{
    struct xml_node *root = NULL;
    const struct xml_node *en, *rule, *dr, *mode, *days, *years;
    char doc[64];
    cv_err err;

    root = xml_parse_doc(&r->arena, &r->xml, "ObjectLockConfiguration");
    if (!root) {
        resp_error(r, CV_S3_MALFORMED_XML, NULL, NULL);
        return;
    }
    en = xml_child(root, "ObjectLockEnabled");
    rule = xml_child(root, "Rule");
    if (!en || !cv_str_eq_c(xml_text(en), "Enabled")) {
        resp_error(r, CV_S3_MALFORMED_XML, NULL, NULL);
        return;
    }
    snprintf(doc, sizeof(doc), "Enabled");
    if (rule) {
        struct cv_str v;
        uint64_t n = 0;
        bool neg;
        dr = xml_child(rule, "DefaultRetention");
        mode = dr ? xml_child(dr, "Mode") : NULL;
        days = dr ? xml_child(dr, "Days") : NULL;
        years = dr ? xml_child(dr, "Years") : NULL;
        if (!dr || !mode || !mode_valid(xml_text(mode)) || (!days) == (!years)) {
            resp_error(r, CV_S3_MALFORMED_XML, NULL, NULL);
            return;
        }
        v = cv_str_trim(xml_text(days ? days : years));
        neg = v.len && v.ptr[0] == '-';
        if (neg) {
            v.ptr++;
            v.len--;
        }
        if (!v.len || cv_parse_u64(v, &n) != CV_OK) {
            resp_error(r, CV_S3_MALFORMED_XML, NULL, NULL);
            return;
        }
        /* AWS caps retention at 100 years (36500 days). */
        if (neg || n == 0 || n > (days ? 36500u : 100u)) {
            resp_error(r, CV_S3_INVALID_RETENTION, NULL, NULL);
            return;
        }
        snprintf(doc, sizeof(doc), "Enabled %.*s %c %llu", (int)xml_text(mode).len,
                 xml_text(mode).ptr, days ? 'D' : 'Y', (unsigned long long)n);
    }
    /* Turning it on later needs versioning on (AWS, since 2023). */
    if (!r->bi->object_lock && r->bi->versioning != VS_ENABLED) {
        resp_error(r, CV_S3_INVALID_BUCKET_STATE,
                   "Versioning must be 'Enabled' on the bucket to apply a Object Lock "
                   "configuration",
                   NULL);
        return;
    }
    err = bucket_doc_set(r->st->db, BUCKET_DOC_LOCK, r->bucket, doc);
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 200;
}

void s3_get_object_lock_config(struct store_req *r)
{
    struct lock_conf lc;
    struct cv_buf *b = &r->resp.body;
    cv_err err = conf_load(r, &lc);

    if (!err && !lc.enabled) {
        err = CV_S3_NO_LOCK_CONFIG;
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    err = xml_begin(b, "ObjectLockConfiguration");
    err = err ? err : xml_elemc(b, "ObjectLockEnabled", "Enabled");
    if (!err && lc.mode[0]) {
        err = xml_open(b, "Rule");
        err = err ? err : xml_open(b, "DefaultRetention");
        err = err ? err : xml_elemc(b, "Mode", lc.mode);
        err = err ? err : xml_elemf(b, lc.unit == 'D' ? "Days" : "Years", "%ld", lc.n);
        err = err ? err : xml_close(b, "DefaultRetention");
        err = err ? err : xml_close(b, "Rule");
    }
    err = err ? err : xml_end(b, "ObjectLockConfiguration");
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 200;
}

/* --------------------------------------------------------- object writes */

bool s3_lock_for_put(struct store_req *r, struct obj_lock *lk)
{
    struct cv_str mode = req_header(r, "x-amz-object-lock-mode");
    struct cv_str until = req_header(r, "x-amz-object-lock-retain-until-date");
    struct cv_str hold = req_header(r, "x-amz-object-lock-legal-hold");
    int64_t ms = 0;

    memset(lk, 0, sizeof(*lk));
    if ((mode.ptr || until.ptr || hold.ptr) && !r->bi->object_lock) {
        resp_error(r, CV_S3_INVALID_REQUEST, "Bucket is missing Object Lock Configuration", NULL);
        return false;
    }
    /* Setting them on a write needs their own permissions (AWS). */
    if ((mode.ptr && !store_allowed(r, "s3:PutObjectRetention", r->bucket, r->key, r->bi)) ||
        (hold.ptr && !store_allowed(r, "s3:PutObjectLegalHold", r->bucket, r->key, r->bi))) {
        resp_error(r, CV_S3_ACCESS_DENIED, NULL, NULL);
        return false;
    }
    if (!mode.ptr != !until.ptr) {
        resp_error(r, CV_S3_INVALID_ARGUMENT,
                   "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be "
                   "supplied",
                   NULL);
        return false;
    }
    if (mode.ptr) {
        if (!mode_valid(mode)) {
            resp_error(r, CV_S3_INVALID_ARGUMENT, "Unknown wormMode directive.", NULL);
            return false;
        }
        if (cv_time_parse_iso8601(cv_str_trim(until), &ms) != CV_OK) {
            resp_error(r, CV_S3_INVALID_ARGUMENT,
                       "The retain until date must be provided in ISO 8601 format", NULL);
            return false;
        }
        if (ms <= r->now_ms) {
            resp_error(r, CV_S3_INVALID_ARGUMENT, "The retain until date must be in the future!",
                       NULL);
            return false;
        }
        snprintf(lk->mode, sizeof(lk->mode), "%.*s", (int)mode.len, mode.ptr);
        lk->until = ms;
    }
    if (hold.ptr) {
        if (cv_str_eq_c(hold, "ON")) {
            lk->hold = 1;
        } else if (cv_str_eq_c(hold, "OFF")) {
            lk->hold = 0;
        } else {
            resp_error(r, CV_S3_INVALID_ARGUMENT, "Legal Hold must be either of 'ON' or 'OFF'",
                       NULL);
            return false;
        }
        lk->has_hold = true;
    }
    if (!lk->mode[0] && r->bi->object_lock) {
        struct lock_conf lc;
        cv_err err = conf_load(r, &lc);
        if (err) {
            resp_error(r, err, NULL, NULL);
            return false;
        }
        if (lc.mode[0]) {
            snprintf(lk->mode, sizeof(lk->mode), "%s", lc.mode);
            lk->until = r->now_ms + (int64_t)lc.n * (lc.unit == 'D' ? 1 : 365) * DAY_MS;
        }
    }
    lk->any = lk->mode[0] || lk->has_hold;
    return true;
}

/* The lock row of a version: found false when it has none. */
/* Statement @p id of @p c with (bucket, key, version id) bound as ?1..?3. */
static sqlite3_stmt *lock_stmt(struct db_conn *c, enum store_stmt id, struct cv_str bucket,
                               struct cv_str key, const char *vid)
{
    sqlite3_stmt *s = db_stmt(c, id);

    if (s) {
        db_bind_str(s, 1, bucket);
        db_bind_str(s, 2, key);
        sqlite3_bind_text(s, 3, vid, -1, SQLITE_STATIC);
    }
    return s;
}

/* Steps a statement that returns no rows, and resets it. */
static cv_err lock_exec(sqlite3_stmt *s)
{
    cv_err err;

    if (!s) {
        return CV_EDB;
    }
    err = sqlite3_step(s) == SQLITE_DONE ? CV_OK : CV_EDB;
    sqlite3_reset(s);
    return err;
}

static cv_err lock_get(struct db_conn *c, struct cv_str bucket, struct cv_str key, const char *vid,
                       struct obj_lock *lk, bool *found)
{
    sqlite3_stmt *s = lock_stmt(c, STMT_LOCK_GET, bucket, key, vid);
    int rc;

    memset(lk, 0, sizeof(*lk));
    *found = false;
    if (!s) {
        return CV_EDB;
    }
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        struct cv_str m = db_col_str(s, 0);
        *found = true;
        if (m.ptr && m.len < sizeof(lk->mode)) {
            memcpy(lk->mode, m.ptr, m.len);
            lk->mode[m.len] = '\0';
            lk->until = sqlite3_column_int64(s, 1);
        }
        lk->hold = sqlite3_column_int(s, 2);
        lk->has_hold = true;
        lk->any = true;
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? CV_OK : CV_EDB;
}

cv_err s3_lock_store(struct db_conn *c, struct cv_str bucket, struct cv_str key, const char *vid,
                     const struct obj_lock *lk)
{
    sqlite3_stmt *s;

    if (!lk || !lk->any) {
        return CV_OK;
    }
    s = lock_stmt(c, STMT_LOCK_PUT, bucket, key, vid);
    if (s) {
        if (lk->mode[0]) {
            sqlite3_bind_text(s, 4, lk->mode, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 5, lk->until);
        }
        sqlite3_bind_int(s, 6, lk->hold == 1);
    }
    return lock_exec(s);
}

cv_err s3_lock_check_delete(struct db_conn *c, struct cv_str bucket, struct cv_str key,
                            const char *vid, int64_t now_ms, bool bypass)
{
    struct obj_lock lk;
    bool found;
    cv_err err = lock_get(c, bucket, key, vid, &lk, &found);

    if (err || !found) {
        return err;
    }
    if (lk.hold == 1) {
        return CV_S3_ACCESS_DENIED;
    }
    if (lk.mode[0] && lk.until > now_ms) {
        if (strcmp(lk.mode, "COMPLIANCE") == 0 || !bypass) {
            return CV_S3_ACCESS_DENIED;
        }
    }
    /* The version goes: so does its lock row. */
    return lock_exec(lock_stmt(c, STMT_LOCK_DELETE, bucket, key, vid));
}

/* A multipart upload's lock waits under the placeholder version "upload:ID". */
static void upload_vid(const char *upload_id, char out[48])
{
    snprintf(out, 48, "upload:%s", upload_id);
}

cv_err s3_lock_store_upload(struct db_conn *c, struct cv_str bucket, struct cv_str key,
                            const char *upload_id, const struct obj_lock *lk)
{
    char pv[48];

    upload_vid(upload_id, pv);
    return s3_lock_store(c, bucket, key, pv, lk);
}

cv_err s3_lock_adopt_upload(struct db_conn *c, struct cv_str bucket, struct cv_str key,
                            const char *upload_id, const char *vid)
{
    char pv[48];
    sqlite3_stmt *s;

    upload_vid(upload_id, pv);
    s = lock_stmt(c, STMT_LOCK_ADOPT, bucket, key, pv);
    if (s) {
        sqlite3_bind_text(s, 4, vid, -1, SQLITE_STATIC);
    }
    return lock_exec(s);
}

cv_err s3_lock_drop_upload(struct db_conn *c, struct cv_str bucket, struct cv_str key,
                           const char *upload_id)
{
    char pv[48];

    upload_vid(upload_id, pv);
    return lock_exec(lock_stmt(c, STMT_LOCK_DELETE, bucket, key, pv));
}

bool s3_lock_bypass(struct store_req *r, struct cv_str key)
{
    struct cv_str h = req_header(r, "x-amz-bypass-governance-retention");

    return h.ptr && cv_str_eq_ci_c(cv_str_trim(h), "true") &&
           store_allowed(r, "s3:BypassGovernanceRetention", r->bucket, key, r->bi);
}

void s3_lock_headers(struct store_req *r, const char *vid)
{
    struct db_conn *c;
    struct obj_lock lk;
    bool found = false;

    if (!r->bi || !r->bi->object_lock || !vid || !vid[0]) {
        return;
    }
    c = db_reader(r->st->db);
    if (!c) {
        return;
    }
    if (lock_get(c, r->bucket, r->key, vid, &lk, &found) == CV_OK && found) {
        if (lk.mode[0]) {
            char d[25];
            cv_time_iso8601_ms(lk.until, d);
            (void)resp_header(r, "x-amz-object-lock-mode", lk.mode);
            (void)resp_header(r, "x-amz-object-lock-retain-until-date", d);
        }
        (void)resp_header(r, "x-amz-object-lock-legal-hold", lk.hold == 1 ? "ON" : "OFF");
    }
    db_reader_done(r->st->db, c);
}

/* ---------------------------------------------- retention and legal hold */

struct lock_job {
    struct store_req *r;
    const char *vid_in; /* the versionId parameter, or NULL: the current version */
    char vid[40];       /* the version resolved */
    bool set_retention, set_hold, bypass;
    struct obj_lock want;
    struct obj_lock got; /* out (get) */
    bool found;
};

/* The version the request names exists (and is not a delete marker). */
static cv_err resolve_version(struct db_conn *c, struct lock_job *j)
{
    sqlite3_stmt *s;
    int rc;
    cv_err err = CV_OK;

    if (!j->vid_in) {
        s = db_stmt(c, STMT_OBJ_HEAD_ID);
        if (!s) {
            return CV_EDB;
        }
        db_bind_str(s, 1, j->r->bucket);
        db_bind_str(s, 2, j->r->key);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            struct cv_str v = db_col_str(s, 4);
            snprintf(j->vid, sizeof(j->vid), "%.*s", (int)CV_MIN(v.len, 39),
                     v.ptr ? v.ptr : "null");
        } else {
            err = rc == SQLITE_DONE ? CV_S3_NO_SUCH_KEY : CV_EDB;
        }
        sqlite3_reset(s);
        return err;
    }
    snprintf(j->vid, sizeof(j->vid), "%s", j->vid_in);
    s = lock_stmt(c, STMT_LOCK_VERSION, j->r->bucket, j->r->key, j->vid);
    if (!s) {
        return CV_EDB;
    }
    rc = sqlite3_step(s);
    err = rc == SQLITE_ROW ? CV_OK : rc == SQLITE_DONE ? CV_S3_NO_SUCH_VERSION : CV_EDB;
    sqlite3_reset(s);
    return err;
}

static cv_err lock_tx(struct db_conn *c, void *arg)
{
    struct lock_job *j = arg;
    struct obj_lock cur;
    cv_err err = resolve_version(c, j);

    if (!err) {
        err = lock_get(c, j->r->bucket, j->r->key, j->vid, &cur, &j->found);
    }
    if (err) {
        return err;
    }
    j->got = cur;
    if (!j->set_retention && !j->set_hold) {
        return CV_OK;
    }
    if (!j->found) {
        memset(&cur, 0, sizeof(cur));
    }
    if (j->set_retention) {
        bool active = cur.mode[0] && cur.until > j->r->now_ms;
        bool extends = j->want.mode[0] && strcmp(j->want.mode, cur.mode) == 0 &&
                       j->want.until >= cur.until;
        if (active && !extends) {
            if (strcmp(cur.mode, "COMPLIANCE") == 0 || !j->bypass) {
                return CV_S3_ACCESS_DENIED;
            }
        }
        snprintf(cur.mode, sizeof(cur.mode), "%s", j->want.mode);
        cur.until = j->want.until;
    }
    if (j->set_hold) {
        cur.hold = j->want.hold;
    }
    cur.any = true;
    return s3_lock_store(c, j->r->bucket, j->r->key, j->vid, &cur);
}

/* Common checks of the four object-level operations. */
static bool lock_job_init(struct store_req *r, struct lock_job *j)
{
    const struct query_param *p = req_param(r, "versionId");

    memset(j, 0, sizeof(*j));
    j->r = r;
    if (!r->bi->object_lock) {
        resp_error(r, CV_S3_INVALID_REQUEST, "Bucket is missing Object Lock Configuration", NULL);
        return false;
    }
    if (p) {
        if (!p->value.len || !store_vid_valid(p->value)) {
            resp_error(r, CV_S3_INVALID_ARGUMENT, "Invalid version id specified", "ArgumentName",
                       "versionId", NULL);
            return false;
        }
        j->vid_in = cv_arena_strndup(&r->arena, p->value.ptr, p->value.len);
        if (!j->vid_in) {
            resp_error(r, CV_ENOMEM, NULL, NULL);
            return false;
        }
    }
    return true;
}

static void lock_run(struct store_req *r, struct lock_job *j, bool write)
{
    cv_err err;

    if (write) {
        err = db_write_objects(r->st->db, lock_tx, j);
    } else {
        struct db_conn *c = db_reader(r->st->db);
        err = c ? lock_tx(c, j) : CV_ENOMEM;
        db_reader_done(r->st->db, c);
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    if (j->vid_in) {
        (void)resp_header(r, "x-amz-version-id", j->vid);
    }
    r->resp.status = 200;
}

void s3_put_object_retention(struct store_req *r)
{
    struct lock_job j;
    struct xml_node *root = NULL;
    const struct xml_node *mode, *until;

    if (!lock_job_init(r, &j)) {
        return;
    }
    root = xml_parse_doc(&r->arena, &r->xml, "Retention");
    if (!root) {
        resp_error(r, CV_S3_MALFORMED_XML, NULL, NULL);
        return;
    }
    mode = xml_child(root, "Mode");
    until = xml_child(root, "RetainUntilDate");
    if (!mode != !until || (mode && !mode_valid(xml_text(mode)))) {
        resp_error(r, CV_S3_MALFORMED_XML, NULL, NULL);
        return;
    }
    if (mode) {
        if (cv_time_parse_iso8601(cv_str_trim(xml_text(until)), &j.want.until) != CV_OK) {
            resp_error(r, CV_S3_MALFORMED_XML, NULL, NULL);
            return;
        }
        if (j.want.until <= r->now_ms) {
            resp_error(r, CV_S3_INVALID_ARGUMENT, "The retain until date must be in the future!",
                       NULL);
            return;
        }
        snprintf(j.want.mode, sizeof(j.want.mode), "%.*s", (int)xml_text(mode).len,
                 xml_text(mode).ptr);
    }
    j.set_retention = true;
    j.bypass = s3_lock_bypass(r, r->key);
    lock_run(r, &j, true);
}

void s3_get_object_retention(struct store_req *r)
{
    struct lock_job j;
    struct cv_buf *b = &r->resp.body;
    char d[25];
    cv_err err;

    if (!lock_job_init(r, &j)) {
        return;
    }
    lock_run(r, &j, false);
    if (r->resp.status != 200) {
        return;
    }
    if (!j.found || !j.got.mode[0]) {
        r->resp.status = 0;
        resp_error(r, CV_S3_NO_OBJECT_LOCK, NULL, NULL);
        return;
    }
    cv_time_iso8601_ms(j.got.until, d);
    err = xml_begin(b, "Retention");
    err = err ? err : xml_elemc(b, "Mode", j.got.mode);
    err = err ? err : xml_elemc(b, "RetainUntilDate", d);
    err = err ? err : xml_end(b, "Retention");
    if (err) {
        r->resp.status = 0;
        resp_error(r, err, NULL, NULL);
    }
}

void s3_put_object_legal_hold(struct store_req *r)
{
    struct lock_job j;
    struct xml_node *root = NULL;
    const struct xml_node *st;

    if (!lock_job_init(r, &j)) {
        return;
    }
    root = xml_parse_doc(&r->arena, &r->xml, "LegalHold");
    if (!root) {
        resp_error(r, CV_S3_MALFORMED_XML, NULL, NULL);
        return;
    }
    st = xml_child(root, "Status");
    if (st && cv_str_eq_c(xml_text(st), "ON")) {
        j.want.hold = 1;
    } else if (st && cv_str_eq_c(xml_text(st), "OFF")) {
        j.want.hold = 0;
    } else {
        resp_error(r, CV_S3_MALFORMED_XML, NULL, NULL);
        return;
    }
    j.set_hold = true;
    lock_run(r, &j, true);
}

void s3_get_object_legal_hold(struct store_req *r)
{
    struct lock_job j;
    struct cv_buf *b = &r->resp.body;
    cv_err err;

    if (!lock_job_init(r, &j)) {
        return;
    }
    lock_run(r, &j, false);
    if (r->resp.status != 200) {
        return;
    }
    if (!j.found) {
        r->resp.status = 0;
        resp_error(r, CV_S3_NO_OBJECT_LOCK, NULL, NULL);
        return;
    }
    err = xml_begin(b, "LegalHold");
    err = err ? err : xml_elemc(b, "Status", j.got.hold == 1 ? "ON" : "OFF");
    err = err ? err : xml_end(b, "LegalHold");
    if (err) {
        r->resp.status = 0;
        resp_error(r, err, NULL, NULL);
    }
}
