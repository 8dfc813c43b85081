/*
 * The IAM and STS query APIs, served on the store's own port (POST / with a
 * form body, SigV4 with service iam or sts), in AWS's XML shapes:
 *
 *   IAM  CreateUser GetUser ListUsers DeleteUser
 *        CreateAccessKey ListAccessKeys UpdateAccessKey DeleteAccessKey
 *        PutUserPolicy GetUserPolicy ListUserPolicies DeleteUserPolicy
 *   STS  GetCallerIdentity
 *
 * An account's root user may do everything in its account; an IAM user needs
 * the iam: action in its own policies (resource arn:aws:iam::ACCT:user/NAME).
 * Every write bumps the IAM generation, which drops cached credentials and
 * compiled user policies.
 */
#include "store_int.h"
#include "policy/policy.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define STS_NS "https://sts.amazonaws.com/doc/2011-06-15/"
#define MAX_KEYS_PER_USER 2

static cv_err form_parse(struct store_req *r, struct iam_form *f)
{
    struct cv_str q = {r->xml.ptr ? r->xml.ptr : "", r->xml.len}, part, rest;
    struct cv_buf tmp = CV_BUF_INIT(1 << 20);
    size_t cap = 1, k = 0, i;
    cv_err err = CV_OK;

    for (i = 0; i < q.len; i++) {
        cap += q.ptr[i] == '&';
    }
    cap += r->nparams;
    f->p = cv_arena_alloc(&r->arena, cap * sizeof(*f->p));
    if (!f->p) {
        return CV_ENOMEM;
    }
    /* Query-string parameters count too (the API accepts both). */
    for (i = 0; i < r->nparams; i++) {
        f->p[k++] = r->params[i];
    }
    while (q.len && !err) {
        struct cv_str name, value;
        cv_str_split(q, '&', &part, &rest);
        q = rest;
        if (!part.len) {
            continue;
        }
        cv_str_split(part, '=', &name, &value);
        cv_buf_reset(&tmp);
        err = cv_uri_decode(&tmp, name, true);
        if (!err) {
            f->p[k].name.ptr = cv_arena_strndup(&r->arena, tmp.ptr ? tmp.ptr : "", tmp.len);
            f->p[k].name.len = tmp.len;
            cv_buf_reset(&tmp);
            err = cv_uri_decode(&tmp, value, true);
        }
        if (!err) {
            f->p[k].value.ptr = cv_arena_strndup(&r->arena, tmp.ptr ? tmp.ptr : "", tmp.len);
            f->p[k].value.len = tmp.len;
            f->p[k].has_value = true;
            if (!f->p[k].name.ptr || !f->p[k].value.ptr) {
                err = CV_ENOMEM;
            }
            k++;
        }
    }
    f->n = k;
    cv_buf_release(&tmp);
    return err;
}

const struct query_param *iam_form_get(const struct iam_form *f, const char *name)
{
    size_t i;

    for (i = 0; i < f->n; i++) {
        if (cv_str_eq_c(f->p[i].name, name)) {
            return &f->p[i];
        }
    }
    return NULL;
}

const char *iam_form_str(struct store_req *r, const struct iam_form *f, const char *name)
{
    const struct query_param *q = iam_form_get(f, name);
    return q ? cv_arena_strndup(&r->arena, q->value.ptr, q->value.len) : NULL;
}

/* ----------------------------------------------------------- responses */

void iam_error(struct store_req *r, cv_err code, const char *msg)
{
    struct cv_buf *b = &r->resp.body;
    bool sts = r->auth.kind != SIGV4_AUTH_NONE && cv_str_eq_c(r->auth.scope.service, "sts");
    cv_err err;

    cv_buf_release(b);
    cv_buf_init(b, 1 << 20);
    r->resp.stream = false;
    r->resp.status = cv_err_http_status(code);
    r->resp.content_type = "text/xml";
    r->err = code;
    err = cv_buf_addf(b, "<ErrorResponse xmlns=\"%s\"><Error><Type>%s</Type>", sts ? STS_NS : IAM_NS,
                      r->resp.status >= 500 ? "Receiver" : "Sender");
    if (!err) {
        err = xml_elemc(b, "Code", cv_err_wire_code(code));
    }
    if (!err) {
        err = xml_elemc(b, "Message", msg ? msg : cv_err_str(code));
    }
    if (!err) {
        err = cv_buf_adds(b, "</Error>");
    }
    if (!err) {
        err = xml_elemc(b, "RequestId", r->request_id);
    }
    if (!err) {
        err = cv_buf_adds(b, "</ErrorResponse>");
    }
    if (err) {
        cv_buf_release(b);
    }
}

void iam_errorf(struct store_req *r, cv_err code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    iam_error(r, code, msg);
}

/* Wraps @p result (may be NULL) into <ActionResponse><ActionResult>... */
void iam_ok(struct store_req *r, const char *action, const char *ns, struct cv_buf *result)
{
    struct cv_buf *b = &r->resp.body;
    cv_err err;

    cv_buf_release(b);
    cv_buf_init(b, 4 << 20);
    err = cv_buf_addf(b, "<%sResponse xmlns=\"%s\">", action, ns);
    if (!err && result) {
        err = cv_buf_addf(b, "<%sResult>", action);
        if (!err && result->len) {
            err = cv_buf_add(b, result->ptr, result->len);
        }
        if (!err) {
            err = cv_buf_addf(b, "</%sResult>", action);
        }
    }
    if (!err) {
        err = cv_buf_addf(b, "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>",
                          r->request_id, action);
    }
    if (err) {
        iam_error(r, err, NULL);
        return;
    }
    r->resp.status = 200;
    r->resp.content_type = "text/xml";
}

/* ----------------------------------------------------------- helpers */

bool iam_name_valid(const char *s, size_t max)
{
    size_t i, n = s ? strlen(s) : 0;

    if (n == 0 || n > max) {
        return false;
    }
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '-')) {
            return false;
        }
    }
    return true;
}

bool iam_path_valid(const char *p)
{
    size_t i, n = strlen(p);

    if (n == 0 || n > 512 || p[0] != '/' || p[n - 1] != '/') {
        return false;
    }
    for (i = 0; i < n; i++) {
        if ((unsigned char)p[i] < 0x21 || (unsigned char)p[i] > 0x7e) {
            return false;
        }
    }
    return true;
}

