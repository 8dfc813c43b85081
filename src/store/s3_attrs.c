/*
 * GetObjectAttributes (GET /bucket/key?attributes): the object's ETag,
 * checksum, parts, storage class and size, without its body. AWS requires
 * both s3:GetObject and s3:GetObjectAttributes on an unversioned bucket.
 */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

enum {
    ATTR_ETAG = 1u << 0,
    ATTR_CHECKSUM = 1u << 1,
    ATTR_PARTS = 1u << 2,
    ATTR_STORAGE = 1u << 3,
    ATTR_SIZE = 1u << 4,
};

/* x-amz-object-attributes: a comma-separated list (the header may repeat). */
static bool parse_attrs(const struct store_req *r, unsigned *out)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{"ETag", ATTR_ETAG},
                 {"Checksum", ATTR_CHECKSUM},
                 {"ObjectParts", ATTR_PARTS},
                 {"StorageClass", ATTR_STORAGE},
                 {"ObjectSize", ATTR_SIZE}};
    size_t i, k;

    *out = 0;
    for (i = 0; i < r->nheaders; i++) {
        struct cv_str list = r->headers[i].value, tok, rest;
        if (!cv_str_eq_ci_c(r->headers[i].name, "x-amz-object-attributes")) {
            continue;
        }
        while (list.len) {
            bool known = false;
            cv_str_split(list, ',', &tok, &rest);
            tok = cv_str_trim(tok);
            list = rest;
            if (!tok.len) {
                continue;
            }
            for (k = 0; k < CV_ARRAY_LEN(names); k++) {
                if (cv_str_eq_c(tok, names[k].name)) {
                    *out |= names[k].bit;
                    known = true;
                }
            }
            if (!known) {
                return false;
            }
        }
    }
    return *out != 0;
}

/* <ObjectParts> of a multipart object: parts after @p marker, at most @p max. */
static cv_err write_parts(struct store_req *r, const struct obj_row *o, uint64_t marker,
                          uint64_t max, struct cv_buf *b)
{
    struct db_conn *c = db_reader(r->st->db);
    sqlite3_stmt *q = NULL;
    uint64_t n = 0;
    int64_t last = 0;
    bool truncated = false;
    cv_err err;

    if (!c) {
        return CV_ENOMEM;
    }
    err = xml_open(b, "ObjectParts");
    if (!err) {
        err = xml_elemf(b, "PartsCount", "%lld", (long long)o->nparts); /* the wire name */
    }
    if (!err && sqlite3_prepare_v2(c->h,
                                   "SELECT seq, size FROM segments WHERE object = ?1 AND seq > ?2 "
                                   "ORDER BY seq LIMIT ?3",
                                   -1, &q, NULL) != SQLITE_OK) {
        err = CV_EDB;
    }
    if (!err) {
        sqlite3_bind_int64(q, 1, o->id);
        sqlite3_bind_int64(q, 2, (sqlite3_int64)marker);
        sqlite3_bind_int64(q, 3, (sqlite3_int64)max + 1);
        err = xml_elemf(b, "PartNumberMarker", "%llu", (unsigned long long)marker);
    }
    {
        struct cv_buf parts = CV_BUF_INIT(1 << 20);
        while (!err && sqlite3_step(q) == SQLITE_ROW) {
            if (n == max) {
                truncated = true;
                break;
            }
            last = sqlite3_column_int64(q, 0);
            err = xml_open(&parts, "Part");
            if (!err) {
                err = xml_elemf(&parts, "PartNumber", "%lld", (long long)last);
            }
            if (!err) {
                err = xml_elemf(&parts, "Size", "%lld", (long long)sqlite3_column_int64(q, 1));
            }
            if (!err) {
                err = xml_close(&parts, "Part");
            }
            n++;
        }
        if (!err && truncated) {
            err = xml_elemf(b, "NextPartNumberMarker", "%lld", (long long)last);
        }
        if (!err) {
            err = xml_elemf(b, "MaxParts", "%llu", (unsigned long long)max);
        }
        if (!err) {
            err = xml_elemc(b, "IsTruncated", truncated ? "true" : "false");
        }
        if (!err && parts.len) {
            err = cv_buf_add(b, parts.ptr, parts.len);
        }
        cv_buf_release(&parts);
    }
    if (!err) {
        err = xml_close(b, "ObjectParts");
    }
    sqlite3_finalize(q);
    db_reader_done(r->st->db, c);
    return err;
}

