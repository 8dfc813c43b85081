/*
 * S3 access control lists: the document model, its parsers (canned names,
 * x-amz-grant-* headers, the AccessControlPolicy XML body), the stored form,
 * the XML S3 answers with, and the request-level rules (Object Ownership,
 * who owns what a request writes). How ACLs take part in authorization is
 * authz.c's acl_step(); docs/policy.md (ACLs) describes both.
 *
 * Stored form (buckets.acl, objects.acl, uploads.acl): "cvacl1 OWNER\n"
 * (OWNER: the owning account id) then one line per grant, in order,
 * "PERMISSION id CANONICAL-ID" or "PERMISSION group AllUsers|
 * AuthenticatedUsers|LogDelivery". NULL means "private, owned by the bucket
 * owner"; an older store wrote a canned name (no owner line), read the same
 * way with the bucket owner as owner.
 */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

#define XSI "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
#define GROUP_BASE "http://acs.amazonaws.com/groups/"
#define STORED_MAGIC "cvacl1 "

static const struct {
    enum acl_grantee kind;
    const char *uri, *name;
} groups[] = {
    {ACL_ALL_USERS, GROUP_BASE "global/AllUsers", "AllUsers"},
    {ACL_AUTH_USERS, GROUP_BASE "global/AuthenticatedUsers", "AuthenticatedUsers"},
    {ACL_LOG_DELIVERY, GROUP_BASE "s3/LogDelivery", "LogDelivery"},
};

static const struct {
    enum acl_perm perm;
    const char *name;
} perms[] = {
    {ACL_READ, "READ"},           {ACL_WRITE, "WRITE"},         {ACL_READ_ACP, "READ_ACP"},
    {ACL_WRITE_ACP, "WRITE_ACP"}, {ACL_FULL_CONTROL, "FULL_CONTROL"},
};

const char *acl_perm_name(enum acl_perm p)
{
    size_t i;

    for (i = 0; i < CV_ARRAY_LEN(perms); i++) {
        if (perms[i].perm == p) {
            return perms[i].name;
        }
    }
    return "?";
}

static bool perm_parse(struct cv_str s, enum acl_perm *out)
{
    size_t i;

    for (i = 0; i < CV_ARRAY_LEN(perms); i++) {
        if (cv_str_eq_c(s, perms[i].name)) {
            *out = perms[i].perm;
            return true;
        }
    }
    return false;
}

static bool group_by_uri(struct cv_str uri, enum acl_grantee *out)
{
    size_t i;

    for (i = 0; i < CV_ARRAY_LEN(groups); i++) {
        if (cv_str_eq_c(uri, groups[i].uri)) {
            *out = groups[i].kind;
            return true;
        }
    }
    return false;
}

static const char *group_field(enum acl_grantee kind, bool uri)
{
    size_t i;

    for (i = 0; i < CV_ARRAY_LEN(groups); i++) {
        if (groups[i].kind == kind) {
            return uri ? groups[i].uri : groups[i].name;
        }
    }
    return "";
}

void acl_init(struct acl *a, const char *owner_account)
{
    a->n = 0;
    snprintf(a->owner, sizeof(a->owner), "%s", owner_account ? owner_account : "");
}

cv_err acl_add(struct acl *a, enum acl_grantee kind, struct cv_str id, enum acl_perm perm)
{
    struct acl_grant *g;

    if (a->n >= ACL_MAX_GRANTS) {
        return CV_S3_MALFORMED_ACL;
    }
    if (kind == ACL_USER || kind == ACL_EMAIL) {
        size_t i;
        if (!id.len || id.len >= ACL_ID_MAX) {
            return CV_S3_INVALID_ARGUMENT;
        }
        /* Canonical ids and addresses are printable ASCII without blanks
         * (which also keeps the stored form's line and field separators out). */
        for (i = 0; i < id.len; i++) {
            if ((unsigned char)id.ptr[i] <= 0x20 || (unsigned char)id.ptr[i] >= 0x7f) {
                return CV_S3_INVALID_ARGUMENT;
            }
        }
    }
    g = &a->g[a->n++];
    g->kind = kind;
    g->perm = perm;
    g->id[0] = '\0';
    if (kind == ACL_USER || kind == ACL_EMAIL) {
        memcpy(g->id, id.ptr, id.len);
        g->id[id.len] = '\0';
    }
    return CV_OK;
}

