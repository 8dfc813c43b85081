/*
 * The HTTP front of the store, on libmicrohttpd.
 *
 * One thread per connection (handlers block on SQLite and on the group
 * commit), a connection limit, idle timeouts, a cap on the request head.
 * MHD hands us the raw request-target through the URI log callback: SigV4
 * needs the path and query exactly as the client sent them, so MHD's own
 * unescaping is switched off and the target is parsed here.
 *
 * Lifecycle of a request (struct store_req, one arena):
 *   uri_log_cb      allocate, keep the raw target
 *   first call      headers -> parse target -> authenticate -> route ->
 *                   precheck -> body-less ops run now
 *   body calls      stream through the aws-chunked decoder and hashes into
 *                   a blob writer or a small buffer
 *   last call       verify digests, make the body durable, run the op
 *   completed_cb    free everything (an unfinished body file is removed)
 */
#include "store_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static atomic_uint_least64_t req_counter;
static uint64_t req_seed;

/* ------------------------------------------------------------- helpers */

struct cv_str req_header(const struct store_req *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->nheaders; i++) {
        if (cv_str_eq_ci_c(r->headers[i].name, name)) {
            return r->headers[i].value;
        }
    }
    return CV_STR_NULL;
}

bool req_has_header(const struct store_req *r, const char *name)
{
    return req_header(r, name).ptr != NULL;
}

const struct query_param *req_param(const struct store_req *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->nparams; i++) {
        if (cv_str_eq_c(r->params[i].name, name)) {
            return &r->params[i];
        }
    }
    return NULL;
}

bool req_has_param(const struct store_req *r, const char *name)
{
    return req_param(r, name) != NULL;
}

cv_err resp_header(struct store_req *r, const char *name, const char *value)
{
    char *v;

    if (r->resp.nheaders >= CV_ARRAY_LEN(r->resp.headers)) {
        return CV_ETOOBIG;
    }
    v = cv_arena_strndup(&r->arena, value, strlen(value));
    if (!v) {
        return CV_ENOMEM;
    }
    r->resp.headers[r->resp.nheaders].name = name;
    r->resp.headers[r->resp.nheaders].value = v;
    r->resp.nheaders++;
    return CV_OK;
}

cv_err resp_headerf(struct store_req *r, const char *name, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    return resp_header(r, name, tmp);
}

static void resource_of(const struct store_req *r, struct cv_buf *b)
{
    cv_err err = CV_OK;

    if (r->bucket.len) {
        err = cv_buf_addf(b, "/%.*s", (int)r->bucket.len, r->bucket.ptr);
        if (!err && r->has_key) {
            err = cv_buf_addc(b, '/');
            if (!err) {
                err = cv_buf_add(b, r->key.ptr, r->key.len);
            }
        }
    } else {
        err = cv_buf_adds(b, "/");
    }
    CV_UNUSED(err);
}

void resp_error(struct store_req *r, cv_err code, const char *msg, ...)
{
    struct cv_buf *b = &r->resp.body;
    struct cv_buf res = CV_BUF_INIT(4096);
    va_list ap;
    const char *name;
    cv_err err;

    if (r->op == OP_IAM_QUERY) {
        iam_error(r, code, msg); /* IAM/STS callers get their API's error shape */
        return;
    }
    cv_buf_release(b);
    cv_buf_init(b, 1 << 20);
    r->resp.stream = false;
    r->resp.status = cv_err_http_status(code);
    r->resp.content_type = "application/xml";
    r->err = code;
    resource_of(r, &res);
    err = cv_buf_addf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
    if (!err) {
        err = xml_elemc(b, "Code", cv_err_wire_code(code));
    }
    if (!err) {
        err = xml_elemc(b, "Message", msg ? msg : cv_err_str(code));
    }
    va_start(ap, msg);
    for (name = va_arg(ap, const char *); name && !err; name = va_arg(ap, const char *)) {
        const char *val = va_arg(ap, const char *);
        err = xml_elemc(b, name, val ? val : "");
    }
    va_end(ap);
    if (!err && res.ptr) {
        err = xml_elem(b, "Resource", res.ptr, res.len);
    }
    if (!err) {
        err = xml_elemc(b, "RequestId", r->request_id);
    }
    if (!err) {
        err = xml_elemc(b, "HostId", r->host_id);
    }
    if (!err) {
        err = cv_buf_adds(b, "</Error>");
    }
    if (err) {
        cv_buf_release(b);
    }
    cv_buf_release(&res);
}

/* ----------------------------------------------------- target parsing */

