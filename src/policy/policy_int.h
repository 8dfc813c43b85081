/*
 * policy: module-private structures. The compiled form of a policy lives in
 * one arena per policy; nothing in it is freed separately.
 */
#ifndef CV_POLICY_INT_H
#define CV_POLICY_INT_H

#include "policy/policy.h"

/* ------------------------------------------------------------- helpers */

static inline int policy_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

/* True when the first @p n bytes of @p s equal @p p case-insensitively. */
static inline bool policy_prefix_ci(struct cv_str s, const char *p, size_t n)
{
    size_t i;

    if (s.len < n) {
        return false;
    }
    for (i = 0; i < n; i++) {
        if (policy_lower((unsigned char)s.ptr[i]) != policy_lower((unsigned char)p[i])) {
            return false;
        }
    }
    return true;
}

/* --------------------------------------------------------------- table */

#define POLICY_ACTION_WORDS 2

enum policy_s3_key {
    /* Keys every S3 action supports. */
    PK_AUTH_TYPE,
    PK_RESOURCE_ACCOUNT,
    PK_SIGNATURE_AGE,
    PK_SIGNATURE_VERSION,
    PK_TLS_VERSION,
    PK_CONTENT_SHA256,
    PK_AP_NETWORK_ORIGIN,
    PK_DATA_AP_ACCOUNT,
    PK_DATA_AP_ARN,
    /* Per-action keys. */
    PK_PREFIX,
    PK_DELIMITER,
    PK_MAX_KEYS,
    PK_EXISTING_OBJECT_TAG,
    PK_REQUEST_OBJECT_TAG,
    PK_REQUEST_OBJECT_TAG_KEYS,
    PK_X_AMZ_ACL,
    PK_GRANT_FULL_CONTROL,
    PK_GRANT_READ,
    PK_GRANT_READ_ACP,
    PK_GRANT_WRITE,
    PK_GRANT_WRITE_ACP,
    PK_COPY_SOURCE,
    PK_METADATA_DIRECTIVE,
    PK_SSE,
    PK_SSE_KMS_KEY_ID,
    PK_SSE_CUSTOMER_ALGORITHM,
    PK_STORAGE_CLASS,
    PK_WEBSITE_REDIRECT,
    PK_OBJECT_LOCK_MODE,
    PK_OBJECT_LOCK_RETAIN_UNTIL,
    PK_OBJECT_LOCK_REMAINING_DAYS,
    PK_OBJECT_LOCK_LEGAL_HOLD,
    PK_VERSIONID,
    PK_LOCATION_CONSTRAINT,
    PK_OBJECT_OWNERSHIP,
    PK_IF_MATCH,
    PK_IF_NONE_MATCH,
    PK__COUNT
};
#define PK_BIT(k) ((uint64_t)1 << (k))

struct policy_action_def {
    const char *name; /* canonical spelling, "s3:GetObject" */
    enum policy_resource_type rtype;
    uint64_t keys; /* PK_BIT set of the per-action keys */
};

struct policy_key_def {
    const char *name; /* canonical spelling; prefix keys end in '/' */
    bool prefix;      /* "s3:ExistingObjectTag/<tag>" */
    bool common;      /* supported by every S3 action */
};

extern const struct policy_action_def policy_actions[];
extern const size_t policy_nactions;
extern const struct policy_key_def policy_s3_keys[PK__COUNT];

/* Index into policy_s3_keys of an s3: key (case-insensitive), or -1. */
int policy_s3_key_find(struct cv_str key);
/* Index of a known aws: key, or -1; *multi tells multi-valued keys. */
int policy_aws_key_find(struct cv_str key, bool *multi);
bool policy_key_multivalued(struct cv_str key);
bool policy_key_known_single(struct cv_str key);
bool policy_action_supports_key(int id, int s3key);

/* ---------------------------------------------------------------- arena */

struct policy_arena_block;
struct policy_arena {
    struct policy_arena_block *head;
};
void *policy_arena_alloc(struct policy_arena *a, size_t n);
/* Copies @p s (NUL-terminated) into the arena; NULL on ENOMEM. */
char *policy_arena_strndup(struct policy_arena *a, const char *s, size_t n);
void policy_arena_release(struct policy_arena *a);

/* ------------------------------------------------------------- patterns */

