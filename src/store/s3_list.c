/*
 * Listing (ListObjects v1 and v2, ListObjectVersions) and DeleteObjects.
 *
 * The engine walks the bucket's keys in byte order with an index seek per
 * batch. A key that holds the delimiter after the prefix folds into a
 * common prefix; the walk then seeks past every key under that prefix
 * (prefix + 0xFF sorts after all of them, since UTF-8 never has 0xFF), so
 * a million keys under one prefix cost one seek, not a million rows.
 */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

#define LIST_BATCH 256

static cv_err add_entry(struct cv_arena *a, struct list_result *out, size_t *cap,
                        struct list_entry *e)
{
    if (out->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        struct list_entry *n = cv_arena_alloc(a, ncap * sizeof(*n));
        if (!n) {
            return CV_ENOMEM;
        }
        if (out->n) {
            memcpy(n, out->entries, out->n * sizeof(*n));
        }
        out->entries = n;
        *cap = ncap;
    }
    out->entries[out->n++] = *e;
    return CV_OK;
}

/* Where a common prefix starts in @p key (after @p prefix), or 0 if none. */
static size_t common_prefix_len(struct cv_str key, struct cv_str prefix, struct cv_str delim)
{
    size_t i;

    if (!delim.len || key.len < prefix.len + delim.len) {
        return 0;
    }
    for (i = prefix.len; i + delim.len <= key.len; i++) {
        if (memcmp(key.ptr + i, delim.ptr, delim.len) == 0) {
            return i + delim.len;
        }
    }
    return 0;
}

