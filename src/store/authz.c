/*
 * Authorization: may this identity perform this action on this resource?
 *
 * The decision is the policy module's (IAM.md §2.2): the caller's inline
 * policies (IAM users), the bucket's policy, root and cross-account rules;
 * then, when that found neither an Allow nor a Deny, the bucket's or object's
 * ACL (acl_step(), unless the bucket has BucketOwnerEnforced).
 * This file builds the request context (principal, action, resource ARN,
 * condition keys of IAM.md §3.3) and keeps compiled policies in two caches so
 * the decision path neither reads SQLite for user policies nor parses JSON:
 *  - bucket policies, keyed by bucket name and checked against the policy
 *    text the request already loaded with the bucket;
 *  - each IAM user's identity policies (inline, attached managed, and its
 *    groups' inline and attached ones), keyed by account and user and
 *    invalidated by the IAM generation counter (any IAM write bumps it).
 * Compiled policies are immutable and reference-counted, so a policy being
 * replaced is freed only when the last request using it is done.
 */
#include "store_int.h"
#include "policy/policy.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------ caches */

struct pset {
    atomic_int refs;
    char key[200];      /* bucket name, or "account/user" */
    uint64_t gen;       /* IAM generation (user sets) */
    char *text;         /* bucket policy text (bucket sets) */
    size_t textlen;
    struct policy **p;  /* compiled policies */
    size_t n;
    bool is_public;     /* bucket sets: public by AWS's meaning (s3_pab.c) */
};

#define PCACHE_SLOTS 256

struct pcache {
    pthread_mutex_t mu;
    struct pset *slot[PCACHE_SLOTS];
};

struct authz_cache {
    struct pcache buckets, users;
};

static void pset_unref(struct pset *s)
{
    size_t i;

    if (!s || atomic_fetch_sub(&s->refs, 1) != 1) {
        return;
    }
    for (i = 0; i < s->n; i++) {
        policy_free(s->p[i]);
    }
    cv_free(s->p);
    cv_free(s->text);
    cv_free(s);
}

static unsigned slot_of(const char *key)
{
    uint32_t h = 2166136261u;

    for (; *key; key++) {
        h = (h ^ (unsigned char)*key) * 16777619u;
    }
    return h % PCACHE_SLOTS;
}

