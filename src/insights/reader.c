/*
 * Streaming readers: CSV (RFC 4180 with a header row), JSON Lines and plain
 * text (a record a line). One buffer that holds at most one record (plus a
 * read chunk); records larger than the limit are errors. Every error names
 * the input and the line: "NAME:LINE: what".
 */
#include "insights/insights_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define READ_CHUNK (256u * 1024u)

enum ins_format ins_format_from_name(const char *path)
{
    const char *dot = strrchr(path, '.');

    if (!dot) {
        return INS_FMT_TEXT;
    }
    if (strcasecmp(dot, ".csv") == 0) {
        return INS_FMT_CSV;
    }
    if (strcasecmp(dot, ".jsonl") == 0 || strcasecmp(dot, ".ndjson") == 0 ||
        strcasecmp(dot, ".json") == 0) {
        return INS_FMT_JSONL;
    }
    return INS_FMT_TEXT;
}

cv_err ins_reader_init(struct ins_reader *r, const char *name, int fd, enum ins_format fmt,
                       const struct ins_options *opt)
{
    memset(r, 0, sizeof(*r));
    r->name = name;
    r->fd = fd;
    r->format = fmt == INS_FMT_AUTO ? ins_format_from_name(name) : fmt;
    r->max_record = opt && opt->max_record_bytes ? opt->max_record_bytes : INS_DEFAULT_MAX_RECORD;
    r->line = 1;
    r->col_text = r->col_id = r->col_time = -1;
    r->text_key = opt && opt->text_column ? opt->text_column : "text";
    r->id_key = opt && opt->id_column ? opt->id_column : "id";
    r->time_key = opt && opt->time_column ? opt->time_column : "created_at";
    r->id_required = opt && opt->id_column;
    r->time_required = opt && opt->time_column;
    r->spool_fd = -1;
    r->cap = READ_CHUNK * 2;
    r->buf = cv_malloc(r->cap);
    cv_buf_init(&r->unq, r->max_record + 16);
    if (!r->buf) {
        return CV_ENOMEM;
    }
    return CV_OK;
}

void ins_reader_release(struct ins_reader *r)
{
    if (!r) {
        return;
    }
    cv_free(r->buf);
    cv_free(r->fields);
    cv_buf_release(&r->unq);
    r->buf = NULL;
    r->fields = NULL;
}

static cv_err fail(struct ins_reader *r, cv_err e, uint64_t line, const char *what)
{
    cv_errf(r->err, sizeof(r->err), "%s:%llu: %s", r->name, (unsigned long long)line, what);
    return e;
}

/* Reads more input after the unconsumed part; grows the buffer up to the limit. */
static cv_err fill(struct ins_reader *r)
{
    ssize_t n;

    r->nna_ok = false; /* the buffer moves or grows */
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (r->cap - r->end < READ_CHUNK) {
        size_t ncap = r->cap * 2;
        char *nb = cv_realloc(r->buf, ncap);
        if (!nb) {
            return CV_ENOMEM;
        }
        r->buf = nb;
        r->cap = ncap;
    }
    do {
        n = read(r->fd, r->buf + r->end, r->cap - r->end);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        cv_errf(r->err, sizeof(r->err), "%s: read failed: %s", r->name, strerror(errno));
        r->fatal = true;
        return CV_EIO;
    }
    if (n == 0) {
        r->eof = true;
        return CV_OK;
    }
    if (r->hash) {
        cv_sha256_update(r->hash, r->buf + r->end, (size_t)n);
    }
    if (r->spool_fd >= 0 && cv_write_all(r->spool_fd, r->buf + r->end, (size_t)n) != CV_OK) {
        cv_errf(r->err, sizeof(r->err), "%s: cannot spool standard input: %s", r->name,
                strerror(errno));
        r->fatal = true;
        return CV_EIO;
    }
    if (r->bytes == 0 && r->end == 0 && n >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0) {
        r->start = 3; /* a byte order mark */
    }
    r->bytes += (uint64_t)n;
    r->end += (size_t)n;
    return CV_OK;
}

static void count_lines(struct ins_reader *r, const char *p, size_t n)
{
    const char *end = p + n;

    for (;;) {
        const char *q = memchr(p, '\n', (size_t)(end - p));
        if (!q) {
            break;
        }
        r->line++;
        p = q + 1;
    }
}

