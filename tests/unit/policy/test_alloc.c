/*
 * Allocation-failure sweeps over parse/compile, the checker, the locmap
 * and the generator (every allocation, jansson's included, fails in turn;
 * ASan checks nothing leaks), and the generator's contract.
 */
#include "policy/policy.h"
#include "test.h"

static const char *bucket_doc =
    "{\"Version\":\"2012-10-17\",\"Id\":\"P1\",\"Statement\":["
    "{\"Sid\":\"W\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"arn:aws:iam::111122223333:"
    "user/connector\",\"111122223333\"],\"CanonicalUser\":\"79a59df900b949e55d96a1e698fbacedfd6e0"
    "9d98eacf8f8d5218e7cd47ef2be\"},\"Action\":[\"s3:PutObject\",\"s3:PutObjectAcl\"],"
    "\"Resource\":\"arn:aws:s3:::caravel-drop/${aws:username}/*\",\"Condition\":{"
    "\"StringEquals\":{\"s3:x-amz-acl\":[\"bucket-owner-full-control\"]},"
    "\"IpAddress\":{\"aws:SourceIp\":[\"10.0.0.0/8\",\"2001:db8::/32\"]},"
    "\"NumericLessThan\":{\"aws:EpochTime\":1.5e12},\"DateGreaterThan\":{\"aws:CurrentTime\":"
    "\"2024-01-01T00:00:00Z\"},\"BinaryEquals\":{\"aws:x\":\"aGVsbG8=\"},"
    "\"ArnLike\":{\"aws:PrincipalArn\":\"arn:aws:iam::*:user/${aws:username}\"},"
    "\"Null\":{\"aws:TokenIssueTime\":false},"
    "\"ForAnyValue:StringLike\":{\"aws:TagKeys\":\"a*\"},\"Bool\":{\"aws:SecureTransport\":true}}},"
    "{\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":\"111122223333\"},\"NotAction\":\"s3:Get*\","
    "\"NotResource\":[\"arn:aws:s3:::caravel-drop\",\"arn:aws:s3:::caravel-drop/*\"]}]}";

static const char *identity_doc =
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
    "[\"s3:ListBucket\",\"iam:Get*\"],\"Resource\":[\"arn:aws:s3:::caravel-drop\","
    "\"arn:*:s3:*:*:caravel-drop/*\",\"*\"]}]}";

static cv_err parse_once(const char *doc, enum policy_type t)
{
    struct policy_parse_opts o = {t, "caravel-drop", NULL, NULL, NULL};
    struct policy *p = NULL;
    char msg[256];
    cv_err err = policy_parse(doc, strlen(doc), &o, &p, msg, sizeof(msg));

    /* A failed allocation is never reported as a bad document. */
    assert_true(err == CV_OK || err == CV_ENOMEM);
    policy_free(p);
    return err;
}

static cv_err check_once(const char *doc, enum policy_type t)
{
    struct policy_findings f = POLICY_FINDINGS_INIT;
    cv_err err = policy_check(doc, strlen(doc), t, "caravel-drop", &f);

    assert_true(err == CV_OK || err == CV_ENOMEM);
    if (err) {
        assert_int_equal(f.n, 0);
    }
    policy_findings_release(&f);
    return err;
}

static cv_err locmap_once(const char *doc)
{
    struct policy_locmap *m = NULL;
    cv_err err = policy_locmap_build(doc, strlen(doc), &m);

    policy_locmap_free(m);
    return err;
}

static cv_err generate_once(void)
{
    struct cv_buf u = CV_BUF_INIT(1 << 16), b = CV_BUF_INIT(1 << 16);
    struct cv_clock clk;
    cv_err err;

    cv_clock_fixed(&clk, 1);
    err = policy_generate("caravel-drop", "arn:aws:iam::111122223333:user/connector", &clk, &u, &b);
    cv_buf_release(&u);
    cv_buf_release(&b);
    return err;
}