/* ------------------------------------------------------------ canned */

/*
 * Group grants come before the owner's FULL_CONTROL and the bucket owner's
 * grant last: the order RGW answers with and ceph/s3-tests expects (it reads
 * the owner's grant of a public-read-write bucket at index 2).
 */
cv_err acl_canned(struct cv_str name, const char *owner_cid, const char *bucket_owner_cid,
                  bool bucket, struct acl *a)
{
    struct cv_str own = cv_str_c(owner_cid), bown = cv_str_c(bucket_owner_cid);
    bool other = !bucket && strcmp(owner_cid, bucket_owner_cid) != 0;
    enum acl_perm bucket_owner_perm = 0;
    cv_err err = CV_OK;

    a->n = 0;
    if (cv_str_eq_c(name, "private") || cv_str_eq_c(name, "aws-exec-read")) {
        /* aws-exec-read's extra grantee is AWS's EC2 account: not here */
    } else if (cv_str_eq_c(name, "public-read")) {
        err = acl_add(a, ACL_ALL_USERS, CV_STR_NULL, ACL_READ);
    } else if (cv_str_eq_c(name, "public-read-write")) {
        err = acl_add(a, ACL_ALL_USERS, CV_STR_NULL, ACL_READ);
        if (!err) {
            err = acl_add(a, ACL_ALL_USERS, CV_STR_NULL, ACL_WRITE);
        }
    } else if (cv_str_eq_c(name, "authenticated-read")) {
        err = acl_add(a, ACL_AUTH_USERS, CV_STR_NULL, ACL_READ);
    } else if (cv_str_eq_c(name, "bucket-owner-read")) {
        bucket_owner_perm = other ? ACL_READ : 0;
    } else if (cv_str_eq_c(name, "bucket-owner-full-control")) {
        bucket_owner_perm = other ? ACL_FULL_CONTROL : 0;
    } else if (cv_str_eq_c(name, "log-delivery-write")) {
        err = acl_add(a, ACL_LOG_DELIVERY, CV_STR_NULL, ACL_WRITE);
        if (!err) {
            err = acl_add(a, ACL_LOG_DELIVERY, CV_STR_NULL, ACL_READ_ACP);
        }
    } else {
        return CV_S3_INVALID_ARGUMENT;
    }
    if (!err) {
        err = acl_add(a, ACL_USER, own, ACL_FULL_CONTROL);
    }
    if (!err && bucket_owner_perm) {
        err = acl_add(a, ACL_USER, bown, bucket_owner_perm);
    }
    return err;
}

/* ------------------------------------------------------ grant headers */

static struct cv_str skip_ows(struct cv_str s)
{
    while (s.len && (*s.ptr == ' ' || *s.ptr == '\t')) {
        s.ptr++;
        s.len--;
    }
    return s;
}

/*
 * x-amz-grant-PERM: grantee *( "," grantee ), grantee = type "=" value,
 * type id | emailAddress | uri (case-insensitive), value a quoted string
 * (no escapes) or a token up to the next comma; spaces around each part.
 */
