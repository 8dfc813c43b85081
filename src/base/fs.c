/* Durable file operations: atomic replace, directory fsync, mkdir -p. */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

cv_err cv_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return CV_EIO;
        }
        p += n;
        len -= (size_t)n;
    }
    return CV_OK;
}

cv_err cv_pwrite_all(int fd, const void *data, size_t len, off_t off)
{
    const char *p = data;

    while (len) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return CV_EIO;
        }
        p += n;
        off += n;
        len -= (size_t)n;
    }
    return CV_OK;
}

cv_err cv_dir_sync(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cv_err err = CV_OK;

    if (fd < 0) {
        return CV_EIO;
    }
    if (fsync(fd) != 0) {
        err = CV_EIO;
    }
    close(fd);
    return err;
}

cv_err cv_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
    struct cv_buf tmp = CV_BUF_INIT(4096), dir = CV_BUF_INIT(4096);
    uint8_t rnd[8];
    char hex[17];
    const char *slash;
    int fd = -1;
    cv_err err;

    err = cv_random_bytes(rnd, sizeof(rnd));
    if (err) {
        goto out;
    }
    cv_hex_encode(rnd, sizeof(rnd), hex);
    err = cv_buf_addf(&tmp, "%s.tmp-%s", path, hex);
    if (err) {
        goto out;
    }
    slash = strrchr(path, '/');
    err = slash ? cv_buf_add(&dir, path, slash == path ? 1 : (size_t)(slash - path))
                : cv_buf_adds(&dir, ".");
    if (err) {
        goto out;
    }
    fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        err = CV_EIO;
        goto out;
    }
    err = cv_write_all(fd, data, len);
    if (!err && fsync(fd) != 0) {
        err = CV_EIO;
    }
    if (close(fd) != 0 && !err) {
        err = CV_EIO;
    }
    fd = -1;
    if (!err && rename(tmp.ptr, path) != 0) {
        err = CV_EIO;
    }
    if (err) {
        unlink(tmp.ptr);
        goto out;
    }
    err = cv_dir_sync(dir.ptr);
out:
    if (fd >= 0) {
        close(fd);
    }
    cv_buf_release(&tmp);
    cv_buf_release(&dir);
    return err;
}

cv_err cv_file_read(const char *path, struct cv_buf *out)
{
    char chunk[16384];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    cv_err err = CV_OK;

    if (fd < 0) {
        return errno == ENOENT ? CV_ENOENT : CV_EIO;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            err = CV_EIO;
            break;
        }
        if (n == 0) {
            break;
        }
        err = cv_buf_add(out, chunk, (size_t)n);
        if (err) {
            break;
        }
    }
    close(fd);
    if (!err && !out->ptr) {
        err = cv_buf_add(out, "", 0);
    }
    return err;
}

cv_err cv_mkdir_p(const char *path, mode_t mode)
{
    char tmp[4096];
    size_t len = strlen(path), i;

    if (len == 0 || len >= sizeof(tmp)) {
        return CV_EINVAL;
    }
    memcpy(tmp, path, len + 1);
    for (i = 1; i <= len; i++) {
        if (tmp[i] == '/' || tmp[i] == '\0') {
            char c = tmp[i];
            tmp[i] = '\0';
            if (mkdir(tmp, mode) != 0 && errno != EEXIST) {
                return CV_EIO;
            }
            tmp[i] = c;
        }
    }
    return CV_OK;
}
