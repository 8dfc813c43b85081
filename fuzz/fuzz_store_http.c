/*
 * Fuzzes the store's HTTP request path as a whole: one store runs in this
 * process (started in LLVMFuzzerInitialize on 127.0.0.1, ephemeral port,
 * fixed clock, data under /tmp) and every input becomes one request on a
 * fresh loopback connection.
 *
 * Input: byte 0 picks the mode, the rest is mode-specific.
 *   RAW        the bytes as sent (request line, headers, body: anything)
 *   others     a structured request: byte 1 = method, byte 2 = flags, then
 *              lines: path, query, "name:value" headers, an empty line, body.
 *              A path not starting with '/' is a key in the fuzz bucket.
 *     SIGNED     header auth with the root keys, payload hash of the body
 *     UNSIGNED   header auth, UNSIGNED-PAYLOAD
 *     PRESIGNED  query auth (X-Amz-*)
 *     CHUNKED    aws-chunked, signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)
 *     TRAILER    aws-chunked, unsigned payload with a checksum trailer
 *     ANONYMOUS  no auth at all
 *     FORM       POST / form body signed for IAM or STS
 *
 * Invariants: every answer is a well-formed HTTP response (status line;
 * the body matches Content-Length); a structured request always gets an
 * answer (the server neither drops nor stalls it); a request we signed
 * with clean headers never fails with SignatureDoesNotMatch.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "store/store_int.h"

#define BUCKET "fuzz-bkt"
#define MAXH 48

enum mode { M_RAW, M_SIGNED, M_UNSIGNED, M_PRESIGNED, M_CHUNKED, M_TRAILER, M_ANON, M_FORM, M__N };

static struct store *g_st;
static unsigned g_port;
static struct store_root_credentials g_cred;
static char g_dir[64];
static struct cv_clock g_clock;
static char g_amz[17], g_date[9], g_host[32];
static bool g_verbose; /* FUZZ_STORE_HTTP_VERBOSE=1: one line per structured input */

/*
 * The store keeps one canonical-request scratch buffer per connection
 * thread (auth.c, freed by a pthread key destructor at thread exit). With
 * a thread per connection, libFuzzer's per-input leak check can run while
 * such a thread is exiting, after the sanitizer has retired the thread but
 * before the destructor ran, and report the buffer (not reproducible when
 * the input is replayed). These two allocation sites are that buffer.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:scratch\nleak:sigv4_verify\n";
}

/* ------------------------------------------------------------ transport */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct reply {
    struct cv_buf data;
    bool eof;      /* the server closed the connection */
    bool timedout; /* nothing more within the deadline */
};

/* How long a request may go unanswered before it counts as a stall: 5 s,
 * or CV_FUZZ_DEADLINE_MS on a heavily loaded machine. */
static int answer_deadline_ms(void)
{
    static int ms;

    if (!ms) {
        const char *e = getenv("CV_FUZZ_DEADLINE_MS");
        uint64_t v = 0;
        ms = e && cv_parse_u64(cv_str_c(e), &v) == CV_OK && v > 0 && v < 600000 ? (int)v : 5000;
    }
    return ms;
}

/* Sends @p req on a new connection and reads until the server closes or
 * @p timeout_ms passes. @p half_close shuts our side after sending. */
static void roundtrip(const char *req, size_t len, bool half_close, int timeout_ms,
                      struct reply *out)
{
    struct sockaddr_in sa;
    struct linger lg = {1, 0}; /* RST on close: no TIME_WAIT pile-up */
    struct timeval tv = {1, 0};
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    size_t off = 0;
    int64_t deadline = mono_ms() + timeout_ms;

