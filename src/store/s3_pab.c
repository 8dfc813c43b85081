/*
 * S3 Block Public Access on buckets: Get/Put/DeletePublicAccessBlock, and
 * GetBucketPolicyStatus with AWS's "meaning of public" for bucket policies.
 *
 * The configuration is four flags in buckets.pab (schema 7; NULL: none),
 * loaded with the bucket (struct bucket_info), so enforcement costs no
 * query: BlockPublicAcls in s3_acl_from_request() (acl.c), IgnorePublicAcls
 * in authz.c's ACL step, BlockPublicPolicy in PutBucketPolicy (s3_bucket.c),
 * RestrictPublicBuckets in authz.c's decide() with the publicness computed
 * once per compiled bucket policy. Permissions: s3:GetBucketPublicAccessBlock,
 * s3:PutBucketPublicAccessBlock (also for DeletePublicAccessBlock, as on AWS),
 * s3:GetBucketPolicyStatus. docs/internals/store-pab.md has the rules.
 */
#include "store_int.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------ the meaning of public */

/* Condition keys that, fixed to literal values, make an Allow to "*" non-public. */
static const char *const narrowing_keys[] = {
    "aws:SourceArn",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "aws:SourceOwner",
    "aws:SourceAccount",
    "aws:PrincipalOrgID",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:userid",
    "s3:DataAccessPointArn",
    "s3:DataAccessPointAccount",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
};

/* Operators that only let the listed values through (no negation, no IfExists). */
static const char *const fixing_ops[] = {
    "StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike",
};

static bool name_in(struct cv_str s, const char *const *list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (cv_str_eq_ci_c(s, list[i])) {
            return true;
        }
    }
    return false;
}

/* A literal value: no wildcard, no policy variable. aws:userid may end in
 * ":*" after a fixed unique id (AWS's "AROLEID:*" pattern for a role). */
static bool fixed_string(struct cv_str v, bool userid)
{
    size_t i;

    if (!v.len) {
        return false;
    }
    if (userid && v.len > 2 && v.ptr[v.len - 2] == ':' && v.ptr[v.len - 1] == '*') {
        v.len -= 2;
    }
    for (i = 0; i < v.len; i++) {
        if (v.ptr[i] == '*' || v.ptr[i] == '?' ||
            (v.ptr[i] == '$' && i + 1 < v.len && v.ptr[i + 1] == '{')) {
            return false;
        }
    }
    return true;
}

/*
 * An aws:SourceIp value narrow enough to be non-public: an IPv4 address or
 * CIDR of prefix /8 or longer, an IPv6 one of /32 or longer. Wider blocks
 * (0.0.0.0/0 and friends) reach a good part of the Internet.
 */
static bool fixed_cidr(struct cv_str v)
{
    char addr[64];
    unsigned char buf[16];
    ptrdiff_t slash = cv_str_find(v, '/');
    size_t alen = slash < 0 ? v.len : (size_t)slash;
    bool v6 = cv_str_find(v, ':') >= 0;
    uint64_t prefix = v6 ? 128 : 32;

    if (!alen || alen >= sizeof(addr)) {
        return false;
    }
    memcpy(addr, v.ptr, alen);
    addr[alen] = '\0';
    if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, buf) != 1) {
        return false;
    }
    if (slash >= 0 && cv_parse_u64((struct cv_str){v.ptr + slash + 1, v.len - alen - 1}, &prefix)) {
        return false;
    }
    return v6 ? prefix >= 32 && prefix <= 128 : prefix >= 8 && prefix <= 32;
}

/* Is every value of a condition (a string, a number, or an array of them) fixed? */
static bool values_fixed(json_t *vals, bool cidr, bool userid)
{
    json_t *one;
    size_t i, n = json_is_array(vals) ? json_array_size(vals) : 1;

    if (!n) {
        return false;
    }
    for (i = 0; i < n; i++) {
        one = json_is_array(vals) ? json_array_get(vals, i) : vals;
        if (json_is_string(one)) {
            struct cv_str v = {json_string_value(one), json_string_length(one)};
            if (cidr ? !fixed_cidr(v) : !fixed_string(v, userid)) {
                return false;
            }
        } else if (!json_is_integer(one) || cidr) {
            return false;
        }
    }
    return true;
}

