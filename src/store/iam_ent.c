/*
 * IAM groups, roles, managed policies and OpenID Connect providers, in AWS's
 * query API shapes (iam.c serves users, keys and user inline policies):
 *
 *   groups    CreateGroup GetGroup ListGroups UpdateGroup DeleteGroup
 *             AddUserToGroup RemoveUserFromGroup ListGroupsForUser
 *   roles     CreateRole GetRole ListRoles UpdateRole DeleteRole
 *   inline    Put/Get/List/Delete{Group,Role}Policy
 *   managed   CreatePolicy GetPolicy ListPolicies DeletePolicy GetPolicyVersion
 *             ListPolicyVersions Attach/Detach/ListAttached{User,Group,Role}Policies
 *   OIDC      Create/Get/List/DeleteOpenIDConnectProvider
 *             AddClientIDTo/RemoveClientIDFromOpenIDConnectProvider
 *             UpdateOpenIDConnectProviderThumbprint
 *
 * A few AWS managed policies are built in as read-only documents
 * (arn:aws:iam::aws:policy/NAME). Customer managed policies have one version,
 * v1. Every write calls iam_changed(), which also drops the compiled identity
 * policies authz.c caches per user (a user's identity policies include its
 * groups' inline and attached policies).
 */
#include "store_int.h"
#include "policy/policy.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_ATTACHED 10
#define MAX_GROUPS_PER_USER 10
#define MANAGED_POLICY_QUOTA 6144
#define TRUST_POLICY_QUOTA 2048
#define MAX_OIDC_CLIENT_IDS 100
#define MAX_OIDC_THUMBPRINTS 5

/* ------------------------------------------------ built-in AWS policies */

struct aws_policy {
    const char *name, *id, *doc;
};

static const struct aws_policy aws_policies[] = {
    {"AdministratorAccess", "ANPACVBUILTIN0000ADMIN",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\","
     "\"Resource\":\"*\"}]}"},
    {"AmazonS3FullAccess", "ANPACVBUILTIN000S3FULL",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\","
     "\"Resource\":\"*\"}]}"},
    {"AmazonS3ReadOnlyAccess", "ANPACVBUILTIN000S3READ",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:Get*\","
     "\"s3:List*\"],\"Resource\":\"*\"}]}"},
    {"IAMFullAccess", "ANPACVBUILTIN00IAMFULL",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iam:*\","
     "\"Resource\":\"*\"}]}"},
    {"IAMReadOnlyAccess", "ANPACVBUILTIN00IAMREAD",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"iam:Get*\","
     "\"iam:List*\"],\"Resource\":\"*\"}]}"},
};

#define AWS_POLICY_PREFIX "arn:aws:iam::aws:policy/"

static const struct aws_policy *aws_policy_of(const char *arn, size_t len)
{
    size_t i, plen = strlen(AWS_POLICY_PREFIX);

    if (!arn || len <= plen || memcmp(arn, AWS_POLICY_PREFIX, plen) != 0) {
        return NULL;
    }
    for (i = 0; i < CV_ARRAY_LEN(aws_policies); i++) {
        if (strlen(aws_policies[i].name) == len - plen &&
            memcmp(aws_policies[i].name, arn + plen, len - plen) == 0) {
            return &aws_policies[i];
        }
    }
    return NULL;
}

const char *iam_aws_policy_doc(const char *arn, size_t arnlen)
{
    const struct aws_policy *p = aws_policy_of(arn, arnlen);
    return p ? p->doc : NULL;
}

/* --------------------------------------------------------- entity kinds */

struct ent_desc {
    const char *kind;  /* user | group | role: attachment kind, ARN type */
    const char *Kind;  /* User | Group | Role: parameter and element names */
    const char *table; /* users | groups | roles */
    const char *idcol; /* user_id | group_id | role_id */
    size_t inline_quota;
};

static const struct ent_desc ENT_USER = {"user", "User", "users", "user_id",
                                         POLICY_USER_INLINE_QUOTA};
static const struct ent_desc ENT_GROUP = {"group", "Group", "groups", "group_id", 5120};
static const struct ent_desc ENT_ROLE = {"role", "Role", "roles", "role_id", 10240};

struct ent_row {
    char name[129];
    char id[32];
    char path[520];
    int64_t created;
    struct cv_str trust, desc; /* roles; arena copies */
    int64_t max_session;
};

/* Text parameters bound in order. */
struct binds {
    const char *v[4];
    size_t n;
};

typedef cv_err (*row_fn)(struct store_req *r, sqlite3_stmt *q, void *arg);

/* Runs a read, calling @p fn per row; @p rows (may be NULL) gets the row count. */
static cv_err query(struct store_req *r, const char *sql, const struct binds *b, row_fn fn,
                    void *arg, size_t *rows)
{
    struct db_conn *c = db_reader(r->st->db);
    sqlite3_stmt *q = NULL;
    size_t i, n = 0;
    int rc = SQLITE_ROW;
    cv_err err = CV_OK;

    if (!c) {
        return CV_ENOMEM;
    }
    if (sqlite3_prepare_v2(c->h, sql, -1, &q, NULL) != SQLITE_OK) {
        err = CV_EDB;
        goto out;
    }
    for (i = 0; i < b->n; i++) {
        sqlite3_bind_text(q, (int)i + 1, b->v[i], -1, SQLITE_STATIC);
    }
    while (!err) {
        rc = sqlite3_step(q);
        if (rc != SQLITE_ROW) {
            break;
        }
        n++;
        err = fn ? fn(r, q, arg) : CV_OK;
    }
    if (!err && rc != SQLITE_DONE) {
        err = CV_EDB;
    }
out:
    sqlite3_finalize(q);
    db_reader_done(r->st->db, c);
    if (rows) {
        *rows = n;
    }
    return err;
}

static const char *col(sqlite3_stmt *q, int i)
{
    const char *s = (const char *)sqlite3_column_text(q, i);
    return s ? s : "";
}

static cv_err ent_row_fn(struct store_req *r, sqlite3_stmt *q, void *arg)
{
    struct ent_row *e = arg;

    snprintf(e->name, sizeof(e->name), "%s", col(q, 0));
    snprintf(e->id, sizeof(e->id), "%s", col(q, 1));
    snprintf(e->path, sizeof(e->path), "%s", col(q, 2));
    e->created = sqlite3_column_int64(q, 3);
    if (sqlite3_column_count(q) > 4) {
        struct cv_str t = db_col_str(q, 4), d = db_col_str(q, 5);
        e->trust.ptr = cv_arena_strndup(&r->arena, t.ptr ? t.ptr : "", t.len);
        e->trust.len = t.len;
        e->desc.ptr = d.ptr ? cv_arena_strndup(&r->arena, d.ptr, d.len) : NULL;
        e->desc.len = d.len;
        e->max_session = sqlite3_column_int64(q, 6);
        if (!e->trust.ptr || (d.ptr && !e->desc.ptr)) {
            return CV_ENOMEM;
        }
    }
    return CV_OK;
}

static const char *ent_cols(const struct ent_desc *d)
{
    if (d == &ENT_ROLE) {
        return "name, role_id, path, created, trust, description, max_session";
    }
    return d == &ENT_GROUP ? "name, group_id, path, created" : "name, user_id, path, created";
}

/* Loads entity @p name of the caller's account: CV_IAM_NO_SUCH_ENTITY when absent. */
static cv_err ent_get(struct store_req *r, const struct ent_desc *d, const char *name,
                      struct ent_row *e)
{
    char sql[256];
    struct binds b = {{r->ident.account, name}, 2};
    size_t n = 0;
    cv_err err;

    memset(e, 0, sizeof(*e));
    snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE account = ?1 AND name = ?2", ent_cols(d),
             d->table);
    err = query(r, sql, &b, ent_row_fn, e, &n);
    return !err && n == 0 ? CV_IAM_NO_SUCH_ENTITY : err;
}

static void not_found(struct store_req *r, const struct ent_desc *d, const char *name)
{
    iam_errorf(r, CV_IAM_NO_SUCH_ENTITY, "The %s with name %s cannot be found.", d->kind,
               name ? name : "");
}

/* arn:aws:iam::ACCOUNT:KIND PATH NAME */
static void ent_arn(char *out, size_t len, const char *account, const struct ent_desc *d,
                    const char *path, const char *name)
{
    snprintf(out, len, "arn:aws:iam::%s:%s%s%s", account, d->kind, path ? path : "/",
             name ? name : "");
}

/* May the caller do iam:@p action on @p arn? Sets AccessDenied when not. */
static bool allowed(struct store_req *r, const char *action, const char *arn)
{
    char act[96];

    snprintf(act, sizeof(act), "iam:%s", action);
    if (store_authorize_iam(r, act, arn)) {
        return true;
    }
    iam_errorf(r, CV_S3_ACCESS_DENIED, "User: %s is not authorized to perform: %s on resource: %s",
               r->ident.arn, act, arn);
    return false;
}

static bool allowed_on(struct store_req *r, const char *action, const struct ent_desc *d,
                       const char *path, const char *name)
{
    char arn[760];

    ent_arn(arn, sizeof(arn), r->ident.account, d, path, name);
    return allowed(r, action, arn);
}

static cv_err ent_xml(struct cv_buf *b, const char *account, const struct ent_desc *d,
                      const struct ent_row *e, const char *wrap)
{
    char date[25], arn[760], el[32];
    cv_err err;

    iam_iso_seconds(e->created, date);
    ent_arn(arn, sizeof(arn), account, d, e->path, e->name);
    err = cv_buf_addf(b, "<%s>", wrap);
    if (!err) {
        err = xml_elemc(b, "Path", e->path);
    }
    if (!err) {
        snprintf(el, sizeof(el), "%sName", d->Kind);
        err = xml_elemc(b, el, e->name);
    }
    if (!err) {
        snprintf(el, sizeof(el), "%sId", d->Kind);
        err = xml_elemc(b, el, e->id);
    }
    if (!err) {
        err = xml_elemc(b, "Arn", arn);
    }
    if (!err) {
        err = xml_elemc(b, "CreateDate", date);
    }
    if (!err && d == &ENT_ROLE) {
        err = cv_buf_adds(b, "<AssumeRolePolicyDocument>");
        if (!err) {
            err = cv_uri_encode(b, e->trust, false);
        }
        if (!err) {
            err = cv_buf_adds(b, "</AssumeRolePolicyDocument>");
        }
        if (!err && e->desc.ptr) {
            err = cv_buf_adds(b, "<Description>");
            if (!err) {
                err = cv_buf_add_xml(b, e->desc.ptr, e->desc.len);
            }
            if (!err) {
                err = cv_buf_adds(b, "</Description>");
            }
        }
        if (!err) {
            err = cv_buf_addf(b, "<MaxSessionDuration>%lld</MaxSessionDuration>",
                              (long long)e->max_session);
        }
    }
    if (!err) {
        err = cv_buf_addf(b, "</%s>", wrap);
    }
    return err;
}

