/*
 * caravel policy generate|check|simulate: the policy module's tools.
 *
 *   generate --bucket B (--user-arn ARN | credentials + endpoint) [--json]
 *   check FILE --type identity|bucket [--bucket B] [--json]
 *   simulate --user-policy F --bucket-policy F --principal ARN --action A
 *            --resource R [--context k=v]... [--bucket-owner ACCT] [--json]
 */
#include "cli/cli.h"
#include "policy/policy.h"
#include "policy/policy_sts.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILE_MAX (1u << 20)

/* "--name value" or "--name=value" at argv[*i]; advances *i. */
static bool opt_val(int argc, char **argv, int *i, const char *name, const char **out)
{
    size_t n = strlen(name);

    if (strncmp(argv[*i], name, n) != 0) {
        return false;
    }
    if (argv[*i][n] == '=') {
        *out = argv[*i] + n + 1;
        return true;
    }
    if (argv[*i][n] != '\0') {
        return false;
    }
    if (*i + 1 >= argc) {
        cli_errorf("%s needs a value", name);
        *out = NULL;
        return true;
    }
    (*i)++;
    *out = argv[*i];
    return true;
}

static cv_err read_file(const char *path, struct cv_buf *out)
{
    if (strcmp(path, "-") == 0) {
        char buf[8192];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0) {
            cv_err err = cv_buf_add(out, buf, n);
            if (err) {
                return err;
            }
        }
        return ferror(stdin) ? CV_EIO : CV_OK;
    }
    return cv_file_read(path, out);
}

/* ---------------------------------------------------------------- generate */

static void usage_generate(FILE *f)
{
    fprintf(f, "usage: caravel policy generate --bucket BUCKET --user-arn ARN [--json]\n"
               "       caravel policy generate --bucket BUCKET [--access-key-id ID "
               "--secret-access-key KEY]\n"
               "                               [--session-token T] [--endpoint-url URL] "
               "[--region R] [--json]\n"
               "Without --user-arn the ARN comes from STS GetCallerIdentity (credentials and\n"
               "endpoint also from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,\n"
               "AWS_ENDPOINT_URL, AWS_REGION). --time-ms MS fixes the clock for reproducible "
               "output.\n");
}

static const char *env_or(const char *v, const char *env)
{
    const char *e;

    if (v) {
        return v;
    }
    e = getenv(env);
    return e && *e ? e : NULL;
}

