/*
 * The offline checker (IAM.md §5): Access Analyzer-style findings with a
 * severity, an issue code, a message and a location. It walks the JSON
 * itself so that it can report every problem, not only the first; at the
 * end, a document the store would still reject gets an ERROR with the
 * store's own message.
 */
#include "policy/policy_int.h"

#include <jansson.h>
#include <string.h>

struct chk {
    enum policy_type type;
    bool bucket_type;
    const char *bucket;
    bool v2012;
    struct policy_findings *f;
    struct policy_locmap *loc;
    cv_err err;
    size_t nerrors;
};

const char *policy_severity_str(enum policy_severity s)
{
    switch (s) {
    case POLICY_ERROR:
        return "ERROR";
    case POLICY_SECURITY_WARNING:
        return "SECURITY_WARNING";
    case POLICY_WARNING:
        return "WARNING";
    default:
        return "SUGGESTION";
    }
}

void policy_findings_release(struct policy_findings *f)
{
    size_t i;

    if (!f) {
        return;
    }
    for (i = 0; i < f->n; i++) {
        cv_free(f->items[i].message);
        cv_free(f->items[i].path);
    }
    cv_free(f->items);
    f->items = NULL;
    f->n = f->cap = 0;
}

static void addv(struct chk *c, enum policy_severity sev, const char *code, const char *path,
                 unsigned line, unsigned col, const char *fmt, va_list ap) CV_PRINTF(7, 0);

static void addv(struct chk *c, enum policy_severity sev, const char *code, const char *path,
                 unsigned line, unsigned col, const char *fmt, va_list ap)
{
    struct policy_findings *f = c->f;
    struct cv_buf b = CV_BUF_INIT(4096);
    struct policy_finding *it;

    if (c->err) {
        return;
    }
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        struct policy_finding *v = cv_realloc(f->items, cap * sizeof(*v));
        if (!v) {
            c->err = CV_ENOMEM;
            return;
        }
        f->items = v;
        f->cap = cap;
    }
    it = &f->items[f->n];
    memset(it, 0, sizeof(*it));
    if (cv_buf_vaddf(&b, fmt, ap) != CV_OK) {
        c->err = CV_ENOMEM;
        return;
    }
    it->message = cv_buf_detach(&b, NULL);
    it->path = cv_strdup(path);
    if (!it->message || !it->path) {
        cv_free(it->message);
        cv_free(it->path);
        c->err = CV_ENOMEM;
        return;
    }
    it->severity = sev;
    it->code = code;
    if (line == 0) {
        /* Locate the path, or its closest located parent. */
        char tmp[512];
        size_t n = strlen(path);
        if (n >= sizeof(tmp)) {
            n = sizeof(tmp) - 1;
        }
        memcpy(tmp, path, n);
        tmp[n] = '\0';
        line = col = 1;
        for (;;) {
            unsigned l, cc;
            if (policy_locmap_find(c->loc, tmp, &l, &cc, NULL, NULL)) {
                line = l;
                col = cc;
                break;
            }
            char *cut = strrchr(tmp, '.');
            char *br = strrchr(tmp, '[');
            if (br && (!cut || br > cut)) {
                cut = br;
            }
            if (!cut) {
                if (tmp[0]) {
                    tmp[0] = '\0';
                    continue;
                }
                break;
            }
            *cut = '\0';
        }
    }
    it->line = line;
    it->col = col;
    if (sev == POLICY_ERROR) {
        c->nerrors++;
    }
    f->n++;
}

static void add(struct chk *c, enum policy_severity sev, const char *code, const char *path,
                const char *fmt, ...) CV_PRINTF(5, 6);

static void add(struct chk *c, enum policy_severity sev, const char *code, const char *path,
                const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    addv(c, sev, code, path, 0, 0, fmt, ap);
    va_end(ap);
}

static void add_at(struct chk *c, enum policy_severity sev, const char *code, unsigned line,
                   unsigned col, const char *fmt, ...) CV_PRINTF(6, 7);

