/*
 * The built-in AWS managed policies: each name resolves only through its
 * exact ARN, and each document compiles as an identity policy (a broken one
 * would be ignored at evaluation time, silently granting nothing).
 */
#include "store/store_int.h"
#include "policy/policy.h"
#include "test.h"

#include <stdio.h>
#include <string.h>

static const char *doc_of(const char *arn)
{
    return iam_aws_policy_doc(arn, strlen(arn));
}

static void test_lookup(void **state)
{
    static const char *const absent[] = {
        "arn:aws:iam::aws:policy/",
        "arn:aws:iam::aws:policy/AmazonS3FullAccessX",
        "arn:aws:iam::aws:policy/amazons3fullaccess",
        "arn:aws:iam::123456789012:policy/AmazonS3FullAccess",
        "arn:aws:iam::aws:policy/service-role/AmazonS3FullAccess",
        "AmazonS3FullAccess",
        "",
    };

    (void)state;
    assert_non_null(doc_of("arn:aws:iam::aws:policy/AmazonS3FullAccess"));
    assert_non_null(doc_of("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"));
    assert_non_null(doc_of("arn:aws:iam::aws:policy/IAMReadOnlyAccess"));
    for (size_t i = 0; i < CV_ARRAY_LEN(absent); i++) {
        if (doc_of(absent[i])) {
            fail_msg("%s resolved", absent[i]);
        }
    }
    assert_null(iam_aws_policy_doc(NULL, 0));
    /* The length bounds the name: a prefix of a valid ARN is not it. */
    assert_null(iam_aws_policy_doc("arn:aws:iam::aws:policy/AmazonS3FullAccess", 30));
}

static void test_documents_compile(void **state)
{
    static const char *const names[] = {"AdministratorAccess", "AmazonS3FullAccess",
                                        "AmazonS3ReadOnlyAccess", "IAMFullAccess",
                                        "IAMReadOnlyAccess"};
    char arn[128];

    (void)state;
    for (size_t i = 0; i < CV_ARRAY_LEN(names); i++) {
        struct policy_parse_opts o;
        struct policy *p = NULL;
        char msg[256] = "";
        const char *d;

        snprintf(arn, sizeof(arn), "arn:aws:iam::aws:policy/%s", names[i]);
        d = doc_of(arn);
        assert_non_null(d);
        memset(&o, 0, sizeof(o));
        o.type = POLICY_IDENTITY;
        o.name = names[i];
        if (policy_parse(d, strlen(d), &o, &p, msg, sizeof(msg)) != CV_OK) {
            fail_msg("%s does not compile: %s", names[i], msg);
        }
        assert_true(policy_iam_size(d, strlen(d)) <= 6144);
        policy_free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_documents_compile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
