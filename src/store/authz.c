/*
 * Authorization. Until IAM users and policies land, the rule is the one of
 * a single-identity store: an account's root user may do anything to its own
 * buckets and objects; nobody else (anonymous callers, other accounts) may do
 * anything. Denials never touch storage: every operation asks here before
 * it reads a body or changes metadata.
 */
#include "store_int.h"

#include <string.h>

bool store_allowed(struct store_req *r, const char *action, struct cv_str bucket, struct cv_str key,
                   const struct bucket_info *bi)
{
    CV_UNUSED(action);
    CV_UNUSED(bucket);
    CV_UNUSED(key);
    if (r->ident.kind != IDENT_ROOT) {
        return false;
    }
    return !bi || strcmp(bi->account, r->ident.account) == 0;
}

bool store_authorize(struct store_req *r, const char *action, struct cv_str bucket,
                     struct cv_str key, const struct bucket_info *bi)
{
    if (store_allowed(r, action, bucket, key, bi)) {
        return true;
    }
    resp_error(r, CV_S3_ACCESS_DENIED, NULL, NULL);
    return false;
}