static int cmd_generate(int argc, char **argv)
{
    const char *bucket = NULL, *arn = NULL, *akid = NULL, *secret = NULL, *token = NULL;
    const char *endpoint = NULL, *region = NULL, *time_ms = NULL;
    bool json = false;
    struct cv_buf up = CV_BUF_INIT(1 << 16), bp = CV_BUF_INIT(1 << 16);
    struct policy_sts_identity id;
    struct cv_clock fixed;
    const struct cv_clock *clock = cv_clock_system();
    int rc = CLI_EXIT_FAIL;
    cv_err err;

    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "--json-only") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage_generate(stdout);
            return CLI_EXIT_OK;
        } else if (opt_val(argc, argv, &i, "--bucket", &v)) {
            bucket = v;
        } else if (opt_val(argc, argv, &i, "--user-arn", &v)) {
            arn = v;
        } else if (opt_val(argc, argv, &i, "--access-key-id", &v)) {
            akid = v;
        } else if (opt_val(argc, argv, &i, "--secret-access-key", &v)) {
            secret = v;
        } else if (opt_val(argc, argv, &i, "--session-token", &v)) {
            token = v;
        } else if (opt_val(argc, argv, &i, "--endpoint-url", &v)) {
            endpoint = v;
        } else if (opt_val(argc, argv, &i, "--region", &v)) {
            region = v;
        } else if (opt_val(argc, argv, &i, "--time-ms", &v)) {
            time_ms = v;
        } else {
            cli_errorf("generate: unknown argument '%s'", argv[i]);
            usage_generate(stderr);
            return CLI_EXIT_USAGE;
        }
        if (!v && argv[i][0] == '-' && argv[i][1] == '-' && strcmp(argv[i], "--json") != 0 &&
            strcmp(argv[i], "--json-only") != 0) {
            return CLI_EXIT_USAGE;
        }
    }
    if (!bucket) {
        cli_errorf("generate: --bucket is required");
        usage_generate(stderr);
        return CLI_EXIT_USAGE;
    }
    if (time_ms) {
        int64_t ms;
        if (cv_parse_i64(cv_str_c(time_ms), &ms) != CV_OK) {
            cli_errorf("generate: --time-ms takes Unix milliseconds");
            return CLI_EXIT_USAGE;
        }
        cv_clock_fixed(&fixed, ms);
        clock = &fixed;
    }
    if (!arn) {
        char msg[600];
        akid = env_or(akid, "AWS_ACCESS_KEY_ID");
        secret = env_or(secret, "AWS_SECRET_ACCESS_KEY");
        token = env_or(token, "AWS_SESSION_TOKEN");
        endpoint = env_or(endpoint, "AWS_ENDPOINT_URL");
        region = env_or(region, "AWS_REGION");
        region = env_or(region, "AWS_DEFAULT_REGION");
        if (!akid || !secret) {
            cli_errorf("generate: give --user-arn, or credentials (--access-key-id and "
                       "--secret-access-key, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) to ask "
                       "STS for it");
            return CLI_EXIT_USAGE;
        }
        err = policy_sts_get_caller_identity(endpoint ? endpoint : "https://sts.amazonaws.com",
                                             region ? region : "us-east-1", akid, secret, token,
                                             cv_clock_system(), &id, msg, sizeof(msg));
        if (err) {
            cli_errorf("%s", msg);
            return CLI_EXIT_FAIL;
        }
        arn = id.arn;
        if (!strstr(arn, ":user/")) {
            cli_errorf("generate: the credentials belong to %s, not to an IAM user; pass the "
                       "connector user's ARN with --user-arn",
                       arn);
            return CLI_EXIT_FAIL;
        }
    }
    err = policy_generate(bucket, arn, clock, &up, &bp);
    if (err == CV_EINVAL) {
        cli_errorf("generate: '%s' is not a valid bucket name or '%s' is not an IAM user ARN "
                   "(arn:aws:iam::ACCOUNT:user/NAME)",
                   bucket, arn);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (err) {
        cli_errorf("generate: %s", cv_err_str(err));
        goto out;
    }
    if (json) {
        json_t *u = json_loads(up.ptr, 0, NULL), *b = json_loads(bp.ptr, 0, NULL);
        json_t *all = json_object();
        char *s = NULL;
        if (u && b && all && json_object_set_new(all, "user_policy", u) == 0 &&
            json_object_set_new(all, "bucket_policy", b) == 0) {
            u = b = NULL;
            s = json_dumps(all, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        }
        json_decref(u);
        json_decref(b);
        json_decref(all);
        if (!s) {
            cli_errorf("generate: out of memory");
            goto out;
        }
        printf("%s\n", s);
        free(s);
    } else {
        printf("# User policy: attach to the IAM user %s as an inline policy\n%s\n", arn, up.ptr);
        printf("# Bucket policy: set on bucket %s\n%s", bucket, bp.ptr);
    }
    rc = CLI_EXIT_OK;
out:
    cv_buf_release(&up);
    cv_buf_release(&bp);
    return rc;
}

/* ------------------------------------------------------------------ check */

static void usage_check(FILE *f)
{
    fprintf(f, "usage: caravel policy check FILE --type identity|bucket [--bucket BUCKET] "
               "[--json]\n"
               "Prints findings as FILE:LINE:COL: SEVERITY CODE: message [path]; exit 1 when "
               "any is an ERROR.\n");
}

static int cmd_check(int argc, char **argv)
{
    const char *file = NULL, *type = NULL, *bucket = NULL;
    bool json = false;
    struct cv_buf text = CV_BUF_INIT(FILE_MAX);
    struct policy_findings f = POLICY_FINDINGS_INIT;
    enum policy_type t;
    size_t i, nerr = 0;
    int rc = CLI_EXIT_FAIL;
    cv_err err;

    for (int a = 1; a < argc; a++) {
        const char *v = NULL;
        if (strcmp(argv[a], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
            usage_check(stdout);
            return CLI_EXIT_OK;
        } else if (opt_val(argc, argv, &a, "--type", &v)) {
            type = v;
        } else if (opt_val(argc, argv, &a, "--bucket", &v)) {
            bucket = v;
        } else if (argv[a][0] == '-' && argv[a][1] != '\0') {
            cli_errorf("check: unknown option '%s'", argv[a]);
            usage_check(stderr);
            return CLI_EXIT_USAGE;
        } else if (!file) {
            file = argv[a];
        } else {
            cli_errorf("check: one FILE only");
            return CLI_EXIT_USAGE;
        }
    }
    if (!file || !type) {
        usage_check(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(type, "identity") == 0) {
        t = POLICY_IDENTITY;
    } else if (strcmp(type, "bucket") == 0) {
        t = POLICY_BUCKET;
    } else {
        cli_errorf("check: --type is identity or bucket");
        return CLI_EXIT_USAGE;
    }
    err = read_file(file, &text);
    if (err) {
        cli_errorf("check: cannot read %s: %s", file, cv_err_str(err));
        return CLI_EXIT_FAIL;
    }
    err = policy_check(text.ptr ? text.ptr : "", text.len, t, bucket, &f);
    if (err) {
        cli_errorf("check: %s", cv_err_str(err));
        goto out;
    }
    for (i = 0; i < f.n; i++) {
        nerr += f.items[i].severity == POLICY_ERROR;
    }
    if (json) {
        json_t *root = json_object(), *arr = json_array();
        char *s;
        json_object_set_new(root, "file", json_string(file));
        json_object_set_new(
            root, "policyType",
            json_string(t == POLICY_BUCKET ? "RESOURCE_POLICY" : "IDENTITY_POLICY"));
        for (i = 0; i < f.n; i++) {
            const struct policy_finding *it = &f.items[i];
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:i, s:i}", "findingType",
                                                 policy_severity_str(it->severity), "issueCode",
                                                 it->code, "findingDetails", it->message, "path",
                                                 it->path, "line", (int)it->line, "column",
                                                 (int)it->col));
        }
        json_object_set_new(root, "findings", arr);
        json_object_set_new(root, "errors", json_integer((json_int_t)nerr));
        s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(root);
        if (!s) {
            cli_errorf("check: out of memory");
            goto out;
        }
        printf("%s\n", s);
        free(s);
    } else {
        for (i = 0; i < f.n; i++) {
            const struct policy_finding *it = &f.items[i];
            printf("%s:%u:%u: %s %s: %s", file, it->line, it->col,
                   policy_severity_str(it->severity), it->code, it->message);
            if (it->path[0]) {
                printf(" [%s]", it->path);
            }
            printf("\n");
        }
        if (f.n == 0) {
            printf("%s: no findings\n", file);
        }
    }
    rc = nerr ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
    policy_findings_release(&f);
    cv_buf_release(&text);
    return rc;
}

