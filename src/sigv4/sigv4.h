/*
 * sigv4: AWS Signature Version 4, one implementation used by the client to
 * sign and by the store to verify.
 *
 *  - header auth (Authorization: AWS4-HMAC-SHA256 ...) and presigned query
 *    auth (X-Amz-Algorithm=... in the query);
 *  - canonical request / string to sign exactly as AWS builds them, with the
 *    generic-service rules (path normalisation, double encoding) behind flags
 *    and the S3 rules (no normalisation, single encoding) as the default;
 *  - aws-chunked bodies: signed chunks, signed trailer, unsigned payload with
 *    trailer (what @aws-sdk/client-s3 sends for stream bodies);
 *  - checksums CRC32, CRC32C, SHA-1, SHA-256, CRC64NVME;
 *  - a thread-safe cache of derived signing keys.
 *
 * Verification is on the hot path of every store request: it allocates
 * nothing when given a warm scratch buffer and a warm key cache.
 *
 * All struct cv_str fields in this header are borrowed views into memory the
 * caller owns (the request); they are valid as long as that memory is.
 */
#ifndef CV_SIGV4_H
#define CV_SIGV4_H

#include "base/base.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define SIGV4_STREAMING_SIGNED "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
#define SIGV4_STREAMING_SIGNED_TRAILER "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
#define SIGV4_STREAMING_UNSIGNED_TRAILER "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
#define SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/* Largest allowed clock skew for header auth: 15 minutes. */
#define SIGV4_MAX_SKEW_S 900
/* Presigned X-Amz-Expires range. */
#define SIGV4_MAX_EXPIRES_S 604800

/* One request header as received (name in any case, value untrimmed). */
struct sigv4_header {
    struct cv_str name, value;
};

/* A request, as the signer or the verifier sees it. */
struct sigv4_request {
    struct cv_str method;               /* "GET" */
    struct cv_str raw_path;             /* as on the wire, percent-encoded, no query: "/b/a%20b" */
    struct cv_str raw_query;            /* as on the wire, without '?': "prefix=a&max-keys=2" */
    const struct sigv4_header *headers; /* borrowed; all headers of the request */
    size_t nheaders;
    /*
     * The payload hash line of the canonical request: the x-amz-content-sha256
     * value for S3 ("UNSIGNED-PAYLOAD", a streaming value, or hex SHA-256);
     * for other services the hex SHA-256 of the body. Presigned S3 requests
     * without the header use UNSIGNED-PAYLOAD.
     */
    struct cv_str payload_hash;
};

enum sigv4_flags {
    /* Generic-service rules (the aws-c-auth / botocore suites with
     * normalize=true): remove dot segments and collapse '//' in the path. */
    SIGV4_NORMALIZE_PATH = 1 << 0,
    /* Generic-service rules: URI-encode the (already encoded) path again.
     * S3 encodes once: leave both flags off for S3. */
    SIGV4_DOUBLE_ENCODE = 1 << 1,
    /* Presigned requests: X-Amz-Security-Token is added to the query after
     * signing and left out of the canonical query (some non-S3 services; the
     * suites' post-sts-header-after case). S3 signs the token: leave off. */
    SIGV4_QUERY_TOKEN_UNSIGNED = 1 << 2,
};

enum sigv4_auth_kind {
    SIGV4_AUTH_NONE = 0, /* anonymous: no Authorization header, no X-Amz-Algorithm */
    SIGV4_AUTH_HEADER,
    SIGV4_AUTH_QUERY,
};

struct sigv4_scope {
    struct cv_str date;    /* "20130524" */
    struct cv_str region;  /* "us-east-1"; may be empty ("AKID/20261127//iam/aws4_request") */
    struct cv_str service; /* "s3", "iam", "sts" */
};

/*
 * What sigv4_parse() found in a request. Views borrow from the request, as on
 * the wire: for a presigned query, credential and signed_headers keep their
 * percent-encoding ("AKID%2F2013...", "host%3Bx-amz-date"); access_key_id and
 * the scope parts never need decoding (a '%' in them is rejected).
 */
