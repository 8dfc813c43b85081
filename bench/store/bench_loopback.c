/*
 * bench_loopback: this machine's loopback limits, the ceilings for the
 * store's large GET and PUT.
 *
 *   bench_loopback copy BYTES
 *       One TCP connection over 127.0.0.1: a thread writes BYTES from a
 *       1 MiB buffer, the main thread reads them into a 256 KiB buffer.
 *       Prints "bytes=N seconds=S mbps=R" (MB = 10^6 bytes).
 *   bench_loopback get URL
 *       A plain HTTP/1.1 GET of URL (http://127.0.0.1:PORT/PATH?QUERY, e.g. a
 *       presigned one), the body read into a 256 KiB buffer like copy's
 *       receiver. Checks status 200 and Content-Length; prints like copy.
 *       curl reads 100 KiB at a time and writes its output in 8 KiB pieces,
 *       so it tops out well below the socket on small machines; this client
 *       shows what the server itself can push.
 *   bench_loopback http FILE PORTFILE
 *       A minimal HTTP/1.1 server on 127.0.0.1 (port written to PORTFILE):
 *       GET answers FILE with sendfile, PUT reads Content-Length bytes and
 *       discards them. One connection at a time, until killed. It shows
 *       what curl itself reaches with no store behind it.
 */
#include "base/base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int listen_any(unsigned *port)
{
    struct sockaddr_in sin;
    socklen_t sl = sizeof(sin);
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &sl) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sin.sin_port);
    return fd;
}

struct sender {
    unsigned port;
    uint64_t bytes;
    int ok;
};

static void *send_main(void *arg)
{
    struct sender *s = arg;
    struct sockaddr_in sin;
    char *buf = malloc(1u << 20);
    uint64_t left = s->bytes;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || !buf) {
        goto out;
    }
    memset(buf, 'x', 1u << 20);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons((uint16_t)s->port);
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        goto out;
    }
    while (left) {
        size_t want = left < (1u << 20) ? (size_t)left : (1u << 20);
        if (cv_write_all(fd, buf, want) != CV_OK) {
            goto out;
        }
        left -= want;
    }
    s->ok = 1;
out:
    if (fd >= 0) {
        close(fd);
    }
    free(buf);
    return NULL;
}

static int do_copy(uint64_t bytes)
{
    struct sender s = {0, bytes, 0};
    pthread_t th;
    char *buf = malloc(256u << 10);
    uint64_t got = 0;
    double t0, t1;
    int lfd, cfd = -1, rc = 1;

    lfd = listen_any(&s.port);
    if (lfd < 0 || !buf) {
        fprintf(stderr, "bench_loopback: cannot listen: %s\n", strerror(errno));
        free(buf);
        return 1;
    }
    t0 = now_s();
    if (pthread_create(&th, NULL, send_main, &s) != 0) {
        goto out;
    }
    cfd = accept(lfd, NULL, NULL);
    while (cfd >= 0) {
        ssize_t n = read(cfd, buf, 256u << 10);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += (uint64_t)n;
    }
    t1 = now_s();
    pthread_join(th, NULL);
    if (got == bytes && s.ok) {
        printf("bytes=%llu seconds=%.3f mbps=%.1f\n", (unsigned long long)got, t1 - t0,
               (double)got / 1e6 / (t1 - t0));
        rc = 0;
    } else {
        fprintf(stderr, "bench_loopback: copied %llu of %llu bytes\n", (unsigned long long)got,
                (unsigned long long)bytes);
    }
out:
    if (cfd >= 0) {
        close(cfd);
    }
    close(lfd);
    free(buf);
    return rc;
}

/* Reads the request head into buf; returns its length (through "\r\n\r\n") or 0. */
static size_t read_head(int fd, char *buf, size_t cap, size_t *have)
{
    *have = 0;
    while (*have < cap - 1) {
        ssize_t n = read(fd, buf + *have, cap - 1 - *have);
        char *end;
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return 0;
        }
        *have += (size_t)n;
        buf[*have] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (end) {
            return (size_t)(end - buf) + 4;
        }
    }
    return 0;
}

static uint64_t content_length(const char *head)
{
    const char *p = strcasestr(head, "\r\ncontent-length:");
    uint64_t v = 0;

    if (!p) {
        return 0;
    }
    for (p += 17; *p == ' '; p++) {
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (uint64_t)(*p - '0');
    }
    return v;
}

