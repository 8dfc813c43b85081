/*
 * Validation: every case of tests/vectors/policy/validate.jsonl (a document,
 * its type, the error the store must send and AWS's exact message), plus
 * the IAM size measure and small accessors.
 */
#include "policy/policy.h"
#include "test.h"

#include <jansson.h>

static bool exists_cb(void *ud, enum policy_principal_ref kind, struct cv_str id)
{
    json_t *list = ud;
    size_t i;
    json_t *v;

    (void)kind;
    json_array_foreach(list, i, v)
    {
        if (cv_str_eq_c(id, json_string_value(v))) {
            return true;
        }
    }
    return false;
}

static void test_validate_vectors(void **state)
{
    const char *src = getenv("CV_SOURCE_DIR");
    char path[4096], msg[512];
    FILE *f;
    char *line = NULL;
    size_t cap = 0, lineno = 0, n = 0, failures = 0;

    (void)state;
    assert_non_null(src);
    snprintf(path, sizeof(path), "%s/tests/vectors/policy/validate.jsonl", src);
    f = fopen(path, "r");
    assert_non_null(f);
    while (getline(&line, &cap, f) > 0) {
        json_error_t jerr;
        json_t *j = json_loads(line, 0, &jerr);
        struct policy_parse_opts o = {0};
        struct policy *p = NULL;
        char *text;
        size_t len;
        cv_err err;
        lineno++;
        assert_non_null(j);
        const char *name = json_string_value(json_object_get(j, "name"));
        const char *type = json_string_value(json_object_get(j, "type"));
        const char *want = json_string_value(json_object_get(j, "expect"));
        const char *wmsg = json_string_value(json_object_get(j, "message"));
        if (json_object_get(j, "text")) {
            text = strdup(json_string_value(json_object_get(j, "text")));
        } else {
            text = json_dumps(json_object_get(j, "policy"), JSON_COMPACT);
        }
        len = strlen(text);
        o.type = strcmp(type, "bucket") == 0 ? POLICY_BUCKET : POLICY_IDENTITY;
        o.bucket = json_string_value(json_object_get(j, "bucket"));
        if (json_object_get(j, "exists")) {
            o.principal_exists = exists_cb;
            o.principal_ud = json_object_get(j, "exists");
        }
        err = policy_parse(text, len, &o, &p, msg, sizeof(msg));
        if (strcmp(cv_err_name(err), want) != 0 || (err != CV_OK && strcmp(msg, wmsg) != 0)) {
            print_error("line %zu %s: got %s \"%s\", want %s \"%s\"\n", lineno, name,
                        cv_err_name(err), msg, want, wmsg);
            failures++;
        }
        if (err == CV_OK) {
            assert_non_null(p);
        } else {
            assert_null(p);
        }
        policy_free(p);
        free(text);
        json_decref(j);
        n++;
    }
    free(line);
    fclose(f);
    print_message("%zu validation cases, %zu failures\n", n, failures);
    assert_int_equal(failures, 0);
    assert_true(n >= 100);
}

static void test_iam_size(void **state)
{
    (void)state;
    const char *doc = "{ \"Version\": \"2012-10-17\",\n\t\"Statement\": [] }\r\n";
    /* Whitespace anywhere (also inside strings) is not counted. */
    assert_int_equal(policy_iam_size(doc, strlen(doc)),
                     strlen("{\"Version\":\"2012-10-17\",\"Statement\":[]}"));
    assert_int_equal(policy_iam_size("a b", 3), 2);
    /* Latin-1 characters count once although UTF-8 needs two bytes. */
    assert_int_equal(policy_iam_size("caf\xc3\xa9", 5), 4);
    assert_int_equal(policy_iam_size("", 0), 0);
}