static void reply(struct store_req *r, cv_err err, const char *action, struct cv_buf *res)
{
    if (err) {
        iam_error(r, err, NULL);
    } else {
        iam_ok(r, action, IAM_NS, res);
    }
}

static void changed(struct store_req *r, const char *action)
{
    iam_changed(r->st);
    iam_ok(r, action, IAM_NS, NULL);
}

static bool check_name(struct store_req *r, const struct ent_desc *d, const char *name)
{
    size_t max = d == &ENT_GROUP ? 128 : 64;

    if (iam_name_valid(name, max)) {
        return true;
    }
    iam_errorf(r, CV_IAM_VALIDATION,
               "1 validation error detected: Value at '%sName' failed to satisfy constraint: "
               "Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length "
               "between 1 and %zu",
               d->kind, max);
    return false;
}

static bool check_path(struct store_req *r, const char *path)
{
    if (iam_path_valid(path)) {
        return true;
    }
    iam_error(r, CV_IAM_VALIDATION,
              "The specified value for path is invalid. It must begin and end with / and "
              "contain only alphanumeric characters and/or / characters.");
    return false;
}

/* ------------------------------------------------------ write jobs */

struct job {
    struct store_req *r;
    const struct ent_desc *d;
    const char *name, *path, *id, *other, *doc, *desc;
    size_t doclen;
    int64_t num;
    const char *const *list1; /* OIDC client ids */
    size_t n1;
    const char *const *list2; /* OIDC thumbprints */
    size_t n2;
    const char *why; /* DeleteConflict detail */
};

static int64_t cnt(struct db_conn *c, const char *sql, const char *a, const char *b)
{
    return iam_count1(c, sql, a, b);
}

static int64_t ent_count(struct db_conn *c, const struct ent_desc *d, const char *account,
                         const char *name)
{
    char sql[128];

    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s WHERE account = ?1 AND name = ?2",
             d->table);
    return cnt(c, sql, account, name);
}

/* ------------------------------------------------------------ groups, roles */

static cv_err create_tx(struct db_conn *c, void *arg)
{
    struct job *j = arg;
    const char *acct = j->r->ident.account;

    if (ent_count(c, j->d, acct, j->name) != 0) {
        return CV_IAM_ENTITY_EXISTS;
    }
    if (j->d == &ENT_GROUP) {
        return db_exec_args(c,
                            "INSERT INTO groups(account, name, group_id, path, created) VALUES "
                            "(?1, ?2, ?3, ?4, ?5)",
                            "ssssi", acct, j->name, j->id, j->path, j->r->now_ms);
    }
    return db_exec_args(
        c,
        "INSERT INTO roles(account, name, role_id, path, created, trust, description, "
        "max_session) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        "ssssissi", acct, j->name, j->id, j->path, j->r->now_ms, j->doc, j->desc, j->num);
}

/* A role trust policy: statements with Effect, Principal and sts: actions only. */
static bool trust_policy_ok(struct store_req *r, const char *doc, size_t len)
{
    json_t *root = NULL, *st, *s;
    json_error_t jerr;
    const char *msg = NULL;
    size_t i, k;

    if (policy_iam_size(doc, len) > TRUST_POLICY_QUOTA) {
        iam_errorf(r, CV_IAM_LIMIT_EXCEEDED, "Cannot exceed quota for ACLSizePerRole: %d",
                   TRUST_POLICY_QUOTA);
        return false;
    }
    root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &jerr);
    st = json_is_object(root) ? json_object_get(root, "Statement") : NULL;
    if (!st) {
        msg = root ? "Missing required field Statement" : "This policy contains invalid Json";
    } else if (json_is_object(st)) {
        st = json_pack("[O]", st);
        json_object_set_new(root, "Statement", st);
    }
    if (!msg && (!json_is_array(st) || json_array_size(st) == 0)) {
        msg = "Syntax errors in policy.";
    }
    json_array_foreach(msg ? NULL : st, i, s)
    {
        json_t *e = json_object_get(s, "Effect"), *a = json_object_get(s, "Action");
        if (!json_is_object(s) || !json_is_string(e) ||
            (strcmp(json_string_value(e), "Allow") != 0 &&
             strcmp(json_string_value(e), "Deny") != 0)) {
            msg = "Syntax errors in policy.";
            break;
        }
        if (!json_object_get(s, "Principal") && !json_object_get(s, "NotPrincipal")) {
            msg = "AssumeRolepolicy contained an invalid principal element";
            break;
        }
        if (json_object_get(s, "Resource") || json_object_get(s, "NotResource")) {
            msg = "Has prohibited field Resource";
            break;
        }
        if (json_is_string(a)) {
            a = json_pack("[O]", a);
        } else {
            json_incref(a);
        }
        if (!json_is_array(a) || json_array_size(a) == 0) {
            msg = "Missing required field Action";
        }
        for (k = 0; !msg && k < json_array_size(a); k++) {
            json_t *v = json_array_get(a, k);
            if (!json_is_string(v) || (strncmp(json_string_value(v), "sts:", 4) != 0 &&
                                       strcmp(json_string_value(v), "*") != 0)) {
                msg = "Trust policy actions must be sts: actions";
            }
        }
        json_decref(a);
        if (msg) {
            break;
        }
    }
    json_decref(root);
    if (msg) {
        iam_error(r, CV_IAM_MALFORMED_POLICY, msg);
        return false;
    }
    return true;
}

static void create_ent(struct store_req *r, const struct iam_form *f, const struct ent_desc *d)
{
    struct job j;
    struct ent_row e;
    struct cv_buf res = CV_BUF_INIT(1 << 16);
    char pname[32], id[32], action[32];
    const struct query_param *trust = iam_form_get(f, "AssumeRolePolicyDocument");
    const char *max = iam_form_str(r, f, "MaxSessionDuration");
    cv_err err;

    memset(&j, 0, sizeof(j));
    j.r = r;
    j.d = d;
    snprintf(pname, sizeof(pname), "%sName", d->Kind);
    snprintf(action, sizeof(action), "Create%s", d->Kind);
    j.name = iam_form_str(r, f, pname);
    j.path = iam_form_str(r, f, "Path");
    j.path = j.path ? j.path : "/";
    j.desc = iam_form_str(r, f, "Description");
    j.num = 3600;
    if (!check_name(r, d, j.name) || !check_path(r, j.path)) {
        return;
    }
    if (d == &ENT_ROLE) {
        if (max) {
            char *end = NULL;
            long long v = strtoll(max, &end, 10);
            if (!end || *end || v < 3600 || v > 43200) {
                iam_error(r, CV_IAM_VALIDATION,
                          "1 validation error detected: Value at 'maxSessionDuration' failed to "
                          "satisfy constraint: Member must have value between 3600 and 43200");
                return;
            }
            j.num = v;
        }
        if (!trust) {
            iam_error(r, CV_IAM_VALIDATION, "AssumeRolePolicyDocument is required.");
            return;
        }
        if (j.desc && strlen(j.desc) > 1000) {
            iam_error(r, CV_IAM_VALIDATION, "Description is longer than 1000 characters.");
            return;
        }
    }
    if (!allowed_on(r, action, d, j.path, j.name)) {
        return;
    }
    if (d == &ENT_ROLE) {
        if (!trust_policy_ok(r, trust->value.ptr, trust->value.len)) {
            return;
        }
        j.doc = cv_arena_strndup(&r->arena, trust->value.ptr, trust->value.len);
        if (!j.doc) {
            iam_error(r, CV_ENOMEM, NULL);
            return;
        }
    }
    memcpy(id, d == &ENT_GROUP ? "AGPA" : "AROA", 4);
    err = iam_random_upper(id + 4, 17);
    j.id = id;
    if (!err) {
        err = db_write(r->st->db, create_tx, &j);
    }
    if (err == CV_IAM_ENTITY_EXISTS) {
        iam_errorf(r, err, "%s with name %s already exists.", d->Kind, j.name);
        return;
    }
    if (!err) {
        err = ent_get(r, d, j.name, &e);
    }
    if (!err) {
        err = ent_xml(&res, r->ident.account, d, &e, d->Kind);
    }
    if (!err) {
        iam_changed(r->st);
    }
    reply(r, err, action, &res);
    cv_buf_release(&res);
}

/* The entity named by <Kind>Name, checked against iam:@p action; false: error set. */
static bool load_ent(struct store_req *r, const struct iam_form *f, const struct ent_desc *d,
                     const char *action, struct ent_row *e, const char **name_out)
{
    char pname[32];
    const char *name;
    cv_err err;

    snprintf(pname, sizeof(pname), "%sName", d->Kind);
    name = iam_form_str(r, f, pname);
    if (name_out) {
        *name_out = name;
    }
    if (!check_name(r, d, name)) {
        return false;
    }
    err = ent_get(r, d, name, e);
    if (!allowed_on(r, action, d, err ? "/" : e->path, name)) {
        return false;
    }
    if (err == CV_IAM_NO_SUCH_ENTITY) {
        not_found(r, d, name);
        return false;
    }
    if (err) {
        iam_error(r, err, NULL);
        return false;
    }
    return true;
}

struct list_ctx {
    struct cv_buf *b;
    const struct ent_desc *d;
    const char *account, *wrap;
};