/* Discards input up to and including the next newline (resynchronising). */
static cv_err skip_line(struct ins_reader *r)
{
    for (;;) {
        const char *q = memchr(r->buf + r->start, '\n', r->end - r->start);
        if (q) {
            r->start = (size_t)(q - r->buf) + 1;
            r->line++;
            return CV_OK;
        }
        r->start = r->end;
        if (r->eof) {
            return CV_OK;
        }
        cv_err err = fill(r);
        if (err) {
            return err;
        }
    }
}

/* The next line without its terminator ("\n" or "\r\n"); CV_ENOENT at the end. */
static cv_err next_line(struct ins_reader *r, const char **line, size_t *len, uint64_t *lineno)
{
    size_t scanned = 0;

    for (;;) {
        const char *p = r->buf + r->start;
        size_t avail = r->end - r->start;
        const char *q = memchr(p + scanned, '\n', avail - scanned);
        size_t n;

        if (!q && !r->eof) {
            if (avail > r->max_record) {
                uint64_t at = r->line;
                cv_err err = skip_line(r);
                return err ? err : fail(r, CV_ETOOBIG, at, "line longer than the limit");
            }
            scanned = avail;
            cv_err err = fill(r);
            if (err) {
                return err;
            }
            continue;
        }
        if (!q && avail == 0) {
            return CV_ENOENT;
        }
        n = q ? (size_t)(q - p) : avail;
        *line = p;
        *lineno = r->line;
        r->start += q ? n + 1 : n;
        r->line++;
        if (n > 0 && p[n - 1] == '\r') {
            n--;
        }
        if (n > r->max_record) {
            return fail(r, CV_ETOOBIG, *lineno, "line longer than the limit");
        }
        *len = n;
        return CV_OK;
    }
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
            return false;
        }
    }
    return true;
}

static bool utf8_ok(const char *s, size_t n)
{
    return ins_is_ascii(s, n) || cv_utf8_valid(s, n);
}

/*
 * utf8_ok() for a line inside the read buffer, without looking at every
 * line: the reader keeps the position of the next non-ASCII byte ahead
 * (r->nna, found by one scan that goes on from line to line), and a line
 * that ends before it is ASCII, so valid. Only the lines holding such a
 * byte are checked in full.
 */
static bool line_utf8_ok(struct ins_reader *r, const char *line, size_t len)
{
    size_t a = (size_t)(line - r->buf), b = a + len;

    if (!r->nna_ok || a > r->nna) {
        size_t i = a;
        for (; i + 8 <= r->end; i += 8) {
            uint64_t x;
            memcpy(&x, r->buf + i, 8);
            if (x & 0x8080808080808080ull) {
                break;
            }
        }
        while (i < r->end && !((unsigned char)r->buf[i] & 0x80)) {
            i++;
        }
        r->nna = i;
        r->nna_ok = true;
    }
    return b <= r->nna || cv_utf8_valid(line, len);
}

/* Times: ISO 8601 ("2024-03-01", "2024-03-01T10:00:00Z", a space for the T) or Unix seconds. */
static bool parse_time(struct cv_str s, int64_t *ms)
{
    char tmp[64];
    uint64_t u;

    s = cv_str_trim(s);
    if (s.len == 0 || s.len >= sizeof(tmp)) {
        return false;
    }
    if (cv_parse_u64(s, &u) == CV_OK && s.len <= 11) {
        *ms = (int64_t)u * 1000;
        return true;
    }
    memcpy(tmp, s.ptr, s.len);
    if (s.len > 10 && tmp[10] == ' ') {
        tmp[10] = 'T';
    }
    /* Without a zone designator the time is taken as UTC. */
    if (s.len == 19 || s.len == 16) {
        tmp[s.len] = 'Z';
        return cv_time_parse_iso8601((struct cv_str){tmp, s.len + 1}, ms) == CV_OK;
    }
    return cv_time_parse_iso8601((struct cv_str){tmp, s.len}, ms) == CV_OK;
}