static cv_err parse_query(struct store_req *r)
{
    struct cv_str q = r->raw_query, part, rest;
    size_t n = 1, i, k = 0;
    struct cv_buf tmp = CV_BUF_INIT(1 << 16);
    cv_err err = CV_OK;

    if (!q.len) {
        return CV_OK;
    }
    for (i = 0; i < q.len; i++) {
        n += q.ptr[i] == '&';
    }
    r->params = cv_arena_alloc(&r->arena, n * sizeof(*r->params));
    if (!r->params) {
        return CV_ENOMEM;
    }
    while (q.len && !err) {
        struct cv_str name, value;
        bool has_value;

        cv_str_split(q, '&', &part, &rest);
        q = rest;
        if (!part.len) {
            continue;
        }
        has_value = cv_str_split(part, '=', &name, &value);
        cv_buf_reset(&tmp);
        err = cv_uri_decode(&tmp, name, true);
        if (err) {
            break;
        }
        r->params[k].name.ptr = cv_arena_strndup(&r->arena, tmp.ptr ? tmp.ptr : "", tmp.len);
        r->params[k].name.len = tmp.len;
        cv_buf_reset(&tmp);
        err = cv_uri_decode(&tmp, value, true);
        if (err) {
            break;
        }
        r->params[k].value.ptr = cv_arena_strndup(&r->arena, tmp.ptr ? tmp.ptr : "", tmp.len);
        r->params[k].value.len = tmp.len;
        r->params[k].has_value = has_value;
        if (!r->params[k].name.ptr || !r->params[k].value.ptr) {
            err = CV_ENOMEM;
            break;
        }
        k++;
    }
    r->nparams = k;
    cv_buf_release(&tmp);
    return err == CV_EPARSE ? CV_S3_INVALID_URI : err;
}

/* "bucket.localhost:9000" with domain "localhost" -> "bucket". */
static struct cv_str virtual_bucket(const struct store *st, struct cv_str host)
{
    struct cv_str h = host, none = CV_STR_NULL, tail;
    ptrdiff_t colon;
    size_t i;

    /* Strip the port (not for bracketed IPv6 literals). */
    if (h.len && h.ptr[0] != '[') {
        colon = cv_str_find(h, ':');
        if (colon >= 0) {
            h.len = (size_t)colon;
        }
    }
    for (i = 0; i < st->ndomains; i++) {
        size_t dl = strlen(st->domains[i]);
        if (h.len <= dl + 1 || h.ptr[h.len - dl - 1] != '.') {
            continue;
        }
        tail.ptr = h.ptr + h.len - dl;
        tail.len = dl;
        if (cv_str_eq_ci(tail, cv_str_c(st->domains[i]))) {
            struct cv_str b = {h.ptr, h.len - dl - 1};
            return b;
        }
    }
    return none;
}

static cv_err parse_target(struct store_req *r)
{
    struct cv_str path, vb;
    struct cv_buf dec = CV_BUF_INIT(1 << 16);
    cv_err err;

    if (!r->raw_uri.len || r->raw_uri.ptr[0] != '/') {
        return CV_S3_INVALID_URI;
    }
    cv_str_split(r->raw_uri, '?', &r->raw_path, &r->raw_query);
    err = parse_query(r);
    if (err) {
        return err;
    }
    path = r->raw_path;
    vb = virtual_bucket(r->st, req_header(r, "host"));
    if (vb.len) {
        r->virtual_host = true;
        r->bucket = vb;
        path.ptr++; /* skip the leading '/' */
        path.len--;
    } else {
        struct cv_str b, rest;
        path.ptr++;
        path.len--;
        if (cv_str_split(path, '/', &b, &rest)) {
            path = rest;
            r->has_key = true;
        } else {
            path.ptr += path.len;
            path.len = 0;
        }
        err = cv_uri_decode(&dec, b, false);
        if (err) {
            goto out;
        }
        r->bucket.ptr = cv_arena_strndup(&r->arena, dec.ptr ? dec.ptr : "", dec.len);
        r->bucket.len = dec.len;
        cv_buf_reset(&dec);
        if (!r->bucket.ptr) {
            err = CV_ENOMEM;
            goto out;
        }
        if (!r->has_key) {
            goto out;
        }
    }
    /* An empty key after "bucket/" means the bucket itself. */
    if (path.len == 0) {
        r->has_key = false;
        goto out;
    }
    r->has_key = true;
    err = cv_uri_decode(&dec, path, false);
    if (err) {
        goto out;
    }
    r->key.ptr = cv_arena_strndup(&r->arena, dec.ptr ? dec.ptr : "", dec.len);
    r->key.len = dec.len;
    if (!r->key.ptr) {
        err = CV_ENOMEM;
    }
out:
    cv_buf_release(&dec);
    return err == CV_EPARSE ? CV_S3_INVALID_URI : err;
}

/* --------------------------------------------------------- responses */