cv_err acl_parse_grant_header(struct cv_str v, enum acl_perm perm, struct acl *a)
{
    cv_err err = CV_OK;

    v = cv_str_trim(v);
    if (!v.len) {
        return CV_S3_INVALID_ARGUMENT;
    }
    for (;;) {
        struct cv_str type, val;
        enum acl_grantee kind;
        const char *eq;

        v = skip_ows(v);
        eq = memchr(v.ptr, '=', v.len);
        if (!eq) {
            return CV_S3_INVALID_ARGUMENT;
        }
        type = cv_str_trim((struct cv_str){v.ptr, (size_t)(eq - v.ptr)});
        v.len -= (size_t)(eq - v.ptr) + 1;
        v.ptr = eq + 1;
        v = skip_ows(v);
        if (v.len && *v.ptr == '"') {
            const char *q = memchr(v.ptr + 1, '"', v.len - 1);
            if (!q) {
                return CV_S3_INVALID_ARGUMENT;
            }
            val = (struct cv_str){v.ptr + 1, (size_t)(q - v.ptr - 1)};
            v.len -= (size_t)(q - v.ptr) + 1;
            v.ptr = q + 1;
            v = skip_ows(v);
            if (v.len && *v.ptr != ',') {
                return CV_S3_INVALID_ARGUMENT;
            }
        } else {
            const char *c = memchr(v.ptr, ',', v.len);
            size_t n = c ? (size_t)(c - v.ptr) : v.len;
            val = cv_str_trim((struct cv_str){v.ptr, n});
            v.ptr += n;
            v.len -= n;
        }
        if (!val.len) {
            return CV_S3_INVALID_ARGUMENT;
        }
        if (cv_str_eq_ci_c(type, "id")) {
            err = acl_add(a, ACL_USER, val, perm);
        } else if (cv_str_eq_ci_c(type, "emailAddress")) {
            err = acl_add(a, ACL_EMAIL, val, perm);
        } else if (cv_str_eq_ci_c(type, "uri")) {
            err = group_by_uri(val, &kind) ? acl_add(a, kind, CV_STR_NULL, perm)
                                           : CV_S3_INVALID_ARGUMENT;
        } else {
            err = CV_S3_INVALID_ARGUMENT;
        }
        if (err) {
            return err;
        }
        if (!v.len) {
            return CV_OK;
        }
        v.ptr++; /* the comma */
        v.len--;
    }
}

/* ---------------------------------------------------------------- XML */

cv_err acl_parse_xml(struct cv_arena *ar, const char *xml, size_t len, struct acl *a,
                     char owner_cid[ACL_ID_MAX])
{
    struct xml_node *root = NULL;
    const struct xml_node *list, *g, *owner;
    cv_err err;

    owner_cid[0] = '\0';
    a->n = 0;
    err = xml_parse(ar, xml, len, &root);
    if (err == CV_ENOMEM) {
        return err;
    }
    if (err || strcmp(root->name, "AccessControlPolicy") != 0) {
        return CV_S3_MALFORMED_ACL;
    }
    owner = xml_child(root, "Owner");
    if (owner) {
        struct cv_str id = cv_str_trim(xml_text(xml_child(owner, "ID")));
        if (id.len >= ACL_ID_MAX) {
            return CV_S3_MALFORMED_ACL;
        }
        memcpy(owner_cid, id.ptr, id.len);
        owner_cid[id.len] = '\0';
    }
    list = xml_child(root, "AccessControlList");
    for (g = list ? list->child : NULL; g; g = g->next) {
        const struct xml_node *grantee = xml_child(g, "Grantee");
        const struct xml_node *pn = xml_child(g, "Permission");
        const struct xml_node *id, *email, *uri;
        enum acl_perm perm;
        enum acl_grantee kind;

        if (strcmp(g->name, "Grant") != 0 || !grantee || !pn ||
            !perm_parse(cv_str_trim(xml_text(pn)), &perm)) {
            return CV_S3_MALFORMED_ACL;
        }
        /* The grantee's kind follows from what it carries (xsi:type says the
         * same; the DOM keeps no attributes). */
        id = xml_child(grantee, "ID");
        email = xml_child(grantee, "EmailAddress");
        uri = xml_child(grantee, "URI");
        if (id) {
            err = acl_add(a, ACL_USER, cv_str_trim(xml_text(id)), perm);
        } else if (email) {
            err = acl_add(a, ACL_EMAIL, cv_str_trim(xml_text(email)), perm);
        } else if (uri) {
            err = group_by_uri(cv_str_trim(xml_text(uri)), &kind)
                      ? acl_add(a, kind, CV_STR_NULL, perm)
                      : CV_S3_INVALID_ARGUMENT;
        } else {
            err = CV_S3_MALFORMED_ACL;
        }
        if (err) {
            return err;
        }
    }
    return CV_OK;
}

/* ------------------------------------------------------- stored form */