static void add_at(struct chk *c, enum policy_severity sev, const char *code, unsigned line,
                   unsigned col, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    addv(c, sev, code, "", line ? line : 1, col ? col : 1, fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------------- helpers */

static size_t jlen(const json_t *v)
{
    return json_is_array(v) ? json_array_size(v) : 1;
}

static json_t *jget(json_t *v, size_t i)
{
    return json_is_array(v) ? json_array_get(v, i) : v;
}

/* "Statement[0].Action" + "[1]" when the value is an array. */
static void elem_path(char *out, size_t n, const char *base, const json_t *v, size_t i)
{
    if (json_is_array(v)) {
        snprintf(out, n, "%s[%zu]", base, i);
    } else {
        snprintf(out, n, "%s", base);
    }
}

static struct cv_str sv(const json_t *v)
{
    return (struct cv_str){json_string_value(v), json_string_length(v)};
}

static bool has_var(struct cv_str s)
{
    size_t i;

    for (i = 0; i + 1 < s.len; i++) {
        if (s.ptr[i] == '$' && s.ptr[i + 1] == '{') {
            return true;
        }
    }
    return false;
}

/* Reports the variables of @p s: syntax, version, and whether allowed here. */
static void check_vars(struct chk *c, const char *path, struct cv_str s, bool allowed,
                       const char *where)
{
    size_t i = 0;

    while (i + 1 < s.len) {
        size_t end;
        struct cv_str key, def;
        bool has_def;
        char esc;
        enum pvar_issue iss;
        if (s.ptr[i] != '$' || s.ptr[i + 1] != '{') {
            i++;
            continue;
        }
        if (!allowed) {
            add(c, POLICY_ERROR, "VARIABLE_UNSUPPORTED_IN_ELEMENT", path,
                "policy variables are not supported in %s; the text is taken literally", where);
            return;
        }
        if (!c->v2012) {
            add(c, POLICY_ERROR, "VARIABLE_UNSUPPORTED_IN_VERSION", path,
                "policy variables need \"Version\": \"2012-10-17\"; under this version "
                "\"%.*s\" is literal text",
                (int)CV_MIN(s.len - i, 40), s.ptr + i);
            return;
        }
        iss = policy_var_parse(s, i, &end, &key, &def, &has_def, &esc);
        switch (iss) {
        case PVAR_MISSING_BRACE:
            add(c, POLICY_ERROR, "MISSING_BRACE", path, "a policy variable is missing its '}'");
            return;
        case PVAR_EMPTY:
            add(c, POLICY_ERROR, "EMPTY_VARIABLE", path, "empty policy variable ${}");
            return;
        case PVAR_SPACE:
            add(c, POLICY_ERROR, "UNSUPPORTED_SPACE", path,
                "policy variable names may not contain spaces");
            return;
        case PVAR_MISSING_QUOTE:
            add(c, POLICY_ERROR, "MISSING_QUOTE", path,
                "a policy variable default must be quoted: ${key, 'default'}");
            return;
        default:
            break;
        }
        if (!esc && policy_key_multivalued(key)) {
            add(c, POLICY_ERROR, "VARIABLE_WITH_MULTI_VALUED_KEY", path,
                "%.*s is multi-valued and cannot be used as a policy variable", (int)key.len,
                key.ptr);
        }
        i = end;
    }
}

/* ------------------------------------------------------------- principals */

static void check_principal(struct chk *c, const char *base, json_t *p, bool allow, bool not,
                            bool *is_public)
{
    char path[256];
    const char *k;
    json_t *v;
    size_t i;

    *is_public = false;
    if (json_is_string(p)) {
        if (cv_str_eq_c(sv(p), "*")) {
            *is_public = !not ;
        } else {
            add(c, POLICY_ERROR, "INVALID_PRINCIPAL", base,
                "a principal string must be \"*\"; name principals as {\"AWS\": \"ARN\"}");
        }
        return;
    }
    if (!json_is_object(p) || json_object_size(p) == 0) {
        add(c, POLICY_ERROR, "INVALID_PRINCIPAL", base, "the principal is empty or malformed");
        return;
    }
    json_object_foreach(p, k, v)
    {
        char kp[256];
        snprintf(kp, sizeof(kp), "%s.%s", base, k);
        if (strcmp(k, "Service") == 0 || strcmp(k, "Federated") == 0) {
            add(c, POLICY_ERROR, "UNSUPPORTED_PRINCIPAL", kp,
                "%s principals are not supported by Caravel's store (S3 answers \"Invalid "
                "principal in policy\")",
                k);
            continue;
        }
        if (strcmp(k, "AWS") != 0 && strcmp(k, "CanonicalUser") != 0) {
            add(c, POLICY_ERROR, "INVALID_PRINCIPAL", kp,
                "unknown principal type \"%s\"; use \"AWS\" (names are case-sensitive)", k);
            continue;
        }
        if (json_is_array(v) && json_array_size(v) == 0) {
            add(c, POLICY_ERROR, "INVALID_PRINCIPAL", kp, "the principal list is empty");
            continue;
        }
        for (i = 0; i < jlen(v); i++) {
            json_t *e = jget(v, i);
            struct pprin pr;
            elem_path(path, sizeof(path), kp, v, i);
            if (!json_is_string(e)) {
                add(c, POLICY_ERROR, "INVALID_PRINCIPAL", path, "a principal must be a string");
                continue;
            }
            check_vars(c, path, sv(e), false, "Principal");
            if (strcmp(k, "CanonicalUser") == 0) {
                size_t n = json_string_length(e);
                if (n != 64) {
                    add(c, POLICY_ERROR, "INVALID_PRINCIPAL", path,
                        "a canonical user id is 64 hexadecimal characters");
                }
                continue;
            }
            if (cv_str_eq_c(sv(e), "*")) {
                if (json_is_array(v) && json_array_size(v) > 1) {
                    add(c, POLICY_ERROR, "INVALID_PRINCIPAL", path,
                        "\"*\" cannot be combined with other principals");
                }
                *is_public = !not ;
                continue;
            }
            switch (policy_principal_classify(sv(e), &pr)) {
            case PPRIN_OK:
                break;
            case PPRIN_SERVICE:
                add(c, POLICY_ERROR, "UNSUPPORTED_PRINCIPAL", path,
                    "roles, groups, sessions and federated users are not principals Caravel's "
                    "store knows; name the IAM user (arn:aws:iam::ACCOUNT:user/NAME) or account");
                break;
            default:
                if (memchr(json_string_value(e), '*', json_string_length(e)) ||
                    memchr(json_string_value(e), '?', json_string_length(e))) {
                    add(c, POLICY_ERROR, "INVALID_PRINCIPAL", path,
                        "wildcards are not allowed inside a principal ARN (\"*\" alone means "
                        "everyone)");
                } else {
                    add(c, POLICY_ERROR, "INVALID_PRINCIPAL", path,
                        "\"%s\" is not an account id, arn:aws:iam::ACCOUNT:root or "
                        "arn:aws:iam::ACCOUNT:user/NAME",
                        json_string_value(e));
                }
                break;
            }
        }
    }
    /* NotPrincipal with Deny: list the account next to each user. */
    if (not &&!allow) {
        json_t *aws = json_object_get(p, "AWS");
        for (i = 0; aws && i < jlen(aws); i++) {
            json_t *e = jget(aws, i);
            struct pprin pr, pa;
            bool acct_listed = false;
            if (!json_is_string(e) || policy_principal_classify(sv(e), &pr) != PPRIN_OK ||
                pr.kind != PPRIN_USER_ARN) {
                continue;
            }
            struct cv_str comp[6];
            (void)policy_arn_split(sv(e), comp);
            for (size_t j = 0; j < jlen(aws); j++) {
                json_t *e2 = jget(aws, j);
                if (json_is_string(e2) && policy_principal_classify(sv(e2), &pa) == PPRIN_OK &&
                    pa.kind == PPRIN_ACCOUNT && cv_str_eq(pa.v, comp[4])) {
                    acct_listed = true;
                }
            }
            if (!acct_listed) {
                char kp[256];
                snprintf(kp, sizeof(kp), "%s.AWS", base);
                elem_path(path, sizeof(path), kp, aws, i);
                add(c, POLICY_WARNING, "NOT_PRINCIPAL_WITHOUT_ACCOUNT", path,
                    "list the account (arn:aws:iam::%.*s:root) next to this user in NotPrincipal; "
                    "otherwise the Deny also applies to the user",
                    (int)comp[4].len, comp[4].ptr);
            }
        }
    }
}

/* ---------------------------------------------------------------- actions */

struct act_info {
    uint64_t bits[POLICY_ACTION_WORDS];
    bool star;   /* "*" */
    bool s3star; /* "s3:*" */
    bool any_wild;
};

static bool bit(const uint64_t *b, size_t i)
{
    return (b[i / 64] >> (i % 64)) & 1u;
}

static void check_actions(struct chk *c, const char *base, json_t *a, bool allow, bool not,
                          struct act_info *info)
{
    char path[256];
    size_t i, j, n = jlen(a);
    uint64_t *each;

    memset(info, 0, sizeof(*info));
    if (json_is_array(a) && n == 0) {
        add(c, POLICY_ERROR, "INVALID_ACTION", base, "the action list is empty");
        return;
    }
    each = cv_calloc(n, sizeof(uint64_t) * POLICY_ACTION_WORDS);
    if (!each) {
        c->err = CV_ENOMEM;
        return;
    }
    for (i = 0; i < n; i++) {
        json_t *e = jget(a, i);
        struct cv_str s;
        bool vendor;
        uint64_t *b = each + i * POLICY_ACTION_WORDS;
        elem_path(path, sizeof(path), base, a, i);
        if (!json_is_string(e)) {
            add(c, POLICY_ERROR, "INVALID_ACTION", path, "an action must be a string");
            continue;
        }
        s = sv(e);
        check_vars(c, path, s, false, "Action");
        if (!policy_action_syntax_ok(s, &vendor)) {
            if (!vendor) {
                add(c, POLICY_ERROR, "INVALID_ACTION", path,
                    "\"%s\" has no service prefix; write it as s3:ActionName",
                    json_string_value(e));
            } else {
                add(c, POLICY_ERROR, "INVALID_ACTION", path,
                    "\"%s\" is not a valid action (service:Name, letters, digits, * and ?)",
                    json_string_value(e));
            }
            continue;
        }
        if (cv_str_eq_c(s, "*")) {
            info->star = true;
        } else if (!(s.len > 3 && policy_prefix_ci(s, "s3:", 3))) {
            if (c->bucket_type) {
                add(c, POLICY_ERROR, "INVALID_ACTION", path,
                    "a bucket policy may only name s3: actions");
            }
            continue;
        }
        if (cv_str_eq_ci_c(s, "s3:*")) {
            info->s3star = true;
        }
        if (memchr(s.ptr, '*', s.len) || memchr(s.ptr, '?', s.len)) {
            info->any_wild = true;
        }
        if (policy_action_expand(s, b) == 0) {
            add(c, POLICY_ERROR, "UNKNOWN_ACTION", path, "\"%s\" matches no known S3 action",
                json_string_value(e));
            continue;
        }
        for (j = 0; j < POLICY_ACTION_WORDS; j++) {
            info->bits[j] |= b[j];
        }
    }
    /* Redundant entries: covered by the others. */
    for (i = 0; i < n && n > 1; i++) {
        uint64_t other[POLICY_ACTION_WORDS] = {0};
        const uint64_t *b = each + i * POLICY_ACTION_WORDS;
        bool empty = true, covered = true;
        for (j = 0; j < n; j++) {
            if (j != i) {
                for (size_t w = 0; w < POLICY_ACTION_WORDS; w++) {
                    other[w] |= each[j * POLICY_ACTION_WORDS + w];
                }
            }
        }
        for (size_t w = 0; w < POLICY_ACTION_WORDS; w++) {
            empty = empty && b[w] == 0;
            covered = covered && (b[w] & ~other[w]) == 0;
        }
        if (!empty && covered) {
            elem_path(path, sizeof(path), base, a, i);
            add(c, POLICY_SUGGESTION, "REDUNDANT_ACTION", path,
                "\"%s\" is already covered by another action of this statement",
                json_string_value(jget(a, i)));
        }
    }
    cv_free(each);
    if (allow && !not &&(info->star || info->s3star)) {
        add(c, POLICY_WARNING, "BROAD_ACTION", base,
            "%s grants every S3 action, including DeleteBucket and PutBucketPolicy; list only "
            "the actions needed",
            info->star ? "\"*\"" : "\"s3:*\"");
    }
    if (allow && not ) {
        add(c, POLICY_SECURITY_WARNING, "ALLOW_WITH_NOT_ACTION", base,
            "Allow with NotAction grants every action not listed, including future ones");
    }
}

/* -------------------------------------------------------------- resources */

struct res_info {
    bool any;        /* "*" present */
    bool can_b;      /* some resource can name a bucket */
    bool can_o;      /* some resource can name an object */
    bool broad_s3;   /* "arn:aws:s3:::*" */
    char bucket[64]; /* a bucket named by the resources, for fixes */
};

static void check_resources(struct chk *c, const char *base, json_t *r, bool allow, bool not,
                            struct res_info *info)
{
    char path[256];
    size_t i;

    memset(info, 0, sizeof(*info));
    if (json_is_array(r) && json_array_size(r) == 0) {
        add(c, POLICY_ERROR, "INVALID_ARN_RESOURCE", base, "the resource list is empty");
        return;
    }
    if (allow && not ) {
        add(c, POLICY_WARNING, "ALLOW_WITH_NOT_RESOURCE", base,
            "Allow with NotResource grants the actions on every resource not listed");
    }
    for (i = 0; i < jlen(r); i++) {
        json_t *e = jget(r, i);
        struct cv_str s, comp[6];
        elem_path(path, sizeof(path), base, r, i);
        if (!json_is_string(e)) {
            add(c, POLICY_ERROR, "INVALID_ARN_RESOURCE", path, "a resource must be a string");
            continue;
        }
        s = sv(e);
        if (cv_str_eq_c(s, "*")) {
            info->any = info->can_b = info->can_o = true;
            if (c->bucket_type) {
                add(c, POLICY_ERROR, "INVALID_ARN_RESOURCE", path,
                    "a bucket policy cannot use Resource \"*\"; use arn:aws:s3:::%s and "
                    "arn:aws:s3:::%s/*",
                    c->bucket ? c->bucket : "BUCKET", c->bucket ? c->bucket : "BUCKET");
            }
            continue;
        }
        if (!policy_arn_split(s, comp) || !cv_str_eq_c(comp[0], "arn")) {
            add(c, POLICY_ERROR, "INVALID_ARN_RESOURCE", path,
                "\"%s\" is not an ARN (arn:aws:s3:::BUCKET or arn:aws:s3:::BUCKET/KEY) or \"*\"",
                json_string_value(e));
            continue;
        }
        for (int k = 0; k < 5; k++) {
            if (has_var(comp[k])) {
                add(c, POLICY_ERROR, "VARIABLE_UNSUPPORTED_IN_ELEMENT", path,
                    "policy variables are only supported in the resource part of an ARN");
                break;
            }
        }
        check_vars(c, path, comp[5], true, "Resource");
        if (!cv_str_eq_c(comp[2], "s3")) {
            if (c->bucket_type) {
                add(c, POLICY_ERROR, "INVALID_ARN_RESOURCE", path,
                    "a bucket policy may only name this bucket's S3 ARNs");
            }
            continue;
        }
        if (comp[3].len || comp[4].len) {
            add(c, c->bucket_type ? POLICY_ERROR : POLICY_WARNING, "INVALID_ARN_RESOURCE", path,
                "S3 bucket and object ARNs have empty region and account fields "
                "(arn:aws:s3:::BUCKET)");
        }
        if (comp[5].len == 0 || comp[5].ptr[0] == '/') {
            add(c, POLICY_ERROR, "INVALID_ARN_RESOURCE", path,
                "the resource part must start with the bucket name (arn:aws:s3:::BUCKET/KEY)");
            continue;
        }
        struct cv_str bpart, rest;
        bool has_slash = cv_str_split(comp[5], '/', &bpart, &rest);
        if (cv_str_eq_c(comp[5], "*")) {
            info->broad_s3 = true;
        }
        if (!info->bucket[0] && !memchr(bpart.ptr, '*', bpart.len) &&
            !memchr(bpart.ptr, '?', bpart.len) && !has_var(bpart) && bpart.len < 64) {
            memcpy(info->bucket, bpart.ptr, bpart.len);
            info->bucket[bpart.len] = '\0';
        }
        (void)has_slash;
        if (c->bucket_type && c->bucket) {
            if (has_var(bpart) || !policy_glob(bpart, cv_str_c(c->bucket), false)) {
                add(c, POLICY_ERROR, "RESOURCE_OTHER_BUCKET", path,
                    "this resource does not name bucket %s; a bucket policy may only name its "
                    "own bucket",
                    c->bucket);
            }
        }
        /* Can the pattern name a bucket (no '/') or an object (a '/')? */
        {
            struct policy_arena a = {NULL};
            struct ppat pat;
            cv_err err = ppat_compile(&a, comp[5], PPAT_WILD | (c->v2012 ? PPAT_VARS : 0), &pat);
            if (err == CV_ENOMEM) {
                c->err = err;
            } else if (err == CV_OK) {
                info->can_b = info->can_b || ppat_can_match_without_slash(&pat);
                info->can_o = info->can_o || ppat_can_match_with_slash(&pat);
            }
            policy_arena_release(&a);
        }
    }
}

/* ------------------------------------------------------------- conditions */

static void check_value(struct chk *c, const char *path, uint8_t op, json_t *e, struct cv_str key)
{
    char buf[40];
    struct cv_str s;
    enum pcond_family fam = policy_cond_family(op);
    bool ok = true;
    struct pdec dec;
    int64_t ms;
    struct pcidr ip;
    struct cv_str comp[6];

    if (json_is_string(e)) {
        s = sv(e);
    } else if (json_is_integer(e)) {
        int n = snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(e));
        s = (struct cv_str){buf, (size_t)n};
    } else if (json_is_real(e)) {
        int n = snprintf(buf, sizeof(buf), "%g", json_real_value(e));
        s = (struct cv_str){buf, (size_t)n};
    } else if (json_is_boolean(e)) {
        s = json_is_true(e) ? CV_STR("true") : CV_STR("false");
    } else {
        add(c, POLICY_ERROR, "INVALID_CONDITION_VALUE", path,
            "a condition value must be a string, number or boolean");
        return;
    }
    check_vars(c, path, s, fam == CFAM_STRING || fam == CFAM_ARN,
               "Numeric, Date, Bool, Binary, IP or Null condition values");
    if (has_var(s)) {
        return;
    }
    switch (fam) {
    case CFAM_NUMERIC:
        ok = policy_dec_parse(s, &dec);
        break;
    case CFAM_DATE:
        ok = policy_date_parse(s, &ms);
        break;
    case CFAM_BOOL:
    case CFAM_NULL:
        ok = cv_str_eq_ci_c(s, "true") || cv_str_eq_ci_c(s, "false");
        break;
    case CFAM_IP:
        ok = policy_cidr_parse(s, &ip);
        break;
    case CFAM_BINARY: {
        struct cv_buf b = CV_BUF_INIT(s.len + 4);
        cv_err err = cv_base64_decode(&b, s);
        cv_buf_release(&b);
        if (err == CV_ENOMEM) {
            c->err = err;
            return;
        }
        ok = err == CV_OK;
        break;
    }
    case CFAM_ARN:
        ok = policy_arn_split(s, comp);
        break;
    case CFAM_STRING:
        if (op != COP_STR_LIKE && (memchr(s.ptr, '*', s.len) || memchr(s.ptr, '?', s.len))) {
            add(c, POLICY_WARNING, "WILDCARD_WITHOUT_LIKE_OPERATOR", path,
                "\"%.*s\" contains a wildcard, but only StringLike/StringNotLike expand "
                "wildcards",
                (int)s.len, s.ptr);
        }
        break;
    }
    if (!ok) {
        add(c, POLICY_ERROR, "INVALID_CONDITION_VALUE", path,
            "\"%.*s\" is not a valid value for this operator (it never matches)", (int)s.len,
            s.ptr);
    }
    if (ok && cv_str_eq_ci_c(key, "aws:SourceIp") && fam != CFAM_IP && fam != CFAM_NULL &&
        !policy_cidr_parse(s, &ip)) {
        add(c, POLICY_ERROR, "INVALID_CONDITION_VALUE", path,
            "aws:SourceIp takes IP addresses or CIDR ranges (S3 rejects this value)");
    }
}

static void check_conditions(struct chk *c, const char *base, json_t *cond, json_t *actions,
                             bool not_action)
{
    const char *op, *key;
    json_t *block, *vals;
    char opath[256], kpath[384], vpath[420];
    size_t i;

    if (!json_is_object(cond)) {
        add(c, POLICY_ERROR, "INVALID_CONDITION", base, "Condition must be an object");
        return;
    }
    json_object_foreach(cond, op, block)
    {
        uint8_t opc, set;
        bool neg, ifx;
        struct cv_str opn = cv_str_c(op);
        snprintf(opath, sizeof(opath), "%s.%s", base, op);
        if (cv_str_eq_c(opn, "NullIfExists")) {
            add(c, POLICY_ERROR, "NULL_WITH_IF_EXISTS", opath,
                "Null cannot take IfExists; Null already tests whether the key exists");
            continue;
        }
        if (!policy_cond_op_parse(opn, &opc, &neg, &set, &ifx)) {
            add(c, POLICY_ERROR, "INVALID_OPERATOR", opath, "unknown condition operator \"%s\"",
                op);
            continue;
        }
        if (!json_is_object(block)) {
            add(c, POLICY_ERROR, "INVALID_CONDITION", opath,
                "an operator takes an object of condition keys");
            continue;
        }
        json_object_foreach(block, key, vals)
        {
            struct cv_str k = cv_str_c(key);
            ptrdiff_t colon = cv_str_find(k, ':');
            const char *key2;
            json_t *v2;
            snprintf(kpath, sizeof(kpath), "%s.%s", opath, key);
            /* The same key twice in one block, differing in case. */
            json_object_foreach(block, key2, v2)
            {
                if (key2 != key && strcmp(key2, key) < 0 && cv_str_eq_ci_c(k, key2)) {
                    add(c, POLICY_ERROR, "DUPLICATE_CONDITION_KEY", kpath,
                        "%s appears twice in %s (condition key names are case-insensitive)", key,
                        op);
                }
            }
            if (has_var(k)) {
                add(c, POLICY_ERROR, "VARIABLE_UNSUPPORTED_IN_ELEMENT", kpath,
                    "condition key names cannot contain policy variables");
            }
            if (colon <= 0) {
                add(c, POLICY_ERROR, "INVALID_CONDITION_KEY", kpath,
                    "\"%s\" has no service prefix (aws: or s3:)", key);
            } else if (policy_prefix_ci(k, "s3:", 3)) {
                int sk = policy_s3_key_find(k);
                if (sk < 0) {
                    add(c, c->bucket_type ? POLICY_ERROR : POLICY_WARNING, "UNKNOWN_CONDITION_KEY",
                        kpath, "\"%s\" is not an S3 condition key", key);
                } else if (actions && !not_action) {
                    for (i = 0; i < jlen(actions); i++) {
                        json_t *a = jget(actions, i);
                        int id;
                        if (!json_is_string(a)) {
                            continue;
                        }
                        id = policy_action_id(sv(a));
                        if (id >= 0 && !policy_action_supports_key(id, sk)) {
                            add(c, c->bucket_type ? POLICY_ERROR : POLICY_WARNING,
                                "CONDITION_KEY_NOT_SUPPORTED", kpath,
                                "%s does not apply to %s (S3: \"Conditions do not apply to "
                                "combination of actions and resources in statement\")",
                                key, policy_action_name(id));
                            break;
                        }
                    }
                }
            } else if (c->bucket_type && !policy_prefix_ci(k, "aws:", 4)) {
                add(c, POLICY_ERROR, "INVALID_CONDITION_KEY", kpath,
                    "a bucket policy takes aws: and s3: condition keys only");
            }
            if (set == CSET_ALL && policy_key_known_single(k)) {
                add(c, POLICY_SECURITY_WARNING, "FOR_ALL_VALUES_WITH_SINGLE_VALUED_KEY", kpath,
                    "ForAllValues with the single-valued key %s is true when the key is absent; "
                    "use the operator without ForAllValues",
                    key);
            } else if (set == CSET_ANY && policy_key_known_single(k)) {
                add(c, POLICY_WARNING, "FOR_ANY_VALUE_WITH_SINGLE_VALUED_KEY", kpath,
                    "%s is single-valued; ForAnyValue is not needed", key);
            } else if (set == CSET_NONE && opc != COP_NULL && policy_key_multivalued(k)) {
                add(c, POLICY_WARNING, "MISSING_SET_OPERATOR", kpath,
                    "%s is multi-valued; say ForAnyValue: or ForAllValues:", key);
            }
            if (cv_str_eq_ci_c(k, "aws:SourceIp") && opc != COP_IP && opc != COP_NULL) {
                add(c, POLICY_WARNING, "IP_KEY_WITHOUT_IP_OPERATOR", kpath,
                    "compare aws:SourceIp with IpAddress/NotIpAddress");
            }
            if (json_is_array(vals) && json_array_size(vals) == 0) {
                add(c, POLICY_ERROR, "INVALID_CONDITION_VALUE", kpath, "the value list is empty");
                continue;
            }
            for (i = 0; i < jlen(vals); i++) {
                elem_path(vpath, sizeof(vpath), kpath, vals, i);
                check_value(c, vpath, opc, jget(vals, i), k);
            }
        }
    }
}

/* ------------------------------------------------------------- statements */

static const char *const stmt_keys[] = {"Sid",          "Effect",      "Principal",
                                        "NotPrincipal", "Action",      "NotAction",
                                        "Resource",     "NotResource", "Condition"};

static bool sid_alnum(struct cv_str s)
{
    for (size_t i = 0; i < s.len; i++) {
        char ch = s.ptr[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))) {
            return false;
        }
    }
    return true;
}

