/*
 * The decision (IAM.md §2.2): explicit deny first, the bucket owner's root,
 * the multipart initiator, then same-account / anonymous / cross-account
 * rules. Allocation-free; the policies are read-only.
 */
#include "policy/policy_int.h"

#include <pthread.h>
#include <string.h>

enum {
    SPECIAL_GET_BP,
    SPECIAL_PUT_BP,
    SPECIAL_DEL_BP,
    SPECIAL_ABORT_MPU,
    SPECIAL_LIST_PARTS,
    SPECIAL__COUNT
};
static int special_ids[SPECIAL__COUNT];
static pthread_once_t special_once = PTHREAD_ONCE_INIT;

static void special_init(void)
{
    static const char *const names[SPECIAL__COUNT] = {
        "s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy",
        "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"};
    for (int i = 0; i < SPECIAL__COUNT; i++) {
        special_ids[i] = policy_action_id(cv_str_c(names[i]));
    }
}

/* Per-decision state: the request's resource split lazily. */
struct estate {
    const struct policy_request *req;
    int action;
    bool split_done, split_ok;
    struct cv_str comps[6];
};

static bool act_match(const struct pacts *a, const struct estate *e)
{
    uint32_t i;

    if (e->action >= 0) {
        return (a->bits[e->action / 64] >> (e->action % 64)) & 1u;
    }
    for (i = 0; i < a->npats; i++) {
        if (policy_glob(a->pats[i], e->req->action_name, true)) {
            return true;
        }
    }
    return false;
}

static bool res_match_one(const struct pres *r, struct estate *e)
{
    struct cv_str res = e->req->resource;
    int i;

    if (r->any) {
        return true;
    }
    if (r->literal_prefix) {
        if (res.len < r->prefix.len || memcmp(res.ptr, r->prefix.ptr, r->prefix.len) != 0) {
            return false;
        }
        return ppat_match(&r->tail,
                          (struct cv_str){res.ptr + r->prefix.len, res.len - r->prefix.len}, e->req,
                          false);
    }
    if (!e->split_done) {
        e->split_ok = policy_arn_split(res, e->comps);
        e->split_done = true;
    }
    if (!e->split_ok) {
        return false;
    }
    for (i = 0; i < 5; i++) {
        if (!ppat_match(&r->comps[i], e->comps[i], NULL, false)) {
            return false;
        }
    }
    return ppat_match(&r->tail, e->comps[5], e->req, false);
}

static bool res_match(const struct pstmt *s, struct estate *e)
{
    uint32_t i;
    bool any = false;

    for (i = 0; i < s->nres && !any; i++) {
        any = res_match_one(&s->res[i], e);
    }
    return s->not_resource ? !any : any;
}

enum pmatch { PM_NONE = 0, PM_ACCOUNT, PM_DIRECT };

static enum pmatch prin_entry(const struct pprin *x, const struct policy_principal *p)
{
    switch (x->kind) {
    case PPRIN_ANY:
        return PM_DIRECT;
    case PPRIN_ACCOUNT:
        return p->kind != POLICY_CALLER_ANONYMOUS && cv_str_eq(p->account, x->v) ? PM_ACCOUNT
                                                                                 : PM_NONE;
    case PPRIN_USER_ARN:
        return p->kind == POLICY_CALLER_USER && cv_str_eq(p->arn, x->v) ? PM_DIRECT : PM_NONE;
    case PPRIN_USER_ID:
        return p->kind == POLICY_CALLER_USER && p->user_id.len && cv_str_eq(p->user_id, x->v)
                   ? PM_DIRECT
                   : PM_NONE;
    case PPRIN_CANONICAL:
        return p->kind != POLICY_CALLER_ANONYMOUS && p->canonical_id.len &&
                       cv_str_eq_ci(p->canonical_id, x->v)
                   ? PM_ACCOUNT
                   : PM_NONE;
    default:
        return PM_NONE;
    }
}

static enum pmatch prin_match(const struct pstmt *s, const struct policy_principal *p)
{
    uint32_t i;
    enum pmatch best = PM_NONE;

    if (s->prin_mode == PSP_PRINCIPAL) {
        for (i = 0; i < s->nprin && best != PM_DIRECT; i++) {
            enum pmatch m = prin_entry(&s->prin[i], p);
            if (m > best) {
                best = m;
            }
        }
        return best;
    }
    /* NotPrincipal: applies unless every identity in the caller's chain is listed. */
    bool any_listed = false, account_listed = false, user_listed = false;
    for (i = 0; i < s->nprin; i++) {
        const struct pprin *x = &s->prin[i];
        enum pmatch m = prin_entry(x, p);
        if (x->kind == PPRIN_ANY) {
            any_listed = true;
        } else if (m == PM_ACCOUNT) {
            account_listed = true;
        } else if (m == PM_DIRECT) {
            user_listed = true;
        }
    }
    if (any_listed) {
        return PM_NONE;
    }
    switch (p->kind) {
    case POLICY_CALLER_USER:
        return account_listed && user_listed ? PM_NONE : PM_DIRECT;
    case POLICY_CALLER_ROOT:
        return account_listed ? PM_NONE : PM_DIRECT;
    default:
        return PM_DIRECT;
    }
}

