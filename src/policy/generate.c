/*
 * The product guide's two policies, written the way the AWS Policy Generator
 * writes them (IAM.md §5): key order Id, Version, Statement; Sid, Action,
 * Effect, Resource, Principal; two-space indentation.
 */
#include "policy/policy_int.h"

#include <inttypes.h>

cv_err policy_generate(const char *bucket, const char *user_arn, const struct cv_clock *clock,
                       struct cv_buf *user_policy, struct cv_buf *bucket_policy)
{
    struct pprin pr;
    int64_t ms;
    cv_err err;

    if (!bucket || !user_arn || !policy_bucket_name_ok(cv_str_c(bucket)) ||
        policy_principal_classify(cv_str_c(user_arn), &pr) != PPRIN_OK ||
        pr.kind != PPRIN_USER_ARN) {
        return CV_EINVAL;
    }
    ms = cv_clock_now_ms(clock);
    err = cv_buf_addf(user_policy,
                      "{\n"
                      "  \"Version\": \"2012-10-17\",\n"
                      "  \"Statement\": [\n"
                      "    {\n"
                      "      \"Sid\": \"Stmt%" PRId64 "\",\n"
                      "      \"Action\": [\n"
                      "        \"s3:ListBucket\"\n"
                      "      ],\n"
                      "      \"Effect\": \"Allow\",\n"
                      "      \"Resource\": \"arn:aws:s3:::%s\"\n"
                      "    }\n"
                      "  ]\n"
                      "}\n",
                      ms, bucket);
    if (err) {
        return err;
    }
    return cv_buf_addf(bucket_policy,
                       "{\n"
                       "  \"Id\": \"Policy%" PRId64 "\",\n"
                       "  \"Version\": \"2012-10-17\",\n"
                       "  \"Statement\": [\n"
                       "    {\n"
                       "      \"Sid\": \"Stmt%" PRId64 "\",\n"
                       "      \"Action\": [\n"
                       "        \"s3:PutObject\",\n"
                       "        \"s3:PutObjectAcl\"\n"
                       "      ],\n"
                       "      \"Effect\": \"Allow\",\n"
                       "      \"Resource\": \"arn:aws:s3:::%s/*\",\n"
                       "      \"Principal\": {\n"
                       "        \"AWS\": [\n"
                       "          \"%s\"\n"
                       "        ]\n"
                       "      }\n"
                       "    }\n"
                       "  ]\n"
                       "}\n",
                       ms, ms, bucket, user_arn);
}