/*
 * Bodies kept in files are sent by reading them into a block of up to
 * STREAM_BLOCK bytes that MHD sends from, not with sendfile: on loopback
 * and on this kind of virtual machine, 1 MiB read()+send() ran at 1.7x
 * sendfile's rate (about 80 % of a plain socket copy against 50 %; see
 * docs/internals/bench.md), since sendfile hands TCP page references that
 * the receiver then copies out of cold page-cache pages one 4 KiB fragment
 * at a time. The blocks are bounded: past STREAM_BUFFERS_MAX responses at
 * once, a single-file body falls back to sendfile, which needs no memory.
 */
#define STREAM_BLOCK ((uint64_t)1 << 20)
#define STREAM_BUFFERS_MAX 32u
#define STREAM_SMALL_BLOCK ((uint64_t)256 << 10)

/* Takes one of @p max units counted in @p used; false when none is left. */
static bool units_take(atomic_uint *used, unsigned max)
{
    if (atomic_fetch_add(used, 1u) < max) {
        return true;
    }
    atomic_fetch_sub(used, 1u);
    return false;
}

struct seg_reader {
    struct store *st;
    bool counted; /* holds one of st->stream_buffers */
    const char *dir;
    struct store_segment *segs; /* copied */
    size_t nsegs, cur;
    uint64_t seg_off; /* offset inside the current segment */
    uint64_t left;
    int fd;
};

static ssize_t seg_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct seg_reader *sr = cls;
    size_t want;

    CV_UNUSED(pos);
    if (sr->left == 0) {
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    while (sr->cur < sr->nsegs && sr->seg_off >= sr->segs[sr->cur].size) {
        sr->seg_off -= sr->segs[sr->cur].size;
        sr->cur++;
        if (sr->fd >= 0) {
            close(sr->fd);
            sr->fd = -1;
        }
    }
    if (sr->cur < sr->nsegs && sr->fd < 0 && sr->segs[sr->cur].fd >= 0) {
        sr->fd = sr->segs[sr->cur].fd; /* opened early by the handler */
        sr->segs[sr->cur].fd = -1;
    }
    if (sr->cur >= sr->nsegs) {
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    {
        struct store_segment *s = &sr->segs[sr->cur];
        uint64_t avail = s->size - sr->seg_off;
        want = max;
        if (want > avail) {
            want = (size_t)avail;
        }
        if (want > sr->left) {
            want = (size_t)sr->left;
        }
        if (s->mem) {
            memcpy(buf, (const char *)s->mem + sr->seg_off, want);
        } else {
            ssize_t n;
            if (sr->fd < 0 && blob_open(sr->dir, cv_str_c(s->file), &sr->fd) != CV_OK) {
                return MHD_CONTENT_READER_END_WITH_ERROR;
            }
            n = pread(sr->fd, buf, want, (off_t)sr->seg_off);
            if (n <= 0) {
                return MHD_CONTENT_READER_END_WITH_ERROR;
            }
            want = (size_t)n;
        }
    }
    sr->seg_off += want;
    sr->left -= want;
    return (ssize_t)want;
}

static void seg_free(void *cls)
{
    struct seg_reader *sr = cls;
    size_t i;

    if (sr->counted) {
        atomic_fetch_sub(&sr->st->stream_buffers, 1u);
    }
    if (sr->fd >= 0) {
        close(sr->fd);
    }
    for (i = 0; i < sr->nsegs; i++) {
        cv_free(sr->segs[i].mem);
        if (sr->segs[i].fd >= 0) {
            close(sr->segs[i].fd);
        }
    }
    cv_free(sr->segs);
    cv_free(sr);
}

static ssize_t empty_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    CV_UNUSED(cls);
    CV_UNUSED(pos);
    CV_UNUSED(buf);
    CV_UNUSED(max);
    return MHD_CONTENT_READER_END_OF_STREAM;
}

/* One file's body by sendfile from the right offset (needs no buffer). */
static struct MHD_Response *file_response(struct store_req *r)
{
    struct store_resp *sp = &r->resp;
    struct MHD_Response *resp;
    int fd = sp->segs[0].fd;

    if (fd < 0 && blob_open(r->st->data_dir, cv_str_c(sp->segs[0].file), &fd) != CV_OK) {
        return NULL;
    }
    sp->segs[0].fd = -1; /* MHD closes it */
    resp = MHD_create_response_from_fd_at_offset64(sp->stream_len, fd, sp->stream_off);
    if (!resp) {
        close(fd);
    }
    return resp;
}

/* Builds the MHD response for a streamed body. Takes the segments' memory. */
static struct MHD_Response *stream_response(struct store_req *r, bool head)
{
    struct store_resp *sp = &r->resp;
    struct seg_reader *sr;
    struct MHD_Response *resp = NULL;
    uint64_t block = CV_MIN(sp->stream_len, STREAM_BLOCK);
    bool counted = false;
    size_t i;

