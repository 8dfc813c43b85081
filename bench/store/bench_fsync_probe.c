/*
 * bench_fsync_probe: the durable-small-file rate of this disk, the floor a
 * store that fsyncs every object on its own would reach.
 *
 * One loop, one thread: write 4 KiB to DIR/tmp.N, fsync it, rename it to
 * DIR/obj.N, fsync DIR. Runs for SECONDS and prints "ops=N seconds=S rate=R".
 *
 * usage: bench_fsync_probe DIR SECONDS [BYTES]
 */
#include "base/base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool parse_num(const char *s, uint64_t *v)
{
    return cv_parse_u64(cv_str_c(s), v) == CV_OK;
}

int main(int argc, char **argv)
{
    char tmp[4096], dst[4096];
    char *buf = NULL;
    uint64_t secs = 0, bytes = 4096, ops = 0;
    double t0, t1 = 0;
    int dfd = -1, rc = 1;

    if (argc < 3 || !parse_num(argv[2], &secs) || (argc > 3 && !parse_num(argv[3], &bytes)) ||
        secs == 0 || bytes == 0 || bytes > (64u << 20)) {
        fprintf(stderr, "usage: bench_fsync_probe DIR SECONDS [BYTES]\n");
        return 2;
    }
    buf = malloc((size_t)bytes);
    if (!buf) {
        goto out;
    }
    memset(buf, 'x', (size_t)bytes);
    dfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        fprintf(stderr, "bench_fsync_probe: %s: %s\n", argv[1], strerror(errno));
        goto out;
    }
    t0 = now_s();
    do {
        int fd;

        snprintf(tmp, sizeof(tmp), "%s/tmp.%llu", argv[1], (unsigned long long)ops);
        snprintf(dst, sizeof(dst), "%s/obj.%llu", argv[1], (unsigned long long)ops);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            fprintf(stderr, "bench_fsync_probe: %s: %s\n", tmp, strerror(errno));
            goto out;
        }
        if (cv_write_all(fd, buf, (size_t)bytes) != CV_OK || fsync(fd) != 0) {
            fprintf(stderr, "bench_fsync_probe: write/fsync %s failed\n", tmp);
            close(fd);
            goto out;
        }
        close(fd);
        if (rename(tmp, dst) != 0 || fsync(dfd) != 0) {
            fprintf(stderr, "bench_fsync_probe: rename/fsync %s failed\n", dst);
            goto out;
        }
        ops++;
        t1 = now_s();
    } while (t1 - t0 < (double)secs);
    printf("ops=%llu seconds=%.3f rate=%.1f\n", (unsigned long long)ops, t1 - t0,
           (double)ops / (t1 - t0));
    rc = 0;
out:
    if (dfd >= 0) {
        close(dfd);
    }
    free(buf);
    return rc;
}
