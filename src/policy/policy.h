/*
 * policy: the IAM policy language for S3 (spec/IAM.md).
 *
 *  - parse + validate a bucket policy (S3 PutBucketPolicy rules, MalformedPolicy
 *    messages) or an identity policy (IAM PutUserPolicy rules,
 *    MalformedPolicyDocument messages) into a compiled, immutable form;
 *  - decide a request against the caller's identity policies and the bucket
 *    policy (the algorithm of IAM.md §2.2), reporting the deciding statements
 *    and the missing context keys like the AWS policy simulator;
 *  - check a document offline (Access Analyzer style findings);
 *  - generate the product guide's two policies;
 *  - the S3 action table (names, resource types, condition keys).
 *
 * Threading: a compiled struct policy is immutable; any number of threads may
 * call policy_decide() on it at once. policy_decide() allocates nothing, never
 * fails and touches no JSON.
 *
 * Strings: every struct cv_str in a request borrows caller memory for the
 * duration of the call. Strings returned from a struct policy (sid, name)
 * borrow from it and are valid until policy_free().
 */
#ifndef CV_POLICY_H
#define CV_POLICY_H

#include "base/base.h"

/* ------------------------------------------------------------ documents */

enum policy_type {
    POLICY_BUCKET = 0, /* S3 bucket (resource) policy */
    POLICY_IDENTITY,   /* IAM user inline (identity) policy */
};

/* Limits (IAM.md §1.8). */
#define POLICY_BUCKET_MAX_BYTES 20480    /* bucket policy, raw bytes */
#define POLICY_USER_INLINE_QUOTA 2048    /* all inline policies of a user, policy_iam_size() */
#define POLICY_IDENTITY_MAX_BYTES 131072 /* IAM API limit on one document, raw bytes */

/* Kinds of principal the store is asked about when a bucket policy is saved. */
enum policy_principal_ref {
    POLICY_REF_ACCOUNT,   /* "123456789012" or arn:aws:iam::123456789012:root; id = account */
    POLICY_REF_USER,      /* arn:aws:iam::ACCT:user/[path/]NAME; id = the whole ARN */
    POLICY_REF_USER_ID,   /* an IAM unique id "AIDA..."; id = the unique id */
    POLICY_REF_CANONICAL, /* {"CanonicalUser": 64 hex}; id = the canonical id */
};

/*
 * Answers whether a principal named in a bucket policy exists. @p id borrows
 * the policy text for the call. Return true when it exists. A NULL callback
 * skips the existence check (offline tools).
 */
typedef bool (*policy_principal_exists_fn)(void *ud, enum policy_principal_ref kind,
                                           struct cv_str id);

struct policy_parse_opts {
    enum policy_type type;
    /* BUCKET: the bucket the policy is for; resources naming another bucket
     * are rejected. NULL skips that check (offline tools). Borrowed. */
    const char *bucket;
    policy_principal_exists_fn principal_exists; /* may be NULL */
    void *principal_ud;
    /* The name reported as the source of matched statements ("bucket-policy",
     * the inline policy's name). Copied. NULL gives "bucket-policy" or
     * "user-policy". */
    const char *name;
};

/* A compiled policy. Opaque; immutable after policy_parse(). */
struct policy;

/*
 * Parses, validates and compiles @p len bytes of @p text.
 *
 * On success returns CV_OK and *out (owned: free with policy_free()).
 * On rejection *out is NULL, the return value is the error the store sends
 * and @p msg (if not NULL, @p msglen bytes) receives AWS's message:
 *  - CV_S3_MALFORMED_POLICY: bucket policy; message per IAM.md §1.9
 *    ("Policy has invalid action", "Invalid principal in policy", ...);
 *  - CV_ETOOBIG: bucket policy over POLICY_BUCKET_MAX_BYTES, or identity
 *    document over POLICY_IDENTITY_MAX_BYTES;
 *  - CV_IAM_MALFORMED_POLICY: identity policy ("Policy document should not
 *    specify a principal.", "Syntax errors in policy.", ...);
 *  - CV_IAM_VALIDATION: identity policy with characters outside
 *    U+0009 U+000A U+000D U+0020-U+00FF;
 *  - CV_ENOMEM.
 * The per-user inline quota is not checked here (see policy_iam_size()).
 */