    cv_buf_init(&out->data, 1 << 24);
    out->eof = out->timedout = false;
    if (fd < 0) {
        abort();
    }
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)g_port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        /* A signal (libFuzzer's timers) may interrupt connect(); the
         * connection then completes asynchronously. */
        int soerr = errno;
        if (errno == EINTR) {
            struct pollfd pw = {fd, POLLOUT, 0};
            socklen_t sl = sizeof(soerr);
            soerr = poll(&pw, 1, 5000) == 1 &&
                            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0
                        ? soerr
                        : ETIMEDOUT;
        }
        if (soerr) {
            fprintf(stderr, "fuzz_store_http: connect: %s\n", strerror(soerr));
            abort();
        }
    }
    /* libFuzzer's -timeout alarm (SIGALRM every timeout/2 + 1 s, so first
     * at 601 s by default) interrupts whatever call is blocked then: every
     * call below retries on EINTR, or a 10-minute run ends on a false
     * "no answer". */
    while (off < len) {
        ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break; /* the server may answer early and close: read what it said */
        }
        off += (size_t)n;
    }
    if (half_close) {
        shutdown(fd, SHUT_WR);
    }
    for (;;) {
        char buf[16384];
        struct pollfd p = {fd, POLLIN, 0};
        int64_t left = deadline - mono_ms();
        ssize_t n;
        int pr;
        if (left <= 0) {
            out->timedout = true;
            break;
        }
        pr = poll(&p, 1, (int)left);
        if (pr < 0 && errno == EINTR) {
            continue;
        }
        if (pr <= 0) {
            out->timedout = true;
            break;
        }
        n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            out->eof = true; /* closed (or reset) */
            break;
        }
        if (cv_buf_add(&out->data, buf, (size_t)n) != CV_OK) {
            abort();
        }
    }
    close(fd);
}

/* A status line at @p p, or -1. */
static int status_line(const char *p, size_t n)
{
    if (n < 13 || (memcmp(p, "HTTP/1.1 ", 9) != 0 && memcmp(p, "HTTP/1.0 ", 9) != 0) ||
        p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9' ||
        (p[12] != ' ' && p[12] != '\r')) {
        return -1;
    }
    return (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
}

/* The Content-Length value in a response head, or -1 if none. */
static int64_t content_length(const char *head, size_t len)
{
    const char *cl = memmem(head, len, "\r\nContent-Length: ", 18);
    const char *v, *e;
    uint64_t want;

    if (!cl) {
        return -1;
    }
    v = cl + 18;
    e = memchr(v, '\r', (size_t)(head + len + 2 - v));
    if (!e || cv_parse_u64((struct cv_str){v, (size_t)(e - v)}, &want) != CV_OK ||
        want > INT64_MAX) {
        fprintf(stderr, "fuzz_store_http: bad Content-Length in a response\n");
        abort();
    }
    return (int64_t)want;
}

/*
 * Status code of the first response, aborting on a malformed one; 0 when
 * nothing came back. Raw inputs may pipeline several requests: every
 * response on the connection is walked, each of the store's own bodies
 * checked against its Content-Length. @p may_head: a HEAD request may be
 * among them (its response announces a length it does not send).
 *
 * libmicrohttpd 0.9.75 answers some request heads it cannot parse (a
 * Content-Length value with stray bytes) itself, and writes that response
 * head twice before the body: not the store's doing, and nothing it can
 * intercept (the request never reaches it). Such answers (no "Server:
 * Caravel") end the walk after their status line.
 */
static int check_response(const struct reply *rp, bool may_head)
{
    const char *p = rp->data.ptr;
    size_t n = rp->data.len, off = 0;
    int first = 0;

    while (off < n) {
        const char *r = p + off, *end, *body;
        size_t left = n - off;
        int status = status_line(r, left);
        int64_t cl;

        if (status < 0) {
            fprintf(stderr, "fuzz_store_http: malformed status line at %zu: %.*s\n", off,
                    (int)CV_MIN(left, 64), r);
            abort();
        }
        if (!first) {
            first = status;
        }
        end = memmem(r, left, "\r\n\r\n", 4);
        if (!end) {
            if (rp->eof) {
                fprintf(stderr, "fuzz_store_http: response head cut short\n");
                abort();
            }
            break;
        }
        body = end + 4;
        off = (size_t)(body - p);
        if (status < 200) {
            if (first == status) {
                first = 0; /* interim: the final answer follows */
            }
            continue;
        }
        if (!memmem(r, (size_t)(end - r), "\r\nServer: Caravel\r\n", 19)) {
            break;
        }
        if (status == 204 || status == 304) {
            continue;
        }
        cl = content_length(r, (size_t)(end - r));
        if (cl < 0) {
            break;
        }
        if (may_head && (n - off == 0 || status_line(body, n - off) > 0)) {
            continue; /* the answer to a HEAD */
        }
        if ((uint64_t)cl > n - off) {
            if (rp->eof) {
                fprintf(stderr, "fuzz_store_http: body %zu bytes, Content-Length %lld\n", n - off,
                        (long long)cl);
                abort();
            }
            break;
        }
        off += (size_t)cl;
    }
    return first;
}

/* ------------------------------------------------------------- requests */

struct hreq {
    const char *method;
    struct cv_buf path, query, body;
    struct sigv4_header h[MAXH + 8];
    size_t nh;
    struct cv_buf hstore; /* header text (stable: sized up front) */
    bool clean;           /* headers simple enough that signing must verify */
};

static void hreq_init(struct hreq *q)
{
    memset(q, 0, sizeof(*q));
    cv_buf_init(&q->path, 1 << 16);
    cv_buf_init(&q->query, 1 << 16);
    cv_buf_init(&q->body, 1 << 20);
    cv_buf_init(&q->hstore, 1 << 20);
    q->clean = true;
}

static void hreq_release(struct hreq *q)
{
    cv_buf_release(&q->path);
    cv_buf_release(&q->query);
    cv_buf_release(&q->body);
    cv_buf_release(&q->hstore);
}

/* Adds a header; the text is copied into hstore, which never moves
 * (grown once to its full size before any header is added). */
static void add_header(struct hreq *q, const char *name, size_t nlen, const char *value,
                       size_t vlen)
{
    char *base;
    if (q->nh >= CV_ARRAY_LEN(q->h) || q->hstore.len + nlen + vlen + 2 > q->hstore.cap) {
        return;
    }
    base = q->hstore.ptr + q->hstore.len;
    memcpy(base, name, nlen);
    base[nlen] = '\0';
    memcpy(base + nlen + 1, value, vlen);
    base[nlen + 1 + vlen] = '\0';
    q->hstore.len += nlen + vlen + 2;
    q->h[q->nh].name = (struct cv_str){base, nlen};
    q->h[q->nh].value = (struct cv_str){base + nlen + 1, vlen};
    q->nh++;
}

static void add_headerc(struct hreq *q, const char *name, const char *value)
{
    add_header(q, name, strlen(name), value, strlen(value));
}

static bool tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Percent-encodes what cannot stand in a request target; '%' stays as is so
 * bad escapes reach the server. @p keep: extra bytes left alone. */
static void add_target(struct cv_buf *b, struct cv_str s, const char *keep)
{
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        cv_err err;
        if (c <= 0x20 || c >= 0x7F || c == '#' || (c == '?' && !strchr(keep, '?')) ||
            (strchr("&=", c) && !strchr(keep, c))) {
            err = cv_buf_addf(b, "%%%02X", c);
        } else {
            err = cv_buf_addc(b, (char)c);
        }
        if (err) {
            return;
        }
    }
}

