/* The Range header, the way S3 reads it (RFC 9110 byte ranges, one range). */
#include "store_int.h"

static bool parse_num(struct cv_str s, uint64_t *v)
{
    return s.len > 0 && cv_parse_u64(s, v) == CV_OK;
}

enum range_result s3_parse_range(struct cv_str hdr, uint64_t size, uint64_t *off, uint64_t *len)
{
    struct cv_str spec, a, b;
    uint64_t first, last;

    if (!hdr.ptr) {
        return RANGE_NONE;
    }
    hdr = cv_str_trim(hdr);
    if (!cv_str_starts_with(hdr, "bytes=")) {
        return RANGE_NONE;
    }
    spec.ptr = hdr.ptr + 6;
    spec.len = hdr.len - 6;
    spec = cv_str_trim(spec);
    if (cv_str_find(spec, ',') >= 0) {
        return RANGE_NONE; /* S3 does not do multi-range: whole object */
    }
    if (!cv_str_split(spec, '-', &a, &b)) {
        return RANGE_NONE;
    }
    a = cv_str_trim(a);
    b = cv_str_trim(b);
    if (a.len == 0) {
        /* Suffix: the last N bytes. */
        uint64_t n;
        if (!parse_num(b, &n)) {
            return RANGE_NONE;
        }
        if (n == 0 || size == 0) {
            return RANGE_UNSATISFIABLE;
        }
        if (n > size) {
            n = size;
        }
        *off = size - n;
        *len = n;
        return RANGE_OK;
    }
    if (!parse_num(a, &first)) {
        return RANGE_NONE;
    }
    if (b.len == 0) {
        last = UINT64_MAX;
    } else if (!parse_num(b, &last) || last < first) {
        return RANGE_NONE;
    }
    if (first >= size) {
        return RANGE_UNSATISFIABLE;
    }
    if (last >= size) {
        last = size - 1;
    }
    *off = first;
    *len = last - first + 1;
    return RANGE_OK;
}

/*
 * x-amz-copy-source-range is stricter than Range: exactly "bytes=first-last",
 * first <= last; a range past the end of the source is InvalidRange.
 */
cv_err s3_parse_copy_range(struct cv_str hdr, uint64_t size, uint64_t *off, uint64_t *len)
{
    struct cv_str spec, a, b;
    uint64_t first, last;

    hdr = cv_str_trim(hdr);
    if (!cv_str_starts_with(hdr, "bytes=")) {
        return CV_S3_INVALID_ARGUMENT;
    }
    spec.ptr = hdr.ptr + 6;
    spec.len = hdr.len - 6;
    if (!cv_str_split(spec, '-', &a, &b) || !parse_num(a, &first) || !parse_num(b, &last) ||
        last < first) {
        return CV_S3_INVALID_ARGUMENT;
    }
    if (last >= size) {
        return CV_S3_INVALID_RANGE;
    }
    *off = first;
    *len = last - first + 1;
    return CV_OK;
}
