/*
 * insights: turns customer feedback (CSV, JSON Lines, plain text) into
 * insights: per-record sentiment (the VADER method), recurring themes with
 * their sentiment, trend and quotes, as one JSON document
 * ("schema": "caravel.insights/v1", docs/insights-schema.md) plus, optionally,
 * one NDJSON line per record.
 *
 * The engine reads its inputs twice: the first pass gathers the corpus
 * statistics the themes need (vocabulary counts and a bounded sample of
 * records), the second scores every record and assigns it to themes. Memory
 * grows with the vocabulary, never with the number of records. Standard
 * input ("-") is spooled to an unlinked temporary file for the second pass.
 *
 * Output is deterministic: the same inputs and options give byte-identical
 * output. The run id derives from the input bytes and the options unless one
 * is given; generated_at comes from the clock passed in.
 */
#ifndef CV_INSIGHTS_H
#define CV_INSIGHTS_H

#include "base/base.h"

enum ins_format {
    INS_FMT_AUTO = 0, /* by extension: .csv, .jsonl/.ndjson/.json, else text */
    INS_FMT_CSV,
    INS_FMT_JSONL,
    INS_FMT_TEXT,
};

enum ins_trend {
    INS_TREND_AUTO = 0, /* day when the records span at most 45 days, else week */
    INS_TREND_DAY,
    INS_TREND_WEEK,
};

/* Five-level sentiment label of a compound score. */
enum ins_label {
    INS_VERY_NEGATIVE, /* compound <= -0.5 */
    INS_NEGATIVE,      /* -0.5 < compound <= -0.05 */
    INS_NEUTRAL,       /* |compound| < 0.05 */
    INS_POSITIVE,      /* 0.05 <= compound < 0.5 */
    INS_VERY_POSITIVE, /* compound >= 0.5 */
};
/** "very_negative" .. "very_positive". Static; never NULL. */
const char *ins_label_name(enum ins_label l);
enum ins_label ins_label_of(double compound);

/*
 * Where the per-record NDJSON lines go. write() gets one complete line
 * (ending in '\n'); it returns CV_OK or an error that stops the run.
 */
struct ins_sink {
    cv_err (*write)(void *ud, const char *data, size_t len);
    void *ud;
};

/** Called once per skipped record with "FILE:LINE: what" (--skip-invalid). */
typedef void (*ins_skip_fn)(void *ud, const char *msg);

struct ins_options {
    enum ins_format format;
    const char *text_column; /* borrows; NULL = "text" */
    const char *id_column;   /* borrows; NULL = "id" when present */
    const char *time_column; /* borrows; NULL = "created_at" when present */
    bool skip_invalid;
    /*
     * Sentiment only: one pass, no theme model. The document keeps its
     * schema with "themes": [] (every record unthemed); record lines have
     * empty theme lists.
     */
    bool no_themes;
    unsigned max_themes; /* 0 = the default (20) */
    enum ins_trend trend;
    const char *run_id; /* borrows; NULL = derived from input and options */
    size_t max_record_bytes; /* 0 = 1 MiB: a longer line or record is an error */
    const struct cv_clock *clock; /* borrows; NULL = the system clock */
    ins_skip_fn on_skip; /* NULL = cv_warn() */
    void *skip_ud;
};
#define INS_DEFAULT_MAX_THEMES 20u
#define INS_DEFAULT_MAX_RECORD (1u << 20)

/**
 * Analyses @p npaths inputs (borrowed; "-" is standard input) and appends the
 * insights JSON document to @p out. When @p records is not NULL, one NDJSON
 * line per record is written to it in input order.
 *
 * Errors: CV_EPARSE / CV_EUTF8 / CV_ETOOBIG / CV_ENOENT / CV_EIO for bad or
 * unreadable input (without skip_invalid), with "FILE:LINE: what" in
 * @p errmsg; CV_EINVAL for bad options; CV_ENOMEM. On error @p out may hold
 * a partial document and must be discarded.
 */
CV_WUR cv_err ins_analyze(const struct ins_options *opt, const char *const *paths, size_t npaths,
                          struct cv_buf *out, const struct ins_sink *records, char *errmsg,
                          size_t errlen);

/** Per-record sentiment, the VADER method. */
struct ins_sentiment {
    double compound; /* normalised, in [-1, 1], rounded to 4 decimals */
    double pos, neu, neg; /* proportions, rounded to 3 decimals */
};

/**
 * Scores one text (UTF-8, need not be terminated) the way VADER's
 * SentimentIntensityAnalyzer.polarity_scores() does. Uses a small internal
 * vocabulary cache; not thread-safe. Returns CV_ENOMEM only.
 */
CV_WUR cv_err ins_sentiment_of(const char *text, size_t len, struct ins_sentiment *out);

#endif
