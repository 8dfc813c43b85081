/* The error table: names, descriptions, wire codes and HTTP statuses. */
#include "base.h"

#include <stdio.h>
#include <string.h>

struct err_row {
    const char *name, *code, *msg;
    int status;
};

static const struct err_row rows[] = {
#define ROW_(n, c, s, m) {#n, c, m, s},
    CV_ERR_MAP(ROW_)
#undef ROW_
};

static const struct err_row *row(cv_err e)
{
    if ((unsigned)e >= CV_ERR__COUNT) {
        return &rows[CV_EINTERNAL];
    }
    return &rows[e];
}

const char *cv_err_str(cv_err e)
{
    return row(e)->msg;
}

const char *cv_err_name(cv_err e)
{
    return row(e)->name;
}

const char *cv_err_wire_code(cv_err e)
{
    return row(e)->code;
}

int cv_err_http_status(cv_err e)
{
    return row(e)->status;
}

void cv_errf(char *dst, size_t dstlen, const char *fmt, ...)
{
    va_list ap;

    if (!dst || dstlen == 0) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(dst, dstlen, fmt, ap);
    va_end(ap);
}
