/* struct cv_buf: a capped, always-terminated, binary-safe byte buffer. */
#include "base.h"

#include <stdio.h>
#include <string.h>

void cv_buf_init(struct cv_buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void cv_buf_release(struct cv_buf *b)
{
    if (!b) {
        return;
    }
    cv_free(b->ptr);
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

void cv_buf_reset(struct cv_buf *b)
{
    b->len = 0;
    if (b->ptr) {
        b->ptr[0] = '\0';
    }
}

cv_err cv_buf_grow(struct cv_buf *b, size_t extra)
{
    size_t need, ncap;
    char *p;

    if (extra > b->max || b->len > b->max - extra) {
        cv_buf_release(b);
        return CV_ETOOBIG;
    }
    need = b->len + extra + 1;
    if (need <= b->cap) {
        return CV_OK;
    }
    ncap = b->cap ? b->cap : 64;
    while (ncap < need) {
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    }
    if (ncap > b->max + 1) {
        ncap = b->max + 1;
    }
    p = cv_realloc(b->ptr, ncap);
    if (!p) {
        cv_buf_release(b);
        return CV_ENOMEM;
    }
    b->ptr = p;
    b->cap = ncap;
    return CV_OK;
}

cv_err cv_buf_add(struct cv_buf *b, const void *data, size_t len)
{
    cv_err err = cv_buf_grow(b, len);

    if (err) {
        return err;
    }
    if (len) {
        memcpy(b->ptr + b->len, data, len);
    }
    b->len += len;
    b->ptr[b->len] = '\0';
    return CV_OK;
}

cv_err cv_buf_addc(struct cv_buf *b, char c)
{
    return cv_buf_add(b, &c, 1);
}

cv_err cv_buf_adds(struct cv_buf *b, const char *s)
{
    return cv_buf_add(b, s, strlen(s));
}

cv_err cv_buf_vaddf(struct cv_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;
    cv_err err;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        cv_buf_release(b);
        return CV_EINVAL;
    }
    err = cv_buf_grow(b, (size_t)n);
    if (err) {
        return err;
    }
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return CV_OK;
}

cv_err cv_buf_addf(struct cv_buf *b, const char *fmt, ...)
{
    va_list ap;
    cv_err err;

    va_start(ap, fmt);
    err = cv_buf_vaddf(b, fmt, ap);
    va_end(ap);
    return err;
}

void cv_buf_setlen(struct cv_buf *b, size_t len)
{
    if (len <= b->len) {
        b->len = len;
        if (b->ptr) {
            b->ptr[len] = '\0';
        }
    }
}

char *cv_buf_detach(struct cv_buf *b, size_t *len)
{
    char *p;

    if (!b->ptr) {
        p = cv_strndup("", 0);
        if (len) {
            *len = 0;
        }
        return p;
    }
    p = b->ptr;
    if (len) {
        *len = b->len;
    }
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

cv_err cv_buf_add_xml(struct cv_buf *b, const char *s, size_t len)
{
    size_t i, start = 0;
    cv_err err = CV_OK;

    for (i = 0; i < len && !err; i++) {
        const char *rep = NULL;
        char num[8];
        unsigned char c = (unsigned char)s[i];

        switch (c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n') {
                /* XML 1.0 cannot carry most controls; S3 writes them as refs. */
                snprintf(num, sizeof(num), "&#x%X;", c);
                rep = num;
            } else if (c == '\r') {
                rep = "&#xD;";
            }
            break;
        }
        if (rep) {
            err = cv_buf_add(b, s + start, i - start);
            if (!err) {
                err = cv_buf_adds(b, rep);
            }
            start = i + 1;
        }
    }
    if (!err) {
        err = cv_buf_add(b, s + start, len - start);
    }
    return err;
}

cv_err cv_buf_add_json(struct cv_buf *b, const char *s, size_t len)
{
    size_t i, start = 0;
    cv_err err = CV_OK;

    for (i = 0; i < len && !err; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        const char *rep = NULL;

        if (c == '"') {
            rep = "\\\"";
        } else if (c == '\\') {
            rep = "\\\\";
        } else if (c == '\n') {
            rep = "\\n";
        } else if (c == '\r') {
            rep = "\\r";
        } else if (c == '\t') {
            rep = "\\t";
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            rep = esc;
        }
        if (rep) {
            err = cv_buf_add(b, s + start, i - start);
            if (!err) {
                err = cv_buf_adds(b, rep);
            }
            start = i + 1;
        }
    }
    if (!err) {
        err = cv_buf_add(b, s + start, len - start);
    }
    return err;
}