    if (head || sp->stream_len == 0) {
        return MHD_create_response_from_callback(sp->stream_len, 4096, empty_read, NULL, NULL);
    }
    /* One inline body (small objects): hand MHD the buffer itself. */
    if (sp->nsegs == 1 && sp->segs[0].mem) {
        struct store_segment *sg = &sp->segs[0];
        if (sp->stream_off == 0 && sp->stream_len == sg->size) {
            resp = MHD_create_response_from_buffer((size_t)sp->stream_len, sg->mem,
                                                   MHD_RESPMEM_MUST_FREE);
            if (resp) {
                sg->mem = NULL; /* MHD frees it (cv_malloc is malloc) */
            }
        } else {
            resp = MHD_create_response_from_buffer(
                (size_t)sp->stream_len, (char *)sg->mem + sp->stream_off, MHD_RESPMEM_MUST_COPY);
        }
        return resp;
    }
    /* A large block is counted against STREAM_BUFFERS_MAX; small ones are
     * cheap and are not. With none to spare, one file goes by sendfile and
     * several (a multipart object) through a small block. */
    if (block > STREAM_SMALL_BLOCK) {
        counted = units_take(&r->st->stream_buffers, STREAM_BUFFERS_MAX);
        if (!counted && sp->nsegs == 1) {
            return file_response(r);
        }
        if (!counted) {
            block = STREAM_SMALL_BLOCK;
        }
    }
    sr = cv_calloc(1, sizeof(*sr));
    if (!sr) {
        if (counted) {
            atomic_fetch_sub(&r->st->stream_buffers, 1u);
        }
        return NULL;
    }
    sr->st = r->st;
    sr->counted = counted; /* seg_free gives it back */
    sr->segs = cv_calloc(sp->nsegs ? sp->nsegs : 1, sizeof(*sr->segs));
    if (!sr->segs) {
        seg_free(sr);
        return NULL;
    }
    memcpy(sr->segs, sp->segs, sp->nsegs * sizeof(*sr->segs));
    for (i = 0; i < sp->nsegs; i++) {
        sp->segs[i].mem = NULL; /* ownership moved */
        sp->segs[i].fd = -1;
    }
    sr->dir = r->st->data_dir;
    sr->nsegs = sp->nsegs;
    sr->seg_off = sp->stream_off;
    sr->left = sp->stream_len;
    sr->fd = -1;
    /* MHD allocates (and clears) a block of this size per response: it is
     * sized to the body for small objects. */
    resp = MHD_create_response_from_callback(sp->stream_len, (size_t)block, seg_read, sr,
                                             seg_free);
    if (!resp) {
        seg_free(sr);
    }
    return resp;
}

static void free_segments(struct store_req *r)
{
    size_t i;

    for (i = 0; i < r->resp.nsegs; i++) {
        cv_free(r->resp.segs[i].mem);
        r->resp.segs[i].mem = NULL;
        if (r->resp.segs[i].fd >= 0) {
            close(r->resp.segs[i].fd);
            r->resp.segs[i].fd = -1;
        }
    }
    r->resp.nsegs = 0;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct store_req *r)
{
    struct store_resp *sp = &r->resp;
    struct MHD_Response *resp;
    bool head = cv_str_eq_c(r->method, "HEAD");
    enum MHD_Result ret;
    size_t i;

    if (!sp->status) {
        resp_error(r, CV_EINTERNAL, NULL, NULL);
    }
    if (sp->stream) {
        resp = stream_response(r, head);
    } else if (head || sp->status == 304 || sp->status == 204) {
        /* HEAD answers carry no body (errors included). */
        resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    } else {
        size_t len = 0;
        char *body = sp->body.ptr ? cv_buf_detach(&sp->body, &len) : NULL;
        resp = body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
                    : MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (!resp) {
            cv_free(body);
        }
    }
    free_segments(r);
    if (!resp) {
        return MHD_NO;
    }
    s3_cors_decorate(r);
    MHD_add_response_header(resp, "x-amz-request-id", r->request_id);
    MHD_add_response_header(resp, "x-amz-id-2", r->host_id);
    MHD_add_response_header(resp, "Server", "Caravel");
    if (sp->content_type) {
        MHD_add_response_header(resp, "Content-Type", sp->content_type);
    }
    for (i = 0; i < sp->nheaders; i++) {
        MHD_add_response_header(resp, sp->headers[i].name, sp->headers[i].value);
    }
    ret = MHD_queue_response(conn, (unsigned)sp->status, resp);
    MHD_destroy_response(resp);
    store_access_log(r);
    return ret;
}

