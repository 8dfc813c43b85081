/*
 * Parse, validate and compile a policy document (IAM.md §1). The JSON is
 * read with jansson (duplicate keys rejected at every level) and compiled
 * into struct policy; jansson's tree is gone when policy_parse() returns.
 */
#include "policy/policy_int.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ messages */

enum msg_id {
    M_INVALID_JSON,
    M_FIRST_BYTE,
    M_UNKNOWN_FIELD,
    M_MISSING_STATEMENT,
    M_EMPTY_STATEMENT,
    M_VERSION,
    M_ID,
    M_SID_CHARS,
    M_SID_DUP,
    M_EFFECT_MISSING,
    M_EFFECT,
    M_PRINCIPAL_MISSING,
    M_PRINCIPAL,
    M_ACTION_MISSING,
    M_ACTION,
    M_ACTION_VENDOR,
    M_RESOURCE_MISSING,
    M_RESOURCE,
    M_MISMATCH,
    M_COND_TYPE,
    M_COND_KEY,
    M_COND_APPLY,
    M_COND_IP,
    M_SYNTAX,
};

#define IAM_SYNTAX "Syntax errors in policy."
#define IAM_VENDOR "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."

/* Bucket (S3) and identity (IAM) wording; "%s" takes the argument. */
static const struct {
    const char *bucket, *identity;
} messages[] = {
    [M_INVALID_JSON] = {"This policy contains invalid Json", "This policy contains invalid Json"},
    [M_FIRST_BYTE] = {"Policies must be valid JSON and the first byte must be '{'",
                      "This policy contains invalid Json"},
    [M_UNKNOWN_FIELD] = {"Unknown field %s", IAM_SYNTAX},
    [M_MISSING_STATEMENT] = {"Missing required field Statement", IAM_SYNTAX},
    [M_EMPTY_STATEMENT] = {"Could not parse the policy: Statement is empty!", IAM_SYNTAX},
    [M_VERSION] = {"The policy must contain a valid version string",
                   "The policy must contain a valid version string"},
    [M_ID] = {"This policy contains invalid Json", IAM_SYNTAX},
    [M_SID_CHARS] = {"This policy contains invalid Json",
                     "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies "
                     "the regular expression [0-9A-Za-z]*"},
    [M_SID_DUP] = {"This policy contains invalid Json",
                   "Statement IDs (SID) in a single policy must be unique."},
    [M_EFFECT_MISSING] = {"Missing required field Effect", IAM_SYNTAX},
    [M_EFFECT] = {"Invalid effect: %s", IAM_SYNTAX},
    [M_PRINCIPAL_MISSING] = {"Missing required field Principal", IAM_SYNTAX},
    [M_PRINCIPAL] = {"Invalid principal in policy",
                     "Policy document should not specify a principal."},
    [M_ACTION_MISSING] = {"Missing required field Action",
                          "Policy statement must contain actions."},
    [M_ACTION] = {"Policy has invalid action", IAM_SYNTAX},
    [M_ACTION_VENDOR] = {"Policy has invalid action", IAM_VENDOR},
    [M_RESOURCE_MISSING] = {"Missing required field Resource",
                            "Policy statement must contain resources."},
    [M_RESOURCE] = {"Policy has invalid resource", "Resource %s must be in ARN format or \"*\"."},
    [M_MISMATCH] = {"Action does not apply to any resource(s) in statement", IAM_SYNTAX},
    [M_COND_TYPE] = {"Invalid Condition type : %s", IAM_SYNTAX},
    [M_COND_KEY] = {"Policy has an invalid condition key", IAM_VENDOR},
    [M_COND_APPLY] = {"Conditions do not apply to combination of actions and resources in "
                      "statement",
                      IAM_SYNTAX},
    [M_COND_IP] = {"Invalid IP address in Conditions", IAM_SYNTAX},
    [M_SYNTAX] = {"This policy contains invalid Json", IAM_SYNTAX},
};

struct cctx {
    const struct policy_parse_opts *o;
    bool bucket; /* POLICY_BUCKET */
    struct policy *p;
    char *msg;
    size_t msglen;
};

static cv_err reject(struct cctx *c, enum msg_id id, const char *arg)
{
    const char *fmt = c->bucket ? messages[id].bucket : messages[id].identity;

    if (c->msg && c->msglen) {
        const char *pct = strstr(fmt, "%s");
        if (pct) {
            cv_errf(c->msg, c->msglen, "%.*s%s%s", (int)(pct - fmt), fmt, arg ? arg : "", pct + 2);
        } else {
            cv_errf(c->msg, c->msglen, "%s", fmt);
        }
    }
    return c->bucket ? CV_S3_MALFORMED_POLICY : CV_IAM_MALFORMED_POLICY;
}

/* --------------------------------------------------------- JSON helpers */

static pthread_once_t json_once = PTHREAD_ONCE_INIT;

/* jansson does not always report a failed allocation as such (it may say
 * "invalid syntax"), so allocation failures are noted here per thread. */