static void set_line_id(struct ins_reader *r, struct ins_record *rec, uint64_t line)
{
    char tmp[24];
    size_t n = 0;

    if (r->no_line_ids) {
        rec->id.ptr = NULL;
        rec->id.len = 0;
        rec->line_id = true;
        return;
    }
    do {
        tmp[n++] = (char)('0' + line % 10);
        line /= 10;
    } while (line);
    for (size_t i = 0; i < n; i++) {
        r->idbuf[i] = tmp[n - 1 - i];
    }
    rec->id.ptr = r->idbuf;
    rec->id.len = n;
}

static cv_err next_text(struct ins_reader *r, struct ins_record *rec)
{
    const char *line;
    size_t len;
    uint64_t no;
    cv_err err;

    for (;;) {
        err = next_line(r, &line, &len, &no);
        if (err) {
            return err;
        }
        if (!blank(line, len)) {
            break;
        }
    }
    if (!line_utf8_ok(r, line, len)) {
        return fail(r, CV_EUTF8, no, "invalid UTF-8");
    }
    rec->text.ptr = line;
    rec->text.len = len;
    rec->line = no;
    rec->has_time = false;
    set_line_id(r, rec, no);
    return CV_OK;
}

static cv_err next_jsonl(struct ins_reader *r, struct ins_record *rec)
{
    const char *line, *what = NULL;
    size_t len;
    uint64_t no;
    cv_err err;
    struct ins_json_field f[3] = {{r->text_key, CV_STR_NULL, false, false},
                                  {r->id_key, CV_STR_NULL, false, false},
                                  {r->time_key, CV_STR_NULL, false, false}};
    char msg[160];

    for (;;) {
        err = next_line(r, &line, &len, &no);
        if (err) {
            return err;
        }
        if (!blank(line, len)) {
            break;
        }
    }
    if (!line_utf8_ok(r, line, len)) {
        return fail(r, CV_EUTF8, no, "invalid UTF-8");
    }
    cv_buf_reset(&r->unq);
    err = ins_json_object(line, len, f, 3, &r->unq, &what);
    if (err == CV_ENOMEM) {
        return err;
    }
    if (err) {
        snprintf(msg, sizeof(msg), "invalid JSON: %s", what ? what : "malformed");
        return fail(r, CV_EPARSE, no, msg);
    }
    if (!f[0].found || !f[0].is_string) {
        snprintf(msg, sizeof(msg), "%s \"%s\" member", f[0].found ? "not a string:" : "no",
                 r->text_key);
        return fail(r, CV_EPARSE, no, msg);
    }
    rec->text = f[0].val;
    rec->line = no;
    if (f[1].found && (f[1].is_string || (f[1].val.len && f[1].val.ptr[0] != 'n' &&
                                          f[1].val.ptr[0] != 't' && f[1].val.ptr[0] != 'f' &&
                                          f[1].val.ptr[0] != '{' && f[1].val.ptr[0] != '['))) {
        rec->id = f[1].val;
    } else if (r->id_required && !(f[1].found && f[1].val.len == 4 && f[1].val.ptr[0] == 'n')) {
        snprintf(msg, sizeof(msg), "no usable \"%s\" member", r->id_key);
        return fail(r, CV_EPARSE, no, msg);
    } else {
        set_line_id(r, rec, no);
    }
    rec->has_time = false;
    if (f[2].found && !(f[2].val.len == 4 && memcmp(f[2].val.ptr, "null", 4) == 0 &&
                        !f[2].is_string)) {
        if (!parse_time(f[2].val, &rec->time_ms)) {
            snprintf(msg, sizeof(msg), "\"%s\" is not an ISO 8601 time or Unix seconds",
                     r->time_key);
            return fail(r, CV_EPARSE, no, msg);
        }
        rec->has_time = true;
    } else if (!f[2].found && r->time_required) {
        snprintf(msg, sizeof(msg), "no \"%s\" member", r->time_key);
        return fail(r, CV_EPARSE, no, msg);
    }
    return CV_OK;
}

/* ------------------------------------------------------------------- CSV */

struct field_ref {
    bool unq;
    size_t off, len;
};

enum csv_status { CSV_DONE, CSV_MORE, CSV_ERROR };

/*
 * Parses one record at buf[start..end). On CSV_DONE *used is its length and
 * the fields are in refs (at most maxf; *nf counts all).
 */
