/* The injectable clock and the date formats S3 and SigV4 speak. */
#include "base.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int64_t system_now(const struct cv_clock *c)
{
    struct timespec ts;

    CV_UNUSED(c);
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const struct cv_clock system_clock = {system_now, 0};

const struct cv_clock *cv_clock_system(void)
{
    return &system_clock;
}

static int64_t fixed_now(const struct cv_clock *c)
{
    return c->fixed_ms;
}

void cv_clock_fixed(struct cv_clock *c, int64_t ms)
{
    c->now_ms = fixed_now;
    c->fixed_ms = ms;
}

uint64_t cv_monotonic_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Howard Hinnant's days_from_civil / civil_from_days. */
int64_t cv_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

struct civil {
    int64_t y;
    unsigned m, d, hh, mm, ss, wday;
};

static void civil_from_unix(int64_t t, struct civil *c)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;

    c->d = doy - (153 * mp + 2) / 5 + 1;
    c->m = mp < 10 ? mp + 3 : mp - 9;
    c->y = (int64_t)yoe + era * 400 + (c->m <= 2);
    c->hh = (unsigned)(secs / 3600);
    c->mm = (unsigned)(secs / 60 % 60);
    c->ss = (unsigned)(secs % 60);
    c->wday = (unsigned)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday (4) */
}

/* Years outside 0..9999 cannot be written in these formats: clamp. */
static unsigned year4(int64_t y)
{
    return y < 0 ? 0u : (y > 9999 ? 9999u : (unsigned)y);
}

void cv_time_amz(int64_t t, char out[17])
{
    struct civil c;
    char tmp[64];

    civil_from_unix(t, &c);
    snprintf(tmp, sizeof(tmp), "%04u%02u%02uT%02u%02u%02uZ", year4(c.y), c.m % 100, c.d % 100,
             c.hh % 100, c.mm % 100, c.ss % 100);
    memcpy(out, tmp, 16);
    out[16] = '\0';
}

void cv_time_iso8601_ms(int64_t ms, char out[25])
{
    struct civil c;
    int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);

    char tmp[64];

    civil_from_unix(s, &c);
    snprintf(tmp, sizeof(tmp), "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", year4(c.y), c.m % 100,
             c.d % 100, c.hh % 100, c.mm % 100, c.ss % 100, (unsigned)(ms - s * 1000) % 1000);
    memcpy(out, tmp, 24);
    out[24] = '\0';
}

static const char *const wdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void cv_time_http(int64_t t, char out[30])
{
    struct civil c;

    char tmp[64];

    civil_from_unix(t, &c);
    snprintf(tmp, sizeof(tmp), "%s, %02u %s %04u %02u:%02u:%02u GMT", wdays[c.wday % 7],
             c.d % 100, months[(c.m - 1) % 12], year4(c.y), c.hh % 100, c.mm % 100, c.ss % 100);
    memcpy(out, tmp, 29);
    out[29] = '\0';
}

static bool digits(const char *p, size_t n, unsigned *out)
{
    unsigned v = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return false;
        }
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    *out = v;
    return true;
}

static bool valid_civil(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s)
{
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || s > 60) {
        return false;
    }
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        return false;
    }
    return true;
}

cv_err cv_time_parse_amz(struct cv_str s, int64_t *out)
{
    unsigned y, mo, d, h, mi, se;

    if (s.len != 16 || s.ptr[8] != 'T' || s.ptr[15] != 'Z' || !digits(s.ptr, 4, &y) ||
        !digits(s.ptr + 4, 2, &mo) || !digits(s.ptr + 6, 2, &d) || !digits(s.ptr + 9, 2, &h) ||
        !digits(s.ptr + 11, 2, &mi) || !digits(s.ptr + 13, 2, &se) ||
        !valid_civil(y, mo, d, h, mi, se)) {
        return CV_EPARSE;
    }
    *out = cv_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    return CV_OK;
}

static int month_index(const char *p)
{
    int i;

    for (i = 0; i < 12; i++) {
        if (memcmp(p, months[i], 3) == 0) {
            return i + 1;
        }
    }
    return -1;
}

