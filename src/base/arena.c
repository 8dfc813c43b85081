/* Per-request bump allocator. */
#include "base.h"

#include <string.h>

struct cv_arena_block {
    struct cv_arena_block *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

void *cv_arena_alloc(struct cv_arena *a, size_t n)
{
    struct cv_arena_block *b = a->head;
    size_t need = (n + 15) & ~(size_t)15;
    size_t bs;

    if (need < n) {
        return NULL;
    }
    if (!b || b->size - b->used < need) {
        bs = a->block_size ? a->block_size : 4096;
        if (need > bs / 4) {
            /* Big: its own block, linked behind the current one. */
            struct cv_arena_block *big = cv_malloc(sizeof(*big) + need);
            if (!big) {
                return NULL;
            }
            big->size = need;
            big->used = need;
            if (b) {
                big->next = b->next;
                b->next = big;
            } else {
                big->next = NULL;
                a->head = big;
            }
            a->total += need;
            return big->data;
        }
        b = cv_malloc(sizeof(*b) + bs);
        if (!b) {
            return NULL;
        }
        b->size = bs;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    b->used += need;
    a->total += need;
    return b->data + b->used - need;
}

char *cv_arena_strndup(struct cv_arena *a, const char *s, size_t n)
{
    char *p = cv_arena_alloc(a, n + 1);

    if (p) {
        if (n) {
            memcpy(p, s, n);
        }
        p[n] = '\0';
    }
    return p;
}

void cv_arena_release(struct cv_arena *a)
{
    struct cv_arena_block *b = a->head;

    while (b) {
        struct cv_arena_block *next = b->next;
        cv_free(b);
        b = next;
    }
    a->head = NULL;
    a->total = 0;
}
