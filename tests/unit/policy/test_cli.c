/*
 * `caravel policy` output: each command of the table runs the real binary
 * in tests/vectors/policy/cli and must print exactly the golden file and
 * exit with the given code. The goldens were reviewed by hand.
 */
#include "policy/policy.h"
#include "test.h"

#include <sys/wait.h>

#define USER "--principal arn:aws:iam::111122223333:user/connector "
#define GUIDE "--user-policy guide_user.json --bucket-policy guide_bucket.json " USER

static const struct {
    const char *args, *golden;
    int exit_code;
} cases[] = {
    {"generate --bucket caravel-drop --user-arn arn:aws:iam::111122223333:user/connector "
     "--time-ms 1657921651068",
     "generate.txt", 0},
    {"generate --bucket caravel-drop --user-arn arn:aws:iam::111122223333:user/connector "
     "--time-ms 1657921651068 --json",
     "generate.json", 0},
    {"generate --bucket caravel-drop --user-arn arn:aws:iam::111122223333:user/connector "
     "--time-ms 1657921651068 --json-only",
     "generate.json", 0},
    {"simulate " GUIDE "--action s3:PutObject --resource "
     "arn:aws:s3:::caravel-drop/insights/run-1.json",
     "sim_putobject.txt", 0},
    {"simulate " GUIDE "--action s3:ListBucket --resource arn:aws:s3:::caravel-drop --context "
     "s3:prefix=insights/",
     "sim_listbucket.txt", 0},
    {"simulate " GUIDE "--action s3:GetObject --resource "
     "arn:aws:s3:::caravel-drop/insights/run-1.json",
     "sim_getobject.txt", 0},
    {"simulate " GUIDE "--action s3:ListAllMyBuckets --resource arn:aws:s3::: --json",
     "sim_listallmybuckets.json", 0},
    {"simulate --user-policy guide_user.json --bucket-policy deny_http.json " USER
     "--action s3:PutObject --resource arn:aws:s3:::caravel-drop/x.json --context "
     "aws:SecureTransport=false --json",
     "sim_deny_http.json", 0},
    {"simulate --user-policy guide_user.json --bucket-policy deny_http.json " USER
     "--action s3:PutObject --resource arn:aws:s3:::caravel-drop/x.json",
     "sim_missing_tls.txt", 0},
    {"check bad_user.json --type identity", "check_bad_user.txt", 1},
    {"check bad_bucket.json --type bucket --bucket caravel-drop --json", "check_bad_bucket.json",
     1},
    {"check guide_bucket.json --type bucket --bucket caravel-drop", "check_guide_bucket.txt", 0},
};

static char *run(const char *dir, const char *args, int *code)
{
    const char *build = getenv("CV_BUILD_DIR");
    char cmd[2048], buf[4096];
    struct cv_buf out = CV_BUF_INIT(1 << 20);
    FILE *p;
    size_t n;
    int st;

    assert_non_null(build);
    snprintf(cmd, sizeof(cmd), "cd '%s' && '%s/src/cli/caravel' policy %s 2>/dev/null", dir, build,
             args);
    p = popen(cmd, "r");
    assert_non_null(p);
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
        assert_int_equal(cv_buf_add(&out, buf, n), CV_OK);
    }
    st = pclose(p);
    *code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return cv_buf_detach(&out, NULL);
}

static void test_cli_goldens(void **state)
{
    const char *src = getenv("CV_SOURCE_DIR");
    char dir[4096], path[4200];
    size_t i, failures = 0;

    (void)state;
    assert_non_null(src);
    snprintf(dir, sizeof(dir), "%s/tests/vectors/policy/cli", src);
    for (i = 0; i < CV_ARRAY_LEN(cases); i++) {
        struct cv_buf want = CV_BUF_INIT(1 << 20);
        int code;
        char *got = run(dir, cases[i].args, &code);
        snprintf(path, sizeof(path), "%s/%s", dir, cases[i].golden);
        assert_int_equal(cv_file_read(path, &want), CV_OK);
        if (code != cases[i].exit_code || strcmp(got, want.ptr) != 0) {
            print_error("policy %s: exit %d (want %d); output:\n%s\n", cases[i].args, code,
                        cases[i].exit_code, got);
            failures++;
        }
        cv_free(got);
        cv_buf_release(&want);
    }
    assert_int_equal(failures, 0);
}

static void test_cli_usage(void **state)
{
    const char *src = getenv("CV_SOURCE_DIR");
    char dir[4096];
    int code;
    char *out;
    static const char *const bad[] = {
        "",
        "frobnicate",
        "generate",
        "generate --bucket b --user-arn",
        "check",
        "check x.json",
        "check x.json --type role",
        "simulate --action s3:GetObject",
        ("simulate --user-policy guide_user.json --principal bob --action s3:GetObject "
         "--resource arn:aws:s3:::b/k"),
        "generate --bucket NOT_A_BUCKET --user-arn arn:aws:iam::111122223333:user/u",
        "generate --bucket caravel-drop --user-arn arn:aws:iam::111122223333:role/r",
    };

    (void)state;
    snprintf(dir, sizeof(dir), "%s/tests/vectors/policy/cli", src);
    for (size_t i = 0; i < CV_ARRAY_LEN(bad); i++) {
        unsetenv("AWS_ACCESS_KEY_ID");
        out = run(dir, bad[i], &code);
        if (code != 2) {
            print_error("policy %s: exit %d, want 2\n", bad[i], code);
        }
        assert_int_equal(code, 2);
        cv_free(out);
    }
    /* A policy the store rejects is reported by simulate with exit 1. */
    out = run(dir,
              "simulate --user-policy bad_user.json " USER
              "--action s3:GetObject --resource arn:aws:s3:::caravel-drop/x",
              &code);
    assert_int_equal(code, 1);
    cv_free(out);
    out = run(dir, "check does-not-exist.json --type identity", &code);
    assert_int_equal(code, 1);
    cv_free(out);
    out = run(dir, "--help", &code);
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "simulate"));
    cv_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_goldens),
        cmocka_unit_test(test_cli_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
