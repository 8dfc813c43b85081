/*
 * Fuzzes the ACL parsers (acl.c): the first byte picks the input's kind
 * (an x-amz-grant-* header value, an AccessControlPolicy document, or a
 * stored ACL), the rest is the input.
 *
 * Invariants: only the documented error codes; never more than
 * ACL_MAX_GRANTS grants; ids NUL-terminated within ACL_ID_MAX; an ACL that
 * parses (without e-mail grantees) survives the stored form
 * (encode -> decode) grant for grant.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

static void check(const struct acl *a)
{
    if (a->n > ACL_MAX_GRANTS) {
        abort();
    }
    for (size_t i = 0; i < a->n; i++) {
        if (memchr(a->g[i].id, '\0', ACL_ID_MAX) == NULL) {
            abort();
        }
    }
}

static void round_trip(const struct acl *a)
{
    static struct acl b;
    struct cv_buf enc = CV_BUF_INIT(1 << 20);

    for (size_t i = 0; i < a->n; i++) {
        if (a->g[i].kind == ACL_EMAIL) {
            return; /* never stored: e-mail grantees are refused before */
        }
    }
    if (acl_encode(a, &enc) == CV_OK) {
        if (acl_decode((struct cv_str){enc.ptr, enc.len}, "111111111111", "x", &b) != CV_OK ||
            b.n != a->n || strcmp(b.owner, a->owner) != 0) {
            abort();
        }
        for (size_t i = 0; i < a->n; i++) {
            if (b.g[i].kind != a->g[i].kind || b.g[i].perm != a->g[i].perm ||
                strcmp(b.g[i].id, a->g[i].id) != 0) {
                abort();
            }
        }
    }
    cv_buf_release(&enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct acl a;
    struct cv_arena ar = CV_ARENA_INIT(4096);
    char owner[ACL_ID_MAX];
    struct cv_str in;
    cv_err err;

    if (size < 1) {
        return 0;
    }
    in.ptr = (const char *)data + 1;
    in.len = size - 1;
    acl_init(&a, "222222222222");
    switch (data[0] % 3) {
    case 0:
        err = acl_parse_grant_header(in, ACL_READ, &a);
        if (err != CV_OK && err != CV_S3_INVALID_ARGUMENT && err != CV_S3_MALFORMED_ACL) {
            abort();
        }
        break;
    case 1:
        err = acl_parse_xml(&ar, in.ptr, in.len, &a, owner);
        if (err != CV_OK && err != CV_S3_INVALID_ARGUMENT && err != CV_S3_MALFORMED_ACL &&
            err != CV_ENOMEM) {
            abort();
        }
        if (!err && !memchr(owner, '\0', sizeof(owner))) {
            abort();
        }
        break;
    default:
        err = acl_decode(in, "111111111111", "x", &a);
        if (err != CV_OK && err != CV_EINVAL && err != CV_S3_INVALID_ARGUMENT &&
            err != CV_S3_MALFORMED_ACL) {
            abort();
        }
        break;
    }
    check(&a);
    if (!err) {
        round_trip(&a);
    }
    cv_arena_release(&ar);
    return 0;
}