static cv_err list_row_fn(struct store_req *r, sqlite3_stmt *q, void *arg)
{
    struct list_ctx *l = arg;
    struct ent_row e;
    cv_err err;

    memset(&e, 0, sizeof(e));
    err = ent_row_fn(r, q, &e);
    return err ? err : ent_xml(l->b, l->account, l->d, &e, l->wrap);
}

static cv_err user_row_fn(struct store_req *r, sqlite3_stmt *q, void *arg)
{
    struct list_ctx *l = arg;
    struct iam_user_row u;

    (void)r;
    snprintf(u.name, sizeof(u.name), "%s", col(q, 0));
    snprintf(u.user_id, sizeof(u.user_id), "%s", col(q, 1));
    snprintf(u.path, sizeof(u.path), "%s", col(q, 2));
    u.created = sqlite3_column_int64(q, 3);
    return iam_user_xml(l->b, l->account, &u, "member");
}

static void get_ent(struct store_req *r, const struct iam_form *f, const struct ent_desc *d)
{
    struct ent_row e;
    struct cv_buf res = CV_BUF_INIT(8 << 20);
    char action[32];
    cv_err err;

    snprintf(action, sizeof(action), "Get%s", d->Kind);
    if (!load_ent(r, f, d, action, &e, NULL)) {
        return;
    }
    err = ent_xml(&res, r->ident.account, d, &e, d->Kind);
    if (!err && d == &ENT_GROUP) {
        struct list_ctx l = {&res, d, r->ident.account, "member"};
        struct binds b = {{r->ident.account, e.name}, 2};
        err = cv_buf_adds(&res, "<Users>");
        if (!err) {
            err = query(r,
                        "SELECT u.name, u.user_id, u.path, u.created FROM users u JOIN "
                        "group_members m ON m.account = u.account AND m.user = u.name WHERE "
                        "m.account = ?1 AND m.grp = ?2 ORDER BY u.name",
                        &b, user_row_fn, &l, NULL);
        }
        if (!err) {
            err = cv_buf_adds(&res, "</Users><IsTruncated>false</IsTruncated>");
        }
    }
    reply(r, err, action, &res);
    cv_buf_release(&res);
}

static void list_ents(struct store_req *r, const struct iam_form *f, const struct ent_desc *d)
{
    const char *prefix = iam_form_str(r, f, "PathPrefix");
    struct cv_buf res = CV_BUF_INIT(8 << 20);
    struct list_ctx l = {&res, d, r->ident.account, "member"};
    struct binds b = {{r->ident.account, prefix ? prefix : "/"}, 2};
    char sql[320], action[32];
    cv_err err;

    snprintf(action, sizeof(action), "List%ss", d->Kind);
    if (!allowed_on(r, action, d, "/", "")) {
        return;
    }
    snprintf(sql, sizeof(sql),
             "SELECT %s FROM %s WHERE account = ?1 AND substr(path, 1, length(?2)) = ?2 "
             "ORDER BY name",
             ent_cols(d), d->table);
    err = cv_buf_addf(&res, "<%ss>", d->Kind);
    if (!err) {
        err = query(r, sql, &b, list_row_fn, &l, NULL);
    }
    if (!err) {
        err = cv_buf_addf(&res, "</%ss><IsTruncated>false</IsTruncated>", d->Kind);
    }
    reply(r, err, action, &res);
    cv_buf_release(&res);
}

static cv_err update_tx(struct db_conn *c, void *arg)
{
    struct job *j = arg;
    const char *acct = j->r->ident.account;
    cv_err err = CV_OK;

    if (ent_count(c, j->d, acct, j->name) <= 0) {
        return CV_IAM_NO_SUCH_ENTITY;
    }
    if (j->path && j->d == &ENT_GROUP) {
        err = db_exec_args(c, "UPDATE groups SET path = ?3 WHERE account = ?1 AND name = ?2", "sss",
                           acct, j->name, j->path);
    }
    if (!err && j->d == &ENT_ROLE && j->desc) {
        err = db_exec_args(c, "UPDATE roles SET description = ?3 WHERE account = ?1 AND name = ?2",
                           "sss", acct, j->name, j->desc);
    }
    if (!err && j->d == &ENT_ROLE && j->num) {
        err = db_exec_args(c, "UPDATE roles SET max_session = ?3 WHERE account = ?1 AND name = ?2",
                           "ssi", acct, j->name, j->num);
    }
    if (!err && j->other && j->d == &ENT_GROUP) {
        if (strcasecmp(j->other, j->name) != 0 && ent_count(c, j->d, acct, j->other) > 0) {
            return CV_IAM_ENTITY_EXISTS;
        }
        err = db_exec_args(c, "UPDATE group_members SET grp = ?3 WHERE account = ?1 AND grp = ?2",
                           "sss", acct, j->name, j->other);
        if (!err) {
            err =
                db_exec_args(c,
                             "UPDATE entity_policies SET entity = ?3 WHERE account = ?1 AND kind = "
                             "'group' AND entity = ?2",
                             "sss", acct, j->name, j->other);
        }
        if (!err) {
            err = db_exec_args(
                c,
                "UPDATE attached_policies SET entity = ?3 WHERE account = ?1 AND kind = "
                "'group' AND entity = ?2",
                "sss", acct, j->name, j->other);
        }
        if (!err) {
            err = db_exec_args(c, "UPDATE groups SET name = ?3 WHERE account = ?1 AND name = ?2",
                               "sss", acct, j->name, j->other);
        }
    }
    return err;
}

static void update_ent(struct store_req *r, const struct iam_form *f, const struct ent_desc *d)
{
    struct job j;
    struct ent_row e;
    char action[32];
    const char *max = iam_form_str(r, f, "MaxSessionDuration");
    cv_err err;

    memset(&j, 0, sizeof(j));
    j.r = r;
    j.d = d;
    snprintf(action, sizeof(action), "Update%s", d->Kind);
    if (!load_ent(r, f, d, action, &e, &j.name)) {
        return;
    }
    j.path = iam_form_str(r, f, "NewPath");
    j.other = iam_form_str(r, f, "NewGroupName");
    j.desc = iam_form_str(r, f, "Description");
    if (max) {
        char *end = NULL;
        long long v = strtoll(max, &end, 10);
        if (!end || *end || v < 3600 || v > 43200) {
            iam_error(r, CV_IAM_VALIDATION, "MaxSessionDuration must be between 3600 and 43200.");
            return;
        }
        j.num = v;
    }
    if ((j.path && !check_path(r, j.path)) || (j.other && !check_name(r, d, j.other))) {
        return;
    }
    err = db_write(r->st->db, update_tx, &j);
    if (err == CV_IAM_NO_SUCH_ENTITY) {
        not_found(r, d, j.name);
    } else if (err == CV_IAM_ENTITY_EXISTS) {
        iam_errorf(r, err, "%s with name %s already exists.", d->Kind, j.other);
    } else if (err) {
        iam_error(r, err, NULL);
    } else if (d == &ENT_ROLE) {
        /* UpdateRole, unlike UpdateGroup, has an (empty) result element. */
        struct cv_buf empty = CV_BUF_INIT(16);
        iam_changed(r->st);
        iam_ok(r, action, IAM_NS, &empty);
        cv_buf_release(&empty);
    } else {
        changed(r, action);
    }
}

static cv_err delete_tx(struct db_conn *c, void *arg)
{
    struct job *j = arg;
    const char *acct = j->r->ident.account;
    char sql[128];

    if (ent_count(c, j->d, acct, j->name) <= 0) {
        return CV_IAM_NO_SUCH_ENTITY;
    }
    if (j->d == &ENT_GROUP &&
        cnt(c, "SELECT COUNT(*) FROM group_members WHERE account = ?1 AND grp = ?2", acct,
            j->name) > 0) {
        j->why = "Cannot delete entity, must remove users from group first.";
        return CV_IAM_DELETE_CONFLICT;
    }
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) FROM entity_policies WHERE account = ?1 AND kind = '%s' AND "
             "entity = ?2",
             j->d->kind);
    if (cnt(c, sql, acct, j->name) > 0) {
        j->why = "Cannot delete entity, must delete policies first.";
        return CV_IAM_DELETE_CONFLICT;
    }
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) FROM attached_policies WHERE account = ?1 AND kind = '%s' AND "
             "entity = ?2",
             j->d->kind);
    if (cnt(c, sql, acct, j->name) > 0) {
        j->why = "Cannot delete entity, must detach all policies first.";
        return CV_IAM_DELETE_CONFLICT;
    }
    snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE account = ?1 AND name = ?2", j->d->table);
    return db_exec_args(c, sql, "ss", acct, j->name);
}

static void delete_ent(struct store_req *r, const struct iam_form *f, const struct ent_desc *d)
{
    struct job j;
    struct ent_row e;
    char action[32];
    cv_err err;

    memset(&j, 0, sizeof(j));
    j.r = r;
    j.d = d;
    snprintf(action, sizeof(action), "Delete%s", d->Kind);
    if (!load_ent(r, f, d, action, &e, &j.name)) {
        return;
    }
    err = db_write(r->st->db, delete_tx, &j);
    if (err == CV_IAM_NO_SUCH_ENTITY) {
        not_found(r, d, j.name);
    } else if (err == CV_IAM_DELETE_CONFLICT) {
        iam_error(r, err, j.why);
    } else if (err) {
        iam_error(r, err, NULL);
    } else {
        changed(r, action);
    }
}

/* ------------------------------------------------------- membership */