static bool conds_match(const struct pstmt *s, const struct policy_request *req,
                        struct policy_result *res)
{
    uint32_t i;
    bool ok = true;

    /* Every entry is evaluated (no short cut) so that missing keys are all reported. */
    for (i = 0; i < s->nconds; i++) {
        if (!policy_cond_eval(&s->conds[i], req, res)) {
            ok = false;
        }
    }
    return ok;
}

struct mlist {
    struct policy_match m[POLICY_MAX_MATCHED];
    size_t n, total;
};

static inline void mlist_add(struct mlist *l, const struct policy *p, size_t i)
{
    if (l->n < POLICY_MAX_MATCHED) {
        l->m[l->n].policy = p;
        l->m[l->n].statement = (uint32_t)i;
        l->n++;
    }
    l->total++;
}

static void emit(struct policy_result *res, const struct mlist *l)
{
    size_t i;

    for (i = 0; i < l->n && res->nmatched < POLICY_MAX_MATCHED; i++) {
        res->matched[res->nmatched++] = l->m[i];
    }
    res->nmatched_total += l->total;
}

void policy_decide(const struct policy_request *req, const struct policy *const *identity,
                   size_t nidentity, const struct policy *bucket, struct policy_result *res)
{
    const struct policy_principal *p = &req->principal;
    struct estate e = {req, req->action_id, false, false, {{0}}};
    struct mlist deny, allow_id, allow_rp, allow_rpa;
    size_t i, j;
    bool owner_root, same;

    pthread_once(&special_once, special_init);
    res->decision = POLICY_IMPLICIT_DENY;
    res->reason = POLICY_REASON_NO_ALLOW;
    res->nmatched = res->nmatched_total = res->nmissing = 0;
    deny.n = deny.total = allow_id.n = allow_id.total = 0;
    allow_rp.n = allow_rp.total = allow_rpa.n = allow_rpa.total = 0;
    if (e.action < 0 || (size_t)e.action >= policy_nactions) {
        e.action = policy_action_id(req->action_name);
    }

    if (p->kind == POLICY_CALLER_USER) {
        for (j = 0; j < nidentity; j++) {
            const struct policy *pol = identity[j];
            if (!pol || pol->type != POLICY_IDENTITY) {
                continue;
            }
            for (i = 0; i < pol->nstmts; i++) {
                const struct pstmt *s = &pol->stmts[i];
                if (act_match(&s->acts, &e) == s->not_action || !res_match(s, &e) ||
                    !conds_match(s, req, res)) {
                    continue;
                }
                mlist_add(s->deny ? &deny : &allow_id, pol, i);
            }
        }
    }
    if (bucket && bucket->type == POLICY_BUCKET) {
        for (i = 0; i < bucket->nstmts; i++) {
            const struct pstmt *s = &bucket->stmts[i];
            enum pmatch pm;
            if (act_match(&s->acts, &e) == s->not_action) {
                continue;
            }
            pm = prin_match(s, p);
            if (pm == PM_NONE || !res_match(s, &e) || !conds_match(s, req, res)) {
                continue;
            }
            if (s->deny) {
                mlist_add(&deny, bucket, i);
            } else {
                mlist_add(pm == PM_DIRECT ? &allow_rp : &allow_rpa, bucket, i);
            }
        }
    }

    owner_root = p->kind == POLICY_CALLER_ROOT && cv_str_eq(p->account, req->bucket_owner);
    if (deny.total) {
        if (owner_root && !req->no_lockout_guard &&
            (e.action == special_ids[SPECIAL_GET_BP] || e.action == special_ids[SPECIAL_PUT_BP] ||
             e.action == special_ids[SPECIAL_DEL_BP])) {
            res->decision = POLICY_ALLOWED;
            res->reason = POLICY_REASON_LOCKOUT_GUARD;
            return;
        }
        res->decision = POLICY_EXPLICIT_DENY;
        res->reason = POLICY_REASON_DENY_STATEMENT;
        emit(res, &deny);
        return;
    }
    if (owner_root) {
        res->decision = POLICY_ALLOWED;
        res->reason = POLICY_REASON_BUCKET_OWNER_ROOT;
        return;
    }
    if (req->mpu_initiator && e.action >= 0 &&
        (e.action == special_ids[SPECIAL_ABORT_MPU] ||
         e.action == special_ids[SPECIAL_LIST_PARTS])) {
        res->decision = POLICY_ALLOWED;
        res->reason = POLICY_REASON_MPU_INITIATOR;
        return;
    }
    same = p->kind != POLICY_CALLER_ANONYMOUS && p->account.len &&
           cv_str_eq(p->account, req->bucket_owner);
    if (same) {
        if (allow_id.total || allow_rp.total) {
            res->decision = POLICY_ALLOWED;
            res->reason = POLICY_REASON_SAME_ACCOUNT_ALLOW;
            emit(res, &allow_id);
            emit(res, &allow_rp);
        } else if (allow_rpa.total) {
            res->reason = POLICY_REASON_ACCOUNT_DELEGATED;
        }
        return;
    }
    if (p->kind == POLICY_CALLER_ANONYMOUS) {
        if (allow_rp.total) {
            res->decision = POLICY_ALLOWED;
            res->reason = POLICY_REASON_ANONYMOUS_ALLOW;
            emit(res, &allow_rp);
        }
        return;
    }
    /* Cross-account: both sides. A root user holds every permission of its
     * own account, so its identity side always allows. */
    bool id_ok = allow_id.total || p->kind == POLICY_CALLER_ROOT;
    bool rp_ok = allow_rp.total || allow_rpa.total;
    if (id_ok && rp_ok) {
        res->decision = POLICY_ALLOWED;
        res->reason = POLICY_REASON_CROSS_ACCOUNT_ALLOW;
        emit(res, &allow_id);
        emit(res, &allow_rp);
        emit(res, &allow_rpa);
    } else if (rp_ok) {
        res->reason = POLICY_REASON_CROSS_NO_IDENTITY;
    } else if (allow_id.total) {
        res->reason = POLICY_REASON_CROSS_NO_RESOURCE;
    }
}