static enum csv_status csv_parse(struct ins_reader *r, struct field_ref *refs, unsigned maxf,
                                 unsigned *nf, size_t *used, const char **what)
{
    const char *p = r->buf + r->start;
    size_t n = r->end - r->start, i = 0;
    bool eof = r->eof;

    *nf = 0;
    cv_buf_reset(&r->unq);
    for (;;) {
        struct field_ref f = {false, 0, 0};

        if (i < n && p[i] == '"') {
            size_t seg = ++i;
            size_t ubeg = r->unq.len;
            bool esc = false;
            for (;;) {
                const char *q = memchr(p + i, '"', n - i);
                if (!q) {
                    if (eof) {
                        *what = "unbalanced quote: the quoted field never ends";
                        return CSV_ERROR;
                    }
                    return CSV_MORE;
                }
                size_t qi = (size_t)(q - p);
                if (qi + 1 >= n && !eof) {
                    return CSV_MORE;
                }
                if (qi + 1 < n && p[qi + 1] == '"') {
                    if (cv_buf_add(&r->unq, p + seg, qi + 1 - seg) != CV_OK) {
                        *what = "out of memory";
                        return CSV_ERROR;
                    }
                    esc = true;
                    i = seg = qi + 2;
                    continue;
                }
                if (esc) {
                    if (cv_buf_add(&r->unq, p + seg, qi - seg) != CV_OK) {
                        *what = "out of memory";
                        return CSV_ERROR;
                    }
                    f.unq = true;
                    f.off = ubeg;
                    f.len = r->unq.len - ubeg;
                } else {
                    f.off = seg;
                    f.len = qi - seg;
                }
                i = qi + 1;
                break;
            }
            if (i < n && p[i] != ',' && p[i] != '\n' && p[i] != '\r') {
                *what = "unexpected character after a closing quote";
                return CSV_ERROR;
            }
        } else {
            size_t b = i;
            while (i < n && p[i] != ',' && p[i] != '\n' && p[i] != '\r') {
                i++;
            }
            if (i >= n && !eof) {
                return CSV_MORE;
            }
            f.off = b;
            f.len = i - b;
        }
        if (*nf < maxf) {
            refs[*nf] = f;
        }
        (*nf)++;
        if (i >= n) {
            if (!eof) {
                return CSV_MORE;
            }
            *used = i;
            return CSV_DONE;
        }
        if (p[i] == ',') {
            i++;
            if (i >= n && !eof) {
                return CSV_MORE;
            }
            if (i >= n) {
                struct field_ref e = {false, i, 0};
                if (*nf < maxf) {
                    refs[*nf] = e;
                }
                (*nf)++;
                *used = i;
                return CSV_DONE;
            }
            continue;
        }
        if (p[i] == '\r') {
            if (i + 1 >= n && !eof) {
                return CSV_MORE;
            }
            i++;
            if (i < n && p[i] == '\n') {
                i++;
            }
        } else {
            i++; /* '\n' */
        }
        *used = i;
        return CSV_DONE;
    }
}

static struct cv_str ref_str(struct ins_reader *r, const struct field_ref *f)
{
    struct cv_str s;
    s.ptr = f->unq ? r->unq.ptr + f->off : r->buf + r->start + f->off;
    s.len = f->len;
    return s;
}