/* --------------------------------------------------------------- simulate */

static void usage_simulate(FILE *f)
{
    fprintf(f,
            "usage: caravel policy simulate [--user-policy FILE]... [--bucket-policy FILE]\n"
            "         --principal ARN|anonymous --action ACTION --resource ARN\n"
            "         [--context KEY=VALUE]... [--bucket-owner ACCOUNT] [--user-id AIDA...]\n"
            "         [--mpu-initiator] [--json]\n"
            "Reports EvalDecision (allowed, explicitDeny, implicitDeny), the matched statements\n"
            "and the missing context values, like the AWS policy simulator.\n");
}

#define SIM_MAX_POLICIES 8
#define SIM_MAX_KEYS 64

struct sim_policy {
    const char *file;
    struct cv_buf text;
    struct policy *p;
    struct policy_locmap *loc;
};

static cv_err load_policy(struct sim_policy *sp, const char *file, enum policy_type t,
                          const char *name)
{
    struct policy_parse_opts o = {t, NULL, NULL, NULL, name};
    char msg[512];
    cv_err err;

    sp->file = file;
    cv_buf_init(&sp->text, FILE_MAX);
    err = read_file(file, &sp->text);
    if (err) {
        cli_errorf("simulate: cannot read %s: %s", file, cv_err_str(err));
        return err;
    }
    err =
        policy_parse(sp->text.ptr ? sp->text.ptr : "", sp->text.len, &o, &sp->p, msg, sizeof(msg));
    if (err) {
        cli_errorf("simulate: %s is rejected: %s: %s", file, cv_err_wire_code(err), msg);
        return err;
    }
    return policy_locmap_build(sp->text.ptr, sp->text.len, &sp->loc);
}