static _Thread_local bool json_oom;

static void *json_alloc(size_t n)
{
    void *p = cv_malloc(n);

    if (!p) {
        json_oom = true;
    }
    return p;
}

static void json_init(void)
{
    json_set_alloc_funcs(json_alloc, cv_free);
}

void policy_json_init(void)
{
    pthread_once(&json_once, json_init);
    json_oom = false;
}

bool policy_json_oom(void)
{
    return json_oom;
}

static size_t jlist_len(const json_t *v)
{
    return json_is_array(v) ? json_array_size(v) : 1;
}

static json_t *jlist_get(json_t *v, size_t i)
{
    return json_is_array(v) ? json_array_get(v, i) : v;
}

/* A non-empty string, or a non-empty array of strings. */
static bool jlist_of_strings(const json_t *v)
{
    size_t i;

    if (json_is_string(v)) {
        return true;
    }
    if (!json_is_array(v) || json_array_size(v) == 0) {
        return false;
    }
    for (i = 0; i < json_array_size(v); i++) {
        if (!json_is_string(json_array_get(v, i))) {
            return false;
        }
    }
    return true;
}

static struct cv_str jstr(const json_t *v)
{
    return (struct cv_str){json_string_value(v), json_string_length(v)};
}

/* Text of a scalar (string, number, boolean) in @p buf or borrowed; false for others. */
static bool scalar_text(const json_t *v, char *buf, size_t buflen, struct cv_str *out)
{
    if (json_is_string(v)) {
        *out = jstr(v);
        return true;
    }
    if (json_is_integer(v)) {
        int n = snprintf(buf, buflen, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        *out = (struct cv_str){buf, (size_t)n};
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        int n = 0;
        for (int prec = 1; prec <= 17; prec++) {
            n = snprintf(buf, buflen, "%.*g", prec, d);
            if (strtod(buf, NULL) == d) {
                break;
            }
        }
        *out = (struct cv_str){buf, (size_t)n};
        return true;
    }
    if (json_is_boolean(v)) {
        *out = json_is_true(v) ? CV_STR("true") : CV_STR("false");
        return true;
    }
    return false;
}

static bool jlist_of_scalars(const json_t *v)
{
    char buf[40];
    struct cv_str s;
    size_t i;

    if (!json_is_array(v)) {
        return scalar_text(v, buf, sizeof(buf), &s);
    }
    if (json_array_size(v) == 0) {
        return false;
    }
    for (i = 0; i < json_array_size(v); i++) {
        if (!scalar_text(json_array_get(v, i), buf, sizeof(buf), &s)) {
            return false;
        }
    }
    return true;
}

static cv_err arena_str(struct cctx *c, struct cv_str s, struct cv_str *out)
{
    char *p = policy_arena_strndup(&c->p->arena, s.ptr, s.len);

    if (!p) {
        return CV_ENOMEM;
    }
    *out = (struct cv_str){p, s.len};
    return CV_OK;
}

/* A NUL-terminated copy of @p s for a message argument (truncated). */
static const char *msg_arg(struct cv_str s, char *buf, size_t n)
{
    size_t k = CV_MIN(s.len, n - 1);

    memcpy(buf, s.ptr, k);
    buf[k] = '\0';
    return buf;
}

/* ------------------------------------------------------------ principals */

static bool all_digits(struct cv_str s, size_t n)
{
    size_t i;

    if (s.len != n) {
        return false;
    }
    for (i = 0; i < n; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') {
            return false;
        }
    }
    return true;
}

