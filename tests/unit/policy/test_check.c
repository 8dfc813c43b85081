/*
 * The checker: tests/vectors/policy/check.jsonl lists documents with the
 * findings ("CODE@path") that must be reported, codes that must not, and
 * optionally the exact number of ERRORs. Plus locations and the locmap.
 */
#include "policy/policy.h"
#include "test.h"

#include <jansson.h>

static bool has_finding(const struct policy_findings *f, const char *want)
{
    const char *at = strchr(want, '@');
    size_t clen = at ? (size_t)(at - want) : strlen(want);

    for (size_t i = 0; i < f->n; i++) {
        if (strlen(f->items[i].code) == clen && strncmp(f->items[i].code, want, clen) == 0 &&
            (!at || strcmp(f->items[i].path, at + 1) == 0)) {
            return true;
        }
    }
    return false;
}

static void dump(const struct policy_findings *f)
{
    for (size_t i = 0; i < f->n; i++) {
        print_error("    %u:%u %s %s@%s: %s\n", f->items[i].line, f->items[i].col,
                    policy_severity_str(f->items[i].severity), f->items[i].code, f->items[i].path,
                    f->items[i].message);
    }
}

static void test_check_vectors(void **state)
{
    const char *src = getenv("CV_SOURCE_DIR");
    char path[4096];
    FILE *fp;
    char *line = NULL;
    size_t cap = 0, lineno = 0, n = 0, failures = 0;

    (void)state;
    assert_non_null(src);
    snprintf(path, sizeof(path), "%s/tests/vectors/policy/check.jsonl", src);
    fp = fopen(path, "r");
    assert_non_null(fp);
    while (getline(&line, &cap, fp) > 0) {
        json_t *j = json_loads(line, 0, NULL);
        struct policy_findings f = POLICY_FINDINGS_INIT;
        char *text;
        size_t i, nerr = 0;
        json_t *v;
        bool bad = false;
        lineno++;
        assert_non_null(j);
        const char *name = json_string_value(json_object_get(j, "name"));
        enum policy_type t = strcmp(json_string_value(json_object_get(j, "type")), "bucket") == 0
                                 ? POLICY_BUCKET
                                 : POLICY_IDENTITY;
        if (json_object_get(j, "text")) {
            text = strdup(json_string_value(json_object_get(j, "text")));
        } else {
            text = json_dumps(json_object_get(j, "policy"), JSON_INDENT(2));
        }
        assert_int_equal(policy_check(text, strlen(text), t,
                                      json_string_value(json_object_get(j, "bucket")), &f),
                         CV_OK);
        json_array_foreach(json_object_get(j, "expect"), i, v)
        {
            if (!has_finding(&f, json_string_value(v))) {
                print_error("line %zu %s: missing %s\n", lineno, name, json_string_value(v));
                bad = true;
            }
        }
        json_array_foreach(json_object_get(j, "absent"), i, v)
        {
            if (has_finding(&f, json_string_value(v))) {
                print_error("line %zu %s: unexpected %s\n", lineno, name, json_string_value(v));
                bad = true;
            }
        }
        for (i = 0; i < f.n; i++) {
            nerr += f.items[i].severity == POLICY_ERROR;
            /* Every finding is located inside the document. */
            if (f.items[i].line < 1 || f.items[i].col < 1) {
                bad = true;
            }
        }
        if (json_object_get(j, "errors") &&
            (json_int_t)nerr != json_integer_value(json_object_get(j, "errors"))) {
            print_error("line %zu %s: %zu errors, want %lld\n", lineno, name, nerr,
                        (long long)json_integer_value(json_object_get(j, "errors")));
            bad = true;
        }
        if (bad) {
            dump(&f);
            failures++;
        }
        policy_findings_release(&f);
        free(text);
        json_decref(j);
        n++;
    }
    free(line);
    fclose(fp);
    print_message("%zu checker cases, %zu failures\n", n, failures);
    assert_int_equal(failures, 0);
}

