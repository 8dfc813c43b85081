/*
 * base: the foundation every other module builds on (curlx-like).
 *
 * Buffers with a size cap, borrowed string views, the allocation hook that
 * tests can make fail, logging, an injectable clock, OpenSSL wrappers and
 * atomic file writes. No dependency on any other Caravel module.
 *
 * Conventions used in every header of the project:
 *  - fallible functions return cv_err (CV_OK on success) and are marked
 *    CV_WUR; results come back through out-parameters;
 *  - pointers in declarations are annotated "borrows", "takes ownership",
 *    "returns owned (free with X)" or "returns borrowed (valid until Y)";
 *  - every destructor accepts NULL.
 */
#ifndef CV_BASE_H
#define CV_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "caravel/err.h"

/* ---------------------------------------------------------------- macros */

#define CV_WUR __attribute__((warn_unused_result))
#define CV_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define CV_UNUSED(x) ((void)(x))
#define CV_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define CV_MIN(a, b) ((a) < (b) ? (a) : (b))
#define CV_MAX(a, b) ((a) > (b) ? (a) : (b))

/* `static` unless the unit-test build is on (curl UNITTEST). */
#ifdef CV_UNIT_TESTS
#define CV_TESTABLE
#else
#define CV_TESTABLE static
#endif

/* SQLite-style defensive checks: true in release, asserted in debug. */
#ifdef NDEBUG
#define ALWAYS(x) (x)
#define NEVER(x) (x)
#else
#include <assert.h>
#define ALWAYS(x) ((x) ? 1 : (assert(0), 0))
#define NEVER(x) ((x) ? (assert(0), 1) : 0)
#endif

/* ------------------------------------------------------------ allocation */

/*
 * All allocations go through these. cv_alloc_fail_after(n) makes the n-th
 * following allocation (0-based) and every one after it fail, so unit tests
 * can sweep n over a parser (curl torture mode). -1 disables it. The counter
 * is process-wide and atomic.
 */
void *cv_malloc(size_t n);
void *cv_calloc(size_t count, size_t size);
void *cv_realloc(void *p, size_t n);
void cv_free(void *p);
/** Returns owned (free with cv_free), or NULL on allocation failure. */
char *cv_strdup(const char *s);
/** Copies @p n bytes and NUL-terminates. Returns owned (cv_free) or NULL. */
char *cv_strndup(const char *s, size_t n);
/** Returns owned copy of @p n bytes (not terminated) or NULL. */
void *cv_memdup(const void *p, size_t n);

void cv_alloc_fail_after(long n);
/** Number of allocations since the last cv_alloc_fail_after() call. */
long cv_alloc_count(void);

/* --------------------------------------------------------------- buffers */

/*
 * A growable byte buffer with a mandatory maximum size (curl dynbuf, git
 * strbuf). Invariants: ptr is NULL or points to cap bytes; len < cap when ptr
 * is set, and ptr[len] == '\0' (always NUL-terminated, binary-safe); len never
 * exceeds max. A failed append releases the buffer (so a caller never keeps a
 * half-built value) and returns CV_ENOMEM or CV_ETOOBIG.
 */
struct cv_buf {
    char *ptr;
    size_t len, cap, max;
};
#define CV_BUF_INIT(maxsize) {NULL, 0, 0, (maxsize)}

void cv_buf_init(struct cv_buf *b, size_t max);
/** Frees the memory; the buffer may be reused (its max is kept). */
void cv_buf_release(struct cv_buf *b);
/** Sets len to 0 and keeps the memory. */
void cv_buf_reset(struct cv_buf *b);
CV_WUR cv_err cv_buf_add(struct cv_buf *b, const void *data, size_t len);
CV_WUR cv_err cv_buf_addc(struct cv_buf *b, char c);
CV_WUR cv_err cv_buf_adds(struct cv_buf *b, const char *s);
CV_WUR cv_err cv_buf_addf(struct cv_buf *b, const char *fmt, ...) CV_PRINTF(2, 3);
CV_WUR cv_err cv_buf_vaddf(struct cv_buf *b, const char *fmt, va_list ap) CV_PRINTF(2, 0);
/** Makes room for @p extra more bytes (plus the terminator). */
CV_WUR cv_err cv_buf_grow(struct cv_buf *b, size_t extra);
/** Truncates to @p len (<= current len). */
void cv_buf_setlen(struct cv_buf *b, size_t len);
/**
 * Hands the memory to the caller: returns owned (free with cv_free), never
 * NULL (an empty buffer yields an allocated ""), or NULL on CV_ENOMEM.
 */
