/*
 * Object bodies: inline in memory up to inline_max, else a file that is
 * made durable (fsync, rename into objects/XX/, directory fsync) before the
 * metadata commit refers to it. Files are named by random ids, never keys.
 */
#include "store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Start write-back every this many bytes so the final fsync is short. */
#define BLOB_FLUSH_STEP (8u << 20)

cv_err blob_new_id(char out[33])
{
    uint8_t rnd[16];
    cv_err err = cv_random_bytes(rnd, sizeof(rnd));

    if (!err) {
        cv_hex_encode(rnd, sizeof(rnd), out);
    }
    return err;
}

cv_err blob_path(const char *dir, struct cv_str id, struct cv_buf *out)
{
    if (id.len < 2) {
        return CV_EINVAL;
    }
    return cv_buf_addf(out, "%s/objects/%.2s/%.*s", dir, id.ptr, (int)id.len, id.ptr);
}

static cv_err tmp_path(const char *dir, const char *id, struct cv_buf *out)
{
    return cv_buf_addf(out, "%s/tmp/%s", dir, id);
}

void blob_writer_init(struct blob_writer *w, const char *dir, size_t inline_max)
{
    memset(w, 0, sizeof(*w));
    w->dir = dir;
    w->inline_max = inline_max;
    w->fd = -1;
    cv_buf_init(&w->mem, inline_max);
}

static cv_err spill(struct blob_writer *w, int flags)
{
    char path[4096];
    cv_err err;

    err = blob_new_id(w->id);
    if (err) {
        return err;
    }
    snprintf(path, sizeof(path), "%s/tmp/%s", w->dir, w->id);
    w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | flags, 0600);
    if (w->fd < 0 && (flags & O_DIRECT) && errno == EINVAL) {
        /* This filesystem takes no direct I/O (tmpfs before Linux 6.6). */
        w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    }
    if (w->fd < 0) {
        cv_error("store: cannot create %s: %s", path, strerror(errno));
        w->id[0] = '\0';
        return CV_EIO;
    }
    if (w->mem.len) {
        err = cv_write_all(w->fd, w->mem.ptr, w->mem.len);
    }
    cv_buf_release(&w->mem);
    return err;
}

/* Starts write-back of what the page cache holds of the file every
 * BLOB_FLUSH_STEP bytes, and waits for the step before it, so dirty pages
 * stay bounded and the final fsync has little to do. */
static void flush_step(struct blob_writer *w)
{
    off_t off = (off_t)w->flushed;

    if (w->size - w->flushed < BLOB_FLUSH_STEP) {
        return;
    }
    sync_file_range(w->fd, off, (off_t)(w->size - w->flushed), SYNC_FILE_RANGE_WRITE);
    if (w->flushed >= BLOB_FLUSH_STEP) {
        sync_file_range(w->fd, off - (off_t)BLOB_FLUSH_STEP, (off_t)BLOB_FLUSH_STEP,
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                            SYNC_FILE_RANGE_WAIT_AFTER);
    }
    w->flushed = w->size;
}

cv_err blob_write(struct blob_writer *w, const void *p, size_t n)
{
    cv_err err;

    if (w->fd < 0 && w->mem.len + n <= w->inline_max) {
        err = cv_buf_add(&w->mem, p, n);
        if (!err) {
            w->size += n;
        }
        return err;
    }
    if (w->fd < 0) {
        err = spill(w, 0);
        if (err) {
            return err;
        }
    }
    err = cv_write_all(w->fd, p, n);
    if (err) {
        return err;
    }
    w->size += n;
    flush_step(w);
    return CV_OK;
}

cv_err blob_begin_stream(struct blob_writer *w)
{
    cv_err err;

    if (w->fd >= 0 || w->mem.len) {
        return CV_EINVAL; /* only on a fresh writer */
    }
    err = spill(w, O_DIRECT);
    if (!err) {
        int fl = fcntl(w->fd, F_GETFL);
        w->direct = fl >= 0 && (fl & O_DIRECT);
    }
    return err;
}

void blob_stream_cancel(struct blob_writer *w)
{
    blob_writer_abort(w);
    blob_writer_init(w, w->dir, w->inline_max);
}

/* Leaves direct I/O for the rest of the file (the filesystem refused it). */
static void leave_direct(struct blob_writer *w)
{
    int fl = fcntl(w->fd, F_GETFL);

    if (fl >= 0) {
        fcntl(w->fd, F_SETFL, fl & ~O_DIRECT);
    }
    w->direct = false;
}

