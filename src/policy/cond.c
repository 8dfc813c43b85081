/*
 * Condition operators (IAM.md §1.6): names, families and evaluation.
 */
#include "policy/policy_int.h"

#include <string.h>

static const struct {
    const char *name;
    uint8_t op;
    bool neg;
} op_names[] = {
    {"StringEquals", COP_STR_EQ, false},
    {"StringNotEquals", COP_STR_EQ, true},
    {"StringEqualsIgnoreCase", COP_STR_EQ_IC, false},
    {"StringNotEqualsIgnoreCase", COP_STR_EQ_IC, true},
    {"StringLike", COP_STR_LIKE, false},
    {"StringNotLike", COP_STR_LIKE, true},
    {"NumericEquals", COP_NUM_EQ, false},
    {"NumericNotEquals", COP_NUM_EQ, true},
    {"NumericLessThan", COP_NUM_LT, false},
    {"NumericLessThanEquals", COP_NUM_LE, false},
    {"NumericGreaterThan", COP_NUM_GT, false},
    {"NumericGreaterThanEquals", COP_NUM_GE, false},
    {"DateEquals", COP_DATE_EQ, false},
    {"DateNotEquals", COP_DATE_EQ, true},
    {"DateLessThan", COP_DATE_LT, false},
    {"DateLessThanEquals", COP_DATE_LE, false},
    {"DateGreaterThan", COP_DATE_GT, false},
    {"DateGreaterThanEquals", COP_DATE_GE, false},
    {"Bool", COP_BOOL, false},
    {"BinaryEquals", COP_BIN_EQ, false},
    {"IpAddress", COP_IP, false},
    {"NotIpAddress", COP_IP, true},
    {"ArnEquals", COP_ARN, false},
    {"ArnLike", COP_ARN, false},
    {"ArnNotEquals", COP_ARN, true},
    {"ArnNotLike", COP_ARN, true},
    {"Null", COP_NULL, false},
};

bool policy_cond_op_parse(struct cv_str name, uint8_t *op, bool *neg, uint8_t *set, bool *ifexists)
{
    size_t i;

    *set = CSET_NONE;
    *ifexists = false;
    if (cv_str_starts_with(name, "ForAnyValue:")) {
        *set = CSET_ANY;
        name.ptr += 12;
        name.len -= 12;
    } else if (cv_str_starts_with(name, "ForAllValues:")) {
        *set = CSET_ALL;
        name.ptr += 13;
        name.len -= 13;
    }
    if (name.len > 8 && memcmp(name.ptr + name.len - 8, "IfExists", 8) == 0) {
        *ifexists = true;
        name.len -= 8;
    }
    for (i = 0; i < CV_ARRAY_LEN(op_names); i++) {
        if (cv_str_eq_c(name, op_names[i].name)) {
            *op = op_names[i].op;
            *neg = op_names[i].neg;
            /* Null takes neither IfExists nor a set qualifier. */
            if (*op == COP_NULL && (*ifexists || *set != CSET_NONE)) {
                return false;
            }
            return true;
        }
    }
    return false;
}

enum pcond_family policy_cond_family(uint8_t op)
{
    switch (op) {
    case COP_STR_EQ:
    case COP_STR_EQ_IC:
    case COP_STR_LIKE:
        return CFAM_STRING;
    case COP_NUM_EQ:
    case COP_NUM_LT:
    case COP_NUM_LE:
    case COP_NUM_GT:
    case COP_NUM_GE:
        return CFAM_NUMERIC;
    case COP_DATE_EQ:
    case COP_DATE_LT:
    case COP_DATE_LE:
    case COP_DATE_GT:
    case COP_DATE_GE:
        return CFAM_DATE;
    case COP_BOOL:
        return CFAM_BOOL;
    case COP_BIN_EQ:
        return CFAM_BINARY;
    case COP_IP:
        return CFAM_IP;
    case COP_ARN:
        return CFAM_ARN;
    default:
        return CFAM_NULL;
    }
}

/* A request value parsed once for the operator's family. */
struct rval {
    struct cv_str s;
    struct pdec dec;
    int64_t ms;
    bool b;
    struct pcidr ip;
    struct cv_str arn[6];
};