/* Write-type actions a public Allow must not grant. */
static const char *const write_actions[] = {"s3:PutObject",
                                            "s3:PutObjectAcl",
                                            "s3:DeleteObject",
                                            "s3:DeleteObjectVersion",
                                            "s3:PutBucketPolicy",
                                            "s3:DeleteBucketPolicy",
                                            "s3:PutBucketAcl",
                                            "s3:DeleteBucket",
                                            "s3:PutObjectTagging",
                                            "s3:AbortMultipartUpload",
                                            "s3:PutLifecycleConfiguration"};

static void check_mismatch(struct chk *c, const char *base, json_t *actions,
                           const struct res_info *ri)
{
    char path[256];
    size_t i, j;
    enum policy_severity sev = c->bucket_type ? POLICY_ERROR : POLICY_WARNING;
    const char *b = ri->bucket[0] ? ri->bucket : (c->bucket ? c->bucket : "BUCKET");

    if (ri->any) {
        return;
    }
    for (i = 0; i < jlen(actions); i++) {
        json_t *a = jget(actions, i);
        struct cv_str s;
        int id;
        if (!json_is_string(a)) {
            continue;
        }
        s = sv(a);
        elem_path(path, sizeof(path), base, actions, i);
        id = policy_action_id(s);
        if (id >= 0) {
            enum policy_resource_type t = policy_action_resource_type(id);
            if (t == POLICY_RT_OBJECT && !ri->can_o) {
                add(c, sev, "OBJECT_ACTION_ON_BUCKET_ARN", path,
                    "%s acts on objects, but no Resource of this statement names an object; use "
                    "arn:aws:s3:::%s/*",
                    policy_action_name(id), b);
            } else if (t == POLICY_RT_BUCKET && !ri->can_b) {
                add(c, sev, "BUCKET_ACTION_ON_OBJECT_ARN", path,
                    "%s acts on the bucket, but every Resource of this statement names objects; "
                    "use arn:aws:s3:::%s",
                    policy_action_name(id), b);
            } else if (t == POLICY_RT_NONE && !(ri->broad_s3 && !c->bucket_type)) {
                add(c, sev, "ACTION_WITHOUT_RESOURCE_TYPE", path,
                    "%s has no resource type and only matches Resource \"*\"%s",
                    policy_action_name(id),
                    id == policy_action_id(CV_STR("s3:ListAllMyBuckets"))
                        ? "; it lists all buckets (ListBuckets). To list the objects of a bucket, "
                          "use s3:ListBucket"
                        : "");
            } else if (t == POLICY_RT_OTHER) {
                add(c, sev, "RESOURCE_MISMATCH", path,
                    "%s applies to access points, jobs or Storage Lens, not to buckets or objects",
                    policy_action_name(id));
            }
            continue;
        }
        if (!(s.len > 3 && policy_prefix_ci(s, "s3:", 3)) || cv_str_eq_c(s, "*")) {
            continue;
        }
        uint64_t bits[POLICY_ACTION_WORDS] = {0};
        bool ok = false;
        if (policy_action_expand(s, bits) == 0) {
            continue;
        }
        for (j = 0; j < policy_nactions && !ok; j++) {
            if (bit(bits, j)) {
                enum policy_resource_type t = policy_actions[j].rtype;
                ok = (t == POLICY_RT_BUCKET && ri->can_b) || (t == POLICY_RT_OBJECT && ri->can_o);
            }
        }
        if (!ok) {
            add(c, sev, "RESOURCE_MISMATCH", path,
                "no action matched by \"%s\" applies to the resources of this statement",
                json_string_value(a));
        }
    }
}