void store_access_log(struct store_req *r)
{
    if (r->st->cfg.quiet) {
        return;
    }
    cv_info("%s %.*s %.*s %d %s %s", r->peer, (int)r->method.len, r->method.ptr,
            (int)CV_MIN(r->raw_path.len, 200), r->raw_path.ptr, r->resp.status,
            r->err ? cv_err_wire_code(r->err) : "-", s3_op_name(r->op));
}

/* ------------------------------------------------------------- bodies */

static cv_err payload_sink(void *ud, const char *data, size_t len)
{
    struct store_req *r = ud;

    if (len == 0) {
        return CV_OK;
    }
    if (r->body_size + len > r->body_max) {
        return r->body_kind == BODY_OBJECT ? CV_S3_ENTITY_TOO_LARGE : CV_S3_MALFORMED_XML;
    }
    if (r->has_decoded_length && r->body_size + len > r->decoded_length) {
        return CV_S3_INVALID_CHUNK;
    }
    r->body_size += len;
    if (r->hasher) {
        hasher_feed(r->hasher, data, len);
        if (r->blob_stream) {
            return CV_OK; /* its disk thread writes the body */
        }
    } else {
        cv_md5_update(&r->md5, data, len);
        if (r->payload_hex) {
            cv_sha256_update(&r->sha, data, len);
        }
        if (r->ck.algo != SIGV4_CK_NONE) {
            sigv4_checksum_update(&r->ck, data, len);
        }
    }
    if (r->body_kind == BODY_OBJECT) {
        return blob_write(&r->blob, data, len);
    }
    return cv_buf_add(&r->xml, data, len);
}

static cv_err req_hasher_finish(struct store_req *r);

static void body_fail(struct store_req *r, cv_err err, const char *msg)
{
    if (!r->body_err) {
        r->body_err = err;
        if (msg) {
            cv_errf(r->body_errmsg, sizeof(r->body_errmsg), "%s", msg);
        }
    }
    if (r->body_kind == BODY_OBJECT) {
        (void)req_hasher_finish(r); /* its disk thread may be writing the file */
        blob_writer_abort(&r->blob);
    }
    r->body_kind = BODY_DISCARD;
}

static void body_feed(struct store_req *r, const char *data, size_t len)
{
    cv_err err;

    r->received += len;
    if (r->body_kind == BODY_DISCARD) {
        return;
    }
    if (r->body_kind == BODY_POST) {
        err = s3_post_feed(r, data, len);
        if (err) {
            body_fail(r, err, s3_post_errmsg(r));
        }
        return;
    }
    if (r->chunked) {
        err = sigv4_chunked_feed(r->chunked, data, len, payload_sink, r);
    } else {
        err = payload_sink(r, data, len);
    }
    if (err) {
        body_fail(r, err == CV_ETOOBIG ? CV_S3_MALFORMED_XML : err, NULL);
    }
}

static bool too_slow(struct store_req *r)
{
    unsigned rate = r->st->cfg.limits.min_body_rate;
    int64_t elapsed;

    if (!rate) {
        return false;
    }
    elapsed = cv_clock_now_ms(r->st->cfg.clock) - r->body_started_ms;
    /* Judge only after a grace period, on the average rate. */
    return elapsed > 30000 && r->received * 1000 / (uint64_t)elapsed < rate;
}

/* Checks the finished body against what the client declared. */
/*
 * A large body is hashed by its own thread beside receiving it (hasher.c),
 * with a ring of HASHER_SLOTS x 1 MiB. At most HASHERS_MAX uploads do so at
 * once, so memory stays bounded however many large uploads arrive; the rest
 * hash inline, as small bodies do.
 */
#define HASHERS_MAX 16u

static void req_hasher_start(struct store_req *r)
{
    struct store *st = r->st;

    r->hasher = NULL; /* hash and write inline unless a thread is free */
    r->blob_stream = false;
    if (!units_take(&st->hashers, HASHERS_MAX)) {
        return;
    }
    /* The body goes to a file anyway: let the pipeline write it too. */
    r->blob_stream = r->decoded_length > r->blob.inline_max && blob_begin_stream(&r->blob) == CV_OK;
    if (hasher_start(&r->hasher, &r->md5, r->payload_hex ? &r->sha : NULL,
                     r->ck.algo != SIGV4_CK_NONE ? &r->ck : NULL,
                     r->blob_stream ? &r->blob : NULL) != CV_OK) {
        atomic_fetch_sub(&st->hashers, 1u);
        r->hasher = NULL;
        if (r->blob_stream) {
            blob_stream_cancel(&r->blob);
            r->blob_stream = false;
        }
    }
}