static bool user_path_ok(struct cv_str s)
{
    size_t i;

    /* [path/]name, with IAM's name characters; no wildcards. */
    if (s.len == 0 || s.ptr[0] == '/' || s.ptr[s.len - 1] == '/') {
        return false;
    }
    for (i = 0; i < s.len; i++) {
        char ch = s.ptr[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '+' || ch == '=' || ch == ',' || ch == '.' ||
                  ch == '@' || ch == '_' || ch == '-' || ch == '/';
        if (!ok) {
            return false;
        }
    }
    return true;
}

enum pprin_parse policy_principal_classify(struct cv_str s, struct pprin *out)
{
    struct cv_str c[6];
    size_t i;

    memset(out, 0, sizeof(*out));
    if (cv_str_eq_c(s, "*")) {
        out->kind = PPRIN_ANY;
        return PPRIN_OK;
    }
    if (all_digits(s, 12)) {
        out->kind = PPRIN_ACCOUNT;
        out->v = s;
        return PPRIN_OK;
    }
    if (s.len >= 16 && (cv_str_starts_with(s, "AIDA") || cv_str_starts_with(s, "AROA"))) {
        bool ok = true;
        for (i = 4; i < s.len; i++) {
            char ch = s.ptr[i];
            ok = ok && ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'));
        }
        if (ok) {
            out->kind = PPRIN_USER_ID;
            out->v = s;
            return s.ptr[1] == 'I' ? PPRIN_OK : PPRIN_SERVICE;
        }
        return PPRIN_BAD;
    }
    if (!policy_arn_split(s, c) || !cv_str_eq_c(c[0], "arn") || !cv_str_eq_c(c[1], "aws") ||
        !cv_str_eq_c(c[2], "iam") || c[3].len != 0 || !all_digits(c[4], 12)) {
        if (policy_arn_split(s, c) && cv_str_eq_c(c[0], "arn") && cv_str_eq_c(c[2], "sts")) {
            return PPRIN_SERVICE;
        }
        return PPRIN_BAD;
    }
    if (cv_str_eq_c(c[5], "root")) {
        out->kind = PPRIN_ACCOUNT;
        out->v = c[4];
        return PPRIN_OK;
    }
    if (cv_str_starts_with(c[5], "user/")) {
        struct cv_str rest = {c[5].ptr + 5, c[5].len - 5};
        if (!user_path_ok(rest)) {
            return PPRIN_BAD;
        }
        out->kind = PPRIN_USER_ARN;
        out->v = s;
        return PPRIN_OK;
    }
    if (cv_str_starts_with(c[5], "role/") || cv_str_starts_with(c[5], "group/") ||
        cv_str_starts_with(c[5], "federated-user/")) {
        return PPRIN_SERVICE;
    }
    return PPRIN_BAD;
}

static bool hex64(struct cv_str s)
{
    size_t i;

    if (s.len != 64) {
        return false;
    }
    for (i = 0; i < 64; i++) {
        char ch = s.ptr[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'))) {
            return false;
        }
    }
    return true;
}

static cv_err compile_principal(struct cctx *c, json_t *v, struct pstmt *st)
{
    const char *k;
    json_t *val;
    size_t total = 0, n = 0, i;
    struct pprin *arr;
    cv_err err;

    if (json_is_string(v)) {
        if (!cv_str_eq_c(jstr(v), "*")) {
            return reject(c, M_PRINCIPAL, NULL);
        }
        arr = policy_arena_alloc(&c->p->arena, sizeof(*arr));
        if (!arr) {
            return CV_ENOMEM;
        }
        arr[0].kind = PPRIN_ANY;
        st->prin = arr;
        st->nprin = 1;
        return CV_OK;
    }
    if (!json_is_object(v) || json_object_size(v) == 0) {
        return reject(c, M_PRINCIPAL, NULL);
    }
    json_object_foreach(v, k, val)
    {
        if ((strcmp(k, "AWS") != 0 && strcmp(k, "CanonicalUser") != 0) || !jlist_of_strings(val)) {
            return reject(c, M_PRINCIPAL, NULL);
        }
        if (json_is_array(val) && json_array_size(val) > 1) {
            for (i = 0; i < json_array_size(val); i++) {
                if (cv_str_eq_c(jstr(json_array_get(val, i)), "*")) {
                    return reject(c, M_PRINCIPAL, NULL); /* "*" mixed with others */
                }
            }
        }
        total += jlist_len(val);
    }
    arr = policy_arena_alloc(&c->p->arena, total * sizeof(*arr));
    if (!arr) {
        return CV_ENOMEM;
    }
    json_object_foreach(v, k, val)
    {
        bool canonical = strcmp(k, "CanonicalUser") == 0;
        for (i = 0; i < jlist_len(val); i++) {
            struct cv_str s = jstr(jlist_get(val, i));
            struct pprin pr;
            enum policy_principal_ref ref = POLICY_REF_ACCOUNT;
            if (canonical) {
                if (!hex64(s)) {
                    return reject(c, M_PRINCIPAL, NULL);
                }
                pr.kind = PPRIN_CANONICAL;
                pr.v = s;
                ref = POLICY_REF_CANONICAL;
            } else if (policy_principal_classify(s, &pr) != PPRIN_OK) {
                return reject(c, M_PRINCIPAL, NULL);
            } else if (pr.kind == PPRIN_USER_ARN) {
                ref = POLICY_REF_USER;
            } else if (pr.kind == PPRIN_USER_ID) {
                ref = POLICY_REF_USER_ID;
            }
            if (pr.kind != PPRIN_ANY && c->o->principal_exists &&
                !c->o->principal_exists(c->o->principal_ud, ref, pr.v)) {
                return reject(c, M_PRINCIPAL, NULL);
            }
            err = arena_str(c, pr.v, &pr.v);
            if (err) {
                return err;
            }
            arr[n++] = pr;
        }
    }
    st->prin = arr;
    st->nprin = (uint32_t)n;
    return CV_OK;
}

/* --------------------------------------------------------------- actions */

bool policy_action_syntax_ok(struct cv_str a, bool *has_vendor)
{
    ptrdiff_t colon = cv_str_find(a, ':');
    size_t i;

    *has_vendor = colon > 0;
    if (cv_str_eq_c(a, "*")) {
        return true;
    }
    if (colon <= 0 || (size_t)colon + 1 >= a.len) {
        return false;
    }
    for (i = 0; i < (size_t)colon; i++) {
        char ch = a.ptr[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-')) {
            return false;
        }
    }
    for (i = (size_t)colon + 1; i < a.len; i++) {
        char ch = a.ptr[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '*' || ch == '?')) {
            return false;
        }
    }
    return true;
}

