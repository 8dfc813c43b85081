/* ACL documents: canned ACLs in, AccessControlPolicy XML out. */
#include "store_int.h"

#include <string.h>

#define XSI "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
#define ALL_USERS "http://acs.amazonaws.com/groups/global/AllUsers"
#define AUTH_USERS "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"

static cv_err grant_user(struct cv_buf *b, const char *id, const char *name, const char *perm)
{
    cv_err err = cv_buf_addf(b, "<Grant><Grantee " XSI " xsi:type=\"CanonicalUser\">");

    if (!err) {
        err = xml_elemc(b, "ID", id);
    }
    if (!err) {
        err = xml_elemc(b, "DisplayName", name);
    }
    if (!err) {
        err = cv_buf_addf(b, "</Grantee><Permission>%s</Permission></Grant>", perm);
    }
    return err;
}

static cv_err grant_group(struct cv_buf *b, const char *uri, const char *perm)
{
    return cv_buf_addf(b,
                       "<Grant><Grantee " XSI " xsi:type=\"Group\"><URI>%s</URI></Grantee>"
                       "<Permission>%s</Permission></Grant>",
                       uri, perm);
}

cv_err s3_acl_write(struct store_req *r, const char *owner_account, const char *canned,
                    struct cv_buf *out)
{
    char id[65], name[65];
    cv_err err = s3_account_info(r->st, owner_account, id, name);

    if (err) {
        return err;
    }
    err = xml_begin(out, "AccessControlPolicy");
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
    if (!err) {
        err = grant_user(out, id, name, "FULL_CONTROL");
    }
    if (!err && (strcmp(canned, "public-read") == 0 || strcmp(canned, "public-read-write") == 0)) {
        err = grant_group(out, ALL_USERS, "READ");
    }
    if (!err && strcmp(canned, "public-read-write") == 0) {
        err = grant_group(out, ALL_USERS, "WRITE");
    }
    if (!err && strcmp(canned, "authenticated-read") == 0) {
        err = grant_group(out, AUTH_USERS, "READ");
    }
    if (!err) {
        err = cv_buf_adds(out, "</AccessControlList>");
    }
    if (!err) {
        err = xml_end(out, "AccessControlPolicy");
    }
    return err;
}

static bool enforced(const struct bucket_info *bi)
{
    return strcmp(bi->ownership, "BucketOwnerEnforced") == 0;
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

cv_err s3_acl_from_request(struct store_req *r, const struct bucket_info *bi, const char **canned)
{
    struct cv_str acl = req_header(r, "x-amz-acl");

    *canned = "private";
    if (acl.ptr) {
        if (!s3_canned_acl_valid(acl)) {
            resp_error(r, CV_S3_INVALID_ARGUMENT, NULL, "ArgumentName", "x-amz-acl",
                       "ArgumentValue", "", NULL);
            return CV_S3_INVALID_ARGUMENT;
        }
        if (enforced(bi) && !cv_str_eq_c(acl, "bucket-owner-full-control") &&
            !cv_str_eq_c(acl, "private")) {
            resp_error(r, CV_S3_ACL_NOT_SUPPORTED, NULL, NULL);
            return CV_S3_ACL_NOT_SUPPORTED;
        }
        *canned = cv_arena_strndup(&r->arena, acl.ptr, acl.len);
        return *canned ? CV_OK : CV_ENOMEM;
    }
    if (s3_has_grant_headers(r)) {
        if (enforced(bi)) {
            resp_error(r, CV_S3_ACL_NOT_SUPPORTED, NULL, NULL);
            return CV_S3_ACL_NOT_SUPPORTED;
        }
        *canned = "private"; /* explicit grants are accepted but not modelled */
        return CV_OK;
    }
    if (r->xml.len) {
        struct xml_node *root = NULL;
        const struct xml_node *list, *g;
        unsigned ngrants = 0, owner_full = 0;
        char id[65], name[65];

        if (xml_parse(&r->arena, r->xml.ptr, r->xml.len, &root) != CV_OK ||
            strcmp(root->name, "AccessControlPolicy") != 0) {
            resp_error(r, CV_S3_MALFORMED_ACL, NULL, NULL);
            return CV_S3_MALFORMED_ACL;
        }
        if (s3_account_info(r->st, bi->account, id, name) != CV_OK) {
            resp_error(r, CV_EINTERNAL, NULL, NULL);
            return CV_EINTERNAL;
        }
        list = xml_child(root, "AccessControlList");
        for (g = list ? list->child : NULL; g; g = g->next) {
            const struct xml_node *grantee = xml_child(g, "Grantee");
            ngrants++;
            if (cv_str_eq_c(xml_text(xml_child(g, "Permission")), "FULL_CONTROL") &&
                cv_str_eq_c(xml_text(xml_child(grantee, "ID")), id)) {
                owner_full++;
            }
        }
        if (enforced(bi) && !(ngrants == 1 && owner_full == 1)) {
            resp_error(r, CV_S3_ACL_NOT_SUPPORTED, NULL, NULL);
            return CV_S3_ACL_NOT_SUPPORTED;
        }
        *canned = "private";
        return CV_OK;
    }
    resp_error(r, CV_S3_MALFORMED_ACL, "You must specify an ACL: a canned ACL header, grant "
                                       "headers or an AccessControlPolicy document.",
               NULL);
    return CV_S3_MALFORMED_ACL;
}