cv_err iam_random_upper(char *out, size_t n)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    uint8_t rnd[64];
    size_t i;
    cv_err err = n <= sizeof(rnd) ? cv_random_bytes(rnd, n) : CV_EINVAL;

    for (i = 0; !err && i < n; i++) {
        out[i] = alpha[rnd[i] % 32];
    }
    out[n] = '\0';
    return err;
}

void iam_iso_seconds(int64_t ms, char out[25])
{
    cv_time_iso8601_ms(ms, out);
    memcpy(out + 19, "Z", 2);
}

cv_err iam_user_get(struct store_req *r, const char *account, const char *name,
                    struct iam_user_row *u)
{
    struct db_conn *c = db_reader(r->st->db);
    sqlite3_stmt *q = NULL;
    cv_err err = CV_IAM_NO_SUCH_ENTITY;

    if (!c) {
        return CV_ENOMEM;
    }
    if (sqlite3_prepare_v2(c->h,
                           "SELECT name, user_id, path, created FROM users WHERE account = ?1 "
                           "AND name = ?2",
                           -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_text(q, 1, account, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW) {
            snprintf(u->name, sizeof(u->name), "%s", (const char *)sqlite3_column_text(q, 0));
            snprintf(u->user_id, sizeof(u->user_id), "%s", (const char *)sqlite3_column_text(q, 1));
            snprintf(u->path, sizeof(u->path), "%s", (const char *)sqlite3_column_text(q, 2));
            u->created = sqlite3_column_int64(q, 3);
            err = CV_OK;
        }
    } else {
        err = CV_EDB;
    }
    sqlite3_finalize(q);
    db_reader_done(r->st->db, c);
    return err;
}

/* A user's fields inside <@p wrap> (User, or member in lists). */
cv_err iam_user_xml(struct cv_buf *b, const char *account, const struct iam_user_row *u,
                    const char *wrap)
{
    char date[25];
    cv_err err;

    iam_iso_seconds(u->created, date);
    err = cv_buf_addf(b, "<%s>", wrap);
    if (!err) {
        err = xml_elemc(b, "Path", u->path);
    }
    if (!err) {
        err = xml_elemc(b, "UserName", u->name);
    }
    if (!err) {
        err = xml_elemc(b, "UserId", u->user_id);
    }
    if (!err) {
        err = cv_buf_addf(b, "<Arn>arn:aws:iam::%s:user", account);
    }
    if (!err) {
        err = cv_buf_add_xml(b, u->path, strlen(u->path));
    }
    if (!err) {
        err = cv_buf_add_xml(b, u->name, strlen(u->name));
    }
    if (!err) {
        err = cv_buf_adds(b, "</Arn>");
    }
    if (!err) {
        err = xml_elemc(b, "CreateDate", date);
    }
    if (!err) {
        err = cv_buf_addf(b, "</%s>", wrap);
    }
    return err;
}

/* May the caller do @p action on user @p name of its account? Sets the error. */
static bool allowed_on_user(struct store_req *r, const char *action, const char *name,
                            const char *path)
{
    char arn[700];

    snprintf(arn, sizeof(arn), "arn:aws:iam::%s:user%s%s", r->ident.account, path ? path : "/",
             name ? name : "");
    if (store_authorize_iam(r, action, arn)) {
        return true;
    }
    iam_errorf(r, CV_S3_ACCESS_DENIED,
               "User: %s is not authorized to perform: %s on resource: %s", r->ident.arn, action,
               arn);
    return false;
}

/* The user a call is about: UserName, or the calling IAM user itself. */
static const char *target_user(struct store_req *r, const struct iam_form *f)
{
    const char *u = iam_form_str(r, f, "UserName");

    if (!u && r->ident.kind == IDENT_USER) {
        u = r->ident.user;
    }
    return u;
}

void iam_changed(struct store *st)
{
    store_creds_invalidate(st);
}

/* -------------------------------------------------------------- users */

struct user_job {
    struct store_req *r;
    const char *name, *path, *user_id;
    const char *policy_name, *doc;
    size_t doclen;
    const char *akid, *status;
    struct cv_buf *sealed;
};

cv_err iam_exec1(struct db_conn *c, const char *sql, const char *a, const char *b, const char *cc,
                 int *changes)
{
    sqlite3_stmt *q = NULL;
    cv_err err = CV_OK;

    if (sqlite3_prepare_v2(c->h, sql, -1, &q, NULL) != SQLITE_OK) {
        return CV_EDB;
    }
    if (a) {
        sqlite3_bind_text(q, 1, a, -1, SQLITE_STATIC);
    }
    if (b) {
        sqlite3_bind_text(q, 2, b, -1, SQLITE_STATIC);
    }
    if (cc) {
        sqlite3_bind_text(q, 3, cc, -1, SQLITE_STATIC);
    }
    switch (sqlite3_step(q)) {
    case SQLITE_DONE:
    case SQLITE_ROW:
        break;
    case SQLITE_CONSTRAINT:
        err = CV_IAM_ENTITY_EXISTS;
        break;
    default:
        err = CV_EDB;
    }
    if (changes) {
        *changes = sqlite3_changes(c->h);
    }
    sqlite3_finalize(q);
    return err;
}

int64_t iam_count1(struct db_conn *c, const char *sql, const char *a, const char *b)
{
    sqlite3_stmt *q = NULL;
    int64_t n = -1;

    if (sqlite3_prepare_v2(c->h, sql, -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_text(q, 1, a, -1, SQLITE_STATIC);
        if (b) {
            sqlite3_bind_text(q, 2, b, -1, SQLITE_STATIC);
        }
        if (sqlite3_step(q) == SQLITE_ROW) {
            n = sqlite3_column_int64(q, 0);
        }
    }
    sqlite3_finalize(q);
    return n;
}

static cv_err create_user_tx(struct db_conn *c, void *arg)
{
    struct user_job *j = arg;
    sqlite3_stmt *q = NULL;
    cv_err err = CV_OK;

    if (iam_count1(c, "SELECT COUNT(*) FROM users WHERE account = ?1 AND name = ?2",
                   j->r->ident.account, j->name) != 0) {
        return CV_IAM_ENTITY_EXISTS;
    }
    if (sqlite3_prepare_v2(c->h,
                           "INSERT INTO users(account, name, user_id, path, created) VALUES "
                           "(?1, ?2, ?3, ?4, ?5)",
                           -1, &q, NULL) != SQLITE_OK) {
        return CV_EDB;
    }
    sqlite3_bind_text(q, 1, j->r->ident.account, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, j->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, j->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, j->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, j->r->now_ms);
    if (sqlite3_step(q) != SQLITE_DONE) {
        err = CV_IAM_ENTITY_EXISTS;
    }
    sqlite3_finalize(q);
    return err;
}

static void create_user(struct store_req *r, const struct iam_form *f)
{
    struct user_job j;
    struct iam_user_row u;
    char uid[32];
    struct cv_buf res = CV_BUF_INIT(1 << 16);
    cv_err err;

    memset(&j, 0, sizeof(j));
    j.r = r;
    j.name = iam_form_str(r, f, "UserName");
    j.path = iam_form_str(r, f, "Path");
    if (!j.path) {
        j.path = "/";
    }
    if (!iam_name_valid(j.name, 64)) {
        iam_error(r, CV_IAM_VALIDATION,
                  "1 validation error detected: Value at 'userName' failed to satisfy "
                  "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ "
                  "and have length between 1 and 64");
        return;
    }
    if (!iam_path_valid(j.path)) {
        iam_error(r, CV_IAM_VALIDATION,
                  "The specified value for path is invalid. It must begin and end with / and "
                  "contain only alphanumeric characters and/or / characters.");
        return;
    }
    if (!allowed_on_user(r, "iam:CreateUser", j.name, j.path)) {
        return;
    }
    memcpy(uid, "AIDA", 4);
    err = iam_random_upper(uid + 4, 17);
    j.user_id = uid;
    if (!err) {
        err = db_write(r->st->db, create_user_tx, &j);
    }
    if (err == CV_IAM_ENTITY_EXISTS) {
        iam_errorf(r, err, "User with name %s already exists.", j.name);
        return;
    }
    if (!err) {
        err = iam_user_get(r, r->ident.account, j.name, &u);
    }
    if (!err) {
        err = iam_user_xml(&res, r->ident.account, &u, "User");
    }
    if (err) {
        iam_error(r, err, NULL);
    } else {
        iam_changed(r->st);
        iam_ok(r, "CreateUser", IAM_NS, &res);
    }
    cv_buf_release(&res);
}

static void get_user(struct store_req *r, const struct iam_form *f)
{
    const char *name = target_user(r, f);
    struct iam_user_row u;
    struct cv_buf res = CV_BUF_INIT(1 << 16);
    cv_err err;

    if (!name) {
        /* The root user describes itself. */
        char date[25];
        iam_iso_seconds(r->now_ms, date);
        err = cv_buf_addf(&res,
                          "<User><UserId>%s</UserId><Arn>arn:aws:iam::%s:root</Arn>"
                          "<CreateDate>%s</CreateDate></User>",
                          r->ident.account, r->ident.account, date);
        if (err) {
            iam_error(r, err, NULL);
        } else {
            iam_ok(r, "GetUser", IAM_NS, &res);
        }
        cv_buf_release(&res);
        return;
    }
    err = iam_user_get(r, r->ident.account, name, &u);
    if (err == CV_IAM_NO_SUCH_ENTITY) {
        if (allowed_on_user(r, "iam:GetUser", name, "/")) {
            iam_errorf(r, err, "The user with name %s cannot be found.", name);
        }
        return;
    }
    if (!err && !allowed_on_user(r, "iam:GetUser", u.name, u.path)) {
        return;
    }
    if (!err) {
        err = iam_user_xml(&res, r->ident.account, &u, "User");
    }
    if (err) {
        iam_error(r, err, NULL);
    } else {
        iam_ok(r, "GetUser", IAM_NS, &res);
    }
    cv_buf_release(&res);
}

static void list_users(struct store_req *r, const struct iam_form *f)
{
    const char *prefix = iam_form_str(r, f, "PathPrefix");
    struct cv_buf res = CV_BUF_INIT(8 << 20);
    struct db_conn *c;
    sqlite3_stmt *q = NULL;
    cv_err err = CV_OK;

    if (!allowed_on_user(r, "iam:ListUsers", "", "/")) {
        return;
    }
    c = db_reader(r->st->db);
    if (!c || sqlite3_prepare_v2(c->h,
                                 "SELECT name, user_id, path, created FROM users WHERE account = "
                                 "?1 AND substr(path, 1, length(?2)) = ?2 ORDER BY name",
                                 -1, &q, NULL) != SQLITE_OK) {
        db_reader_done(r->st->db, c);
        iam_error(r, CV_EDB, NULL);
        return;
    }
    sqlite3_bind_text(q, 1, r->ident.account, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, prefix ? prefix : "/", -1, SQLITE_STATIC);
    err = cv_buf_adds(&res, "<Users>");
    while (!err && sqlite3_step(q) == SQLITE_ROW) {
        struct iam_user_row u;
        snprintf(u.name, sizeof(u.name), "%s", (const char *)sqlite3_column_text(q, 0));
        snprintf(u.user_id, sizeof(u.user_id), "%s", (const char *)sqlite3_column_text(q, 1));
        snprintf(u.path, sizeof(u.path), "%s", (const char *)sqlite3_column_text(q, 2));
        u.created = sqlite3_column_int64(q, 3);
        err = iam_user_xml(&res, r->ident.account, &u, "member");
    }
    sqlite3_finalize(q);
    db_reader_done(r->st->db, c);
    if (!err) {
        err = cv_buf_adds(&res, "</Users><IsTruncated>false</IsTruncated>");
    }
    if (err) {
        iam_error(r, err, NULL);
    } else {
        iam_ok(r, "ListUsers", IAM_NS, &res);
    }
    cv_buf_release(&res);
}

static cv_err delete_user_tx(struct db_conn *c, void *arg)
{
    struct user_job *j = arg;
    int changes = 0;
    cv_err err;

    if (iam_count1(c, "SELECT COUNT(*) FROM access_keys WHERE account = ?1 AND user = ?2",
                   j->r->ident.account, j->name) > 0) {
        return CV_IAM_DELETE_CONFLICT;
    }
    if (iam_count1(c, "SELECT COUNT(*) FROM user_policies WHERE account = ?1 AND user = ?2",
                   j->r->ident.account, j->name) > 0) {
        j->status = "policies";
        return CV_IAM_DELETE_CONFLICT;
    }
    if (iam_count1(c,
                   "SELECT COUNT(*) FROM attached_policies WHERE account = ?1 AND kind = 'user' "
                   "AND entity = ?2",
                   j->r->ident.account, j->name) > 0) {
        j->status = "attached policies";
        return CV_IAM_DELETE_CONFLICT;
    }
    /* Group memberships go with the user. AWS refuses (DeleteConflict) until
     * the user has left its groups; RGW, and ceph/s3-tests' clean-up (users
     * before groups, fixed user names), expect them to be dropped. */
    err = iam_exec1(c, "DELETE FROM group_members WHERE account = ?1 AND user = ?2",
                    j->r->ident.account, j->name, NULL, NULL);
    if (!err) {
        err = iam_exec1(c, "DELETE FROM users WHERE account = ?1 AND name = ?2",
                        j->r->ident.account, j->name, NULL, &changes);
    }
    if (!err && changes == 0) {
        err = CV_IAM_NO_SUCH_ENTITY;
    }
    return err;
}

static void delete_user(struct store_req *r, const struct iam_form *f)
{
    struct user_job j;
    struct iam_user_row u;
    cv_err err;

    memset(&j, 0, sizeof(j));
    j.r = r;
    j.name = iam_form_str(r, f, "UserName");
    if (!iam_name_valid(j.name, 64)) {
        iam_error(r, CV_IAM_VALIDATION, "UserName is required.");
        return;
    }
    err = iam_user_get(r, r->ident.account, j.name, &u);
    if (!allowed_on_user(r, "iam:DeleteUser", j.name, err ? "/" : u.path)) {
        return;
    }
    if (!err) {
        err = db_write(r->st->db, delete_user_tx, &j);
    }
    if (err == CV_IAM_NO_SUCH_ENTITY) {
        iam_errorf(r, err, "The user with name %s cannot be found.", j.name);
        return;
    }
    if (err == CV_IAM_DELETE_CONFLICT) {
        iam_errorf(r, err, "Cannot delete entity, must delete %s first.",
                   j.status ? j.status : "access keys");
        return;
    }
    if (err) {
        iam_error(r, err, NULL);
        return;
    }
    iam_changed(r->st);
    iam_ok(r, "DeleteUser", IAM_NS, NULL);
}

/* --------------------------------------------------------- access keys */

static cv_err create_key_tx(struct db_conn *c, void *arg)
{
    struct user_job *j = arg;
    sqlite3_stmt *q = NULL;
    int64_t n;
    cv_err err = CV_OK;

    if (j->name) {
        if (iam_count1(c, "SELECT COUNT(*) FROM users WHERE account = ?1 AND name = ?2",
                       j->r->ident.account, j->name) <= 0) {
            return CV_IAM_NO_SUCH_ENTITY;
        }
        n = iam_count1(c, "SELECT COUNT(*) FROM access_keys WHERE account = ?1 AND user = ?2",
                       j->r->ident.account, j->name);
    } else {
        n = iam_count1(c, "SELECT COUNT(*) FROM access_keys WHERE account = ?1 AND user IS NULL",
                       j->r->ident.account, NULL);
    }
    if (n >= MAX_KEYS_PER_USER) {
        return CV_IAM_LIMIT_EXCEEDED;
    }
    if (sqlite3_prepare_v2(c->h,
                           "INSERT INTO access_keys(akid, account, user, secret, status, created) "
                           "VALUES (?1, ?2, ?3, ?4, 'Active', ?5)",
                           -1, &q, NULL) != SQLITE_OK) {
        return CV_EDB;
    }
    sqlite3_bind_text(q, 1, j->akid, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, j->r->ident.account, -1, SQLITE_STATIC);
    if (j->name) {
        sqlite3_bind_text(q, 3, j->name, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(q, 3);
    }
    sqlite3_bind_blob(q, 4, j->sealed->ptr, (int)j->sealed->len, SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, j->r->now_ms);
    if (sqlite3_step(q) != SQLITE_DONE) {
        err = CV_EDB;
    }
    sqlite3_finalize(q);
    return err;
}

static void create_access_key(struct store_req *r, const struct iam_form *f)
{
    struct user_job j;
    struct cv_buf sealed = CV_BUF_INIT(1024), res = CV_BUF_INIT(4096);
    char akid[21], secret[41], date[25];
    uint8_t rnd[40];
    static const char b64ish[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;
    cv_err err;

    memset(&j, 0, sizeof(j));
    j.r = r;
    j.name = target_user(r, f);
    if (j.name && !iam_name_valid(j.name, 64)) {
        iam_error(r, CV_IAM_VALIDATION, "Invalid UserName.");
        return;
    }
    if (!allowed_on_user(r, "iam:CreateAccessKey", j.name ? j.name : "", "/")) {
        return;
    }
    memcpy(akid, "AKIA", 4);
    err = iam_random_upper(akid + 4, 16);
    if (!err) {
        err = cv_random_bytes(rnd, sizeof(rnd));
    }
    for (i = 0; !err && i < 40; i++) {
        secret[i] = b64ish[rnd[i] % 64];
    }
    secret[40] = '\0';
    if (!err) {
        err = store_seal_secret(r->st, akid, secret, &sealed);
    }
    j.akid = akid;
    j.sealed = &sealed;
    if (!err) {
        err = db_write(r->st->db, create_key_tx, &j);
    }
    cv_buf_release(&sealed);
    if (err == CV_IAM_NO_SUCH_ENTITY) {
        iam_errorf(r, err, "The user with name %s cannot be found.", j.name);
        goto out;
    }
    if (err == CV_IAM_LIMIT_EXCEEDED) {
        iam_errorf(r, err, "Cannot exceed quota for AccessKeysPerUser: %d", MAX_KEYS_PER_USER);
        goto out;
    }
    if (err) {
        iam_error(r, err, NULL);
        goto out;
    }
    iam_iso_seconds(r->now_ms, date);
    err = cv_buf_adds(&res, "<AccessKey>");
    if (!err && j.name) {
        err = xml_elemc(&res, "UserName", j.name);
    }
    if (!err) {
        err = cv_buf_addf(&res,
                          "<AccessKeyId>%s</AccessKeyId><Status>Active</Status>"
                          "<SecretAccessKey>%s</SecretAccessKey><CreateDate>%s</CreateDate>"
                          "</AccessKey>",
                          akid, secret, date);
    }
    if (err) {
        iam_error(r, err, NULL);
    } else {
        iam_changed(r->st);
        iam_ok(r, "CreateAccessKey", IAM_NS, &res);
    }
out:
    cv_secure_zero(secret, sizeof(secret));
    if (res.ptr) {
        cv_secure_zero(res.ptr, res.len);
    }
    cv_buf_release(&res);
}

static void list_access_keys(struct store_req *r, const struct iam_form *f)
{
    const char *name = target_user(r, f);
    struct cv_buf res = CV_BUF_INIT(1 << 16);
    struct db_conn *c;
    sqlite3_stmt *q = NULL;
    struct iam_user_row u;
    cv_err err = CV_OK;

    if (name && iam_user_get(r, r->ident.account, name, &u) != CV_OK) {
        if (allowed_on_user(r, "iam:ListAccessKeys", name, "/")) {
            iam_errorf(r, CV_IAM_NO_SUCH_ENTITY, "The user with name %s cannot be found.", name);
        }
        return;
    }
    if (!allowed_on_user(r, "iam:ListAccessKeys", name ? name : "", name ? u.path : "/")) {
        return;
    }
    c = db_reader(r->st->db);
    if (!c ||
        sqlite3_prepare_v2(c->h,
                           name ? "SELECT akid, status, created FROM access_keys WHERE account = "
                                  "?1 AND user = ?2 ORDER BY created"
                                : "SELECT akid, status, created FROM access_keys WHERE account = "
                                  "?1 AND user IS NULL ORDER BY created",
                           -1, &q, NULL) != SQLITE_OK) {
        db_reader_done(r->st->db, c);
        iam_error(r, CV_EDB, NULL);
        return;
    }
    sqlite3_bind_text(q, 1, r->ident.account, -1, SQLITE_STATIC);
    if (name) {
        sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
    }
    err = cv_buf_adds(&res, "<AccessKeyMetadata>");
    while (!err && sqlite3_step(q) == SQLITE_ROW) {
        char date[25];
        iam_iso_seconds(sqlite3_column_int64(q, 2), date);
        err = cv_buf_adds(&res, "<member>");
        if (!err && name) {
            err = xml_elemc(&res, "UserName", name);
        }
        if (!err) {
            err = cv_buf_addf(&res,
                              "<AccessKeyId>%s</AccessKeyId><Status>%s</Status>"
                              "<CreateDate>%s</CreateDate></member>",
                              (const char *)sqlite3_column_text(q, 0),
                              (const char *)sqlite3_column_text(q, 1), date);
        }
    }
    sqlite3_finalize(q);
    db_reader_done(r->st->db, c);
    if (!err) {
        err = cv_buf_adds(&res, "</AccessKeyMetadata><IsTruncated>false</IsTruncated>");
    }
    if (!err && name) {
        err = xml_elemc(&res, "UserName", name);
    }
    if (err) {
        iam_error(r, err, NULL);
    } else {
        iam_ok(r, "ListAccessKeys", IAM_NS, &res);
    }
    cv_buf_release(&res);
}

static cv_err key_update_tx(struct db_conn *c, void *arg)
{
    struct user_job *j = arg;
    int changes = 0;
    cv_err err;

    if (j->status) {
        err = iam_exec1(c,
                        j->name
                            ? "UPDATE access_keys SET status = ?3 WHERE akid = ?1 AND account = "
                              "(SELECT account FROM access_keys WHERE akid = ?1) AND user = ?2"
                            : "UPDATE access_keys SET status = ?3 WHERE akid = ?1 AND user IS NULL "
                              "AND ?2 IS NULL",
                        j->akid, j->name, j->status, &changes);
    } else {
        err = iam_exec1(c,
                        j->name
                            ? "DELETE FROM access_keys WHERE akid = ?1 AND user = ?2"
                            : "DELETE FROM access_keys WHERE akid = ?1 AND user IS NULL AND ?2 IS "
                              "NULL",
                        j->akid, j->name, NULL, &changes);
    }
    if (!err && changes == 0) {
        err = CV_IAM_NO_SUCH_ENTITY;
    }
    return err;
}

/* The account check: keys are looked up within the caller's account. */
static bool key_in_account(struct store_req *r, const char *akid)
{
    struct db_conn *c = db_reader(r->st->db);
    int64_t n;

    if (!c) {
        return false;
    }
    n = iam_count1(c, "SELECT COUNT(*) FROM access_keys WHERE akid = ?1 AND account = ?2", akid,
                   r->ident.account);
    db_reader_done(r->st->db, c);
    return n > 0;
}

static void update_or_delete_key(struct store_req *r, const struct iam_form *f, bool del)
{
    struct user_job j;
    const char *action = del ? "DeleteAccessKey" : "UpdateAccessKey";
    char iam_action[64];
    cv_err err;

    memset(&j, 0, sizeof(j));
    j.r = r;
    j.name = target_user(r, f);
    j.akid = iam_form_str(r, f, "AccessKeyId");
    if (!del) {
        j.status = iam_form_str(r, f, "Status");
        if (!j.status || (strcmp(j.status, "Active") != 0 && strcmp(j.status, "Inactive") != 0)) {
            iam_error(r, CV_IAM_VALIDATION,
                      "1 validation error detected: Value at 'status' failed to satisfy "
                      "constraint: Member must satisfy enum value set: [Active, Inactive]");
            return;
        }
    }
    if (!j.akid || !j.akid[0]) {
        iam_error(r, CV_IAM_VALIDATION, "AccessKeyId is required.");
        return;
    }
    snprintf(iam_action, sizeof(iam_action), "iam:%s", action);
    if (!allowed_on_user(r, iam_action, j.name ? j.name : "", "/")) {
        return;
    }
    err = key_in_account(r, j.akid) ? db_write(r->st->db, key_update_tx, &j)
                                     : CV_IAM_NO_SUCH_ENTITY;
    if (err == CV_IAM_NO_SUCH_ENTITY) {
        iam_errorf(r, err, "The Access Key with id %s cannot be found.", j.akid);
        return;
    }
    if (err) {
        iam_error(r, err, NULL);
        return;
    }
    iam_changed(r->st);
    iam_ok(r, action, IAM_NS, NULL);
}

/* ------------------------------------------------------- user policies */

static cv_err put_policy_tx(struct db_conn *c, void *arg)
{
    struct user_job *j = arg;
    sqlite3_stmt *q = NULL;
    size_t total;
    cv_err err = CV_OK;

    if (iam_count1(c, "SELECT COUNT(*) FROM users WHERE account = ?1 AND name = ?2",
                   j->r->ident.account, j->name) <= 0) {
        return CV_IAM_NO_SUCH_ENTITY;
    }
    /* The quota counts every inline policy of the user, this one replacing
     * its namesake (IAM.md §1.8). */
    total = policy_iam_size(j->doc, j->doclen);
    if (sqlite3_prepare_v2(c->h,
                           "SELECT document FROM user_policies WHERE account = ?1 AND user = ?2 "
                           "AND name <> ?3",
                           -1, &q, NULL) != SQLITE_OK) {
        return CV_EDB;
    }
    sqlite3_bind_text(q, 1, j->r->ident.account, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, j->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, j->policy_name, -1, SQLITE_STATIC);
    while (sqlite3_step(q) == SQLITE_ROW) {
        struct cv_str d = db_col_str(q, 0);
        total += policy_iam_size(d.ptr, d.len);
    }
    sqlite3_finalize(q);
    if (total > POLICY_USER_INLINE_QUOTA) {
        return CV_IAM_LIMIT_EXCEEDED;
    }
    if (sqlite3_prepare_v2(c->h,
                           "INSERT OR REPLACE INTO user_policies(account, user, name, document) "
                           "VALUES (?1, ?2, ?3, ?4)",
                           -1, &q, NULL) != SQLITE_OK) {
        return CV_EDB;
    }
    sqlite3_bind_text(q, 1, j->r->ident.account, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, j->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, j->policy_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, j->doc, (int)j->doclen, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE) {
        err = CV_EDB;
    }
    sqlite3_finalize(q);
    return err;
}

static void put_user_policy(struct store_req *r, const struct iam_form *f)
{
    struct user_job j;
    const struct query_param *doc = iam_form_get(f, "PolicyDocument");
    struct policy_parse_opts o;
    struct policy *p = NULL;
    char msg[512] = "";
    cv_err err;

    memset(&j, 0, sizeof(j));
    j.r = r;
    j.name = iam_form_str(r, f, "UserName");
    j.policy_name = iam_form_str(r, f, "PolicyName");
    if (!iam_name_valid(j.name, 64) || !iam_name_valid(j.policy_name, 128) || !doc) {
        iam_error(r, CV_IAM_VALIDATION,
                  "UserName, PolicyName ([\\w+=,.@-]+) and PolicyDocument are required.");
        return;
    }
    if (!allowed_on_user(r, "iam:PutUserPolicy", j.name, "/")) {
        return;
    }
    j.doc = doc->value.ptr;
    j.doclen = doc->value.len;
    memset(&o, 0, sizeof(o));
    o.type = POLICY_IDENTITY;
    o.name = j.policy_name;
    err = policy_parse(j.doc, j.doclen, &o, &p, msg, sizeof(msg));
    policy_free(p);
    if (err) {
        iam_error(r, err == CV_ETOOBIG ? CV_IAM_LIMIT_EXCEEDED : err, msg[0] ? msg : NULL);
        return;
    }
    err = db_write(r->st->db, put_policy_tx, &j);
    if (err == CV_IAM_NO_SUCH_ENTITY) {
        iam_errorf(r, err, "The user with name %s cannot be found.", j.name);
        return;
    }
    if (err == CV_IAM_LIMIT_EXCEEDED) {
        iam_errorf(r, err, "Maximum policy size of %d bytes exceeded for user %s",
                   POLICY_USER_INLINE_QUOTA, j.name);
        return;
    }
    if (err) {
        iam_error(r, err, NULL);
        return;
    }
    iam_changed(r->st);
    iam_ok(r, "PutUserPolicy", IAM_NS, NULL);
}

static void get_user_policy(struct store_req *r, const struct iam_form *f)
{
    const char *name = iam_form_str(r, f, "UserName");
    const char *pname = iam_form_str(r, f, "PolicyName");
    struct cv_buf res = CV_BUF_INIT(1 << 20);
    struct db_conn *c;
    sqlite3_stmt *q = NULL;
    cv_err err = CV_IAM_NO_SUCH_ENTITY;

    if (!iam_name_valid(name, 64) || !iam_name_valid(pname, 128)) {
        iam_error(r, CV_IAM_VALIDATION, "UserName and PolicyName are required.");
        return;
    }
    if (!allowed_on_user(r, "iam:GetUserPolicy", name, "/")) {
        return;
    }
    c = db_reader(r->st->db);
    if (c && sqlite3_prepare_v2(c->h,
                                "SELECT document FROM user_policies WHERE account = ?1 AND user = "
                                "?2 AND name = ?3",
                                -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_text(q, 1, r->ident.account, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, pname, -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW) {
            struct cv_str d = db_col_str(q, 0);
            /* IAM returns documents URL-encoded (RFC 3986). */
            err = xml_elemc(&res, "UserName", name);
            if (!err) {
                err = xml_elemc(&res, "PolicyName", pname);
            }
            if (!err) {
                err = cv_buf_adds(&res, "<PolicyDocument>");
            }
            if (!err) {
                err = cv_uri_encode(&res, d, false);
            }
            if (!err) {
                err = cv_buf_adds(&res, "</PolicyDocument>");
            }
        }
    }
    sqlite3_finalize(q);
    db_reader_done(r->st->db, c);
    if (err == CV_IAM_NO_SUCH_ENTITY) {
        iam_errorf(r, err, "The user policy with name %s cannot be found.", pname);
    } else if (err) {
        iam_error(r, err, NULL);
    } else {
        iam_ok(r, "GetUserPolicy", IAM_NS, &res);
    }
    cv_buf_release(&res);
}

static void list_user_policies(struct store_req *r, const struct iam_form *f)
{
    const char *name = iam_form_str(r, f, "UserName");
    struct cv_buf res = CV_BUF_INIT(1 << 20);
    struct iam_user_row u;
    struct db_conn *c;
    sqlite3_stmt *q = NULL;
    cv_err err;

    if (!iam_name_valid(name, 64)) {
        iam_error(r, CV_IAM_VALIDATION, "UserName is required.");
        return;
    }
    if (!allowed_on_user(r, "iam:ListUserPolicies", name, "/")) {
        return;
    }
    if (iam_user_get(r, r->ident.account, name, &u) != CV_OK) {
        iam_errorf(r, CV_IAM_NO_SUCH_ENTITY, "The user with name %s cannot be found.", name);
        return;
    }
    c = db_reader(r->st->db);
    err = c ? CV_OK : CV_ENOMEM;
    if (!err && sqlite3_prepare_v2(c->h,
                                   "SELECT name FROM user_policies WHERE account = ?1 AND user = "
                                   "?2 ORDER BY name",
                                   -1, &q, NULL) != SQLITE_OK) {
        err = CV_EDB;
    }
    if (!err) {
        sqlite3_bind_text(q, 1, r->ident.account, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
        err = cv_buf_adds(&res, "<PolicyNames>");
    }
    while (!err && sqlite3_step(q) == SQLITE_ROW) {
        err = xml_elemc(&res, "member", (const char *)sqlite3_column_text(q, 0));
    }
    sqlite3_finalize(q);
    db_reader_done(r->st->db, c);
    if (!err) {
        err = cv_buf_adds(&res, "</PolicyNames><IsTruncated>false</IsTruncated>");
    }
    if (err) {
        iam_error(r, err, NULL);
    } else {
        iam_ok(r, "ListUserPolicies", IAM_NS, &res);
    }
    cv_buf_release(&res);
}

static cv_err delete_policy_tx(struct db_conn *c, void *arg)
{
    struct user_job *j = arg;
    int changes = 0;
    cv_err err =
        iam_exec1(c, "DELETE FROM user_policies WHERE account = ?1 AND user = ?2 AND name = ?3",
                  j->r->ident.account, j->name, j->policy_name, &changes);

    return !err && changes == 0 ? CV_IAM_NO_SUCH_ENTITY : err;
}

static void delete_user_policy(struct store_req *r, const struct iam_form *f)
{
    struct user_job j;
    cv_err err;

    memset(&j, 0, sizeof(j));
    j.r = r;
    j.name = iam_form_str(r, f, "UserName");
    j.policy_name = iam_form_str(r, f, "PolicyName");
    if (!iam_name_valid(j.name, 64) || !iam_name_valid(j.policy_name, 128)) {
        iam_error(r, CV_IAM_VALIDATION, "UserName and PolicyName are required.");
        return;
    }
    if (!allowed_on_user(r, "iam:DeleteUserPolicy", j.name, "/")) {
        return;
    }
    err = db_write(r->st->db, delete_policy_tx, &j);
    if (err == CV_IAM_NO_SUCH_ENTITY) {
        iam_errorf(r, err, "The user policy with name %s cannot be found.", j.policy_name);
        return;
    }
    if (err) {
        iam_error(r, err, NULL);
        return;
    }
    iam_changed(r->st);
    iam_ok(r, "DeleteUserPolicy", IAM_NS, NULL);
}

/* ----------------------------------------------------------------- STS */

static void get_caller_identity(struct store_req *r)
{
    struct cv_buf res = CV_BUF_INIT(4096);
    cv_err err;

    err = cv_buf_adds(&res, "<Arn>");
    if (!err) {
        err = cv_buf_add_xml(&res, r->ident.arn, strlen(r->ident.arn));
    }
    if (!err) {
        err = cv_buf_addf(&res, "</Arn><UserId>%s</UserId><Account>%s</Account>",
                          r->ident.kind == IDENT_USER ? r->ident.user_id : r->ident.account,
                          r->ident.account);
    }
    if (err) {
        iam_error(r, err, NULL);
    } else {
        iam_ok(r, "GetCallerIdentity", STS_NS, &res);
    }
    cv_buf_release(&res);
}


/* ------------------------------------------ update, summary, empty lists */

static cv_err update_user_tx(struct db_conn *c, void *arg)
{
    struct user_job *j = arg;
    const char *acct = j->r->ident.account;
    int changes = 0;
    cv_err err;

    if (iam_count1(c, "SELECT COUNT(*) FROM users WHERE account = ?1 AND name = ?2", acct,
                   j->name) <= 0) {
        return CV_IAM_NO_SUCH_ENTITY;
    }
    if (j->policy_name && strcasecmp(j->policy_name, j->name) != 0 &&
        iam_count1(c, "SELECT COUNT(*) FROM users WHERE account = ?1 AND name = ?2", acct,
                   j->policy_name) > 0) {
        return CV_IAM_ENTITY_EXISTS;
    }
    if (j->path) {
        err = iam_exec1(c, "UPDATE users SET path = ?3 WHERE account = ?1 AND name = ?2", acct,
                        j->name, j->path, &changes);
        if (err) {
            return err;
        }
    }
    if (j->policy_name) {
        /* policy_name carries NewUserName: rename everywhere the name is a key. */
        err = iam_exec1(c, "UPDATE access_keys SET user = ?3 WHERE account = ?1 AND user = ?2",
                        acct, j->name, j->policy_name, NULL);
        if (!err) {
            err =
                iam_exec1(c, "UPDATE user_policies SET user = ?3 WHERE account = ?1 AND user = ?2",
                          acct, j->name, j->policy_name, NULL);
        }
        if (!err) {
            err = iam_ent_rename_user(c, acct, j->name, j->policy_name);
        }
        if (!err) {
            err = iam_exec1(c, "UPDATE users SET name = ?3 WHERE account = ?1 AND name = ?2", acct,
                            j->name, j->policy_name, NULL);
        }
        if (err) {
            return err;
        }
    }
    return CV_OK;
}

static void update_user(struct store_req *r, const struct iam_form *f)
{
    struct user_job j;
    struct iam_user_row u;
    cv_err err;

    memset(&j, 0, sizeof(j));
    j.r = r;
    j.name = iam_form_str(r, f, "UserName");
    j.policy_name = iam_form_str(r, f, "NewUserName");
    j.path = iam_form_str(r, f, "NewPath");
    if (!iam_name_valid(j.name, 64) || (j.policy_name && !iam_name_valid(j.policy_name, 64)) ||
        (j.path && !iam_path_valid(j.path))) {
        iam_error(r, CV_IAM_VALIDATION, "UserName, NewUserName or NewPath is not valid.");
        return;
    }
    err = iam_user_get(r, r->ident.account, j.name, &u);
    if (!allowed_on_user(r, "iam:UpdateUser", j.name, err ? "/" : u.path)) {
        return;
    }
    if (!err) {
        err = db_write(r->st->db, update_user_tx, &j);
    }
    if (err == CV_IAM_NO_SUCH_ENTITY) {
        iam_errorf(r, err, "The user with name %s cannot be found.", j.name);
        return;
    }
    if (err == CV_IAM_ENTITY_EXISTS) {
        iam_errorf(r, err, "User with name %s already exists.", j.policy_name);
        return;
    }
    if (err) {
        iam_error(r, err, NULL);
        return;
    }
    iam_changed(r->st);
    iam_ok(r, "UpdateUser", IAM_NS, NULL);
}

static void get_account_summary(struct store_req *r)
{
    struct cv_buf res = CV_BUF_INIT(8192);
    struct db_conn *c;
    int64_t users = 0, root_keys = 0, groups = 0, roles = 0, policies = 0, oidc = 0;
    char arn[64];
    cv_err err;

    snprintf(arn, sizeof(arn), "arn:aws:iam::%s:root", r->ident.account);
    if (!store_authorize_iam(r, "iam:GetAccountSummary", "*")) {
        iam_errorf(r, CV_S3_ACCESS_DENIED,
                   "User: %s is not authorized to perform: iam:GetAccountSummary", r->ident.arn);
        return;
    }
    c = db_reader(r->st->db);
    if (c) {
        users =
            iam_count1(c, "SELECT COUNT(*) FROM users WHERE account = ?1", r->ident.account, NULL);
        root_keys =
            iam_count1(c, "SELECT COUNT(*) FROM access_keys WHERE account = ?1 AND user IS NULL",
                       r->ident.account, NULL);
        groups =
            iam_count1(c, "SELECT COUNT(*) FROM groups WHERE account = ?1", r->ident.account, NULL);
        roles =
            iam_count1(c, "SELECT COUNT(*) FROM roles WHERE account = ?1", r->ident.account, NULL);
        policies = iam_count1(c, "SELECT COUNT(*) FROM managed_policies WHERE account = ?1",
                              r->ident.account, NULL);
        oidc = iam_count1(c, "SELECT COUNT(*) FROM oidc_providers WHERE account = ?1",
                          r->ident.account, NULL);
        db_reader_done(r->st->db, c);
    }
    err = cv_buf_addf(&res,
                      "<SummaryMap>"
                      "<entry><key>Users</key><value>%lld</value></entry>"
                      "<entry><key>UsersQuota</key><value>5000</value></entry>"
                      "<entry><key>Groups</key><value>%lld</value></entry>"
                      "<entry><key>GroupsQuota</key><value>300</value></entry>"
                      "<entry><key>Roles</key><value>%lld</value></entry>"
                      "<entry><key>RolesQuota</key><value>1000</value></entry>"
                      "<entry><key>Policies</key><value>%lld</value></entry>"
                      "<entry><key>PoliciesQuota</key><value>1500</value></entry>"
                      "<entry><key>Providers</key><value>%lld</value></entry>"
                      "<entry><key>AttachedPoliciesPerUserQuota</key><value>10</value></entry>"
                      "<entry><key>AttachedPoliciesPerGroupQuota</key><value>10</value></entry>"
                      "<entry><key>AttachedPoliciesPerRoleQuota</key><value>10</value></entry>"
                      "<entry><key>GroupsPerUserQuota</key><value>10</value></entry>"
                      "<entry><key>GroupPolicySizeQuota</key><value>5120</value></entry>"
                      "<entry><key>RolePolicySizeQuota</key><value>10240</value></entry>"
                      "<entry><key>PolicySizeQuota</key><value>6144</value></entry>"
                      "<entry><key>AccessKeysPerUserQuota</key><value>%d</value></entry>"
                      "<entry><key>UserPolicySizeQuota</key><value>%d</value></entry>"
                      "<entry><key>AccountAccessKeysPresent</key><value>%d</value></entry>"
                      "<entry><key>AccountMFAEnabled</key><value>0</value></entry>"
                      "<entry><key>MFADevices</key><value>0</value></entry>"
                      "<entry><key>MFADevicesInUse</key><value>0</value></entry>"
                      "</SummaryMap>",
                      (long long)users, (long long)groups, (long long)roles, (long long)policies,
                      (long long)oidc, MAX_KEYS_PER_USER, POLICY_USER_INLINE_QUOTA,
                      root_keys > 0 ? 1 : 0);
    if (err) {
        iam_error(r, err, NULL);
    } else {
        iam_ok(r, "GetAccountSummary", IAM_NS, &res);
    }
    cv_buf_release(&res);
}

/* --------------------------------------------------------------- entry */

void store_iam_dispatch(struct store_req *r)
{
    struct iam_form f;
    const struct query_param *a;

    if (r->auth.kind == SIGV4_AUTH_NONE) {
        iam_error(r, CV_S3_ACCESS_DENIED, "Request is missing Authentication Token");
        r->resp.status = 403;
        return;
    }
    if (form_parse(r, &f)) {
        iam_error(r, CV_IAM_INVALID_INPUT, "The request body is not a valid form.");
        return;
    }
    a = iam_form_get(&f, "Action");
    if (!a) {
        iam_error(r, CV_IAM_INVALID_ACTION, "Missing Action");
        return;
    }
#define IS(x) cv_str_eq_c(a->value, x)
    if (IS("GetCallerIdentity")) {
        get_caller_identity(r);
    } else if (IS("CreateUser")) {
        create_user(r, &f);
    } else if (IS("GetUser")) {
        get_user(r, &f);
    } else if (IS("ListUsers")) {
        list_users(r, &f);
    } else if (IS("DeleteUser")) {
        delete_user(r, &f);
    } else if (IS("CreateAccessKey")) {
        create_access_key(r, &f);
    } else if (IS("ListAccessKeys")) {
        list_access_keys(r, &f);
    } else if (IS("UpdateAccessKey")) {
        update_or_delete_key(r, &f, false);
    } else if (IS("DeleteAccessKey")) {
        update_or_delete_key(r, &f, true);
    } else if (IS("PutUserPolicy")) {
        put_user_policy(r, &f);
    } else if (IS("GetUserPolicy")) {
        get_user_policy(r, &f);
    } else if (IS("ListUserPolicies")) {
        list_user_policies(r, &f);
    } else if (IS("DeleteUserPolicy")) {
        delete_user_policy(r, &f);
    } else if (IS("UpdateUser")) {
        update_user(r, &f);
    } else if (IS("GetAccountSummary")) {
        get_account_summary(r);
    } else if (iam_ent_dispatch(r, &f, a->value)) {
        /* groups, roles, managed policies, OIDC providers (iam_ent.c) */
    } else {
        iam_errorf(r, CV_IAM_INVALID_ACTION, "Could not find operation %.*s for version 2010-05-08",
                   (int)CV_MIN(a->value.len, 64), a->value.ptr);
    }
#undef IS
}
