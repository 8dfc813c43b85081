/*
 * A strict, allocation-light JSON scanner for JSON Lines input: validates
 * one object (RFC 8259) and extracts a few top-level members. Strings
 * without escapes are returned in place; others are unescaped into the
 * caller's scratch buffer.
 */
#include "insights/insights_int.h"

#include <string.h>

#define JSON_MAX_DEPTH 64

struct jp {
    const char *s;
    size_t len, i;
    struct cv_buf *scratch;
    const char *what;
};

static void ws(struct jp *p)
{
    while (p->i < p->len) {
        char c = p->s[p->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            break;
        }
        p->i++;
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static bool hex4(struct jp *p, uint32_t *out)
{
    uint32_t v = 0;

    if (p->len - p->i < 4) {
        return false;
    }
    for (int k = 0; k < 4; k++) {
        int h = hexval(p->s[p->i + (size_t)k]);
        if (h < 0) {
            return false;
        }
        v = v << 4 | (uint32_t)h;
    }
    p->i += 4;
    *out = v;
    return true;
}

/*
 * Parses a string at p->i (on the opening quote). When @p out is set the
 * value is returned: in place (*off = SIZE_MAX) or as an offset into the
 * scratch buffer.
 */
static cv_err string(struct jp *p, bool want, struct cv_str *inplace, size_t *off, size_t *olen)
{
    size_t start, seg;
    bool escaped = false;
    size_t sbeg = 0;

    p->i++; /* the quote */
    start = seg = p->i;
    for (;;) {
        if (p->i >= p->len) {
            p->what = "unterminated string";
            return CV_EPARSE;
        }
        unsigned char c = (unsigned char)p->s[p->i];
        if (c == '"') {
            break;
        }
        if (c < 0x20) {
            p->what = "control character in string";
            return CV_EPARSE;
        }
        if (c != '\\') {
            p->i++;
            continue;
        }
        if (want && !escaped) {
            sbeg = p->scratch->len;
            escaped = true;
        }
        if (want && cv_buf_add(p->scratch, p->s + seg, p->i - seg) != CV_OK) {
            return CV_ENOMEM;
        }
        p->i++;
        if (p->i >= p->len) {
            p->what = "unterminated string";
            return CV_EPARSE;
        }
        char e = p->s[p->i++];
        char ch = 0;
        uint32_t cp = 0;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            ch = e;
            break;
        case 'b':
            ch = '\b';
            break;
        case 'f':
            ch = '\f';
            break;
        case 'n':
            ch = '\n';
            break;
        case 'r':
            ch = '\r';
            break;
        case 't':
            ch = '\t';
            break;
        case 'u':
            if (!hex4(p, &cp)) {
                p->what = "bad \\u escape";
                return CV_EPARSE;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo;
                if (p->len - p->i < 6 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u') {
                    p->what = "unpaired surrogate";
                    return CV_EPARSE;
                }
                p->i += 2;
                if (!hex4(p, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                    p->what = "unpaired surrogate";
                    return CV_EPARSE;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                p->what = "unpaired surrogate";
                return CV_EPARSE;
            }
            break;
        default:
            p->what = "bad escape";
            return CV_EPARSE;
        }
        if (want) {
            char enc[4];
            size_t n = 1;
            if (e == 'u') {
                n = ins_utf8_encode(cp, enc);
            } else {
                enc[0] = ch;
            }
            if (cv_buf_add(p->scratch, enc, n) != CV_OK) {
                return CV_ENOMEM;
            }
        }
        seg = p->i;
    }
    if (want) {
        if (escaped) {
            if (cv_buf_add(p->scratch, p->s + seg, p->i - seg) != CV_OK) {
                return CV_ENOMEM;
            }
            *off = sbeg;
            *olen = p->scratch->len - sbeg;
        } else {
            *off = SIZE_MAX;
            inplace->ptr = p->s + start;
            inplace->len = p->i - start;
        }
    }
    p->i++; /* closing quote */
    return CV_OK;
}

static cv_err number(struct jp *p)
{
    size_t i = p->i;
    const char *s = p->s;

    if (i < p->len && s[i] == '-') {
        i++;
    }
    if (i >= p->len || s[i] < '0' || s[i] > '9') {
        p->what = "bad number";
        return CV_EPARSE;
    }
    if (s[i] == '0') {
        i++;
    } else {
        while (i < p->len && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
    }
    if (i < p->len && s[i] == '.') {
        i++;
        if (i >= p->len || s[i] < '0' || s[i] > '9') {
            p->what = "bad number";
            return CV_EPARSE;
        }
        while (i < p->len && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < p->len && (s[i] == '+' || s[i] == '-')) {
            i++;
        }
        if (i >= p->len || s[i] < '0' || s[i] > '9') {
            p->what = "bad number";
            return CV_EPARSE;
        }
        while (i < p->len && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
    }
    p->i = i;
    return CV_OK;
}

static cv_err value(struct jp *p, unsigned depth);

static cv_err literal(struct jp *p, const char *lit)
{
    size_t n = strlen(lit);

    if (p->len - p->i < n || memcmp(p->s + p->i, lit, n) != 0) {
        p->what = "unexpected token";
        return CV_EPARSE;
    }
    p->i += n;
    return CV_OK;
}

static cv_err container(struct jp *p, unsigned depth, char close)
{
    cv_err err;

    if (depth >= JSON_MAX_DEPTH) {
        p->what = "nested too deeply";
        return CV_EPARSE;
    }
    p->i++;
    ws(p);
    if (p->i < p->len && p->s[p->i] == close) {
        p->i++;
        return CV_OK;
    }
    for (;;) {
        ws(p);
        if (close == '}') {
            if (p->i >= p->len || p->s[p->i] != '"') {
                p->what = "expected a member name";
                return CV_EPARSE;
            }
            err = string(p, false, NULL, NULL, NULL);
            if (err) {
                return err;
            }
            ws(p);
            if (p->i >= p->len || p->s[p->i] != ':') {
                p->what = "expected ':'";
                return CV_EPARSE;
            }
            p->i++;
        }
        err = value(p, depth + 1);
        if (err) {
            return err;
        }
        ws(p);
        if (p->i < p->len && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->i < p->len && p->s[p->i] == close) {
            p->i++;
            return CV_OK;
        }
        p->what = close == '}' ? "expected ',' or '}'" : "expected ',' or ']'";
        return CV_EPARSE;
    }
}

static cv_err value(struct jp *p, unsigned depth)
{
    ws(p);
    if (p->i >= p->len) {
        p->what = "expected a value";
        return CV_EPARSE;
    }
    switch (p->s[p->i]) {
    case '{':
        return container(p, depth, '}');
    case '[':
        return container(p, depth, ']');
    case '"':
        return string(p, false, NULL, NULL, NULL);
    case 't':
        return literal(p, "true");
    case 'f':
        return literal(p, "false");
    case 'n':
        return literal(p, "null");
    default:
        return number(p);
    }
}

cv_err ins_json_object(const char *s, size_t len, struct ins_json_field *fields, size_t nfields,
                       struct cv_buf *scratch, const char **what)
{
    struct jp p = {s, len, 0, scratch, NULL};
    size_t offs[8], lens[8];
    cv_err err = CV_OK;

    *what = NULL;
    if (nfields > 8) {
        return CV_EINVAL;
    }
    for (size_t k = 0; k < nfields; k++) {
        fields[k].found = false;
        fields[k].is_string = false;
        fields[k].val = CV_STR_NULL;
        offs[k] = SIZE_MAX;
        lens[k] = 0;
    }
    ws(&p);
    if (p.i >= len || s[p.i] != '{') {
        *what = "not a JSON object";
        return CV_EPARSE;
    }
    p.i++;
    ws(&p);
    if (p.i < len && s[p.i] == '}') {
        p.i++;
        goto end;
    }
    for (;;) {
        struct cv_str key = CV_STR_NULL;
        size_t koff = SIZE_MAX, klen = 0;
        long match = -1;

        ws(&p);
        if (p.i >= len || s[p.i] != '"') {
            p.what = "expected a member name";
            err = CV_EPARSE;
            goto out;
        }
        size_t mark = scratch->len;
        err = string(&p, true, &key, &koff, &klen);
        if (err) {
            goto out;
        }
        if (koff != SIZE_MAX) {
            key.ptr = scratch->ptr + koff;
            key.len = klen;
        }
        for (size_t k = 0; k < nfields; k++) {
            if (fields[k].key && cv_str_eq_c(key, fields[k].key)) {
                match = (long)k;
            }
        }
        cv_buf_setlen(scratch, mark);
        ws(&p);
        if (p.i >= len || s[p.i] != ':') {
            p.what = "expected ':'";
            err = CV_EPARSE;
            goto out;
        }
        p.i++;
        ws(&p);
        if (match >= 0) {
            struct ins_json_field *f = &fields[match];
            if (f->found) {
                p.what = "duplicate member";
                err = CV_EPARSE;
                goto out;
            }
            f->found = true;
            if (p.i < len && s[p.i] == '"') {
                f->is_string = true;
                err = string(&p, true, &f->val, &offs[match], &lens[match]);
            } else {
                size_t b = p.i;
                err = value(&p, 1);
                f->val.ptr = s + b;
                f->val.len = p.i - b;
            }
        } else {
            err = value(&p, 1);
        }
        if (err) {
            goto out;
        }
        ws(&p);
        if (p.i < len && s[p.i] == ',') {
            p.i++;
            continue;
        }
        if (p.i < len && s[p.i] == '}') {
            p.i++;
            break;
        }
        p.what = "expected ',' or '}'";
        err = CV_EPARSE;
        goto out;
    }
end:
    ws(&p);
    if (p.i != len) {
        p.what = "trailing characters after the object";
        err = CV_EPARSE;
        goto out;
    }
    for (size_t k = 0; k < nfields; k++) {
        if (fields[k].found && fields[k].is_string && offs[k] != SIZE_MAX) {
            fields[k].val.ptr = scratch->ptr + offs[k];
            fields[k].val.len = lens[k];
        }
    }
out:
    *what = p.what;
    return err;
}
