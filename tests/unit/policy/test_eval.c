/*
 * The evaluation suite: every case of tests/vectors/policy/eval.jsonl (named
 * policies, a request, the expected decision and deciding statements) run
 * through policy_decide().
 *
 * Line kinds:
 *   {"def":NAME, "type":"bucket"|"identity", "bucket":B, "policy":{...}}
 *   {"name":..., "identity":[NAME...], "bucket_policy":NAME, "principal":ARN|"anonymous",
 *    "user_id":..., "canonical_id":..., "owner":ACCT, "action":..., "resource":...,
 *    "context":{k: v|[v...]}, "no_auto_keys":true, "mpu_initiator":true,
 *    "expect":"allowed"|"explicitDeny"|"implicitDeny", "matched":["NAME[i]",...],
 *    "reason":"...", "missing":[...]}
 */
#include "policy/policy.h"
#include "test.h"

#include <jansson.h>

#define MAX_DEFS 512

struct def {
    char *name;
    struct policy *p;
};

static struct def defs[MAX_DEFS];
static size_t ndefs;

static const char *reason_names[] = {
    [POLICY_REASON_NO_ALLOW] = "no_allow",
    [POLICY_REASON_DENY_STATEMENT] = "deny",
    [POLICY_REASON_BUCKET_OWNER_ROOT] = "owner_root",
    [POLICY_REASON_LOCKOUT_GUARD] = "lockout_guard",
    [POLICY_REASON_MPU_INITIATOR] = "mpu_initiator",
    [POLICY_REASON_SAME_ACCOUNT_ALLOW] = "same_account",
    [POLICY_REASON_ANONYMOUS_ALLOW] = "anonymous",
    [POLICY_REASON_CROSS_ACCOUNT_ALLOW] = "cross_account",
    [POLICY_REASON_ACCOUNT_DELEGATED] = "account_delegated",
    [POLICY_REASON_CROSS_NO_IDENTITY] = "cross_no_identity",
    [POLICY_REASON_CROSS_NO_RESOURCE] = "cross_no_resource",
};

static struct policy *find_def(const char *name)
{
    for (size_t i = 0; i < ndefs; i++) {
        if (strcmp(defs[i].name, name) == 0) {
            return defs[i].p;
        }
    }
    fail_msg("unknown policy name %s", name);
    return NULL;
}

static void add_def(json_t *line, size_t lineno)
{
    const char *name = json_string_value(json_object_get(line, "def"));
    const char *type = json_string_value(json_object_get(line, "type"));
    const char *bucket = json_string_value(json_object_get(line, "bucket"));
    json_t *doc = json_object_get(line, "policy");
    char *text = json_dumps(doc, JSON_COMPACT);
    struct policy_parse_opts o = {0};
    char msg[256];
    cv_err err;

    assert_non_null(name);
    assert_non_null(type);
    assert_non_null(text);
    assert_true(ndefs < MAX_DEFS);
    o.type = strcmp(type, "bucket") == 0 ? POLICY_BUCKET : POLICY_IDENTITY;
    o.bucket = bucket;
    o.name = name;
    err = policy_parse(text, strlen(text), &o, &defs[ndefs].p, msg, sizeof(msg));
    if (err != CV_OK) {
        fail_msg("line %zu: policy %s rejected: %s", lineno, name, msg);
    }
    defs[ndefs].name = strdup(name);
    ndefs++;
    free(text);
}

