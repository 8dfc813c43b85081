/*
 * bench_commit_server: the ceiling for a durable 4 KiB PUT on this machine,
 * the figure the store's small-PUT rate is read against (as dd is for the
 * 1 GiB PUT).
 *
 *   bench_commit_server DIR PORTFILE
 *
 * A minimal HTTP/1.1 server on 127.0.0.1 (port written to PORTFILE) that
 * answers a PUT only once its body is durable, and does nothing else: no
 * signature, no index, no metadata. One epoll thread reads requests from
 * keep-alive connections and hands each body to one writer thread; the
 * writer writes every body queued so far into DIR/log with one pwritev,
 * makes the batch durable with one fdatasync (group commit), and passes the
 * batch back; the epoll thread answers 200 to each. The log is written with
 * zeros once at start (256 MiB) and reused from its start when full, the way
 * SQLite reuses its WAL, so an fdatasync never has to write block
 * allocations: the cheapest durable write this disk offers.
 *
 * Any other method is answered 200 with no body. Bodies larger than 64 KiB
 * are refused (413, connection closed). Runs until killed.
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
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define LOG_BYTES (256u << 20)
#define HEAD_MAX (16u << 10)
#define BODY_MAX (64u << 10)
#define BATCH_MAX 1024 /* iovecs per pwritev (IOV_MAX) */