cv_err acl_encode(const struct acl *a, struct cv_buf *out)
{
    cv_err err = cv_buf_addf(out, STORED_MAGIC "%s\n", a->owner);
    size_t i;

    for (i = 0; !err && i < a->n; i++) {
        const struct acl_grant *g = &a->g[i];
        if (g->kind == ACL_USER) {
            err = cv_buf_addf(out, "%s id %s\n", acl_perm_name(g->perm), g->id);
        } else if (g->kind != ACL_EMAIL) {
            err = cv_buf_addf(out, "%s group %s\n", acl_perm_name(g->perm),
                              group_field(g->kind, false));
        } else {
            err = CV_EINVAL; /* emails are resolved before storing */
        }
    }
    return err;
}

static struct cv_str next_field(struct cv_str *line)
{
    struct cv_str f;
    const char *sp = memchr(line->ptr, ' ', line->len);
    size_t n = sp ? (size_t)(sp - line->ptr) : line->len;

    f.ptr = line->ptr;
    f.len = n;
    line->ptr += n + (sp ? 1 : 0);
    line->len -= n + (sp ? 1 : 0);
    return f;
}

cv_err acl_decode(struct cv_str stored, const char *bucket_account, const char *bucket_cid,
                  struct acl *a)
{
    struct cv_str rest, line;

    acl_init(a, bucket_account);
    if (!stored.ptr || !stored.len) {
        return acl_add(a, ACL_USER, cv_str_c(bucket_cid), ACL_FULL_CONTROL);
    }
    if (!cv_str_starts_with(stored, STORED_MAGIC)) {
        /* An older store's canned name. */
        cv_err err = acl_canned(stored, bucket_cid, bucket_cid, false, a);
        return err ? acl_canned(CV_STR("private"), bucket_cid, bucket_cid, false, a) : CV_OK;
    }
    rest.ptr = stored.ptr + strlen(STORED_MAGIC);
    rest.len = stored.len - strlen(STORED_MAGIC);
    while (rest.len) {
        const char *nl = memchr(rest.ptr, '\n', rest.len);
        size_t n = nl ? (size_t)(nl - rest.ptr) : rest.len;
        line = (struct cv_str){rest.ptr, n};
        rest.ptr += n + (nl ? 1 : 0);
        rest.len -= n + (nl ? 1 : 0);
        if (line.ptr == stored.ptr + strlen(STORED_MAGIC)) {
            if (line.len >= sizeof(a->owner)) {
                return CV_EINVAL;
            }
            memcpy(a->owner, line.ptr, line.len);
            a->owner[line.len] = '\0';
            continue;
        }
        {
            struct cv_str p = next_field(&line), kind = next_field(&line);
            enum acl_perm perm;
            enum acl_grantee gk = ACL_USER;
            size_t i;
            cv_err err;

            if (!perm_parse(p, &perm)) {
                return CV_EINVAL;
            }
            if (cv_str_eq_c(kind, "id")) {
                err = acl_add(a, ACL_USER, line, perm);
            } else {
                bool found = false;
                for (i = 0; i < CV_ARRAY_LEN(groups); i++) {
                    if (cv_str_eq_c(line, groups[i].name)) {
                        gk = groups[i].kind;
                        found = true;
                    }
                }
                err = found && cv_str_eq_c(kind, "group") ? acl_add(a, gk, CV_STR_NULL, perm)
                                                          : CV_EINVAL;
            }
            if (err) {
                return err;
            }
        }
    }
    return CV_OK;
}

/* ------------------------------------------------------------ checks */

static bool grants(const struct acl *a, const char *canonical, bool groups_only,
                   bool skip_public, enum acl_perm need)
{
    size_t i;

    for (i = 0; i < a->n; i++) {
        const struct acl_grant *g = &a->g[i];
        bool who;
        if (g->perm != need && g->perm != ACL_FULL_CONTROL) {
            continue;
        }
        switch (g->kind) {
        case ACL_ALL_USERS:
            who = !skip_public;
            break;
        case ACL_AUTH_USERS:
            who = !skip_public && canonical != NULL;
            break;
        case ACL_USER:
            who = !groups_only && canonical && strcmp(g->id, canonical) == 0;
            break;
        default:
            who = false;
            break;
        }
        if (who) {
            return true;
        }
    }
    return false;
}

