/*
 * "caravel-wb": a write-behind shim over SQLite's default VFS, used by the
 * store's one write connection (db.c).
 *
 * A WAL commit writes every frame with two pwrite() calls (the 24-byte frame
 * header, then the page) and a checkpoint writes each page back into the
 * database file with one more, mostly at consecutive offsets. In this
 * store's group commit that was 3.5 pwrites per 4 KiB PUT into the WAL
 * alone, and on a virtualised machine every system call costs more than the
 * copy it does. The shim keeps contiguous writes in a buffer and hands them
 * to the real file as one write when anything needs the bytes to be there:
 * xSync, xRead, xTruncate, xFileSize, xFetch, xFileControl, xUnlock, xClose,
 * a write that does not extend the buffer, or a full buffer.
 *
 * Why that is safe: SQLite never relies on a write before one of those
 * calls. With synchronous=FULL (the only setting the write connection uses)
 * a commit syncs the WAL before it publishes the new wal-index header, and a
 * checkpoint syncs the database file before it records the frames as
 * backfilled, so no other connection or process can see a frame or a page
 * whose bytes are still here. The shim also writes everything out before
 * its connection lets go of an exclusive wal-index lock (the WAL write lock,
 * the checkpoint lock): whenever another connection or process may write,
 * the files hold what the default VFS would have left there. A crash before
 * a sync loses the same uncommitted frames it would have lost anyway.
 *
 * Only the main database file and the WAL are buffered; other files pass
 * straight through.
 */
#include "store_int.h"

#include <pthread.h>
#include <string.h>

#define WB_CAP (512 * 1024)
/* The unix VFS writes at most 128 KiB - 1 bytes per call (seekAndWriteFd). */
#define WB_WRITE_MAX (124 * 1024)

struct wb_file {
    sqlite3_file base;  /* pMethods points at wb_methods */
    sqlite3_file *real; /* the default VFS's file, allocated right after this struct */
    unsigned char *buf; /* pending bytes for [off, off + len) */
    size_t len;
    sqlite3_int64 off;
    bool buffered;      /* main database or WAL */
    /* A main database: its name as SQLite passed it, and its connection's WAL. */
    const char *name;
    struct wb_file *wal;
    struct wb_file *db; /* a WAL: its main database */
    struct wb_file *next;
};

static sqlite3_vfs *real_vfs;
/* Open main databases, so that a WAL finds its own (linked on open). */
static pthread_mutex_t mains_mu = PTHREAD_MUTEX_INITIALIZER;
static struct wb_file *mains;

/* Writes the pending bytes out. The buffer is empty afterwards either way. */
static int wb_flush(struct wb_file *f)
{
    int rc = SQLITE_OK;
    size_t done, n;

    for (done = 0; done < f->len && rc == SQLITE_OK; done += n) {
        n = CV_MIN(f->len - done, (size_t)WB_WRITE_MAX);
        rc = f->real->pMethods->xWrite(f->real, f->buf + done, (int)n,
                                       f->off + (sqlite3_int64)done);
    }
    f->len = 0;
    return rc;
}

static int wb_close(sqlite3_file *p)
{
    struct wb_file *f = (struct wb_file *)p;
    int rc = wb_flush(f), rc2 = f->real->pMethods->xClose(f->real);
    struct wb_file **pp;

    pthread_mutex_lock(&mains_mu);
    if (f->db) {
        f->db->wal = NULL;
    }
    if (f->wal) {
        f->wal->db = NULL;
    }
    for (pp = &mains; *pp; pp = &(*pp)->next) {
        if (*pp == f) {
            *pp = f->next;
            break;
        }
    }
    pthread_mutex_unlock(&mains_mu);
    sqlite3_free(f->buf);
    f->buf = NULL;
    return rc != SQLITE_OK ? rc : rc2;
}

static int wb_read(sqlite3_file *p, void *out, int amt, sqlite3_int64 off)
{
    struct wb_file *f = (struct wb_file *)p;
    int rc = wb_flush(f);

    return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, out, amt, off);
}

