/*
 * Object tags: parsing (the x-amz-tagging header's URL-encoded form and the
 * Tagging XML document), validation as S3 does it, and the stored form.
 */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

/* Tag keys up to 128 and values up to 256 Unicode characters. */
static size_t utf8_chars(struct cv_str s)
{
    size_t i, n = 0;

    for (i = 0; i < s.len; i++) {
        n += ((unsigned char)s.ptr[i] & 0xC0) != 0x80;
    }
    return n;
}

static cv_err add_tag(struct tag_set *ts, struct cv_str k, struct cv_str v, char *msg,
                      size_t msglen)
{
    size_t i;

    if (ts->n >= TAGS_MAX) {
        cv_errf(msg, msglen, "Object tags cannot be greater than %d", TAGS_MAX);
        return CV_S3_INVALID_TAG;
    }
    if (k.len == 0 || utf8_chars(k) > 128) {
        cv_errf(msg, msglen, "The TagKey you have provided is invalid");
        return CV_S3_INVALID_TAG;
    }
    if (utf8_chars(v) > 256) {
        cv_errf(msg, msglen, "The TagValue you have provided is invalid");
        return CV_S3_INVALID_TAG;
    }
    if (!cv_utf8_valid(k.ptr, k.len) || !cv_utf8_valid(v.ptr ? v.ptr : "", v.len)) {
        cv_errf(msg, msglen, "Tags must be valid UTF-8");
        return CV_S3_INVALID_TAG;
    }
    if (cv_str_starts_with(k, "aws:")) {
        cv_errf(msg, msglen, "Your TagKey cannot be prefixed with aws:");
        return CV_S3_INVALID_TAG;
    }
    for (i = 0; i < ts->n; i++) {
        if (cv_str_eq(ts->key[i], k)) {
            cv_errf(msg, msglen, "Cannot provide multiple Tags with the same key");
            return CV_S3_INVALID_TAG;
        }
    }
    ts->key[ts->n] = k;
    ts->value[ts->n] = v;
    ts->n++;
    return CV_OK;
}

static cv_err decode(struct cv_arena *a, struct cv_str in, struct cv_str *out)
{
    struct cv_buf b = CV_BUF_INIT(4096);
    cv_err err = cv_uri_decode(&b, in, true);

    if (!err) {
        out->ptr = cv_arena_strndup(a, b.ptr ? b.ptr : "", b.len);
        out->len = b.len;
        err = out->ptr ? CV_OK : CV_ENOMEM;
    }
    cv_buf_release(&b);
    return err;
}

cv_err tags_parse_query(struct cv_arena *a, struct cv_str q, struct tag_set *ts, char *msg,
                        size_t msglen)
{
    struct cv_str part, rest, k, v;
    cv_err err = CV_OK;

    memset(ts, 0, sizeof(*ts));
    while (q.len && !err) {
        cv_str_split(q, '&', &part, &rest);
        q = rest;
        if (!part.len) {
            continue;
        }
        cv_str_split(part, '=', &k, &v);
        err = decode(a, k, &k);
        if (!err) {
            err = decode(a, v, &v);
        }
        if (err == CV_EPARSE) {
            cv_errf(msg, msglen, "The header 'x-amz-tagging' shall be encoded as UTF-8 then "
                                 "URLEncoded URL query parameters without tag name duplicates.");
            return CV_S3_INVALID_ARGUMENT;
        }
        if (!err) {
            err = add_tag(ts, k, v, msg, msglen);
        }
    }
    return err;
}

cv_err tags_parse_xml(struct cv_arena *a, const char *xml, size_t len, struct tag_set *ts,
                      char *msg, size_t msglen)
{
    struct xml_node *root = NULL;
    const struct xml_node *set, *t;
    cv_err err;

    memset(ts, 0, sizeof(*ts));
    if (xml_parse(a, xml, len, &root) != CV_OK || strcmp(root->name, "Tagging") != 0) {
        return CV_S3_MALFORMED_XML;
    }
    set = xml_child(root, "TagSet");
    if (!set) {
        return CV_S3_MALFORMED_XML;
    }
    for (t = set->child; t; t = t->next) {
        const struct xml_node *k = xml_child(t, "Key"), *v = xml_child(t, "Value");
        if (strcmp(t->name, "Tag") != 0 || !k) {
            return CV_S3_MALFORMED_XML;
        }
        err = add_tag(ts, xml_text(k), v ? xml_text(v) : CV_STR(""), msg, msglen);
        if (err) {
            return err;
        }
    }
    return CV_OK;
}

cv_err tags_encode(const struct tag_set *ts, struct cv_buf *out)
{
    size_t i;
    cv_err err = CV_OK;

    for (i = 0; i < ts->n && !err; i++) {
        if (i) {
            err = cv_buf_addc(out, '&');
        }
        if (!err) {
            err = cv_uri_encode(out, ts->key[i], false);
        }
        if (!err) {
            err = cv_buf_addc(out, '=');
        }
        if (!err) {
            err = cv_uri_encode(out, ts->value[i], false);
        }
    }
    if (!err && !out->ptr) {
        err = cv_buf_add(out, "", 0);
    }
    return err;
}

cv_err tags_write_xml(struct cv_arena *a, struct cv_str stored, struct cv_buf *out)
{
    struct tag_set ts;
    char msg[128];
    size_t i;
    cv_err err = tags_parse_query(a, stored, &ts, msg, sizeof(msg));

    if (err) {
        return err;
    }
    err = xml_begin(out, "Tagging");
    if (!err) {
        err = cv_buf_adds(out, "<TagSet>");
    }
    for (i = 0; i < ts.n && !err; i++) {
        err = cv_buf_adds(out, "<Tag>");
        if (!err) {
            err = xml_elem(out, "Key", ts.key[i].ptr, ts.key[i].len);
        }
        if (!err) {
            err = xml_elem(out, "Value", ts.value[i].ptr, ts.value[i].len);
        }
        if (!err) {
            err = cv_buf_adds(out, "</Tag>");
        }
    }
    if (!err) {
        err = cv_buf_adds(out, "</TagSet>");
    }
    if (!err) {
        err = xml_end(out, "Tagging");
    }
    return err;
}