/* Returns the disk thread's error, if it wrote the body. */
static cv_err req_hasher_finish(struct store_req *r)
{
    cv_err err = CV_OK;

    if (r->hasher) {
        err = hasher_finish(r->hasher);
        r->hasher = NULL;
        atomic_fetch_sub(&r->st->hashers, 1u);
    }
    return err;
}

static cv_err body_verify(struct store_req *r)
{
    uint8_t d[CV_SHA256_LEN];
    cv_err err;

    /* The digests (and a streamed file) are complete once the pipeline
     * has drained. */
    err = req_hasher_finish(r);
    if (r->body_err) {
        return r->body_err;
    }
    if (err) {
        return err;
    }
    if (r->chunked) {
        const char *trailer_ck = NULL;
        err = sigv4_chunked_finish(r->chunked);
        if (err) {
            return err;
        }
        /* A checksum that came in the trailer is what we store. */
        if (sigv4_chunked_checksum(r->chunked, &trailer_ck) != SIGV4_CK_NONE && trailer_ck) {
            cv_errf(r->ck_expect, sizeof(r->ck_expect), "%s", trailer_ck);
        }
    }
    if (r->has_decoded_length && r->body_size != r->decoded_length) {
        return CV_S3_INCOMPLETE_BODY;
    }
    if (r->payload_hex) {
        cv_sha256_final(&r->sha, d);
        if (!cv_ct_equal(d, r->payload_expect, sizeof(d))) {
            return CV_S3_CONTENT_SHA256_MISMATCH;
        }
    }
    return CV_OK;
}

/* ---------------------------------------------------------- MHD glue */

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      size_t key_size, const char *value, size_t value_size)
{
    struct store_req *r = cls;
    struct sigv4_header *h;

    CV_UNUSED(kind);
    if (r->nheaders >= 128) {
        r->head_bytes = SIZE_MAX / 2; /* too many headers: reject below */
        return MHD_NO;
    }
    h = &r->headers[r->nheaders++];
    h->name.ptr = key;
    h->name.len = key_size;
    h->value.ptr = value ? value : "";
    h->value.len = value ? value_size : 0;
    r->head_bytes += key_size + value_size + 4;
    return MHD_YES;
}

static void *uri_log_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct store *st = cls;
    struct store_req *r = cv_calloc(1, sizeof(*r));
    uint64_t n, v;
    const union MHD_ConnectionInfo *ci;

    if (!r) {
        return NULL;
    }
    r->st = st;
    r->arena.block_size = 8192;
    r->now_ms = cv_clock_now_ms(st->cfg.clock);
    r->raw_uri.ptr = cv_arena_strndup(&r->arena, uri, strlen(uri));
    r->raw_uri.len = r->raw_uri.ptr ? strlen(uri) : 0;
    n = atomic_fetch_add(&req_counter, 1) + 1;
    v = (req_seed ^ (n * 0x9E3779B97F4A7C15ull));
    snprintf(r->request_id, sizeof(r->request_id), "%016llX", (unsigned long long)v);
    {
        uint8_t d[CV_SHA256_LEN];
        cv_sha256(&v, sizeof(v), d);
        cv_hex_encode(d, 16, r->host_id);
    }
    cv_buf_init(&r->xml, 0);
    cv_buf_init(&r->resp.body, 1 << 20);
    r->blob.fd = -1;
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET) {
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, r->peer,
                      sizeof(r->peer));
        } else if (sa->sa_family == AF_INET6) {
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                      r->peer, sizeof(r->peer));
        }
    }
    return r;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct store_req *r = *con_cls;

    CV_UNUSED(cls);
    CV_UNUSED(conn);
    CV_UNUSED(toe);
    if (!r) {
        return;
    }
    (void)req_hasher_finish(r);
    if (r->chunked) {
        sigv4_chunked_release(r->chunked);
        cv_free(r->chunked);
    }
    /* A body that never made it into the metadata is removed. */
    blob_writer_abort(&r->blob);
    cv_buf_release(&r->xml);
    cv_buf_release(&r->bucket_policy);
    cv_buf_release(&r->resp.body);
    free_segments(r);
    cv_arena_release(&r->arena);
    cv_free(r);
    *con_cls = NULL;
}

static size_t noop_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    CV_UNUSED(cls);
    CV_UNUSED(c);
    return strlen(s);
}