size_t policy_action_expand(struct cv_str pat, uint64_t bits[POLICY_ACTION_WORDS])
{
    size_t i, n = 0;

    for (i = 0; i < policy_nactions; i++) {
        const char *name = policy_actions[i].name;
        if (policy_glob(pat, (struct cv_str){name, strlen(name)}, true)) {
            bits[i / 64] |= (uint64_t)1 << (i % 64);
            n++;
        }
    }
    return n;
}

static bool is_s3_vendor(struct cv_str a)
{
    return a.len > 3 && policy_prefix_ci(a, "s3:", 3);
}

static cv_err compile_actions(struct cctx *c, json_t *v, struct pstmt *st)
{
    size_t i, n;
    struct cv_str *pats;
    cv_err err;

    if (!jlist_of_strings(v)) {
        return reject(c, M_ACTION, NULL);
    }
    n = jlist_len(v);
    pats = policy_arena_alloc(&c->p->arena, n * sizeof(*pats));
    if (!pats) {
        return CV_ENOMEM;
    }
    for (i = 0; i < n; i++) {
        struct cv_str a = jstr(jlist_get(v, i));
        bool vendor;
        if (!policy_action_syntax_ok(a, &vendor)) {
            return reject(c, vendor || c->bucket ? M_ACTION : M_ACTION_VENDOR, NULL);
        }
        if (c->bucket && !cv_str_eq_c(a, "*") && !is_s3_vendor(a)) {
            return reject(c, M_ACTION, NULL);
        }
        if (cv_str_eq_c(a, "*") || is_s3_vendor(a)) {
            size_t hits = policy_action_expand(a, st->acts.bits);
            if (hits == 0 && c->bucket) {
                return reject(c, M_ACTION, NULL);
            }
        }
        err = arena_str(c, a, &pats[i]);
        if (err) {
            return err;
        }
    }
    st->acts.pats = pats;
    st->acts.npats = (uint32_t)n;
    return CV_OK;
}

/* ------------------------------------------------------------- resources */

static bool has_wild(struct cv_str s)
{
    return memchr(s.ptr, '*', s.len) || memchr(s.ptr, '?', s.len) ||
           (memchr(s.ptr, '$', s.len) != NULL);
}

static cv_err compile_resource(struct cctx *c, struct cv_str s, struct pres *out)
{
    struct cv_str comp[6], copy;
    char abuf[128];
    unsigned tflags = PPAT_WILD | (c->p->v2012 ? PPAT_VARS : 0);
    cv_err err;
    int i;

    if (cv_str_eq_c(s, "*")) {
        if (c->bucket) {
            return reject(c, M_RESOURCE, NULL);
        }
        out->any = true;
        return CV_OK;
    }
    err = arena_str(c, s, &copy);
    if (err) {
        return err;
    }
    if (!policy_arn_split(copy, comp) || !cv_str_eq_c(comp[0], "arn")) {
        return reject(c, M_RESOURCE, msg_arg(s, abuf, sizeof(abuf)));
    }
    if (c->bucket) {
        struct cv_str bpart, rest;
        if (!cv_str_eq_c(comp[1], "aws") || !cv_str_eq_c(comp[2], "s3") || comp[3].len ||
            comp[4].len || comp[5].len == 0 || comp[5].ptr[0] == '/') {
            return reject(c, M_RESOURCE, NULL);
        }
        cv_str_split(comp[5], '/', &bpart, &rest);
        if (bpart.len == 0) {
            return reject(c, M_RESOURCE, NULL);
        }
        if (c->o->bucket) {
            struct cv_str b = cv_str_c(c->o->bucket);
            if (memchr(bpart.ptr, '$', bpart.len) && c->p->v2012) {
                return reject(c, M_RESOURCE, NULL);
            }
            if (!policy_glob(bpart, b, false)) {
                return reject(c, M_RESOURCE, NULL); /* another bucket */
            }
        }
    }
    out->literal_prefix = true;
    for (i = 0; i < 5; i++) {
        if (has_wild(comp[i])) {
            out->literal_prefix = false;
        }
    }
    if (out->literal_prefix) {
        out->prefix = (struct cv_str){copy.ptr, (size_t)(comp[5].ptr - copy.ptr)};
    } else {
        out->comps = policy_arena_alloc(&c->p->arena, 5 * sizeof(*out->comps));
        if (!out->comps) {
            return CV_ENOMEM;
        }
        for (i = 0; i < 5; i++) {
            err = ppat_compile(&c->p->arena, comp[i], PPAT_WILD, &out->comps[i]);
            if (err) {
                return err == CV_EINVAL ? reject(c, M_RESOURCE, msg_arg(s, abuf, sizeof(abuf)))
                                        : err;
            }
        }
    }
    err = ppat_compile(&c->p->arena, comp[5], tflags, &out->tail);
    if (err == CV_EINVAL) {
        return reject(c, M_RESOURCE, msg_arg(s, abuf, sizeof(abuf)));
    }
    return err;
}