static bool header_u64(struct store_req *r, const char *name, uint64_t dflt, uint64_t hi,
                       uint64_t *out)
{
    struct cv_str v = req_header(r, name);

    *out = dflt;
    if (!v.ptr) {
        return true;
    }
    if (cv_parse_u64(cv_str_trim(v), out) != CV_OK || *out > hi) {
        char msg[96];
        snprintf(msg, sizeof(msg), "%s must be an integer between 0 and %llu", name,
                 (unsigned long long)hi);
        resp_error(r, CV_S3_INVALID_ARGUMENT, msg, NULL);
        return false;
    }
    return true;
}

void s3_get_object_attributes(struct store_req *r)
{
    struct cv_buf *b = &r->resp.body;
    struct obj_row o;
    unsigned want;
    uint64_t max_parts, marker;
    char lm[32];
    const char *vid = NULL;
    cv_err err;

    memset(&o, 0, sizeof(o));
    if (!s3_version_param(r, &vid)) {
        return;
    }
    if (!store_authorize(r, vid ? "s3:GetObjectVersionAttributes" : "s3:GetObjectAttributes",
                         r->bucket, r->key, r->bi)) {
        return;
    }
    if (!parse_attrs(r, &want)) {
        resp_error(r, CV_S3_INVALID_ARGUMENT, "Invalid attribute name specified.", NULL);
        return;
    }
    if (!header_u64(r, "x-amz-max-parts", 1000, 1000, &max_parts) ||
        !header_u64(r, "x-amz-part-number-marker", 0, 10000, &marker)) {
        return;
    }
    err = obj_load_version(r, r->bucket, r->key, vid, &o, false);
    if (err == CV_S3_NO_SUCH_KEY) {
        /* As GetObject: 404 only to callers who may list the bucket. */
        resp_error(r, s3_may_list_key(r) ? err : CV_S3_ACCESS_DENIED, NULL, NULL);
        if (o.marker && s3_may_list_key(r)) {
            (void)resp_header(r, "x-amz-delete-marker", "true");
            (void)resp_header(r, "x-amz-version-id", o.vid);
        }
        return;
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    if (o.marker) {
        /* A delete marker named by its version id (AWS: 405, as GetObject). */
        obj_row_release(&o);
        resp_error(r, CV_S3_METHOD_NOT_ALLOWED,
                   "The specified method is not allowed against this resource.", NULL);
        (void)resp_header(r, "x-amz-delete-marker", "true");
        (void)resp_header(r, "x-amz-version-id", o.vid);
        return;
    }
    obj_row_release(&o);
    cv_buf_release(b);
    cv_buf_init(b, 4u << 20);
    err = xml_begin(b, "GetObjectAttributesResponse");
    if (!err && (want & ATTR_ETAG)) {
        size_t len = strlen(o.etag);
        /* Unquoted, as AWS answers here. */
        if (len >= 2 && o.etag[0] == '"' && o.etag[len - 1] == '"') {
            err = xml_elem(b, "ETag", o.etag + 1, len - 2);
        } else {
            err = xml_elemc(b, "ETag", o.etag);
        }
    }
    if (!err && (want & ATTR_CHECKSUM) && o.ck_algo[0] && o.ck_value[0]) {
        enum sigv4_checksum_algo a = sigv4_checksum_from_name(cv_str_c(o.ck_algo));
        const char *nm = sigv4_checksum_name(a);
        if (nm) {
            char tag[32];
            snprintf(tag, sizeof(tag), "Checksum%s", nm);
            err = xml_open(b, "Checksum");
            if (!err) {
                err = xml_elemc(b, tag, o.ck_value);
            }
            if (!err) {
                err = xml_elemc(b, "ChecksumType", o.nparts ? "COMPOSITE" : "FULL_OBJECT");
            }
            if (!err) {
                err = xml_close(b, "Checksum");
            }
        }
    }
    if (!err && (want & ATTR_PARTS) && o.nparts > 0) {
        err = write_parts(r, &o, marker, max_parts, b);
    }
    if (!err && (want & ATTR_STORAGE)) {
        err = xml_elemc(b, "StorageClass", o.storage_class[0] ? o.storage_class : "STANDARD");
    }
    if (!err && (want & ATTR_SIZE)) {
        err = xml_elemf(b, "ObjectSize", "%llu", (unsigned long long)o.size);
    }
    if (!err) {
        err = xml_end(b, "GetObjectAttributesResponse");
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    cv_time_http(o.mtime / 1000, lm);
    (void)resp_header(r, "Last-Modified", lm);
    s3_version_header(r, o.vid);
    r->resp.status = 200;
    r->resp.content_type = "application/xml";
}
