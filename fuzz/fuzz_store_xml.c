/*
 * Fuzzes the request-document parser (xml_parse) and what the store's
 * handlers do with its tree: the DeleteObjects walk (Object/Key), the
 * CompleteMultipartUpload walk (Part/PartNumber/ETag with the ETag
 * compare), the Tagging document (tags_parse_xml) and the x-amz-tagging
 * form (tags_parse_query) on the same bytes.
 *
 * Invariants: the tree respects the parser's limits (depth 16, 20000
 * nodes, 1 MiB of text per node) and its parent links; a tag set that
 * parses survives the stored form (encode -> parse) and the
 * GetObjectTagging document (write -> parse) unchanged; no failure other
 * than the documented error codes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

static size_t walk(const struct xml_node *n, const struct xml_node *parent, unsigned depth)
{
    size_t count = 0;

    for (; n; n = n->next) {
        if (n->parent != parent || depth >= 16 || !n->name || !n->name[0] ||
            n->text.len > ((size_t)1 << 20) || strchr(n->name, '|')) {
            abort();
        }
        count += 1 + walk(n->child, n, depth + 1);
    }
    return count;
}

/* The DeleteObjects handler's reading of the tree. */
static void delete_walk(const struct xml_node *root)
{
    size_t n = 0;

    for (const struct xml_node *o = root->child; o; o = o->next) {
        if (strcmp(o->name, "Object") == 0) {
            struct cv_str key = xml_text(xml_child(o, "Key"));
            n += key.len > 0 && cv_utf8_valid(key.ptr, key.len);
        }
    }
    (void)cv_str_eq_c(xml_text(xml_child(root, "Quiet")), "true");
    (void)n;
}

/* The CompleteMultipartUpload handler's reading of the tree. */
static void complete_walk(const struct xml_node *root)
{
    int64_t last = 0;

    for (const struct xml_node *p = root->child; p; p = p->next) {
        uint64_t v;
        struct cv_str e;
        char etag[80];
        if (strcmp(p->name, "Part") != 0) {
            continue;
        }
        if (cv_parse_u64(cv_str_trim(xml_text(xml_child(p, "PartNumber"))), &v) || v < 1 ||
            v > 10000) {
            return;
        }
        if ((int64_t)v <= last) {
            return;
        }
        last = (int64_t)v;
        e = cv_str_trim(xml_text(xml_child(p, "ETag")));
        snprintf(etag, sizeof(etag), "%.*s", (int)CV_MIN(e.len, 78), e.ptr);
        (void)s3_etag_matches(cv_str_c(etag), "\"0123456789abcdef0123456789abcdef\"");
    }
}

/* Characters a Tagging document (XML 1.0) can carry back. */
static bool xml_safe(struct cv_str s)
{
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c < 0x20 && c != '\t' && c != '\n') {
            return false;
        }
    }
    return true;
}

static void same_tags(const struct tag_set *a, const struct tag_set *b)
{
    if (a->n != b->n) {
        abort();
    }
    for (size_t i = 0; i < a->n; i++) {
        if (!cv_str_eq(a->key[i], b->key[i]) || !cv_str_eq(a->value[i], b->value[i])) {
            abort();
        }
    }
}

static void tags_round_trip(struct cv_arena *a, const struct tag_set *ts)
{
    struct cv_buf enc = CV_BUF_INIT(1 << 20), x = CV_BUF_INIT(1 << 20);
    struct tag_set t2, t3;
    char msg[256];
    bool safe = true;

    if (tags_encode(ts, &enc) != CV_OK) {
        goto out; /* ENOMEM only */
    }
    if (tags_parse_query(a, (struct cv_str){enc.ptr, enc.len}, &t2, msg, sizeof(msg)) != CV_OK) {
        abort();
    }
    same_tags(ts, &t2);
    for (size_t i = 0; i < ts->n; i++) {
        safe = safe && xml_safe(ts->key[i]) && xml_safe(ts->value[i]);
    }
    if (tags_write_xml(a, (struct cv_str){enc.ptr, enc.len}, &x) != CV_OK) {
        abort();
    }
    if (safe) {
        if (tags_parse_xml(a, x.ptr, x.len, &t3, msg, sizeof(msg)) != CV_OK) {
            abort();
        }
        same_tags(ts, &t3);
    }
out:
    cv_buf_release(&enc);
    cv_buf_release(&x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cv_arena a = CV_ARENA_INIT(4096);
    struct xml_node *root = NULL;
    struct tag_set ts;
    char msg[256];
    char *copy = malloc(size ? size : 1);
    cv_err err;

    if (!copy) {
        return 0;
    }
    memcpy(copy, data, size); /* unterminated: ASan sees overreads */
    err = xml_parse(&a, copy, size, &root);
    if (err == CV_OK) {
        if (!root || walk(root, NULL, 0) > 20000) {
            abort();
        }
        if (strcmp(root->name, "Delete") == 0) {
            delete_walk(root);
        } else if (strcmp(root->name, "CompleteMultipartUpload") == 0) {
            complete_walk(root);
        }
    } else if (err != CV_S3_MALFORMED_XML || root) {
        abort();
    }

    err = tags_parse_xml(&a, copy, size, &ts, msg, sizeof(msg));
    if (err == CV_OK) {
        tags_round_trip(&a, &ts);
    } else if (err != CV_S3_MALFORMED_XML && err != CV_S3_INVALID_TAG) {
        abort();
    }

    err = tags_parse_query(&a, (struct cv_str){copy, size}, &ts, msg, sizeof(msg));
    if (err == CV_OK) {
        tags_round_trip(&a, &ts);
    } else if (err != CV_S3_INVALID_TAG && err != CV_S3_INVALID_ARGUMENT) {
        abort();
    }
    cv_arena_release(&a);
    free(copy);
    return 0;
}
