/*
 * The analysis driver: pass 1 gathers the corpus statistics (vocabulary,
 * document frequencies, bigrams, a bounded sample of records, the input
 * hash and time range), the theme model is built, and pass 2 scores and
 * assigns every record, writing the per-record NDJSON as it goes. Then the
 * insights document is written (docs/insights-schema.md).
 */
#include "insights/insights_int.h"
#include "insights/output_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SAMPLE_MAX_IDS (1u << 20) /* 4 MiB of stem ids */
#define SPILL_MEM (1u << 20)      /* per-record spill kept in memory before a temp file */
#define SPILL_REC_MAX (4 * 2 + 1 + 4 * 64) /* 4 scores, count, 64 wide stems */
#define RECORD_MAX_STEMS 64
#define QUOTES 3
#define QUOTE_MAX_BYTES 280
#define MAX_PERIODS 4000
#define DAY_MS 86400000LL

struct input {
    const char *name;
    int fd;
    bool owned;
    enum ins_format fmt;
    uint64_t records, skipped, bytes;
};

struct quote {
    char *id;
    char *text;
    size_t idlen, textlen;
    double compound;
    float score;
    uint64_t recno;
};

struct tstats {
    uint64_t mentions, pos, neu, neg;
    double sum;
    uint32_t *pm, *ppos, *pneg; /* per period */
    double *psum;
    struct quote q[QUOTES];
    unsigned nq;
};

struct bigram {
    uint32_t a, b, count;
};

struct run {
    const struct ins_options *opt;
    struct bigram *bigrams;
    size_t nbigrams;
    struct ins_vocab v;
    struct ins_tokbuf tb;
    struct ins_sample sample;
    struct ins_spill spill;
    struct ins_model model;
    struct input *in;
    size_t nin;
    uint64_t nrec, nskipped, nbytes, ntimed;
    int64_t tmin, tmax;
    uint32_t stems[RECORD_MAX_STEMS];
    uint8_t head[RECORD_MAX_STEMS]; /* the stem ends a run of content stems somewhere */
    /*
     * Bigram keys: this record's (bgkeys[bgcur]) and the previous counted
     * record's (bgkeys[!bgcur], bgpend of them), which are added a record
     * late so that their table slots, fetched then, have arrived.
     */
    uint64_t bgkeys[2][256];
    unsigned bgcur;
    size_t bgpend;
    size_t nst;
    uint32_t stamp;
    uint64_t labels[5], pos, neu, neg, themed_records;
    double sum;
    bool trend_on, weekly;
    int64_t p0;
    uint32_t nperiods;
    uint64_t *precords;
    struct tstats *ts;
    uint8_t sha[CV_SHA256_LEN];
    bool spill_props; /* the spill keeps pos/neu/neg (only the --records lines show them) */
    struct cv_buf line;
    char *errmsg;
    size_t errlen;
};

/*
 * CARAVEL_INSIGHTS_TIMING=1 prints the CPU time of each phase to stderr (for
 * bench/ and profiling; it changes no output).
 */
static double phase_cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void phase_mark(bool on, double *t0, const char *what)
{
    if (on) {
        double t = phase_cpu();
        fprintf(stderr, "insights timing: %-28s %.3f s CPU\n", what, t - *t0);
        *t0 = t;
    }
}

/* ---------------------------------------------------------------- inputs */

static cv_err spool_stdin(struct run *run, struct input *in)
{
    char tmpl[4096];
    const char *dir = getenv("TMPDIR");
    char buf[65536];
    int fd;

    snprintf(tmpl, sizeof(tmpl), "%s/caravel-stdin-XXXXXX", dir && *dir ? dir : "/tmp");
    fd = mkstemp(tmpl);
    if (fd < 0) {
        cv_errf(run->errmsg, run->errlen, "-: cannot create a temporary file: %s",
                strerror(errno));
        return CV_EIO;
    }
    unlink(tmpl);
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            cv_errf(run->errmsg, run->errlen, "-: read failed: %s", strerror(errno));
            close(fd);
            return CV_EIO;
        }
        if (n == 0) {
            break;
        }
        if (cv_write_all(fd, buf, (size_t)n) != CV_OK) {
            cv_errf(run->errmsg, run->errlen, "-: cannot spool standard input: %s",
                    strerror(errno));
            close(fd);
            return CV_EIO;
        }
    }
    in->fd = fd;
    in->owned = true;
    if (lseek(fd, 0, SEEK_SET) != 0) {
        cv_errf(run->errmsg, run->errlen, "-: cannot rewind the spooled input: %s",
                strerror(errno));
        return CV_EIO;
    }
    if (in->fmt == INS_FMT_AUTO) {
        /* Sniff: an object on the first non-blank line means JSON Lines. */
        char head[256];
        ssize_t n = pread(fd, head, sizeof(head), 0);
        in->fmt = INS_FMT_TEXT;
        for (ssize_t i = 0; i < n; i++) {
            if (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n') {
                continue;
            }
            if (head[i] == '{') {
                in->fmt = INS_FMT_JSONL;
            }
            break;
        }
    }
    return CV_OK;
}

static cv_err open_inputs(struct run *run, const char *const *paths, size_t n)
{
    run->in = cv_calloc(n ? n : 1, sizeof(*run->in));
    if (!run->in) {
        return CV_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        struct input *in = &run->in[i];
        in->name = paths[i];
        in->fd = -1;
        in->fmt = run->opt->format;
        run->nin++;
        if (strcmp(paths[i], "-") == 0) {
            cv_err err = spool_stdin(run, in);
            if (err) {
                return err;
            }
            continue;
        }
        in->fd = open(paths[i], O_RDONLY | O_CLOEXEC);
        if (in->fd < 0) {
            int e = errno;
            cv_errf(run->errmsg, run->errlen, "%s: cannot open: %s", paths[i], strerror(e));
            return e == ENOENT ? CV_ENOENT : CV_EIO;
        }
        in->owned = true;
        if (in->fmt == INS_FMT_AUTO) {
            in->fmt = ins_format_from_name(paths[i]);
        }
    }
    return CV_OK;
}

static cv_err rewind_input(struct run *run, struct input *in)
{
    if (lseek(in->fd, 0, SEEK_SET) != 0) {
        cv_errf(run->errmsg, run->errlen, "%s: cannot read it twice: %s", in->name,
                strerror(errno));
        return CV_EIO;
    }
    return CV_OK;
}

/* ---------------------------------------------------------- per record */

/* Counts the bigrams still pending from the last counted record. */
static void bigrams_flush(struct run *run)
{
    ins_vocab_bigrams_add(&run->v, run->bgkeys[run->bgcur ^ 1], run->bgpend);
    run->bgpend = 0;
}