static int wb_write(sqlite3_file *p, const void *data, int amt, sqlite3_int64 off)
{
    struct wb_file *f = (struct wb_file *)p;
    int rc;

    if (!f->buffered || amt <= 0) {
        return f->real->pMethods->xWrite(f->real, data, amt, off);
    }
    if (f->len && off == f->off + (sqlite3_int64)f->len && f->len + (size_t)amt <= WB_CAP) {
        memcpy(f->buf + f->len, data, (size_t)amt);
        f->len += (size_t)amt;
        return SQLITE_OK;
    }
    rc = wb_flush(f);
    if (rc != SQLITE_OK) {
        return rc;
    }
    if (!f->buf) {
        f->buf = sqlite3_malloc(WB_CAP);
    }
    if (!f->buf || (size_t)amt > WB_WRITE_MAX) {
        return f->real->pMethods->xWrite(f->real, data, amt, off);
    }
    memcpy(f->buf, data, (size_t)amt);
    f->len = (size_t)amt;
    f->off = off;
    return SQLITE_OK;
}

static int wb_truncate(sqlite3_file *p, sqlite3_int64 size)
{
    struct wb_file *f = (struct wb_file *)p;
    int rc = wb_flush(f);

    return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int wb_sync(sqlite3_file *p, int flags)
{
    struct wb_file *f = (struct wb_file *)p;
    int rc = wb_flush(f);

    return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int wb_file_size(sqlite3_file *p, sqlite3_int64 *size)
{
    struct wb_file *f = (struct wb_file *)p;
    int rc = wb_flush(f);

    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

static int wb_lock(sqlite3_file *p, int level)
{
    struct wb_file *f = (struct wb_file *)p;

    return f->real->pMethods->xLock(f->real, level);
}

static int wb_unlock(sqlite3_file *p, int level)
{
    struct wb_file *f = (struct wb_file *)p;
    int rc = wb_flush(f);

    return rc != SQLITE_OK ? rc : f->real->pMethods->xUnlock(f->real, level);
}

static int wb_check_reserved(sqlite3_file *p, int *out)
{
    struct wb_file *f = (struct wb_file *)p;

    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int wb_file_control(sqlite3_file *p, int op, void *arg)
{
    struct wb_file *f = (struct wb_file *)p;
    int rc = wb_flush(f);

    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileControl(f->real, op, arg);
}

static int wb_sector_size(sqlite3_file *p)
{
    struct wb_file *f = (struct wb_file *)p;

    return f->real->pMethods->xSectorSize(f->real);
}

static int wb_device_characteristics(sqlite3_file *p)
{
    struct wb_file *f = (struct wb_file *)p;

    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int wb_shm_map(sqlite3_file *p, int pg, int pgsz, int extend, void volatile **out)
{
    struct wb_file *f = (struct wb_file *)p;

    return f->real->pMethods->xShmMap(f->real, pg, pgsz, extend, out);
}

static int wb_shm_lock(sqlite3_file *p, int offset, int n, int flags)
{
    struct wb_file *f = (struct wb_file *)p;

    /*
     * Letting go of the WAL write lock or the checkpoint lock: from here on
     * another connection may write. What is still buffered belongs to a
     * transaction or checkpoint that did not reach its sync (a committed one
     * flushed there), so an error writing it loses nothing.
     */
    if ((flags & SQLITE_SHM_UNLOCK) && (flags & SQLITE_SHM_EXCLUSIVE)) {
        (void)wb_flush(f);
        if (f->wal) {
            (void)wb_flush(f->wal);
        }
    }
    return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void wb_shm_barrier(sqlite3_file *p)
{
    struct wb_file *f = (struct wb_file *)p;

    f->real->pMethods->xShmBarrier(f->real);
}

static int wb_shm_unmap(sqlite3_file *p, int del)
{
    struct wb_file *f = (struct wb_file *)p;

    return f->real->pMethods->xShmUnmap(f->real, del);
}

static int wb_fetch(sqlite3_file *p, sqlite3_int64 off, int amt, void **out)
{
    struct wb_file *f = (struct wb_file *)p;
    int rc = wb_flush(f);

    return rc != SQLITE_OK ? rc : f->real->pMethods->xFetch(f->real, off, amt, out);
}

static int wb_unfetch(sqlite3_file *p, sqlite3_int64 off, void *page)
{
    struct wb_file *f = (struct wb_file *)p;

    return f->real->pMethods->xUnfetch(f->real, off, page);
}

static const sqlite3_io_methods wb_methods = {
    3,
    wb_close,
    wb_read,
    wb_write,
    wb_truncate,
    wb_sync,
    wb_file_size,
    wb_lock,
    wb_unlock,
    wb_check_reserved,
    wb_file_control,
    wb_sector_size,
    wb_device_characteristics,
    wb_shm_map,
    wb_shm_lock,
    wb_shm_barrier,
    wb_shm_unmap,
    wb_fetch,
    wb_unfetch,
};

static int wb_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *p, int flags, int *out_flags)
{
    struct wb_file *f = (struct wb_file *)p;
    int rc;

    (void)vfs;
    memset(f, 0, sizeof(*f));
    f->real = (sqlite3_file *)(f + 1);
    rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        /* SQLite closes a file whose open failed only if pMethods is set. */
        if (f->real->pMethods) {
            f->real->pMethods->xClose(f->real);
        }
        return rc;
    }
    if (f->real->pMethods->iVersion < 3) {
        f->real->pMethods->xClose(f->real);
        return SQLITE_CANTOPEN;
    }
    f->buffered = (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)) != 0;
    f->base.pMethods = &wb_methods;
    pthread_mutex_lock(&mains_mu);
    if ((flags & SQLITE_OPEN_MAIN_DB) && name) {
        f->name = name;
        f->next = mains;
        mains = f;
    } else if ((flags & SQLITE_OPEN_WAL) && name) {
        /* SQLite names a WAL inside its database's name buffer: same pointer. */
        const char *db = sqlite3_filename_database(name);
        struct wb_file *m;
        for (m = mains; m; m = m->next) {
            if (m->name == db && !m->wal) {
                m->wal = f;
                f->db = m;
                break;
            }
        }
    }
    pthread_mutex_unlock(&mains_mu);
    return SQLITE_OK;
}

static int wb_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int wb_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int wb_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static int wb_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return real_vfs->xRandomness(real_vfs, n, out);
}

static int wb_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return real_vfs->xSleep(real_vfs, us);
}

static int wb_current_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return real_vfs->xCurrentTime(real_vfs, out);
}

static int wb_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return real_vfs->xGetLastError(real_vfs, n, out);
}

static int wb_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static sqlite3_vfs wb_vfs = {
    .iVersion = 2,
    .zName = DB_VFS_WRITE_BEHIND,
    .xOpen = wb_open,
    .xDelete = wb_delete,
    .xAccess = wb_access,
    .xFullPathname = wb_full_pathname,
    .xRandomness = wb_randomness,
    .xSleep = wb_sleep,
    .xCurrentTime = wb_current_time,
    .xGetLastError = wb_last_error,
    .xCurrentTimeInt64 = wb_current_time64,
};

static int register_rc = SQLITE_ERROR;

static void wb_register(void)
{
    real_vfs = sqlite3_vfs_find(NULL);
    if (!real_vfs || real_vfs->iVersion < 2 || !real_vfs->xCurrentTimeInt64) {
        return;
    }
    wb_vfs.szOsFile = (int)sizeof(struct wb_file) + real_vfs->szOsFile;
    wb_vfs.mxPathname = real_vfs->mxPathname;
    register_rc = sqlite3_vfs_register(&wb_vfs, 0);
}

cv_err db_vfs_register(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, wb_register);
    return register_rc == SQLITE_OK ? CV_OK : CV_EDB;
}