char *cv_buf_detach(struct cv_buf *b, size_t *len);
/** Appends XML-escaped text (&<>"'). */
CV_WUR cv_err cv_buf_add_xml(struct cv_buf *b, const char *s, size_t len);
/** Appends JSON-escaped text without the surrounding quotes. */
CV_WUR cv_err cv_buf_add_json(struct cv_buf *b, const char *s, size_t len);

/* ----------------------------------------------------------- string views */

/* A borrowed, not necessarily terminated, byte range (h2o_iovec_t). */
struct cv_str {
    const char *ptr;
    size_t len;
};
#define CV_STR(lit) ((struct cv_str){(lit), sizeof(lit) - 1})
#define CV_STR_NULL ((struct cv_str){NULL, 0})

struct cv_str cv_str_c(const char *s);
bool cv_str_eq(struct cv_str a, struct cv_str b);
bool cv_str_eq_c(struct cv_str a, const char *b);
bool cv_str_eq_ci(struct cv_str a, struct cv_str b);
bool cv_str_eq_ci_c(struct cv_str a, const char *b);
bool cv_str_starts_with(struct cv_str s, const char *prefix);
/** Strips leading and trailing spaces and tabs. */
struct cv_str cv_str_trim(struct cv_str s);
/** Byte-wise comparison like memcmp, shorter first on a common prefix. */
int cv_str_cmp(struct cv_str a, struct cv_str b);
/** Index of the first @p c in @p s, or -1. */
ptrdiff_t cv_str_find(struct cv_str s, char c);
/**
 * Splits @p s at the first @p sep: *head gets the part before, *tail the part
 * after. Returns false (head = s, tail empty) when @p sep is absent.
 */
bool cv_str_split(struct cv_str s, char sep, struct cv_str *head, struct cv_str *tail);

/** Parses a decimal unsigned integer, whole string, no sign, no overflow. */
CV_WUR cv_err cv_parse_u64(struct cv_str s, uint64_t *out);
/** Parses a decimal signed integer, whole string, optional '-'. */
CV_WUR cv_err cv_parse_i64(struct cv_str s, int64_t *out);

/** Lower-case hex of @p n bytes into @p out (2n+1 bytes incl. NUL). */
void cv_hex_encode(const uint8_t *in, size_t n, char *out);
/** Decodes exactly 2n hex chars (either case) into @p n bytes. */
CV_WUR cv_err cv_hex_decode(struct cv_str in, uint8_t *out, size_t n);
/** Standard base64 with padding. */
CV_WUR cv_err cv_base64_encode(struct cv_buf *out, const uint8_t *in, size_t n);
/** Strict standard base64 (padding required, no whitespace). */
CV_WUR cv_err cv_base64_decode(struct cv_buf *out, struct cv_str in);

/**
 * URI-encodes per SigV4: unreserved (A-Z a-z 0-9 - _ . ~) kept, every other
 * byte as %XY upper-case; '/' kept when @p keep_slash.
 */
CV_WUR cv_err cv_uri_encode(struct cv_buf *out, struct cv_str in, bool keep_slash);
/**
 * Percent-decodes; '+' becomes ' ' when @p plus_is_space (forms).
 * A malformed escape is CV_EPARSE.
 */
CV_WUR cv_err cv_uri_decode(struct cv_buf *out, struct cv_str in, bool plus_is_space);

/** True when @p s is well-formed UTF-8 (no overlongs, no surrogates). */
bool cv_utf8_valid(const char *s, size_t len);

/* ---------------------------------------------------------------- logging */

enum cv_log_level { CV_LOG_DEBUG, CV_LOG_INFO, CV_LOG_WARN, CV_LOG_ERROR, CV_LOG_OFF };

/** Where log lines go; the default writes "time level msg" lines to stderr. */
typedef void (*cv_log_sink_fn)(enum cv_log_level lvl, const char *msg, void *ud);