static void check_stmt(struct chk *c, const char *base, json_t *s)
{
    const char *k;
    json_t *v, *eff, *pr, *npr, *act, *nact, *res, *nres, *cond, *sid;
    char path[256];
    bool allow = true, is_public = false;
    struct act_info ai;
    struct res_info ri;
    bool have_ai = false, have_ri = false;

    if (!json_is_object(s)) {
        add(c, POLICY_ERROR, "INVALID_STATEMENT", base, "a statement must be an object");
        return;
    }
    json_object_foreach(s, k, v)
    {
        bool known = false;
        for (size_t i = 0; i < CV_ARRAY_LEN(stmt_keys); i++) {
            known = known || strcmp(k, stmt_keys[i]) == 0;
        }
        if (!known) {
            snprintf(path, sizeof(path), "%s.%s", base, k);
            add(c, POLICY_ERROR, "INVALID_POLICY_ELEMENT", path,
                "unknown statement element \"%s\" (element names are case-sensitive)", k);
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
        snprintf(path, sizeof(path), "%s.Sid", base);
        if (!json_is_string(sid)) {
            add(c, POLICY_ERROR, "INVALID_SID", path, "Sid must be a string");
        } else if (!c->bucket_type && !sid_alnum(sv(sid))) {
            add(c, POLICY_ERROR, "INVALID_SID", path,
                "an identity policy Sid may only use A-Z, a-z and 0-9");
        }
    }
    snprintf(path, sizeof(path), "%s.Effect", base);
    if (!eff) {
        add(c, POLICY_ERROR, "MISSING_EFFECT", base, "the statement has no Effect");
    } else if (!json_is_string(eff) ||
               (!cv_str_eq_c(sv(eff), "Allow") && !cv_str_eq_c(sv(eff), "Deny"))) {
        add(c, POLICY_ERROR, "INVALID_EFFECT", path,
            "Effect must be exactly \"Allow\" or \"Deny\" (case-sensitive)");
    } else {
        allow = cv_str_eq_c(sv(eff), "Allow");
    }
    /* Principal */
    if (!c->bucket_type) {
        if (pr || npr) {
            snprintf(path, sizeof(path), "%s.%s", base, pr ? "Principal" : "NotPrincipal");
            add(c, POLICY_ERROR, "PRINCIPAL_IN_IDENTITY_POLICY", path,
                "an identity policy applies to the user it is attached to and must not name a "
                "principal");
        }
    } else if (pr && npr) {
        add(c, POLICY_ERROR, "INVALID_PRINCIPAL", base,
            "a statement cannot have both Principal and NotPrincipal");
    } else if (!pr && !npr) {
        add(c, POLICY_ERROR, "MISSING_PRINCIPAL", base,
            "a bucket policy statement needs a Principal");
    } else {
        snprintf(path, sizeof(path), "%s.%s", base, pr ? "Principal" : "NotPrincipal");
        check_principal(c, path, pr ? pr : npr, allow, npr != NULL, &is_public);
        if (npr && allow) {
            add(c, POLICY_SECURITY_WARNING, "ALLOW_WITH_NOT_PRINCIPAL", path,
                "Allow with NotPrincipal grants everyone not listed, including anonymous "
                "callers; name the principals in Principal instead");
            is_public = true;
        }
    }
    /* Action */
    if (act && nact) {
        add(c, POLICY_ERROR, "INVALID_ACTION", base,
            "a statement cannot have both Action and NotAction");
    } else if (!act && !nact) {
        add(c, POLICY_ERROR, "MISSING_ACTION", base, "the statement has no Action");
    } else {
        snprintf(path, sizeof(path), "%s.%s", base, act ? "Action" : "NotAction");
        if (!json_is_string(act ? act : nact) && !json_is_array(act ? act : nact)) {
            add(c, POLICY_ERROR, "INVALID_ACTION", path,
                "Action must be a string or an array of strings");
        } else {
            check_actions(c, path, act ? act : nact, allow, nact != NULL, &ai);
            have_ai = true;
        }
    }
    /* Resource */
    if (res && nres) {
        add(c, POLICY_ERROR, "INVALID_ARN_RESOURCE", base,
            "a statement cannot have both Resource and NotResource");
    } else if (!res && !nres) {
        add(c, POLICY_ERROR, "MISSING_RESOURCE", base, "the statement has no Resource");
    } else {
        snprintf(path, sizeof(path), "%s.%s", base, res ? "Resource" : "NotResource");
        if (!json_is_string(res ? res : nres) && !json_is_array(res ? res : nres)) {
            add(c, POLICY_ERROR, "INVALID_ARN_RESOURCE", path,
                "Resource must be a string or an array of strings");
        } else {
            check_resources(c, path, res ? res : nres, allow, nres != NULL, &ri);
            have_ri = true;
        }
    }
    if (act && res && have_ai && have_ri) {
        snprintf(path, sizeof(path), "%s.Action", base);
        check_mismatch(c, path, act, &ri);
        /* ListBucket on everything: often meant as "list buckets". */
        int lb = policy_action_id(CV_STR("s3:ListBucket"));
        for (size_t i = 0; i < jlen(act); i++) {
            json_t *a = jget(act, i);
            if (json_is_string(a) && policy_action_id(sv(a)) == lb && (ri.any || ri.broad_s3)) {
                char ap[256];
                elem_path(ap, sizeof(ap), path, act, i);
                add(c, POLICY_SUGGESTION, "LIST_BUCKET_IS_NOT_LIST_BUCKETS", ap,
                    "s3:ListBucket lists the objects of a bucket (ListObjects, HeadBucket); it "
                    "does not allow ListBuckets, which needs s3:ListAllMyBuckets");
            }
        }
    }
    /* Public access. */
    if (c->bucket_type && allow && is_public && have_ai) {
        const char *what = NULL;
        bool read = false;
        for (size_t i = 0; i < CV_ARRAY_LEN(write_actions) && !what; i++) {
            int id = policy_action_id(cv_str_c(write_actions[i]));
            if (ai.star || (id >= 0 && bit(ai.bits, (size_t)id) != (nact != NULL))) {
                what = write_actions[i];
            }
        }
        int g = policy_action_id(CV_STR("s3:GetObject"));
        int l = policy_action_id(CV_STR("s3:ListBucket"));
        read = ai.star || bit(ai.bits, (size_t)g) != (nact != NULL) ||
               bit(ai.bits, (size_t)l) != (nact != NULL);
        snprintf(path, sizeof(path), "%s.%s", base, pr ? "Principal" : "NotPrincipal");
        if (what) {
            add(c, POLICY_SECURITY_WARNING, "PUBLIC_WRITE", path,
                "anyone, including anonymous callers, is allowed %s%s", what,
                cond ? " (unless the Condition restricts callers)" : "");
        } else if (read) {
            add(c, POLICY_WARNING, "PUBLIC_READ", path,
                "anyone, including anonymous callers, may read%s",
                cond ? " (unless the Condition restricts callers)" : "");
        }
    }
    if (cond) {
        snprintf(path, sizeof(path), "%s.Condition", base);
        check_conditions(c, path, cond, act, nact != NULL);
    }
}

/* ----------------------------------------------------------------- entry */

cv_err policy_check(const char *text, size_t len, enum policy_type type, const char *bucket,
                    struct policy_findings *out)
{
    struct chk c;
    json_t *root = NULL, *stmts, *ver, *id, *v;
    json_error_t jerr;
    const char *k;
    size_t i, j, n;
    char path[64];

    memset(&c, 0, sizeof(c));
    c.type = type;
    c.bucket_type = type == POLICY_BUCKET;
    c.bucket = bucket;
    c.f = out;
    policy_json_init();

    if (c.bucket_type && len > POLICY_BUCKET_MAX_BYTES) {
        add_at(&c, POLICY_ERROR, "POLICY_SIZE_EXCEEDS_RESOURCE_POLICY_QUOTA", 1, 1,
               "the policy is %zu bytes; a bucket policy may be at most %d bytes", len,
               POLICY_BUCKET_MAX_BYTES);
    }
    if (!c.bucket_type && policy_iam_size(text, len) > POLICY_USER_INLINE_QUOTA) {
        add_at(&c, POLICY_ERROR, "POLICY_SIZE_EXCEEDS_IDENTITY_POLICY_QUOTA", 1, 1,
               "the policy is %zu characters without whitespace; all inline policies of a user "
               "together may have at most %d",
               policy_iam_size(text, len), POLICY_USER_INLINE_QUOTA);
    }
    if (!c.bucket_type && !policy_iam_chars_ok(text, len)) {
        add_at(&c, POLICY_ERROR, "INVALID_CHARACTERS", 1, 1,
               "IAM policies may only contain tab, newline, carriage return and U+0020-U+00FF");
    }
    if (c.bucket_type && (len == 0 || text[0] != '{')) {
        add_at(&c, POLICY_ERROR, "INVALID_FIRST_BYTE", 1, 1,
               "S3 requires the first byte of a bucket policy to be '{' (no leading whitespace)");
    }
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (policy_json_oom() || json_error_code(&jerr) == json_error_out_of_memory) {
            c.err = CV_ENOMEM;
            goto out;
        }
        add_at(&c, POLICY_ERROR, "MALFORMED_JSON", (unsigned)CV_MAX(jerr.line, 1),
               (unsigned)CV_MAX(jerr.column, 1), "%s", jerr.text);
        goto out;
    }
    if (!json_is_object(root)) {
        add_at(&c, POLICY_ERROR, "MALFORMED_POLICY", 1, 1, "a policy must be a JSON object");
        goto out;
    }
    if (policy_locmap_build(text, len, &c.loc) == CV_ENOMEM) {
        c.err = CV_ENOMEM;
        goto out;
    }
    json_object_foreach(root, k, v)
    {
        if (strcmp(k, "Version") != 0 && strcmp(k, "Id") != 0 && strcmp(k, "Statement") != 0) {
            add(&c, POLICY_ERROR, "INVALID_POLICY_ELEMENT", k,
                "unknown policy element \"%s\" (allowed: Version, Id, Statement; names are "
                "case-sensitive)",
                k);
        }
    }
    ver = json_object_get(root, "Version");
    if (!ver) {
        add(&c, POLICY_WARNING, "MISSING_VERSION", "",
            "no Version: the policy is read as 2008-10-17, where policy variables are literal "
            "text; add \"Version\": \"2012-10-17\"");
    } else if (!json_is_string(ver) ||
               (!cv_str_eq_c(sv(ver), "2012-10-17") && !cv_str_eq_c(sv(ver), "2008-10-17"))) {
        add(&c, POLICY_ERROR, "INVALID_VERSION", "Version",
            "Version must be \"2012-10-17\" (or the old \"2008-10-17\")");
    } else if (cv_str_eq_c(sv(ver), "2008-10-17")) {
        add(&c, POLICY_WARNING, "OLD_VERSION", "Version",
            "2008-10-17 does not support policy variables; use 2012-10-17");
    } else {
        c.v2012 = true;
    }
    id = json_object_get(root, "Id");
    if (id && !c.bucket_type) {
        add(&c, POLICY_ERROR, "ID_IN_IDENTITY_POLICY", "Id",
            "an identity policy may not have an Id element");
    } else if (id && !json_is_string(id)) {
        add(&c, POLICY_ERROR, "INVALID_POLICY_ELEMENT", "Id", "Id must be a string");
    }
    stmts = json_object_get(root, "Statement");
    if (!stmts) {
        add(&c, POLICY_ERROR, "MISSING_STATEMENT", "", "the policy has no Statement");
    } else if (json_is_array(stmts) && json_array_size(stmts) == 0) {
        add(&c, POLICY_ERROR, "EMPTY_STATEMENT", "Statement", "Statement is empty");
    } else if (!json_is_array(stmts) && !json_is_object(stmts)) {
        add(&c, POLICY_ERROR, "INVALID_STATEMENT", "Statement",
            "Statement must be an object or an array of objects");
    } else {
        n = jlen(stmts);
        for (i = 0; i < n && !c.err; i++) {
            elem_path(path, sizeof(path), "Statement", stmts, i);
            check_stmt(&c, path, jget(stmts, i));
        }
        /* Duplicate Sids. */
        for (i = 0; i < n; i++) {
            json_t *si =
                json_is_object(jget(stmts, i)) ? json_object_get(jget(stmts, i), "Sid") : NULL;
            if (!json_is_string(si) || json_string_length(si) == 0) {
                continue;
            }
            for (j = 0; j < i; j++) {
                json_t *sj =
                    json_is_object(jget(stmts, j)) ? json_object_get(jget(stmts, j), "Sid") : NULL;
                if (json_is_string(sj) && cv_str_eq(sv(si), sv(sj))) {
                    char sp[80];
                    snprintf(sp, sizeof(sp), "Statement[%zu].Sid", i);
                    add(&c, c.bucket_type ? POLICY_WARNING : POLICY_ERROR, "DUPLICATE_SID", sp,
                        "Sid \"%s\" is already used by Statement[%zu]; Sids should be unique",
                        json_string_value(si), j);
                    break;
                }
            }
        }
    }
    /* Whatever the store would still reject is an ERROR. */
    if (!c.err && c.nerrors == 0) {
        struct policy_parse_opts o = {type, bucket, NULL, NULL, NULL};
        struct policy *p = NULL;
        char msg[512];
        cv_err perr = policy_parse(text, len, &o, &p, msg, sizeof(msg));
        policy_free(p);
        if (perr == CV_ENOMEM) {
            c.err = perr;
        } else if (perr != CV_OK) {
            add_at(&c, POLICY_ERROR, "REJECTED_BY_STORE", 1, 1, "%s: %s", cv_err_wire_code(perr),
                   msg);
        }
    }
out:
    json_decref(root);
    policy_locmap_free(c.loc);
    if (c.err) {
        policy_findings_release(out);
        return c.err;
    }
    /* Document order: by position, stable (insertion sort; lists are short). */
    for (i = 1; i < out->n; i++) {
        struct policy_finding x = out->items[i];
        j = i;
        while (j > 0 && (out->items[j - 1].line > x.line ||
                         (out->items[j - 1].line == x.line && out->items[j - 1].col > x.col))) {
            out->items[j] = out->items[j - 1];
            j--;
        }
        out->items[j] = x;
    }
    return CV_OK;
}
