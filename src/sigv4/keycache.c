/*
 * The signing-key cache: a set-associative table split into lock stripes.
 *
 * An entry is keyed on (access key id, secret, date, region, service), all
 * copied into the entry, so a rotated secret is a different key and never
 * finds the old derivation. A lookup hashes the fields (seeded per cache),
 * locks one stripe, scans its 4-way set and copies the key out: no
 * allocation, one uncontended mutex. A miss derives outside the lock and
 * then replaces the least recently used way. Fields longer than an entry
 * holds bypass the cache (derived every time, still correct).
 */
#include "sigv4/sigv4_int.h"

#include <pthread.h>
#include <string.h>

#define KC_STRIPES 16
#define KC_WAYS 4
#define KC_AKID_MAX 128
#define KC_SECRET_MAX 128
#define KC_REGION_MAX 64
#define KC_SERVICE_MAX 64

struct kc_entry {
    uint64_t hash;
    uint64_t stamp; /* 0: empty */
    uint8_t akid_len, secret_len, region_len, service_len;
    char date[8];
    char akid[KC_AKID_MAX];
    char secret[KC_SECRET_MAX];
    char region[KC_REGION_MAX];
    char service[KC_SERVICE_MAX];
    struct sigv4_signing_key key;
};

struct kc_stripe {
    pthread_mutex_t mu;
    uint64_t clock;
    struct kc_entry *entries; /* nsets * KC_WAYS */
} __attribute__((aligned(64)));

struct sigv4_key_cache {
    struct kc_stripe stripes[KC_STRIPES];
    size_t nsets; /* per stripe */
    uint64_t seed;
    struct kc_entry *all;
    size_t nall;
};

static inline uint64_t mix(uint64_t h, uint64_t w)
{
    h ^= w;
    h *= 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

static uint64_t hash_bytes(uint64_t h, struct cv_str s)
{
    const unsigned char *p = (const unsigned char *)s.ptr;
    size_t n = s.len;
    uint64_t w;

    h = mix(h, n);
    while (n >= 8) {
        memcpy(&w, p, 8);
        h = mix(h, w);
        p += 8;
        n -= 8;
    }
    if (n) {
        w = 0;
        memcpy(&w, p, n);
        h = mix(h, w);
    }
    return h;
}

cv_err sigv4_key_cache_new(size_t capacity, struct sigv4_key_cache **out)
{
    struct sigv4_key_cache *c = NULL;
    size_t per = KC_STRIPES * KC_WAYS, i, inited = 0;
    cv_err err = CV_OK;

    *out = NULL;
    c = cv_calloc(1, sizeof(*c));
    if (!c) {
        return CV_ENOMEM;
    }
    c->nsets = capacity / per + (capacity % per != 0);
    if (c->nsets == 0) {
        c->nsets = 1;
    }
    if (c->nsets > SIZE_MAX / per / sizeof(struct kc_entry)) {
        err = CV_EINVAL;
        goto out;
    }
    c->nall = c->nsets * per;
    c->all = cv_calloc(c->nall, sizeof(struct kc_entry));
    if (!c->all) {
        err = CV_ENOMEM;
        goto out;
    }
    err = cv_random_bytes(&c->seed, sizeof(c->seed));
    if (err) {
        goto out;
    }
    for (i = 0; i < KC_STRIPES; i++) {
        if (pthread_mutex_init(&c->stripes[i].mu, NULL) != 0) {
            err = CV_EINTERNAL;
            goto out;
        }
        inited++;
        c->stripes[i].entries = c->all + i * c->nsets * KC_WAYS;
    }
out:
    if (err) {
        for (i = 0; i < inited; i++) {
            pthread_mutex_destroy(&c->stripes[i].mu);
        }
        cv_free(c->all);
        cv_free(c);
        return err;
    }
    *out = c;
    return CV_OK;
}

void sigv4_key_cache_free(struct sigv4_key_cache *c)
{
    size_t i;

    if (!c) {
        return;
    }
    for (i = 0; i < KC_STRIPES; i++) {
        pthread_mutex_destroy(&c->stripes[i].mu);
    }
    cv_secure_zero(c->all, c->nall * sizeof(struct kc_entry));
    cv_free(c->all);
    cv_free(c);
}

static bool entry_matches(const struct kc_entry *e, uint64_t h, struct cv_str akid,
                          struct cv_str secret, const struct sigv4_scope *s)
{
    return e->stamp && e->hash == h && e->akid_len == akid.len && e->secret_len == secret.len &&
           e->region_len == s->region.len && e->service_len == s->service.len &&
           memcmp(e->date, s->date.ptr, 8) == 0 && memcmp(e->akid, akid.ptr, akid.len) == 0 &&
           (s->region.len == 0 || memcmp(e->region, s->region.ptr, s->region.len) == 0) &&
           memcmp(e->service, s->service.ptr, s->service.len) == 0 &&
           cv_ct_equal(e->secret, secret.ptr, secret.len);
}

void sigv4_key_cache_get(struct sigv4_key_cache *c, struct cv_str akid, struct cv_str secret,
                         const struct sigv4_scope *s, struct sigv4_signing_key *out)
{
    struct kc_stripe *st;
    struct kc_entry *set, *victim;
    uint64_t h;
    size_t w;

    if (!c || akid.len == 0 || akid.len > KC_AKID_MAX || secret.len == 0 ||
        secret.len > KC_SECRET_MAX || s->date.len != 8 || s->region.len > KC_REGION_MAX ||
        s->service.len == 0 || s->service.len > KC_SERVICE_MAX) {
        sigv4_derive_key(out, secret, s);
        return;
    }
    h = hash_bytes(c->seed, akid);
    h = hash_bytes(h, secret);
    h = hash_bytes(h, s->date);
    h = hash_bytes(h, s->region);
    h = hash_bytes(h, s->service);
    st = &c->stripes[h % KC_STRIPES];
    set = st->entries + ((h / KC_STRIPES) % c->nsets) * KC_WAYS;

    pthread_mutex_lock(&st->mu);
    for (w = 0; w < KC_WAYS; w++) {
        if (entry_matches(&set[w], h, akid, secret, s)) {
            set[w].stamp = ++st->clock;
            *out = set[w].key;
            pthread_mutex_unlock(&st->mu);
            return;
        }
    }
    pthread_mutex_unlock(&st->mu);

    sigv4_derive_key(out, secret, s);

    pthread_mutex_lock(&st->mu);
    victim = &set[0];
    for (w = 0; w < KC_WAYS; w++) {
        if (entry_matches(&set[w], h, akid, secret, s)) {
            victim = &set[w]; /* another thread got there first */
            break;
        }
        if (set[w].stamp < victim->stamp) {
            victim = &set[w];
        }
    }
    victim->hash = h;
    victim->stamp = ++st->clock;
    victim->akid_len = (uint8_t)akid.len;
    victim->secret_len = (uint8_t)secret.len;
    victim->region_len = (uint8_t)s->region.len;
    victim->service_len = (uint8_t)s->service.len;
    memcpy(victim->date, s->date.ptr, 8);
    memcpy(victim->akid, akid.ptr, akid.len);
    memcpy(victim->secret, secret.ptr, secret.len);
    if (s->region.len) {
        memcpy(victim->region, s->region.ptr, s->region.len);
    }
    memcpy(victim->service, s->service.ptr, s->service.len);
    victim->key = *out;
    pthread_mutex_unlock(&st->mu);
}