static cv_err member_tx(struct db_conn *c, void *arg)
{
    struct job *j = arg;
    const char *acct = j->r->ident.account;
    int changes = 0;
    cv_err err;

    if (ent_count(c, &ENT_GROUP, acct, j->name) <= 0) {
        j->why = "group";
        return CV_IAM_NO_SUCH_ENTITY;
    }
    if (ent_count(c, &ENT_USER, acct, j->other) <= 0) {
        j->why = "user";
        return CV_IAM_NO_SUCH_ENTITY;
    }
    if (!j->num) {
        err =
            iam_exec1(c, "DELETE FROM group_members WHERE account = ?1 AND grp = ?2 AND user = ?3",
                      acct, j->name, j->other, &changes);
        if (!err && changes == 0) {
            j->why = "member";
            err = CV_IAM_NO_SUCH_ENTITY;
        }
        return err;
    }
    if (cnt(c, "SELECT COUNT(*) FROM group_members WHERE account = ?1 AND user = ?2", acct,
            j->other) >= MAX_GROUPS_PER_USER &&
        cnt(c,
            "SELECT COUNT(*) FROM group_members WHERE account = ?1 AND grp = ?2 AND user = "
            "(SELECT name FROM users WHERE account = ?1 AND name = ?3 LIMIT 1)",
            acct, j->name) <= 0) {
        return CV_IAM_LIMIT_EXCEEDED;
    }
    /* Stored under the canonical spellings so joins and listings match. */
    return db_exec_args(
        c,
        "INSERT OR IGNORE INTO group_members(account, grp, user) SELECT ?1, g.name, u.name "
        "FROM groups g, users u WHERE g.account = ?1 AND g.name = ?2 AND u.account = ?1 "
        "AND u.name = ?3",
        "sss", acct, j->name, j->other);
}

static void membership(struct store_req *r, const struct iam_form *f, bool add)
{
    struct job j;
    const char *action = add ? "AddUserToGroup" : "RemoveUserFromGroup";
    cv_err err;

    memset(&j, 0, sizeof(j));
    j.r = r;
    j.name = iam_form_str(r, f, "GroupName");
    j.other = iam_form_str(r, f, "UserName");
    j.num = add;
    if (!check_name(r, &ENT_GROUP, j.name) || !check_name(r, &ENT_USER, j.other) ||
        !allowed_on(r, action, &ENT_GROUP, "/", j.name)) {
        return;
    }
    err = db_write(r->st->db, member_tx, &j);
    if (err == CV_IAM_NO_SUCH_ENTITY) {
        if (strcmp(j.why, "member") == 0) {
            iam_errorf(r, err, "User %s is not in group %s.", j.other, j.name);
        } else {
            not_found(r, strcmp(j.why, "user") == 0 ? &ENT_USER : &ENT_GROUP,
                      strcmp(j.why, "user") == 0 ? j.other : j.name);
        }
    } else if (err == CV_IAM_LIMIT_EXCEEDED) {
        iam_errorf(r, err, "Cannot exceed quota for GroupsPerUser: %d", MAX_GROUPS_PER_USER);
    } else if (err) {
        iam_error(r, err, NULL);
    } else {
        changed(r, action);
    }
}

static void list_groups_for_user(struct store_req *r, const struct iam_form *f)
{
    const char *name = iam_form_str(r, f, "UserName");
    struct iam_user_row u;
    struct cv_buf res = CV_BUF_INIT(1 << 20);
    struct list_ctx l = {&res, &ENT_GROUP, r->ident.account, "member"};
    struct binds b = {{r->ident.account, name}, 2};
    cv_err err;

    if (!check_name(r, &ENT_USER, name) ||
        !allowed_on(r, "ListGroupsForUser", &ENT_USER, "/", name)) {
        return;
    }
    if (iam_user_get(r, r->ident.account, name, &u) != CV_OK) {
        not_found(r, &ENT_USER, name);
        return;
    }
    err = cv_buf_adds(&res, "<Groups>");
    if (!err) {
        err = query(r,
                    "SELECT g.name, g.group_id, g.path, g.created FROM groups g JOIN group_members "
                    "m ON m.account = g.account AND m.grp = g.name WHERE g.account = ?1 AND "
                    "m.user = ?2 ORDER BY g.name",
                    &b, list_row_fn, &l, NULL);
    }
    if (!err) {
        err = cv_buf_adds(&res, "</Groups><IsTruncated>false</IsTruncated>");
    }
    reply(r, err, "ListGroupsForUser", &res);
    cv_buf_release(&res);
}

cv_err iam_ent_rename_user(struct db_conn *c, const char *account, const char *from, const char *to)
{
    cv_err err =
        db_exec_args(c, "UPDATE group_members SET user = ?3 WHERE account = ?1 AND user = ?2",
                     "sss", account, from, to);
    if (!err) {
        err = db_exec_args(
            c,
            "UPDATE attached_policies SET entity = ?3 WHERE account = ?1 AND kind = 'user' "
            "AND entity = ?2",
            "sss", account, from, to);
    }
    return err;
}

/* ------------------------------------------ group and role inline policies */

static cv_err put_inline_tx(struct db_conn *c, void *arg)
{
    struct job *j = arg;
    const char *acct = j->r->ident.account;
    sqlite3_stmt *q = NULL;
    size_t total = policy_iam_size(j->doc, j->doclen);

    if (ent_count(c, j->d, acct, j->name) <= 0) {
        return CV_IAM_NO_SUCH_ENTITY;
    }
    if (sqlite3_prepare_v2(c->h,
                           "SELECT document FROM entity_policies WHERE account = ?1 AND kind = ?2 "
                           "AND entity = ?3 AND name <> ?4",
                           -1, &q, NULL) != SQLITE_OK) {
        return CV_EDB;
    }
    sqlite3_bind_text(q, 1, acct, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, j->d->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, j->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, j->other, -1, SQLITE_STATIC);
    while (sqlite3_step(q) == SQLITE_ROW) {
        struct cv_str d = db_col_str(q, 0);
        total += policy_iam_size(d.ptr, d.len);
    }
    sqlite3_finalize(q);
    if (total > j->d->inline_quota) {
        return CV_IAM_LIMIT_EXCEEDED;
    }
    return db_exec_args(
        c,
        "INSERT OR REPLACE INTO entity_policies(account, kind, entity, name, document) "
        "SELECT ?1, ?2, name, ?4, ?5 FROM groups WHERE ?2 = 'group' AND account = ?1 AND "
        "name = ?3 UNION ALL SELECT ?1, ?2, name, ?4, ?5 FROM roles WHERE ?2 = 'role' AND "
        "account = ?1 AND name = ?3",
        "sssss", acct, j->d->kind, j->name, j->other, j->doc);
}

/* Validates an identity policy document; false: error set. */
static bool identity_doc_ok(struct store_req *r, const char *name, const struct query_param *doc)
{
    struct policy_parse_opts o;
    struct policy *p = NULL;
    char msg[512] = "";
    cv_err err;

    memset(&o, 0, sizeof(o));
    o.type = POLICY_IDENTITY;
    o.name = name;
    err = policy_parse(doc->value.ptr, doc->value.len, &o, &p, msg, sizeof(msg));
    policy_free(p);
    if (err) {
        iam_error(r, err == CV_ETOOBIG ? CV_IAM_LIMIT_EXCEEDED : err, msg[0] ? msg : NULL);
        return false;
    }
    return true;
}

static void put_inline(struct store_req *r, const struct iam_form *f, const struct ent_desc *d)
{
    struct job j;
    const struct query_param *doc = iam_form_get(f, "PolicyDocument");
    char pname[32], action[32];
    cv_err err;

    memset(&j, 0, sizeof(j));
    j.r = r;
    j.d = d;
    snprintf(pname, sizeof(pname), "%sName", d->Kind);
    snprintf(action, sizeof(action), "Put%sPolicy", d->Kind);
    j.name = iam_form_str(r, f, pname);
    j.other = iam_form_str(r, f, "PolicyName");
    if (!check_name(r, d, j.name) || !iam_name_valid(j.other, 128) || !doc) {
        if (!r->err) {
            iam_errorf(r, CV_IAM_VALIDATION,
                       "%s, PolicyName ([\\w+=,.@-]+) and PolicyDocument are required.", pname);
        }
        return;
    }
    if (!allowed_on(r, action, d, "/", j.name) || !identity_doc_ok(r, j.other, doc)) {
        return;
    }
    j.doc = cv_arena_strndup(&r->arena, doc->value.ptr, doc->value.len);
    j.doclen = doc->value.len;
    err = j.doc ? db_write(r->st->db, put_inline_tx, &j) : CV_ENOMEM;
    if (err == CV_IAM_NO_SUCH_ENTITY) {
        not_found(r, d, j.name);
    } else if (err == CV_IAM_LIMIT_EXCEEDED) {
        iam_errorf(r, err, "Maximum policy size of %zu bytes exceeded for %s %s", d->inline_quota,
                   d->kind, j.name);
    } else if (err) {
        iam_error(r, err, NULL);
    } else {
        changed(r, action);
    }
}

static cv_err doc_row_fn(struct store_req *r, sqlite3_stmt *q, void *arg)
{
    struct cv_str d = db_col_str(q, 0);
    struct cv_buf *b = arg;
    cv_err err;

    (void)r;
    err = cv_buf_adds(b, "<PolicyDocument>");
    if (!err) {
        err = cv_uri_encode(b, d, false);
    }
    return err ? err : cv_buf_adds(b, "</PolicyDocument>");
}

static cv_err name_row_fn(struct store_req *r, sqlite3_stmt *q, void *arg)
{
    (void)r;
    return xml_elemc(arg, "member", col(q, 0));
}

static cv_err delete_inline_tx(struct db_conn *c, void *arg)
{
    struct job *j = arg;

    return db_exec_args(
        c,
        "DELETE FROM entity_policies WHERE account = ?1 AND kind = ?2 AND entity = ?3 AND "
        "name = ?4",
        "ssss", j->r->ident.account, j->d->kind, j->name, j->other);
}