bool acl_grants(const struct acl *a, const char *canonical, bool groups_only,
                enum acl_perm need)
{
    return grants(a, canonical, groups_only, false, need);
}

bool acl_grants_private(const struct acl *a, const char *canonical, bool groups_only,
                        enum acl_perm need)
{
    return grants(a, canonical, groups_only, true, need);
}

bool acl_is_public(const struct acl *a)
{
    size_t i;

    for (i = 0; i < a->n; i++) {
        if (a->g[i].kind == ACL_ALL_USERS || a->g[i].kind == ACL_AUTH_USERS) {
            return true;
        }
    }
    return false;
}

bool acl_owner_only(const struct acl *a, const char *owner_cid)
{
    size_t i;

    for (i = 0; i < a->n; i++) {
        if (a->g[i].kind != ACL_USER || a->g[i].perm != ACL_FULL_CONTROL ||
            strcmp(a->g[i].id, owner_cid) != 0) {
            return false;
        }
    }
    return true;
}

/* ----------------------------------------------------- store side */

bool s3_ownership_valid(struct cv_str s)
{
    return cv_str_eq_c(s, "BucketOwnerEnforced") || cv_str_eq_c(s, "BucketOwnerPreferred") ||
           cv_str_eq_c(s, "ObjectWriter");
}

bool s3_acl_enforced(const struct bucket_info *bi)
{
    return strcmp(bi->ownership, "BucketOwnerEnforced") == 0;
}

/* The account name of a canonical id, "" if no account has it. */
static cv_err name_of_cid(struct store *st, const char *cid, char name[65], bool *found)
{
    struct db_conn *c = db_reader(st->db);
    sqlite3_stmt *s = c ? db_stmt(c, STMT_ACCOUNT_BY_CANONICAL) : NULL;
    cv_err err = s ? CV_OK : CV_ENOMEM;

    name[0] = '\0';
    *found = false;
    if (s) {
        sqlite3_bind_text(s, 1, cid, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW) {
            snprintf(name, 65, "%s", (const char *)sqlite3_column_text(s, 1));
            *found = true;
        }
    }
    db_reader_done(st->db, c);
    return err;
}

static cv_err grant_xml(struct store *st, struct cv_buf *b, const struct acl_grant *g)
{
    cv_err err;

    if (g->kind == ACL_USER) {
        char name[65];
        bool found;
        err = name_of_cid(st, g->id, name, &found);
        if (!err) {
            err = cv_buf_adds(b, "<Grant><Grantee " XSI " xsi:type=\"CanonicalUser\">");
        }
        if (!err) {
            err = xml_elemc(b, "ID", g->id);
        }
        if (!err && found) {
            err = xml_elemc(b, "DisplayName", name);
        }
    } else {
        err = cv_buf_addf(b, "<Grant><Grantee " XSI " xsi:type=\"Group\"><URI>%s</URI>",
                          group_field(g->kind, true));
    }
    if (!err) {
        err = cv_buf_addf(b, "</Grantee><Permission>%s</Permission></Grant>",
                          acl_perm_name(g->perm));
    }
    return err;
}

cv_err s3_acl_xml(struct store_req *r, const struct acl *a, struct cv_buf *out)
{
    char id[65], name[65];
    size_t i;
    cv_err err = s3_account_info(r->st, a->owner, id, name);

    if (!err) {
        err = xml_begin(out, "AccessControlPolicy");
    }
    if (!err) {
        err = cv_buf_adds(out, "<Owner>");
    }
    if (!err) {
        err = xml_elemc(out, "ID", id);
    }
    if (!err) {
        err = xml_elemc(out, "DisplayName", name);
    }
    if (!err) {
        err = cv_buf_adds(out, "</Owner><AccessControlList>");
    }
    /* Group grants first, then the others, each in the order given: RGW's
     * order, which ceph/s3-tests relies on. */
    for (i = 0; !err && i < a->n; i++) {
        if (a->g[i].kind != ACL_USER) {
            err = grant_xml(r->st, out, &a->g[i]);
        }
    }
    for (i = 0; !err && i < a->n; i++) {
        if (a->g[i].kind == ACL_USER) {
            err = grant_xml(r->st, out, &a->g[i]);
        }
    }
    if (!err) {
        err = cv_buf_adds(out, "</AccessControlList>");
    }
    if (!err) {
        err = xml_end(out, "AccessControlPolicy");
    }
    return err;
}