/*
 * The record's distinct stems (the first RECORD_MAX_STEMS) and their
 * document frequencies; the adjacent pairs (bigrams) of sampled records.
 */
static void collect_stems(struct run *run)
{
    const struct ins_tokbuf *tb = &run->tb;
    struct ins_stem_mark *marks = run->v.smarks;
    uint32_t prev = INS_PIECE_STOP;
    /* Bigrams (labels, phrases) are counted on the sampled records only. */
    bool bigrams = run->nrec % run->sample.stride == 0;
    size_t nbg = 0;

    run->nst = 0;
    run->stamp++;
    if (run->stamp == 0) {
        for (uint32_t i = 0; i < run->v.nstems; i++) {
            marks[i].stamp = 0;
        }
        run->stamp = 1;
    }
    /*
     * A stem directly followed by another content stem modifies it ("food
     * delivery", "coffee maker"): a record's stem that is never the last of
     * such a run is marked INS_STEM_MOD. pend is the previous piece's slot.
     */
    int pend = -1;
    for (size_t i = 0; i < tb->ntoks; i++) {
        const struct ins_word *w = tb->toks[i].w;
        const struct ins_piece *p = ins_word_pieces(&run->v, w);
        unsigned np = tb->toks[i].mention ? 0 : w->npieces;
        if (np == 0) {
            /* A stopword, number, link or @mention: a phrase boundary. */
            if (pend >= 0) {
                run->head[pend] = 1;
                pend = -1;
            }
            prev = INS_PIECE_STOP;
        }
        for (unsigned k = 0; k < np; k++) {
            uint32_t st = w->npieces == 1 ? w->stem1 : p[k].stem;
            if (st == INS_PIECE_STOP) {
                if (pend >= 0) {
                    run->head[pend] = 1;
                    pend = -1;
                }
                prev = INS_PIECE_STOP;
                continue;
            }
            if (prev == run->v.st_customer && (st == run->v.st_service || st == run->v.st_care)) {
                st = run->v.st_support; /* "customer service": support, not staff */
            }
            /* Phrases never hold a sentiment word ("great service"): not counted. */
            if (bigrams && prev != INS_PIECE_STOP && prev != st && !marks[prev].sentiment &&
                !marks[st].sentiment) {
                if (nbg == CV_ARRAY_LEN(run->bgkeys[0])) {
                    bigrams_flush(run); /* the previous record's first: the same order */
                    ins_vocab_bigrams(&run->v, run->bgkeys[run->bgcur], nbg);
                    nbg = 0;
                }
                run->bgkeys[run->bgcur][nbg++] = (uint64_t)prev << 32 | st;
            }
            prev = st;
            pend = -1;
            if (marks[st].stamp != run->stamp) {
                marks[st].stamp = run->stamp;
                marks[st].df++;
                marks[st].slot = 0xFF;
                if (run->nst < RECORD_MAX_STEMS) {
                    run->head[run->nst] = 0;
                    pend = (int)run->nst;
                    marks[st].slot = (uint8_t)run->nst;
                    run->stems[run->nst++] = st;
                }
            } else if (marks[st].slot != 0xFF) {
                pend = marks[st].slot; /* seen before in this record: its list slot */
            }
        }
        if (tb->toks[i].break_after) {
            if (pend >= 0) {
                run->head[pend] = 1;
                pend = -1;
            }
            prev = INS_PIECE_STOP;
        }
    }
    if (pend >= 0) {
        run->head[pend] = 1;
    }
    if (nbg > 0) {
        /* Fetch this record's slots, count the previous record's (fetched then). */
        ins_vocab_bigrams_prefetch(&run->v, run->bgkeys[run->bgcur], nbg);
        bigrams_flush(run);
        run->bgcur ^= 1;
        run->bgpend = nbg;
    }
}