/* Sets up streaming of the request body; returns false if an error response is set. */
static bool body_begin(struct store_req *r)
{
    struct cv_str cl = req_header(r, "content-length");
    struct cv_str te = req_header(r, "transfer-encoding");
    struct cv_str dl = req_header(r, "x-amz-decoded-content-length");
    const struct store_limits *lim = &r->st->cfg.limits;
    cv_err err;

    r->body_kind = s3_body_kind(r->op);
    r->body_started_ms = cv_clock_now_ms(r->st->cfg.clock);
    if (cl.ptr) {
        if (cv_parse_u64(cl, &r->content_length)) {
            resp_error(r, CV_S3_INVALID_ARGUMENT, "Invalid Content-Length", NULL);
            return false;
        }
        r->has_content_length = true;
    } else if (!te.ptr && r->body_kind == BODY_OBJECT) {
        resp_error(r, CV_S3_MISSING_CONTENT_LENGTH, NULL, NULL);
        return false;
    }
    if (r->stream_mode) {
        if (!dl.ptr || cv_parse_u64(dl, &r->decoded_length)) {
            resp_error(r, CV_S3_MISSING_CONTENT_LENGTH, NULL, NULL);
            return false;
        }
        r->has_decoded_length = true;
        r->chunked = cv_calloc(1, sizeof(*r->chunked));
        if (!r->chunked) {
            resp_error(r, CV_ENOMEM, NULL, NULL);
            return false;
        }
        err = sigv4_chunked_init(r->chunked, r->stream_mode,
                                 r->stream_mode == SIGV4_STREAM_UNSIGNED_TRAILER ? NULL : &r->skey,
                                 r->stream_mode == SIGV4_STREAM_UNSIGNED_TRAILER ? NULL : &r->auth,
                                 req_header(r, "x-amz-trailer"));
        if (err) {
            cv_free(r->chunked);
            r->chunked = NULL;
            resp_error(r, err == CV_EUNSUPPORTED ? CV_S3_INVALID_ARGUMENT : err, NULL, NULL);
            return false;
        }
    } else if (r->has_content_length) {
        r->decoded_length = r->content_length;
        r->has_decoded_length = true;
    }
    cv_md5_init(&r->md5);
    if (r->payload_hex) {
        cv_sha256_init(&r->sha);
    }
    switch (r->body_kind) {
    case BODY_OBJECT:
        r->body_max = r->op == OP_PUT_OBJECT ? lim->max_put_bytes : lim->max_part_bytes;
        if (r->has_decoded_length && r->decoded_length > r->body_max) {
            resp_error(r, CV_S3_ENTITY_TOO_LARGE, NULL, NULL);
            return false;
        }
        blob_writer_init(&r->blob, r->st->data_dir, lim->inline_max);
        if (r->has_decoded_length && r->decoded_length >= HASHER_MIN_BODY) {
            req_hasher_start(r);
        }
        break;
    case BODY_XML:
    case BODY_FORM:
        r->body_max = lim->max_xml_body;
        if (r->has_decoded_length && r->decoded_length > r->body_max) {
            resp_error(r, r->body_kind == BODY_FORM ? CV_IAM_VALIDATION : CV_S3_MALFORMED_XML,
                       "Your request body is too large.", NULL);
            return false;
        }
        cv_buf_init(&r->xml, r->body_max);
        break;
    case BODY_POST:
        if (!s3_post_begin(r)) {
            return false;
        }
        /* body_size counts the file's bytes, not the form's. */
        r->has_decoded_length = false;
        break;
    default:
        break;
    }
    return true;
}

/* Does the request carry a body (that MHD would read after the head)? */
static bool request_has_body(const struct store_req *r)
{
    struct cv_str cl = req_header(r, "content-length");
    uint64_t n = 0;

    if (req_has_header(r, "transfer-encoding")) {
        return true;
    }
    return cl.ptr && (cv_parse_u64(cl, &n) != CV_OK || n > 0);
}

/*
 * Everything that happens on the request head. Returns true when the body
 * is to be read (body_begin done); false when the response is decided.
 */
static bool head_phase(struct store_req *r)
{
    cv_err err;

    if (r->head_bytes + r->raw_uri.len > r->st->cfg.limits.max_header_bytes) {
        resp_error(r, CV_S3_HEADER_TOO_LARGE, NULL, NULL);
        return false;
    }
    err = parse_target(r);
    if (err) {
        resp_error(r, err, NULL, NULL);
        return false;
    }
    r->op = s3_route(r);
    /* A CORS preflight carries no credentials (a presigned URL's signature is
     * for another method): it is answered from the bucket's CORS rules. */
    if (r->op != OP_CORS_PREFLIGHT && r->op != OP_POST_OBJECT && !store_authenticate(r)) {
        return false;
    }
    if (r->op == OP_UNKNOWN) {
        if (!r->resp.status) {
            resp_error(r, CV_S3_NOT_IMPLEMENTED,
                       "The requested operation is not implemented by this store.", NULL);
        }
        return false;
    }
    if (!s3_precheck(r)) {
        return false;
    }
    if (s3_body_kind(r->op) == BODY_NONE) {
        s3_dispatch(r);
        return false;
    }
    return body_begin(r);
}

