/* libFuzzer: the JSON Lines reader and the JSON scanner. */
#include "insights/insights_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void drive(const uint8_t *data, size_t size, enum ins_format fmt)
{
    struct ins_reader r;
    struct ins_record rec;
    struct ins_options o = {0};
    int fds[2];

    if (size > (1u << 16) || pipe(fds) != 0) {
        return;
    }
    if (cv_write_all(fds[1], data, size) != CV_OK) {
        close(fds[0]);
        close(fds[1]);
        return;
    }
    close(fds[1]);
    o.max_record_bytes = 512;
    if (ins_reader_init(&r, "fuzz", fds[0], fmt, &o) == CV_OK) {
        for (int i = 0; i < 100000; i++) {
            cv_err err = ins_reader_next(&r, &rec);
            if (err == CV_ENOENT || err == CV_ENOMEM || (err && r.fatal)) {
                break;
            }
            if (!err && rec.text.len && !cv_utf8_valid(rec.text.ptr, rec.text.len)) {
                abort(); /* records are always valid UTF-8 */
            }
        }
    }
    ins_reader_release(&r);
    close(fds[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    drive(data, size, INS_FMT_JSONL);
    return 0;
}