static cv_err compile_resources(struct cctx *c, json_t *v, struct pstmt *st)
{
    size_t i, n;
    struct pres *arr;
    cv_err err;

    if (!jlist_of_strings(v)) {
        return reject(c, c->bucket ? M_RESOURCE : M_SYNTAX, "");
    }
    n = jlist_len(v);
    arr = policy_arena_alloc(&c->p->arena, n * sizeof(*arr));
    if (!arr) {
        return CV_ENOMEM;
    }
    for (i = 0; i < n; i++) {
        err = compile_resource(c, jstr(jlist_get(v, i)), &arr[i]);
        if (err) {
            return err;
        }
    }
    st->res = arr;
    st->nres = (uint32_t)n;
    return CV_OK;
}

/* ------------------------------------------------------------ conditions */

static cv_err compile_value(struct cctx *c, uint8_t op, struct cv_str text, bool ip_key,
                            struct pval *out)
{
    unsigned sflags = c->p->v2012 ? PPAT_VARS : 0;
    struct cv_str s, comp[6];
    struct cv_buf b = CV_BUF_INIT(text.len + 4);
    cv_err err = arena_str(c, text, &s);
    int i;

    if (err) {
        return err;
    }
    if (ip_key && c->bucket && !policy_cidr_parse(s, &out->ip)) {
        return reject(c, M_COND_IP, NULL);
    }
    switch (policy_cond_family(op)) {
    case CFAM_STRING:
        err =
            ppat_compile(&c->p->arena, s, sflags | (op == COP_STR_LIKE ? PPAT_WILD : 0), &out->pat);
        out->ok = err == CV_OK;
        return err == CV_EINVAL ? CV_OK : err;
    case CFAM_NUMERIC:
        out->ok = policy_dec_parse(s, &out->dec);
        return CV_OK;
    case CFAM_DATE:
        out->ok = policy_date_parse(s, &out->ms);
        return CV_OK;
    case CFAM_BOOL:
    case CFAM_NULL:
        out->ok = cv_str_eq_ci_c(s, "true") || cv_str_eq_ci_c(s, "false");
        out->b = cv_str_eq_ci_c(s, "true");
        return CV_OK;
    case CFAM_BINARY:
        err = cv_base64_decode(&b, s);
        if (err == CV_ENOMEM) {
            return err;
        }
        out->ok = err == CV_OK;
        if (out->ok) {
            err = arena_str(c, (struct cv_str){b.ptr ? b.ptr : "", b.len}, &out->bin);
        } else {
            err = CV_OK;
        }
        cv_buf_release(&b);
        return err;
    case CFAM_IP:
        out->ok = policy_cidr_parse(s, &out->ip);
        if (!out->ok) {
            return reject(c, M_COND_IP, NULL);
        }
        return CV_OK;
    case CFAM_ARN:
        out->arn = policy_arena_alloc(&c->p->arena, 6 * sizeof(*out->arn));
        if (!out->arn) {
            return CV_ENOMEM;
        }
        if (!policy_arn_split(s, comp)) {
            out->ok = false;
            return CV_OK;
        }
        out->ok = true;
        for (i = 0; i < 6; i++) {
            err = ppat_compile(&c->p->arena, comp[i], PPAT_WILD | sflags, &out->arn[i]);
            if (err == CV_EINVAL) {
                out->ok = false;
            } else if (err) {
                return err;
            }
        }
        return CV_OK;
    }
    return CV_OK;
}

/* Bucket policies: the key must exist and apply to the statement's actions. */
static cv_err check_key(struct cctx *c, struct cv_str key, json_t *actions, bool not_action)
{
    ptrdiff_t colon = cv_str_find(key, ':');
    size_t i;
    int k;

    if (colon <= 0) {
        return reject(c, M_COND_KEY, NULL);
    }
    if (!c->bucket) {
        return CV_OK;
    }
    if (policy_prefix_ci(key, "aws:", 4)) {
        return CV_OK; /* AWS does not validate aws: keys in bucket policies */
    }
    if (!policy_prefix_ci(key, "s3:", 3)) {
        return reject(c, M_COND_KEY, NULL);
    }
    k = policy_s3_key_find(key);
    if (k < 0) {
        return reject(c, M_COND_KEY, NULL);
    }
    if (not_action || !actions) {
        return CV_OK;
    }
    for (i = 0; i < jlist_len(actions); i++) {
        struct cv_str a = jstr(jlist_get(actions, i));
        int id;
        if (memchr(a.ptr, '*', a.len) || memchr(a.ptr, '?', a.len)) {
            continue; /* wildcard actions are exempt */
        }
        id = policy_action_id(a);
        if (id >= 0 && !policy_action_supports_key(id, k)) {
            return reject(c, M_COND_APPLY, NULL);
        }
    }
    return CV_OK;
}