CV_WUR cv_err policy_parse(const char *text, size_t len, const struct policy_parse_opts *opts,
                           struct policy **out, char *msg, size_t msglen);

/** Frees a compiled policy. Accepts NULL. */
void policy_free(struct policy *p);

/** The policy's type. */
enum policy_type policy_get_type(const struct policy *p);
/** The name given at parse time. Returns borrowed (valid until policy_free). */
const char *policy_name(const struct policy *p);
/** "2012-10-17", "2008-10-17" (also for a missing Version), borrowed static. */
const char *policy_version(const struct policy *p);
/** Number of statements. */
size_t policy_statement_count(const struct policy *p);
/** Sid of statement @p i ("" when none). Returns borrowed (until policy_free). */
struct cv_str policy_statement_sid(const struct policy *p, size_t i);

/*
 * The size IAM counts against the inline-policy quota: characters (UTF-8
 * code points) that are not whitespace (space, tab, CR, LF), anywhere in the
 * text. The store sums this over a user's inline policies and answers
 * LimitExceeded "Maximum policy size of 2048 bytes exceeded for user NAME"
 * when the sum exceeds POLICY_USER_INLINE_QUOTA.
 */
size_t policy_iam_size(const char *text, size_t len);

/* -------------------------------------------------------------- actions */

enum policy_resource_type {
    POLICY_RT_NONE = 0, /* no resource type: Resource "*" (ListAllMyBuckets) */
    POLICY_RT_BUCKET,   /* arn:aws:s3:::bucket */
    POLICY_RT_OBJECT,   /* arn:aws:s3:::bucket/key */
    POLICY_RT_OTHER,    /* access points, jobs, Storage Lens, ... (not served) */
};

/**
 * Index of the S3 action @p name ("s3:GetObject", case-insensitive) in the
 * action table, or -1 if unknown. Stable for the life of the process; the
 * store may compute it once per operation and pass it in the request.
 */
int policy_action_id(struct cv_str name);
/** Canonical name ("s3:GetObject") of action @p id; NULL if out of range. */
const char *policy_action_name(int id);
/** Resource type of action @p id. */
enum policy_resource_type policy_action_resource_type(int id);
/** Number of actions in the table. */
size_t policy_action_count(void);

/* ----------------------------------------------------------- decisions */

enum policy_caller {
    POLICY_CALLER_ANONYMOUS = 0, /* unsigned request */
    POLICY_CALLER_ROOT,          /* an account's root user */
    POLICY_CALLER_USER,          /* an IAM user */
};

struct policy_principal {
    enum policy_caller kind;
    struct cv_str account;      /* 12 digits; empty for anonymous */
    struct cv_str user_name;    /* USER: friendly name */
    struct cv_str user_id;      /* USER: unique id "AIDA..." (matches unique-id principals) */
    struct cv_str arn;          /* USER: arn:aws:iam::A:user/[path/]N; ROOT: arn:aws:iam::A:root */
    struct cv_str canonical_id; /* the account's canonical id (64 hex); may be empty */
};

/* One condition key of the request: a name (any case) and its values. */
struct policy_ctx_key {
    struct cv_str name;
    const struct cv_str *values; /* borrowed; nvalues may be 0 (an empty set) */
    size_t nvalues;
};

