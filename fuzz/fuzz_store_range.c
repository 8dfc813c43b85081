/*
 * Fuzzes the Range and x-amz-copy-source-range parsers against a fuzzed
 * object size.
 *
 * Input: byte 0 picks how the size is chosen (a small size near the
 * boundaries, or 8 raw bytes); the rest is the header value. Invariants:
 *   - RANGE_OK / CV_OK: len > 0, off + len <= size, no wrap-around;
 *   - nothing is written to the outputs on any other result;
 *   - "ignored" (RANGE_NONE) and InvalidArgument are decided by syntax alone:
 *     they do not depend on the size;
 *   - a copy range that parses is also a Range with the same bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

static const uint64_t small_sizes[] = {0, 1, 2, 3, 9, 10, 11, 99, 100, 101, 1000, UINT64_MAX};

static void check_range(struct cv_str h, uint64_t size, enum range_result *res)
{
    uint64_t off = 0x5A5A, len = 0xA5A5;

    *res = s3_parse_range(h, size, &off, &len);
    if (*res == RANGE_OK) {
        if (len == 0 || off + len < off || off + len > size) {
            abort();
        }
    } else if (off != 0x5A5A || len != 0xA5A5) {
        abort();
    } else if (*res != RANGE_NONE && *res != RANGE_UNSATISFIABLE) {
        abort();
    }
}

static void check_copy(struct cv_str h, uint64_t size, cv_err *res)
{
    uint64_t off = 0x5A5A, len = 0xA5A5;

    *res = s3_parse_copy_range(h, size, &off, &len);
    if (*res == CV_OK) {
        uint64_t roff = 0, rlen = 0;
        if (len == 0 || off + len < off || off + len > size) {
            abort();
        }
        /* Range is the laxer syntax: it must agree. */
        if (s3_parse_range(h, size, &roff, &rlen) != RANGE_OK || roff != off || rlen != len) {
            abort();
        }
    } else if (off != 0x5A5A || len != 0xA5A5) {
        abort();
    } else if (*res != CV_S3_INVALID_ARGUMENT && *res != CV_S3_INVALID_RANGE) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t objsize = 0, other;
    struct cv_str h;
    enum range_result r1, r2;
    cv_err c1, c2;

    if (size < 1) {
        return 0;
    }
    if ((data[0] & 0x80) && size >= 9) {
        memcpy(&objsize, data + 1, 8);
        data += 9;
        size -= 9;
    } else {
        objsize = small_sizes[data[0] % CV_ARRAY_LEN(small_sizes)];
        data += 1;
        size -= 1;
    }
    /* The header as received: a copy without a terminator, so ASan sees
     * any read past its end. */
    {
        char *copy = malloc(size ? size : 1);
        if (!copy) {
            return 0;
        }
        memcpy(copy, data, size);
        h.ptr = copy;
        h.len = size;
        other = objsize ^ 0x9E3779B97F4A7C15ull;
        check_range(h, objsize, &r1);
        check_range(h, other, &r2);
        if ((r1 == RANGE_NONE) != (r2 == RANGE_NONE)) {
            abort();
        }
        check_copy(h, objsize, &c1);
        check_copy(h, other, &c2);
        if ((c1 == CV_S3_INVALID_ARGUMENT) != (c2 == CV_S3_INVALID_ARGUMENT)) {
            abort();
        }
        /* The header absent altogether. */
        if (s3_parse_range(CV_STR_NULL, objsize, &other, &other) != RANGE_NONE) {
            abort();
        }
        free(copy);
    }
    return 0;
}
