/* Borrowed string views, bounded number parsing, hex, base64, URI coding. */
#include "base.h"

#include <string.h>

struct cv_str cv_str_c(const char *s)
{
    struct cv_str r = {s, s ? strlen(s) : 0};
    return r;
}

bool cv_str_eq(struct cv_str a, struct cv_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool cv_str_eq_c(struct cv_str a, const char *b)
{
    return cv_str_eq(a, cv_str_c(b));
}

static inline unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

bool cv_str_eq_ci(struct cv_str a, struct cv_str b)
{
    size_t i;

    if (a.len != b.len) {
        return false;
    }
    for (i = 0; i < a.len; i++) {
        if (lower((unsigned char)a.ptr[i]) != lower((unsigned char)b.ptr[i])) {
            return false;
        }
    }
    return true;
}

bool cv_str_eq_ci_c(struct cv_str a, const char *b)
{
    return cv_str_eq_ci(a, cv_str_c(b));
}

bool cv_str_starts_with(struct cv_str s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s.len >= n && memcmp(s.ptr, prefix, n) == 0;
}

struct cv_str cv_str_trim(struct cv_str s)
{
    while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) {
        s.ptr++;
        s.len--;
    }
    while (s.len && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t')) {
        s.len--;
    }
    return s;
}

int cv_str_cmp(struct cv_str a, struct cv_str b)
{
    size_t n = CV_MIN(a.len, b.len);
    int c = n ? memcmp(a.ptr, b.ptr, n) : 0;

    if (c) {
        return c;
    }
    return a.len < b.len ? -1 : (a.len > b.len ? 1 : 0);
}

ptrdiff_t cv_str_find(struct cv_str s, char c)
{
    const char *p = s.len ? memchr(s.ptr, c, s.len) : NULL;
    return p ? p - s.ptr : -1;
}

bool cv_str_split(struct cv_str s, char sep, struct cv_str *head, struct cv_str *tail)
{
    ptrdiff_t i = cv_str_find(s, sep);

    if (i < 0) {
        *head = s;
        tail->ptr = s.ptr ? s.ptr + s.len : NULL;
        tail->len = 0;
        return false;
    }
    head->ptr = s.ptr;
    head->len = (size_t)i;
    tail->ptr = s.ptr + i + 1;
    tail->len = s.len - (size_t)i - 1;
    return true;
}

cv_err cv_parse_u64(struct cv_str s, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (s.len == 0 || s.len > 20) {
        return CV_EPARSE;
    }
    for (i = 0; i < s.len; i++) {
        unsigned d = (unsigned)(unsigned char)s.ptr[i] - '0';
        if (d > 9) {
            return CV_EPARSE;
        }
        if (v > (UINT64_MAX - d) / 10) {
            return CV_EPARSE;
        }
        v = v * 10 + d;
    }
    *out = v;
    return CV_OK;
}

cv_err cv_parse_i64(struct cv_str s, int64_t *out)
{
    bool neg = false;
    uint64_t v;
    cv_err err;

    if (s.len && s.ptr[0] == '-') {
        neg = true;
        s.ptr++;
        s.len--;
    }
    err = cv_parse_u64(s, &v);
    if (err) {
        return err;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1) {
            return CV_EPARSE;
        }
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX) {
            return CV_EPARSE;
        }
        *out = (int64_t)v;
    }
    return CV_OK;
}

static const char hexdig[] = "0123456789abcdef";

void cv_hex_encode(const uint8_t *in, size_t n, char *out)
{
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = hexdig[in[i] >> 4];
        out[2 * i + 1] = hexdig[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = lower(c);
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

cv_err cv_hex_decode(struct cv_str in, uint8_t *out, size_t n)
{
    size_t i;

    if (in.len != 2 * n) {
        return CV_EPARSE;
    }
    for (i = 0; i < n; i++) {
        int hi = hexval((unsigned char)in.ptr[2 * i]);
        int lo = hexval((unsigned char)in.ptr[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return CV_EPARSE;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return CV_OK;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

cv_err cv_base64_encode(struct cv_buf *out, const uint8_t *in, size_t n)
{
    size_t i;
    cv_err err = cv_buf_grow(out, (n + 2) / 3 * 4);

    if (err) {
        return err;
    }
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        char q[4] = {b64[v >> 18], b64[(v >> 12) & 63], b64[(v >> 6) & 63], b64[v & 63]};
        memcpy(out->ptr + out->len, q, 4);
        out->len += 4;
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        char q[4] = {b64[v >> 18], b64[(v >> 12) & 63], i + 1 < n ? b64[(v >> 6) & 63] : '=',
                     '='};
        memcpy(out->ptr + out->len, q, 4);
        out->len += 4;
    }
    out->ptr[out->len] = '\0';
    return CV_OK;
}

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

cv_err cv_base64_decode(struct cv_buf *out, struct cv_str in)
{
    size_t i;
    cv_err err;

    if (in.len % 4 != 0) {
        return CV_EPARSE;
    }
    err = cv_buf_grow(out, in.len / 4 * 3);
    if (err) {
        return err;
    }
    for (i = 0; i < in.len; i += 4) {
        int v[4];
        int pad = 0, k;
        uint32_t w;

        for (k = 0; k < 4; k++) {
            unsigned char c = (unsigned char)in.ptr[i + (size_t)k];
            if (c == '=' && i + 4 == in.len && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad) {
                return CV_EPARSE;
            } else {
                v[k] = b64val(c);
                if (v[k] < 0) {
                    return CV_EPARSE;
                }
            }
        }
        w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        out->ptr[out->len++] = (char)(w >> 16);
        if (pad < 2) {
            out->ptr[out->len++] = (char)(w >> 8 & 0xff);
        }
        if (pad < 1) {
            out->ptr[out->len++] = (char)(w & 0xff);
        }
    }
    out->ptr[out->len] = '\0';
    return CV_OK;
}

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

cv_err cv_uri_encode(struct cv_buf *out, struct cv_str in, bool keep_slash)
{
    static const char up[] = "0123456789ABCDEF";
    size_t i;
    cv_err err = cv_buf_grow(out, in.len * 3);

    if (err) {
        return err;
    }
    for (i = 0; i < in.len; i++) {
        unsigned char c = (unsigned char)in.ptr[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            out->ptr[out->len++] = (char)c;
        } else {
            out->ptr[out->len++] = '%';
            out->ptr[out->len++] = up[c >> 4];
            out->ptr[out->len++] = up[c & 15];
        }
    }
    out->ptr[out->len] = '\0';
    return CV_OK;
}

cv_err cv_uri_decode(struct cv_buf *out, struct cv_str in, bool plus_is_space)
{
    size_t i;
    cv_err err = cv_buf_grow(out, in.len);

    if (err) {
        return err;
    }
    for (i = 0; i < in.len; i++) {
        char c = in.ptr[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= in.len) {
                return CV_EPARSE;
            }
            hi = hexval((unsigned char)in.ptr[i + 1]);
            lo = hexval((unsigned char)in.ptr[i + 2]);
            if (hi < 0 || lo < 0) {
                return CV_EPARSE;
            }
            out->ptr[out->len++] = (char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out->ptr[out->len++] = ' ';
        } else {
            out->ptr[out->len++] = c;
        }
    }
    out->ptr[out->len] = '\0';
    return CV_OK;
}

bool cv_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        uint32_t cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n) {
            return false;
        }
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                return false;
            }
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += n + 1;
    }
    return true;
}