cv_err cv_time_parse_http(struct cv_str s, int64_t *out)
{
    char tmp[64];
    const char *p;
    unsigned d, y, h, mi, se, zh, zm;
    int64_t zone = 0;
    int mo;

    if (s.len >= sizeof(tmp)) {
        return CV_EPARSE;
    }
    memcpy(tmp, s.ptr, s.len);
    tmp[s.len] = '\0';
    p = strchr(tmp, ',');
    if (p && s.len >= 29 && p - tmp == 3) {
        /* RFC 1123: "Sun, 06 Nov 1994 08:49:37 GMT" */
        p += 2;
        if (strlen(p) < 24 || !digits(p, 2, &d) || p[2] != ' ' || (mo = month_index(p + 3)) < 0 ||
            p[6] != ' ' || !digits(p + 7, 4, &y) || p[11] != ' ' || !digits(p + 12, 2, &h) ||
            p[14] != ':' || !digits(p + 15, 2, &mi) || p[17] != ':' || !digits(p + 18, 2, &se)) {
            return CV_EPARSE;
        }
        /* "GMT" (RFC 1123), or an RFC 2822 zone: "UTC", "+0000", "-0000", "+HHMM". */
        if (strcmp(p + 20, " GMT") == 0 || strcmp(p + 20, " UTC") == 0) {
            zone = 0;
        } else if (strlen(p + 20) == 6 && p[20] == ' ' && (p[21] == '+' || p[21] == '-') &&
                   digits(p + 22, 2, &zh) && digits(p + 24, 2, &zm) && zh < 24 && zm < 60) {
            zone = (p[21] == '-' ? -1 : 1) * (int64_t)(zh * 3600 + zm * 60);
        } else {
            return CV_EPARSE;
        }
    } else if (p) {
        /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
        unsigned yy;
        p += 2;
        if (strlen(p) < 22 || !digits(p, 2, &d) || p[2] != '-' || (mo = month_index(p + 3)) < 0 ||
            p[6] != '-' || !digits(p + 7, 2, &yy) || p[9] != ' ' || !digits(p + 10, 2, &h) ||
            p[12] != ':' || !digits(p + 13, 2, &mi) || p[15] != ':' || !digits(p + 16, 2, &se)) {
            return CV_EPARSE;
        }
        y = yy < 70 ? 2000 + yy : 1900 + yy;
    } else {
        /* asctime: "Sun Nov  6 08:49:37 1994" */
        if (s.len != 24 || (mo = month_index(tmp + 4)) < 0 ||
            !digits(tmp + 8 + (tmp[8] == ' '), tmp[8] == ' ' ? 1 : 2, &d) ||
            !digits(tmp + 11, 2, &h) || !digits(tmp + 14, 2, &mi) || !digits(tmp + 17, 2, &se) ||
            !digits(tmp + 20, 4, &y)) {
            return CV_EPARSE;
        }
    }
    if (!valid_civil(y, (unsigned)mo, d, h, mi, se)) {
        return CV_EPARSE;
    }
    *out = cv_days_from_civil(y, (unsigned)mo, d) * 86400 + h * 3600 + mi * 60 + se - zone;
    return CV_OK;
}

cv_err cv_time_parse_iso8601(struct cv_str s, int64_t *out)
{
    unsigned y, mo, d, h = 0, mi = 0, se = 0, frac = 0;
    int64_t off = 0;
    const char *p = s.ptr;
    size_t n = s.len, i;

    if (n < 10 || !digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &mo) || p[7] != '-' ||
        !digits(p + 8, 2, &d)) {
        return CV_EPARSE;
    }
    i = 10;
    if (i < n) {
        if (p[i] != 'T' && p[i] != 't' && p[i] != ' ') {
            return CV_EPARSE;
        }
        i++;
        if (n - i < 5 || !digits(p + i, 2, &h) || p[i + 2] != ':' || !digits(p + i + 3, 2, &mi)) {
            return CV_EPARSE;
        }
        i += 5;
        if (i < n && p[i] == ':') {
            if (n - i < 3 || !digits(p + i + 1, 2, &se)) {
                return CV_EPARSE;
            }
            i += 3;
            if (i < n && p[i] == '.') {
                unsigned scale = 100;
                i++;
                if (i >= n || p[i] < '0' || p[i] > '9') {
                    return CV_EPARSE;
                }
                while (i < n && p[i] >= '0' && p[i] <= '9') {
                    frac += (unsigned)(p[i] - '0') * scale;
                    scale /= 10;
                    i++;
                }
            }
        }
        if (i < n && (p[i] == 'Z' || p[i] == 'z')) {
            i++;
        } else if (i < n && (p[i] == '+' || p[i] == '-')) {
            unsigned oh, om;
            int sign = p[i] == '-' ? -1 : 1;
            if (n - i < 6 || !digits(p + i + 1, 2, &oh) || p[i + 3] != ':' ||
                !digits(p + i + 4, 2, &om)) {
                return CV_EPARSE;
            }
            off = sign * (int64_t)(oh * 3600 + om * 60);
            i += 6;
        }
        if (i != n) {
            return CV_EPARSE;
        }
    }
    if (!valid_civil(y, mo, d, h, mi, se)) {
        return CV_EPARSE;
    }
    *out = (cv_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off) * 1000 + frac;
    return CV_OK;
}