cv_err store_list(struct db_conn *c, struct cv_arena *a, struct cv_str bucket,
                  const struct list_params *p, struct list_result *out)
{
    struct cv_buf cursor = CV_BUF_INIT(4096);
    struct cv_buf last_prefix = CV_BUF_INIT(4096);
    size_t cap = 0;
    bool done = false;
    cv_err err = CV_OK;

    memset(out, 0, sizeof(*out));
    /* Start at max(prefix, just after start_after). */
    if (p->start_after.len && cv_str_cmp(p->start_after, p->prefix) >= 0) {
        bool in_prefix = p->start_after.len >= p->prefix.len &&
                         (!p->prefix.len ||
                          memcmp(p->start_after.ptr, p->prefix.ptr, p->prefix.len) == 0);
        size_t cpl = in_prefix ? common_prefix_len(p->start_after, p->prefix, p->delimiter) : 0;
        if (cpl) {
            /* start_after lies inside a common prefix that was already
             * reported: resume after all of its keys. */
            err = cv_buf_add(&cursor, p->start_after.ptr, cpl);
            if (!err) {
                err = cv_buf_addc(&cursor, (char)0xFF);
            }
        } else {
            err = cv_buf_add(&cursor, p->start_after.ptr, p->start_after.len);
            if (!err) {
                err = cv_buf_addc(&cursor, '\0');
            }
        }
    } else {
        err = cv_buf_add(&cursor, p->prefix.ptr ? p->prefix.ptr : "", p->prefix.len);
    }
    if (err) {
        goto out;
    }
    if (p->max_keys == 0) {
        goto out;
    }
    while (!done && !err) {
        sqlite3_stmt *s = db_stmt(c, STMT_OBJ_LIST);
        int rows = 0;
        bool reseek = false;

        if (!s) {
            err = CV_EDB;
            break;
        }
        db_bind_str(s, 1, bucket);
        sqlite3_bind_text(s, 2, cursor.ptr ? cursor.ptr : "", (int)cursor.len, SQLITE_STATIC);
        sqlite3_bind_int(s, 3, LIST_BATCH);
        while (!err && sqlite3_step(s) == SQLITE_ROW) {
            struct cv_str key = db_col_str(s, 0);
            struct list_entry e;
            size_t cpl;

            rows++;
            if (key.len < p->prefix.len ||
                (p->prefix.len && memcmp(key.ptr, p->prefix.ptr, p->prefix.len) != 0)) {
                done = true; /* past the prefix range */
                break;
            }
            cpl = common_prefix_len(key, p->prefix, p->delimiter);
            if (out->n >= p->max_keys) {
                /* One more entry exists: the listing is truncated. */
                out->truncated = true;
                done = true;
                break;
            }
            memset(&e, 0, sizeof(e));
            if (cpl) {
                struct cv_str cp = {key.ptr, cpl};
                if (last_prefix.ptr && cv_str_eq(cp, (struct cv_str){last_prefix.ptr,
                                                                     last_prefix.len})) {
                    continue;
                }
                e.is_prefix = true;
                e.key = cv_arena_strndup(a, key.ptr, cpl);
                e.keylen = cpl;
                cv_buf_reset(&last_prefix);
                err = cv_buf_add(&last_prefix, key.ptr, cpl);
                if (!err && e.key) {
                    err = add_entry(a, out, &cap, &e);
                }
                if (!e.key) {
                    err = CV_ENOMEM;
                }
                /* Seek past everything under this prefix. */
                cv_buf_reset(&cursor);
                if (!err) {
                    err = cv_buf_add(&cursor, key.ptr, cpl);
                }
                if (!err) {
                    err = cv_buf_addc(&cursor, (char)0xFF);
                }
                reseek = true;
                break;
            }
            e.key = cv_arena_strndup(a, key.ptr, key.len);
            e.keylen = key.len;
            if (!e.key) {
                err = CV_ENOMEM;
                break;
            }
            e.size = (uint64_t)sqlite3_column_int64(s, 1);
            snprintf(e.etag, sizeof(e.etag), "%s", (const char *)sqlite3_column_text(s, 2));
            e.mtime = sqlite3_column_int64(s, 3);
            snprintf(e.storage_class, sizeof(e.storage_class), "%s",
                     sqlite3_column_text(s, 4) ? (const char *)sqlite3_column_text(s, 4)
                                               : "STANDARD");
            err = add_entry(a, out, &cap, &e);
            /* The next batch starts just after this key. */
            cv_buf_reset(&cursor);
            if (!err) {
                err = cv_buf_add(&cursor, key.ptr, key.len);
            }
            if (!err) {
                err = cv_buf_addc(&cursor, '\0');
            }
        }
        sqlite3_reset(s);
        if (!reseek && rows < LIST_BATCH) {
            done = true;
        }
    }
    if (!err && out->n) {
        struct list_entry *last = &out->entries[out->n - 1];
        out->next_marker.ptr = last->key;
        out->next_marker.len = last->keylen;
    }
out:
    cv_buf_release(&cursor);
    cv_buf_release(&last_prefix);
    return err;
}

/* ------------------------------------------------------------- handlers */

static cv_err add_maybe_encoded(struct cv_buf *b, const char *name, struct cv_str v, bool url)
{
    struct cv_buf enc = CV_BUF_INIT(16384);
    cv_err err;

    if (!url) {
        return xml_elem(b, name, v.ptr ? v.ptr : "", v.len);
    }
    err = cv_uri_encode(&enc, v, true);
    if (!err) {
        err = xml_elem(b, name, enc.ptr ? enc.ptr : "", enc.len);
    }
    cv_buf_release(&enc);
    return err;
}

static bool parse_max(struct store_req *r, const char *name, unsigned *out)
{
    const struct query_param *mk = req_param(r, name);
    int64_t v;

    *out = 1000;
    if (!mk) {
        return true;
    }
    if (cv_parse_i64(mk->value, &v) || v < 0) {
        resp_error(r, CV_S3_INVALID_ARGUMENT, "Provided max-keys not an integer or within integer "
                                              "range",
                   "ArgumentName", name, NULL);
        return false;
    }
    *out = v > 1000 ? 1000 : (unsigned)v;
    return true;
}

static struct cv_str param_value(struct store_req *r, const char *name)
{
    const struct query_param *q = req_param(r, name);
    return q ? q->value : CV_STR_NULL;
}

