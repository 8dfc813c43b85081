/* caravel analyze: feedback files in, insights JSON out (the insights module). */
#include "cli/cli.h"
#include "insights/insights.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#if defined(__GLIBC__) && defined(__linux__)
#include <malloc.h>
#include <sys/mman.h>
#endif

static void usage(FILE *f)
{
    fprintf(f,
            "usage: caravel analyze [options] FILE... ('-' reads standard input)\n"
            "\n"
            "Reads customer feedback (CSV with a header row, JSON Lines, or plain text with a\n"
            "record a line) and writes insights JSON (schema caravel.insights/v1): overall\n"
            "sentiment and the recurring themes with their sentiment, trend and quotes.\n"
            "\n"
            "options:\n"
            "  --format csv|jsonl|text  input format (default: by file extension)\n"
            "  --text-column NAME       CSV column / JSON member with the text (default text)\n"
            "  --id-column NAME         record ids (default id, when present)\n"
            "  --time-column NAME       record times, ISO 8601 or Unix seconds (default\n"
            "                           created_at, when present)\n"
            "  --out FILE               write the insights JSON to FILE (default stdout)\n"
            "  --records FILE           write one NDJSON line per record (gzip if FILE ends .gz)\n"
            "  --skip-invalid           report and skip bad records instead of failing\n"
            "  --max-themes N           at most N themes (default 20, at most 64)\n"
            "  --no-themes              sentiment only: one pass, no theme model (\"themes\": [])\n"
            "  --trend day|week|auto    trend period (default auto)\n"
            "  --max-record-bytes N     longest record or line accepted (default 1048576)\n"
            "  --run-id ID              run id (default: derived from the input and options)\n"
            "  --now TIME               generated_at as ISO 8601 (default: the clock)\n"
            "\n"
            "Exit status: 0 success, 1 bad or unreadable input, 2 usage.\n");
}

/* The records sink: buffered stdio, or gzip through zlib. */
struct rec_out {
    FILE *f;
    gzFile gz;
    const char *path;
};

static cv_err rec_write(void *ud, const char *data, size_t len)
{
    struct rec_out *o = ud;

    if (o->gz) {
        return gzwrite(o->gz, data, (unsigned)len) == (int)len ? CV_OK : CV_EIO;
    }
    return fwrite(data, 1, len, o->f) == len ? CV_OK : CV_EIO;
}

static void on_skip(void *ud, const char *msg)
{
    CV_UNUSED(ud);
    fprintf(stderr, "caravel: %s (skipped)\n", msg);
}

/*
 * The analysis allocates a few large blocks (the theme sample, the bigram
 * table, the model's co-occurrence counts) and frees some while it runs.
 * With glibc's defaults each comes from a fresh mmap and goes back with
 * munmap, so its pages are faulted in again and again; page faults are the
 * dearest thing a run does on a virtual machine (see
 * docs/internals/insights.md, round 4). Here every block comes from the
 * heap, freed memory is kept for reuse, and the heap grows in large steps
 * marked for transparent huge pages (one fault per 2 MiB where the kernel
 * has them; memory is still only taken as it is touched).
 */