/* Get (@p op 'g'), List ('l') or Delete ('d') a group or role inline policy. */
static void inline_op(struct store_req *r, const struct iam_form *f, const struct ent_desc *d,
                      char op)
{
    struct ent_row e;
    struct cv_buf res = CV_BUF_INIT(1 << 20);
    const char *pol = iam_form_str(r, f, "PolicyName");
    char action[40], pname[32];
    struct binds b = {{r->ident.account, d->kind, NULL, pol}, 4};
    size_t n = 0;
    cv_err err;

    snprintf(action, sizeof(action), "%s%sPolic%s",
             op == 'g'   ? "Get"
             : op == 'l' ? "List"
                         : "Delete",
             d->Kind, op == 'l' ? "ies" : "y");
    snprintf(pname, sizeof(pname), "%sName", d->Kind);
    if (op != 'l' && !iam_name_valid(pol, 128)) {
        iam_error(r, CV_IAM_VALIDATION, "PolicyName is required.");
        return;
    }
    if (!load_ent(r, f, d, action, &e, NULL)) {
        return;
    }
    b.v[2] = e.name;
    if (op == 'l') {
        b.n = 3;
        err = cv_buf_adds(&res, "<PolicyNames>");
        if (!err) {
            err = query(r,
                        "SELECT name FROM entity_policies WHERE account = ?1 AND kind = ?2 AND "
                        "entity = ?3 ORDER BY name",
                        &b, name_row_fn, &res, NULL);
        }
        if (!err) {
            err = cv_buf_adds(&res, "</PolicyNames><IsTruncated>false</IsTruncated>");
        }
        reply(r, err, action, &res);
    } else if (op == 'g') {
        err = xml_elemc(&res, pname, e.name);
        if (!err) {
            err = xml_elemc(&res, "PolicyName", pol);
        }
        if (!err) {
            err = query(r,
                        "SELECT document FROM entity_policies WHERE account = ?1 AND kind = ?2 "
                        "AND entity = ?3 AND name = ?4",
                        &b, doc_row_fn, &res, &n);
        }
        if (!err && n == 0) {
            iam_errorf(r, CV_IAM_NO_SUCH_ENTITY, "The %s policy with name %s cannot be found.",
                       d->kind, pol);
        } else {
            reply(r, err, action, &res);
        }
    } else {
        struct job j;
        memset(&j, 0, sizeof(j));
        j.r = r;
        j.d = d;
        j.name = e.name;
        j.other = pol;
        err = query(r,
                    "SELECT 1 FROM entity_policies WHERE account = ?1 AND kind = ?2 AND entity = "
                    "?3 AND name = ?4",
                    &b, NULL, NULL, &n);
        if (!err && n == 0) {
            iam_errorf(r, CV_IAM_NO_SUCH_ENTITY, "The %s policy with name %s cannot be found.",
                       d->kind, pol);
        } else if (!err) {
            err = db_write(r->st->db, delete_inline_tx, &j);
            if (!err) {
                changed(r, action);
            }
        }
        if (err) {
            iam_error(r, err, NULL);
        }
    }
    cv_buf_release(&res);
}

/* --------------------------------------------------- managed policies */

/* AWS's managed policies all show this creation date (2015-02-06). */
#define AWS_POLICY_CREATED 1423180800000LL

struct mp_row {
    char name[129], id[32], path[520], arn[800];
    struct cv_str desc, doc; /* arena copies (doc borrowed static for AWS policies) */
    int64_t created, attached;
    bool aws;
};

static cv_err mp_row_fn(struct store_req *r, sqlite3_stmt *q, void *arg)
{
    struct mp_row *m = arg;
    struct cv_str d = db_col_str(q, 4), doc = db_col_str(q, 5);

    memset(m, 0, sizeof(*m));
    snprintf(m->name, sizeof(m->name), "%s", col(q, 0));
    snprintf(m->id, sizeof(m->id), "%s", col(q, 1));
    snprintf(m->path, sizeof(m->path), "%s", col(q, 2));
    snprintf(m->arn, sizeof(m->arn), "%s", col(q, 3));
    m->created = sqlite3_column_int64(q, 6);
    m->attached = sqlite3_column_int64(q, 7);
    if (d.ptr) {
        m->desc.ptr = cv_arena_strndup(&r->arena, d.ptr, d.len);
        m->desc.len = d.len;
    }
    m->doc.ptr = cv_arena_strndup(&r->arena, doc.ptr ? doc.ptr : "", doc.len);
    m->doc.len = doc.len;
    return m->doc.ptr && (!d.ptr || m->desc.ptr) ? CV_OK : CV_ENOMEM;
}

#define MP_COLS                                                                                    \
    "SELECT name, policy_id, path, arn, description, document, created, (SELECT COUNT(*) FROM "    \
    "attached_policies a WHERE a.account = m.account AND a.arn = m.arn) FROM managed_policies m "

static cv_err attached_count_fn(struct store_req *r, sqlite3_stmt *q, void *arg)
{
    (void)r;
    *(int64_t *)arg = sqlite3_column_int64(q, 0);
    return CV_OK;
}

/* Loads the policy @p arn visible to the caller: CV_IAM_NO_SUCH_ENTITY when none. */
static cv_err mp_get(struct store_req *r, const char *arn, struct mp_row *m)
{
    const struct aws_policy *a = aws_policy_of(arn, arn ? strlen(arn) : 0);
    struct binds b = {{r->ident.account, arn}, 2};
    size_t n = 0;
    cv_err err;

    memset(m, 0, sizeof(*m));
    if (!arn) {
        return CV_IAM_NO_SUCH_ENTITY;
    }
    if (a) {
        snprintf(m->name, sizeof(m->name), "%s", a->name);
        snprintf(m->id, sizeof(m->id), "%s", a->id);
        snprintf(m->path, sizeof(m->path), "/");
        snprintf(m->arn, sizeof(m->arn), "%s", arn);
        m->doc = cv_str_c(a->doc);
        m->created = AWS_POLICY_CREATED;
        m->aws = true;
        return query(r, "SELECT COUNT(*) FROM attached_policies WHERE account = ?1 AND arn = ?2",
                     &b, attached_count_fn, &m->attached, NULL);
    }
    err = query(r, MP_COLS "WHERE account = ?1 AND arn = ?2", &b, mp_row_fn, m, &n);
    return !err && n == 0 ? CV_IAM_NO_SUCH_ENTITY : err;
}

static cv_err mp_xml(struct cv_buf *b, const struct mp_row *m, const char *wrap)
{
    char date[25];
    cv_err err;

    iam_iso_seconds(m->created, date);
    err = cv_buf_addf(b, "<%s>", wrap);
    if (!err) {
        err = xml_elemc(b, "PolicyName", m->name);
    }
    if (!err) {
        err = xml_elemc(b, "DefaultVersionId", "v1");
    }
    if (!err) {
        err = xml_elemc(b, "PolicyId", m->id);
    }
    if (!err) {
        err = xml_elemc(b, "Path", m->path);
    }
    if (!err) {
        err = xml_elemc(b, "Arn", m->arn);
    }
    if (!err) {
        err = cv_buf_addf(b,
                          "<AttachmentCount>%lld</AttachmentCount>"
                          "<PermissionsBoundaryUsageCount>0</PermissionsBoundaryUsageCount>"
                          "<IsAttachable>true</IsAttachable>",
                          (long long)m->attached);
    }
    if (!err && m->desc.ptr) {
        err = cv_buf_adds(b, "<Description>");
        if (!err) {
            err = cv_buf_add_xml(b, m->desc.ptr, m->desc.len);
        }
        if (!err) {
            err = cv_buf_adds(b, "</Description>");
        }
    }
    if (!err) {
        err = cv_buf_addf(b, "<CreateDate>%s</CreateDate><UpdateDate>%s</UpdateDate></%s>", date,
                          date, wrap);
    }
    return err;
}