static bool encoding_url(struct store_req *r, bool *url)
{
    const struct query_param *et = req_param(r, "encoding-type");

    *url = false;
    if (!et) {
        return true;
    }
    if (!cv_str_eq_c(et->value, "url")) {
        resp_error(r, CV_S3_INVALID_ARGUMENT, "Invalid Encoding Method specified in Request",
                   "ArgumentName", "encoding-type", NULL);
        return false;
    }
    *url = true;
    return true;
}

static cv_err owner_xml(struct store_req *r, struct cv_buf *b)
{
    char id[65], name[65];
    cv_err err = s3_account_info(r->st, r->bi->account, id, name);

    if (!err) {
        err = cv_buf_adds(b, "<Owner>");
    }
    if (!err) {
        err = xml_elemc(b, "ID", id);
    }
    if (!err) {
        err = xml_elemc(b, "DisplayName", name);
    }
    if (!err) {
        err = cv_buf_adds(b, "</Owner>");
    }
    return err;
}

void s3_list_objects(struct store_req *r, int version)
{
    struct list_params lp;
    struct list_result lr;
    struct cv_buf *b = &r->resp.body;
    struct cv_str token = CV_STR_NULL, start_after = CV_STR_NULL;
    struct cv_buf dtoken = CV_BUF_INIT(4096);
    bool url, fetch_owner = version == 1;
    struct db_conn *c;
    cv_err err;
    size_t i, nkeys = 0;

    memset(&lp, 0, sizeof(lp));
    if (!parse_max(r, "max-keys", &lp.max_keys) || !encoding_url(r, &url)) {
        return;
    }
    lp.prefix = param_value(r, "prefix");
    lp.delimiter = param_value(r, "delimiter");
    if (lp.delimiter.ptr && lp.delimiter.len == 0) {
        lp.delimiter = CV_STR_NULL; /* an empty delimiter is no delimiter */
    }
    if (version == 2) {
        const struct query_param *t = req_param(r, "continuation-token");
        const struct query_param *fo = req_param(r, "fetch-owner");
        start_after = param_value(r, "start-after");
        lp.start_after = start_after;
        if (t) {
            token = t->value;
        }
        if (t && t->value.len) {
            if (cv_base64_decode(&dtoken, token) || dtoken.len == 0) {
                resp_error(r, CV_S3_INVALID_ARGUMENT,
                           "The continuation token provided is incorrect", "ArgumentName",
                           "continuation-token", NULL);
                cv_buf_release(&dtoken);
                return;
            }
            lp.start_after.ptr = dtoken.ptr;
            lp.start_after.len = dtoken.len;
        }
        fetch_owner = fo && cv_str_eq_c(fo->value, "true");
    } else {
        lp.start_after = param_value(r, "marker");
    }
    c = db_reader(r->st->db);
    if (!c) {
        cv_buf_release(&dtoken);
        resp_error(r, CV_ENOMEM, NULL, NULL);
        return;
    }
    err = store_list(c, &r->arena, r->bucket, &lp, &lr);
    db_reader_done(r->st->db, c);
    if (!err) {
        err = xml_begin(b, "ListBucketResult");
    }
    if (!err) {
        err = xml_elem(b, "Name", r->bucket.ptr, r->bucket.len);
    }
    if (!err) {
        /* v1 reports Prefix as sent (clients decode only Marker, Delimiter and
         * keys there); v2 encodes it with the rest. */
        err = add_maybe_encoded(b, "Prefix", lp.prefix, url && version == 2);
    }
    if (!err && version == 1) {
        err = add_maybe_encoded(b, "Marker", lp.start_after, url);
    }
    if (!err && version == 2 && start_after.ptr) {
        err = add_maybe_encoded(b, "StartAfter", start_after, url);
    }
    if (!err && version == 2 && token.ptr) {
        err = xml_elem(b, "ContinuationToken", token.ptr, token.len);
    }
    if (!err && version == 2) {
        for (i = 0; i < lr.n; i++) {
            nkeys++;
        }
        err = xml_elemf(b, "KeyCount", "%zu", nkeys);
    }
    if (!err) {
        err = xml_elemf(b, "MaxKeys", "%u", lp.max_keys);
    }
    if (!err && lp.delimiter.ptr) {
        err = add_maybe_encoded(b, "Delimiter", lp.delimiter, url);
    }
    if (!err) {
        err = xml_elemc(b, "IsTruncated", lr.truncated ? "true" : "false");
    }
    if (!err && lr.truncated && version == 1 && lp.delimiter.ptr) {
        err = add_maybe_encoded(b, "NextMarker", lr.next_marker, url);
    }
    if (!err && lr.truncated && version == 2) {
        struct cv_buf t = CV_BUF_INIT(8192);
        err = cv_base64_encode(&t, (const uint8_t *)lr.next_marker.ptr, lr.next_marker.len);
        if (!err) {
            err = xml_elem(b, "NextContinuationToken", t.ptr, t.len);
        }
        cv_buf_release(&t);
    }
    if (!err && url) {
        err = xml_elemc(b, "EncodingType", "url");
    }
    for (i = 0; i < lr.n && !err; i++) {
        struct list_entry *e = &lr.entries[i];
        char lm[25];
        if (e->is_prefix) {
            continue;
        }
        cv_time_iso8601_ms(e->mtime, lm);
        err = cv_buf_adds(b, "<Contents>");
        if (!err) {
            err = add_maybe_encoded(b, "Key", (struct cv_str){e->key, e->keylen}, url);
        }
        if (!err) {
            err = xml_elemc(b, "LastModified", lm);
        }
        if (!err) {
            err = xml_elemc(b, "ETag", e->etag);
        }
        if (!err) {
            err = xml_elemf(b, "Size", "%llu", (unsigned long long)e->size);
        }
        if (!err && fetch_owner) {
            err = owner_xml(r, b);
        }
        if (!err) {
            err = xml_elemc(b, "StorageClass", e->storage_class);
        }
        if (!err) {
            err = cv_buf_adds(b, "</Contents>");
        }
    }
    for (i = 0; i < lr.n && !err; i++) {
        struct list_entry *e = &lr.entries[i];
        if (!e->is_prefix) {
            continue;
        }
        err = cv_buf_adds(b, "<CommonPrefixes>");
        if (!err) {
            err = add_maybe_encoded(b, "Prefix", (struct cv_str){e->key, e->keylen}, url);
        }
        if (!err) {
            err = cv_buf_adds(b, "</CommonPrefixes>");
        }
    }
    if (!err) {
        err = xml_end(b, "ListBucketResult");
    }
    cv_buf_release(&dtoken);
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 200;
    r->resp.content_type = "application/xml";
}