void cv_log_set_level(enum cv_log_level lvl);
enum cv_log_level cv_log_get_level(void);
/** @p ud is borrowed and must outlive the sink. NULL restores stderr. */
void cv_log_set_sink(cv_log_sink_fn fn, void *ud);
void cv_log(enum cv_log_level lvl, const char *fmt, ...) CV_PRINTF(2, 3);
#define cv_debug(...) cv_log(CV_LOG_DEBUG, __VA_ARGS__)
#define cv_info(...) cv_log(CV_LOG_INFO, __VA_ARGS__)
#define cv_warn(...) cv_log(CV_LOG_WARN, __VA_ARGS__)
#define cv_error(...) cv_log(CV_LOG_ERROR, __VA_ARGS__)

/* ------------------------------------------------------------------ clock */

/*
 * An injectable clock (Fluent Bit t_now). Time is Unix milliseconds. The
 * system clock is cv_clock_system(); tests pass a fixed or stepping one.
 */
struct cv_clock {
    int64_t (*now_ms)(const struct cv_clock *c);
    int64_t fixed_ms; /* used by cv_clock_fixed() */
};
/** Returns borrowed (static) system clock. */
const struct cv_clock *cv_clock_system(void);
/** Initialises @p c as a clock that always answers @p ms. */
void cv_clock_fixed(struct cv_clock *c, int64_t ms);
static inline int64_t cv_clock_now_ms(const struct cv_clock *c)
{
    return c->now_ms(c);
}
/** Monotonic nanoseconds, for measuring durations only. */
uint64_t cv_monotonic_ns(void);

/* "20130524T000000Z" (16 chars + NUL). */
void cv_time_amz(int64_t unix_s, char out[17]);
/* "2013-05-24T00:00:00.000Z" (24 chars + NUL). */
void cv_time_iso8601_ms(int64_t unix_ms, char out[25]);
/* "Fri, 24 May 2013 00:00:00 GMT" (29 chars + NUL). */
void cv_time_http(int64_t unix_s, char out[30]);
/** Parses "YYYYMMDDTHHMMSSZ". */
CV_WUR cv_err cv_time_parse_amz(struct cv_str s, int64_t *unix_s);
/** Parses RFC 1123 / RFC 850 / asctime HTTP dates. */
CV_WUR cv_err cv_time_parse_http(struct cv_str s, int64_t *unix_s);
/**
 * Parses ISO-8601 / W3C dates: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff]]Z"
 * or with a +HH:MM offset. Result in Unix milliseconds.
 */
CV_WUR cv_err cv_time_parse_iso8601(struct cv_str s, int64_t *unix_ms);
/** Days since 1970-01-01 for a proleptic Gregorian date. */
int64_t cv_days_from_civil(int64_t y, unsigned m, unsigned d);

/* ----------------------------------------------------------------- crypto */

#define CV_SHA256_LEN 32
#define CV_SHA1_LEN 20
#define CV_MD5_LEN 16

/*
 * Streaming hashes on OpenSSL's low-level contexts (SHA-NI / assembler code
 * paths, no allocation, copyable: HMAC keeps midstates). The state is opaque
 * storage sized for OpenSSL's context structs.
 */
struct cv_sha256 {
    union {
        uint64_t align;
        unsigned char opaque[128];
    } u;
};
void cv_sha256_init(struct cv_sha256 *c);
void cv_sha256_update(struct cv_sha256 *c, const void *data, size_t len);
void cv_sha256_final(struct cv_sha256 *c, uint8_t out[CV_SHA256_LEN]);
void cv_sha256(const void *data, size_t len, uint8_t out[CV_SHA256_LEN]);

/*
 * HMAC-SHA256 with precomputed inner/outer midstates: init once per key,
 * then cv_hmac_sha256_key_mac() any number of times cheaply.
 */
struct cv_hmac_sha256_key {
    struct cv_sha256 inner, outer;
};
void cv_hmac_sha256_key_init(struct cv_hmac_sha256_key *k, const void *key, size_t keylen);
void cv_hmac_sha256_key_mac(const struct cv_hmac_sha256_key *k, const void *data, size_t len,
                            uint8_t out[CV_SHA256_LEN]);
void cv_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                    uint8_t out[CV_SHA256_LEN]);

/* MD5 (ETags, Content-MD5) and SHA-1 (the sha1 checksum). */
struct cv_md5 {
    union {
        uint64_t align;
        unsigned char opaque[128];
    } u;
};
void cv_md5_init(struct cv_md5 *c);
void cv_md5_update(struct cv_md5 *c, const void *data, size_t len);
void cv_md5_final(struct cv_md5 *c, uint8_t out[CV_MD5_LEN]);
void cv_md5(const void *data, size_t len, uint8_t out[CV_MD5_LEN]);