static bool reserved_header(struct cv_str n)
{
    static const char *const names[] = {
        "host",           "authorization",        "x-amz-date",
        "content-length", "transfer-encoding",    "connection",
        "expect",         "x-amz-content-sha256", "x-amz-decoded-content-length"};
    for (size_t i = 0; i < CV_ARRAY_LEN(names); i++) {
        if (cv_str_eq_ci_c(n, names[i])) {
            return true;
        }
    }
    return false;
}

static struct cv_str next_line(struct cv_str *in)
{
    struct cv_str line, rest;
    if (!cv_str_split(*in, '\n', &line, &rest)) {
        line = *in;
        rest = (struct cv_str){in->ptr + in->len, 0};
    }
    *in = rest;
    return line;
}

/* Parses the structured part of an input into @p q. */
static void parse_structured(uint8_t method, const uint8_t *data, size_t size, struct hreq *q)
{
    static const char *const methods[] = {"GET",  "PUT", "POST", "DELETE",
                                          "HEAD", "GET", "PUT",  "OPTIONS"};
    struct cv_str in = {(const char *)data, size}, line;

    q->method = methods[method % CV_ARRAY_LEN(methods)];
    if (cv_buf_grow(&q->hstore, 1 << 16) != CV_OK) {
        abort();
    }
    line = next_line(&in);
    if (!line.len || line.ptr[0] != '/') {
        if (cv_buf_adds(&q->path, "/" BUCKET "/") != CV_OK) {
            abort();
        }
    }
    add_target(&q->path, line, "&=");
    if (!q->path.ptr && cv_buf_adds(&q->path, "/") != CV_OK) {
        abort();
    }
    line = next_line(&in);
    add_target(&q->query, line, "&=?");
    while (in.len) {
        struct cv_str name, value;
        char nb[128], vb[1024];
        size_t nn = 0, vn = 0;
        bool simple = true;
        line = next_line(&in);
        if (!line.len) {
            break;
        }
        if (!cv_str_split(line, ':', &name, &value)) {
            value = (struct cv_str){"", 0};
        }
        for (size_t i = 0; i < name.len && nn < sizeof(nb); i++) {
            if (tchar((unsigned char)name.ptr[i])) {
                nb[nn++] = name.ptr[i];
            }
        }
        for (size_t i = 0; i < value.len && vn < sizeof(vb); i++) {
            unsigned char c = (unsigned char)value.ptr[i];
            if (c != '\r' && c != '\n' && c != '\0') {
                vb[vn++] = (char)c;
                simple = simple && c > 0x20 && c < 0x7F;
            }
        }
        if (!nn || reserved_header((struct cv_str){nb, nn})) {
            continue;
        }
        for (size_t i = 0; i < q->nh; i++) {
            if (cv_str_eq_ci(q->h[i].name, (struct cv_str){nb, nn})) {
                simple = false; /* duplicates: joined by the server */
            }
        }
        q->clean = q->clean && simple && vn > 0;
        add_header(q, nb, nn, vb, vn);
    }
    if (in.len && cv_buf_add(&q->body, in.ptr, in.len) != CV_OK) {
        abort();
    }
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
    uint8_t d[CV_SHA256_LEN];
    cv_sha256(p, n, d);
    cv_hex_encode(d, CV_SHA256_LEN, out);
    out[64] = '\0';
}