/* One row of ListObjectVersions: a version, a delete marker or a common prefix. */
struct ver_entry {
    char *key; /* arena */
    size_t keylen;
    char vid[40];
    bool is_prefix, marker, latest;
    uint64_t size;
    char etag[80];
    int64_t mtime;
    char storage_class[24];
};

struct ver_walk {
    struct cv_str prefix, delimiter, key_marker, vid_marker;
    unsigned max_keys;
    struct ver_entry *e; /* arena */
    size_t n, cap;
    bool truncated;
};

static cv_err ver_add(struct cv_arena *a, struct ver_walk *w, const struct ver_entry *e)
{
    if (w->n == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 64;
        struct ver_entry *n = cv_arena_alloc(a, ncap * sizeof(*n));
        if (!n) {
            return CV_ENOMEM;
        }
        if (w->n) {
            memcpy(n, w->e, w->n * sizeof(*n));
        }
        w->e = n;
        w->cap = ncap;
    }
    w->e[w->n++] = *e;
    return CV_OK;
}

/*
 * Walks the current rows and the versions table in (key, newest first)
 * order from the key marker: the first row of a key is its latest version.
 * Unlike store_list this steps over every row under a folded prefix.
 */
static cv_err ver_walk_run(struct db_conn *c, struct cv_arena *a, struct cv_str bucket,
                           struct ver_walk *w)
{
    sqlite3_stmt *s = db_stmt(c, STMT_VER_LIST);
    struct cv_buf prev = CV_BUF_INIT(4096), lastcp = CV_BUF_INIT(4096);
    struct cv_str start = w->prefix;
    bool have_prev = false, have_cp = false, passed_vid = false;
    cv_err err = CV_OK;

