/*
 * Helpers for the sigv4 tests: reading the suites' files and turning a raw
 * HTTP request text into a struct sigv4_request. Include after test.h.
 */
#ifndef CV_SV_TEST_H
#define CV_SV_TEST_H

#include <dirent.h>
#include <sys/stat.h>

#include "sigv4/sigv4.h"

#define SV_MAX_HEADERS 64

/* A request parsed from text; every view points into text. */
struct sv_req {
    char *text;
    size_t len;
    struct sigv4_header hdrs[SV_MAX_HEADERS];
    size_t nh;
    struct sigv4_request req;
    struct cv_str body;
    char payload_hex[65];
};

/* Reads a whole file; returns owned (free) or NULL when absent. */
static inline char *sv_read_file(const char *path, size_t *len)
{
    struct cv_buf b = CV_BUF_INIT(64 * 1024 * 1024);
    char *out;

    if (cv_file_read(path, &b) != CV_OK) {
        cv_buf_release(&b);
        return NULL;
    }
    out = cv_buf_detach(&b, len);
    return out;
}

static inline char *sv_read_filef(size_t *len, const char *fmt, ...) CV_PRINTF(2, 3);
static inline char *sv_read_filef(size_t *len, const char *fmt, ...)
{
    char path[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    return sv_read_file(path, len);
}

/*
 * Parses "METHOD target HTTP/1.1\nName:value\n[ continuation]\n\nbody".
 * Line ends may be LF or CRLF; the target may contain spaces (it runs to the
 * last " HTTP/"). A continuation line extends the previous value (the line
 * break stays inside the value, as the suites' multiline case has it).
 */
static inline bool sv_req_parse(struct sv_req *r, char *text, size_t len)
{
    char *p = text, *end = text + len, *eol, *sp, *http;
    uint8_t h[CV_SHA256_LEN];

    memset(r, 0, sizeof(*r));
    r->text = text;
    r->len = len;
    eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) {
        eol = end;
    }
    sp = memchr(p, ' ', (size_t)(eol - p));
    if (!sp) {
        return false;
    }
    r->req.method = (struct cv_str){p, (size_t)(sp - p)};
    http = NULL;
    for (char *q = sp; q + 6 <= eol; q++) {
        if (memcmp(q, " HTTP/", 6) == 0) {
            http = q;
        }
    }
    if (!http || http == sp) {
        return false;
    }
    {
        struct cv_str target = {sp + 1, (size_t)(http - sp - 1)};
        if (!cv_str_split(target, '?', &r->req.raw_path, &r->req.raw_query)) {
            r->req.raw_query = CV_STR_NULL;
        }
    }
    p = eol < end ? eol + 1 : end;
    while (p < end) {
        char *colon, *vend;
        eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) {
            eol = end;
        }
        vend = (eol > p && eol[-1] == '\r') ? eol - 1 : eol;
        if (vend == p) {
            p = eol < end ? eol + 1 : end;
            r->body = (struct cv_str){p, (size_t)(end - p)};
            break;
        }
        if ((*p == ' ' || *p == '\t') && r->nh) {
            struct sigv4_header *last = &r->hdrs[r->nh - 1];
            last->value.len = (size_t)(vend - last->value.ptr);
        } else {
            colon = memchr(p, ':', (size_t)(vend - p));
            if (!colon || r->nh == SV_MAX_HEADERS) {
                return false;
            }
            r->hdrs[r->nh].name = (struct cv_str){p, (size_t)(colon - p)};
            r->hdrs[r->nh].value = (struct cv_str){colon + 1, (size_t)(vend - colon - 1)};
            r->nh++;
        }
        p = eol < end ? eol + 1 : end;
    }
    r->req.headers = r->hdrs;
    r->req.nheaders = r->nh;
    cv_sha256(r->body.ptr ? r->body.ptr : "", r->body.len, h);
    cv_hex_encode(h, sizeof(h), r->payload_hex);
    r->req.payload_hash = (struct cv_str){r->payload_hex, 64};
    return true;
}

static inline void sv_add_header(struct sv_req *r, const char *name, const char *value)
{
    assert_true(r->nh < SV_MAX_HEADERS);
    r->hdrs[r->nh].name = cv_str_c(name);
    r->hdrs[r->nh].value = cv_str_c(value);
    r->nh++;
    r->req.nheaders = r->nh;
}

/* Compares a buffer with expected file text (exact). */
#define SV_ASSERT_TEXT(got, gotlen, want, wantlen, what, name)                                     \
    do {                                                                                           \
        if ((gotlen) != (wantlen) || memcmp((got), (want), (wantlen)) != 0) {                      \
            print_message("%s: %s differs\n--- got\n%.*s\n--- want\n%.*s\n", (name), (what),       \
                          (int)(gotlen), (got), (int)(wantlen), (want));                           \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

/* The value of "Signature=" in an Authorization value or "X-Amz-Signature=" in a query. */
static inline struct cv_str sv_find_sig(const char *s, const char *key)
{
    const char *p = strstr(s, key);
    struct cv_str out = CV_STR_NULL;

    if (p) {
        p += strlen(key);
        out.ptr = p;
        while (p[out.len] && p[out.len] != '&' && p[out.len] != ',' && p[out.len] != ' ' &&
               p[out.len] != '\n' && p[out.len] != '\r') {
            out.len++;
        }
    }
    return out;
}

#endif