struct sigv4_parsed {
    enum sigv4_auth_kind kind;
    struct cv_str access_key_id;
    struct sigv4_scope scope;
    struct cv_str credential;     /* the whole "AKID/date/region/service/aws4_request" */
    struct cv_str signed_headers; /* "host;x-amz-date", as given */
    uint8_t signature[CV_SHA256_LEN];
    struct cv_str signature_hex; /* as given */
    struct cv_str amz_date;      /* "20130524T000000Z": X-Amz-Date header/param, or Date header */
    int64_t request_time;        /* amz_date in Unix seconds */
    int64_t expires;             /* presigned: X-Amz-Expires seconds; header auth: 0 */
    /* X-Amz-Security-Token, if any, as on the wire: percent-encoded when it
     * came in a presigned query (use sigv4_security_token() for the value). */
    struct cv_str security_token;
};

/**
 * Finds and parses the request's authentication (Authorization header or
 * presigned query). kind NONE with CV_OK means anonymous. Errors:
 * CV_S3_AUTH_HEADER_MALFORMED (also: credential date not the request's day,
 * two Authorization headers), CV_S3_AUTH_QUERY_ERROR (missing/bad/repeated
 * presign params or X-Amz-Expires out of 1..604800),
 * CV_S3_MISSING_SECURITY_HEADER (no X-Amz-Date or Date), CV_S3_ACCESS_DENIED
 * (a date header that does not parse: "AWS authentication requires a valid
 * Date or x-amz-date header"), CV_S3_INVALID_ARGUMENT (Authorization header
 * and X-Amz-Algorithm together), CV_EUNSUPPORTED (SigV2 "AWS AKID:sig", SigV2
 * presigned, or another algorithm). @p errmsg (may be NULL) receives a human
 * detail. On error *out is zeroed (kind NONE).
 */
CV_WUR cv_err sigv4_parse(const struct sigv4_request *req, struct sigv4_parsed *out, char *errmsg,
                          size_t errlen);

/**
 * Checks the request time: header auth within SIGV4_MAX_SKEW_S of @p now_s
 * (else CV_S3_REQUEST_TIME_TOO_SKEWED); presigned: CV_S3_NOT_YET_VALID if
 * request_time is more than the skew in the future, CV_S3_EXPIRED_PRESIGNED
 * once request_time + expires has passed.
 */
CV_WUR cv_err sigv4_check_time(const struct sigv4_parsed *p, int64_t now_s);

/** Appends the session token (percent-decoded for a presigned query) to @p out. */
CV_WUR cv_err sigv4_security_token(const struct sigv4_parsed *p, struct cv_buf *out);

/**
 * The timestamp line of the string to sign: p->amz_date when it is an
 * X-Amz-Date, else request_time formatted (a request dated by "Date:").
 */
void sigv4_amz_date(const struct sigv4_parsed *p, char out[17]);

/**
 * Formats "date/region/service/aws4_request" into @p out (NUL-terminated).
 * Returns its length, or 0 when it does not fit in @p cap.
 */
size_t sigv4_scope_format(const struct sigv4_scope *scope, char *out, size_t cap);

/* A derived signing key kSigning, kept as HMAC midstates. */
struct sigv4_signing_key {
    struct cv_hmac_sha256_key mac;
};

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request"). */
void sigv4_derive_key(struct sigv4_signing_key *out, struct cv_str secret,
                      const struct sigv4_scope *scope);

/**
 * Appends the canonical request to @p out. Signed headers are taken from
 * p->signed_headers (verify) or, when p is NULL, every header of the request
 * in sorted order (sign). For a presigned request X-Amz-Signature is left
 * out of the canonical query.
 */
CV_WUR cv_err sigv4_canonical_request(const struct sigv4_request *req, const struct sigv4_parsed *p,
                                      unsigned flags, struct cv_buf *out);

/** Appends the string to sign for @p canonical_request to @p out. */
CV_WUR cv_err sigv4_string_to_sign(struct cv_str amz_date, const struct sigv4_scope *scope,
                                   struct cv_str canonical_request, struct cv_buf *out);