    if (!s) {
        return CV_EDB;
    }
    if (w->key_marker.len && cv_str_cmp(w->key_marker, w->prefix) > 0) {
        start = w->key_marker;
    }
    db_bind_str(s, 1, bucket);
    sqlite3_bind_text(s, 2, start.ptr ? start.ptr : "", (int)start.len, SQLITE_STATIC);
    while (!err && w->max_keys && sqlite3_step(s) == SQLITE_ROW) {
        struct cv_str key = db_col_str(s, 0), vid = db_col_str(s, 1);
        struct ver_entry e;
        bool latest;
        size_t cpl;
        int km;

        if (key.len < w->prefix.len ||
            (w->prefix.len && memcmp(key.ptr, w->prefix.ptr, w->prefix.len) != 0)) {
            break; /* past the prefix range */
        }
        latest = !have_prev || !cv_str_eq(key, (struct cv_str){prev.ptr, prev.len});
        if (latest) {
            cv_buf_reset(&prev);
            err = cv_buf_add(&prev, key.ptr, key.len);
            have_prev = true;
            if (err) {
                break;
            }
        }
        cpl = common_prefix_len(key, w->prefix, w->delimiter);
        /* Resume after the markers. */
        if (w->key_marker.len) {
            km = cv_str_cmp(key, w->key_marker);
            if (!w->vid_marker.len) {
                if (km <= 0 || (cpl && cv_str_eq((struct cv_str){key.ptr, cpl}, w->key_marker))) {
                    continue;
                }
            } else if (km < 0) {
                continue;
            } else if (km == 0 && !passed_vid) {
                /* Past the marker's row; if that version is gone (deleted
                 * since the last page), past where it was: ids are
                 * time-ordered, so an older one is smaller. */
                bool older = !cv_str_eq_c(vid, "null") && !cv_str_eq_c(w->vid_marker, "null") &&
                             cv_str_cmp(vid, w->vid_marker) < 0;
                if (!older) {
                    passed_vid = cv_str_eq(vid, w->vid_marker);
                    continue;
                }
                passed_vid = true;
            }
        }
        memset(&e, 0, sizeof(e));
        if (cpl) {
            struct cv_str cp = {key.ptr, cpl};
            if (have_cp && cv_str_eq(cp, (struct cv_str){lastcp.ptr, lastcp.len})) {
                continue;
            }
            if (w->n >= w->max_keys) {
                w->truncated = true;
                break;
            }
            cv_buf_reset(&lastcp);
            err = cv_buf_add(&lastcp, key.ptr, cpl);
            have_cp = true;
            e.is_prefix = true;
            e.key = cv_arena_strndup(a, key.ptr, cpl);
            e.keylen = cpl;
        } else {
            struct cv_str et = db_col_str(s, 4), sc = db_col_str(s, 6);
            if (w->n >= w->max_keys) {
                w->truncated = true;
                break;
            }
            e.key = cv_arena_strndup(a, key.ptr, key.len);
            e.keylen = key.len;
            snprintf(e.vid, sizeof(e.vid), "%.*s", (int)CV_MIN(vid.len, 39), vid.ptr ? vid.ptr : "");
            e.marker = sqlite3_column_int(s, 2) != 0;
            e.latest = latest;
            e.size = (uint64_t)sqlite3_column_int64(s, 3);
            snprintf(e.etag, sizeof(e.etag), "%.*s", (int)CV_MIN(et.len, 79), et.ptr ? et.ptr : "");
            e.mtime = sqlite3_column_int64(s, 5);
            if (!sc.ptr || !sc.len) {
                sc = CV_STR("STANDARD");
            }
            snprintf(e.storage_class, sizeof(e.storage_class), "%.*s", (int)CV_MIN(sc.len, 23),
                     sc.ptr);
        }
        if (!err && !e.key) {
            err = CV_ENOMEM;
        }
        if (!err) {
            err = ver_add(a, w, &e);
        }
    }
    sqlite3_reset(s);
    cv_buf_release(&prev);
    cv_buf_release(&lastcp);
    return err;
}