bool s3_has_grant_headers(const struct store_req *r)
{
    size_t i;

    for (i = 0; i < r->nheaders; i++) {
        struct cv_str n = r->headers[i].name;
        if (n.len > 12 && cv_str_eq_ci((struct cv_str){n.ptr, 12}, CV_STR("x-amz-grant-"))) {
            return true;
        }
    }
    return false;
}

static const struct {
    const char *header;
    enum acl_perm perm;
} grant_headers[] = {
    {"x-amz-grant-read", ACL_READ},
    {"x-amz-grant-write", ACL_WRITE},
    {"x-amz-grant-read-acp", ACL_READ_ACP},
    {"x-amz-grant-write-acp", ACL_WRITE_ACP},
    {"x-amz-grant-full-control", ACL_FULL_CONTROL},
};

/* Every grantee id names an account; e-mail grantees cannot be resolved. */
static cv_err resolve(struct store_req *r, const struct acl *a)
{
    size_t i;

    for (i = 0; i < a->n; i++) {
        char name[65];
        bool found = false;
        cv_err err;
        if (a->g[i].kind == ACL_EMAIL) {
            resp_error(r, CV_S3_UNRESOLVABLE_EMAIL, NULL, "EmailAddress", a->g[i].id, NULL);
            return CV_S3_UNRESOLVABLE_EMAIL;
        }
        if (a->g[i].kind != ACL_USER) {
            continue;
        }
        err = name_of_cid(r->st, a->g[i].id, name, &found);
        if (err) {
            resp_error(r, err, NULL, NULL);
            return err;
        }
        if (!found) {
            resp_error(r, CV_S3_INVALID_ARGUMENT, "Invalid id", "ArgumentName", "CanonicalUser/ID",
                       "ArgumentValue", a->g[i].id, NULL);
            return CV_S3_INVALID_ARGUMENT;
        }
    }
    return CV_OK;
}

cv_err s3_acl_from_request(struct store_req *r, const struct acl_req *q, struct acl **out)
{
    struct cv_str canned = req_header(r, "x-amz-acl");
    bool grants = s3_has_grant_headers(r);
    char owner_cid[65], bucket_cid[65], name[65], body_owner[ACL_ID_MAX];
    struct acl *a = NULL;
    cv_err err;
    size_t i;

    *out = NULL;
    if (canned.ptr && grants) {
        resp_error(r, CV_S3_INVALID_REQUEST,
                   "Specifying both Canned ACLs and Header Grants is not allowed", NULL);
        return CV_S3_INVALID_REQUEST;
    }
    if (canned.ptr && !s3_canned_acl_valid(canned)) {
        resp_error(r, CV_S3_INVALID_ARGUMENT, NULL, "ArgumentName", "x-amz-acl", "ArgumentValue",
                   cv_arena_strndup(&r->arena, canned.ptr, CV_MIN(canned.len, 64)), NULL);
        return CV_S3_INVALID_ARGUMENT;
    }
    if (!canned.ptr && !grants && !(q->body && r->xml.len)) {
        return CV_OK;
    }
    a = cv_arena_alloc(&r->arena, sizeof(*a));
    err = a ? s3_account_info(r->st, q->owner_account, owner_cid, name) : CV_ENOMEM;
    if (!err) {
        err = s3_account_info(r->st, q->bi->account, bucket_cid, name);
    }
    if (err) {
        resp_error(r, err == CV_ENOENT ? CV_EINTERNAL : err, NULL, NULL);
        return err;
    }
    acl_init(a, q->owner_account);
    if (canned.ptr) {
        err = acl_canned(canned, owner_cid, bucket_cid, q->bucket, a);
    } else if (grants) {
        for (i = 0; !err && i < CV_ARRAY_LEN(grant_headers); i++) {
            struct cv_str h = req_header(r, grant_headers[i].header);
            if (h.ptr) {
                err = acl_parse_grant_header(h, grant_headers[i].perm, a);
            }
        }
    } else {
        err = acl_parse_xml(&r->arena, r->xml.ptr, r->xml.len, a, body_owner);
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        return err;
    }
    err = resolve(r, a);
    if (err) {
        return err;
    }
    if (s3_acl_enforced(q->bi) && !acl_owner_only(a, bucket_cid)) {
        resp_error(r, q->enforced_err, NULL, NULL);
        return q->enforced_err;
    }
    /* Block Public Access: a new public ACL is refused (CreateBucket has its
     * own error, as on AWS). */
    if (pab_on(q->bi, PAB_BLOCK_PUBLIC_ACLS) && acl_is_public(a)) {
        err = r->op == OP_CREATE_BUCKET ? CV_S3_BUCKET_ACL_BPA : CV_S3_ACCESS_DENIED;
        resp_error(r, err, NULL, NULL);
        return err;
    }
    *out = a;
    return CV_OK;
}