struct policy_request {
    struct policy_principal principal;
    struct cv_str bucket_owner; /* account id owning the bucket */
    /* The action: action_id from policy_action_id(), or -1 to look up
     * action_name (names not in the table still match by pattern). */
    int action_id;
    struct cv_str action_name;
    /* arn:aws:s3:::bucket, arn:aws:s3:::bucket/key (raw key), or
     * "arn:aws:s3:::" for ListAllMyBuckets (no resource type). */
    struct cv_str resource;
    const struct policy_ctx_key *keys; /* borrowed; names compared case-insensitively */
    size_t nkeys;
    /* The caller (or its account) initiated the multipart upload named by
     * AbortMultipartUpload / ListMultipartUploadParts (IAM.md §2.2). */
    bool mpu_initiator;
    /* The bucket policy was put with ConfirmRemoveSelfBucketAccess: its
     * Deny statements bind the owner's root for Get/Put/DeleteBucketPolicy
     * too (no lock-out guard). */
    bool no_lockout_guard;
};

enum policy_decision {
    POLICY_IMPLICIT_DENY = 0,
    POLICY_ALLOWED,
    POLICY_EXPLICIT_DENY,
};

/* Why the decision came out the way it did (for logs and the simulator). */
enum policy_reason {
    POLICY_REASON_NO_ALLOW = 0,        /* nothing allowed it */
    POLICY_REASON_DENY_STATEMENT,      /* a Deny statement matched */
    POLICY_REASON_BUCKET_OWNER_ROOT,   /* root of the bucket owner: full access */
    POLICY_REASON_LOCKOUT_GUARD,       /* owner root, bucket-policy op: Deny ignored */
    POLICY_REASON_MPU_INITIATOR,       /* multipart initiator's default allow */
    POLICY_REASON_SAME_ACCOUNT_ALLOW,  /* same account, identity or bucket policy allowed */
    POLICY_REASON_ANONYMOUS_ALLOW,     /* Principal "*" allowed an anonymous caller */
    POLICY_REASON_CROSS_ACCOUNT_ALLOW, /* both accounts allowed */
    POLICY_REASON_ACCOUNT_DELEGATED,   /* bucket policy names only the caller's account, and
                                          no identity policy allows */
    POLICY_REASON_CROSS_NO_IDENTITY,   /* cross-account: the bucket policy allows, the
                                          caller's identity policies do not */
    POLICY_REASON_CROSS_NO_RESOURCE,   /* cross-account: identity allows, bucket policy not */
};

#define POLICY_MAX_MATCHED 8
#define POLICY_MAX_MISSING 8

/* One deciding statement: which policy, which statement. */
struct policy_match {
    const struct policy *policy; /* borrowed from the caller's arrays */
    uint32_t statement;          /* 0-based index in the policy's Statement */
};

struct policy_result {
    enum policy_decision decision;
    enum policy_reason reason;
    /* The statements that decided: every matching Deny for EXPLICIT_DENY;
     * the Allows that counted for ALLOWED; none for IMPLICIT_DENY. At most
     * POLICY_MAX_MATCHED are kept; nmatched_total counts them all. */
    struct policy_match matched[POLICY_MAX_MATCHED];
    size_t nmatched, nmatched_total;
    /* Condition keys used by statements whose principal, action and
     * resource matched, but absent from the request. Borrowed from the
     * policies (the key as written in the policy). */
    struct cv_str missing[POLICY_MAX_MISSING];
    size_t nmissing;
};

/*
 * Decides @p req. @p identity lists the caller's identity policies (its
 * inline policies; ignored unless the caller is an IAM user), @p bucket the
 * bucket policy (NULL when none). A policy of the wrong type in either place
 * is ignored. Never fails, never allocates.
 */
void policy_decide(const struct policy_request *req, const struct policy *const *identity,
                   size_t nidentity, const struct policy *bucket, struct policy_result *res);

/** "allowed", "explicitDeny", "implicitDeny" (the simulator's words). Static. */
const char *policy_decision_str(enum policy_decision d);
/** A one-line explanation of @p r. Static. */
const char *policy_reason_str(enum policy_reason r);