/**
 * Verifies @p p against @p key. @p scratch is reset and reused (keep one per
 * thread to avoid allocation). CV_OK, or CV_S3_SIGNATURE_DOES_NOT_MATCH (a
 * constant-time compare), or CV_S3_AUTH_HEADER_MALFORMED when a signed
 * header is missing from the request; CV_ENOMEM/CV_ETOOBIG from the scratch
 * buffer; CV_EINVAL for kind NONE. On mismatch, @p scratch holds the
 * canonical request, a NUL, then the string to sign (for the error XML).
 * The payload line is req->payload_hash; when empty: the x-amz-content-sha256
 * header, else UNSIGNED-PAYLOAD (presigned) or the SHA-256 of "" (header).
 */
CV_WUR cv_err sigv4_verify(const struct sigv4_request *req, const struct sigv4_parsed *p,
                           const struct sigv4_signing_key *key, unsigned flags,
                           struct cv_buf *scratch);

/* ------------------------------------------------------------ key cache */

struct sigv4_key_cache;

/**
 * Returns owned (free with sigv4_key_cache_free). @p capacity entries (rounded
 * up to 16 stripes x 4 ways). Errors: CV_ENOMEM, CV_EINTERNAL (mutex init).
 */
CV_WUR cv_err sigv4_key_cache_new(size_t capacity, struct sigv4_key_cache **out);
void sigv4_key_cache_free(struct sigv4_key_cache *c);
/**
 * Looks up (access key id, secret, scope) and derives on a miss. A changed
 * secret for the same key id never returns the stale key. Thread-safe; a hit
 * allocates nothing and takes one striped mutex. Fields too long for an
 * entry (akid/secret > 128, region/service > 64) are derived uncached.
 */
void sigv4_key_cache_get(struct sigv4_key_cache *c, struct cv_str access_key_id,
                         struct cv_str secret, const struct sigv4_scope *scope,
                         struct sigv4_signing_key *out);

/* ---------------------------------------------------------------- signing */

struct sigv4_credentials {
    struct cv_str access_key_id, secret, session_token; /* session_token may be empty */
};

/**
 * Signs @p req for header auth. The request's headers must already include
 * host, x-amz-date (= @p amz_date) and, for S3, x-amz-content-sha256 (and
 * x-amz-security-token when there is a session token); every header given is
 * signed. Appends the Authorization header value to @p authorization.
 * Errors: CV_EINVAL (amz_date not "YYYYMMDDTHHMMSSZ", no headers, an empty
 * header name), CV_ENOMEM, CV_ETOOBIG. Derives the key on every call.
 */
CV_WUR cv_err sigv4_sign(const struct sigv4_request *req, const struct sigv4_credentials *cred,
                         struct cv_str region, struct cv_str service, struct cv_str amz_date,
                         unsigned flags, struct cv_buf *authorization);

/**
 * Presigns: appends to @p query_out the complete query string (the request's
 * own raw_query parameters plus X-Amz-Algorithm, -Credential, -Date,
 * -Expires, -SignedHeaders[, -Security-Token] and -Signature), ready to put
 * after '?'. Signs the "host" header (which must be in req->headers) and any
 * other headers given. Payload is UNSIGNED-PAYLOAD.
 */
CV_WUR cv_err sigv4_presign(const struct sigv4_request *req, const struct sigv4_credentials *cred,
                            struct cv_str region, struct cv_str service, struct cv_str amz_date,
                            int64_t expires_s, struct cv_buf *query_out);

/**
 * sigv4_presign() for any service: @p flags as for sigv4_sign()
 * (SIGV4_QUERY_TOKEN_UNSIGNED adds the token after signing); the payload line
 * is req->payload_hash, or UNSIGNED-PAYLOAD when that is empty. Errors:
 * CV_EINVAL (bad amz_date, expires outside 1..604800), CV_ENOMEM, CV_ETOOBIG.
 */
CV_WUR cv_err sigv4_presign_ex(const struct sigv4_request *req,
                               const struct sigv4_credentials *cred, struct cv_str region,
                               struct cv_str service, struct cv_str amz_date, int64_t expires_s,
                               unsigned flags, struct cv_buf *query_out);