struct conn {
    int fd;
    bool waiting;          /* body handed to the writer, answer not sent */
    bool eof;              /* the client is done sending */
    char in[HEAD_MAX + BODY_MAX];
    size_t inlen;
    char body[BODY_MAX];   /* the body being committed (a copy) */
    size_t bodylen;
    struct conn *next;     /* writer queue / done list */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct conn *queue, *done;
static struct conn *dead; /* closed in this epoll round, freed after it */
static int log_fd = -1, done_fd = -1;

static const char ok_put[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nETag: \"0\"\r\n\r\n";
static const char too_big[] =
    "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

static struct conn *reverse(struct conn *c)
{
    struct conn *r = NULL;

    while (c) {
        struct conn *n = c->next;
        c->next = r;
        r = c;
        c = n;
    }
    return r;
}

static void *writer_main(void *arg)
{
    struct iovec iov[BATCH_MAX];
    uint64_t off = 0, one = 1;

    CV_UNUSED(arg);
    for (;;) {
        struct conn *batch, *c, *last = NULL;
        size_t n = 0, bytes = 0;

        pthread_mutex_lock(&mu);
        while (!queue) {
            pthread_cond_wait(&cv, &mu);
        }
        batch = reverse(queue); /* arrival order */
        queue = NULL;
        pthread_mutex_unlock(&mu);
        for (c = batch; c; c = c->next) {
            if (n == BATCH_MAX || off + bytes + c->bodylen > LOG_BYTES) {
                if (pwritev(log_fd, iov, (int)n, (off_t)off) != (ssize_t)bytes) {
                    perror("bench_commit_server: pwritev");
                    exit(1);
                }
                off = off + bytes + c->bodylen > LOG_BYTES ? 0 : off + bytes;
                n = 0;
                bytes = 0;
            }
            iov[n].iov_base = c->body;
            iov[n].iov_len = c->bodylen;
            bytes += c->bodylen;
            n++;
            last = c;
        }
        if (n && pwritev(log_fd, iov, (int)n, (off_t)off) != (ssize_t)bytes) {
            perror("bench_commit_server: pwritev");
            exit(1);
        }
        off += bytes;
        if (fdatasync(log_fd) != 0) {
            perror("bench_commit_server: fdatasync");
            exit(1);
        }
        pthread_mutex_lock(&mu);
        last->next = done;
        done = batch;
        pthread_mutex_unlock(&mu);
        if (write(done_fd, &one, sizeof(one)) != (ssize_t)sizeof(one)) {
            exit(1);
        }
    }
    return NULL;
}

/* Closes c; its memory lives until the end of the epoll round, since a
 * later event of the same round may still name it. */
static void conn_close(struct conn *c)
{
    close(c->fd);
    c->fd = -1;
    c->next = dead;
    dead = c;
}

static void free_dead(void)
{
    while (dead) {
        struct conn *c = dead;

        dead = c->next;
        free(c);
    }
}

/* Parses one whole request at the start of c->in: -1 bad, 0 incomplete,
 * else its length. A PUT sets *is_put; body and bodylen give its body. */
static long parse_request(struct conn *c, bool *is_put, const char **body, size_t *bodylen)
{
    const char *end = memmem(c->in, c->inlen, "\r\n\r\n", 4);
    const char *p, *lim;
    uint64_t cl = 0;
    size_t head;

    if (!end) {
        return c->inlen >= HEAD_MAX ? -1 : 0;
    }
    head = (size_t)(end + 4 - c->in);
    lim = end;
    for (p = memchr(c->in, '\n', head); p && p < lim; p = memchr(p + 1, '\n', (size_t)(lim - p))) {
        if ((size_t)(lim - p) > 16 && strncasecmp(p + 1, "Content-Length:", 15) == 0) {
            const char *v = p + 16;
            const char *e;

            while (*v == ' ') {
                v++;
            }
            e = v;
            while (e < lim && *e >= '0' && *e <= '9') {
                e++;
            }
            if (cv_parse_u64((struct cv_str){v, (size_t)(e - v)}, &cl) != CV_OK || cl > BODY_MAX) {
                return -1;
            }
        }
    }
    if (c->inlen < head + cl) {
        return 0;
    }
    *is_put = c->inlen >= 4 && memcmp(c->in, "PUT ", 4) == 0;
    *body = c->in + head;
    *bodylen = (size_t)cl;
    return (long)(head + cl);
}

/* Serves what is buffered on c; returns false when c was closed. */
static bool serve(struct conn *c)
{
    while (!c->waiting) {
        const char *body;
        size_t bodylen;
        bool is_put;
        long n = parse_request(c, &is_put, &body, &bodylen);

        if (n < 0) {
            (void)!send(c->fd, too_big, sizeof(too_big) - 1, MSG_NOSIGNAL);
            conn_close(c);
            return false;
        }
        if (n == 0) {
            return true;
        }
        if (is_put) {
            memcpy(c->body, body, bodylen); /* bodylen <= BODY_MAX: parse_request */
            c->bodylen = bodylen;
            c->waiting = true;
            pthread_mutex_lock(&mu);
            c->next = queue;
            queue = c;
            pthread_cond_signal(&cv);
            pthread_mutex_unlock(&mu);
        } else if (send(c->fd, ok_put, sizeof(ok_put) - 1, MSG_NOSIGNAL) < 0) {
            conn_close(c);
            return false;
        }
        memmove(c->in, c->in + n, c->inlen - (size_t)n);
        c->inlen -= (size_t)n;
    }
    return true;
}

/* Reads what the socket has (edge-triggered: until EAGAIN), then serves. */
static void on_readable(struct conn *c)
{
    if (c->fd < 0 || c->eof) {
        return;
    }
    for (;;) {
        ssize_t n;

        if (c->inlen == sizeof(c->in)) {
            if (c->waiting) {
                return; /* the rest waits for the answer (not with wrk) */
            }
            (void)!send(c->fd, too_big, sizeof(too_big) - 1, MSG_NOSIGNAL);
            conn_close(c);
            return;
        }
        n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
        if (n > 0) {
            c->inlen += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            break;
        }
        if (!c->waiting) {
            conn_close(c);
        } else {
            c->eof = true; /* closed once answered */
        }
        return;
    }
    serve(c);
}

static void on_committed(void)
{
    uint64_t v;
    struct conn *c;

    (void)!read(done_fd, &v, sizeof(v));
    pthread_mutex_lock(&mu);
    c = done;
    done = NULL;
    pthread_mutex_unlock(&mu);
    while (c) {
        struct conn *next = c->next;

        c->waiting = false;
        if (send(c->fd, ok_put, sizeof(ok_put) - 1, MSG_NOSIGNAL) < 0 || c->eof) {
            conn_close(c);
        } else {
            serve(c); /* a request read while this one was committed */
        }
        c = next;
    }
}

static int prepare_log(const char *dir)
{
    char path[4096];
    char *zero = calloc(1, 1u << 20);
    uint32_t off;

    snprintf(path, sizeof(path), "%s/log", dir);
    log_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (log_fd < 0 || !zero) {
        fprintf(stderr, "bench_commit_server: %s: %s\n", path, strerror(errno));
        free(zero);
        return -1;
    }
    for (off = 0; off < LOG_BYTES; off += 1u << 20) {
        if (pwrite(log_fd, zero, 1u << 20, off) != (ssize_t)(1u << 20)) {
            fprintf(stderr, "bench_commit_server: write %s: %s\n", path, strerror(errno));
            free(zero);
            return -1;
        }
    }
    free(zero);
    return fsync(log_fd);
}

int main(int argc, char **argv)
{
    struct sockaddr_in sin;
    socklen_t sl = sizeof(sin);
    struct epoll_event ev, evs[64];
    pthread_t th;
    FILE *pf;
    int one = 1, lfd, ep;

    if (argc != 3) {
        fprintf(stderr, "usage: bench_commit_server DIR PORTFILE\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (prepare_log(argv[1]) != 0) {
        return 1;
    }
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        listen(lfd, 1024) != 0 || getsockname(lfd, (struct sockaddr *)&sin, &sl) != 0) {
        fprintf(stderr, "bench_commit_server: cannot listen: %s\n", strerror(errno));
        return 1;
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ep < 0 || done_fd < 0 || pthread_create(&th, NULL, writer_main, NULL) != 0) {
        fprintf(stderr, "bench_commit_server: cannot start: %s\n", strerror(errno));
        return 1;
    }
    ev.events = EPOLLIN;
    ev.data.ptr = NULL;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    ev.data.ptr = &done_fd;
    epoll_ctl(ep, EPOLL_CTL_ADD, done_fd, &ev);
    pf = fopen(argv[2], "w");
    if (!pf || fprintf(pf, "%u\n", ntohs(sin.sin_port)) < 0 || fclose(pf) != 0) {
        fprintf(stderr, "bench_commit_server: cannot write %s\n", argv[2]);
        return 1;
    }
    for (;;) {
        int i, n = epoll_wait(ep, evs, 64, -1);

        for (i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL) {
                int fd;

                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    struct conn *c = calloc(1, sizeof(*c));

                    if (!c) {
                        close(fd);
                        continue;
                    }
                    c->fd = fd;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
                    ev.data.ptr = c;
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                }
            } else if (evs[i].data.ptr == &done_fd) {
                on_committed();
            } else {
                on_readable(evs[i].data.ptr);
            }
        }
        free_dead();
    }
}