static cv_err create_policy_tx(struct db_conn *c, void *arg)
{
    struct job *j = arg;
    const char *acct = j->r->ident.account;

    if (cnt(c, "SELECT COUNT(*) FROM managed_policies WHERE account = ?1 AND name = ?2", acct,
            j->name) != 0) {
        return CV_IAM_ENTITY_EXISTS;
    }
    return db_exec_args(
        c,
        "INSERT INTO managed_policies(account, name, policy_id, path, arn, description, "
        "document, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        "sssssssi", acct, j->name, j->id, j->path, j->other, j->desc, j->doc, j->r->now_ms);
}

static void create_policy(struct store_req *r, const struct iam_form *f)
{
    struct job j;
    struct mp_row m;
    const struct query_param *doc = iam_form_get(f, "PolicyDocument");
    struct cv_buf res = CV_BUF_INIT(1 << 16);
    char id[32], arn[800];
    cv_err err;

    memset(&j, 0, sizeof(j));
    j.r = r;
    j.name = iam_form_str(r, f, "PolicyName");
    j.path = iam_form_str(r, f, "Path");
    j.path = j.path ? j.path : "/";
    j.desc = iam_form_str(r, f, "Description");
    if (!iam_name_valid(j.name, 128) || !doc) {
        iam_error(r, CV_IAM_VALIDATION,
                  "PolicyName ([\\w+=,.@-]{1,128}) and PolicyDocument are required.");
        return;
    }
    if (!check_path(r, j.path)) {
        return;
    }
    if (j.desc && strlen(j.desc) > 1000) {
        iam_error(r, CV_IAM_VALIDATION, "Description is longer than 1000 characters.");
        return;
    }
    snprintf(arn, sizeof(arn), "arn:aws:iam::%s:policy%s%s", r->ident.account, j.path, j.name);
    if (!allowed(r, "CreatePolicy", arn) || !identity_doc_ok(r, j.name, doc)) {
        return;
    }
    if (policy_iam_size(doc->value.ptr, doc->value.len) > MANAGED_POLICY_QUOTA) {
        iam_errorf(r, CV_IAM_LIMIT_EXCEEDED, "Cannot exceed quota for PolicySize: %d",
                   MANAGED_POLICY_QUOTA);
        return;
    }
    j.other = arn;
    j.doc = cv_arena_strndup(&r->arena, doc->value.ptr, doc->value.len);
    memcpy(id, "ANPA", 4);
    err = j.doc ? iam_random_upper(id + 4, 17) : CV_ENOMEM;
    j.id = id;
    if (!err) {
        err = db_write(r->st->db, create_policy_tx, &j);
    }
    if (err == CV_IAM_ENTITY_EXISTS) {
        iam_errorf(r, err, "A policy called %s already exists. Duplicate names are not allowed.",
                   j.name);
        return;
    }
    if (!err) {
        err = mp_get(r, arn, &m);
    }
    if (!err) {
        err = mp_xml(&res, &m, "Policy");
    }
    if (!err) {
        iam_changed(r->st);
    }
    reply(r, err, "CreatePolicy", &res);
    cv_buf_release(&res);
}

/* The policy named by PolicyArn, checked against iam:@p action; false: error set. */
static bool load_policy(struct store_req *r, const struct iam_form *f, const char *action,
                        struct mp_row *m)
{
    const char *arn = iam_form_str(r, f, "PolicyArn");
    cv_err err;

    if (!arn || strncmp(arn, "arn:", 4) != 0) {
        iam_errorf(r, CV_IAM_INVALID_INPUT, "ARN %s is not valid.", arn ? arn : "");
        return false;
    }
    if (!allowed(r, action, arn)) {
        return false;
    }
    err = mp_get(r, arn, m);
    if (err == CV_IAM_NO_SUCH_ENTITY) {
        iam_errorf(r, err, "Policy %s does not exist or is not attachable.", arn);
        return false;
    }
    if (err) {
        iam_error(r, err, NULL);
        return false;
    }
    return true;
}

static void get_policy(struct store_req *r, const struct iam_form *f)
{
    struct mp_row m;
    struct cv_buf res = CV_BUF_INIT(1 << 16);

    if (load_policy(r, f, "GetPolicy", &m)) {
        reply(r, mp_xml(&res, &m, "Policy"), "GetPolicy", &res);
    }
    cv_buf_release(&res);
}

static cv_err version_xml(struct cv_buf *b, const struct mp_row *m, const char *wrap, bool doc)
{
    char date[25];
    cv_err err;

    iam_iso_seconds(m->created, date);
    err = cv_buf_addf(b, "<%s>", wrap);
    if (!err && doc) {
        err = cv_buf_adds(b, "<Document>");
        if (!err) {
            err = cv_uri_encode(b, m->doc, false);
        }
        if (!err) {
            err = cv_buf_adds(b, "</Document>");
        }
    }
    if (!err) {
        err = cv_buf_addf(b,
                          "<VersionId>v1</VersionId><IsDefaultVersion>true</IsDefaultVersion>"
                          "<CreateDate>%s</CreateDate></%s>",
                          date, wrap);
    }
    return err;
}

static void get_policy_version(struct store_req *r, const struct iam_form *f)
{
    struct mp_row m;
    struct cv_buf res = CV_BUF_INIT(1 << 16);
    const char *v = iam_form_str(r, f, "VersionId");

    if (load_policy(r, f, "GetPolicyVersion", &m)) {
        if (!v || strcmp(v, "v1") != 0) {
            iam_errorf(r, CV_IAM_NO_SUCH_ENTITY, "Policy %s version %s does not exist.", m.arn,
                       v ? v : "");
        } else {
            reply(r, version_xml(&res, &m, "PolicyVersion", true), "GetPolicyVersion", &res);
        }
    }
    cv_buf_release(&res);
}

static void list_policy_versions(struct store_req *r, const struct iam_form *f)
{
    struct mp_row m;
    struct cv_buf res = CV_BUF_INIT(1 << 16);
    cv_err err;

    if (load_policy(r, f, "ListPolicyVersions", &m)) {
        err = cv_buf_adds(&res, "<Versions>");
        if (!err) {
            err = version_xml(&res, &m, "member", false);
        }
        if (!err) {
            err = cv_buf_adds(&res, "</Versions><IsTruncated>false</IsTruncated>");
        }
        reply(r, err, "ListPolicyVersions", &res);
    }
    cv_buf_release(&res);
}

struct mp_list {
    struct cv_buf *b;
    bool only_attached;
};

static cv_err mp_list_fn(struct store_req *r, sqlite3_stmt *q, void *arg)
{
    struct mp_list *l = arg;
    struct mp_row m;
    cv_err err = mp_row_fn(r, q, &m);

    if (err || (l->only_attached && m.attached == 0)) {
        return err;
    }
    return mp_xml(l->b, &m, "member");
}

static void list_policies(struct store_req *r, const struct iam_form *f)
{
    const char *scope = iam_form_str(r, f, "Scope");
    const char *only = iam_form_str(r, f, "OnlyAttached");
    const char *prefix = iam_form_str(r, f, "PathPrefix");
    struct cv_buf res = CV_BUF_INIT(8 << 20);
    struct mp_list l = {&res, only && strcasecmp(only, "true") == 0};
    struct binds b = {{r->ident.account, prefix ? prefix : "/"}, 2};
    char arn[200];
    size_t i;
    cv_err err;

    scope = scope ? scope : "All";
    if (strcmp(scope, "All") != 0 && strcmp(scope, "AWS") != 0 && strcmp(scope, "Local") != 0) {
        iam_error(r, CV_IAM_VALIDATION,
                  "1 validation error detected: Value at 'scope' failed to satisfy constraint: "
                  "Member must satisfy enum value set: [All, AWS, Local]");
        return;
    }
    if (!allowed(r, "ListPolicies", "*")) {
        return;
    }
    err = cv_buf_adds(&res, "<Policies>");
    for (i = 0; !err && strcmp(scope, "Local") != 0 && i < CV_ARRAY_LEN(aws_policies); i++) {
        struct mp_row m;
        snprintf(arn, sizeof(arn), AWS_POLICY_PREFIX "%s", aws_policies[i].name);
        err = mp_get(r, arn, &m);
        if (!err && (!l.only_attached || m.attached) && strncmp("/", b.v[1], strlen(b.v[1])) == 0) {
            err = mp_xml(&res, &m, "member");
        }
    }
    if (!err && strcmp(scope, "AWS") != 0) {
        err = query(r,
                    MP_COLS "WHERE account = ?1 AND substr(path, 1, length(?2)) = ?2 ORDER BY name",
                    &b, mp_list_fn, &l, NULL);
    }
    if (!err) {
        err = cv_buf_adds(&res, "</Policies><IsTruncated>false</IsTruncated>");
    }
    reply(r, err, "ListPolicies", &res);
    cv_buf_release(&res);
}

static cv_err delete_policy_tx(struct db_conn *c, void *arg)
{
    struct job *j = arg;

    if (cnt(c, "SELECT COUNT(*) FROM attached_policies WHERE account = ?1 AND arn = ?2",
            j->r->ident.account, j->other) > 0) {
        return CV_IAM_DELETE_CONFLICT;
    }
    return db_exec_args(c, "DELETE FROM managed_policies WHERE account = ?1 AND arn = ?2", "ss",
                        j->r->ident.account, j->other);
}

static void delete_policy(struct store_req *r, const struct iam_form *f)
{
    struct mp_row m;
    struct job j;
    cv_err err;

    if (!load_policy(r, f, "DeletePolicy", &m)) {
        return;
    }
    if (m.aws) {
        iam_errorf(r, CV_S3_ACCESS_DENIED, "AWS managed policy %s cannot be deleted.", m.arn);
        return;
    }
    memset(&j, 0, sizeof(j));
    j.r = r;
    j.other = m.arn;
    err = db_write(r->st->db, delete_policy_tx, &j);
    if (err == CV_IAM_DELETE_CONFLICT) {
        iam_error(r, err, "Cannot delete a policy attached to entities.");
    } else if (err) {
        iam_error(r, err, NULL);
    } else {
        changed(r, "DeletePolicy");
    }
}

/* ------------------------------------------------------- attachments */

static cv_err attach_tx(struct db_conn *c, void *arg)
{
    struct job *j = arg;
    const char *acct = j->r->ident.account;
    char sql[400];
    int64_t n;

    if (ent_count(c, j->d, acct, j->name) <= 0) {
        j->why = "entity";
        return CV_IAM_NO_SUCH_ENTITY;
    }
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) FROM attached_policies WHERE account = ?1 AND kind = '%s' AND "
             "entity = ?2 AND arn = ?3",
             j->d->kind);
    n = 0;
    {
        sqlite3_stmt *q = NULL;
        if (sqlite3_prepare_v2(c->h, sql, -1, &q, NULL) != SQLITE_OK) {
            return CV_EDB;
        }
        sqlite3_bind_text(q, 1, acct, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, j->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, j->other, -1, SQLITE_STATIC);
        if (sqlite3_step(q) == SQLITE_ROW) {
            n = sqlite3_column_int64(q, 0);
        }
        sqlite3_finalize(q);
    }
    if (!j->num) { /* detach */
        if (n == 0) {
            j->why = "attachment";
            return CV_IAM_NO_SUCH_ENTITY;
        }
        snprintf(sql, sizeof(sql),
                 "DELETE FROM attached_policies WHERE account = ?1 AND kind = '%s' AND entity = "
                 "?2 AND arn = ?3",
                 j->d->kind);
        return db_exec_args(c, sql, "sss", acct, j->name, j->other);
    }
    if (!aws_policy_of(j->other, strlen(j->other)) &&
        cnt(c, "SELECT COUNT(*) FROM managed_policies WHERE account = ?1 AND arn = ?2", acct,
            j->other) <= 0) {
        j->why = "policy";
        return CV_IAM_NO_SUCH_ENTITY;
    }
    if (n > 0) {
        return CV_OK;
    }
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) FROM attached_policies WHERE account = ?1 AND kind = '%s' AND "
             "entity = ?2",
             j->d->kind);
    if (cnt(c, sql, acct, j->name) >= MAX_ATTACHED) {
        return CV_IAM_LIMIT_EXCEEDED;
    }
    snprintf(sql, sizeof(sql),
             "INSERT INTO attached_policies(account, kind, entity, arn, seq) SELECT ?1, '%s', "
             "name, ?3, COALESCE((SELECT MAX(seq) FROM attached_policies), 0) + 1 FROM %s WHERE "
             "account = ?1 AND name = ?2",
             j->d->kind, j->d->table);
    return db_exec_args(c, sql, "sss", acct, j->name, j->other);
}