static void test_sweeps(void **state)
{
    (void)state;
    assert_int_equal(parse_once(bucket_doc, POLICY_BUCKET), CV_OK);
    assert_int_equal(parse_once(identity_doc, POLICY_IDENTITY), CV_OK);
    CV_ALLOC_SWEEP(parse_once(bucket_doc, POLICY_BUCKET));
    CV_ALLOC_SWEEP(parse_once(identity_doc, POLICY_IDENTITY));
    CV_ALLOC_SWEEP(check_once(bucket_doc, POLICY_BUCKET));
    CV_ALLOC_SWEEP(check_once(identity_doc, POLICY_IDENTITY));
    CV_ALLOC_SWEEP(check_once("{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:Bad\"}]}",
                              POLICY_BUCKET));
    CV_ALLOC_SWEEP(locmap_once(bucket_doc));
    CV_ALLOC_SWEEP(generate_once());
}

/* Injected failures surface as CV_ENOMEM, never as a validation message. */
static void test_enomem_is_reported(void **state)
{
    struct policy_parse_opts o = {POLICY_BUCKET, "caravel-drop", NULL, NULL, NULL};
    struct policy *p = NULL;
    char msg[256];

    (void)state;
    cv_alloc_fail_after(0);
    assert_int_equal(policy_parse(bucket_doc, strlen(bucket_doc), &o, &p, msg, sizeof(msg)),
                     CV_ENOMEM);
    cv_alloc_fail_after(-1);
    assert_null(p);
}

static void test_generate(void **state)
{
    struct cv_buf u = CV_BUF_INIT(1 << 16), b = CV_BUF_INIT(1 << 16);
    struct cv_clock clk;
    struct policy_parse_opts ou = {POLICY_IDENTITY, NULL, NULL, NULL, NULL};
    struct policy_parse_opts ob = {POLICY_BUCKET, "caravel-drop", NULL, NULL, NULL};
    struct policy *pu = NULL, *pb = NULL;
    struct policy_findings f = POLICY_FINDINGS_INIT;

    (void)state;
    cv_clock_fixed(&clk, 1657921651068);
    assert_int_equal(
        policy_generate("caravel-drop", "arn:aws:iam::111122223333:user/connector", &clk, &u, &b),
        CV_OK);
    assert_non_null(strstr(u.ptr, "\"Sid\": \"Stmt1657921651068\""));
    assert_null(strstr(u.ptr, "\"Id\""));
    assert_non_null(strstr(b.ptr, "\"Id\": \"Policy1657921651068\""));
    assert_non_null(strstr(b.ptr, "\"Resource\": \"arn:aws:s3:::caravel-drop/*\""));
    /* Both pass the store's validation and the checker without findings. */
    assert_int_equal(policy_parse(u.ptr, u.len, &ou, &pu, NULL, 0), CV_OK);
    assert_int_equal(policy_parse(b.ptr, b.len, &ob, &pb, NULL, 0), CV_OK);
    assert_string_equal(policy_version(pb), "2012-10-17");
    assert_int_equal(policy_check(u.ptr, u.len, POLICY_IDENTITY, NULL, &f), CV_OK);
    assert_int_equal(f.n, 0);
    assert_int_equal(policy_check(b.ptr, b.len, POLICY_BUCKET, "caravel-drop", &f), CV_OK);
    assert_int_equal(f.n, 0);
    policy_free(pu);
    policy_free(pb);

    /* Bad inputs. */
    assert_int_equal(
        policy_generate("Bad_Bucket", "arn:aws:iam::111122223333:user/u", &clk, &u, &b), CV_EINVAL);
    assert_int_equal(
        policy_generate("caravel-drop", "arn:aws:iam::111122223333:root", &clk, &u, &b), CV_EINVAL);
    assert_int_equal(
        policy_generate("caravel-drop", "arn:aws:iam::111122223333:user/*", &clk, &u, &b),
        CV_EINVAL);
    assert_int_equal(
        policy_generate("192.168.1.1", "arn:aws:iam::111122223333:user/u", &clk, &u, &b),
        CV_EINVAL);
    cv_buf_release(&u);
    cv_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweeps),
        cmocka_unit_test(test_enomem_is_reported),
        cmocka_unit_test(test_generate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