/* Serialises the request with the given extra query and body. */
static void wire(const struct hreq *q, struct cv_str query, struct cv_str body, struct cv_buf *w)
{
    cv_err err =
        cv_buf_addf(w, "%s %.*s%s%.*s HTTP/1.1\r\n", q->method, (int)q->path.len, q->path.ptr,
                    query.len ? "?" : "", (int)query.len, query.ptr ? query.ptr : "");
    for (size_t i = 0; i < q->nh && !err; i++) {
        err = cv_buf_addf(w, "%.*s: %.*s\r\n", (int)q->h[i].name.len, q->h[i].name.ptr,
                          (int)q->h[i].value.len, q->h[i].value.ptr);
    }
    if (!err) {
        err = cv_buf_addf(w, "Content-Length: %zu\r\nConnection: close\r\n\r\n", body.len);
    }
    if (!err && body.len) {
        err = cv_buf_add(w, body.ptr, body.len);
    }
    if (err) {
        abort();
    }
}

static struct sigv4_request sreq(const struct hreq *q)
{
    struct sigv4_request r;
    memset(&r, 0, sizeof(r));
    r.method = cv_str_c(q->method);
    r.raw_path = (struct cv_str){q->path.ptr, q->path.len};
    r.raw_query = (struct cv_str){q->query.ptr ? q->query.ptr : "", q->query.len};
    r.headers = q->h;
    r.nheaders = q->nh;
    return r;
}

/* Header-signs @p q (service s3 unless @p service), adding Authorization;
 * the seed signature goes to @p seed when given. */
static bool sign(struct hreq *q, const char *service, const char *payload_hash, char seed[65])
{
    struct sigv4_credentials cred = {cv_str_c(g_cred.access_key_id), cv_str_c(g_cred.secret),
                                     CV_STR_NULL};
    struct cv_buf auth = CV_BUF_INIT(1 << 16);
    struct sigv4_request r;
    bool ok;

    add_headerc(q, "Host", g_host);
    add_headerc(q, "X-Amz-Date", g_amz);
    add_headerc(q, "X-Amz-Content-Sha256", payload_hash);
    r = sreq(q);
    r.payload_hash = cv_str_c(payload_hash);
    ok = sigv4_sign(&r, &cred, CV_STR("us-east-1"), cv_str_c(service), cv_str_c(g_amz), 0, &auth) ==
         CV_OK;
    if (ok) {
        const char *s = strstr(auth.ptr, "Signature=");
        if (seed && s && strlen(s + 10) >= 64) {
            memcpy(seed, s + 10, 64);
            seed[64] = '\0';
        }
        add_header(q, "Authorization", 13, auth.ptr, auth.len);
    }
    cv_buf_release(&auth);
    return ok;
}

