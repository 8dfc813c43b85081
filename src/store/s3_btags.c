/*
 * Bucket tagging (Get/Put/DeleteBucketTagging). The tag set is kept in its
 * canonical stored form (tags.c) in the bucket_tags table, which a trigger
 * empties with its bucket. Permissions: s3:GetBucketTagging and
 * s3:PutBucketTagging (also for DeleteBucketTagging, as on AWS).
 * Like object tags, at most 10 tags (AWS allows 50 on a bucket).
 */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

struct btags_job {
    struct cv_str bucket;
    const char *tags; /* NULL: delete */
};

static cv_err btags_tx(struct db_conn *c, void *arg)
{
    struct btags_job *j = arg;
    sqlite3_stmt *q = NULL;
    cv_err err = CV_OK;
    const char *sql = j->tags ? "INSERT OR REPLACE INTO bucket_tags(bucket, tags) "
                                "SELECT name, ?2 FROM buckets WHERE name = ?1"
                              : "DELETE FROM bucket_tags WHERE bucket = ?1";

    if (sqlite3_prepare_v2(c->h, sql, -1, &q, NULL) != SQLITE_OK) {
        return CV_EDB;
    }
    db_bind_str(q, 1, j->bucket);
    if (j->tags) {
        sqlite3_bind_text(q, 2, j->tags, -1, SQLITE_STATIC);
    }
    if (sqlite3_step(q) != SQLITE_DONE) {
        err = CV_EDB;
    }
    sqlite3_finalize(q);
    return err;
}

void s3_get_bucket_tagging(struct store_req *r)
{
    struct db_conn *c = db_reader(r->st->db);
    sqlite3_stmt *q = NULL;
    char *stored = NULL;
    bool found = false;
    cv_err err = CV_OK;

    if (!c) {
        resp_error(r, CV_ENOMEM, NULL, NULL);
        return;
    }
    if (sqlite3_prepare_v2(c->h, "SELECT tags FROM bucket_tags WHERE bucket = ?1", -1, &q,
                           NULL) != SQLITE_OK) {
        err = CV_EDB;
    } else {
        db_bind_str(q, 1, r->bucket);
        if (sqlite3_step(q) == SQLITE_ROW) {
            struct cv_str t = db_col_str(q, 0);
            found = true;
            stored = cv_arena_strndup(&r->arena, t.ptr ? t.ptr : "", t.len);
            if (!stored) {
                err = CV_ENOMEM;
            }
        }
    }
    sqlite3_finalize(q);
    db_reader_done(r->st->db, c);
    if (!err && !found) {
        char b[80];
        snprintf(b, sizeof(b), "%.*s", (int)CV_MIN(r->bucket.len, 70), r->bucket.ptr);
        resp_error(r, CV_S3_NO_SUCH_TAG_SET, NULL, "BucketName", b, NULL);
        return;
    }
    if (!err) {
        err = tags_write_xml(&r->arena, cv_str_c(stored), &r->resp.body);
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 200;
    r->resp.content_type = "application/xml";
}

void s3_put_bucket_tagging(struct store_req *r)
{
    struct tag_set ts;
    struct btags_job j = {r->bucket, NULL};
    struct cv_buf enc = CV_BUF_INIT(8192);
    char msg[160] = "";
    cv_err err;

    err = tags_parse_xml(&r->arena, r->xml.ptr ? r->xml.ptr : "", r->xml.len, &ts, msg,
                         sizeof(msg));
    if (err) {
        resp_error(r, err, msg[0] ? msg : NULL, NULL);
        return;
    }
    err = tags_encode(&ts, &enc);
    j.tags = enc.ptr ? enc.ptr : "";
    if (!err) {
        err = db_write(r->st->db, btags_tx, &j);
    }
    cv_buf_release(&enc);
    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 204;
}

void s3_delete_bucket_tagging(struct store_req *r)
{
    struct btags_job j = {r->bucket, NULL};
    cv_err err = db_write(r->st->db, btags_tx, &j);

    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 204;
}