/*
 * The response is decided on the head. MHD (0.9.75) closes the connection
 * when a response is queued before the request is complete, so a request
 * without a body waits for the next callback (keep-alive preserved); one
 * with a body is answered now and its body never read.
 */
static enum MHD_Result finish_head(struct MHD_Connection *conn, struct store_req *r)
{
    if (request_has_body(r)) {
        return send_response(conn, r);
    }
    r->deferred = true;
    return MHD_YES;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    struct store_req *r = *con_cls;
    cv_err err;

    CV_UNUSED(cls);
    CV_UNUSED(url);
    CV_UNUSED(version);
    if (!r || !r->raw_uri.ptr) {
        return MHD_NO;
    }
    if (!r->started) {
        r->started = true;
        r->method = cv_str_c(method);
        r->headers = cv_arena_alloc(&r->arena, 128 * sizeof(*r->headers));
        if (!r->headers) {
            return MHD_NO;
        }
        MHD_get_connection_values_n(conn, MHD_HEADER_KIND, collect_header, r);
        if (!head_phase(r)) {
            return finish_head(conn, r);
        }
        return MHD_YES; /* the body follows */
    }
    if (r->deferred) {
        return send_response(conn, r);
    }
    if (*upload_data_size) {
        body_feed(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        if (too_slow(r)) {
            cv_warn("store: closing a client sending slower than %u B/s",
                    r->st->cfg.limits.min_body_rate);
            return MHD_NO;
        }
        return MHD_YES;
    }
    /* The whole body is in. */
    err = body_verify(r);
    if (err == CV_ECANCELED && r->resp.status) {
        return send_response(conn, r); /* decided while the body streamed */
    }
    if (err) {
        if (r->body_kind == BODY_OBJECT) {
            blob_writer_abort(&r->blob);
        }
        resp_error(r, err, r->body_errmsg[0] ? r->body_errmsg : NULL, NULL);
        return send_response(conn, r);
    }
    if (r->body_kind == BODY_OBJECT) {
        err = blob_finish(&r->blob);
        if (err) {
            blob_writer_abort(&r->blob);
            resp_error(r, err, NULL, NULL);
            return send_response(conn, r);
        }
    }
    if (r->body_kind == BODY_FORM && !store_authenticate_form(r)) {
        return send_response(conn, r);
    }
    s3_dispatch(r);
    return send_response(conn, r);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) CV_PRINTF(2, 0);
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];

    CV_UNUSED(cls);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    cv_debug("mhd: %s", msg);
}

cv_err store_http_start(struct store *st, char *errmsg, size_t errlen)
{
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    const struct sockaddr *sa;
    const union MHD_DaemonInfo *di;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG;
    const struct store_limits *lim = &st->cfg.limits;
    uint8_t seed[8];

    if (cv_random_bytes(seed, sizeof(seed)) == CV_OK) {
        memcpy(&req_seed, seed, sizeof(seed));
    }
    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));
    if (inet_pton(AF_INET, st->cfg.listen_host, &sin.sin_addr) == 1) {
        sin.sin_family = AF_INET;
        sin.sin_port = htons((uint16_t)st->cfg.listen_port);
        sa = (const struct sockaddr *)&sin;
    } else if (inet_pton(AF_INET6, st->cfg.listen_host, &sin6.sin6_addr) == 1) {
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons((uint16_t)st->cfg.listen_port);
        sa = (const struct sockaddr *)&sin6;
        flags |= MHD_USE_IPv6;
    } else {
        cv_errf(errmsg, errlen, "listen address '%s' is not an IP address", st->cfg.listen_host);
        return CV_EINVAL;
    }
    st->mhd = MHD_start_daemon(
        flags, (uint16_t)st->cfg.listen_port, NULL, NULL, access_cb, st, MHD_OPTION_SOCK_ADDR, sa,
        MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, st, MHD_OPTION_NOTIFY_COMPLETED, completed_cb, st,
        MHD_OPTION_UNESCAPE_CALLBACK, noop_unescape, NULL, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)lim->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)lim->idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        /* MHD clears this pool per request: big enough for the head and a
         * good read size, not more. */
        (size_t)(lim->max_header_bytes * 2 + 96 * 1024), MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
        NULL, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, MHD_OPTION_END);
    if (!st->mhd) {
        cv_errf(errmsg, errlen, "cannot listen on %s:%u: %s", st->cfg.listen_host,
                st->cfg.listen_port, strerror(errno));
        return CV_ENET;
    }
    di = MHD_get_daemon_info(st->mhd, MHD_DAEMON_INFO_BIND_PORT);
    st->port = di ? di->port : st->cfg.listen_port;
    return CV_OK;
}

void store_http_stop(struct store *st)
{
    if (st->mhd) {
        MHD_stop_daemon(st->mhd);
        st->mhd = NULL;
    }
}