/* The record's stems for assignment: the modifier-only ones flagged INS_STEM_MOD. */
static void flag_modifiers(struct run *run)
{
    for (size_t k = 0; k < run->nst; k++) {
        run->stems[k] |= run->head[k] ? 0 : INS_STEM_MOD;
    }
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Period index of a time: days since the epoch, or Monday-based weeks. */
static int64_t period_of(const struct run *run, int64_t ms)
{
    int64_t day = floor_div(ms, DAY_MS);
    return run->weekly ? floor_div(day + 3, 7) : day;
}

static int64_t period_start_day(const struct run *run, int64_t p)
{
    return run->weekly ? p * 7 - 3 : p;
}

static void skip_report(struct run *run, const char *msg)
{
    if (run->opt->on_skip) {
        run->opt->on_skip(run->opt->skip_ud, msg);
    } else {
        cv_warn("%s (skipped)", msg);
    }
}

/* ---------------------------------------------------------------- spill */

/*
 * A record for pass 2, in fixed-width fields (no per-byte branches; about
 * the size varints took): its rounded scores as integers (compound x 1e4 as
 * an int16; pos/neu/neg x 1e3 as uint16s, only when --records shows them:
 * dividing again gives the very same doubles), a count byte (bit 7: wide)
 * and its distinct stems in order of appearance, each (id << 1 | modifier)
 * as a uint16, or as a uint32 when some id of the record needs it. Native
 * byte order: the spill is read back by the process that wrote it.
 */
#define SPILL_WIDE 0x80u

/* x * scale is within a rounding error of an integer (x was rounded to it): that integer. */
static int64_t to_int(double x, double scale)
{
    double y = x * scale;
    return (int64_t)(y < 0 ? y - 0.5 : y + 0.5);
}

static void put_u16(unsigned char *p, unsigned v)
{
    uint16_t x = (uint16_t)v;
    memcpy(p, &x, 2);
}

static unsigned get_u16(const unsigned char *p)
{
    uint16_t x;
    memcpy(&x, p, 2);
    return x;
}

static cv_err spill_record(struct run *run, const struct ins_sentiment *s)
{
    unsigned char *tmp;
    size_t n = 0, nst = run->nst;
    uint32_t any = 0;
    cv_err err = ins_spill_reserve(&run->spill, SPILL_REC_MAX, &tmp);

    if (err) {
        return err;
    }
    put_u16(tmp, (unsigned)(int16_t)to_int(s->compound, 1e4)); /* |compound| <= 1 */
    n = 2;
    if (run->spill_props) {
        put_u16(tmp + 2, (unsigned)to_int(s->pos, 1e3));
        put_u16(tmp + 4, (unsigned)to_int(s->neu, 1e3));
        put_u16(tmp + 6, (unsigned)to_int(s->neg, 1e3));
        n = 8;
    }
    for (size_t k = 0; k < nst; k++) {
        any |= run->stems[k];
    }
    if ((any & ~INS_STEM_MOD) < 0x8000) {
        tmp[n++] = (unsigned char)nst;
        for (size_t k = 0; k < nst; k++) {
            uint32_t st = run->stems[k];
            put_u16(tmp + n + 2 * k, (st & ~INS_STEM_MOD) << 1 | (st >> 31));
        }
        n += 2 * nst;
    } else {
        tmp[n++] = (unsigned char)(nst | SPILL_WIDE);
        for (size_t k = 0; k < nst; k++) {
            uint32_t st = run->stems[k], x = (st & ~INS_STEM_MOD) << 1 | (st >> 31);
            memcpy(tmp + n + 4 * k, &x, 4);
        }
        n += 4 * nst;
    }
    run->spill.len += n;
    return CV_OK;
}

static cv_err unspill_record(struct run *run, struct ins_sentiment *s)
{
    struct ins_spill *sp = &run->spill;
    size_t head = run->spill_props ? 9 : 3;

    if (ins_spill_need(sp, SPILL_REC_MAX) != CV_OK) {
        return CV_EIO;
    }
    const unsigned char *p = sp->buf + sp->pos;
    size_t avail = sp->len - sp->pos;
    if (avail < head) {
        return CV_EPARSE;
    }
    s->compound = (double)(int16_t)get_u16(p) / 1e4;
    s->pos = s->neu = s->neg = 0;
    if (run->spill_props) {
        s->pos = (double)get_u16(p + 2) / 1e3;
        s->neu = (double)get_u16(p + 4) / 1e3;
        s->neg = (double)get_u16(p + 6) / 1e3;
    }
    unsigned c = p[head - 1];
    size_t nst = c & ~SPILL_WIDE, width = (c & SPILL_WIDE) ? 4 : 2;
    if (nst > RECORD_MAX_STEMS || avail - head < width * nst) {
        return CV_EPARSE;
    }
    p += head;
    uint32_t bad = 0;
    for (size_t k = 0; k < nst; k++) {
        uint32_t x;
        if (width == 2) {
            x = get_u16(p + 2 * k);
        } else {
            memcpy(&x, p + 4 * k, 4);
        }
        bad |= (x >> 1) >= run->v.nstems;
        run->stems[k] = (x >> 1) | (x << 31);
    }
    if (bad) {
        return CV_EPARSE;
    }
    run->nst = nst;
    sp->pos += head + width * nst;
    return CV_OK;
}

static cv_err record_line(struct run *run, const struct ins_record *rec,
                          const struct ins_sentiment *s, enum ins_label lab, const uint32_t *th,
                          size_t nth);
static int count_sentiment(struct run *run, const struct ins_sentiment *s, enum ins_label *lab);

/* Sentiment only (--no-themes): the record's overall counts and its NDJSON line. */
static cv_err sentiment_only(struct run *run, const struct ins_record *rec,
                             const struct ins_sentiment *s, const struct ins_sink *sink)
{
    enum ins_label lab;
    cv_err err;

    (void)count_sentiment(run, s, &lab);
    if (!sink) {
        return CV_OK;
    }
    err = record_line(run, rec, s, lab, NULL, 0);
    if (!err) {
        err = sink->write(sink->ud, run->line.ptr, run->line.len);
        if (err && err != CV_ENOMEM) {
            cv_errf(run->errmsg, run->errlen, "cannot write the records: %s", cv_err_str(err));
        }
    }
    return err;
}

/* With themes: the record's stems into the corpus statistics, and the spill. */
static cv_err themes_record(struct run *run, const struct ins_sentiment *s)
{
    cv_err err;

    collect_stems(run);
    uint32_t stride = run->sample.stride;
    flag_modifiers(run);
    err = ins_sample_add(&run->sample, (uint32_t)run->nrec, run->stems, run->nst);
    /* Bigrams are counted on sampled records: they follow the sample's halving. */
    if (stride < run->sample.stride) {
        bigrams_flush(run); /* everything counted so far is halved */
    }
    for (; stride < run->sample.stride; stride *= 2) {
        ins_vocab_bigrams_halve(&run->v);
    }
    if (!err) {
        err = spill_record(run, s);
        if (err == CV_EIO) {
            cv_errf(run->errmsg, run->errlen, "cannot write a temporary file: %s",
                    strerror(errno));
        }
    }
    return err;
}

/*
 * Pass 1: every record tokenized and scored once. With themes, its stems go
 * to the corpus statistics and, with its scores, to the spill for pass 2;
 * without (--no-themes) it is counted and its NDJSON line written here, and
 * there is no pass 2.
 */
static cv_err pass1(struct run *run, const struct ins_sink *sink)
{
    bool themes = !run->opt->no_themes;
    struct cv_sha256 sha;
    cv_err err = CV_OK;

    cv_sha256_init(&sha);
    run->spill_props = sink != NULL;
    run->tmin = INT64_MAX;
    run->tmax = INT64_MIN;
    for (size_t i = 0; i < run->nin && !err; i++) {
        struct input *in = &run->in[i];
        struct ins_reader r;
        struct ins_record rec;
        uint8_t sep[8] = {0xFF, 'c', 'v', 0, 0, 0, 0, (uint8_t)i};

        err = ins_reader_init(&r, in->name, in->fd, in->fmt, run->opt);
        if (err) {
            ins_reader_release(&r);
            break;
        }
        cv_sha256_update(&sha, sep, sizeof(sep));
        r.hash = &sha;
        r.no_line_ids = themes; /* with themes, pass 1 reads no ids */
        for (;;) {
            cv_err e = ins_reader_next(&r, &rec);
            if (e == CV_ENOENT) {
                break;
            }
            if (e == CV_ENOMEM) {
                err = e;
                break;
            }
            if (e) {
                if (!run->opt->skip_invalid || r.fatal) {
                    cv_errf(run->errmsg, run->errlen, "%s", r.err);
                    err = e;
                    break;
                }
                skip_report(run, r.err);
                in->skipped++;
                continue;
            }
            err = ins_tokenize(&run->v, &run->tb, rec.text.ptr, rec.text.len);
            if (err) {
                break;
            }
            struct ins_sentiment s;
            ins_vader(&run->tb, &s);
            if (themes) {
                err = themes_record(run, &s);
            } else {
                err = sentiment_only(run, &rec, &s, sink);
            }
            if (err) {
                break;
            }
            if (rec.has_time) {
                run->ntimed++;
                run->tmin = CV_MIN(run->tmin, rec.time_ms);
                run->tmax = CV_MAX(run->tmax, rec.time_ms);
            }
            in->records++;
            run->nrec++;
        }
        in->bytes = r.bytes;
        run->nbytes += r.bytes;
        run->nskipped += in->skipped;
        ins_reader_release(&r);
    }
    bigrams_flush(run);
    cv_sha256_final(&sha, run->sha);
    return err;
}

/* ---------------------------------------------------------------- quotes */

static cv_err keep_quote(struct tstats *ts, const struct ins_record *rec, double compound,
                         float score, uint64_t recno)
{
    /* Rank: assignment score, then a readable length (near 100 bytes), then order. */
    size_t len = rec->text.len;
    double fit = score - fabs((double)len - 100.0) / 400.0;
    unsigned pos = ts->nq;

    while (pos > 0) {
        const struct quote *q = &ts->q[pos - 1];
        double qfit = q->score - fabs((double)q->textlen - 100.0) / 400.0;
        if (qfit >= fit) {
            break;
        }
        pos--;
    }
    if (pos >= QUOTES) {
        return CV_OK;
    }
    /* Skip duplicates of a kept text. */
    size_t tl = CV_MIN(len, (size_t)QUOTE_MAX_BYTES);
    while (tl > 0 && tl < len && ((unsigned char)rec->text.ptr[tl] & 0xC0) == 0x80) {
        tl--; /* cut at a character boundary */
    }
    for (unsigned k = 0; k < ts->nq; k++) {
        if (ts->q[k].textlen == tl && memcmp(ts->q[k].text, rec->text.ptr, tl) == 0) {
            return CV_OK;
        }
    }
    struct quote nq = {0};
    struct cv_str id = rec->id;
    char num[24];
    if (rec->line_id) { /* pass 2 reads no ids without --records: the line number */
        id.len = (size_t)snprintf(num, sizeof(num), "%llu", (unsigned long long)rec->line);
        id.ptr = num;
    }
    nq.id = cv_strndup(id.ptr ? id.ptr : "", id.len);
    nq.text = cv_strndup(rec->text.ptr, tl);
    if (!nq.id || !nq.text) {
        cv_free(nq.id);
        cv_free(nq.text);
        return CV_ENOMEM;
    }
    nq.idlen = id.len;
    nq.textlen = tl;
    nq.compound = compound;
    nq.score = score;
    nq.recno = recno;
    if (ts->nq == QUOTES) {
        cv_free(ts->q[QUOTES - 1].id);
        cv_free(ts->q[QUOTES - 1].text);
        ts->nq--;
    }
    memmove(&ts->q[pos + 1], &ts->q[pos], (ts->nq - pos) * sizeof(struct quote));
    ts->q[pos] = nq;
    ts->nq++;
    return CV_OK;
}

/* ---------------------------------------------------------------- pass 2 */

static cv_err record_line(struct run *run, const struct ins_record *rec,
                          const struct ins_sentiment *s, enum ins_label lab, const uint32_t *th,
                          size_t nth)
{
    struct cv_buf *b = &run->line;
    cv_err err;

    cv_buf_reset(b);
    err = cv_buf_adds(b, "{\"id\":");
    if (!err) {
        err = ins_put_str(b, rec->id.ptr ? rec->id.ptr : "", rec->id.len);
    }
    if (!err) {
        err = cv_buf_adds(b, ",\"sentiment\":{\"compound\":");
    }
    if (!err) {
        err = ins_put_fixed(b, s->compound, 4);
    }
    if (!err) {
        err = cv_buf_adds(b, ",\"pos\":");
    }
    if (!err) {
        err = ins_put_fixed(b, s->pos, 3);
    }
    if (!err) {
        err = cv_buf_adds(b, ",\"neu\":");
    }
    if (!err) {
        err = ins_put_fixed(b, s->neu, 3);
    }
    if (!err) {
        err = cv_buf_adds(b, ",\"neg\":");
    }
    if (!err) {
        err = ins_put_fixed(b, s->neg, 3);
    }
    if (!err) {
        err = cv_buf_addf(b, "},\"label\":\"%s\",\"themes\":[", ins_label_name(lab));
    }
    for (size_t k = 0; k < nth && !err; k++) {
        err = cv_buf_addf(b, "%s\"t%02u\"", k ? "," : "", th[k] + 1);
    }
    if (!err) {
        err = cv_buf_adds(b, "]}\n");
    }
    return err;
}

/* The overall counts of a record's scores; returns its class (1, 0, -1). */
static int count_sentiment(struct run *run, const struct ins_sentiment *s, enum ins_label *lab)
{
    int cls = s->compound >= 0.05 ? 1 : (s->compound <= -0.05 ? -1 : 0);

    *lab = ins_label_of(s->compound);
    run->labels[*lab]++;
    run->sum += s->compound;
    run->pos += cls > 0;
    run->neg += cls < 0;
    run->neu += cls == 0;
    return cls;
}

static cv_err pass2(struct run *run, const struct ins_sink *sink)
{
    cv_err err = CV_OK;
    uint64_t recno = 0;

    for (size_t i = 0; i < run->nin && !err; i++) {
        struct input *in = &run->in[i];
        struct ins_reader r;
        struct ins_record rec;

        err = rewind_input(run, in);
        if (err) {
            break;
        }
        err = ins_reader_init(&r, in->name, in->fd, in->fmt, run->opt);
        if (err) {
            ins_reader_release(&r);
            break;
        }
        r.no_line_ids = !sink; /* only a kept quote needs the id then (keep_quote) */
        for (;;) {
            struct ins_sentiment s;
            uint32_t th[4];
            float score = 0;
            size_t nth;
            enum ins_label lab;
            cv_err e = ins_reader_next(&r, &rec);

            if (e == CV_ENOENT) {
                break;
            }
            if (e == CV_ENOMEM || (e && r.fatal)) {
                cv_errf(run->errmsg, run->errlen, "%s", r.err);
                err = e;
                break;
            }
            if (e) {
                continue; /* reported in pass 1 */
            }
            err = unspill_record(run, &s);
            if (err) {
                cv_errf(run->errmsg, run->errlen, "%s: %s", in->name,
                        err == CV_EIO ? "cannot read a temporary file"
                                      : "the input changed while it was being read");
                err = CV_EIO;
                break;
            }
            nth = ins_model_assign(&run->model, run->stems, run->nst, th, CV_ARRAY_LEN(th),
                                   &score);
            run->themed_records += nth > 0;
            int cls = count_sentiment(run, &s, &lab);
            int64_t pi = -1;
            if (run->trend_on && rec.has_time) {
                pi = period_of(run, rec.time_ms) - run->p0;
                if (pi >= 0 && pi < run->nperiods) {
                    run->precords[pi]++;
                } else {
                    pi = -1;
                }
            }
            for (size_t k = 0; k < nth; k++) {
                struct tstats *ts = &run->ts[th[k]];
                ts->mentions++;
                ts->sum += s.compound;
                ts->pos += cls > 0;
                ts->neg += cls < 0;
                ts->neu += cls == 0;
                if (pi >= 0) {
                    ts->pm[pi]++;
                    ts->psum[pi] += s.compound;
                    ts->ppos[pi] += cls > 0;
                    ts->pneg[pi] += cls < 0;
                }
                if (k == 0 && rec.text.len >= 8) {
                    err = keep_quote(ts, &rec, s.compound, score, recno);
                    if (err) {
                        break;
                    }
                }
            }
            if (!err && sink) {
                err = record_line(run, &rec, &s, lab, th, nth);
                if (!err) {
                    err = sink->write(sink->ud, run->line.ptr, run->line.len);
                    if (err && err != CV_ENOMEM) {
                        cv_errf(run->errmsg, run->errlen, "cannot write the records: %s",
                                cv_err_str(err));
                    }
                }
            }
            if (err) {
                break;
            }
            recno++;
        }
        ins_reader_release(&r);
    }
    if (!err && (ins_spill_need(&run->spill, 1) != CV_OK || run->spill.pos < run->spill.len)) {
        cv_errf(run->errmsg, run->errlen, "the input changed while it was being read");
        err = CV_EIO;
    }
    return err;
}

/* ------------------------------------------------------------- document */

static void surface(const struct run *run, uint32_t st, struct cv_str *out)
{
    const struct ins_stem *s = &run->v.stems[st];

    if (s->surface_word != UINT32_MAX) {
        const struct ins_word *w = ins_vocab_at(&run->v, s->surface_word);
        out->ptr = w->key + s->surface_off;
        out->len = s->surface_len;
    } else {
        out->ptr = s->key;
        out->len = s->len;
    }
}

/* The most frequent surface form of every stem. */
static void compute_surfaces(struct run *run)
{
    for (uint32_t i = 0; i < run->v.nwords; i++) {
        const struct ins_word *w = ins_vocab_at(&run->v, i);
        const struct ins_piece *p = ins_word_pieces(&run->v, w);
        for (unsigned k = 0; k < w->npieces; k++) {
            if (p[k].stem == INS_PIECE_STOP) {
                continue;
            }
            struct ins_stem *s = &run->v.stems[p[k].stem];
            if (w->count > s->surface_count ||
                (w->count == s->surface_count && s->surface_word != UINT32_MAX &&
                 w->count > 0 && strcmp(w->key, ins_vocab_at(&run->v, s->surface_word)->key) < 0)) {
                s->surface_count = w->count;
                s->surface_word = i;
                s->surface_off = p[k].off;
                s->surface_len = p[k].len;
            }
        }
    }
}

static int cmp_bigram(const void *x, const void *y)
{
    const struct bigram *p = x, *q = y;
    if (p->count != q->count) {
        return p->count > q->count ? -1 : 1;
    }
    if (p->a != q->a) {
        return p->a < q->a ? -1 : 1;
    }
    return p->b < q->b ? -1 : (p->b > q->b);
}

/* Bigrams seen at least 3 times, gathered once from the hash table. */
static cv_err gather_bigrams(struct run *run)
{
    const struct ins_vocab *v = &run->v;
    size_t n = 0;

    for (uint32_t i = 0; v->btab && i <= v->bmask; i++) {
        n += v->btab[i].count >= 3;
    }
    run->bigrams = cv_malloc((n ? n : 1) * sizeof(struct bigram));
    if (!run->bigrams) {
        return CV_ENOMEM;
    }
    for (uint32_t i = 0; v->btab && i <= v->bmask; i++) {
        if (v->btab[i].count >= 3) {
            struct bigram bg = {(uint32_t)(v->btab[i].key >> 32), (uint32_t)v->btab[i].key,
                                v->btab[i].count};
            run->bigrams[run->nbigrams++] = bg;
        }
    }
    qsort(run->bigrams, run->nbigrams, sizeof(struct bigram), cmp_bigram);
    return CV_OK;
}

/* Bigrams that involve a theme's members, most frequent first (at most @p max). */
static size_t theme_bigrams(const struct run *run, const struct ins_theme *th, struct bigram *out,
                            size_t max)
{
    size_t n = 0;
    const struct ins_vocab *v = &run->v;

    for (size_t i = 0; i < run->nbigrams && n < max; i++) {
        const struct bigram *bg = &run->bigrams[i];
        bool hit = false;
        for (size_t k = 0; k < th->nmembers && !hit; k++) {
            hit = th->members[k] == bg->a || th->members[k] == bg->b;
        }
        if (!hit || v->stems[bg->a].kind == INS_STEM_SENTIMENT ||
            v->stems[bg->b].kind == INS_STEM_SENTIMENT) {
            continue;
        }
        out[n++] = *bg;
    }
    return n;
}

static cv_err put_bigram(const struct run *run, struct cv_buf *b, const struct bigram *bg)
{
    struct cv_str x, y;
    char tmp[256];

    surface(run, bg->a, &x);
    surface(run, bg->b, &y);
    int n = snprintf(tmp, sizeof(tmp), "%.*s %.*s", (int)CV_MIN(x.len, 120), x.ptr,
                     (int)CV_MIN(y.len, 120), y.ptr);
    return ins_put_str(b, tmp, (size_t)n);
}

static void make_label(struct run *run, struct ins_theme *th)
{
    struct cv_str h, s2;
    struct bigram bg[1];
    size_t nb = theme_bigrams(run, th, bg, 1);
    uint32_t hdf = run->v.stems[th->head].df;

    surface(run, th->head, &h);
    /* Bigram counts are of sampled records: compare with the head's sample frequency. */
    if (nb && (bg[0].a == th->head || bg[0].b == th->head) &&
        (uint64_t)bg[0].count * 10 >= (uint64_t)run->v.stems[th->head].sdf * 4) {
        struct cv_str x, y;
        surface(run, bg[0].a, &x);
        surface(run, bg[0].b, &y);
        snprintf(th->label, sizeof(th->label), "%.*s %.*s", (int)CV_MIN(x.len, 40), x.ptr,
                 (int)CV_MIN(y.len, 40), y.ptr);
        return;
    }
    uint32_t second = UINT32_MAX;
    for (size_t k = 0; k < th->nmembers && second == UINT32_MAX; k++) {
        uint32_t st = th->members[k];
        if (st != th->head && run->v.stems[st].group &&
            run->v.stems[st].group == run->v.stems[th->head].group) {
            second = st;
        }
    }
    if (second == UINT32_MAX && th->nmembers > 1 && !run->v.stems[th->head].group) {
        second = th->members[1] == th->head ? th->members[0] : th->members[1];
    }
    if (second != UINT32_MAX && run->v.stems[second].df * 2 >= hdf) {
        surface(run, second, &s2);
        snprintf(th->label, sizeof(th->label), "%.*s / %.*s", (int)CV_MIN(h.len, 40), h.ptr,
                 (int)CV_MIN(s2.len, 40), s2.ptr);
        return;
    }
    snprintf(th->label, sizeof(th->label), "%.*s", (int)CV_MIN(h.len, 80), h.ptr);
}

static cv_err put_net(struct cv_buf *b, uint64_t pos, uint64_t neg, uint64_t n)
{
    return ins_put_fixed(b, n ? 100.0 * ((double)pos - (double)neg) / (double)n : 0.0, 1);
}

static cv_err put_date(struct cv_buf *b, int64_t day)
{
    char iso[25];
    cv_time_iso8601_ms(day * DAY_MS, iso);
    return ins_put_str(b, iso, 10);
}

#define ADD(expr)                                                                                  \
    do {                                                                                           \
        if (!err) {                                                                                \
            err = (expr);                                                                          \
        }                                                                                          \
    } while (0)

static cv_err put_trend(struct run *run, struct cv_buf *b, const struct tstats *ts)
{
    cv_err err = CV_OK;

    if (!run->trend_on) {
        return cv_buf_adds(b, "null");
    }
    ADD(cv_buf_addf(b, "{\"period\":\"%s\",\"points\":[", run->weekly ? "week" : "day"));
    for (uint32_t p = 0; p < run->nperiods && !err; p++) {
        uint64_t n = run->precords[p], m = ts->pm[p];
        double share = n ? (double)m / (double)n : 0;
        double mean = m ? ts->psum[p] / (double)m : 0;
        ADD(cv_buf_adds(b, p ? ",{\"start\":" : "{\"start\":"));
        ADD(put_date(b, period_start_day(run, run->p0 + p)));
        ADD(cv_buf_adds(b, ",\"records\":"));
        ADD(ins_put_u64(b, n));
        ADD(cv_buf_adds(b, ",\"mentions\":"));
        ADD(ins_put_u64(b, m));
        ADD(cv_buf_adds(b, ",\"share\":"));
        ADD(ins_put_fixed(b, share, 4));
        ADD(cv_buf_adds(b, ",\"mean_sentiment\":"));
        ADD(ins_put_fixed(b, mean, 4));
        ADD(cv_buf_adds(b, ",\"net_sentiment\":"));
        ADD(put_net(b, ts->ppos[p], ts->pneg[p], m));
        if (p == 0) {
            ADD(cv_buf_adds(b, ",\"change\":null}"));
            continue;
        }
        uint64_t pn = run->precords[p - 1], pm = ts->pm[p - 1];
        double pshare = pn ? (double)pm / (double)pn : 0;
        double net = m ? 100.0 * ((double)ts->ppos[p] - (double)ts->pneg[p]) / (double)m : 0;
        double pnet = pm ? 100.0 * ((double)ts->ppos[p - 1] - (double)ts->pneg[p - 1]) / (double)pm
                         : 0;
        ADD(cv_buf_adds(b, ",\"change\":{\"mentions\":"));
        ADD(cv_buf_addf(b, "%lld", (long long)m - (long long)pm));
        ADD(cv_buf_adds(b, ",\"share\":"));
        ADD(ins_put_fixed(b, share - pshare, 4));
        ADD(cv_buf_adds(b, ",\"net_sentiment\":"));
        ADD(ins_put_fixed(b, net - pnet, 1));
        ADD(cv_buf_adds(b, "}}"));
    }
    ADD(cv_buf_adds(b, "]}"));
    return err;
}

static const char *format_name(enum ins_format f)
{
    switch (f) {
    case INS_FMT_CSV:
        return "csv";
    case INS_FMT_JSONL:
        return "jsonl";
    default:
        return "text";
    }
}

static cv_err write_document(struct run *run, struct cv_buf *b, const char *run_id,
                             int64_t now_ms)
{
    cv_err err = CV_OK;
    char iso[25], hex[2 * CV_SHA256_LEN + 1];
    uint64_t n = run->pos + run->neu + run->neg;

    cv_time_iso8601_ms(now_ms, iso);
    cv_hex_encode(run->sha, CV_SHA256_LEN, hex);
    ADD(cv_buf_adds(b, "{\n  \"schema\": \"caravel.insights/v1\",\n  \"run_id\": "));
    ADD(ins_put_str(b, run_id, strlen(run_id)));
    ADD(cv_buf_addf(b, ",\n  \"generated_at\": \"%s\",\n  \"input\": {\n    \"files\": [", iso));
    for (size_t i = 0; i < run->nin; i++) {
        const struct input *in = &run->in[i];
        ADD(cv_buf_adds(b, i ? ",\n      {\"name\": " : "\n      {\"name\": "));
        ADD(ins_put_str(b, in->name, strlen(in->name)));
        ADD(cv_buf_addf(b, ", \"format\": \"%s\", \"records\": ", format_name(in->fmt)));
        ADD(ins_put_u64(b, in->records));
        ADD(cv_buf_adds(b, ", \"skipped\": "));
        ADD(ins_put_u64(b, in->skipped));
        ADD(cv_buf_adds(b, ", \"bytes\": "));
        ADD(ins_put_u64(b, in->bytes));
        ADD(cv_buf_adds(b, "}"));
    }
    ADD(cv_buf_adds(b, run->nin ? "\n    ],\n    \"records\": " : "],\n    \"records\": "));
    ADD(ins_put_u64(b, run->nrec));
    ADD(cv_buf_adds(b, ",\n    \"skipped\": "));
    ADD(ins_put_u64(b, run->nskipped));
    ADD(cv_buf_adds(b, ",\n    \"bytes\": "));
    ADD(ins_put_u64(b, run->nbytes));
    ADD(cv_buf_addf(b, ",\n    \"sha256\": \"%s\",\n    \"records_with_time\": ", hex));
    ADD(ins_put_u64(b, run->ntimed));
    ADD(cv_buf_adds(b, ",\n    \"time_range\": "));
    if (run->ntimed) {
        char a[25], z[25];
        cv_time_iso8601_ms(run->tmin, a);
        cv_time_iso8601_ms(run->tmax, z);
        ADD(cv_buf_addf(b, "{\"from\": \"%s\", \"to\": \"%s\"}", a, z));
    } else {
        ADD(cv_buf_adds(b, "null"));
    }
    ADD(cv_buf_adds(b, "\n  },\n  \"sentiment\": {\n    \"mean_compound\": "));
    ADD(ins_put_fixed(b, n ? run->sum / (double)n : 0, 4));
    ADD(cv_buf_adds(b, ",\n    \"positive\": "));
    ADD(ins_put_u64(b, run->pos));
    ADD(cv_buf_adds(b, ", \"neutral\": "));
    ADD(ins_put_u64(b, run->neu));
    ADD(cv_buf_adds(b, ", \"negative\": "));
    ADD(ins_put_u64(b, run->neg));
    ADD(cv_buf_adds(b, ",\n    \"net_sentiment\": "));
    ADD(put_net(b, run->pos, run->neg, n));
    ADD(cv_buf_adds(b, ",\n    \"labels\": {"));
    for (unsigned l = 0; l < 5; l++) {
        ADD(cv_buf_addf(b, "%s\"%s\": ", l ? ", " : "", ins_label_name((enum ins_label)l)));
        ADD(ins_put_u64(b, run->labels[l]));
    }
    ADD(cv_buf_adds(b, "}\n  },\n  \"themes\": ["));
    for (size_t t = 0; t < run->model.nthemes; t++) {
        struct ins_theme *th = &run->model.themes[t];
        const struct tstats *ts = &run->ts[t];
        uint64_t tn = ts->pos + ts->neu + ts->neg;
        struct bigram bg[4];
        size_t nb = theme_bigrams(run, th, bg, 4);

        make_label(run, th);
        ADD(cv_buf_addf(b, "%s\n    {\n      \"id\": \"t%02u\",\n      \"label\": ", t ? "," : "",
                        (unsigned)t + 1));
        ADD(ins_put_str(b, th->label, strlen(th->label)));
        ADD(cv_buf_adds(b, ",\n      \"keywords\": ["));
        size_t nk = 0;
        for (size_t k = 0; k < th->nmembers && k < 10; k++) {
            struct cv_str s;
            surface(run, th->members[k], &s);
            ADD(cv_buf_adds(b, nk++ ? ", " : ""));
            ADD(ins_put_str(b, s.ptr, s.len));
        }
        ADD(cv_buf_adds(b, "],\n      \"phrases\": ["));
        for (size_t k = 0; k < nb; k++) {
            ADD(cv_buf_adds(b, k ? ", " : ""));
            ADD(put_bigram(run, b, &bg[k]));
        }
        ADD(cv_buf_adds(b, "],\n      \"cohesion\": "));
        ADD(ins_put_fixed(b, th->cohesion, 3));
        ADD(cv_buf_adds(b, ",\n      \"mentions\": "));
        ADD(ins_put_u64(b, ts->mentions));
        ADD(cv_buf_adds(b, ",\n      \"share\": "));
        ADD(ins_put_fixed(b, run->nrec ? (double)ts->mentions / (double)run->nrec : 0, 4));
        ADD(cv_buf_adds(b, ",\n      \"sentiment\": {\"mean\": "));
        ADD(ins_put_fixed(b, tn ? ts->sum / (double)tn : 0, 4));
        ADD(cv_buf_adds(b, ", \"positive\": "));
        ADD(ins_put_u64(b, ts->pos));
        ADD(cv_buf_adds(b, ", \"neutral\": "));
        ADD(ins_put_u64(b, ts->neu));
        ADD(cv_buf_adds(b, ", \"negative\": "));
        ADD(ins_put_u64(b, ts->neg));
        ADD(cv_buf_adds(b, ", \"net_sentiment\": "));
        ADD(put_net(b, ts->pos, ts->neg, tn));
        ADD(cv_buf_adds(b, "},\n      \"trend\": "));
        ADD(put_trend(run, b, ts));
        ADD(cv_buf_adds(b, ",\n      \"quotes\": ["));
        for (unsigned q = 0; q < ts->nq; q++) {
            ADD(cv_buf_adds(b, q ? ",\n        {\"id\": " : "\n        {\"id\": "));
            ADD(ins_put_str(b, ts->q[q].id, ts->q[q].idlen));
            ADD(cv_buf_adds(b, ", \"text\": "));
            ADD(ins_put_str(b, ts->q[q].text, ts->q[q].textlen));
            ADD(cv_buf_adds(b, ", \"compound\": "));
            ADD(ins_put_fixed(b, ts->q[q].compound, 4));
            ADD(cv_buf_adds(b, "}"));
        }
        ADD(cv_buf_adds(b, ts->nq ? "\n      ]\n    }" : "]\n    }"));
    }
    ADD(cv_buf_adds(b, run->model.nthemes ? "\n  ],\n" : "],\n"));
    return err;
}

static cv_err write_unthemed(struct run *run, struct cv_buf *b, uint64_t unthemed)
{
    cv_err err = CV_OK;

    ADD(cv_buf_adds(b, "  \"unthemed\": {\"records\": "));
    ADD(ins_put_u64(b, unthemed));
    ADD(cv_buf_adds(b, ", \"share\": "));
    ADD(ins_put_fixed(b, run->nrec ? (double)unthemed / (double)run->nrec : 0, 4));
    ADD(cv_buf_adds(b, "}\n}\n"));
    return err;
}

/* ---------------------------------------------------------------- driver */

static cv_err setup_trend(struct run *run)
{
    enum ins_trend t = run->opt->trend;

    if (run->ntimed == 0) {
        return CV_OK;
    }
    int64_t span_days = (run->tmax - run->tmin) / DAY_MS;
    run->weekly = t == INS_TREND_WEEK || (t == INS_TREND_AUTO && span_days > 45);
    run->p0 = period_of(run, run->tmin);
    int64_t np = period_of(run, run->tmax) - run->p0 + 1;
    if (np > MAX_PERIODS && !run->weekly && t == INS_TREND_AUTO) {
        run->weekly = true;
        run->p0 = period_of(run, run->tmin);
        np = period_of(run, run->tmax) - run->p0 + 1;
    }
    if (np > MAX_PERIODS) {
        return CV_OK; /* too long a span: no trend */
    }
    run->nperiods = (uint32_t)np;
    run->precords = cv_calloc(np, sizeof(uint64_t));
    if (!run->precords) {
        return CV_ENOMEM;
    }
    for (size_t i = 0; i < run->model.nthemes; i++) {
        struct tstats *ts = &run->ts[i];
        ts->pm = cv_calloc(np, sizeof(uint32_t));
        ts->ppos = cv_calloc(np, sizeof(uint32_t));
        ts->pneg = cv_calloc(np, sizeof(uint32_t));
        ts->psum = cv_calloc(np, sizeof(double));
        if (!ts->pm || !ts->ppos || !ts->pneg || !ts->psum) {
            return CV_ENOMEM;
        }
    }
    run->trend_on = true;
    return CV_OK;
}

static void derive_run_id(const struct run *run, char out[32])
{
    struct cv_sha256 c;
    uint8_t h[CV_SHA256_LEN];
    char hex[2 * CV_SHA256_LEN + 1];
    const struct ins_options *o = run->opt;
    char opts[512];
    int n = snprintf(opts, sizeof(opts), "v1|fmt=%d|text=%s|id=%s|time=%s|skip=%d|themes=%u|trend=%d|max=%zu",
                     (int)o->format, o->text_column ? o->text_column : "",
                     o->id_column ? o->id_column : "", o->time_column ? o->time_column : "",
                     (int)o->skip_invalid, o->max_themes, (int)o->trend, o->max_record_bytes);

    if (o->no_themes && n > 0 && (size_t)n < sizeof(opts)) {
        n += snprintf(opts + n, sizeof(opts) - (size_t)n, "|sentiment-only");
    }

    cv_sha256_init(&c);
    cv_sha256_update(&c, run->sha, sizeof(run->sha));
    cv_sha256_update(&c, opts, (size_t)n);
    cv_sha256_final(&c, h);
    cv_hex_encode(h, 8, hex);
    snprintf(out, 32, "run-%.16s", hex);
}

cv_err ins_analyze(const struct ins_options *opt, const char *const *paths, size_t npaths,
                   struct cv_buf *out, const struct ins_sink *records, char *errmsg, size_t errlen)
{
    struct run run;
    struct ins_options defaults = {0};
    cv_err err;
    char rid[32];
    char dummy[8];

    memset(&run, 0, sizeof(run));
    if (!errmsg || errlen == 0) {
        errmsg = dummy;
        errlen = sizeof(dummy);
    }
    errmsg[0] = '\0';
    run.opt = opt ? opt : &defaults;
    run.errmsg = errmsg;
    run.errlen = errlen;
    unsigned max_themes = run.opt->max_themes ? run.opt->max_themes : INS_DEFAULT_MAX_THEMES;
    if (max_themes > 64) {
        cv_errf(errmsg, errlen, "at most 64 themes");
        return CV_EINVAL;
    }
    cv_buf_init(&run.line, 64u << 20);
    ins_sample_init(&run.sample, SAMPLE_MAX_IDS);
    err = ins_spill_init(&run.spill, SPILL_MEM);
    if (!err) {
        err = ins_vocab_init(&run.v);
    }
    if (!err) {
        err = open_inputs(&run, paths, npaths);
    }
    const char *tenv = getenv("CARAVEL_INSIGHTS_TIMING");
    bool timing = tenv && *tenv == '1';
    double t0 = timing ? phase_cpu() : 0;
    run.v.no_pieces = run.opt->no_themes;
    phase_mark(timing, &t0, "setup (vocabulary tables)");
    if (!err) {
        err = pass1(&run, records);
    }
    phase_mark(timing, &t0, "pass 1 (read, score, stems)");
    if (!err && !run.opt->no_themes) {
        for (uint32_t i = 0; i < run.v.nstems; i++) {
            run.v.stems[i].df = run.v.smarks[i].df;
        }
        ins_vocab_resolve_groups(&run.v);
        compute_surfaces(&run);
        phase_mark(timing, &t0, "groups and surfaces");
        err = ins_model_build(&run.model, &run.v, &run.sample, run.nrec, max_themes);
        phase_mark(timing, &t0, "theme model");
    }
    if (!err && !run.opt->no_themes) {
        run.ts = cv_calloc(run.model.nthemes ? run.model.nthemes : 1, sizeof(*run.ts));
        err = run.ts ? setup_trend(&run) : CV_ENOMEM;
    }
    if (!err && !run.opt->no_themes) {
        err = ins_spill_rewind(&run.spill);
        if (err) {
            cv_errf(errmsg, errlen, "cannot write a temporary file: %s", strerror(errno));
        }
    }
    if (!err && !run.opt->no_themes) {
        err = pass2(&run, records);
        phase_mark(timing, &t0, "pass 2 (read, assign, stats)");
    }
    if (!err) {
        const struct cv_clock *clk = run.opt->clock ? run.opt->clock : cv_clock_system();
        const char *id = run.opt->run_id;
        uint64_t unthemed = run.nrec;
        if (!id) {
            derive_run_id(&run, rid);
            id = rid;
        }
        err = gather_bigrams(&run);
        if (!err) {
            err = write_document(&run, out, id, cv_clock_now_ms(clk));
        }
        if (!err) {
            unthemed = run.nrec - run.themed_records;
            err = write_unthemed(&run, out, unthemed);
        }
        phase_mark(timing, &t0, "document");
    }
    if (err == CV_ENOMEM && !errmsg[0]) {
        cv_errf(errmsg, errlen, "out of memory");
    }
    /* Release everything. */
    for (size_t i = 0; run.in && i < run.nin; i++) {
        if (run.in[i].owned && run.in[i].fd >= 0) {
            close(run.in[i].fd);
        }
    }
    cv_free(run.in);
    for (size_t t = 0; run.ts && t < run.model.nthemes; t++) {
        struct tstats *ts = &run.ts[t];
        for (unsigned q = 0; q < ts->nq; q++) {
            cv_free(ts->q[q].id);
            cv_free(ts->q[q].text);
        }
        cv_free(ts->pm);
        cv_free(ts->ppos);
        cv_free(ts->pneg);
        cv_free(ts->psum);
    }
    cv_free(run.ts);
    cv_free(run.precords);
    cv_free(run.bigrams);
    ins_model_release(&run.model);
    ins_sample_release(&run.sample);
    ins_spill_release(&run.spill);
    ins_tokbuf_release(&run.tb);
    ins_vocab_release(&run.v);
    cv_buf_release(&run.line);
    return err;
}

/* ------------------------------------------------------- single texts */

static struct ins_vocab one_vocab;
static struct ins_tokbuf one_tb;
static bool one_ready;

cv_err ins_sentiment_of(const char *text, size_t len, struct ins_sentiment *out)
{
    cv_err err;

    memset(out, 0, sizeof(*out));
    if (!one_ready) {
        err = ins_vocab_init(&one_vocab);
        if (err) {
            return err;
        }
        one_ready = true;
    }
    err = ins_tokenize(&one_vocab, &one_tb, text, len);
    if (err) {
        return err;
    }
    ins_vader(&one_tb, out);
    return CV_OK;
}
