/*
 * sigv4 internals shared by the module's files (not part of its interface).
 */
#ifndef CV_SIGV4_INT_H
#define CV_SIGV4_INT_H

#include "sigv4/sigv4.h"

/* 1 for the SigV4 unreserved characters A-Z a-z 0-9 - _ . ~ */
extern const uint8_t sigv4_unreserved[256];

/* Value of a hex digit, or -1. */
static inline int sigv4_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* The whitespace collapsed in header values (what Python's str.split() eats in ASCII). */
static inline bool sigv4_is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Next name of a SignedHeaders list; ';' or (presigned, still encoded) "%3B"
 * separates. Returns false at the end.
 */
static inline bool sigv4_sh_next(struct cv_str *rest, struct cv_str *name)
{
    size_t i;

    if (rest->len == 0) {
        return false;
    }
    for (i = 0; i < rest->len; i++) {
        char c = rest->ptr[i];
        if (c == ';') {
            *name = (struct cv_str){rest->ptr, i};
            rest->ptr += i + 1;
            rest->len -= i + 1;
            return true;
        }
        if (c == '%' && i + 2 < rest->len && rest->ptr[i + 1] == '3' &&
            (rest->ptr[i + 2] == 'B' || rest->ptr[i + 2] == 'b')) {
            *name = (struct cv_str){rest->ptr, i};
            rest->ptr += i + 3;
            rest->len -= i + 3;
            return true;
        }
    }
    *name = *rest;
    rest->ptr += rest->len;
    rest->len = 0;
    return true;
}

/* HMAC-SHA256 with the key's midstates over several pieces. */
struct sigv4_mac {
    struct cv_sha256 c;
};
static inline void sigv4_mac_init(struct sigv4_mac *m, const struct sigv4_signing_key *k)
{
    m->c = k->mac.inner;
}
static inline void sigv4_mac_add(struct sigv4_mac *m, const void *p, size_t n)
{
    cv_sha256_update(&m->c, p, n);
}
void sigv4_mac_final(struct sigv4_mac *m, const struct sigv4_signing_key *k,
                     uint8_t out[CV_SHA256_LEN]);

#endif