static void attach(struct store_req *r, const struct iam_form *f, const struct ent_desc *d, bool on)
{
    struct job j;
    char pname[32], action[40], quota[40];
    cv_err err;

    memset(&j, 0, sizeof(j));
    j.r = r;
    j.d = d;
    j.num = on;
    snprintf(pname, sizeof(pname), "%sName", d->Kind);
    snprintf(action, sizeof(action), "%s%sPolicy", on ? "Attach" : "Detach", d->Kind);
    j.name = iam_form_str(r, f, pname);
    j.other = iam_form_str(r, f, "PolicyArn");
    if (!check_name(r, d, j.name)) {
        return;
    }
    if (!j.other || strncmp(j.other, "arn:", 4) != 0) {
        iam_errorf(r, CV_IAM_INVALID_INPUT, "ARN %s is not valid.", j.other ? j.other : "");
        return;
    }
    if (!allowed_on(r, action, d, "/", j.name)) {
        return;
    }
    err = db_write(r->st->db, attach_tx, &j);
    if (err == CV_IAM_NO_SUCH_ENTITY && strcmp(j.why, "entity") == 0) {
        not_found(r, d, j.name);
    } else if (err == CV_IAM_NO_SUCH_ENTITY && strcmp(j.why, "policy") == 0) {
        iam_errorf(r, err, "Policy %s does not exist or is not attachable.", j.other);
    } else if (err == CV_IAM_NO_SUCH_ENTITY) {
        iam_errorf(r, err, "Policy %s was not found.", j.other);
    } else if (err == CV_IAM_LIMIT_EXCEEDED) {
        snprintf(quota, sizeof(quota), "PoliciesPer%s", d->Kind);
        iam_errorf(r, err, "Cannot exceed quota for %s: %d", quota, MAX_ATTACHED);
    } else if (err) {
        iam_error(r, err, NULL);
    } else {
        changed(r, action);
    }
}

static cv_err attached_row_fn(struct store_req *r, sqlite3_stmt *q, void *arg)
{
    const char *arn = col(q, 0), *slash = strrchr(arn, '/');
    struct cv_buf *b = arg;
    cv_err err;

    (void)r;
    err = cv_buf_adds(b, "<member>");
    if (!err) {
        err = xml_elemc(b, "PolicyName", slash ? slash + 1 : arn);
    }
    if (!err) {
        err = xml_elemc(b, "PolicyArn", arn);
    }
    return err ? err : cv_buf_adds(b, "</member>");
}

static void list_attached(struct store_req *r, const struct iam_form *f, const struct ent_desc *d)
{
    struct ent_row e;
    struct cv_buf res = CV_BUF_INIT(1 << 20);
    char action[40];
    struct binds b = {{r->ident.account, d->kind, NULL}, 3};
    cv_err err;

    snprintf(action, sizeof(action), "ListAttached%sPolicies", d->Kind);
    if (!load_ent(r, f, d, action, &e, NULL)) {
        return;
    }
    b.v[2] = e.name;
    err = cv_buf_adds(&res, "<AttachedPolicies>");
    if (!err) {
        err = query(r,
                    "SELECT arn FROM attached_policies WHERE account = ?1 AND kind = ?2 AND "
                    "entity = ?3 ORDER BY seq",
                    &b, attached_row_fn, &res, NULL);
    }
    if (!err) {
        err = cv_buf_adds(&res, "</AttachedPolicies><IsTruncated>false</IsTruncated>");
    }
    reply(r, err, action, &res);
    cv_buf_release(&res);
}

/* ------------------------------------------------------- OIDC providers */

/* Collects PREFIX1, PREFIX2, ... (arena copies); false when more than @p max. */
static bool form_list(struct store_req *r, const struct iam_form *f, const char *prefix, size_t max,
                      const char ***out, size_t *n)
{
    const char **v = cv_arena_alloc(&r->arena, (max + 1) * sizeof(*v));
    char key[96];
    size_t i;

    *n = 0;
    *out = v;
    if (!v) {
        return false;
    }
    for (i = 1; i <= max + 1; i++) {
        snprintf(key, sizeof(key), "%s%zu", prefix, i);
        v[*n] = iam_form_str(r, f, key);
        if (!v[*n]) {
            break;
        }
        if (i > max) {
            return false;
        }
        (*n)++;
    }
    return true;
}

static bool thumbprints_ok(struct store_req *r, const char *const *t, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strlen(t[i]) != 40) {
            iam_error(r, CV_IAM_VALIDATION,
                      "1 validation error detected: Value at 'thumbprintList' failed to satisfy "
                      "constraint: Member must have length 40");
            return false;
        }
    }
    return true;
}

static cv_err oidc_values_tx(struct db_conn *c, struct job *j, const char *kind,
                             const char *const *v, size_t n)
{
    size_t i;
    cv_err err = CV_OK;

    for (i = 0; !err && i < n; i++) {
        err = db_exec_args(
            c,
            "INSERT OR IGNORE INTO oidc_values(account, arn, kind, value, seq) VALUES (?1, "
            "?2, ?3, ?4, COALESCE((SELECT MAX(seq) FROM oidc_values WHERE account = ?1 AND "
            "arn = ?2), 0) + 1)",
            "ssss", j->r->ident.account, j->other, kind, v[i]);
    }
    return err;
}

static cv_err oidc_create_tx(struct db_conn *c, void *arg)
{
    struct job *j = arg;
    cv_err err;

    if (cnt(c, "SELECT COUNT(*) FROM oidc_providers WHERE account = ?1 AND arn = ?2",
            j->r->ident.account, j->other) > 0) {
        return CV_IAM_ENTITY_EXISTS;
    }
    err = db_exec_args(
        c, "INSERT INTO oidc_providers(account, arn, url, created) VALUES (?1, ?2, ?3, ?4)", "sssi",
        j->r->ident.account, j->other, j->name, j->r->now_ms);
    if (!err) {
        err = oidc_values_tx(c, j, "client", j->list1, j->n1);
    }
    if (!err) {
        err = oidc_values_tx(c, j, "thumb", j->list2, j->n2);
    }
    return err;
}

static void create_oidc(struct store_req *r, const struct iam_form *f)
{
    struct job j;
    struct cv_buf res = CV_BUF_INIT(4096);
    const char *host;
    char arn[600];
    const char **ids = NULL, **thumbs = NULL;
    size_t nids = 0, nthumbs = 0;
    cv_err err;

    memset(&j, 0, sizeof(j));
    j.r = r;
    j.name = iam_form_str(r, f, "Url");
    if (!j.name || (strncmp(j.name, "https://", 8) != 0 && strncmp(j.name, "http://", 7) != 0)) {
        iam_error(r, CV_IAM_VALIDATION, "Url must begin with https:// (or http://).");
        return;
    }
    host = strstr(j.name, "://") + 3;
    if (!host[0] || strlen(host) > 255 || strchr(host, '?') || strchr(host, '#')) {
        iam_error(r, CV_IAM_VALIDATION, "Url is not valid.");
        return;
    }
    if (!form_list(r, f, "ClientIDList.member.", MAX_OIDC_CLIENT_IDS, &ids, &nids) ||
        !form_list(r, f, "ThumbprintList.member.", MAX_OIDC_THUMBPRINTS, &thumbs, &nthumbs)) {
        iam_error(r, CV_IAM_LIMIT_EXCEEDED, "Too many client ids or thumbprints.");
        return;
    }
    if (!thumbprints_ok(r, thumbs, nthumbs)) {
        return;
    }
    snprintf(arn, sizeof(arn), "arn:aws:iam::%s:oidc-provider/%s", r->ident.account, host);
    if (!allowed(r, "CreateOpenIDConnectProvider", arn)) {
        return;
    }
    j.other = arn;
    j.list1 = ids;
    j.n1 = nids;
    j.list2 = thumbs;
    j.n2 = nthumbs;
    err = db_write(r->st->db, oidc_create_tx, &j);
    if (err == CV_IAM_ENTITY_EXISTS) {
        iam_errorf(r, err, "Provider with url %s already exists.", j.name);
        return;
    }
    if (!err) {
        err = xml_elemc(&res, "OpenIDConnectProviderArn", arn);
    }
    if (!err) {
        iam_changed(r->st);
    }
    reply(r, err, "CreateOpenIDConnectProvider", &res);
    cv_buf_release(&res);
}

struct oidc_row {
    char url[600];
    int64_t created;
};

static cv_err oidc_row_fn(struct store_req *r, sqlite3_stmt *q, void *arg)
{
    struct oidc_row *o = arg;

    (void)r;
    snprintf(o->url, sizeof(o->url), "%s", col(q, 0));
    o->created = sqlite3_column_int64(q, 1);
    return CV_OK;
}

/* The provider named by OpenIDConnectProviderArn; false: error set. */
static bool load_oidc(struct store_req *r, const struct iam_form *f, const char *action,
                      const char **arn, struct oidc_row *o)
{
    struct binds b = {{r->ident.account, NULL}, 2};
    size_t n = 0;
    cv_err err;

    *arn = iam_form_str(r, f, "OpenIDConnectProviderArn");
    if (!*arn || strncmp(*arn, "arn:", 4) != 0) {
        iam_error(r, CV_IAM_VALIDATION, "OpenIDConnectProviderArn is not valid.");
        return false;
    }
    if (!allowed(r, action, *arn)) {
        return false;
    }
    b.v[1] = *arn;
    err = query(r, "SELECT url, created FROM oidc_providers WHERE account = ?1 AND arn = ?2", &b,
                oidc_row_fn, o, &n);
    if (!err && n == 0) {
        iam_errorf(r, CV_IAM_NO_SUCH_ENTITY, "OpenIDConnect Provider not found for arn %s", *arn);
        return false;
    }
    if (err) {
        iam_error(r, err, NULL);
        return false;
    }
    return true;
}