static const struct sim_policy *find_sim(const struct sim_policy *arr, size_t n,
                                         const struct policy *p)
{
    for (size_t i = 0; i < n; i++) {
        if (arr[i].p == p) {
            return &arr[i];
        }
    }
    return NULL;
}

static void stmt_pos(const struct sim_policy *sp, uint32_t idx, unsigned pos[4])
{
    char path[64];

    pos[0] = pos[1] = pos[2] = pos[3] = 0;
    snprintf(path, sizeof(path), "Statement[%u]", idx);
    if (!policy_locmap_find(sp->loc, path, &pos[0], &pos[1], &pos[2], &pos[3])) {
        (void)policy_locmap_find(sp->loc, "Statement", &pos[0], &pos[1], &pos[2], &pos[3]);
    }
}

static int cmd_simulate(int argc, char **argv)
{
    struct sim_policy pols[SIM_MAX_POLICIES + 1];
    size_t npols = 0, nid = 0, i;
    const char *prin = NULL, *action = NULL, *resource = NULL, *owner = NULL, *user_id = NULL;
    const char *bucket_file = NULL;
    const char *ctx_args[SIM_MAX_KEYS];
    size_t nctx = 0;
    bool json = false, mpu = false;
    struct policy_request req;
    struct policy_ctx_key keys[SIM_MAX_KEYS + 8];
    struct cv_str vals[SIM_MAX_KEYS + 8];
    size_t nkeys = 0;
    const struct policy *ids[SIM_MAX_POLICIES];
    const struct policy *bp = NULL;
    struct policy_result res;
    const char *user_files[SIM_MAX_POLICIES];
    size_t nuser = 0;
    int rc = CLI_EXIT_FAIL;
    char acct[13] = "";
    char names[SIM_MAX_POLICIES][40];

    memset(pols, 0, sizeof(pols));
    for (int a = 1; a < argc; a++) {
        const char *v = NULL;
        if (strcmp(argv[a], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[a], "--mpu-initiator") == 0) {
            mpu = true;
        } else if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
            usage_simulate(stdout);
            return CLI_EXIT_OK;
        } else if (opt_val(argc, argv, &a, "--user-policy", &v)) {
            if (v && nuser < SIM_MAX_POLICIES) {
                user_files[nuser++] = v;
            }
        } else if (opt_val(argc, argv, &a, "--bucket-policy", &v)) {
            bucket_file = v;
        } else if (opt_val(argc, argv, &a, "--principal", &v)) {
            prin = v;
        } else if (opt_val(argc, argv, &a, "--action", &v)) {
            action = v;
        } else if (opt_val(argc, argv, &a, "--resource", &v)) {
            resource = v;
        } else if (opt_val(argc, argv, &a, "--bucket-owner", &v)) {
            owner = v;
        } else if (opt_val(argc, argv, &a, "--user-id", &v)) {
            user_id = v;
        } else if (opt_val(argc, argv, &a, "--context", &v)) {
            if (v && !strchr(v, '=')) {
                cli_errorf("simulate: --context takes KEY=VALUE");
                return CLI_EXIT_USAGE;
            }
            if (v && nctx < SIM_MAX_KEYS) {
                ctx_args[nctx++] = v;
            }
        } else {
            cli_errorf("simulate: unknown argument '%s'", argv[a]);
            usage_simulate(stderr);
            return CLI_EXIT_USAGE;
        }
        if (!v && strncmp(argv[a], "--", 2) == 0 && strcmp(argv[a], "--json") != 0 &&
            strcmp(argv[a], "--mpu-initiator") != 0) {
            return CLI_EXIT_USAGE;
        }
    }
    if (!prin || !action || !resource || (nuser == 0 && !bucket_file)) {
        cli_errorf("simulate: --principal, --action, --resource and at least one policy are "
                   "required");
        usage_simulate(stderr);
        return CLI_EXIT_USAGE;
    }

    memset(&req, 0, sizeof(req));
    if (strcmp(prin, "anonymous") == 0 || strcmp(prin, "*") == 0) {
        req.principal.kind = POLICY_CALLER_ANONYMOUS;
    } else {
        struct cv_str c[6];
        struct cv_str s = cv_str_c(prin);
        size_t k = 0, start = 0;
        for (i = 0; i < s.len && k < 5; i++) {
            if (s.ptr[i] == ':') {
                c[k++] = (struct cv_str){s.ptr + start, i - start};
                start = i + 1;
            }
        }
        c[5] = (struct cv_str){s.ptr + start, s.len - start};
        if (k < 5 || !cv_str_eq_c(c[0], "arn") || !cv_str_eq_c(c[2], "iam") || c[4].len != 12) {
            cli_errorf("simulate: --principal is arn:aws:iam::ACCOUNT:user/NAME, "
                       "arn:aws:iam::ACCOUNT:root or anonymous");
            return CLI_EXIT_USAGE;
        }
        memcpy(acct, c[4].ptr, 12);
        req.principal.account = cv_str_c(acct);
        req.principal.arn = s;
        if (cv_str_eq_c(c[5], "root")) {
            req.principal.kind = POLICY_CALLER_ROOT;
        } else if (cv_str_starts_with(c[5], "user/")) {
            const char *slash = strrchr(prin, '/');
            req.principal.kind = POLICY_CALLER_USER;
            req.principal.user_name = cv_str_c(slash + 1);
            if (user_id) {
                req.principal.user_id = cv_str_c(user_id);
            }
        } else {
            cli_errorf("simulate: only IAM users, root users and anonymous callers are "
                       "simulated");
            return CLI_EXIT_USAGE;
        }
    }
    req.bucket_owner = owner ? cv_str_c(owner) : req.principal.account;
    req.action_name = cv_str_c(action);
    req.action_id = policy_action_id(req.action_name);
    req.resource = cv_str_c(resource);
    req.mpu_initiator = mpu;
    {
        /* --context keys first (repeats collect values), then the automatic
         * principal keys they do not override. */
        struct policy_ctx_key autok[8];
        struct cv_str autov[8];
        size_t nauto = policy_principal_keys(&req.principal, autok, autov), nv = 0;
        for (i = 0; i < nctx; i++) {
            const char *eq = strchr(ctx_args[i], '=');
            struct cv_str name = {ctx_args[i], (size_t)(eq - ctx_args[i])};
            bool seen = false;
            for (size_t k = 0; k < nkeys; k++) {
                seen = seen || cv_str_eq_ci(keys[k].name, name);
            }
            if (seen) {
                continue;
            }
            keys[nkeys].name = name;
            keys[nkeys].values = &vals[nv];
            keys[nkeys].nvalues = 0;
            for (size_t j = i; j < nctx; j++) {
                const char *eq2 = strchr(ctx_args[j], '=');
                struct cv_str n2 = {ctx_args[j], (size_t)(eq2 - ctx_args[j])};
                if (cv_str_eq_ci(n2, name)) {
                    vals[nv++] = cv_str_c(eq2 + 1);
                    keys[nkeys].nvalues++;
                }
            }
            nkeys++;
        }
        for (i = 0; i < nauto; i++) {
            bool overridden = false;
            for (size_t k = 0; k < nkeys; k++) {
                overridden = overridden || cv_str_eq_ci(keys[k].name, autok[i].name);
            }
            if (!overridden) {
                vals[nv] = autov[i];
                keys[nkeys] = autok[i];
                keys[nkeys].values = &vals[nv++];
                nkeys++;
            }
        }
    }
    req.keys = keys;
    req.nkeys = nkeys;

    for (i = 0; i < nuser; i++) {
        if (nuser == 1) {
            snprintf(names[i], sizeof(names[i]), "user-policy");
        } else {
            snprintf(names[i], sizeof(names[i]), "user-policy-%zu", i + 1);
        }
        if (load_policy(&pols[npols], user_files[i], POLICY_IDENTITY, names[i]) != CV_OK) {
            npols++;
            goto out;
        }
        ids[nid++] = pols[npols].p;
        npols++;
    }
    if (bucket_file) {
        if (load_policy(&pols[npols], bucket_file, POLICY_BUCKET, "bucket-policy") != CV_OK) {
            npols++;
            goto out;
        }
        bp = pols[npols].p;
        npols++;
    }

    policy_decide(&req, ids, nid, bp, &res);

    if (json) {
        json_t *root = json_object(), *results = json_array(), *r = json_object();
        json_t *ms = json_array(), *miss = json_array();
        char *s;
        json_object_set_new(r, "EvalActionName", json_string(action));
        json_object_set_new(r, "EvalResourceName", json_string(resource));
        json_object_set_new(r, "EvalDecision", json_string(policy_decision_str(res.decision)));
        for (i = 0; i < res.nmatched; i++) {
            const struct sim_policy *sp = find_sim(pols, npols, res.matched[i].policy);
            struct cv_str sid =
                policy_statement_sid(res.matched[i].policy, res.matched[i].statement);
            unsigned pos[4];
            stmt_pos(sp, res.matched[i].statement, pos);
            json_array_append_new(
                ms,
                json_pack("{s:s, s:s, s:s, s:i, s:s#, s:{s:i, s:i}, s:{s:i, s:i}}",
                          "SourcePolicyId", policy_name(res.matched[i].policy), "SourcePolicyType",
                          policy_get_type(res.matched[i].policy) == POLICY_BUCKET ? "resource"
                                                                                  : "user",
                          "SourcePolicyFile", sp ? sp->file : "", "StatementIndex",
                          (int)res.matched[i].statement, "Sid", sid.ptr, sid.len, "StartPosition",
                          "Line", (int)pos[0], "Column", (int)pos[1], "EndPosition", "Line",
                          (int)pos[2], "Column", (int)pos[3]));
        }
        for (i = 0; i < res.nmissing; i++) {
            json_array_append_new(miss, json_stringn(res.missing[i].ptr, res.missing[i].len));
        }
        json_object_set_new(r, "MatchedStatements", ms);
        json_object_set_new(r, "MissingContextValues", miss);
        json_object_set_new(r, "EvalDecisionDetails",
                            json_pack("{s:s}", "Reason", policy_reason_str(res.reason)));
        json_array_append_new(results, r);
        json_object_set_new(root, "EvaluationResults", results);
        s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(root);
        if (!s) {
            cli_errorf("simulate: out of memory");
            goto out;
        }
        printf("%s\n", s);
        free(s);
    } else {
        printf("EvalActionName: %s\n", action);
        printf("EvalResourceName: %s\n", resource);
        printf("EvalDecision: %s\n", policy_decision_str(res.decision));
        printf("MatchedStatements:%s\n", res.nmatched ? "" : " (none)");
        for (i = 0; i < res.nmatched; i++) {
            const struct sim_policy *sp = find_sim(pols, npols, res.matched[i].policy);
            struct cv_str sid =
                policy_statement_sid(res.matched[i].policy, res.matched[i].statement);
            unsigned pos[4];
            stmt_pos(sp, res.matched[i].statement, pos);
            printf("  - %s (%s) Statement[%u]%s%.*s  %s:%u:%u-%u:%u\n",
                   policy_name(res.matched[i].policy),
                   policy_get_type(res.matched[i].policy) == POLICY_BUCKET ? "resource" : "user",
                   res.matched[i].statement, sid.len ? " Sid " : "", (int)sid.len, sid.ptr,
                   sp ? sp->file : "?", pos[0], pos[1], pos[2], pos[3]);
        }
        printf("MissingContextValues:%s", res.nmissing ? "" : " (none)");
        for (i = 0; i < res.nmissing; i++) {
            printf(" %.*s", (int)res.missing[i].len, res.missing[i].ptr);
        }
        printf("\nReason: %s\n", policy_reason_str(res.reason));
    }
    rc = CLI_EXIT_OK;
out:
    for (i = 0; i < npols; i++) {
        policy_free(pols[i].p);
        policy_locmap_free(pols[i].loc);
        cv_buf_release(&pols[i].text);
    }
    return rc;
}

/* ------------------------------------------------------------------ entry */

static void usage(FILE *f)
{
    fprintf(f, "usage: caravel policy <generate|check|simulate> [options]\n"
               "  generate   the guide's user policy and bucket policy for a bucket and user\n"
               "  check      lint a policy file (Access Analyzer style findings)\n"
               "  simulate   decide one request against a user policy and a bucket policy\n"
               "Run 'caravel policy <subcommand> --help' for its options.\n");
}

int cli_policy(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "generate") == 0) {
        return cmd_generate(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "check") == 0) {
        return cmd_check(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "simulate") == 0) {
        return cmd_simulate(argc - 1, argv + 1);
    }
    cli_errorf("policy: unknown subcommand '%s'", argv[1]);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