/* aws-chunked framing of @p q->body into @p out; signed chunks when @p key. */
static void frame_chunks(const struct hreq *q, size_t chunk, const struct sigv4_signing_key *key,
                         const char *seed, bool trailer, struct cv_buf *out)
{
    char prev[65], sig[65], scope[64];
    size_t off = 0;
    cv_err err = CV_OK;

    snprintf(scope, sizeof(scope), "%s/us-east-1/s3/aws4_request", g_date);
    if (key) {
        memcpy(prev, seed, 65);
    }
    for (;;) {
        size_t n = CV_MIN(chunk, q->body.len - off);
        if (key) {
            uint8_t h[CV_SHA256_LEN];
            cv_sha256(q->body.ptr ? q->body.ptr + off : "", n, h);
            sigv4_chunk_signature(key, cv_str_c(g_amz), cv_str_c(scope), cv_str_c(prev), h, sig);
            err = cv_buf_addf(out, "%zx;chunk-signature=%s\r\n", n, sig);
            memcpy(prev, sig, 65);
        } else {
            err = cv_buf_addf(out, "%zx\r\n", n);
        }
        if (!err && n) {
            err = cv_buf_add(out, q->body.ptr + off, n);
        }
        if (!err && (n || !trailer)) {
            err = cv_buf_adds(out, "\r\n");
        }
        if (err) {
            abort();
        }
        off += n;
        if (n == 0) {
            break;
        }
    }
    if (trailer) {
        struct sigv4_checksum ck;
        char b64[SIGV4_CK_B64_MAX];
        sigv4_checksum_init(&ck, SIGV4_CK_CRC32);
        sigv4_checksum_update(&ck, q->body.ptr ? q->body.ptr : "", q->body.len);
        sigv4_checksum_final(&ck, b64);
        if (cv_buf_addf(out, "x-amz-checksum-crc32:%s\r\n\r\n", b64) != CV_OK) {
            abort();
        }
    }
}

