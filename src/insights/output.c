/*
 * Output helpers: labels, fixed-point numbers (locale-free and identical on
 * every platform, so output is byte-for-byte reproducible) and JSON strings.
 */
#include "insights/insights_int.h"
#include "insights/output_int.h"

#include <math.h>
#include <string.h>

static const char *const label_names[] = {"very_negative", "negative", "neutral", "positive",
                                          "very_positive"};

const char *ins_label_name(enum ins_label l)
{
    return (unsigned)l < CV_ARRAY_LEN(label_names) ? label_names[l] : "neutral";
}

enum ins_label ins_label_of(double c)
{
    if (c <= -0.5) {
        return INS_VERY_NEGATIVE;
    }
    if (c <= -0.05) {
        return INS_NEGATIVE;
    }
    if (c < 0.05) {
        return INS_NEUTRAL;
    }
    if (c < 0.5) {
        return INS_POSITIVE;
    }
    return INS_VERY_POSITIVE;
}

cv_err ins_put_fixed(struct cv_buf *b, double x, unsigned digits)
{
    static const double scale[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    char tmp[48];
    size_t n = 0;
    double s;
    uint64_t v, ip, fp, div = 1;

    if (digits > 6) {
        digits = 6;
    }
    if (!isfinite(x)) {
        x = 0;
    }
    s = nearbyint(fabs(x) * scale[digits]);
    if (s > 9e15) {
        s = 9e15;
    }
    v = (uint64_t)s;
    for (unsigned k = 0; k < digits; k++) {
        div *= 10;
    }
    ip = v / div;
    fp = v % div;
    if (x < 0 && v != 0) {
        tmp[n++] = '-';
    }
    {
        char rev[24];
        size_t r = 0;
        do {
            rev[r++] = (char)('0' + ip % 10);
            ip /= 10;
        } while (ip);
        while (r) {
            tmp[n++] = rev[--r];
        }
    }
    if (digits) {
        tmp[n++] = '.';
        for (unsigned k = digits; k > 0; k--) {
            tmp[n + k - 1] = (char)('0' + fp % 10);
            fp /= 10;
        }
        n += digits;
    }
    return cv_buf_add(b, tmp, n);
}

cv_err ins_put_str(struct cv_buf *b, const char *s, size_t len)
{
    cv_err err = cv_buf_addc(b, '"');

    if (!err) {
        err = cv_buf_add_json(b, s, len);
    }
    if (!err) {
        err = cv_buf_addc(b, '"');
    }
    return err;
}

cv_err ins_put_u64(struct cv_buf *b, uint64_t v)
{
    char rev[24], tmp[24];
    size_t r = 0, n = 0;

    do {
        rev[r++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (r) {
        tmp[n++] = rev[--r];
    }
    return cv_buf_add(b, tmp, n);
}