/* Every document policy_parse() rejects gets an ERROR from the checker. */
static void test_check_covers_validation(void **state)
{
    const char *src = getenv("CV_SOURCE_DIR");
    char path[4096];
    FILE *fp;
    char *line = NULL;
    size_t cap = 0, n = 0;

    (void)state;
    snprintf(path, sizeof(path), "%s/tests/vectors/policy/validate.jsonl", src);
    fp = fopen(path, "r");
    assert_non_null(fp);
    while (getline(&line, &cap, fp) > 0) {
        json_t *j = json_loads(line, 0, NULL);
        struct policy_findings f = POLICY_FINDINGS_INIT;
        char *text;
        size_t i, nerr = 0;
        enum policy_type t = strcmp(json_string_value(json_object_get(j, "type")), "bucket") == 0
                                 ? POLICY_BUCKET
                                 : POLICY_IDENTITY;
        if (json_object_get(j, "text")) {
            text = strdup(json_string_value(json_object_get(j, "text")));
        } else {
            text = json_dumps(json_object_get(j, "policy"), JSON_COMPACT);
        }
        assert_int_equal(policy_check(text, strlen(text), t,
                                      json_string_value(json_object_get(j, "bucket")), &f),
                         CV_OK);
        for (i = 0; i < f.n; i++) {
            nerr += f.items[i].severity == POLICY_ERROR;
        }
        /* Principal existence is the store's business, not the checker's. */
        if (strcmp(json_string_value(json_object_get(j, "expect")), "OK") != 0 &&
            !json_object_get(j, "exists")) {
            if (nerr == 0) {
                print_error("%s: no ERROR\n", json_string_value(json_object_get(j, "name")));
                dump(&f);
            }
            assert_true(nerr > 0);
            n++;
        }
        policy_findings_release(&f);
        free(text);
        json_decref(j);
    }
    free(line);
    fclose(fp);
    assert_true(n > 50);
}

static void test_locations(void **state)
{
    (void)state;
    const char *doc = "{\n"
                      "  \"Version\": \"2012-10-17\",\n"
                      "  \"Statement\": [\n"
                      "    {\n"
                      "      \"Effect\": \"Allow\",\n"
                      "      \"Action\": [\"s3:GetObject\", \"s3:Nope\"],\n"
                      "      \"Resource\": \"arn:aws:s3:::b/*\"\n"
                      "    }\n"
                      "  ]\n"
                      "}\n";
    struct policy_locmap *m = NULL;
    unsigned l, c, el, ec;
    struct policy_findings f = POLICY_FINDINGS_INIT;

    assert_int_equal(policy_locmap_build(doc, strlen(doc), &m), CV_OK);
    assert_true(policy_locmap_find(m, "Statement[0]", &l, &c, &el, &ec));
    assert_int_equal(l, 4);
    assert_int_equal(c, 5);
    assert_int_equal(el, 8);
    assert_int_equal(ec, 6);
    assert_true(policy_locmap_find(m, "Statement[0].Action[1]", &l, &c, NULL, NULL));
    assert_int_equal(l, 6);
    assert_int_equal(c, 34);
    assert_true(policy_locmap_find(m, "Version", &l, &c, NULL, NULL));
    assert_int_equal(l, 2);
    assert_int_equal(c, 3);
    assert_false(policy_locmap_find(m, "Statement[1]", &l, &c, NULL, NULL));
    policy_locmap_free(m);
    policy_locmap_free(NULL);

    assert_int_equal(policy_check(doc, strlen(doc), POLICY_IDENTITY, NULL, &f), CV_OK);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.items[0].code, "UNKNOWN_ACTION");
    assert_string_equal(f.items[0].path, "Statement[0].Action[1]");
    assert_int_equal(f.items[0].line, 6);
    assert_int_equal(f.items[0].col, 34);
    assert_int_equal(f.items[0].severity, POLICY_ERROR);
    policy_findings_release(&f);
    policy_findings_release(NULL);
    assert_string_equal(policy_severity_str(POLICY_SECURITY_WARNING), "SECURITY_WARNING");
    assert_string_equal(policy_severity_str(POLICY_SUGGESTION), "SUGGESTION");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_vectors),
        cmocka_unit_test(test_check_covers_validation),
        cmocka_unit_test(test_locations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