static cv_err ver_entry_xml(struct store_req *r, struct cv_buf *b, const struct ver_entry *e,
                            bool url)
{
    const char *el = e->marker ? "DeleteMarker" : "Version";
    char lm[25];
    cv_err err;

    cv_time_iso8601_ms(e->mtime, lm);
    err = xml_open(b, el);
    if (!err) {
        err = add_maybe_encoded(b, "Key", (struct cv_str){e->key, e->keylen}, url);
    }
    if (!err) {
        err = xml_elemc(b, "VersionId", e->vid);
    }
    if (!err) {
        err = xml_elemc(b, "IsLatest", e->latest ? "true" : "false");
    }
    if (!err) {
        err = xml_elemc(b, "LastModified", lm);
    }
    if (!err && !e->marker) {
        err = xml_elemc(b, "ETag", e->etag);
        if (!err) {
            err = xml_elemf(b, "Size", "%llu", (unsigned long long)e->size);
        }
        if (!err) {
            err = xml_elemc(b, "StorageClass", e->storage_class);
        }
    }
    if (!err) {
        err = owner_xml(r, b);
    }
    if (!err) {
        err = xml_close(b, el);
    }
    return err;
}

void s3_list_object_versions(struct store_req *r)
{
    struct ver_walk w;
    struct cv_buf *b = &r->resp.body;
    struct db_conn *c;
    bool url;
    cv_err err;
    size_t i;

    memset(&w, 0, sizeof(w));
    if (!parse_max(r, "max-keys", &w.max_keys) || !encoding_url(r, &url)) {
        return;
    }
    w.prefix = param_value(r, "prefix");
    w.delimiter = param_value(r, "delimiter");
    if (w.delimiter.ptr && w.delimiter.len == 0) {
        w.delimiter = CV_STR_NULL;
    }
    w.key_marker = param_value(r, "key-marker");
    w.vid_marker = param_value(r, "version-id-marker");
    if (w.vid_marker.len && !w.key_marker.len) {
        resp_error(r, CV_S3_INVALID_ARGUMENT,
                   "A version-id marker cannot be specified without a key marker.", NULL);
        return;
    }
    if (w.vid_marker.len && !store_vid_valid(w.vid_marker)) {
        resp_error(r, CV_S3_INVALID_ARGUMENT, "Invalid version id specified", NULL);
        return;
    }
    c = db_reader(r->st->db);
    if (!c) {
        resp_error(r, CV_ENOMEM, NULL, NULL);
        return;
    }
    err = ver_walk_run(c, &r->arena, r->bucket, &w);
    db_reader_done(r->st->db, c);
    if (!err) {
        err = xml_begin(b, "ListVersionsResult");
    }
    if (!err) {
        err = xml_elem(b, "Name", r->bucket.ptr, r->bucket.len);
    }
    if (!err) {
        err = add_maybe_encoded(b, "Prefix", w.prefix, url);
    }
    if (!err) {
        err = add_maybe_encoded(b, "KeyMarker", w.key_marker, url);
    }
    if (!err) {
        err = xml_elem(b, "VersionIdMarker", w.vid_marker.ptr ? w.vid_marker.ptr : "",
                       w.vid_marker.len);
    }
    if (!err) {
        err = xml_elemf(b, "MaxKeys", "%u", w.max_keys);
    }
    if (!err && w.delimiter.ptr) {
        err = add_maybe_encoded(b, "Delimiter", w.delimiter, url);
    }
    if (!err) {
        err = xml_elemc(b, "IsTruncated", w.truncated ? "true" : "false");
    }
    if (!err && w.truncated && w.n) {
        const struct ver_entry *last = &w.e[w.n - 1];
        err = add_maybe_encoded(b, "NextKeyMarker", (struct cv_str){last->key, last->keylen}, url);
        if (!err && !last->is_prefix) {
            err = xml_elemc(b, "NextVersionIdMarker", last->vid);
        }
    }
    if (!err && url) {
        err = xml_elemc(b, "EncodingType", "url");
    }
    for (i = 0; i < w.n && !err; i++) {
        if (!w.e[i].is_prefix) {
            err = ver_entry_xml(r, b, &w.e[i], url);
        }
    }
    for (i = 0; i < w.n && !err; i++) {
        const struct ver_entry *e = &w.e[i];
        if (!e->is_prefix) {
            continue;
        }
        err = cv_buf_adds(b, "<CommonPrefixes>");
        if (!err) {
            err = add_maybe_encoded(b, "Prefix", (struct cv_str){e->key, e->keylen}, url);
        }
        if (!err) {
            err = cv_buf_adds(b, "</CommonPrefixes>");
        }
    }
    if (!err) {
        err = xml_end(b, "ListVersionsResult");
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 200;
    r->resp.content_type = "application/xml";
}

/* ------------------------------------------------------- DeleteObjects */

struct del_item {
    struct cv_str key;
    const char *version_id; /* arena, or NULL */
    cv_err err;
    bool bypass; /* x-amz-bypass-governance-retention, allowed on this key */
    char vid[40]; /* out: as obj_commit */
    bool marker;
};

struct multi_delete {
    struct del_item *items;
    size_t n;
    struct obj_commit oc;
};

static cv_err multi_delete_tx(struct db_conn *c, void *arg)
{
    struct multi_delete *md = arg;
    size_t i;
    cv_err err = CV_OK;

    for (i = 0; i < md->n && !err; i++) {
        if (md->items[i].err) {
            continue;
        }
        md->oc.key = md->items[i].key;
        md->oc.version_id = md->items[i].version_id;
        md->oc.bypass_governance = md->items[i].bypass;
        err = obj_delete_tx(c, &md->oc);
        if (err == CV_S3_ACCESS_DENIED) {
            /* A locked version (s3_lock.c): refused before anything changed. */
            md->items[i].err = err;
            err = CV_OK;
            continue;
        }
        memcpy(md->items[i].vid, md->oc.vid, sizeof(md->items[i].vid));
        md->items[i].marker = md->oc.marker;
    }
    if (err) {
        md->oc.nold = 0; /* rolled back: nothing to unlink */
    }
    return err;
}

void s3_delete_objects(struct store_req *r)
{
    struct xml_node *root = NULL;
    const struct xml_node *o;
    struct cv_buf *b = &r->resp.body;
    bool quiet;
    unsigned n = 0;
    cv_err err;

    if (!r->want_md5_check && r->ck.algo == SIGV4_CK_NONE) {
        resp_error(r, CV_S3_INVALID_REQUEST,
                   "Missing required header for this request: Content-MD5", NULL);
        return;
    }
    {
        uint8_t md5[CV_MD5_LEN];
        cv_md5_final(&r->md5, md5);
        if (r->want_md5_check && !cv_ct_equal(md5, r->content_md5, CV_MD5_LEN)) {
            resp_error(r, CV_S3_BAD_DIGEST, NULL, NULL);
            return;
        }
    }
    root = xml_parse_doc(&r->arena, &r->xml, "Delete");
    if (!root) {
        resp_error(r, CV_S3_MALFORMED_XML, NULL, NULL);
        return;
    }
    for (o = root->child; o; o = o->next) {
        if (strcmp(o->name, "Object") == 0) {
            n++;
        }
    }
    if (n == 0 || n > 1000) {
        resp_error(r, CV_S3_MALFORMED_XML, NULL, NULL);
        return;
    }
    quiet = cv_str_eq_c(xml_text(xml_child(root, "Quiet")), "true");
    /* Decide every key first (permission per key, IAM.md §3), then delete
     * the allowed ones in one transaction: one commit for up to 1000 keys. */
    {
        struct del_item *items = cv_arena_alloc(&r->arena, n * sizeof(*items));
        struct multi_delete md;
        size_t k = 0, i;

        if (!items) {
            resp_error(r, CV_ENOMEM, NULL, NULL);
            return;
        }
        for (o = root->child; o; o = o->next) {
            struct cv_str key;
            if (strcmp(o->name, "Object") != 0) {
                continue;
            }
            key = xml_text(xml_child(o, "Key"));
            memset(&items[k], 0, sizeof(items[k]));
            items[k].key = key;
            if (xml_child(o, "VersionId")) {
                struct cv_str v = xml_text(xml_child(o, "VersionId"));
                items[k].version_id = cv_arena_strndup(&r->arena, v.ptr ? v.ptr : "", v.len);
                if (!items[k].version_id) {
                    resp_error(r, CV_ENOMEM, NULL, NULL);
                    return;
                }
            }
            if (!xml_child(o, "Key") || key.len == 0) {
                items[k].err = CV_S3_MALFORMED_XML;
            } else if (key.len > r->st->cfg.limits.max_key_bytes) {
                items[k].err = CV_S3_KEY_TOO_LONG;
            } else if (items[k].version_id && !store_vid_valid(cv_str_c(items[k].version_id))) {
                items[k].err = CV_S3_INVALID_ARGUMENT;
            } else if (!store_allowed(r, items[k].version_id ? "s3:DeleteObjectVersion"
                                                             : "s3:DeleteObject",
                                      r->bucket, key, r->bi)) {
                items[k].err = CV_S3_ACCESS_DENIED;
            } else {
                items[k].err = CV_OK;
                items[k].bypass =
                    items[k].version_id && r->bi->object_lock && s3_lock_bypass(r, key);
            }
            k++;
        }
        memset(&md, 0, sizeof(md));
        md.items = items;
        md.n = k;
        md.oc.arena = &r->arena;
        md.oc.bucket = r->bucket;
        md.oc.mtime = r->now_ms;
        err = db_write(r->st->db, multi_delete_tx, &md);
        if (err) {
            resp_error(r, err, NULL, NULL);
            return;
        }
        obj_commit_cleanup(r->st, &md.oc);
        err = xml_begin(b, "DeleteResult");
        for (i = 0; i < k && !err; i++) {
            struct cv_str key = items[i].key;
            if (items[i].err) {
                err = cv_buf_adds(b, "<Error>");
                if (!err) {
                    err = xml_elem(b, "Key", key.ptr, key.len);
                }
                if (!err && items[i].version_id) {
                    err = xml_elemc(b, "VersionId", items[i].version_id);
                }
                if (!err) {
                    err = xml_elemc(b, "Code", cv_err_wire_code(items[i].err));
                }
                if (!err) {
                    err = xml_elemc(b, "Message", cv_err_str(items[i].err));
                }
                if (!err) {
                    err = cv_buf_adds(b, "</Error>");
                }
            } else if (!quiet) {
                err = cv_buf_adds(b, "<Deleted>");
                if (!err) {
                    err = xml_elem(b, "Key", key.ptr, key.len);
                }
                if (!err && items[i].version_id) {
                    err = xml_elemc(b, "VersionId", items[i].version_id);
                }
                if (!err && items[i].marker) {
                    err = xml_elemc(b, "DeleteMarker", "true");
                }
                if (!err && items[i].marker && items[i].vid[0]) {
                    err = xml_elemc(b, "DeleteMarkerVersionId", items[i].vid);
                }
                if (!err) {
                    err = cv_buf_adds(b, "</Deleted>");
                }
            }
        }
    }
    if (!err) {
        err = xml_end(b, "DeleteResult");
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 200;
    r->resp.content_type = "application/xml";
}
