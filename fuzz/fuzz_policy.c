/*
 * Policy documents from the wire: parse + validate both ways (bucket and
 * identity), evaluate what compiles against a few requests, and run the
 * checker and the locator. Invariants checked: a compiled policy decides
 * without crashing; the checker reports an ERROR for whatever the store
 * rejects; IAM's size measure never exceeds the byte length.
 */
#include "policy/policy.h"

#include <stdlib.h>
#include <string.h>

static bool exists(void *ud, enum policy_principal_ref kind, struct cv_str id)
{
    (void)ud;
    (void)kind;
    return id.len % 2 == 0; /* some principals exist, some do not */
}

static void decide_some(const struct policy *id, const struct policy *bp)
{
    static const char *const actions[] = {
        "s3:PutObject",       "s3:GetObject", "s3:ListBucket",          "s3:ListAllMyBuckets",
        "s3:PutBucketPolicy", "iam:GetUser",  "s3:AbortMultipartUpload"};
    static const char *const resources[] = {
        "arn:aws:s3:::caravel-drop/x.json", "arn:aws:s3:::caravel-drop",
        "arn:aws:s3:::", "arn:aws:s3:::caravel-drop/home/alice/a:b"};
    struct cv_str vip = CV_STR("203.0.113.7"), vtls = CV_STR("false"),
                  vtime = CV_STR("2024-06-01T00:00:00Z"), vpre = CV_STR("home/"),
                  vtags[2] = {CV_STR("team"), CV_STR("secret")};
    struct policy_ctx_key extra[5] = {{CV_STR("aws:SourceIp"), &vip, 1},
                                      {CV_STR("aws:SecureTransport"), &vtls, 1},
                                      {CV_STR("aws:CurrentTime"), &vtime, 1},
                                      {CV_STR("s3:prefix"), &vpre, 1},
                                      {CV_STR("s3:RequestObjectTagKeys"), vtags, 2}};
    static const enum policy_caller callers[] = {POLICY_CALLER_USER, POLICY_CALLER_ROOT,
                                                 POLICY_CALLER_ANONYMOUS};
    const struct policy *ids[1] = {id};

    for (size_t c = 0; c < 3; c++) {
        struct policy_request req;
        struct policy_ctx_key keys[16];
        struct cv_str vals[8];
        size_t n;
        memset(&req, 0, sizeof(req));
        req.principal.kind = callers[c];
        if (callers[c] != POLICY_CALLER_ANONYMOUS) {
            req.principal.account = CV_STR("111122223333");
        }
        if (callers[c] == POLICY_CALLER_USER) {
            req.principal.user_name = CV_STR("alice");
            req.principal.user_id = CV_STR("AIDAEXAMPLEALICE0001");
            req.principal.arn = CV_STR("arn:aws:iam::111122223333:user/alice");
        } else if (callers[c] == POLICY_CALLER_ROOT) {
            req.principal.arn = CV_STR("arn:aws:iam::111122223333:root");
        }
        req.bucket_owner = c == 0 ? CV_STR("444455556666") : CV_STR("111122223333");
        n = policy_principal_keys(&req.principal, keys, vals);
        memcpy(keys + n, extra, sizeof(extra));
        req.keys = keys;
        req.nkeys = n + CV_ARRAY_LEN(extra);
        for (size_t a = 0; a < CV_ARRAY_LEN(actions); a++) {
            for (size_t r = 0; r < CV_ARRAY_LEN(resources); r++) {
                struct policy_result res;
                req.action_name = cv_str_c(actions[a]);
                req.action_id = (a + r) % 2 ? policy_action_id(req.action_name) : -1;
                req.resource = cv_str_c(resources[r]);
                req.mpu_initiator = (a + r) % 3 == 0;
                policy_decide(&req, ids, id ? 1 : 0, bp, &res);
                if (res.nmatched > POLICY_MAX_MATCHED || res.nmissing > POLICY_MAX_MISSING) {
                    abort();
                }
                if (res.decision == POLICY_EXPLICIT_DENY && res.nmatched == 0) {
                    abort();
                }
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct policy_parse_opts ob = {POLICY_BUCKET, "caravel-drop", exists, NULL, NULL};
    struct policy_parse_opts oi = {POLICY_IDENTITY, NULL, NULL, NULL, NULL};
    struct policy *bp = NULL, *ip = NULL;
    struct policy_findings f = POLICY_FINDINGS_INIT;
    struct policy_locmap *m = NULL;
    char msg[256];
    cv_err eb, ei;

    eb = policy_parse(text, size, &ob, &bp, msg, sizeof(msg));
    ei = policy_parse(text, size, &oi, &ip, msg, sizeof(msg));
    if (bp || ip) {
        decide_some(ip, bp);
    }
    if (policy_iam_size(text, size) > size) {
        abort();
    }
    if (policy_check(text, size, POLICY_IDENTITY, NULL, &f) == CV_OK) {
        size_t nerr = 0;
        for (size_t i = 0; i < f.n; i++) {
            nerr += f.items[i].severity == POLICY_ERROR;
        }
        if (ei != CV_OK && ei != CV_ENOMEM && nerr == 0) {
            abort(); /* the store rejects what the checker passed */
        }
        policy_findings_release(&f);
    }
    if (policy_check(text, size, POLICY_BUCKET, "caravel-drop", &f) == CV_OK) {
        policy_findings_release(&f);
    }
    if (policy_locmap_build(text, size, &m) == CV_OK) {
        unsigned l, c;
        (void)policy_locmap_find(m, "Statement[0]", &l, &c, NULL, NULL);
        policy_locmap_free(m);
    }
    (void)eb;
    policy_free(bp);
    policy_free(ip);
    return 0;
}