static bool rval_parse(uint8_t op, struct cv_str s, struct rval *r)
{
    r->s = s;
    switch (policy_cond_family(op)) {
    case CFAM_NUMERIC:
        return policy_dec_parse(s, &r->dec);
    case CFAM_DATE:
        return policy_date_parse(s, &r->ms);
    case CFAM_BOOL:
        if (cv_str_eq_ci_c(s, "true")) {
            r->b = true;
            return true;
        }
        if (cv_str_eq_ci_c(s, "false")) {
            r->b = false;
            return true;
        }
        return false;
    case CFAM_IP:
        return policy_ip_parse(s, &r->ip);
    case CFAM_ARN:
        if (!policy_arn_split(s, r->arn)) {
            memset(r->arn, 0, sizeof(r->arn));
            r->arn[0].len = SIZE_MAX; /* marks "not an ARN": matches nothing */
        }
        return true;
    default:
        return true;
    }
}

/* Does request value @p r match policy value @p v (positive sense)? */
static bool val_match(uint8_t op, const struct pval *v, const struct rval *r,
                      const struct policy_request *req)
{
    int c;

    if (!v->ok) {
        return false;
    }
    switch (op) {
    case COP_STR_EQ:
    case COP_STR_LIKE:
        return ppat_match(&v->pat, r->s, req, false);
    case COP_STR_EQ_IC:
        return ppat_match(&v->pat, r->s, req, true);
    case COP_NUM_EQ:
    case COP_NUM_LT:
    case COP_NUM_LE:
    case COP_NUM_GT:
    case COP_NUM_GE:
        c = policy_dec_cmp(&r->dec, &v->dec);
        switch (op) {
        case COP_NUM_EQ:
            return c == 0;
        case COP_NUM_LT:
            return c < 0;
        case COP_NUM_LE:
            return c <= 0;
        case COP_NUM_GT:
            return c > 0;
        default:
            return c >= 0;
        }
    case COP_DATE_EQ:
        return r->ms == v->ms;
    case COP_DATE_LT:
        return r->ms < v->ms;
    case COP_DATE_LE:
        return r->ms <= v->ms;
    case COP_DATE_GT:
        return r->ms > v->ms;
    case COP_DATE_GE:
        return r->ms >= v->ms;
    case COP_BOOL:
        return r->b == v->b;
    case COP_BIN_EQ:
        return r->s.len == v->bin.len &&
               (r->s.len == 0 || memcmp(r->s.ptr, v->bin.ptr, r->s.len) == 0);
    case COP_IP:
        return policy_cidr_contains(&v->ip, &r->ip);
    case COP_ARN:
        if (r->arn[0].len == SIZE_MAX) {
            return false;
        }
        for (int i = 0; i < 6; i++) {
            if (!ppat_match(&v->arn[i], r->arn[i], req, false)) {
                return false;
            }
        }
        return true;
    default:
        return false;
    }
}

/* Is request value @p s satisfied by the condition (negation applied per value)? */
static bool value_satisfied(const struct pcond *c, struct cv_str s,
                            const struct policy_request *req)
{
    struct rval r;
    uint32_t i;
    bool any = false;

    if (!rval_parse(c->op, s, &r)) {
        return false; /* a request value of the wrong type satisfies nothing */
    }
    for (i = 0; i < c->nvals && !any; i++) {
        any = val_match(c->op, &c->vals[i], &r, req);
    }
    return c->neg ? !any : any;
}

static void note_missing(struct policy_result *res, struct cv_str key)
{
    size_t i;

    if (!res) {
        return;
    }
    for (i = 0; i < res->nmissing; i++) {
        if (cv_str_eq_ci(res->missing[i], key)) {
            return;
        }
    }
    if (res->nmissing < POLICY_MAX_MISSING) {
        res->missing[res->nmissing++] = key;
    }
}

bool policy_cond_eval(const struct pcond *c, const struct policy_request *req,
                      struct policy_result *res)
{
    const struct policy_ctx_key *k = policy_req_key(req, c->key);
    bool present = k && k->nvalues > 0;
    size_t i;

    if (c->op == COP_NULL) {
        for (i = 0; i < c->nvals; i++) {
            if (c->vals[i].ok && c->vals[i].b == !present) {
                return true;
            }
        }
        return false;
    }
    if (!present) {
        if (!k) {
            note_missing(res, c->key);
        }
        if (c->ifexists) {
            return true;
        }
        switch (c->set) {
        case CSET_ANY:
            return false;
        case CSET_ALL:
            return true;
        default:
            return c->neg;
        }
    }
    if (c->set == CSET_ALL || (c->set == CSET_NONE && c->neg)) {
        for (i = 0; i < k->nvalues; i++) {
            if (!value_satisfied(c, k->values[i], req)) {
                return false;
            }
        }
        return true;
    }
    for (i = 0; i < k->nvalues; i++) {
        if (value_satisfied(c, k->values[i], req)) {
            return true;
        }
    }
    return false;
}