/* ------------------------------------------------------------- checksums */

enum sigv4_checksum_algo {
    SIGV4_CK_NONE = 0,
    SIGV4_CK_CRC32,
    SIGV4_CK_CRC32C,
    SIGV4_CK_SHA1,
    SIGV4_CK_SHA256,
    SIGV4_CK_CRC64NVME,
};
#define SIGV4_CK_B64_MAX 48 /* base64 of the largest digest + NUL */

struct sigv4_checksum {
    enum sigv4_checksum_algo algo;
    union {
        uint32_t crc32;
        uint64_t crc64;
        struct cv_sha1 sha1;
        struct cv_sha256 sha256;
    } u;
};

void sigv4_checksum_init(struct sigv4_checksum *c, enum sigv4_checksum_algo algo);
void sigv4_checksum_update(struct sigv4_checksum *c, const void *data, size_t len);
/** Writes the base64 of the digest (what the x-amz-checksum-* header carries). */
void sigv4_checksum_final(struct sigv4_checksum *c, char out[SIGV4_CK_B64_MAX]);
/** "x-amz-checksum-crc32" (any case) -> SIGV4_CK_CRC32; NONE if not a checksum header. */
enum sigv4_checksum_algo sigv4_checksum_from_header(struct cv_str name);
/** "CRC32" (x-amz-checksum-algorithm / x-amz-sdk-checksum-algorithm values). */
enum sigv4_checksum_algo sigv4_checksum_from_name(struct cv_str name);
/** "x-amz-checksum-crc32"; static; NULL for SIGV4_CK_NONE. */
const char *sigv4_checksum_header(enum sigv4_checksum_algo algo);
/** "CRC32"; static; NULL for SIGV4_CK_NONE. */
const char *sigv4_checksum_name(enum sigv4_checksum_algo algo);

/* --------------------------------------------------------- aws-chunked */

enum sigv4_stream_mode {
    SIGV4_STREAM_SIGNED = 1,      /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD */
    SIGV4_STREAM_SIGNED_TRAILER,  /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER */
    SIGV4_STREAM_UNSIGNED_TRAILER /* STREAMING-UNSIGNED-PAYLOAD-TRAILER */
};

/**
 * The signature of one aws-chunked chunk (hex into @p out): HMAC of
 * "AWS4-HMAC-SHA256-PAYLOAD\n<amz_date>\n<scope>\n<prev_sig>\n<sha256 of "">\n
 * <hex sha256 of the chunk data>". @p scope: "date/region/service/aws4_request".
 * Used by the decoder, and by a client that sends signed chunks.
 */
void sigv4_chunk_signature(const struct sigv4_signing_key *key, struct cv_str amz_date,
                           struct cv_str scope, struct cv_str prev_sig,
                           const uint8_t data_sha256[CV_SHA256_LEN], char out[65]);
/**
 * The trailer signature: HMAC of "AWS4-HMAC-SHA256-TRAILER\n<amz_date>\n<scope>\n
 * <prev_sig>\n<hex sha256 of the canonical trailer>", where the canonical
 * trailer is each trailer line as "name:value\n" (e.g.
 * "x-amz-checksum-crc32:sOO8/Q==\n") and prev_sig the final (0-size) chunk's.
 */
void sigv4_trailer_signature(const struct sigv4_signing_key *key, struct cv_str amz_date,
                             struct cv_str scope, struct cv_str prev_sig,
                             const uint8_t trailer_sha256[CV_SHA256_LEN], char out[65]);

/** Maps an x-amz-content-sha256 value to a stream mode; 0 when not streaming. */
enum sigv4_stream_mode sigv4_stream_mode_of(struct cv_str content_sha256);

/* Called with each run of decoded payload bytes. A non-OK return aborts. */
typedef cv_err (*sigv4_data_cb)(void *ud, const char *data, size_t len);

#define SIGV4_MAX_TRAILERS 4