static cv_err compile_conditions(struct cctx *c, json_t *v, json_t *actions, bool not_action,
                                 struct pstmt *st)
{
    const char *opname, *key;
    json_t *block, *vals;
    size_t total = 0, n = 0, i;
    struct pcond *arr;
    char abuf[128];
    cv_err err;

    if (!json_is_object(v)) {
        return reject(c, M_SYNTAX, NULL);
    }
    json_object_foreach(v, opname, block)
    {
        uint8_t op, set;
        bool neg, ifx;
        if (!policy_cond_op_parse(cv_str_c(opname), &op, &neg, &set, &ifx)) {
            return reject(c, M_COND_TYPE, msg_arg(cv_str_c(opname), abuf, sizeof(abuf)));
        }
        if (!json_is_object(block)) {
            return reject(c, M_SYNTAX, NULL);
        }
        json_object_foreach(block, key, vals)
        {
            if (!jlist_of_scalars(vals)) {
                return reject(c, M_SYNTAX, NULL);
            }
            err = check_key(c, cv_str_c(key), actions, not_action);
            if (err) {
                return err;
            }
            total++;
        }
    }
    arr = policy_arena_alloc(&c->p->arena, (total ? total : 1) * sizeof(*arr));
    if (!arr) {
        return CV_ENOMEM;
    }
    json_object_foreach(v, opname, block)
    {
        struct pcond cd;
        memset(&cd, 0, sizeof(cd));
        (void)policy_cond_op_parse(cv_str_c(opname), &cd.op, &cd.neg, &cd.set, &cd.ifexists);
        json_object_foreach(block, key, vals)
        {
            size_t nv = jlist_len(vals);
            struct pval *pv = policy_arena_alloc(&c->p->arena, nv * sizeof(*pv));
            bool ip_key = cv_str_eq_ci_c(cv_str_c(key), "aws:SourceIp");
            if (!pv) {
                return CV_ENOMEM;
            }
            err = arena_str(c, cv_str_c(key), &cd.key);
            if (err) {
                return err;
            }
            for (i = 0; i < nv; i++) {
                char buf[40];
                struct cv_str s;
                (void)scalar_text(jlist_get(vals, i), buf, sizeof(buf), &s);
                err = compile_value(c, cd.op, s, ip_key, &pv[i]);
                if (err) {
                    return err;
                }
            }
            cd.vals = pv;
            cd.nvals = (uint32_t)nv;
            arr[n++] = cd;
        }
    }
    st->conds = arr;
    st->nconds = (uint32_t)n;
    return CV_OK;
}

/* ------------------------------------------------------------ statements */

/* S3: every named action must apply to some resource of the statement. */
static cv_err check_mismatch(struct cctx *c, json_t *actions, const struct pstmt *st)
{
    bool can_b = false, can_o = false;
    size_t i, j;

    for (i = 0; i < st->nres; i++) {
        can_b = can_b || ppat_can_match_without_slash(&st->res[i].tail);
        can_o = can_o || ppat_can_match_with_slash(&st->res[i].tail);
    }
    for (i = 0; i < jlist_len(actions); i++) {
        struct cv_str a = jstr(jlist_get(actions, i));
        uint64_t bits[POLICY_ACTION_WORDS] = {0};
        bool ok = false;
        if (cv_str_eq_c(a, "*")) {
            continue;
        }
        (void)policy_action_expand(a, bits);
        for (j = 0; j < policy_nactions && !ok; j++) {
            if (bits[j / 64] & ((uint64_t)1 << (j % 64))) {
                enum policy_resource_type t = policy_actions[j].rtype;
                ok = (t == POLICY_RT_BUCKET && can_b) || (t == POLICY_RT_OBJECT && can_o);
            }
        }
        if (!ok) {
            return reject(c, M_MISMATCH, NULL);
        }
    }
    return CV_OK;
}

static bool sid_alnum(struct cv_str s)
{
    size_t i;

    for (i = 0; i < s.len; i++) {
        char ch = s.ptr[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))) {
            return false;
        }
    }
    return true;
}

static const char *const stmt_keys[] = {"Sid",          "Effect",      "Principal",
                                        "NotPrincipal", "Action",      "NotAction",
                                        "Resource",     "NotResource", "Condition"};