/* Does the statement's Condition fix one narrowing key (conditions are ANDed)? */
static bool condition_fixes(json_t *cond)
{
    const char *op_name, *key_name;
    json_t *keys, *vals;

    if (!json_is_object(cond)) {
        return false;
    }
    json_object_foreach(cond, op_name, keys)
    {
        struct cv_str op = cv_str_c(op_name);
        if (cv_str_starts_with(op, "ForAnyValue:")) {
            op.ptr += 12;
            op.len -= 12;
        }
        if (!json_is_object(keys)) {
            continue;
        }
        json_object_foreach(keys, key_name, vals)
        {
            struct cv_str key = cv_str_c(key_name);
            bool ip = cv_str_eq_ci_c(key, "aws:SourceIp");
            if (ip ? !cv_str_eq_ci_c(op, "IpAddress")
                   : !name_in(op, fixing_ops, CV_ARRAY_LEN(fixing_ops)) ||
                         !name_in(key, narrowing_keys, CV_ARRAY_LEN(narrowing_keys))) {
                continue;
            }
            if (values_fixed(vals, ip, cv_str_eq_ci_c(key, "aws:userid"))) {
                return true;
            }
        }
    }
    return false;
}

/* Does a Principal element name everyone ("*", {"AWS": "*"}, a "*" in a list)? */
static bool principal_everyone(json_t *p)
{
    const char *kind;
    json_t *v, *one;
    size_t i;

    if (json_is_string(p)) {
        return strchr(json_string_value(p), '*') != NULL;
    }
    if (!json_is_object(p)) {
        return false;
    }
    json_object_foreach(p, kind, v)
    {
        size_t n = json_is_array(v) ? json_array_size(v) : 1;
        for (i = 0; i < n; i++) {
            one = json_is_array(v) ? json_array_get(v, i) : v;
            if (json_is_string(one) && strchr(json_string_value(one), '*')) {
                return true;
            }
        }
    }
    return false;
}

static bool statement_public(json_t *st)
{
    json_t *effect = json_object_get(st, "Effect");

    if (!json_is_object(st) || !json_is_string(effect) ||
        strcmp(json_string_value(effect), "Allow") != 0) {
        return false;
    }
    /* An Allow to everyone but some principals is an Allow to the public. */
    if (!json_object_get(st, "NotPrincipal") &&
        !principal_everyone(json_object_get(st, "Principal"))) {
        return false;
    }
    return !condition_fixes(json_object_get(st, "Condition"));
}

bool pab_policy_is_public(const char *text, size_t len)
{
    json_t *doc = json_loadb(text, len, 0, NULL);
    json_t *st;
    bool pub = false;
    size_t i, n;

    if (!doc) {
        return true;
    }
    st = json_object_get(doc, "Statement");
    n = json_is_array(st) ? json_array_size(st) : 1;
    for (i = 0; i < n && !pub; i++) {
        pub = statement_public(json_is_array(st) ? json_array_get(st, i) : st);
    }
    json_decref(doc);
    return pub;
}

/* ------------------------------------------------------------ operations */

static void bucket_name(const struct store_req *r, char out[80])
{
    snprintf(out, 80, "%.*s", (int)CV_MIN(r->bucket.len, 70), r->bucket.ptr);
}

static const struct {
    const char *name;
    unsigned flag;
} pab_fields[] = {
    {"BlockPublicAcls", PAB_BLOCK_PUBLIC_ACLS},
    {"IgnorePublicAcls", PAB_IGNORE_PUBLIC_ACLS},
    {"BlockPublicPolicy", PAB_BLOCK_PUBLIC_POLICY},
    {"RestrictPublicBuckets", PAB_RESTRICT_PUBLIC_BUCKETS},
};