enum pseg_kind { PSEG_LIT, PSEG_STAR, PSEG_QMARK, PSEG_VAR };

struct pseg {
    uint8_t kind;
    uint8_t vi; /* VAR: index among the pattern's variables */
    bool has_def;
    struct cv_str s;   /* LIT: the text; VAR: the key name as written */
    struct cv_str def; /* VAR: default value */
};

enum ppat_shape {
    PSHAPE_EXACT,  /* one literal (or empty) */
    PSHAPE_PREFIX, /* literal then a single trailing '*' */
    PSHAPE_ANY,    /* "*" */
    PSHAPE_GENERAL,
};

/* Most variables one pattern may hold (more: the text is taken literally). */
#define PPAT_MAX_VARS 16

struct ppat {
    const struct pseg *segs;
    uint32_t nsegs;
    uint8_t shape;
    uint8_t nvars;
    struct cv_str lit; /* EXACT/PREFIX: the literal part */
};

enum ppat_flags {
    PPAT_WILD = 1 << 0, /* '*' and '?' are wildcards */
    PPAT_VARS = 1 << 1, /* ${...} policy variables are recognised */
};

/* Compiles @p text into @p out; the segments borrow @p text, which must live
 * as long as the pattern (the arena copy of the document). */
CV_WUR cv_err ppat_compile(struct policy_arena *a, struct cv_str text, unsigned flags,
                           struct ppat *out);
/* Matches; false when a variable has no value. @p ci folds ASCII case. */
bool ppat_match(const struct ppat *p, struct cv_str text, const struct policy_request *req,
                bool ci);
/* True when the pattern can match some text containing no '/' (a bucket). */
bool ppat_can_match_without_slash(const struct ppat *p);
/* True when the pattern can match some text containing a '/' (an object). */
bool ppat_can_match_with_slash(const struct ppat *p);
/* Plain glob on strings (no variables). */
bool policy_glob(struct cv_str pat, struct cv_str text, bool ci);

/* Variable syntax problems, for the checker. */
enum pvar_issue {
    PVAR_OK = 0,
    PVAR_MISSING_BRACE,
    PVAR_EMPTY,
    PVAR_SPACE,
    PVAR_MISSING_QUOTE,
};
/*
 * Parses the variable starting at text[i] == '$', text[i+1] == '{'. On
 * success returns PVAR_OK, *end = index after '}', and the key / default.
 * *escape is the literal char for ${*} ${?} ${$}, else 0.
 */
enum pvar_issue policy_var_parse(struct cv_str text, size_t i, size_t *end, struct cv_str *key,
                                 struct cv_str *def, bool *has_def, char *escape);

/* Looks up a request key (case-insensitive); NULL when absent. */
const struct policy_ctx_key *policy_req_key(const struct policy_request *req, struct cv_str name);

/* ----------------------------------------------------------- ARN views */

/* Splits at the first five colons; false with fewer than five. */
bool policy_arn_split(struct cv_str arn, struct cv_str c[6]);

/* --------------------------------------------------------- conditions */

enum pcond_op {
    COP_STR_EQ,
    COP_STR_EQ_IC,
    COP_STR_LIKE,
    COP_NUM_EQ,
    COP_NUM_LT,
    COP_NUM_LE,
    COP_NUM_GT,
    COP_NUM_GE,
    COP_DATE_EQ,
    COP_DATE_LT,
    COP_DATE_LE,
    COP_DATE_GT,
    COP_DATE_GE,
    COP_BOOL,
    COP_BIN_EQ,
    COP_IP,
    COP_ARN,
    COP_NULL,
};

enum pcond_set { CSET_NONE = 0, CSET_ANY, CSET_ALL };

enum pcond_family {
    CFAM_STRING,
    CFAM_NUMERIC,
    CFAM_DATE,
    CFAM_BOOL,
    CFAM_BINARY,
    CFAM_IP,
    CFAM_ARN,
    CFAM_NULL
};

struct pcond_opname {
    uint8_t op;
    bool neg;
};
/* Parses "ForAnyValue:StringNotLikeIfExists" etc.; false when unknown. */
bool policy_cond_op_parse(struct cv_str name, uint8_t *op, bool *neg, uint8_t *set, bool *ifexists);
enum pcond_family policy_cond_family(uint8_t op);