const char *policy_decision_str(enum policy_decision d)
{
    switch (d) {
    case POLICY_ALLOWED:
        return "allowed";
    case POLICY_EXPLICIT_DENY:
        return "explicitDeny";
    default:
        return "implicitDeny";
    }
}

const char *policy_reason_str(enum policy_reason r)
{
    switch (r) {
    case POLICY_REASON_DENY_STATEMENT:
        return "a Deny statement matches the request";
    case POLICY_REASON_BUCKET_OWNER_ROOT:
        return "the root user of the bucket owner's account has full access";
    case POLICY_REASON_LOCKOUT_GUARD:
        return "the bucket owner's root user cannot be locked out of the bucket policy";
    case POLICY_REASON_MPU_INITIATOR:
        return "the initiator of a multipart upload may abort it and list its parts";
    case POLICY_REASON_SAME_ACCOUNT_ALLOW:
        return "an Allow in the identity or bucket policy (same account)";
    case POLICY_REASON_ANONYMOUS_ALLOW:
        return "the bucket policy allows everyone (Principal \"*\")";
    case POLICY_REASON_CROSS_ACCOUNT_ALLOW:
        return "both the caller's identity policy and the bucket policy allow (cross-account)";
    case POLICY_REASON_ACCOUNT_DELEGATED:
        return "the bucket policy names only the caller's account, which delegates to its "
               "identity policies, and none allows";
    case POLICY_REASON_CROSS_NO_IDENTITY:
        return "cross-account: the bucket policy allows, but no identity policy of the caller "
               "does";
    case POLICY_REASON_CROSS_NO_RESOURCE:
        return "cross-account: the identity policy allows, but the bucket policy does not";
    default:
        return "no statement allows the request";
    }
}

size_t policy_principal_keys(const struct policy_principal *p, struct policy_ctx_key *out,
                             struct cv_str *vals)
{
    size_t n = 0;

#define ADD(name_, val_)                                                                           \
    do {                                                                                           \
        vals[n] = (val_);                                                                          \
        out[n].name = CV_STR(name_);                                                               \
        out[n].values = &vals[n];                                                                  \
        out[n].nvalues = 1;                                                                        \
        n++;                                                                                       \
    } while (0)

    switch (p->kind) {
    case POLICY_CALLER_USER:
        ADD("aws:username", p->user_name);
        if (p->user_id.len) {
            ADD("aws:userid", p->user_id);
        }
        ADD("aws:PrincipalArn", p->arn);
        ADD("aws:PrincipalAccount", p->account);
        ADD("aws:PrincipalType", CV_STR("User"));
        break;
    case POLICY_CALLER_ROOT:
        ADD("aws:PrincipalArn", p->arn);
        ADD("aws:PrincipalAccount", p->account);
        ADD("aws:PrincipalType", CV_STR("Account"));
        break;
    default:
        ADD("aws:PrincipalAccount", CV_STR("anonymous"));
        ADD("aws:PrincipalType", CV_STR("Anonymous"));
        break;
    }
#undef ADD
    return n;
}