static cv_err compile_stmt(struct cctx *c, json_t *s, struct pstmt *st)
{
    const char *k;
    json_t *v, *sid, *eff, *pr, *npr, *act, *nact, *res, *nres, *cond;
    char abuf[128];
    cv_err err;

    if (!json_is_object(s)) {
        return reject(c, M_SYNTAX, NULL);
    }
    json_object_foreach(s, k, v)
    {
        bool known = false;
        for (size_t i = 0; i < CV_ARRAY_LEN(stmt_keys); i++) {
            known = known || strcmp(k, stmt_keys[i]) == 0;
        }
        if (!known) {
            return reject(c, M_UNKNOWN_FIELD, k);
        }
    }
    sid = json_object_get(s, "Sid");
    eff = json_object_get(s, "Effect");
    pr = json_object_get(s, "Principal");
    npr = json_object_get(s, "NotPrincipal");
    act = json_object_get(s, "Action");
    nact = json_object_get(s, "NotAction");
    res = json_object_get(s, "Resource");
    nres = json_object_get(s, "NotResource");
    cond = json_object_get(s, "Condition");

    if (sid) {
        if (!json_is_string(sid)) {
            return reject(c, M_SYNTAX, NULL);
        }
        if (!c->bucket && !sid_alnum(jstr(sid))) {
            return reject(c, M_SID_CHARS, NULL);
        }
        err = arena_str(c, jstr(sid), &st->sid);
        if (err) {
            return err;
        }
    } else {
        st->sid = (struct cv_str){"", 0};
    }
    if (!eff) {
        return reject(c, M_EFFECT_MISSING, NULL);
    }
    if (!json_is_string(eff)) {
        return reject(c, M_SYNTAX, NULL);
    }
    if (cv_str_eq_c(jstr(eff), "Deny")) {
        st->deny = true;
    } else if (!cv_str_eq_c(jstr(eff), "Allow")) {
        return reject(c, M_EFFECT, msg_arg(jstr(eff), abuf, sizeof(abuf)));
    }
    if (!c->bucket) {
        if (pr || npr) {
            return reject(c, M_PRINCIPAL, NULL);
        }
    } else {
        if (pr && npr) {
            return reject(c, M_PRINCIPAL, NULL);
        }
        if (!pr && !npr) {
            return reject(c, M_PRINCIPAL_MISSING, NULL);
        }
        st->prin_mode = pr ? PSP_PRINCIPAL : PSP_NOT_PRINCIPAL;
        err = compile_principal(c, pr ? pr : npr, st);
        if (err) {
            return err;
        }
    }
    if (act && nact) {
        return reject(c, c->bucket ? M_ACTION : M_SYNTAX, NULL);
    }
    if (!act && !nact) {
        return reject(c, M_ACTION_MISSING, NULL);
    }
    st->not_action = nact != NULL;
    err = compile_actions(c, act ? act : nact, st);
    if (err) {
        return err;
    }
    if (res && nres) {
        return reject(c, c->bucket ? M_RESOURCE : M_SYNTAX, "");
    }
    if (!res && !nres) {
        return reject(c, M_RESOURCE_MISSING, NULL);
    }
    st->not_resource = nres != NULL;
    err = compile_resources(c, res ? res : nres, st);
    if (err) {
        return err;
    }
    if (cond) {
        err = compile_conditions(c, cond, act, st->not_action, st);
        if (err) {
            return err;
        }
    }
    if (c->bucket && act && res) {
        err = check_mismatch(c, act, st);
    }
    return err;
}

static cv_err compile_doc(struct cctx *c, json_t *root)
{
    const char *k;
    json_t *v, *stmts, *ver, *id;
    size_t i, j, n;
    cv_err err;

    json_object_foreach(root, k, v)
    {
        if (strcmp(k, "Version") != 0 && strcmp(k, "Id") != 0 && strcmp(k, "Statement") != 0) {
            return reject(c, M_UNKNOWN_FIELD, k);
        }
    }
    stmts = json_object_get(root, "Statement");
    if (!stmts) {
        return reject(c, M_MISSING_STATEMENT, NULL);
    }
    if (json_is_array(stmts)) {
        n = json_array_size(stmts);
        if (n == 0) {
            return reject(c, M_EMPTY_STATEMENT, NULL);
        }
    } else if (json_is_object(stmts)) {
        n = 1;
    } else {
        return reject(c, M_SYNTAX, NULL);
    }
    ver = json_object_get(root, "Version");
    if (ver) {
        if (!json_is_string(ver) ||
            (!cv_str_eq_c(jstr(ver), "2012-10-17") && !cv_str_eq_c(jstr(ver), "2008-10-17"))) {
            return reject(c, M_VERSION, NULL);
        }
        c->p->v2012 = cv_str_eq_c(jstr(ver), "2012-10-17");
    }
    id = json_object_get(root, "Id");
    if (id && (!c->bucket || !json_is_string(id))) {
        return reject(c, M_ID, NULL);
    }
    c->p->stmts = policy_arena_alloc(&c->p->arena, n * sizeof(*c->p->stmts));
    if (!c->p->stmts) {
        return CV_ENOMEM;
    }
    c->p->nstmts = n;
    for (i = 0; i < n; i++) {
        err = compile_stmt(c, jlist_get(stmts, i), &c->p->stmts[i]);
        if (err) {
            return err;
        }
    }
    if (!c->bucket) {
        for (i = 0; i < n; i++) {
            for (j = i + 1; j < n; j++) {
                if (c->p->stmts[i].sid.len && cv_str_eq(c->p->stmts[i].sid, c->p->stmts[j].sid)) {
                    return reject(c, M_SID_DUP, NULL);
                }
            }
        }
    }
    return CV_OK;
}