static void test_accessors(void **state)
{
    (void)state;
    const char *doc =
        "{\"Statement\":[{\"Sid\":\"One\",\"Effect\":\"Allow\",\"Action\":\"s3:ListBucket\","
        "\"Resource\":\"arn:aws:s3:::b1\"},{\"Effect\":\"Deny\",\"Action\":\"s3:*\","
        "\"Resource\":\"*\"}]}";
    struct policy_parse_opts o = {POLICY_IDENTITY, NULL, NULL, NULL, "inline-1"};
    struct policy *p = NULL;

    assert_int_equal(policy_parse(doc, strlen(doc), &o, &p, NULL, 0), CV_OK);
    assert_string_equal(policy_name(p), "inline-1");
    assert_string_equal(policy_version(p), "2008-10-17");
    assert_int_equal(policy_get_type(p), POLICY_IDENTITY);
    assert_int_equal(policy_statement_count(p), 2);
    assert_true(cv_str_eq_c(policy_statement_sid(p, 0), "One"));
    assert_true(cv_str_eq_c(policy_statement_sid(p, 1), ""));
    assert_true(cv_str_eq_c(policy_statement_sid(p, 9), ""));
    /* A policy of the wrong type is ignored by the decision. */
    {
        struct policy_request req;
        struct policy_result res;
        const struct policy *ids[1] = {p};
        memset(&req, 0, sizeof(req));
        req.principal.kind = POLICY_CALLER_ANONYMOUS;
        req.action_id = policy_action_id(CV_STR("s3:ListBucket"));
        req.resource = CV_STR("arn:aws:s3:::b1");
        policy_decide(&req, NULL, 0, p, &res);
        assert_int_equal(res.decision, POLICY_IMPLICIT_DENY);
        req.principal.kind = POLICY_CALLER_USER;
        req.principal.account = CV_STR("111122223333");
        req.bucket_owner = CV_STR("111122223333");
        policy_decide(&req, ids, 1, NULL, &res);
        assert_int_equal(res.decision, POLICY_EXPLICIT_DENY); /* the Deny s3:* on * */
        assert_int_equal(res.nmatched, 1);
        assert_int_equal(res.matched[0].statement, 1);
    }
    policy_free(p);
    policy_free(NULL);

    /* A NULL message buffer is allowed on rejection. */
    o.type = POLICY_BUCKET;
    assert_int_equal(policy_parse("[", 1, &o, &p, NULL, 0), CV_S3_MALFORMED_POLICY);
    assert_null(p);
}

static void test_action_table(void **state)
{
    (void)state;
    int id = policy_action_id(CV_STR("S3:PUTOBJECT"));
    assert_true(id >= 0);
    assert_string_equal(policy_action_name(id), "s3:PutObject");
    assert_int_equal(policy_action_resource_type(id), POLICY_RT_OBJECT);
    assert_int_equal(policy_action_resource_type(policy_action_id(CV_STR("s3:ListBucket"))),
                     POLICY_RT_BUCKET);
    assert_int_equal(policy_action_resource_type(policy_action_id(CV_STR("s3:ListAllMyBuckets"))),
                     POLICY_RT_NONE);
    assert_int_equal(policy_action_id(CV_STR("s3:PutObjectX")), -1);
    assert_int_equal(policy_action_id(CV_STR("s3:PutObjec")), -1);
    assert_null(policy_action_name(-1));
    assert_null(policy_action_name((int)policy_action_count()));
    /* Every name in the table is found again, and names are unique. */
    for (size_t i = 0; i < policy_action_count(); i++) {
        assert_int_equal(policy_action_id(cv_str_c(policy_action_name((int)i))), (int)i);
    }
    /* Every action the store serves (IAM.md 3) is present. */
    static const char *const served[] = {"s3:ListAllMyBuckets",
                                         "s3:CreateBucket",
                                         "s3:DeleteBucket",
                                         "s3:ListBucket",
                                         "s3:ListBucketVersions",
                                         "s3:GetObject",
                                         "s3:GetObjectVersion",
                                         "s3:PutObject",
                                         "s3:PutObjectAcl",
                                         "s3:PutObjectTagging",
                                         "s3:DeleteObject",
                                         "s3:DeleteObjectVersion",
                                         "s3:AbortMultipartUpload",
                                         "s3:ListMultipartUploadParts",
                                         "s3:ListBucketMultipartUploads",
                                         "s3:GetBucketPolicy",
                                         "s3:PutBucketPolicy",
                                         "s3:DeleteBucketPolicy",
                                         "s3:GetObjectAcl",
                                         "s3:GetObjectVersionAcl",
                                         "s3:PutObjectVersionAcl",
                                         "s3:GetBucketLocation",
                                         "s3:PutBucketAcl"};
    for (size_t i = 0; i < CV_ARRAY_LEN(served); i++) {
        assert_true(policy_action_id(cv_str_c(served[i])) >= 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate_vectors),
        cmocka_unit_test(test_iam_size),
        cmocka_unit_test(test_accessors),
        cmocka_unit_test(test_action_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
