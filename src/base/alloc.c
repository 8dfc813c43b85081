/*
 * The allocation hook. Every allocation of the project passes here so tests
 * can make the n-th one fail and check that nothing leaks or crashes.
 */
#include "base.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_long fail_after = -1;
static atomic_long alloc_count = 0;

void cv_alloc_fail_after(long n)
{
    atomic_store(&alloc_count, 0);
    atomic_store(&fail_after, n);
}

long cv_alloc_count(void)
{
    return atomic_load(&alloc_count);
}

static bool should_fail(void)
{
    long limit = atomic_load_explicit(&fail_after, memory_order_relaxed);
    long n;

    if (limit < 0) {
        return false;
    }
    n = atomic_fetch_add(&alloc_count, 1);
    return n >= limit;
}

void *cv_malloc(size_t n)
{
    if (should_fail()) {
        return NULL;
    }
    return malloc(n ? n : 1);
}

void *cv_calloc(size_t count, size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    return calloc(count ? count : 1, size ? size : 1);
}

void *cv_realloc(void *p, size_t n)
{
    if (should_fail()) {
        return NULL;
    }
    return realloc(p, n ? n : 1);
}

void cv_free(void *p)
{
    free(p);
}

char *cv_strndup(const char *s, size_t n)
{
    char *p = cv_malloc(n + 1);

    if (p) {
        if (n) {
            memcpy(p, s, n);
        }
        p[n] = '\0';
    }
    return p;
}

char *cv_strdup(const char *s)
{
    return cv_strndup(s, strlen(s));
}

void *cv_memdup(const void *src, size_t n)
{
    void *p = cv_malloc(n);

    if (p && n) {
        memcpy(p, src, n);
    }
    return p;
}
