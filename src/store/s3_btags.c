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

void s3_get_bucket_tagging(struct store_req *r)
{
    struct cv_buf stored = CV_BUF_INIT(8192);
    bool found;
    cv_err err = bucket_doc_get(r->st->db, BUCKET_DOC_TAGS, r->bucket, &stored, &found);

    if (!err && !found) {
        char b[80];
        snprintf(b, sizeof(b), "%.*s", (int)CV_MIN(r->bucket.len, 70), r->bucket.ptr);
        resp_error(r, CV_S3_NO_SUCH_TAG_SET, NULL, "BucketName", b, NULL);
        goto out;
    }
    if (!err) {
        err = tags_write_xml(&r->arena, (struct cv_str){stored.ptr ? stored.ptr : "", stored.len},
                             &r->resp.body);
    }
    if (err) {
        resp_error(r, err, NULL, NULL);
        goto out;
    }
    r->resp.status = 200;
    r->resp.content_type = "application/xml";
out:
    cv_buf_release(&stored);
}

void s3_put_bucket_tagging(struct store_req *r)
{
    struct tag_set ts;
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
    if (!err) {
        err = bucket_doc_set(r->st->db, BUCKET_DOC_TAGS, r->bucket, enc.ptr ? enc.ptr : "");
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
    cv_err err = bucket_doc_set(r->st->db, BUCKET_DOC_TAGS, r->bucket, NULL);

    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 204;
}