struct cv_sha1 {
    union {
        uint64_t align;
        unsigned char opaque[128];
    } u;
};
void cv_sha1_init(struct cv_sha1 *c);
void cv_sha1_update(struct cv_sha1 *c, const void *data, size_t len);
void cv_sha1_final(struct cv_sha1 *c, uint8_t out[CV_SHA1_LEN]);
/** HMAC-SHA1 (legacy S3 POST policy signatures). */
void cv_hmac_sha1(const void *key, size_t keylen, const void *data, size_t len,
                  uint8_t out[CV_SHA1_LEN]);

/* CRC32 (zlib polynomial), CRC32C (Castagnoli), CRC64/NVME. Start with 0. */
uint32_t cv_crc32(uint32_t crc, const void *data, size_t len);
uint32_t cv_crc32c(uint32_t crc, const void *data, size_t len);
uint64_t cv_crc64nvme(uint64_t crc, const void *data, size_t len);

/** Cryptographically strong random bytes. */
CV_WUR cv_err cv_random_bytes(void *out, size_t n);
/** Constant-time comparison; true when equal. */
bool cv_ct_equal(const void *a, const void *b, size_t n);
/** Overwrites memory in a way the compiler keeps. */
void cv_secure_zero(void *p, size_t n);

#define CV_AES_KEY_LEN 32
#define CV_GCM_IV_LEN 12
#define CV_GCM_TAG_LEN 16
/**
 * AES-256-GCM. Output is iv(12) || ciphertext || tag(16), appended to @p out.
 * @p aad may be NULL.
 */
CV_WUR cv_err cv_aead_seal(struct cv_buf *out, const uint8_t key[CV_AES_KEY_LEN],
                           const void *plain, size_t len, const void *aad, size_t aadlen);
/** Opens what cv_aead_seal() produced; CV_ECRYPTO on tampering. */
CV_WUR cv_err cv_aead_open(struct cv_buf *out, const uint8_t key[CV_AES_KEY_LEN],
                           const void *sealed, size_t len, const void *aad, size_t aadlen);

/* --------------------------------------------------------------- files */

/**
 * Writes @p len bytes to @p path atomically and durably: a temp file in the
 * same directory, fsync, rename over @p path, fsync of the directory. Readers
 * see the old content or the new, never a mix. @p mode applies to new files.
 */
CV_WUR cv_err cv_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/** Reads a whole file of at most @p max bytes into @p out (appends). */
CV_WUR cv_err cv_file_read(const char *path, struct cv_buf *out);
/** fsync() of the directory @p dir. */
CV_WUR cv_err cv_dir_sync(const char *dir);
/** mkdir -p with @p mode for the directories it creates. */
CV_WUR cv_err cv_mkdir_p(const char *path, mode_t mode);
/** Writes all of @p len bytes, retrying on EINTR and short writes. */
CV_WUR cv_err cv_write_all(int fd, const void *data, size_t len);
/** Writes at @p off with pwrite, retrying on EINTR and short writes. */
CV_WUR cv_err cv_pwrite_all(int fd, const void *data, size_t len, off_t off);

/* ----------------------------------------------------------------- arena */

/*
 * A bump allocator for per-request memory (h2o's pool): many small
 * allocations, one release. Allocations are 16-byte aligned and go through
 * cv_malloc (so failure injection reaches them). Large requests get their own
 * block. cv_arena_release() frees everything; the arena can then be reused.
 */
struct cv_arena_block;
struct cv_arena {
    struct cv_arena_block *head;
    size_t block_size; /* default block payload size */
    size_t total;      /* bytes handed out, for caps */
};
#define CV_ARENA_INIT(bs) {NULL, (bs), 0}
/** Returns borrowed memory valid until cv_arena_release, or NULL on ENOMEM. */
void *cv_arena_alloc(struct cv_arena *a, size_t n);
/** Copies @p n bytes and NUL-terminates; NULL on ENOMEM. */
char *cv_arena_strndup(struct cv_arena *a, const char *s, size_t n);
void cv_arena_release(struct cv_arena *a);

/* ----------------------------------------------------------- error detail */

/*
 * Formats a human message into a fixed buffer owned by the caller's context
 * (curl failf, sqlite3_errmsg). Truncates; always terminates.
 */
void cv_errf(char *dst, size_t dstlen, const char *fmt, ...) CV_PRINTF(3, 4);

#endif