/* Builds the wire form of a structured input in @p mode. */
static void build(enum mode mode, uint8_t flags, struct hreq *q, struct cv_buf *w)
{
    struct cv_str query = {q->query.ptr ? q->query.ptr : "", q->query.len};
    struct cv_str body = {q->body.ptr ? q->body.ptr : "", q->body.len};
    char hash[65], seed[65] = "";
    struct cv_buf framed = CV_BUF_INIT(1 << 22), pq = CV_BUF_INIT(1 << 17);

    if (flags & 1) {
        char md5b64[32];
        uint8_t d[CV_MD5_LEN];
        struct cv_buf b = CV_BUF_INIT(64);
        cv_md5(body.ptr, body.len, d);
        if (cv_base64_encode(&b, d, sizeof(d)) == CV_OK) {
            snprintf(md5b64, sizeof(md5b64), "%s", b.ptr);
            add_headerc(q, "Content-MD5", md5b64);
        }
        cv_buf_release(&b);
    }
    switch (mode) {
    case M_SIGNED:
        sha256_hex(body.ptr, body.len, hash);
        sign(q, "s3", hash, NULL);
        break;
    case M_UNSIGNED:
        sign(q, "s3", SIGV4_UNSIGNED_PAYLOAD, NULL);
        break;
    case M_PRESIGNED: {
        struct sigv4_credentials cred = {cv_str_c(g_cred.access_key_id), cv_str_c(g_cred.secret),
                                         CV_STR_NULL};
        struct sigv4_request r;
        add_headerc(q, "Host", g_host);
        r = sreq(q);
        if (sigv4_presign(&r, &cred, CV_STR("us-east-1"), CV_STR("s3"), cv_str_c(g_amz),
                          1 + (flags >> 4) * 300, &pq) == CV_OK) {
            query = (struct cv_str){pq.ptr, pq.len};
        }
        break;
    }
    case M_CHUNKED:
    case M_TRAILER: {
        char dl[24];
        bool signed_chunks = mode == M_CHUNKED;
        struct sigv4_signing_key key;
        struct sigv4_scope scope = {cv_str_c(g_date), CV_STR("us-east-1"), CV_STR("s3")};
        snprintf(dl, sizeof(dl), "%zu", body.len);
        add_headerc(q, "Content-Encoding", "aws-chunked");
        add_headerc(q, "X-Amz-Decoded-Content-Length", dl);
        if (!signed_chunks) {
            add_headerc(q, "X-Amz-Trailer", "x-amz-checksum-crc32");
        }
        if (!sign(q, "s3",
                  signed_chunks ? SIGV4_STREAMING_SIGNED : SIGV4_STREAMING_UNSIGNED_TRAILER,
                  seed)) {
            break;
        }
        sigv4_derive_key(&key, cv_str_c(g_cred.secret), &scope);
        frame_chunks(q, 1 + (size_t)(flags >> 2) * 37, signed_chunks ? &key : NULL, seed,
                     !signed_chunks, &framed);
        body = (struct cv_str){framed.ptr, framed.len};
        break;
    }
    case M_FORM:
        q->method = "POST";
        cv_buf_reset(&q->path);
        if (cv_buf_adds(&q->path, "/") != CV_OK) {
            abort();
        }
        query = (struct cv_str){"", 0};
        cv_buf_reset(&q->query);
        add_headerc(q, "Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
        sha256_hex(body.ptr, body.len, hash);
        sign(q, (flags & 2) ? "sts" : "iam", hash, NULL);
        break;
    case M_ANON:
        add_headerc(q, "Host", g_host);
        break;
    default:
        break;
    }
    wire(q, query, body, w);
    cv_buf_release(&framed);
    cv_buf_release(&pq);
}

/* ------------------------------------------------------------- setup */

/* A signed request from the harness itself; returns the status. */
static int admin(const char *method, const char *path, const char *query, const char *body)
{
    struct hreq q;
    struct cv_buf w = CV_BUF_INIT(1 << 20);
    struct reply rp;
    char hash[65];
    int status;

    hreq_init(&q);
    if (cv_buf_grow(&q.hstore, 1 << 16) != CV_OK || cv_buf_adds(&q.path, path) != CV_OK ||
        (query[0] && cv_buf_adds(&q.query, query) != CV_OK) ||
        (body[0] && cv_buf_adds(&q.body, body) != CV_OK)) {
        abort();
    }
    q.method = method;
    sha256_hex(body, strlen(body), hash);
    sign(&q, "s3", hash, NULL);
    wire(&q, (struct cv_str){q.query.ptr ? q.query.ptr : "", q.query.len}, cv_str_c(body), &w);
    roundtrip(w.ptr, w.len, false, 10000, &rp);
    status = check_response(&rp, strcmp(method, "HEAD") == 0);
    cv_buf_release(&rp.data);
    cv_buf_release(&w);
    hreq_release(&q);
    return status;
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    store_close(g_st);
    g_st = NULL;
    if (g_dir[0]) {
        nftw(g_dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct store_config cfg;
    char msg[256] = "";
    int64_t now_ms = 1717243200000; /* 2024-06-01T12:00:00Z */

    (void)argc;
    (void)argv;
    cv_log_set_level(CV_LOG_OFF);
    g_verbose = getenv("FUZZ_STORE_HTTP_VERBOSE") != NULL;
    {
        /* Under /tmp, or $TMPDIR (a tmpfs there makes the fsyncs free). */
        const char *tmp = getenv("TMPDIR");
        snprintf(g_dir, sizeof(g_dir), "%s/cv-fuzz-store-XXXXXX",
                 tmp && tmp[0] && strlen(tmp) < 40 ? tmp : "/tmp");
    }
    if (!mkdtemp(g_dir)) {
        abort();
    }
    cv_clock_fixed(&g_clock, now_ms);
    cv_time_amz(now_ms / 1000, g_amz);
    memcpy(g_date, g_amz, 8);
    g_date[8] = '\0';
    store_config_defaults(&cfg);
    cfg.data_dir = g_dir;
    cfg.listen_port = 0;
    cfg.quiet = true;
    cfg.clock = &g_clock;
    cfg.limits.inline_max = 64; /* larger bodies take the file path */
    cfg.limits.idle_timeout_s = 3;
    if (store_open(&cfg, &g_st, msg, sizeof(msg)) != CV_OK ||
        store_start(g_st, msg, sizeof(msg)) != CV_OK ||
        store_default_credentials(g_st, &g_cred) != CV_OK) {
        fprintf(stderr, "fuzz_store_http: cannot start the store: %s\n", msg);
        abort();
    }
    g_port = store_port(g_st);
    snprintf(g_host, sizeof(g_host), "127.0.0.1:%u", g_port);
    atexit(teardown);
    if (admin("PUT", "/" BUCKET, "", "") != 200 ||
        admin("PUT", "/" BUCKET "/hello.txt", "", "hello, world\n") != 200 ||
        admin("PUT", "/" BUCKET "/dir/a", "",
              "0123456789abcdef0123456789abcdef0123456789abcdef"
              "0123456789abcdef0123456789abcdef") != 200) {
        fprintf(stderr, "fuzz_store_http: cannot create the fuzz bucket\n");
        abort();
    }
    return 0;
}

/* Puts the fuzz bucket back the way the next inputs expect it. */
static void restore(const struct hreq *q)
{
    if (strcmp(q->method, "DELETE") == 0 && admin("HEAD", "/" BUCKET, "", "") == 404) {
        if (admin("PUT", "/" BUCKET, "", "") != 200) {
            abort();
        }
    }
    if (q->query.ptr && strstr(q->query.ptr, "policy")) {
        (void)admin("DELETE", "/" BUCKET, "policy", "");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum mode mode;
    struct reply rp;
    int status;

    if (size < 1) {
        return 0;
    }
    mode = (enum mode)(data[0] % M__N);
    if (mode == M_RAW) {
        roundtrip((const char *)data + 1, size - 1, true, 2000, &rp);
        if (g_verbose) {
            fprintf(stderr, "raw -> %.*s\n", (int)CV_MIN(rp.data.len, 4096),
                    rp.data.ptr ? rp.data.ptr : "");
        }
        (void)check_response(&rp, memmem(data, size, "HEAD", 4) != NULL);
        cv_buf_release(&rp.data);
        return 0;
    }
    {
        struct hreq q;
        struct cv_buf w = CV_BUF_INIT(1 << 23);
        uint8_t method = size > 1 ? data[1] : 0, flags = size > 2 ? data[2] : 0;
        int64_t t0;
        size_t skip = CV_MIN(size, 3);

        hreq_init(&q);
        parse_structured(method, data + skip, size - skip, &q);
        build(mode, flags, &q, &w);
        t0 = mono_ms();
        roundtrip(w.ptr, w.len, false, answer_deadline_ms(), &rp);
        t0 = mono_ms() - t0;
        status = check_response(&rp, strcmp(q.method, "HEAD") == 0);
        if (status == 0) {
            fprintf(stderr, "fuzz_store_http: no answer (%s) to:\n%.*s\n",
                    rp.timedout ? "timed out" : "connection closed", (int)CV_MIN(w.len, 2048),
                    w.ptr);
            abort();
        }
        /* Only an error answer counts: a stored object's body may hold any text. */
        if (q.clean && mode != M_ANON && mode != M_RAW && status == 403 &&
            memmem(rp.data.ptr, rp.data.len, "<Code>SignatureDoesNotMatch</Code>", 34)) {
            fprintf(stderr, "fuzz_store_http: our signature was refused:\n%.*s\n---\n%.*s\n",
                    (int)CV_MIN(w.len, 2048), w.ptr, (int)CV_MIN(rp.data.len, 4096), rp.data.ptr);
            abort();
        }
        if (g_verbose) {
            const char *code = memmem(rp.data.ptr, rp.data.len, "<Code>", 6);
            fprintf(stderr, "%lldms mode %d %s %.*s?%.*s -> %d %.*s\n", (long long)t0, (int)mode,
                    q.method, (int)q.path.len, q.path.ptr, (int)q.query.len,
                    q.query.ptr ? q.query.ptr : "", status, code ? 40 : 0, code ? code + 6 : "");
        }
        cv_buf_release(&rp.data);
        restore(&q);
        cv_buf_release(&w);
        hreq_release(&q);
    }
    return 0;
}