static void tune_malloc(void)
{
#if defined(__GLIBC__) && defined(__linux__) && defined(MADV_HUGEPAGE)
    const size_t step = (size_t)32 << 20, huge = (size_t)2 << 20; /* 32 MiB: glibc's largest threshold */

    mallopt(M_MMAP_THRESHOLD, (int)step);
    mallopt(M_TRIM_THRESHOLD, (int)(4 * step));
    mallopt(M_TOP_PAD, (int)step);
    /*
     * Grow the heap now, by one step, and mark it: later blocks come from
     * there. Only when the heap grew for the block, which then starts in the
     * old top of the heap (not so under a sanitizer's allocator, for one).
     */
    uintptr_t brk0 = (uintptr_t)sbrk(0);
    void *p = cv_malloc(huge);
    uintptr_t brk1 = (uintptr_t)sbrk(0), at = (uintptr_t)p;
    if (p && brk1 > brk0 && at + huge >= brk0 && at + huge <= brk1) {
        uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1);
        uintptr_t hi = brk1 & ~(uintptr_t)(huge - 1);
        if (hi > lo) {
            (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
        }
    }
    cv_free(p);
#endif
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int cli_analyze(int argc, char **argv)
{
    enum {
        O_FORMAT = 256, O_TEXT, O_ID, O_TIME, O_OUT, O_RECORDS, O_SKIP, O_MAXT, O_TREND, O_RUNID,
        O_NOW, O_MAXREC, O_NOTHEMES, O_HELP
    };
    static const struct option longopts[] = {
        {"format", required_argument, NULL, O_FORMAT},
        {"text-column", required_argument, NULL, O_TEXT},
        {"id-column", required_argument, NULL, O_ID},
        {"time-column", required_argument, NULL, O_TIME},
        {"out", required_argument, NULL, O_OUT},
        {"records", required_argument, NULL, O_RECORDS},
        {"skip-invalid", no_argument, NULL, O_SKIP},
        {"max-themes", required_argument, NULL, O_MAXT},
        {"no-themes", no_argument, NULL, O_NOTHEMES},
        {"trend", required_argument, NULL, O_TREND},
        {"run-id", required_argument, NULL, O_RUNID},
        {"now", required_argument, NULL, O_NOW},
        {"max-record-bytes", required_argument, NULL, O_MAXREC},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    struct ins_options opt = {0};
    struct cv_clock fixed;
    const char *out_path = NULL, *rec_path = NULL;
    struct cv_buf doc = CV_BUF_INIT((size_t)1 << 30);
    struct rec_out ro = {NULL, NULL, NULL};
    struct ins_sink sink = {rec_write, &ro};
    char errmsg[1024] = "";
    int status = CLI_EXIT_FAIL;
    int c;
    cv_err err;
    uint64_t u;

    opt.on_skip = on_skip;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case O_FORMAT:
            if (strcmp(optarg, "csv") == 0) {
                opt.format = INS_FMT_CSV;
            } else if (strcmp(optarg, "jsonl") == 0 || strcmp(optarg, "ndjson") == 0) {
                opt.format = INS_FMT_JSONL;
            } else if (strcmp(optarg, "text") == 0) {
                opt.format = INS_FMT_TEXT;
            } else {
                cli_errorf("analyze: --format must be csv, jsonl or text");
                return CLI_EXIT_USAGE;
            }
            break;
        case O_TEXT:
            opt.text_column = optarg;
            break;
        case O_ID:
            opt.id_column = optarg;
            break;
        case O_TIME:
            opt.time_column = optarg;
            break;
        case O_OUT:
            out_path = optarg;
            break;
        case O_RECORDS:
            rec_path = optarg;
            break;
        case O_SKIP:
            opt.skip_invalid = true;
            break;
        case O_NOTHEMES:
            opt.no_themes = true;
            break;
        case O_MAXT:
            if (cv_parse_u64(cv_str_c(optarg), &u) != CV_OK || u == 0 || u > 64) {
                cli_errorf("analyze: --max-themes must be 1..64");
                return CLI_EXIT_USAGE;
            }
            opt.max_themes = (unsigned)u;
            break;
        case O_MAXREC:
            if (cv_parse_u64(cv_str_c(optarg), &u) != CV_OK || u < 16 || u > (1u << 30)) {
                cli_errorf("analyze: --max-record-bytes must be 16..1073741824");
                return CLI_EXIT_USAGE;
            }
            opt.max_record_bytes = (size_t)u;
            break;
        case O_TREND:
            if (strcmp(optarg, "day") == 0) {
                opt.trend = INS_TREND_DAY;
            } else if (strcmp(optarg, "week") == 0) {
                opt.trend = INS_TREND_WEEK;
            } else if (strcmp(optarg, "auto") == 0) {
                opt.trend = INS_TREND_AUTO;
            } else {
                cli_errorf("analyze: --trend must be day, week or auto");
                return CLI_EXIT_USAGE;
            }
            break;
        case O_RUNID:
            if (!*optarg || strlen(optarg) > 128) {
                cli_errorf("analyze: --run-id must be 1..128 characters");
                return CLI_EXIT_USAGE;
            }
            opt.run_id = optarg;
            break;
        case O_NOW: {
            int64_t ms;
            if (cv_time_parse_iso8601(cv_str_c(optarg), &ms) != CV_OK) {
                cli_errorf("analyze: --now must be an ISO 8601 time (2024-05-01T12:00:00Z)");
                return CLI_EXIT_USAGE;
            }
            cv_clock_fixed(&fixed, ms);
            opt.clock = &fixed;
            break;
        }
        case O_HELP:
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        default:
            cli_errorf("analyze: unknown or incomplete option '%s'", argv[optind - 1]);
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        cli_errorf("analyze: no input files (use '-' for standard input)");
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (rec_path) {
        ro.path = rec_path;
        if (ends_with(rec_path, ".gz")) {
            ro.gz = gzopen(rec_path, "wb6");
        } else {
            ro.f = fopen(rec_path, "w");
        }
        if (!ro.gz && !ro.f) {
            cli_errorf("analyze: %s: cannot create: %s", rec_path, strerror(errno));
            return CLI_EXIT_FAIL;
        }
        if (ro.gz) {
            gzbuffer(ro.gz, 1u << 18);
        } else {
            setvbuf(ro.f, NULL, _IOFBF, 1u << 18);
        }
    }
    tune_malloc();
    err = ins_analyze(&opt, (const char *const *)(argv + optind), (size_t)(argc - optind), &doc,
                      rec_path ? &sink : NULL, errmsg, sizeof(errmsg));
    if (ro.gz && gzclose(ro.gz) != Z_OK && !err) {
        cli_errorf("analyze: %s: write failed", rec_path);
        err = CV_EIO;
        errmsg[0] = '\0';
        status = CLI_EXIT_FAIL;
    }
    if (ro.f && fclose(ro.f) != 0 && !err) {
        cli_errorf("analyze: %s: write failed: %s", rec_path, strerror(errno));
        err = CV_EIO;
    }
    if (err) {
        if (errmsg[0]) {
            cli_errorf("%s", errmsg);
        } else {
            cli_errorf("analyze: %s", cv_err_str(err));
        }
        goto out;
    }
    if (out_path && strcmp(out_path, "-") != 0) {
        err = cv_file_write_atomic(out_path, doc.ptr, doc.len, 0644);
        if (err) {
            cli_errorf("analyze: %s: cannot write: %s", out_path, cv_err_str(err));
            goto out;
        }
    } else if (cv_write_all(STDOUT_FILENO, doc.ptr, doc.len) != CV_OK) {
        cli_errorf("analyze: cannot write to standard output");
        goto out;
    }
    status = CLI_EXIT_OK;
out:
    cv_buf_release(&doc);
    return status;
}
