/*
 * store: the embedded S3-compatible store.
 *
 * One data directory holds everything:
 *   DIR/meta.db            SQLite (WAL): accounts, keys, buckets, objects, uploads
 *   DIR/objects/XX/ID      object bodies too large to keep inline, named by random id
 *   DIR/tmp/               bodies being received; emptied at start-up
 *   DIR/master.key         0600, AES-256 key that encrypts IAM secrets at rest
 *   DIR/root-credentials   0600, the first account's root keys (AWS credentials format)
 *   DIR/endpoint           the URL the running server listens on (written at start)
 *
 * Request flow: read head -> authenticate (SigV4) -> authorize -> operate
 * (stream the body while hashing; make it durable; commit metadata) ->
 * respond (XML). A denied or malformed request never touches storage.
 */
#ifndef CV_STORE_H
#define CV_STORE_H

#include "base/base.h"

struct store;

struct store_limits {
    size_t max_header_bytes;    /* request head, bytes (default 16 KiB) */
    size_t max_key_bytes;       /* 1024 */
    size_t max_meta_bytes;      /* user metadata, 2 KiB */
    uint64_t max_put_bytes;     /* single PUT, 5 GiB */
    uint64_t max_part_bytes;    /* one part, 5 GiB */
    unsigned max_parts;         /* 10000 */
    size_t max_xml_body;        /* request XML bodies (DeleteObjects, ...) */
    unsigned max_connections;   /* concurrent connections */
    unsigned idle_timeout_s;    /* idle connection timeout */
    unsigned min_body_rate;     /* bytes/s a slow client must sustain (0 = off) */
    size_t inline_max;          /* bodies up to this size live in SQLite */
};

struct store_config {
    const char *data_dir;      /* borrowed */
    const char *listen_host;   /* borrowed; "127.0.0.1" */
    unsigned listen_port;      /* 0 = ephemeral */
    const char *region;        /* borrowed; "us-east-1" */
    const char *domains;       /* borrowed; comma list of virtual-host base domains */
    const struct cv_clock *clock;
    struct store_limits limits;
    bool quiet;                /* no access log */
    /* Object Ownership of buckets created without x-amz-object-ownership:
     * "BucketOwnerEnforced" (default, as AWS since 2023), "BucketOwnerPreferred"
     * or "ObjectWriter". Borrowed. */
    const char *default_object_ownership;
    /* Buckets created from now on get no PublicAccessBlockConfiguration
     * (`--default-public-access-block off`); by default they get all four
     * settings true, as AWS since 2023. */
    bool no_default_public_access_block;
};

/** Fills @p cfg with the defaults. */
void store_config_defaults(struct store_config *cfg);

/**
 * Opens (creating on first use) the data directory: schema, master key, the
 * first account and its root credentials, temp-file and orphan clean-up.
 * Returns owned (free with store_close). @p errmsg gets a human detail.
 */
CV_WUR cv_err store_open(const struct store_config *cfg, struct store **out, char *errmsg,
                         size_t errlen);
/** Starts serving HTTP on the configured address (background threads). */
CV_WUR cv_err store_start(struct store *st, char *errmsg, size_t errlen);
/** The port actually bound (after store_start). */
unsigned store_port(const struct store *st);
/** Stops serving (waits for in-flight requests) and closes everything. NULL ok. */
void store_close(struct store *st);

/**
 * Account administration (the CLI's `caravel store accounts|credentials`).
 * Works on a store that is not serving, or on one that is (SQLite locking).
 */
struct store_root_credentials {
    char account_id[13];
    char account_name[65];
    char canonical_id[65]; /* the S3 canonical user id (Owner ID in listings) */
    char access_key_id[21];
    char secret[129];
};
/** The first (default) account's root credentials. */
CV_WUR cv_err store_default_credentials(struct store *st, struct store_root_credentials *out);
/**
 * Creates an account named @p name with a root key. When @p akid and
 * @p secret are given (both non-NULL) they are imported instead of generated.
 */
CV_WUR cv_err store_account_add(struct store *st, const char *name, const char *akid,
                                const char *secret, struct store_root_credentials *out,
                                char *errmsg, size_t errlen);

/** An IAM user's identity and access key (store_user_add). */
struct store_user_credentials {
    char account_id[13];
    char user_name[65];
    char user_id[32];
    char access_key_id[21];
    char secret[129];
};
/**
 * Creates IAM user @p name in the account named @p account with one access
 * key (imported when @p akid and @p secret are both given, else generated).
 * With @p policy_doc (borrowed, an identity policy) it also creates the
 * customer managed policy NAME-policy and attaches it to the user.
 */
CV_WUR cv_err store_user_add(struct store *st, const char *account, const char *name,
                             const char *akid, const char *secret, const char *policy_doc,
                             size_t doclen, struct store_user_credentials *out, char *errmsg,
                             size_t errlen);

#endif