static void serve_one(int cfd, const char *file)
{
    static char buf[256u << 10];
    char hdr[256];
    size_t have = 0, hlen = read_head(cfd, buf, sizeof(buf), &have);
    int len;

    if (!hlen) {
        return;
    }
    if (strncmp(buf, "PUT ", 4) == 0) {
        uint64_t left = content_length(buf), extra = have - hlen;
        left = extra >= left ? 0 : left - extra;
        if (strcasestr(buf, "\r\nexpect: 100-continue")) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            if (cv_write_all(cfd, cont, sizeof(cont) - 1) != CV_OK) {
                return;
            }
        }
        while (left) {
            ssize_t n = read(cfd, buf, sizeof(buf));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                return;
            }
            left -= (uint64_t)n > left ? left : (uint64_t)n;
        }
        len = snprintf(hdr, sizeof(hdr),
                       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        if (cv_write_all(cfd, hdr, (size_t)len) != CV_OK) {
            return;
        }
    } else {
        struct stat sb;
        off_t off = 0;
        int ffd = open(file, O_RDONLY | O_CLOEXEC);
        if (ffd < 0 || fstat(ffd, &sb) != 0) {
            if (ffd >= 0) {
                close(ffd);
            }
            return;
        }
        len = snprintf(hdr, sizeof(hdr),
                       "HTTP/1.1 200 OK\r\nContent-Length: %lld\r\nConnection: close\r\n\r\n",
                       (long long)sb.st_size);
        if (cv_write_all(cfd, hdr, (size_t)len) == CV_OK) {
            while (off < sb.st_size) {
                ssize_t n = sendfile(cfd, ffd, &off, (size_t)(sb.st_size - off));
                if (n < 0 && errno == EINTR) {
                    continue;
                }
                if (n <= 0) {
                    break;
                }
            }
        }
        close(ffd);
    }
}

static int do_get(const char *url)
{
    static char buf[256u << 10];
    char req[8192];
    struct sockaddr_in sin;
    const char *host, *path, *colon;
    uint64_t port = 0, want, got = 0;
    size_t have = 0, hlen;
    double t0, t1;
    int fd = -1, rc = 1, len;

    if (strncmp(url, "http://", 7) != 0) {
        goto bad;
    }
    host = url + 7;
    path = strchr(host, '/');
    colon = strchr(host, ':');
    if (!path || !colon || colon > path ||
        cv_parse_u64((struct cv_str){colon + 1, (size_t)(path - colon - 1)}, &port) != CV_OK ||
        port == 0 || port > 65535) {
        goto bad;
    }
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr) != 1 || (size_t)(colon - host) != 9 ||
        strncmp(host, "127.0.0.1", 9) != 0) {
        goto bad;
    }
    len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %.*s\r\nConnection: close\r\n\r\n",
                   path, (int)(path - host), host);
    if (len <= 0 || (size_t)len >= sizeof(req)) {
        goto bad;
    }
    t0 = now_s();
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        cv_write_all(fd, req, (size_t)len) != CV_OK) {
        fprintf(stderr, "bench_loopback: cannot send the request: %s\n", strerror(errno));
        goto out;
    }
    hlen = read_head(fd, buf, sizeof(buf), &have);
    if (!hlen || strncmp(buf, "HTTP/1.1 200 ", 13) != 0) {
        fprintf(stderr, "bench_loopback: bad answer: %.60s\n", buf);
        goto out;
    }
    want = content_length(buf);
    got = have - hlen;
    while (got < want) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += (uint64_t)n;
    }
    t1 = now_s();
    if (got != want || want == 0) {
        fprintf(stderr, "bench_loopback: got %llu of %llu bytes\n", (unsigned long long)got,
                (unsigned long long)want);
        goto out;
    }
    printf("bytes=%llu seconds=%.3f mbps=%.1f\n", (unsigned long long)got, t1 - t0,
           (double)got / 1e6 / (t1 - t0));
    rc = 0;
    goto out;
bad:
    fprintf(stderr, "bench_loopback: want http://127.0.0.1:PORT/PATH, got %s\n", url);
out:
    if (fd >= 0) {
        close(fd);
    }
    return rc;
}

static int do_http(const char *file, const char *portfile)
{
    unsigned port = 0;
    char num[32];
    int lfd = listen_any(&port);
    int len;

    if (lfd < 0) {
        fprintf(stderr, "bench_loopback: cannot listen: %s\n", strerror(errno));
        return 1;
    }
    len = snprintf(num, sizeof(num), "%u\n", port);
    if (cv_file_write_atomic(portfile, num, (size_t)len, 0644) != CV_OK) {
        fprintf(stderr, "bench_loopback: cannot write %s\n", portfile);
        close(lfd);
        return 1;
    }
    for (;;) {
        int cfd = accept(lfd, NULL, NULL);
        if (cfd < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        serve_one(cfd, file);
        close(cfd);
    }
    close(lfd);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t bytes = 0;

    signal(SIGPIPE, SIG_IGN);
    if (argc == 3 && strcmp(argv[1], "copy") == 0 &&
        cv_parse_u64(cv_str_c(argv[2]), &bytes) == CV_OK && bytes > 0) {
        return do_copy(bytes);
    }
    if (argc == 3 && strcmp(argv[1], "get") == 0) {
        return do_get(argv[2]);
    }
    if (argc == 4 && strcmp(argv[1], "http") == 0) {
        return do_http(argv[2], argv[3]);
    }
    fprintf(stderr, "usage: bench_loopback copy BYTES | get URL | http FILE PORTFILE\n");
    return 2;
}