void s3_get_public_access_block(struct store_req *r)
{
    struct cv_buf *b = &r->resp.body;
    size_t i;
    cv_err err;

    if (!r->bi->has_pab) {
        char bname[80];
        bucket_name(r, bname);
        resp_error(r, CV_S3_NO_SUCH_PAB, NULL, "BucketName", bname, NULL);
        return;
    }
    err = xml_begin(b, "PublicAccessBlockConfiguration");
    for (i = 0; !err && i < CV_ARRAY_LEN(pab_fields); i++) {
        err = xml_elemc(b, pab_fields[i].name, r->bi->pab & pab_fields[i].flag ? "true" : "false");
    }
    if (!err) {
        err = xml_end(b, "PublicAccessBlockConfiguration");
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 200;
    r->resp.content_type = "application/xml";
}

struct pab_job {
    struct cv_str bucket;
    bool set; /* false: delete the configuration */
    unsigned pab;
};

static cv_err set_pab_tx(struct db_conn *c, void *arg)
{
    struct pab_job *j = arg;
    sqlite3_stmt *s = db_stmt(c, STMT_BUCKET_SET_PAB);

    if (!s) {
        return CV_EDB;
    }
    db_bind_str(s, 1, j->bucket);
    if (j->set) {
        sqlite3_bind_int(s, 2, (int)j->pab);
    } else {
        sqlite3_bind_null(s, 2);
    }
    if (sqlite3_step(s) != SQLITE_DONE) {
        return CV_EDB;
    }
    return sqlite3_changes(c->h) ? CV_OK : CV_S3_NO_SUCH_BUCKET;
}

/*
 * A PublicAccessBlockConfiguration document: each of the four elements at
 * most once, "true" or "false"; a missing one is false (as AWS). Anything
 * else is MalformedXML.
 */
static cv_err parse_pab(struct store_req *r, unsigned *out)
{
    struct xml_node *root = NULL;
    const struct xml_node *n;
    unsigned seen = 0;
    size_t i;

    *out = 0;
    root = xml_parse_doc(&r->arena, &r->xml, "PublicAccessBlockConfiguration");
    if (!root) {
        return CV_S3_MALFORMED_XML;
    }
    for (n = root->child; n; n = n->next) {
        struct cv_str v = cv_str_trim(xml_text(n));
        for (i = 0; i < CV_ARRAY_LEN(pab_fields); i++) {
            if (strcmp(n->name, pab_fields[i].name) == 0) {
                break;
            }
        }
        if (i == CV_ARRAY_LEN(pab_fields) || (seen & pab_fields[i].flag)) {
            return CV_S3_MALFORMED_XML;
        }
        seen |= pab_fields[i].flag;
        if (cv_str_eq_ci_c(v, "true")) {
            *out |= pab_fields[i].flag;
        } else if (!cv_str_eq_ci_c(v, "false")) {
            return CV_S3_MALFORMED_XML;
        }
    }
    return CV_OK;
}

void s3_put_public_access_block(struct store_req *r)
{
    struct pab_job j = {r->bucket, true, 0};
    cv_err err = parse_pab(r, &j.pab);

    if (!err) {
        err = db_write(r->st->db, set_pab_tx, &j);
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 200;
}

void s3_delete_public_access_block(struct store_req *r)
{
    struct pab_job j = {r->bucket, false, 0};
    cv_err err = db_write(r->st->db, set_pab_tx, &j);

    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 204;
}

void s3_get_bucket_policy_status(struct store_req *r)
{
    struct cv_buf *b = &r->resp.body;
    cv_err err;

    if (!r->bi->has_policy) {
        char bname[80];
        bucket_name(r, bname);
        resp_error(r, CV_S3_NO_SUCH_BUCKET_POLICY, NULL, "BucketName", bname, NULL);
        return;
    }
    err = xml_begin(b, "PolicyStatus");
    if (!err) {
        err = xml_elemc(b, "IsPublic",
                        pab_policy_is_public(r->bucket_policy.ptr ? r->bucket_policy.ptr : "",
                                             r->bucket_policy.len)
                            ? "true"
                            : "false");
    }
    if (!err) {
        err = xml_end(b, "PolicyStatus");
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 200;
    r->resp.content_type = "application/xml";
}