struct pdec {
    bool neg;
    struct cv_str ip, fp; /* integer digits without leading zeros, fraction without
                             trailing zeros */
};
CV_WUR bool policy_dec_parse(struct cv_str s, struct pdec *out);
int policy_dec_cmp(const struct pdec *a, const struct pdec *b);

struct pcidr {
    uint8_t family; /* 4 or 6 */
    uint8_t bits;
    uint8_t addr[16];
};
CV_WUR bool policy_cidr_parse(struct cv_str s, struct pcidr *out);
/* Parses a request address (IPv4, IPv6, IPv4-mapped IPv6). */
CV_WUR bool policy_ip_parse(struct cv_str s, struct pcidr *out);
bool policy_cidr_contains(const struct pcidr *net, const struct pcidr *ip);
/* ISO-8601 or epoch seconds -> Unix ms. */
CV_WUR bool policy_date_parse(struct cv_str s, int64_t *ms);

struct pval {
    bool ok;          /* the policy value parsed for the operator's family */
    struct ppat pat;  /* string family */
    struct ppat *arn; /* ARN family: six component patterns */
    struct pdec dec;  /* numeric */
    int64_t ms;       /* date */
    bool b;           /* bool, null */
    struct cv_str bin;
    struct pcidr ip;
};

struct pcond {
    uint8_t op, set;
    bool neg, ifexists;
    struct cv_str key; /* as written in the policy */
    const struct pval *vals;
    uint32_t nvals;
};

/* Evaluates one condition entry; notes absent keys in @p res (may be NULL). */
bool policy_cond_eval(const struct pcond *c, const struct policy_request *req,
                      struct policy_result *res);

/* --------------------------------------------------------- statements */

enum pprin_kind {
    PPRIN_ANY,
    PPRIN_ACCOUNT,
    PPRIN_USER_ARN,
    PPRIN_USER_ID,
    PPRIN_CANONICAL,
    PPRIN_NEVER
};

struct pprin {
    uint8_t kind;
    struct cv_str v;
};

struct pres {
    bool any;             /* Resource "*" */
    bool literal_prefix;  /* the first five ARN components have no wildcard or variable */
    struct cv_str prefix; /* "arn:aws:s3:::" including the fifth colon */
    struct ppat *comps;   /* five patterns when !literal_prefix */
    struct ppat tail;     /* the resource part (after the fifth colon) */
};

struct pacts {
    uint64_t bits[POLICY_ACTION_WORDS];
    const struct cv_str *pats; /* every pattern, for names not in the table */
    uint32_t npats;
};

enum pstmt_prin { PSP_NONE = 0, PSP_PRINCIPAL, PSP_NOT_PRINCIPAL };

struct pstmt {
    bool deny, not_action, not_resource;
    uint8_t prin_mode;
    struct pacts acts;
    const struct pres *res;
    uint32_t nres;
    const struct pprin *prin;
    uint32_t nprin;
    const struct pcond *conds;
    uint32_t nconds;
    struct cv_str sid;
};

struct policy {
    enum policy_type type;
    bool v2012;
    char *name;
    struct pstmt *stmts;
    size_t nstmts;
    struct policy_arena arena;
};

/* --------------------------------------------------------- validation */

/* Shared with the checker. */
enum pprin_parse {
    PPRIN_OK,
    PPRIN_BAD,     /* malformed */
    PPRIN_SERVICE, /* Service / Federated principal: not supported */
};
/* Classifies one "AWS" principal string. */
enum pprin_parse policy_principal_classify(struct cv_str s, struct pprin *out);
/* Valid action syntax: "*" or "vendor:name" with [A-Za-z0-9*?] names. */
bool policy_action_syntax_ok(struct cv_str a, bool *has_vendor);
/* Fills @p bits with the table actions matched by @p pat; returns the count. */
size_t policy_action_expand(struct cv_str pat, uint64_t bits[POLICY_ACTION_WORDS]);
/* jansson set-up (allocation through cv_malloc) and its allocation-failure flag. */
void policy_json_init(void);
bool policy_json_oom(void);
/* IAM's allowed characters: U+0009, U+000A, U+000D, U+0020-U+00FF. */
bool policy_iam_chars_ok(const char *text, size_t len);

/* Valid S3 bucket name (IAM.md §4 naming rules). */
bool policy_bucket_name_ok(struct cv_str b);

#endif
