/*
 * policy_sts: the one STS call `caravel policy generate` needs
 * (GetCallerIdentity), with a small private SigV4 header signer. Kept apart
 * from the policy language so that it can be swapped for the sigv4 and
 * s3client modules later.
 */
#ifndef CV_POLICY_STS_H
#define CV_POLICY_STS_H

#include "base/base.h"

/* What to sign: one request with a body. All strings borrowed. */
struct policy_sigv4_in {
    const char *method;       /* "POST" */
    const char *host;         /* the Host header value, with ":port" when not default */
    const char *path;         /* canonical URI, already encoded: "/" */
    const char *content_type; /* signed when not NULL */
    const char *body;
    size_t body_len;
    const char *region, *service;
    const char *access_key_id, *secret_access_key;
    const char *session_token; /* signed as x-amz-security-token when not NULL */
    int64_t unix_s;            /* request time */
};

/*
 * Computes the Authorization header value (appended to @p auth) and the
 * X-Amz-Date value (@p amz_date, "YYYYMMDDTHHMMSSZ"). Signed headers:
 * content-type (if given), host, x-amz-date, x-amz-security-token (if given).
 */
CV_WUR cv_err policy_sigv4_authorization(const struct policy_sigv4_in *in, struct cv_buf *auth,
                                         char amz_date[17]);

struct policy_sts_identity {
    char arn[512];
    char account[32];
    char user_id[128];
};

/*
 * POSTs Action=GetCallerIdentity&Version=2011-06-15 to @p endpoint (http or
 * https URL), signed for service "sts" in @p region with the given keys at
 * @p clock's time. On failure returns CV_ENET (transport), CV_S3_ACCESS_DENIED
 * (an STS error reply) or CV_EPARSE (an unreadable reply), with a message.
 */
CV_WUR cv_err policy_sts_get_caller_identity(
    const char *endpoint, const char *region, const char *access_key_id,
    const char *secret_access_key, const char *session_token, const struct cv_clock *clock,
    struct policy_sts_identity *out, char *msg, size_t msglen);

#endif