static void get_oidc(struct store_req *r, const struct iam_form *f)
{
    const char *arn;
    struct oidc_row o;
    struct cv_buf res = CV_BUF_INIT(1 << 16);
    char date[25];
    struct binds b = {{r->ident.account, NULL, "client"}, 3};
    cv_err err;

    if (!load_oidc(r, f, "GetOpenIDConnectProvider", &arn, &o)) {
        return;
    }
    b.v[1] = arn;
    iam_iso_seconds(o.created, date);
    err = xml_elemc(&res, "Url", o.url);
    if (!err) {
        err = cv_buf_adds(&res, "<ClientIDList>");
    }
    if (!err) {
        err = query(r,
                    "SELECT value FROM oidc_values WHERE account = ?1 AND arn = ?2 AND kind = ?3 "
                    "ORDER BY seq",
                    &b, name_row_fn, &res, NULL);
    }
    if (!err) {
        err = cv_buf_adds(&res, "</ClientIDList><ThumbprintList>");
    }
    b.v[2] = "thumb";
    if (!err) {
        err = query(r,
                    "SELECT value FROM oidc_values WHERE account = ?1 AND arn = ?2 AND kind = ?3 "
                    "ORDER BY seq",
                    &b, name_row_fn, &res, NULL);
    }
    if (!err) {
        err = cv_buf_addf(&res, "</ThumbprintList><CreateDate>%s</CreateDate>", date);
    }
    reply(r, err, "GetOpenIDConnectProvider", &res);
    cv_buf_release(&res);
}

static cv_err arn_member_fn(struct store_req *r, sqlite3_stmt *q, void *arg)
{
    struct cv_buf *b = arg;
    cv_err err;

    (void)r;
    err = cv_buf_adds(b, "<member>");
    if (!err) {
        err = xml_elemc(b, "Arn", col(q, 0));
    }
    return err ? err : cv_buf_adds(b, "</member>");
}

static void list_oidc(struct store_req *r)
{
    struct cv_buf res = CV_BUF_INIT(1 << 20);
    struct binds b = {{r->ident.account}, 1};
    cv_err err;

    if (!allowed(r, "ListOpenIDConnectProviders", "*")) {
        return;
    }
    err = cv_buf_adds(&res, "<OpenIDConnectProviderList>");
    if (!err) {
        err = query(r, "SELECT arn FROM oidc_providers WHERE account = ?1 ORDER BY arn", &b,
                    arn_member_fn, &res, NULL);
    }
    if (!err) {
        err = cv_buf_adds(&res, "</OpenIDConnectProviderList>");
    }
    reply(r, err, "ListOpenIDConnectProviders", &res);
    cv_buf_release(&res);
}

/* j->why selects the change: delete, add (client id), remove (client id), thumbs. */
static cv_err oidc_change_tx(struct db_conn *c, void *arg)
{
    struct job *j = arg;
    const char *acct = j->r->ident.account;
    cv_err err = CV_OK;

    if (strcmp(j->why, "delete") == 0) {
        err = db_exec_args(c, "DELETE FROM oidc_values WHERE account = ?1 AND arn = ?2", "ss", acct,
                           j->other);
        return err ? err
                   : db_exec_args(c, "DELETE FROM oidc_providers WHERE account = ?1 AND arn = ?2",
                                  "ss", acct, j->other);
    }
    if (strcmp(j->why, "add") == 0) {
        if (cnt(c,
                "SELECT COUNT(*) FROM oidc_values WHERE account = ?1 AND arn = ?2 AND kind = "
                "'client'",
                acct, j->other) >= MAX_OIDC_CLIENT_IDS) {
            return CV_IAM_LIMIT_EXCEEDED;
        }
        return oidc_values_tx(c, j, "client", j->list1, j->n1);
    }
    if (strcmp(j->why, "remove") == 0) {
        return db_exec_args(
            c,
            "DELETE FROM oidc_values WHERE account = ?1 AND arn = ?2 AND kind = 'client' "
            "AND value = ?3",
            "sss", acct, j->other, j->list1[0]);
    }
    err = db_exec_args(c,
                       "DELETE FROM oidc_values WHERE account = ?1 AND arn = ?2 AND kind = 'thumb'",
                       "ss", acct, j->other);
    return err ? err : oidc_values_tx(c, j, "thumb", j->list2, j->n2);
}

static void change_oidc(struct store_req *r, const struct iam_form *f, const char *action,
                        const char *what)
{
    struct job j;
    struct oidc_row o;
    const char *arn, *client = NULL;
    const char **thumbs = NULL;
    size_t nthumbs = 0;
    cv_err err;

    memset(&j, 0, sizeof(j));
    if (strcmp(what, "add") == 0 || strcmp(what, "remove") == 0) {
        client = iam_form_str(r, f, "ClientID");
        if (!client || !client[0] || strlen(client) > 255) {
            iam_error(r, CV_IAM_VALIDATION, "ClientID is required (1-255 characters).");
            return;
        }
    }
    if (strcmp(what, "thumbs") == 0) {
        if (!form_list(r, f, "ThumbprintList.member.", MAX_OIDC_THUMBPRINTS, &thumbs, &nthumbs)) {
            iam_error(r, CV_IAM_LIMIT_EXCEEDED, "Too many thumbprints.");
            return;
        }
        if (!thumbprints_ok(r, thumbs, nthumbs)) {
            return;
        }
    }
    if (!load_oidc(r, f, action, &arn, &o)) {
        return;
    }
    j.r = r;
    j.other = arn;
    j.why = what;
    j.list1 = &client;
    j.n1 = client ? 1 : 0;
    j.list2 = thumbs;
    j.n2 = nthumbs;
    err = db_write(r->st->db, oidc_change_tx, &j);
    if (err == CV_IAM_LIMIT_EXCEEDED) {
        iam_errorf(r, err, "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d",
                   MAX_OIDC_CLIENT_IDS);
    } else if (err) {
        iam_error(r, err, NULL);
    } else {
        changed(r, action);
    }
}

/* --------------------------------------------------------------- entry */

bool iam_ent_dispatch(struct store_req *r, const struct iam_form *f, struct cv_str a)
{
#define IS(x) cv_str_eq_c(a, x)
    if (IS("CreateGroup")) {
        create_ent(r, f, &ENT_GROUP);
    } else if (IS("GetGroup")) {
        get_ent(r, f, &ENT_GROUP);
    } else if (IS("ListGroups")) {
        list_ents(r, f, &ENT_GROUP);
    } else if (IS("UpdateGroup")) {
        update_ent(r, f, &ENT_GROUP);
    } else if (IS("DeleteGroup")) {
        delete_ent(r, f, &ENT_GROUP);
    } else if (IS("AddUserToGroup")) {
        membership(r, f, true);
    } else if (IS("RemoveUserFromGroup")) {
        membership(r, f, false);
    } else if (IS("ListGroupsForUser")) {
        list_groups_for_user(r, f);
    } else if (IS("PutGroupPolicy")) {
        put_inline(r, f, &ENT_GROUP);
    } else if (IS("GetGroupPolicy")) {
        inline_op(r, f, &ENT_GROUP, 'g');
    } else if (IS("ListGroupPolicies")) {
        inline_op(r, f, &ENT_GROUP, 'l');
    } else if (IS("DeleteGroupPolicy")) {
        inline_op(r, f, &ENT_GROUP, 'd');
    } else if (IS("CreateRole")) {
        create_ent(r, f, &ENT_ROLE);
    } else if (IS("GetRole")) {
        get_ent(r, f, &ENT_ROLE);
    } else if (IS("ListRoles")) {
        list_ents(r, f, &ENT_ROLE);
    } else if (IS("UpdateRole")) {
        update_ent(r, f, &ENT_ROLE);
    } else if (IS("DeleteRole")) {
        delete_ent(r, f, &ENT_ROLE);
    } else if (IS("PutRolePolicy")) {
        put_inline(r, f, &ENT_ROLE);
    } else if (IS("GetRolePolicy")) {
        inline_op(r, f, &ENT_ROLE, 'g');
    } else if (IS("ListRolePolicies")) {
        inline_op(r, f, &ENT_ROLE, 'l');
    } else if (IS("DeleteRolePolicy")) {
        inline_op(r, f, &ENT_ROLE, 'd');
    } else if (IS("CreatePolicy")) {
        create_policy(r, f);
    } else if (IS("GetPolicy")) {
        get_policy(r, f);
    } else if (IS("ListPolicies")) {
        list_policies(r, f);
    } else if (IS("DeletePolicy")) {
        delete_policy(r, f);
    } else if (IS("GetPolicyVersion")) {
        get_policy_version(r, f);
    } else if (IS("ListPolicyVersions")) {
        list_policy_versions(r, f);
    } else if (IS("AttachUserPolicy")) {
        attach(r, f, &ENT_USER, true);
    } else if (IS("DetachUserPolicy")) {
        attach(r, f, &ENT_USER, false);
    } else if (IS("ListAttachedUserPolicies")) {
        list_attached(r, f, &ENT_USER);
    } else if (IS("AttachGroupPolicy")) {
        attach(r, f, &ENT_GROUP, true);
    } else if (IS("DetachGroupPolicy")) {
        attach(r, f, &ENT_GROUP, false);
    } else if (IS("ListAttachedGroupPolicies")) {
        list_attached(r, f, &ENT_GROUP);
    } else if (IS("AttachRolePolicy")) {
        attach(r, f, &ENT_ROLE, true);
    } else if (IS("DetachRolePolicy")) {
        attach(r, f, &ENT_ROLE, false);
    } else if (IS("ListAttachedRolePolicies")) {
        list_attached(r, f, &ENT_ROLE);
    } else if (IS("CreateOpenIDConnectProvider")) {
        create_oidc(r, f);
    } else if (IS("GetOpenIDConnectProvider")) {
        get_oidc(r, f);
    } else if (IS("ListOpenIDConnectProviders")) {
        list_oidc(r);
    } else if (IS("DeleteOpenIDConnectProvider")) {
        change_oidc(r, f, "DeleteOpenIDConnectProvider", "delete");
    } else if (IS("AddClientIDToOpenIDConnectProvider")) {
        change_oidc(r, f, "AddClientIDToOpenIDConnectProvider", "add");
    } else if (IS("RemoveClientIDFromOpenIDConnectProvider")) {
        change_oidc(r, f, "RemoveClientIDFromOpenIDConnectProvider", "remove");
    } else if (IS("UpdateOpenIDConnectProviderThumbprint")) {
        change_oidc(r, f, "UpdateOpenIDConnectProviderThumbprint", "thumbs");
    } else {
        return false;
    }
#undef IS
    return true;
}