/* ------------------------------------------------------------ the entry */

/* Decodes one UTF-8 code point at s[i]; returns its length (0 if invalid). */
static size_t utf8_next(const unsigned char *s, size_t len, size_t i, uint32_t *cp)
{
    unsigned char c0 = s[i];

    if (c0 < 0x80) {
        *cp = c0;
        return 1;
    }
    if ((c0 & 0xE0) == 0xC0 && i + 1 < len) {
        *cp = ((uint32_t)(c0 & 0x1F) << 6) | (s[i + 1] & 0x3F);
        return 2;
    }
    if ((c0 & 0xF0) == 0xE0 && i + 2 < len) {
        *cp =
            ((uint32_t)(c0 & 0x0F) << 12) | ((uint32_t)(s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
        return 3;
    }
    if ((c0 & 0xF8) == 0xF0 && i + 3 < len) {
        *cp = 0x10000;
        return 4;
    }
    return 0;
}

bool policy_iam_chars_ok(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;

    if (!cv_utf8_valid(text, len)) {
        return false;
    }
    while (i < len) {
        uint32_t cp = 0;
        size_t n = utf8_next(s, len, i, &cp);
        if (n == 0) {
            return false;
        }
        if (!(cp == 0x09 || cp == 0x0A || cp == 0x0D || (cp >= 0x20 && cp <= 0xFF))) {
            return false;
        }
        i += n;
    }
    return true;
}

size_t policy_iam_size(const char *text, size_t len)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || (ch & 0xC0) == 0x80) {
            continue;
        }
        n++;
    }
    return n;
}

cv_err policy_parse(const char *text, size_t len, const struct policy_parse_opts *opts,
                    struct policy **out, char *msg, size_t msglen)
{
    struct cctx c = {opts, opts->type == POLICY_BUCKET, NULL, msg, msglen};
    json_t *root = NULL;
    json_error_t jerr;
    cv_err err = CV_OK;
    const char *name = opts->name ? opts->name : (c.bucket ? "bucket-policy" : "user-policy");

    *out = NULL;
    if (msg && msglen) {
        msg[0] = '\0';
    }
    policy_json_init();
    if (c.bucket && len > POLICY_BUCKET_MAX_BYTES) {
        if (msg && msglen) {
            cv_errf(msg, msglen, "Policy exceeds the maximum allowed document size.");
        }
        return CV_ETOOBIG;
    }
    if (!c.bucket && len > POLICY_IDENTITY_MAX_BYTES) {
        if (msg && msglen) {
            cv_errf(msg, msglen, "Policy document length exceeds the maximum of %d characters.",
                    POLICY_IDENTITY_MAX_BYTES);
        }
        return CV_ETOOBIG;
    }
    if (c.bucket && (len == 0 || text[0] != '{')) {
        return reject(&c, M_FIRST_BYTE, NULL);
    }
    if (!c.bucket && !policy_iam_chars_ok(text, len)) {
        if (!msg || !msglen) {
            return CV_IAM_VALIDATION;
        }
        cv_errf(msg, msglen,
                "1 validation error detected: Value at 'policyDocument' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: "
                "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+");
        return CV_IAM_VALIDATION;
    }
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (policy_json_oom() || json_error_code(&jerr) == json_error_out_of_memory) {
            return CV_ENOMEM;
        }
        return reject(&c, M_INVALID_JSON, NULL);
    }
    if (!json_is_object(root)) {
        err = reject(&c, M_SYNTAX, NULL);
        goto out;
    }
    c.p = cv_calloc(1, sizeof(*c.p));
    if (!c.p) {
        err = CV_ENOMEM;
        goto out;
    }
    c.p->type = opts->type;
    c.p->name = cv_strdup(name);
    if (!c.p->name) {
        err = CV_ENOMEM;
        goto out;
    }
    err = compile_doc(&c, root);
out:
    json_decref(root);
    if (err) {
        policy_free(c.p);
        if (err == CV_ENOMEM && msg && msglen) {
            cv_errf(msg, msglen, "out of memory");
        }
        return err;
    }
    *out = c.p;
    return CV_OK;
}

void policy_free(struct policy *p)
{
    if (!p) {
        return;
    }
    policy_arena_release(&p->arena);
    cv_free(p->name);
    cv_free(p);
}

enum policy_type policy_get_type(const struct policy *p)
{
    return p->type;
}

const char *policy_name(const struct policy *p)
{
    return p->name;
}

const char *policy_version(const struct policy *p)
{
    return p->v2012 ? "2012-10-17" : "2008-10-17";
}

size_t policy_statement_count(const struct policy *p)
{
    return p->nstmts;
}

struct cv_str policy_statement_sid(const struct policy *p, size_t i)
{
    if (i >= p->nstmts) {
        return (struct cv_str){"", 0};
    }
    return p->stmts[i].sid;
}
