/* Logging: a level filter and a sink. Never pass secrets to these. */
#include "base.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

static atomic_int level = CV_LOG_INFO;
static cv_log_sink_fn sink_fn;
static void *sink_ud;
static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;

void cv_log_set_level(enum cv_log_level lvl)
{
    atomic_store(&level, (int)lvl);
}

enum cv_log_level cv_log_get_level(void)
{
    return (enum cv_log_level)atomic_load(&level);
}

void cv_log_set_sink(cv_log_sink_fn fn, void *ud)
{
    pthread_mutex_lock(&sink_lock);
    sink_fn = fn;
    sink_ud = ud;
    pthread_mutex_unlock(&sink_lock);
}

static const char *level_name(enum cv_log_level l)
{
    switch (l) {
    case CV_LOG_DEBUG:
        return "debug";
    case CV_LOG_INFO:
        return "info";
    case CV_LOG_WARN:
        return "warn";
    case CV_LOG_ERROR:
        return "error";
    default:
        return "off";
    }
}

void cv_log(enum cv_log_level lvl, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if ((int)lvl < atomic_load(&level)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    pthread_mutex_lock(&sink_lock);
    if (sink_fn) {
        sink_fn(lvl, msg, sink_ud);
    } else {
        char ts[25];
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        cv_time_iso8601_ms((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, ts);
        fprintf(stderr, "%s %-5s %s\n", ts, level_name(lvl), msg);
    }
    pthread_mutex_unlock(&sink_lock);
}
