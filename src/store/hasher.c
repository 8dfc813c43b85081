/*
 * A large body's pipeline: hashing, and writing to disk, beside receiving
 * it. MD5 (the ETag) runs at about 700 MB/s on one core: done inline, it
 * caps a single PUT well below what the disk takes. So for large bodies the
 * connection thread only copies each piece into a small ring of 1 MiB slots
 * and goes on receiving, while
 *  - the hash thread runs MD5 (and the payload SHA-256 and checksum, when
 *    asked) over each slot, and
 *  - the disk thread, when the body goes to a file, writes each full slot
 *    at its offset (blob_stream_write: O_DIRECT where the filesystem allows,
 *    so the body is not copied into the page cache and written back later).
 * A slot is refilled once both have passed it. Memory is the ring:
 * HASHER_SLOTS x HASHER_SLOT bytes per large upload.
 */
#include "store_int.h"

#include <stdint.h>
#include <string.h>

#define HASHER_SLOTS 4
#define HASHER_SLOT (1u << 20)

struct hasher {
    pthread_t thread, disk_thread;
    bool has_disk;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *mem[HASHER_SLOTS]; /* allocations; buf[] is mem[] aligned */
    char *buf[HASHER_SLOTS];
    size_t len[HASHER_SLOTS];
    /* Slots published, hashed and written so far; slot i is buf[i % N]. */
    uint64_t produced, hashed, written;
    size_t fill; /* bytes in the slot being filled (produced % N) */
    bool done;   /* no more data will come */
    struct cv_md5 *md5;
    struct cv_sha256 *sha;
    struct sigv4_checksum *ck;
    struct blob_writer *blob;
    cv_err disk_err;
};

/*
 * A consumer's next slot: waits (lock held) until one is published past
 * @p *pos, or returns false once no more will come and all are consumed.
 */
static bool take(struct hasher *h, const uint64_t *pos, unsigned *t)
{
    while (*pos == h->produced && !h->done) {
        pthread_cond_wait(&h->cv, &h->mu);
    }
    *t = (unsigned)(*pos % HASHER_SLOTS);
    return *pos != h->produced;
}

/* Passes the slot at @p *pos (lock held): the producer may refill it. */
static void pass(struct hasher *h, uint64_t *pos)
{
    (*pos)++;
    pthread_cond_broadcast(&h->cv);
}

static void *hash_main(void *arg)
{
    struct hasher *h = arg;
    unsigned t;

    pthread_mutex_lock(&h->mu);
    while (take(h, &h->hashed, &t)) {
        pthread_mutex_unlock(&h->mu);
        cv_md5_update(h->md5, h->buf[t], h->len[t]);
        if (h->sha) {
            cv_sha256_update(h->sha, h->buf[t], h->len[t]);
        }
        if (h->ck) {
            sigv4_checksum_update(h->ck, h->buf[t], h->len[t]);
        }
        pthread_mutex_lock(&h->mu);
        pass(h, &h->hashed);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

static void *disk_main(void *arg)
{
    struct hasher *h = arg;
    cv_err err = CV_OK;
    unsigned t;

    pthread_mutex_lock(&h->mu);
    while (take(h, &h->written, &t)) {
        pthread_mutex_unlock(&h->mu);
        if (!err) { /* after an error, keep draining so the producer never waits */
            err = blob_stream_write(h->blob, h->buf[t], h->len[t], HASHER_SLOT);
        }
        pthread_mutex_lock(&h->mu);
        pass(h, &h->written);
    }
    pthread_mutex_unlock(&h->mu);
    h->disk_err = err ? err : blob_stream_end(h->blob);
    return NULL;
}

/* Tells the threads no more will come and joins them (lock held, released). */
static void stop(struct hasher *h)
{
    h->done = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->thread, NULL);
    if (h->has_disk) {
        pthread_join(h->disk_thread, NULL);
    }
}

/* Frees the slots (those allocated), the lock and @p h; no thread may run. */
static void destroy(struct hasher *h)
{
    unsigned i;

    for (i = 0; i < HASHER_SLOTS; i++) {
        cv_free(h->mem[i]);
    }
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    cv_free(h);
}

cv_err hasher_start(struct hasher **out, struct cv_md5 *md5, struct cv_sha256 *sha,
                    struct sigv4_checksum *ck, struct blob_writer *blob)
{
    struct hasher *h = cv_calloc(1, sizeof(*h));
    unsigned i;

    *out = NULL;
    if (!h) {
        return CV_ENOMEM;
    }
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    for (i = 0; i < HASHER_SLOTS; i++) {
        /* Aligned for O_DIRECT: the disk thread writes straight from here. */
        h->mem[i] = cv_malloc(HASHER_SLOT + BLOB_ALIGN);
        if (!h->mem[i]) {
            destroy(h);
            return CV_ENOMEM;
        }
        h->buf[i] = blob_aligned(h->mem[i]);
    }
    h->md5 = md5;
    h->sha = sha;
    h->ck = ck;
    h->blob = blob;
    if (pthread_create(&h->thread, NULL, hash_main, h) != 0) {
        destroy(h);
        return CV_EINTERNAL;
    }
    if (blob && pthread_create(&h->disk_thread, NULL, disk_main, h) != 0) {
        pthread_mutex_lock(&h->mu);
        stop(h); /* has_disk is still false: joins the hash thread only */
        destroy(h);
        return CV_EINTERNAL;
    }
    h->has_disk = blob != NULL;
    *out = h;
    return CV_OK;
}

/* Slots neither free nor being filled (lock held). */
static uint64_t busy(const struct hasher *h)
{
    uint64_t oldest = h->hashed;

    if (h->has_disk && h->written < oldest) {
        oldest = h->written;
    }
    return h->produced - oldest;
}

/* Publishes the slot being filled (lock held). */
static void publish(struct hasher *h)
{
    h->len[h->produced % HASHER_SLOTS] = h->fill;
    h->produced++;
    h->fill = 0;
    pthread_cond_broadcast(&h->cv);
}

void hasher_feed(struct hasher *h, const char *data, size_t len)
{
    pthread_mutex_lock(&h->mu);
    while (len) {
        size_t n;
        /* The slot at produced % N is ours while both threads are past it. */
        while (busy(h) == HASHER_SLOTS) {
            pthread_cond_wait(&h->cv, &h->mu);
        }
        n = CV_MIN(len, HASHER_SLOT - h->fill);
        pthread_mutex_unlock(&h->mu);
        memcpy(h->buf[h->produced % HASHER_SLOTS] + h->fill, data, n);
        pthread_mutex_lock(&h->mu);
        h->fill += n;
        data += n;
        len -= n;
        if (h->fill == HASHER_SLOT) {
            publish(h);
        }
    }
    pthread_mutex_unlock(&h->mu);
}

cv_err hasher_finish(struct hasher *h)
{
    cv_err err;

    if (!h) {
        return CV_OK;
    }
    pthread_mutex_lock(&h->mu);
    if (h->fill) {
        while (busy(h) == HASHER_SLOTS) {
            pthread_cond_wait(&h->cv, &h->mu);
        }
        publish(h);
    }
    stop(h);
    err = h->disk_err;
    destroy(h);
    return err;
}