/*
 * A streaming aws-chunked decoder: feed it the wire body in pieces of any
 * size; it verifies each chunk signature (signed modes), the trailer
 * signature (signed trailer), and the checksum trailer against the decoded
 * data, and passes the payload on. Memory is constant in the body size.
 * Decoded bytes reach the callback as they arrive, before the signature of
 * their chunk (or the trailer checksum) is checked: keep them provisional
 * until sigv4_chunked_finish() returns CV_OK.
 *
 * Wire forms accepted (lines end in CRLF; sizes are hex, at most 16 digits
 * and 5 GiB; a line longer than the line buffer is an error):
 *   signed:            SIZE;chunk-signature=SIG CRLF DATA CRLF ... 0;chunk-signature=SIG CRLF CRLF
 *   signed trailer:    ... 0;chunk-signature=SIG CRLF NAME:VALUE CRLF
 *                      x-amz-trailer-signature:SIG CRLF CRLF
 *   unsigned trailer:  SIZE CRLF DATA CRLF ... 0 CRLF NAME:VALUE CRLF CRLF
 * A trailer line must name the checksum declared in x-amz-trailer. One empty
 * line between the final chunk and the trailers is tolerated when a trailer
 * is declared.
 * Decoding errors: CV_S3_INVALID_CHUNK (framing), CV_S3_SIGNATURE_DOES_NOT_MATCH
 * (chunk/trailer signature), CV_S3_BAD_CHECKSUM (trailer checksum mismatch),
 * CV_S3_INCOMPLETE_BODY (ended early).
 */
struct sigv4_chunked {
    enum sigv4_stream_mode mode;
    int state;
    uint64_t chunk_left;    /* bytes of chunk data still to come */
    uint64_t decoded_total; /* payload bytes passed on so far */
    struct sigv4_signing_key key;
    char amz_date[17];
    char scope[128];   /* "20130524/us-east-1/s3/aws4_request" */
    char prev_sig[65]; /* hex; the seed signature at first */
    char chunk_sig[65];
    struct cv_sha256 chunk_hash;
    struct sigv4_checksum checksum; /* of the decoded data, when a trailer is declared */
    char line[512];                 /* chunk header / trailer line being assembled */
    size_t line_len;
    struct {
        char name[64];
        char value[SIGV4_CK_B64_MAX + 16];
    } trailers[SIGV4_MAX_TRAILERS];
    size_t ntrailers;
    struct cv_buf
        trailer_text; /* canonical trailer text for the trailer signature (signed trailer mode) */
    /* Added by the implementation (internal, like the fields above). */
    cv_err err;                        /* sticky: once set, every call returns it */
    enum sigv4_checksum_algo declared; /* the x-amz-trailer checksum, if any */
    bool blank_seen;                   /* a lone CRLF before the trailers (tolerated once) */
    bool trailer_sig_seen;
};

/**
 * Sets up the decoder. @p key, @p p: the request's signing key and parsed
 * auth (seed signature, date, scope); both unused (may be NULL) for
 * SIGV4_STREAM_UNSIGNED_TRAILER. @p trailer: the x-amz-trailer header value
 * (e.g. "x-amz-checksum-crc32"), empty if none.
 */
/* Errors of init: CV_EINVAL (bad mode, missing key/auth for a signed mode,
 * x-amz-trailer not one checksum header, or a trailer with the plain signed
 * mode). */
CV_WUR cv_err sigv4_chunked_init(struct sigv4_chunked *d, enum sigv4_stream_mode mode,
                                 const struct sigv4_signing_key *key, const struct sigv4_parsed *p,
                                 struct cv_str trailer);
/** Feeds wire bytes; decoded data goes to @p cb. */
CV_WUR cv_err sigv4_chunked_feed(struct sigv4_chunked *d, const char *data, size_t len,
                                 sigv4_data_cb cb, void *ud);
/** Call at end of body: CV_OK only if the final chunk (and trailer) arrived and verified. */
CV_WUR cv_err sigv4_chunked_finish(struct sigv4_chunked *d);
/**
 * The checksum trailer received and verified, if any: algo and its base64
 * value (borrowed; valid until sigv4_chunked_release).
 */
enum sigv4_checksum_algo sigv4_chunked_checksum(const struct sigv4_chunked *d, const char **b64);
void sigv4_chunked_release(struct sigv4_chunked *d);

#endif