cv_err s3_acl_stored(struct store_req *r, const struct acl *a, const char **out)
{
    struct cv_buf b = CV_BUF_INIT(64 * 1024);
    cv_err err = acl_encode(a, &b);

    *out = NULL;
    if (!err) {
        *out = cv_arena_strndup(&r->arena, b.ptr, b.len);
        err = *out ? CV_OK : CV_ENOMEM;
    }
    cv_buf_release(&b);
    return err;
}

cv_err s3_acl_for_write(struct store_req *r, const struct bucket_info *bi, const char **stored)
{
    const char *writer = r->ident.kind == IDENT_ANONYMOUS ? bi->account : r->ident.account;
    const char *owner = writer;
    struct cv_str canned = req_header(r, "x-amz-acl");
    struct acl_req q;
    struct acl *a = NULL;
    cv_err err;

    *stored = NULL;
    if (s3_acl_enforced(bi) ||
        (strcmp(bi->ownership, "BucketOwnerPreferred") == 0 &&
         cv_str_eq_c(canned, "bucket-owner-full-control"))) {
        owner = bi->account;
    }
    q.bi = bi;
    q.owner_account = owner;
    q.bucket = false;
    q.body = false;
    q.enforced_err = CV_S3_ACL_NOT_SUPPORTED;
    err = s3_acl_from_request(r, &q, &a);
    if (err || s3_acl_enforced(bi) || (!a && strcmp(owner, bi->account) == 0)) {
        return err; /* the bucket owner's private default: nothing stored */
    }
    if (!a) {
        char cid[65], name[65];
        a = cv_arena_alloc(&r->arena, sizeof(*a));
        err = a ? s3_account_info(r->st, owner, cid, name) : CV_ENOMEM;
        if (!err) {
            acl_init(a, owner);
            err = acl_add(a, ACL_USER, cv_str_c(cid), ACL_FULL_CONTROL);
        }
    }
    if (!err) {
        err = s3_acl_stored(r, a, stored);
    }
    if (err) {
        resp_error(r, err == CV_ENOENT ? CV_EINTERNAL : err, NULL, NULL);
    }
    return err;
}

cv_err s3_acl_load(struct store *st, struct cv_str bucket, const struct cv_str *key,
                   const struct bucket_info *bi, struct acl *a, bool *found)
{
    struct db_conn *c = db_reader(st->db);
    sqlite3_stmt *s = NULL;
    char cid[65], name[65];
    cv_err err = CV_OK;

    *found = false;
    if (!c) {
        return CV_ENOMEM;
    }
    s = db_stmt(c, key ? STMT_OBJ_GET_ACL : STMT_BUCKET_GET_ACL);
    if (!s) {
        err = CV_EDB;
        goto out;
    }
    db_bind_str(s, 1, bucket);
    if (key) {
        db_bind_str(s, 2, *key);
    }
    if (sqlite3_step(s) != SQLITE_ROW) {
        goto out;
    }
    *found = true;
    err = s3_account_info(st, bi->account, cid, name);
    if (!err) {
        /* Under BucketOwnerEnforced every ACL reads as the bucket owner's private one. */
        err = acl_decode(s3_acl_enforced(bi) ? CV_STR_NULL : db_col_str(s, 0), bi->account, cid,
                         a);
    }
out:
    db_reader_done(st->db, c);
    return err;
}