static cv_err next_csv(struct ins_reader *r, struct ins_record *rec)
{
    struct field_ref refs[256];
    unsigned nf;
    size_t used;
    const char *what = NULL;
    char msg[512];

    for (;;) {
        enum csv_status st;
        uint64_t at = r->line;

        if (r->start >= r->end && r->eof) {
            return CV_ENOENT;
        }
        st = r->start < r->end ? csv_parse(r, refs, 256, &nf, &used, &what) : CSV_MORE;
        if (st == CSV_MORE) {
            if (r->eof) {
                return CV_ENOENT;
            }
            if (r->end - r->start > r->max_record) {
                cv_err err = skip_line(r);
                return err ? err : fail(r, CV_ETOOBIG, at, "record longer than the limit");
            }
            cv_err err = fill(r);
            if (err) {
                return err;
            }
            continue;
        }
        if (st == CSV_ERROR) {
            cv_err err = skip_line(r);
            if (err) {
                return err;
            }
            return fail(r, CV_EPARSE, at, what);
        }
        /* A complete record of used bytes. */
        const char *raw = r->buf + r->start;
        if (!utf8_ok(raw, used)) {
            count_lines(r, raw, used);
            r->start += used;
            return fail(r, CV_EUTF8, at, "invalid UTF-8");
        }
        if (used > r->max_record) {
            count_lines(r, raw, used);
            r->start += used;
            return fail(r, CV_ETOOBIG, at, "record longer than the limit");
        }
        if (!r->header_done) {
            r->header_done = true;
            r->ncols = nf;
            for (unsigned k = 0; k < nf && k < 256; k++) {
                struct cv_str h = cv_str_trim(ref_str(r, &refs[k]));
                if (r->col_text < 0 && cv_str_eq_c(h, r->text_key)) {
                    r->col_text = (int)k;
                } else if (r->col_id < 0 && cv_str_eq_c(h, r->id_key)) {
                    r->col_id = (int)k;
                } else if (r->col_time < 0 && cv_str_eq_c(h, r->time_key)) {
                    r->col_time = (int)k;
                }
            }
            const char *missing = r->col_text < 0                       ? r->text_key
                                  : (r->col_id < 0 && r->id_required)     ? r->id_key
                                  : (r->col_time < 0 && r->time_required) ? r->time_key
                                                                          : NULL;
            if (missing) {
                struct cv_buf cols = CV_BUF_INIT(256);
                for (unsigned k = 0; k < nf && k < 256 && cols.len < 200; k++) {
                    struct cv_str h = ref_str(r, &refs[k]);
                    if (cv_buf_addf(&cols, "%s%.*s", k ? ", " : "", (int)CV_MIN(h.len, 40),
                                    h.ptr) != CV_OK) {
                        break;
                    }
                }
                snprintf(msg, sizeof(msg), "no column \"%s\" in the header (columns: %s)",
                         missing, cols.ptr ? cols.ptr : "");
                cv_buf_release(&cols);
                r->start += used;
                r->line++;
                r->eof = true;
                r->start = r->end;
                r->fatal = true;
                return fail(r, CV_EPARSE, at, msg);
            }
            count_lines(r, raw, used);
            r->start += used;
            continue;
        }
        count_lines(r, raw, used);
        if (used > 0 && raw[used - 1] != '\n' && raw[used - 1] != '\r') {
            /* The last record without a newline: nothing to count. */
        }
        if (nf == 1 && refs[0].len == 0) {
            r->start += used; /* an empty line */
            continue;
        }
        unsigned need = (unsigned)CV_MAX(r->col_text, CV_MAX(r->col_id, r->col_time)) + 1;
        if (nf < need) {
            snprintf(msg, sizeof(msg), "%u fields, the header has %u", nf, r->ncols);
            r->start += used;
            return fail(r, CV_EPARSE, at, msg);
        }
        rec->text = ref_str(r, &refs[r->col_text]);
        rec->line = at;
        if (r->col_id >= 0 && refs[r->col_id].len > 0) {
            rec->id = ref_str(r, &refs[r->col_id]);
        } else {
            set_line_id(r, rec, at);
        }
        rec->has_time = false;
        if (r->col_time >= 0) {
            struct cv_str ts = ref_str(r, &refs[r->col_time]);
            if (ts.len > 0) {
                if (!parse_time(ts, &rec->time_ms)) {
                    snprintf(msg, sizeof(msg),
                             "column \"%s\" is not an ISO 8601 time or Unix seconds",
                             r->time_key);
                    r->start += used;
                    return fail(r, CV_EPARSE, at, msg);
                }
                rec->has_time = true;
            }
        }
        /* The views stay valid: the buffer is only compacted by the next call. */
        r->start += used;
        return CV_OK;
    }
}

cv_err ins_reader_next(struct ins_reader *r, struct ins_record *rec)
{
    memset(rec, 0, sizeof(*rec));
    switch (r->format) {
    case INS_FMT_CSV:
        return next_csv(r, rec);
    case INS_FMT_JSONL:
        return next_jsonl(r, rec);
    default:
        return next_text(r, rec);
    }
}