static struct cv_str js(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? cv_str_c(s) : CV_STR_NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t run_case(json_t *c, size_t lineno)
{
    const char *name = json_string_value(json_object_get(c, "name"));
    struct policy_request req;
    const struct policy *ids[8];
    size_t nids = 0, i, nkeys = 0;
    struct policy_ctx_key keys[64];
    struct cv_str vals[256];
    size_t nvals = 0;
    struct policy_result res;
    json_t *v, *ctx;
    const char *k;
    const char *pstr = json_string_value(json_object_get(c, "principal"));
    const struct policy *bp = NULL;
    int failures = 0;

    assert_non_null(name);
    assert_non_null(pstr);
    memset(&req, 0, sizeof(req));
    if (strcmp(pstr, "anonymous") == 0) {
        req.principal.kind = POLICY_CALLER_ANONYMOUS;
    } else {
        struct cv_str s = cv_str_c(pstr), parts[6];
        size_t n = 0;
        const char *p = pstr;
        /* arn:aws:iam::ACCT:root | arn:aws:iam::ACCT:user/[path/]NAME */
        for (i = 0; i < 6; i++) {
            const char *q = i < 5 ? strchr(p, ':') : p + strlen(p);
            assert_non_null(q);
            parts[i] = (struct cv_str){p, (size_t)(q - p)};
            p = q + 1;
        }
        req.principal.account = parts[4];
        req.principal.arn = s;
        if (cv_str_eq_c(parts[5], "root")) {
            req.principal.kind = POLICY_CALLER_ROOT;
        } else {
            const char *slash = strrchr(pstr, '/');
            assert_non_null(slash);
            req.principal.kind = POLICY_CALLER_USER;
            req.principal.user_name = cv_str_c(slash + 1);
        }
        (void)n;
    }
    req.principal.user_id = js(c, "user_id");
    req.principal.canonical_id = js(c, "canonical_id");
    req.bucket_owner = json_object_get(c, "owner") ? js(c, "owner") : CV_STR("111122223333");
    req.action_name = js(c, "action");
    req.action_id =
        json_is_true(json_object_get(c, "by_name")) ? -1 : policy_action_id(req.action_name);
    req.resource = js(c, "resource");
    req.mpu_initiator = json_is_true(json_object_get(c, "mpu_initiator"));
    if (!json_is_true(json_object_get(c, "no_auto_keys"))) {
        nkeys = policy_principal_keys(&req.principal, keys, vals);
        nvals = nkeys;
    }
    ctx = json_object_get(c, "context");
    json_object_foreach(ctx, k, v)
    {
        /* A context entry replaces an automatic key of the same name. */
        size_t slot = nkeys;
        for (i = 0; i < nkeys; i++) {
            if (cv_str_eq_ci(keys[i].name, cv_str_c(k))) {
                slot = i;
            }
        }
        keys[slot].name = cv_str_c(k);
        keys[slot].values = &vals[nvals];
        keys[slot].nvalues = 0;
        for (i = 0; i < (json_is_array(v) ? json_array_size(v) : 1); i++) {
            json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
            vals[nvals++] = cv_str_c(json_string_value(e));
            keys[slot].nvalues++;
        }
        if (slot == nkeys) {
            nkeys++;
        }
    }
    req.keys = keys;
    req.nkeys = nkeys;
    json_array_foreach(json_object_get(c, "identity"), i, v)
    {
        ids[nids++] = find_def(json_string_value(v));
    }
    if (json_object_get(c, "bucket_policy")) {
        bp = find_def(json_string_value(json_object_get(c, "bucket_policy")));
    }

    policy_decide(&req, ids, nids, bp, &res);

    const char *want = json_string_value(json_object_get(c, "expect"));
    assert_non_null(want);
    if (strcmp(want, policy_decision_str(res.decision)) != 0) {
        print_error("line %zu %s: decision %s, want %s (%s)\n", lineno, name,
                    policy_decision_str(res.decision), want, policy_reason_str(res.reason));
        failures++;
    }
    if (json_object_get(c, "reason")) {
        const char *wr = json_string_value(json_object_get(c, "reason"));
        if (strcmp(wr, reason_names[res.reason]) != 0) {
            print_error("line %zu %s: reason %s, want %s\n", lineno, name, reason_names[res.reason],
                        wr);
            failures++;
        }
    }
    /* Deciding statements, as sorted "NAME[i]" lists. */
    {
        json_t *m = json_object_get(c, "matched");
        char *got[POLICY_MAX_MATCHED], *exp[32];
        size_t ng = res.nmatched, ne = m ? json_array_size(m) : 0;
        char buf[POLICY_MAX_MATCHED][128];
        for (i = 0; i < ng; i++) {
            snprintf(buf[i], sizeof(buf[i]), "%s[%u]", policy_name(res.matched[i].policy),
                     res.matched[i].statement);
            got[i] = buf[i];
        }
        for (i = 0; i < ne; i++) {
            exp[i] = (char *)(uintptr_t)json_string_value(json_array_get(m, i));
        }
        qsort(got, ng, sizeof(char *), cmp_str);
        qsort(exp, ne, sizeof(char *), cmp_str);
        bool same = ng == ne;
        for (i = 0; same && i < ng; i++) {
            same = strcmp(got[i], exp[i]) == 0;
        }
        if (!same) {
            print_error("line %zu %s: matched [", lineno, name);
            for (i = 0; i < ng; i++) {
                print_error("%s ", got[i]);
            }
            print_error("] want [");
            for (i = 0; i < ne; i++) {
                print_error("%s ", exp[i]);
            }
            print_error("]\n");
            failures++;
        }
    }
    if (json_object_get(c, "missing")) {
        json_t *m = json_object_get(c, "missing");
        bool same = json_array_size(m) == res.nmissing;
        for (i = 0; same && i < res.nmissing; i++) {
            same = cv_str_eq_c(res.missing[i], json_string_value(json_array_get(m, i)));
        }
        if (!same) {
            print_error("line %zu %s: missing context values differ (got %zu)\n", lineno, name,
                        res.nmissing);
            failures++;
        }
    }
    return (size_t)failures;
}

static void test_eval_vectors(void **state)
{
    const char *src = getenv("CV_SOURCE_DIR");
    char path[4096];
    FILE *f;
    char *line = NULL;
    size_t cap = 0, lineno = 0, ncases = 0, failures = 0;
    ssize_t n;

    (void)state;
    assert_non_null(src);
    snprintf(path, sizeof(path), "%s/tests/vectors/policy/eval.jsonl", src);
    f = fopen(path, "r");
    assert_non_null(f);
    while ((n = getline(&line, &cap, f)) > 0) {
        json_error_t jerr;
        json_t *j;
        lineno++;
        if (n <= 1 || line[0] == '#') {
            continue;
        }
        j = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
        if (!j) {
            fail_msg("line %zu: %s", lineno, jerr.text);
        }
        if (json_object_get(j, "def")) {
            add_def(j, lineno);
        } else {
            failures += run_case(j, lineno);
            ncases++;
        }
        json_decref(j);
    }
    free(line);
    fclose(f);
    print_message("%zu evaluation cases, %zu policies, %zu failures\n", ncases, ndefs, failures);
    for (size_t i = 0; i < ndefs; i++) {
        policy_free(defs[i].p);
        free(defs[i].name);
    }
    assert_int_equal(failures, 0);
    assert_true(ncases >= 300);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eval_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
