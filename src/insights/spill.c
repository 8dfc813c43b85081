/*
 * The spill: what pass 1 learns about each record (its sentiment and its
 * stems), kept for pass 2 so that pass 2 neither tokenizes nor scores again.
 * Bytes go to a fixed memory buffer; when it fills they move on to an
 * unlinked temporary file, so memory stays bounded whatever the input size.
 */
#include "insights/insights_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

cv_err ins_spill_init(struct ins_spill *s, size_t cap)
{
    memset(s, 0, sizeof(*s));
    s->fd = -1;
    s->cap = cap < 4096 ? 4096 : cap;
    s->buf = cv_malloc(s->cap);
    return s->buf ? CV_OK : CV_ENOMEM;
}

void ins_spill_release(struct ins_spill *s)
{
    if (!s) {
        return;
    }
    cv_free(s->buf);
    if (s->fd >= 0) {
        close(s->fd);
    }
    memset(s, 0, sizeof(*s));
    s->fd = -1;
}

static cv_err spill_flush(struct ins_spill *s)
{
    if (s->fd < 0) {
        char tmpl[4096];
        const char *dir = getenv("TMPDIR");

        snprintf(tmpl, sizeof(tmpl), "%s/caravel-spill-XXXXXX", dir && *dir ? dir : "/tmp");
        s->fd = mkstemp(tmpl);
        if (s->fd < 0) {
            return CV_EIO;
        }
        unlink(tmpl);
    }
    if (cv_write_all(s->fd, s->buf, s->len) != CV_OK) {
        return CV_EIO;
    }
    s->file_bytes += s->len;
    s->len = 0;
    return CV_OK;
}

cv_err ins_spill_reserve(struct ins_spill *s, size_t n, unsigned char **p)
{
    if (n > s->cap) {
        return CV_EINVAL;
    }
    if (s->cap - s->len < n) {
        cv_err err = spill_flush(s);
        if (err) {
            return err;
        }
    }
    *p = s->buf + s->len;
    return CV_OK;
}

cv_err ins_spill_put(struct ins_spill *s, const void *p, size_t n)
{
    unsigned char *at;
    cv_err err = ins_spill_reserve(s, n, &at);

    if (!err) {
        memcpy(at, p, n);
        s->len += n;
    }
    return err;
}

cv_err ins_spill_rewind(struct ins_spill *s)
{
    s->pos = 0;
    s->reading = true;
    if (s->fd < 0) {
        s->eof = true; /* everything is in memory */
        return CV_OK;
    }
    if (s->len > 0) {
        cv_err err = spill_flush(s);
        if (err) {
            return err;
        }
    }
    if (lseek(s->fd, 0, SEEK_SET) != 0) {
        return CV_EIO;
    }
    s->eof = false;
    return CV_OK;
}

cv_err ins_spill_need(struct ins_spill *s, size_t n)
{
    if (s->len - s->pos >= n || s->eof) {
        return CV_OK;
    }
    memmove(s->buf, s->buf + s->pos, s->len - s->pos);
    s->len -= s->pos;
    s->pos = 0;
    while (s->len < n && !s->eof) {
        ssize_t got = read(s->fd, s->buf + s->len, s->cap - s->len);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            return CV_EIO;
        }
        if (got == 0) {
            s->eof = true;
        }
        s->len += (size_t)got;
    }
    return CV_OK;
}