/*
 * Fills the principal keys of IAM.md §3.3 for @p p into @p out (at least 5
 * slots) using @p vals (at least 5 slots) as value storage: aws:username
 * (users), aws:userid (users with user_id set), aws:PrincipalArn (signed),
 * aws:PrincipalAccount ("anonymous" for anonymous callers), aws:PrincipalType
 * ("User", "Account", "Anonymous"). Returns the number filled. The views
 * borrow @p p and static strings.
 */
size_t policy_principal_keys(const struct policy_principal *p, struct policy_ctx_key *out,
                             struct cv_str *vals);

/* ------------------------------------------------------------- checking */

enum policy_severity {
    POLICY_ERROR = 0,
    POLICY_SECURITY_WARNING,
    POLICY_WARNING,
    POLICY_SUGGESTION,
};

struct policy_finding {
    enum policy_severity severity;
    const char *code;   /* static: "INVALID_ACTION", ... */
    char *message;      /* owned by the findings list */
    char *path;         /* owned: "Statement[0].Action[1]", "" for the document */
    unsigned line, col; /* 1-based position of that element in the text */
};

struct policy_findings {
    struct policy_finding *items; /* owned */
    size_t n, cap;
};

#define POLICY_FINDINGS_INIT                                                                       \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/*
 * Checks @p text as a policy of @p type offline (IAM.md §5, Access Analyzer
 * style) and appends findings in document order. @p bucket (may be NULL)
 * enables the other-bucket check for bucket policies. Every document that
 * policy_parse() would reject (principal existence aside: that is the
 * store's to answer) gets at least one POLICY_ERROR finding.
 * Returns CV_OK or CV_ENOMEM (the list is then released).
 */
CV_WUR cv_err policy_check(const char *text, size_t len, enum policy_type type, const char *bucket,
                           struct policy_findings *out);
/** Frees the findings. Accepts an empty or NULL list. */
void policy_findings_release(struct policy_findings *f);
/** "ERROR", "SECURITY_WARNING", "WARNING", "SUGGESTION". Static. */
const char *policy_severity_str(enum policy_severity s);

/* -------------------------------------------------------------- locating */

/*
 * Positions of the elements of a JSON document, for reports: path ->
 * start/end line:column. Paths look like "Statement[0].Action[1]"; object
 * members are located at their key. Built on demand by the checker and the
 * simulator, never by the decision path.
 */
struct policy_locmap;
CV_WUR cv_err policy_locmap_build(const char *text, size_t len, struct policy_locmap **out);
/** Looks up @p path; false when absent. Lines and columns are 1-based. */
bool policy_locmap_find(const struct policy_locmap *m, const char *path, unsigned *line,
                        unsigned *col, unsigned *end_line, unsigned *end_col);
void policy_locmap_free(struct policy_locmap *m);

/* ----------------------------------------------------------- generating */

/*
 * Generates the product guide's two policies in the AWS Policy Generator
 * shape: Version 2012-10-17, Id "Policy<ms>", Sid "Stmt<ms>", 2-space
 * indentation, where ms is @p clock's Unix milliseconds.
 *  - the user (identity) policy: Allow s3:ListBucket on arn:aws:s3:::BUCKET
 *    (no Id: identity policies may not carry one);
 *  - the bucket policy: Allow s3:PutObject, s3:PutObjectAcl on the
 *    bucket's objects ("arn:aws:s3:::BUCKET/" then "*") to @p user_arn.
 * Appends to @p user_policy and @p bucket_policy. CV_EINVAL when @p bucket
 * is not a valid bucket name or @p user_arn is not arn:aws:iam::ACCT:user/NAME.
 */
CV_WUR cv_err policy_generate(const char *bucket, const char *user_arn,
                              const struct cv_clock *clock, struct cv_buf *user_policy,
                              struct cv_buf *bucket_policy);

#endif