/* Takes a reference on a cached set matching @p key (and @p text or @p gen). */
static struct pset *pcache_get(struct pcache *c, const char *key, struct cv_str text,
                               uint64_t gen, bool by_text)
{
    struct pset *s;
    unsigned i = slot_of(key);

    pthread_mutex_lock(&c->mu);
    s = c->slot[i];
    if (s && strcmp(s->key, key) == 0 &&
        (by_text ? (s->textlen == text.len && memcmp(s->text, text.ptr, text.len) == 0)
                 : s->gen == gen)) {
        atomic_fetch_add(&s->refs, 1);
    } else {
        s = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    return s;
}

/* Installs @p s (the cache takes one reference; the caller keeps its own). */
static void pcache_put(struct pcache *c, struct pset *s)
{
    unsigned i = slot_of(s->key);
    struct pset *old;

    atomic_fetch_add(&s->refs, 1);
    pthread_mutex_lock(&c->mu);
    old = c->slot[i];
    c->slot[i] = s;
    pthread_mutex_unlock(&c->mu);
    pset_unref(old);
}

cv_err store_authz_init(struct store *st)
{
    st->authz = cv_calloc(1, sizeof(*st->authz));
    if (!st->authz) {
        return CV_ENOMEM;
    }
    pthread_mutex_init(&st->authz->buckets.mu, NULL);
    pthread_mutex_init(&st->authz->users.mu, NULL);
    return CV_OK;
}

void store_authz_free(struct store *st)
{
    size_t i;

    if (!st->authz) {
        return;
    }
    for (i = 0; i < PCACHE_SLOTS; i++) {
        pset_unref(st->authz->buckets.slot[i]);
        pset_unref(st->authz->users.slot[i]);
    }
    pthread_mutex_destroy(&st->authz->buckets.mu);
    pthread_mutex_destroy(&st->authz->users.mu);
    cv_free(st->authz);
    st->authz = NULL;
}

static struct pset *pset_new(const char *key)
{
    struct pset *s = cv_calloc(1, sizeof(*s));

    if (s) {
        atomic_init(&s->refs, 1);
        snprintf(s->key, sizeof(s->key), "%s", key);
    }
    return s;
}

/* The compiled policy of a bucket (text as stored). NULL: none, or broken. */
static struct pset *bucket_policy(struct store *st, struct cv_str bucket, struct cv_str text)
{
    char key[200];
    struct pset *s;
    struct policy_parse_opts o;
    struct policy *p = NULL;

    if (!text.len) {
        return NULL;
    }
    snprintf(key, sizeof(key), "%.*s", (int)bucket.len, bucket.ptr);
    s = pcache_get(&st->authz->buckets, key, text, 0, true);
    if (s) {
        return s;
    }
    memset(&o, 0, sizeof(o));
    o.type = POLICY_BUCKET;
    o.name = "bucket-policy";
    /* Stored policies were validated when put; principals may have been
     * deleted since, which must not make the policy vanish. */
    if (policy_parse(text.ptr, text.len, &o, &p, NULL, 0) != CV_OK) {
        cv_warn("store: the stored policy of bucket %s no longer compiles; it is ignored", key);
        return NULL;
    }
    s = pset_new(key);
    if (s) {
        s->p = cv_malloc(sizeof(*s->p));
        s->text = cv_strndup(text.ptr, text.len);
    }
    if (!s || !s->p || !s->text) {
        policy_free(p);
        pset_unref(s);
        return NULL;
    }
    s->p[0] = p;
    s->n = 1;
    s->textlen = text.len;
    s->is_public = pab_policy_is_public(text.ptr, text.len);
    pcache_put(&st->authz->buckets, s);
    return s;
}

/* The compiled identity policies of an IAM user (inline, attached, its groups'). */
static struct pset *user_policies(struct store *st, const struct identity *id)
{
    char key[200];
    uint64_t gen = atomic_load(&st->cred_gen);
    struct pset *s;
    struct db_conn *c;
    sqlite3_stmt *q = NULL;
    cv_err err = CV_OK;

    snprintf(key, sizeof(key), "%s/%s", id->account, id->user);
    s = pcache_get(&st->authz->users, key, CV_STR_NULL, gen, false);
    if (s) {
        return s;
    }
    s = pset_new(key);
    c = db_reader(st->db);
    if (!s || !c) {
        pset_unref(s);
        db_reader_done(st->db, c);
        return NULL;
    }
    s->gen = gen;
    /* IAM.md §2.2: the user's inline policies, its attached managed policies,
     * and the inline and attached policies of every group it is in. An
     * attached policy with no customer document is a built-in AWS one. */
    if (sqlite3_prepare_v2(c->h,
                           "SELECT name, document FROM user_policies WHERE account = ?1 AND "
                           "user = ?2 "
                           "UNION ALL SELECT name, document FROM entity_policies WHERE account = "
                           "?1 AND kind = 'group' AND entity IN (SELECT grp FROM group_members "
                           "WHERE account = ?1 AND user = ?2) "
                           "UNION ALL SELECT a.arn, m.document FROM attached_policies a LEFT JOIN "
                           "managed_policies m ON m.account = a.account AND m.arn = a.arn WHERE "
                           "a.account = ?1 AND ((a.kind = 'user' AND a.entity = ?2) OR (a.kind = "
                           "'group' AND a.entity IN (SELECT grp FROM group_members WHERE account "
                           "= ?1 AND user = ?2)))",
                           -1, &q, NULL) != SQLITE_OK) {
        err = CV_EDB;
    }
    if (!err) {
        sqlite3_bind_text(q, 1, id->account, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, id->user, -1, SQLITE_STATIC);
    }
    while (!err && sqlite3_step(q) == SQLITE_ROW) {
        struct policy_parse_opts o;
        struct policy *p = NULL;
        struct policy **np;
        struct cv_str doc = db_col_str(q, 1);

        if (!doc.ptr) {
            doc = cv_str_c(iam_aws_policy_doc((const char *)sqlite3_column_text(q, 0),
                                              (size_t)sqlite3_column_bytes(q, 0)));
            if (!doc.ptr) {
                continue;
            }
        }

        memset(&o, 0, sizeof(o));
        o.type = POLICY_IDENTITY;
        o.name = (const char *)sqlite3_column_text(q, 0);
        if (policy_parse(doc.ptr, doc.len, &o, &p, NULL, 0) != CV_OK) {
            cv_warn("store: an inline policy of %s no longer compiles; it is ignored", key);
            continue;
        }
        np = cv_realloc(s->p, (s->n + 1) * sizeof(*np));
        if (!np) {
            policy_free(p);
            err = CV_ENOMEM;
            break;
        }
        s->p = np;
        s->p[s->n++] = p;
    }
    sqlite3_finalize(q);
    db_reader_done(st->db, c);
    if (err) {
        pset_unref(s);
        return NULL;
    }
    pcache_put(&st->authz->users, s);
    return s;
}

/* ------------------------------------------------------- the context */

#define MAX_KEYS 64

struct ctx {
    struct policy_ctx_key keys[MAX_KEYS];
    struct cv_str vals[MAX_KEYS];
    size_t n;
    char now_iso[25], epoch[24], sig_age[24], max_keys[8];
    char names[2 * TAGS_MAX][160]; /* s3:RequestObjectTag/K, s3:ExistingObjectTag/K */
    size_t nnames;
    struct cv_str tag_keys[TAGS_MAX]; /* s3:RequestObjectTagKeys (multi-valued) */
};

static void add_tag_keys(struct ctx *c, const char *prefix, const struct tag_set *ts,
                         bool with_keys)
{
    size_t i;

    for (i = 0; i < ts->n && c->nnames < CV_ARRAY_LEN(c->names) && c->n < MAX_KEYS; i++) {
        char *name = c->names[c->nnames++];
        snprintf(name, sizeof(c->names[0]), "%s%.*s", prefix, (int)ts->key[i].len,
                 ts->key[i].ptr);
        c->vals[c->n] = ts->value[i];
        c->keys[c->n].name = cv_str_c(name);
        c->keys[c->n].values = &c->vals[c->n];
        c->keys[c->n].nvalues = 1;
        c->n++;
    }
    if (with_keys && c->n < MAX_KEYS) {
        for (i = 0; i < ts->n; i++) {
            c->tag_keys[i] = ts->key[i];
        }
        c->keys[c->n].name = CV_STR("s3:RequestObjectTagKeys");
        c->keys[c->n].values = c->tag_keys;
        c->keys[c->n].nvalues = ts->n;
        c->n++;
    }
}

static void add_key(struct ctx *c, const char *name, struct cv_str v)
{
    if (c->n >= MAX_KEYS || !v.ptr) {
        return;
    }
    c->vals[c->n] = v;
    c->keys[c->n].name = cv_str_c(name);
    c->keys[c->n].values = &c->vals[c->n];
    c->keys[c->n].nvalues = 1;
    c->n++;
}

static void add_header_key(struct ctx *c, struct store_req *r, const char *key, const char *hdr)
{
    struct cv_str v = req_header(r, hdr);

    if (v.ptr) {
        add_key(c, key, cv_str_trim(v));
    }
}

static bool is_list_op(int op)
{
    return op == OP_LIST_OBJECTS || op == OP_LIST_OBJECTS_V2 || op == OP_LIST_OBJECT_VERSIONS;
}

static void fill_principal(const struct store_req *r, struct policy_principal *p)
{
    const struct identity *id = &r->ident;

    memset(p, 0, sizeof(*p));
    switch (id->kind) {
    case IDENT_ROOT:
        p->kind = POLICY_CALLER_ROOT;
        break;
    case IDENT_USER:
        p->kind = POLICY_CALLER_USER;
        p->user_name = cv_str_c(id->user);
        p->user_id = cv_str_c(id->user_id);
        break;
    default:
        p->kind = POLICY_CALLER_ANONYMOUS;
        return;
    }
    p->account = cv_str_c(id->account);
    p->arn = cv_str_c(id->arn);
    p->canonical_id = cv_str_c(id->canonical);
}

static void build_ctx(struct store_req *r, const struct policy_principal *pr,
                      const struct bucket_info *bi, struct ctx *c)
{
    struct policy_ctx_key pk[8];
    struct cv_str pv[8];
    size_t i, n;

    memset(c, 0, sizeof(*c));
    n = policy_principal_keys(pr, pk, pv);
    for (i = 0; i < n && c->n < MAX_KEYS; i++) {
        c->vals[c->n] = pv[i];
        c->keys[c->n] = pk[i];
        c->keys[c->n].values = &c->vals[c->n];
        c->n++;
    }
    cv_time_iso8601_ms(r->now_ms, c->now_iso);
    memcpy(c->now_iso + 19, "Z", 2); /* seconds precision, as AWS */
    snprintf(c->epoch, sizeof(c->epoch), "%lld", (long long)(r->now_ms / 1000));
    add_key(c, "aws:SourceIp", cv_str_c(r->peer));
    add_key(c, "aws:SecureTransport", CV_STR("false"));
    add_key(c, "aws:CurrentTime", cv_str_c(c->now_iso));
    add_key(c, "aws:EpochTime", cv_str_c(c->epoch));
    add_header_key(c, r, "aws:UserAgent", "user-agent");
    add_header_key(c, r, "aws:Referer", "referer");
    if (r->auth.kind != SIGV4_AUTH_NONE) {
        add_key(c, "s3:authType",
                r->auth.kind == SIGV4_AUTH_QUERY ? CV_STR("REST-QUERY-STRING")
                                                 : CV_STR("REST-HEADER"));
        add_key(c, "s3:signatureversion", CV_STR("AWS4-HMAC-SHA256"));
        if (r->auth.kind == SIGV4_AUTH_QUERY) {
            snprintf(c->sig_age, sizeof(c->sig_age), "%lld",
                     (long long)(r->now_ms - r->auth.request_time * 1000));
            add_key(c, "s3:signatureAge", cv_str_c(c->sig_age));
        }
    }
    add_header_key(c, r, "s3:x-amz-content-sha256", "x-amz-content-sha256");
    if (bi) {
        add_key(c, "s3:ResourceAccount", cv_str_c(bi->account));
    }
    /* Request headers that are S3 condition keys, present only when sent. */
    add_header_key(c, r, "s3:x-amz-acl", "x-amz-acl");
    add_header_key(c, r, "s3:x-amz-grant-read", "x-amz-grant-read");
    add_header_key(c, r, "s3:x-amz-grant-write", "x-amz-grant-write");
    add_header_key(c, r, "s3:x-amz-grant-read-acp", "x-amz-grant-read-acp");
    add_header_key(c, r, "s3:x-amz-grant-write-acp", "x-amz-grant-write-acp");
    add_header_key(c, r, "s3:x-amz-grant-full-control", "x-amz-grant-full-control");
    add_header_key(c, r, "s3:x-amz-server-side-encryption", "x-amz-server-side-encryption");
    add_header_key(c, r, "s3:x-amz-server-side-encryption-aws-kms-key-id",
                   "x-amz-server-side-encryption-aws-kms-key-id");
    add_header_key(c, r, "s3:x-amz-storage-class", "x-amz-storage-class");
    add_header_key(c, r, "s3:x-amz-copy-source", "x-amz-copy-source");
    add_header_key(c, r, "s3:x-amz-metadata-directive", "x-amz-metadata-directive");
    add_header_key(c, r, "s3:x-amz-object-ownership", "x-amz-object-ownership");
    if (r->op == OP_PUT_OBJECT || r->op == OP_COMPLETE_MULTIPART) {
        add_header_key(c, r, "s3:if-match", "if-match");
        add_header_key(c, r, "s3:if-none-match", "if-none-match");
    }
    if (r->authz_request_tags) {
        add_tag_keys(c, "s3:RequestObjectTag/", r->authz_request_tags, true);
    }
    if (r->authz_existing_tags) {
        add_tag_keys(c, "s3:ExistingObjectTag/", r->authz_existing_tags, false);
    }
    if (r->authz_prefix.ptr) {
        add_key(c, "s3:prefix", r->authz_prefix);
    } else if (is_list_op(r->op)) {
        const struct query_param *q = req_param(r, "prefix");
        if (q) {
            add_key(c, "s3:prefix", q->value);
        }
        q = req_param(r, "delimiter");
        if (q) {
            add_key(c, "s3:delimiter", q->value);
        }
        q = req_param(r, "max-keys");
        add_key(c, "s3:max-keys", q ? q->value : CV_STR("1000"));
    }
}

/* ---------------------------------------------------------- deciding */

static int action_id_of(const char *action)
{
    /* The actions the store asks about are a handful of literals: remember
     * their ids by address. */
    static struct {
        const char *name;
        int id;
    } memo[64];
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    int id = -1;
    size_t i;

    pthread_mutex_lock(&mu);
    for (i = 0; i < CV_ARRAY_LEN(memo) && memo[i].name; i++) {
        if (memo[i].name == action) {
            id = memo[i].id;
            pthread_mutex_unlock(&mu);
            return id;
        }
    }
    id = policy_action_id(cv_str_c(action));
    if (i < CV_ARRAY_LEN(memo)) {
        memo[i].name = action;
        memo[i].id = id;
    }
    pthread_mutex_unlock(&mu);
    return id;
}

/* ------------------------------------------------------------ ACLs */

/* Which ACL, and which of its permissions, an action needs. */
static bool acl_need(const struct store_req *r, const char *action, struct cv_str key,
                     bool *object, enum acl_perm *perm)
{
    static const struct {
        const char *action;
        bool object;
        enum acl_perm perm;
    } map[] = {
        {"s3:ListBucket", false, ACL_READ},
        {"s3:ListBucketVersions", false, ACL_READ},
        {"s3:ListBucketMultipartUploads", false, ACL_READ},
        {"s3:PutObject", false, ACL_WRITE},
        {"s3:DeleteObject", false, ACL_WRITE},
        {"s3:DeleteObjectVersion", false, ACL_WRITE},
        {"s3:GetBucketAcl", false, ACL_READ_ACP},
        {"s3:PutBucketAcl", false, ACL_WRITE_ACP},
        {"s3:GetObject", true, ACL_READ},
        {"s3:GetObjectVersion", true, ACL_READ},
        {"s3:GetObjectAcl", true, ACL_READ_ACP},
        {"s3:GetObjectVersionAcl", true, ACL_READ_ACP},
        {"s3:PutObjectAcl", true, ACL_WRITE_ACP},
        {"s3:PutObjectVersionAcl", true, ACL_WRITE_ACP},
    };
    size_t i;

    /* An ACL sent with an object write rides on the bucket's WRITE. */
    if (strcmp(action, "s3:PutObjectAcl") == 0 &&
        (r->op == OP_PUT_OBJECT || r->op == OP_COPY_OBJECT || r->op == OP_CREATE_MULTIPART ||
         r->op == OP_POST_OBJECT)) {
        *object = false;
        *perm = ACL_WRITE;
        return true;
    }
    for (i = 0; i < CV_ARRAY_LEN(map); i++) {
        if (strcmp(action, map[i].action) == 0) {
            *object = map[i].object;
            *perm = map[i].perm;
            return !*object || key.ptr != NULL;
        }
    }
    return false;
}

/*
 * The ACL of the object an object-level ACL action names, when the bucket
 * has ACLs on and the object exists; NULL otherwise (or out of memory).
 * Free with cv_free.
 */
static struct acl *object_acl(struct store_req *r, const char *action, struct cv_str key,
                              struct cv_str bucket, const struct bucket_info *bi)
{
    bool object = false, found = false;
    enum acl_perm perm;
    struct acl *a = NULL;

    if (!bi || s3_acl_enforced(bi) || !acl_need(r, action, key, &object, &perm) || !object) {
        return NULL;
    }
    a = cv_malloc(sizeof(*a));
    if (a && (s3_acl_load(r->st, bucket, &key, bi, a, &found) != CV_OK || !found)) {
        cv_free(a);
        a = NULL;
    }
    return a;
}

/*
 * The ACL step of decide(), run only when the policies neither allowed nor
 * denied (an explicit Deny always wins) and the bucket does not have
 * BucketOwnerEnforced. A grant to the caller counts as a resource-side
 * Allow, like a bucket policy statement (docs/policy.md, ACLs):
 *  - AllUsers matches anyone, anonymous too; AuthenticatedUsers any signed
 *    caller; a CanonicalUser grant the caller's account;
 *  - a root user needs nothing more (it holds its account's permissions);
 *  - an IAM user of the resource owner's account counts only group grants
 *    (a grant to its own account is a delegation its identity policies
 *    would already have had to use); an IAM user of another account needs
 *    its identity policies to allow (cross-account needs both sides).
 * @p oacl is the object's ACL when decide() loaded it already; @p owner the
 * account owning the resource (the object's owner for objects). Under the
 * bucket's IgnorePublicAcls, AllUsers and AuthenticatedUsers grants count
 * for nothing (Block Public Access).
 */
static bool acl_step(struct store_req *r, const char *action, struct cv_str bucket,
                     struct cv_str key, const struct bucket_info *bi, const struct acl *oacl,
                     struct cv_str owner, const struct policy_result *res)
{
    const char *canonical = NULL;
    bool groups_only = false, object = false, found = false, ok = false;
    bool ignore_public = pab_on(bi, PAB_IGNORE_PUBLIC_ACLS);
    enum acl_perm perm = ACL_READ;
    struct acl *a = NULL;
    bool (*grants)(const struct acl *, const char *, bool, enum acl_perm) =
        ignore_public ? acl_grants_private : acl_grants;

    if (!bi || s3_acl_enforced(bi) || !acl_need(r, action, key, &object, &perm)) {
        return false;
    }
    switch (r->ident.kind) {
    case IDENT_ROOT:
        canonical = r->ident.canonical;
        break;
    case IDENT_USER:
        canonical = r->ident.canonical;
        if (cv_str_eq_c(owner, r->ident.account)) {
            groups_only = true;
        } else if (res->reason != POLICY_REASON_CROSS_NO_RESOURCE) {
            return false;
        }
        break;
    default:
        break;
    }
    if (object && oacl) {
        ok = grants(oacl, canonical, groups_only, perm);
    } else if (!object || key.ptr) {
        a = cv_malloc(sizeof(*a));
        if (a && s3_acl_load(r->st, bucket, object ? &key : NULL, bi, a, &found) == CV_OK &&
            found) {
            ok = grants(a, canonical, groups_only, perm);
        }
        cv_free(a);
    }
    if (ok) {
        cv_debug("store: %s on %.*s allowed by an ACL %s grant", action, (int)bucket.len,
                 bucket.ptr, acl_perm_name(perm));
    }
    return ok;
}

static bool decide(struct store_req *r, const char *action, struct cv_str bucket,
                   struct cv_str key, const struct bucket_info *bi, struct cv_str policy_text,
                   bool mpu_initiator)
{
    struct policy_request req;
    struct policy_result res;
    struct ctx c;
    struct pset *ids = NULL, *bp = NULL;
    struct acl *oacl = NULL;
    char res_arn[1200];
    int n;

    memset(&req, 0, sizeof(req));
    fill_principal(r, &req.principal);
    req.bucket_owner = bi ? cv_str_c(bi->account) : req.principal.account;
    req.action_id = action_id_of(action);
    req.action_name = cv_str_c(action);
    if (!bucket.ptr || !bucket.len) {
        n = snprintf(res_arn, sizeof(res_arn), "arn:aws:s3:::");
    } else if (key.ptr) {
        n = snprintf(res_arn, sizeof(res_arn), "arn:aws:s3:::%.*s/%.*s", (int)bucket.len,
                     bucket.ptr, (int)key.len, key.ptr);
    } else {
        n = snprintf(res_arn, sizeof(res_arn), "arn:aws:s3:::%.*s", (int)bucket.len, bucket.ptr);
    }
    if (n < 0 || (size_t)n >= sizeof(res_arn)) {
        return false;
    }
    req.resource.ptr = res_arn;
    req.resource.len = (size_t)n;
    req.mpu_initiator = mpu_initiator;
    req.no_lockout_guard = bi && bi->policy_lockout;
    build_ctx(r, &req.principal, bi, &c);
    req.keys = c.keys;
    req.nkeys = c.n;
    if (r->ident.kind == IDENT_USER) {
        ids = user_policies(r->st, &r->ident);
    }
    if (bi && bi->has_policy) {
        bp = bucket_policy(r->st, bucket, policy_text);
    }
    oacl = object_acl(r, action, key, bucket, bi);
    policy_decide(&req, ids ? (const struct policy *const *)ids->p : NULL, ids ? ids->n : 0,
                  bp ? bp->p[0] : NULL, &res);
    if (bp && bp->is_public && pab_on(bi, PAB_RESTRICT_PUBLIC_BUCKETS) &&
        res.decision != POLICY_EXPLICIT_DENY &&
        (r->ident.kind == IDENT_ANONYMOUS || strcmp(r->ident.account, bi->account) != 0)) {
        /* RestrictPublicBuckets: a public bucket policy grants nothing outside
         * the owner's account (its non-public statements neither); its Deny
         * statements still bind, and were just found not to apply. */
        policy_decide(&req, ids ? (const struct policy *const *)ids->p : NULL, ids ? ids->n : 0,
                      NULL, &res);
    }
    if (oacl && strcmp(oacl->owner, bi->account) != 0 && res.decision != POLICY_EXPLICIT_DENY) {
        /* An object another account owns (ObjectWriter): the bucket policy's
         * Deny still binds, but neither its Allows nor the bucket owner's
         * rights reach the object; its owner's account decides, with the
         * object's ACL as the resource side. */
        req.bucket_owner = cv_str_c(oacl->owner);
        policy_decide(&req, ids ? (const struct policy *const *)ids->p : NULL, ids ? ids->n : 0,
                      NULL, &res);
    }
    /* ACLs: a resource-side Allow when the policies left it undecided. */
    if (res.decision == POLICY_IMPLICIT_DENY &&
        acl_step(r, action, bucket, key, bi, oacl, req.bucket_owner, &res)) {
        res.decision = POLICY_ALLOWED;
    }
    cv_free(oacl);
    if (res.decision != POLICY_ALLOWED) {
        cv_debug("store: %s %s denied for %s: %s", action, res_arn,
                 r->ident.arn[0] ? r->ident.arn : "anonymous", policy_reason_str(res.reason));
    }
    pset_unref(ids);
    pset_unref(bp);
    return res.decision == POLICY_ALLOWED;
}

static struct cv_str policy_text_for(struct store_req *r, struct cv_str bucket)
{
    struct cv_str t = CV_STR_NULL;

    if (r->bucket_loaded && cv_str_eq(bucket, r->bucket) && r->bucket_policy.ptr) {
        t.ptr = r->bucket_policy.ptr;
        t.len = r->bucket_policy.len;
    }
    return t;
}

bool store_allowed(struct store_req *r, const char *action, struct cv_str bucket, struct cv_str key,
                   const struct bucket_info *bi)
{
    return decide(r, action, bucket, key, bi, policy_text_for(r, bucket), false);
}

bool store_allowed_ex(struct store_req *r, const char *action, struct cv_str bucket,
                      struct cv_str key, const struct bucket_info *bi, struct cv_str policy_text,
                      bool mpu_initiator)
{
    return decide(r, action, bucket, key, bi, policy_text, mpu_initiator);
}

bool store_authorize(struct store_req *r, const char *action, struct cv_str bucket,
                     struct cv_str key, const struct bucket_info *bi)
{
    if (store_allowed(r, action, bucket, key, bi)) {
        return true;
    }
    resp_error(r, CV_S3_ACCESS_DENIED, NULL, NULL);
    return false;
}

bool store_authorize_iam(struct store_req *r, const char *action, const char *resource_arn)
{
    struct policy_request req;
    struct policy_result res;
    struct ctx c;
    struct pset *ids = NULL;

    if (r->ident.kind == IDENT_ROOT) {
        return true;
    }
    if (r->ident.kind != IDENT_USER) {
        return false;
    }
    memset(&req, 0, sizeof(req));
    fill_principal(r, &req.principal);
    req.bucket_owner = req.principal.account;
    req.action_id = -1;
    req.action_name = cv_str_c(action);
    req.resource = cv_str_c(resource_arn);
    build_ctx(r, &req.principal, NULL, &c);
    req.keys = c.keys;
    req.nkeys = c.n;
    ids = user_policies(r->st, &r->ident);
    policy_decide(&req, ids ? (const struct policy *const *)ids->p : NULL, ids ? ids->n : 0, NULL,
                  &res);
    pset_unref(ids);
    return res.decision == POLICY_ALLOWED;
}