cv_err blob_stream_write(struct blob_writer *w, char *p, size_t n, size_t cap)
{
    cv_err err;

    if (w->padded) {
        return CV_EINVAL; /* a short piece must be the last */
    }
    if (w->direct) {
        /* Whole blocks from an aligned buffer: the last piece is padded
         * with zeros and blob_stream_end() cuts the file to its size. */
        size_t full = (n + BLOB_ALIGN - 1) / BLOB_ALIGN * BLOB_ALIGN;
        if (full <= cap && p == blob_aligned(p)) {
            memset(p + n, 0, full - n);
            err = cv_pwrite_all(w->fd, p, full, (off_t)w->size);
            if (!err) {
                w->padded = full != n;
                w->size += n;
                return CV_OK;
            }
            if (errno != EINVAL) {
                return err;
            }
        }
        leave_direct(w); /* and write this piece through the page cache */
    }
    err = cv_pwrite_all(w->fd, p, n, (off_t)w->size);
    if (!err) {
        w->size += n;
        flush_step(w);
    }
    return err;
}

cv_err blob_stream_end(struct blob_writer *w)
{
    if (w->padded && ftruncate(w->fd, (off_t)w->size) != 0) {
        return CV_EIO;
    }
    w->padded = false;
    return CV_OK;
}

cv_err blob_copy_from_fd(struct blob_writer *w, int src_fd, uint64_t off, uint64_t len)
{
    char buf[65536];
    cv_err err = CV_OK;

    while (len && !err) {
        size_t want = len < sizeof(buf) ? (size_t)len : sizeof(buf);
        ssize_t n = pread(src_fd, buf, want, (off_t)off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return CV_EIO;
        }
        err = blob_write(w, buf, (size_t)n);
        off += (uint64_t)n;
        len -= (uint64_t)n;
    }
    return err;
}

cv_err blob_finish(struct blob_writer *w)
{
    struct cv_buf from = CV_BUF_INIT(4096), to = CV_BUF_INIT(4096);
    char sub[4096];
    cv_err err = CV_OK;

    if (w->fd < 0) {
        w->finished = true;
        return CV_OK; /* inline */
    }
    if (fsync(w->fd) != 0) {
        err = CV_EIO;
    }
    if (close(w->fd) != 0 && !err) {
        err = CV_EIO;
    }
    w->fd = -1;
    if (!err) {
        err = tmp_path(w->dir, w->id, &from);
    }
    if (!err) {
        err = blob_path(w->dir, cv_str_c(w->id), &to);
    }
    if (!err && rename(from.ptr, to.ptr) != 0) {
        cv_error("store: cannot rename %s: %s", from.ptr, strerror(errno));
        err = CV_EIO;
    }
    if (!err) {
        snprintf(sub, sizeof(sub), "%s/objects/%.2s", w->dir, w->id);
        err = cv_dir_sync(sub);
    }
    if (!err) {
        w->finished = true;
    }
    cv_buf_release(&from);
    cv_buf_release(&to);
    return err;
}

void blob_writer_abort(struct blob_writer *w)
{
    char path[4096];

    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
    if (w->id[0]) {
        if (w->finished) {
            snprintf(path, sizeof(path), "%s/objects/%.2s/%s", w->dir, w->id, w->id);
        } else {
            snprintf(path, sizeof(path), "%s/tmp/%s", w->dir, w->id);
        }
        unlink(path);
        w->id[0] = '\0';
    }
    cv_buf_release(&w->mem);
}

void blob_writer_release(struct blob_writer *w)
{
    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
    cv_buf_release(&w->mem);
}

cv_err blob_open(const char *dir, struct cv_str id, int *fd)
{
    char path[4096];

    if (id.len < 2 || id.len > 64) {
        return CV_EINVAL;
    }
    snprintf(path, sizeof(path), "%s/objects/%.2s/%.*s", dir, id.ptr, (int)id.len, id.ptr);
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0) {
        return errno == ENOENT ? CV_ENOENT : CV_EIO;
    }
    return CV_OK;
}

void blob_unlink(const char *dir, const char *id)
{
    char path[4096];

    if (!id || strlen(id) < 2) {
        return;
    }
    snprintf(path, sizeof(path), "%s/objects/%.2s/%s", dir, id, id);
    if (unlink(path) != 0 && errno != ENOENT) {
        cv_warn("store: cannot remove %s: %s", path, strerror(errno));
    }
}

cv_err blob_prepare_dirs(const char *dir)
{
    char path[4096];
    DIR *d;
    struct dirent *e;
    unsigned i;

    snprintf(path, sizeof(path), "%s/tmp", dir);
    if (cv_mkdir_p(path, 0700)) {
        return CV_EIO;
    }
    d = opendir(path);
    if (!d) {
        return CV_EIO;
    }
    for (e = readdir(d); e; e = readdir(d)) {
        if (e->d_name[0] != '.') {
            unlinkat(dirfd(d), e->d_name, 0);
        }
    }
    closedir(d);
    for (i = 0; i < 256; i++) {
        snprintf(path, sizeof(path), "%s/objects/%02x", dir, i);
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            if (cv_mkdir_p(path, 0700)) {
                return CV_EIO;
            }
        }
    }
    snprintf(path, sizeof(path), "%s/objects", dir);
    if (cv_dir_sync(path) || cv_dir_sync(dir)) {
        return CV_EIO;
    }
    return CV_OK;
}
