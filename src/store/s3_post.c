/*
 * POST Object: browser-based uploads (POST /bucket, multipart/form-data).
 *
 * The form is parsed as it streams in. Fields before the "file" field are
 * kept (in the request's arena); when the file part begins the upload is
 * authenticated from the form (a SigV4 POST policy signature, x-amz-*
 * fields, or the legacy AWSAccessKeyId/signature HMAC-SHA1 pair; without a
 * policy the request is anonymous), the policy document's expiration and
 * conditions are checked against the fields, s3:PutObject is authorized on
 * the key, and the file's bytes go straight into a blob writer, as a PUT's
 * body does. Fields after the file are ignored, as on AWS. At the end the
 * form's fields become the request's headers (Content-Type, x-amz-meta-*,
 * acl, ...) and the object is committed by the PutObject path.
 */
#include "store_int.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define POST_BUF (256 * 1024)     /* parse window: part headers, field values */
#define POST_MAX_FIELDS 64
#define POST_MAX_FIELD (20 * 1024) /* a field's value (the policy is the largest) */

enum post_phase { PH_PREAMBLE = 0, PH_HEADERS, PH_FIELD, PH_FILE, PH_AFTER_DELIM, PH_DONE };

struct post_field {
    char *name;
    char *value;
    size_t len;
};

struct s3_post {
    enum post_phase phase;
    char *delim; /* "\r\n--BOUNDARY" */
    size_t delim_len;
    char *buf; /* unparsed bytes */
    size_t len;
    char cur_name[128];
    char filename[1024];
    struct post_field fields[POST_MAX_FIELDS];
    size_t nfields;
    bool file_seen;
    int64_t len_min, len_max; /* content-length-range; -1 when absent */
    char host[256]; /* the request's Host, for PostResponse's Location */
    char msg[256];
};

/* ------------------------------------------------------------ fields */

static const struct post_field *field(const struct s3_post *p, const char *name)
{
    size_t i;

    for (i = 0; i < p->nfields; i++) {
        if (cv_str_eq_ci_c(cv_str_c(p->fields[i].name), name)) {
            return &p->fields[i];
        }
    }
    return NULL;
}

static struct cv_str field_str(const struct s3_post *p, const char *name)
{
    const struct post_field *f = field(p, name);

    return f ? (struct cv_str){f->value, f->len} : CV_STR_NULL;
}

static cv_err post_error(struct s3_post *p, cv_err err, const char *msg)
{
    if (msg) {
        snprintf(p->msg, sizeof(p->msg), "%s", msg);
    }
    return err;
}

/* ------------------------------------------------------------ signatures */

/* Authenticates the form; r->ident is the caller. False with the error set. */
static bool post_authenticate(struct store_req *r, struct s3_post *p, struct cv_str policy)
{
    struct cv_str v4sig = field_str(p, "x-amz-signature");
    struct cv_str v2sig = field_str(p, "signature");
    char secret[128];
    bool ok = false;

    memset(&r->ident, 0, sizeof(r->ident));
    r->ident.kind = IDENT_ANONYMOUS;
    snprintf(r->ident.account, sizeof(r->ident.account), "anonymous");
    if (!policy.ptr) {
        return true; /* an anonymous upload: the bucket must allow it */
    }
    if (v4sig.ptr) {
        struct cv_str algo = field_str(p, "x-amz-algorithm");
        struct cv_str cred = field_str(p, "x-amz-credential");
        struct cv_str akid, rest, date, region, service, term;
        struct sigv4_scope scope;
        struct sigv4_signing_key key;
        uint8_t mac[CV_SHA256_LEN], want[CV_SHA256_LEN];

        if (!cv_str_eq_c(algo, "AWS4-HMAC-SHA256") || !cred.ptr) {
            resp_error(r, CV_S3_INVALID_ARGUMENT,
                       "POST requires x-amz-algorithm AWS4-HMAC-SHA256 and x-amz-credential.",
                       NULL);
            return false;
        }
        cv_str_split(cred, '/', &akid, &rest);
        cv_str_split(rest, '/', &date, &rest);
        cv_str_split(rest, '/', &region, &rest);
        cv_str_split(rest, '/', &service, &term);
        if (!akid.len || date.len != 8 || !cv_str_eq_c(service, "s3") ||
            !cv_str_eq_c(term, "aws4_request") || !cv_str_eq_c(region, r->st->region) ||
            v4sig.len != 2 * CV_SHA256_LEN ||
            cv_hex_decode(v4sig, want, sizeof(want)) != CV_OK) {
            resp_error(r, CV_S3_INVALID_ARGUMENT, "Invalid x-amz-credential or x-amz-signature.",
                       NULL);
            return false;
        }
        if (!store_identify(r, akid, secret, sizeof(secret))) {
            return false;
        }
        scope.date = date;
        scope.region = region;
        scope.service = service;
        sigv4_key_cache_get(r->st->keys, akid, cv_str_c(secret), &scope, &key);
        cv_hmac_sha256_key_mac(&key.mac, policy.ptr, policy.len, mac);
        ok = cv_ct_equal(mac, want, sizeof(mac));
    } else if (v2sig.ptr) {
        struct cv_str akid = field_str(p, "AWSAccessKeyId");
        uint8_t mac[CV_SHA1_LEN];
        struct cv_buf got = CV_BUF_INIT(64);

        if (!akid.ptr) {
            resp_error(r, CV_S3_INVALID_ARGUMENT,
                       "Bucket POST must contain a field named 'AWSAccessKeyId'.", NULL);
            return false;
        }
        if (!store_identify(r, akid, secret, sizeof(secret))) {
            return false;
        }
        cv_hmac_sha1(secret, strlen(secret), policy.ptr, policy.len, mac);
        ok = cv_base64_encode(&got, mac, sizeof(mac)) == CV_OK && got.ptr &&
             cv_str_eq(cv_str_trim(v2sig), (struct cv_str){got.ptr, got.len});
        cv_buf_release(&got);
    } else {
        resp_error(r, CV_S3_INVALID_ARGUMENT,
                   "Bucket POST must contain a field named 'signature' or 'x-amz-signature'.",
                   NULL);
        return false;
    }
    cv_secure_zero(secret, sizeof(secret));
    if (!ok) {
        memset(&r->ident, 0, sizeof(r->ident));
        resp_error(r, CV_S3_SIGNATURE_DOES_NOT_MATCH, NULL, NULL);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------ the policy */

static bool policy_fail(struct store_req *r, cv_err err, const char *pre, const char *arg,
                        const char *post)
{
    char msg[300];

    snprintf(msg, sizeof(msg), "%s%s%s", pre, arg, post);
    resp_error(r, err, msg, NULL);
    return false;
}

/* Fields the policy need not mention. */
static bool exempt(const char *name)
{
    static const char *const names[] = {"policy", "signature", "x-amz-signature", "AWSAccessKeyId",
                                        "file"};
    size_t i;

    if (cv_str_starts_with(cv_str_c(name), "x-ignore-") ||
        sigv4_checksum_from_header(cv_str_c(name)) != SIGV4_CK_NONE) {
        return true;
    }
    for (i = 0; i < CV_ARRAY_LEN(names); i++) {
        if (cv_str_eq_ci_c(cv_str_c(name), names[i])) {
            return true;
        }
    }
    return false;
}

/* The value a condition on "$name" is checked against. */
static struct cv_str cond_value(struct store_req *r, const struct s3_post *p, const char *name)
{
    if (cv_str_eq_ci_c(cv_str_c(name), "bucket")) {
        return r->bucket;
    }
    if (cv_str_eq_ci_c(cv_str_c(name), "key")) {
        return r->key;
    }
    return field_str(p, name);
}

static bool check_policy(struct store_req *r, struct s3_post *p, struct cv_str b64)
{
    struct cv_buf doc = CV_BUF_INIT(POST_MAX_FIELD);
    json_t *root = NULL, *exp, *conds, *c;
    json_error_t jerr;
    bool covered[POST_MAX_FIELDS];
    bool ok = false;
    int64_t exp_ms;
    size_t i, k;

    memset(covered, 0, sizeof(covered));
    if (cv_base64_decode(&doc, cv_str_trim(b64)) != CV_OK || !doc.ptr) {
        resp_error(r, CV_S3_INVALID_POLICY_DOCUMENT, "Invalid Policy: Invalid Base64 Encoding.",
                   NULL);
        goto out;
    }
    root = json_loadb(doc.ptr, doc.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root || !json_is_object(root)) {
        resp_error(r, CV_S3_INVALID_POLICY_DOCUMENT, "Invalid Policy: Invalid JSON.", NULL);
        goto out;
    }
    exp = json_object_get(root, "expiration");
    if (!exp) {
        resp_error(r, CV_S3_INVALID_POLICY_DOCUMENT, "Invalid Policy: Policy missing expiration.",
                   NULL);
        goto out;
    }
    /* Strictly YYYY-MM-DDTHH:MM:SS[.fff]Z, as AWS wants it. */
    if (!json_is_string(exp) || strlen(json_string_value(exp)) < 20 ||
        json_string_value(exp)[10] != 'T' ||
        json_string_value(exp)[strlen(json_string_value(exp)) - 1] != 'Z' ||
        cv_time_parse_iso8601(cv_str_c(json_string_value(exp)), &exp_ms) != CV_OK) {
        resp_error(r, CV_S3_INVALID_POLICY_DOCUMENT,
                   "Invalid Policy: Invalid 'expiration' value.", NULL);
        goto out;
    }
    if (exp_ms < r->now_ms) {
        resp_error(r, CV_S3_ACCESS_DENIED, "Invalid according to Policy: Policy expired.", NULL);
        goto out;
    }
    conds = json_object_get(root, "conditions");
    if (!conds || !json_is_array(conds)) {
        resp_error(r, CV_S3_INVALID_POLICY_DOCUMENT,
                   "Invalid Policy: Policy missing conditions.", NULL);
        goto out;
    }
    json_array_foreach(conds, i, c) {
        const char *name = NULL, *want = NULL, *op = "eq";
        struct cv_str got;

        if (json_is_object(c) && json_object_size(c) == 1) {
            void *it = json_object_iter(c);
            json_t *v = json_object_iter_value(it);
            name = json_object_iter_key(it);
            if (!json_is_string(v)) {
                policy_fail(r, CV_S3_INVALID_POLICY_DOCUMENT,
                            "Invalid Policy: Invalid Simple-Condition: value must be a string (",
                            name, ").");
                goto out;
            }
            want = json_string_value(v);
        } else if (json_is_array(c) && json_array_size(c) == 3 &&
                   json_is_string(json_array_get(c, 0)) &&
                   cv_str_eq_ci_c(cv_str_c(json_string_value(json_array_get(c, 0))),
                                  "content-length-range")) {
            json_t *lo = json_array_get(c, 1), *hi = json_array_get(c, 2);
            if (!json_is_integer(lo) || !json_is_integer(hi)) {
                resp_error(r, CV_S3_INVALID_POLICY_DOCUMENT,
                           "Invalid Policy: Invalid content-length-range values.", NULL);
                goto out;
            }
            p->len_min = (int64_t)json_integer_value(lo);
            p->len_max = (int64_t)json_integer_value(hi);
            if (p->len_min < 0 || p->len_max < p->len_min) {
                resp_error(r, CV_S3_INVALID_POLICY_DOCUMENT,
                           "Invalid Policy: Invalid content-length-range values.", NULL);
                goto out;
            }
            continue;
        } else if (json_is_array(c) && json_array_size(c) == 3 &&
                   json_is_string(json_array_get(c, 0)) && json_is_string(json_array_get(c, 1)) &&
                   json_is_string(json_array_get(c, 2))) {
            op = json_string_value(json_array_get(c, 0));
            name = json_string_value(json_array_get(c, 1));
            want = json_string_value(json_array_get(c, 2));
            if (name[0] != '$') {
                resp_error(r, CV_S3_INVALID_POLICY_DOCUMENT,
                           "Invalid Policy: Invalid Condition: field names start with '$'.", NULL);
                goto out;
            }
            name++;
            if (!cv_str_eq_ci_c(cv_str_c(op), "eq") &&
                !cv_str_eq_ci_c(cv_str_c(op), "starts-with")) {
                policy_fail(r, CV_S3_INVALID_POLICY_DOCUMENT,
                            "Invalid Policy: Invalid Condition: unknown operation '", op, "'.");
                goto out;
            }
        } else {
            resp_error(r, CV_S3_INVALID_POLICY_DOCUMENT, "Invalid Policy: Invalid Condition.",
                       NULL);
            goto out;
        }
        got = cond_value(r, p, name);
        if (!got.ptr ||
            (cv_str_eq_ci_c(cv_str_c(op), "eq") ? !cv_str_eq_c(got, want)
                                   : !cv_str_starts_with(got, want))) {
            policy_fail(r, CV_S3_ACCESS_DENIED,
                        "Invalid according to Policy: Policy Condition failed: [\"", name, "\"]");
            goto out;
        }
        for (k = 0; k < p->nfields; k++) {
            if (cv_str_eq_ci_c(cv_str_c(p->fields[k].name), name)) {
                covered[k] = true;
            }
        }
    }
    for (k = 0; k < p->nfields; k++) {
        if (!covered[k] && !exempt(p->fields[k].name)) {
            policy_fail(r, CV_S3_ACCESS_DENIED, "Invalid according to Policy: Extra input fields: ",
                        p->fields[k].name, "");
            goto out;
        }
    }
    ok = true;
out:
    json_decref(root);
    cv_buf_release(&doc);
    return ok;
}

/* ------------------------------------------------------------ the file part */

/* Headers the form's fields become (the object's metadata, ACL, class). */
static bool fields_to_headers(struct store_req *r, struct s3_post *p)
{
    static const char *const passed[] = {"content-type",     "cache-control", "content-disposition",
                                         "content-encoding", "expires",       "x-amz-storage-class",
                                         "x-amz-server-side-encryption", "x-amz-website-redirect-location"};
    struct sigv4_header *h = cv_arena_alloc(&r->arena, (POST_MAX_FIELDS + 1) * sizeof(*h));
    size_t i, k, n = 0;

    if (!h) {
        resp_error(r, CV_ENOMEM, NULL, NULL);
        return false;
    }
    for (i = 0; i < p->nfields; i++) {
        struct cv_str name = cv_str_c(p->fields[i].name);
        struct cv_str value = {p->fields[i].value, p->fields[i].len};
        bool keep = cv_str_eq_ci_c(name, "acl") ||
                    (name.len > 11 && cv_str_eq_ci((struct cv_str){name.ptr, 11},
                                                   CV_STR("x-amz-meta-")));
        for (k = 0; k < CV_ARRAY_LEN(passed) && !keep; k++) {
            keep = cv_str_eq_ci_c(name, passed[k]);
        }
        if (!keep) {
            continue;
        }
        h[n].name = cv_str_eq_ci_c(name, "acl") ? CV_STR("x-amz-acl") : name;
        h[n].value = value;
        n++;
    }
    r->headers = h;
    r->nheaders = n;
    return true;
}

/* Called when the file part begins: everything is known but the bytes. */
static bool begin_file(struct store_req *r, struct s3_post *p)
{
    struct cv_str key = field_str(p, "key"), policy = field_str(p, "policy");
    struct cv_buf k = CV_BUF_INIT(4096);
    const char *ph;

    if (!key.ptr) {
        resp_error(r, CV_S3_INVALID_ARGUMENT, "Bucket POST must contain a field named 'key'.  "
                   "If it is specified, please check the order of the fields.", NULL);
        return false;
    }
    /* ${filename} is the file's name as the browser sent it. */
    ph = key.len ? memmem(key.ptr, key.len, "${filename}", 11) : NULL;
    if (ph) {
        size_t pre = (size_t)(ph - key.ptr);
        if (cv_buf_add(&k, key.ptr, pre) || cv_buf_adds(&k, p->filename) ||
            cv_buf_add(&k, ph + 11, key.len - pre - 11)) {
            cv_buf_release(&k);
            resp_error(r, CV_S3_KEY_TOO_LONG, NULL, NULL);
            return false;
        }
        r->key.ptr = cv_arena_strndup(&r->arena, k.ptr ? k.ptr : "", k.len);
        r->key.len = k.len;
        cv_buf_release(&k);
    } else {
        r->key = key;
    }
    r->has_key = true;
    if (!r->key.ptr || !r->key.len) {
        resp_error(r, CV_S3_INVALID_ARGUMENT, "User key must have a length greater than 0.",
                   NULL);
        return false;
    }
    if (r->key.len > r->st->cfg.limits.max_key_bytes) {
        resp_error(r, CV_S3_KEY_TOO_LONG, NULL, NULL);
        return false;
    }
    if (!cv_utf8_valid(r->key.ptr, r->key.len)) {
        resp_error(r, CV_S3_INVALID_URI, "Object keys must be valid UTF-8.", NULL);
        return false;
    }
    if (!post_authenticate(r, p, policy)) {
        return false;
    }
    if (policy.ptr && !check_policy(r, p, policy)) {
        return false;
    }
    {
        struct cv_str host = req_header(r, "host");
        snprintf(p->host, sizeof(p->host), "%.*s", (int)CV_MIN(host.len, sizeof(p->host) - 1),
                 host.ptr ? host.ptr : "");
    }
    if (!fields_to_headers(r, p)) {
        return false;
    }
    if (!store_authorize(r, "s3:PutObject", r->bucket, r->key, r->bi)) {
        return false;
    }
    if ((req_has_header(r, "x-amz-acl") || s3_has_grant_headers(r)) &&
        !store_authorize(r, "s3:PutObjectAcl", r->bucket, r->key, r->bi)) {
        return false;
    }
    /* An x-amz-checksum-ALGO field: the file is checked against it. */
    {
        size_t i;
        for (i = 0; i < p->nfields; i++) {
            enum sigv4_checksum_algo a = sigv4_checksum_from_header(cv_str_c(p->fields[i].name));
            if (a != SIGV4_CK_NONE) {
                sigv4_checksum_init(&r->ck, a);
                snprintf(r->ck_expect, sizeof(r->ck_expect), "%.*s",
                         (int)CV_MIN(p->fields[i].len, sizeof(r->ck_expect) - 1),
                         p->fields[i].value);
                break;
            }
        }
    }
    blob_writer_init(&r->blob, r->st->data_dir, r->st->cfg.limits.inline_max);
    r->body_size = 0;
    p->file_seen = true;
    return true;
}

static cv_err file_bytes(struct store_req *r, const char *data, size_t len)
{
    if (!len) {
        return CV_OK;
    }
    if (r->body_size + len > r->st->cfg.limits.max_put_bytes) {
        return CV_S3_ENTITY_TOO_LARGE;
    }
    r->body_size += len;
    cv_md5_update(&r->md5, data, len);
    if (r->ck.algo != SIGV4_CK_NONE) {
        sigv4_checksum_update(&r->ck, data, len);
    }
    return blob_write(&r->blob, data, len);
}

/* ------------------------------------------------------------ the form */

/* Parses Content-Disposition (name, filename) of a part's headers. */
static bool part_headers(struct s3_post *p, struct cv_str hdrs)
{
    struct cv_str line, rest = hdrs;

    p->cur_name[0] = '\0';
    p->filename[0] = '\0';
    while (rest.len) {
        const char *nl = memchr(rest.ptr, '\n', rest.len);
        size_t l = nl ? (size_t)(nl - rest.ptr) : rest.len;
        line = cv_str_trim((struct cv_str){rest.ptr, l});
        rest = nl ? (struct cv_str){nl + 1, rest.len - l - 1} : CV_STR_NULL;
        if (line.len > 20 && cv_str_eq_ci((struct cv_str){line.ptr, 20},
                                          CV_STR("content-disposition:"))) {
            struct cv_str params = {line.ptr + 20, line.len - 20}, item, more;
            while (params.len) {
                cv_str_split(params, ';', &item, &more);
                item = cv_str_trim(item);
                params = more;
                if (cv_str_starts_with(item, "name=") || cv_str_starts_with(item, "filename=")) {
                    bool is_name = item.ptr[0] == 'n';
                    struct cv_str v = {item.ptr + (is_name ? 5 : 9), item.len - (is_name ? 5 : 9)};
                    if (v.len >= 2 && v.ptr[0] == '"' && v.ptr[v.len - 1] == '"') {
                        v.ptr++;
                        v.len -= 2;
                    }
                    if (is_name) {
                        snprintf(p->cur_name, sizeof(p->cur_name), "%.*s",
                                 (int)CV_MIN(v.len, sizeof(p->cur_name) - 1), v.ptr);
                    } else {
                        snprintf(p->filename, sizeof(p->filename), "%.*s",
                                 (int)CV_MIN(v.len, sizeof(p->filename) - 1), v.ptr);
                    }
                }
            }
        }
    }
    return p->cur_name[0] != '\0';
}

static void consume(struct s3_post *p, size_t n)
{
    memmove(p->buf, p->buf + n, p->len - n);
    p->len -= n;
}

static cv_err malformed(struct s3_post *p)
{
    return post_error(p, CV_S3_MALFORMED_POST,
                      "The body of your POST request is not well-formed multipart/form-data.");
}

/* Runs the state machine over what is buffered. */
static cv_err parse(struct store_req *r, struct s3_post *p, bool final)
{
    cv_err err;

    for (;;) {
        switch (p->phase) {
        case PH_PREAMBLE: {
            /* The body starts with "--BOUNDARY" (the delimiter without CRLF). */
            const char *d = p->len ? memmem(p->buf, p->len, p->delim + 2, p->delim_len - 2) : NULL;
            if (!d) {
                if (p->len > POST_BUF / 2) {
                    return malformed(p);
                }
                return final ? malformed(p) : CV_OK;
            }
            consume(p, (size_t)(d - p->buf) + p->delim_len - 2);
            p->phase = PH_AFTER_DELIM;
            break;
        }
        case PH_AFTER_DELIM:
            if (p->len < 2) {
                return final ? malformed(p) : CV_OK;
            }
            if (p->buf[0] == '-' && p->buf[1] == '-') {
                p->phase = PH_DONE;
                p->len = 0;
                return CV_OK;
            }
            if (p->buf[0] != '\r' || p->buf[1] != '\n') {
                return malformed(p);
            }
            consume(p, 2);
            p->phase = PH_HEADERS;
            break;
        case PH_HEADERS: {
            const char *e = p->len ? memmem(p->buf, p->len, "\r\n\r\n", 4) : NULL;
            if (!e) {
                if (p->len > 16 * 1024 || final) {
                    return malformed(p);
                }
                return CV_OK;
            }
            if (!part_headers(p, (struct cv_str){p->buf, (size_t)(e - p->buf)})) {
                return malformed(p);
            }
            consume(p, (size_t)(e - p->buf) + 4);
            if (cv_str_eq_ci_c(cv_str_c(p->cur_name), "file")) {
                if (!begin_file(r, p)) {
                    return CV_ECANCELED; /* the response is set */
                }
                p->phase = PH_FILE;
            } else {
                p->phase = PH_FIELD;
            }
            break;
        }
        case PH_FIELD: {
            const char *d = p->len ? memmem(p->buf, p->len, p->delim, p->delim_len) : NULL;
            size_t vlen;
            if (!d) {
                if (p->len > POST_MAX_FIELD) {
                    return post_error(p, CV_S3_MALFORMED_POST,
                                      "A form field is larger than 20 KB.");
                }
                return final ? malformed(p) : CV_OK;
            }
            vlen = (size_t)(d - p->buf);
            if (p->nfields == POST_MAX_FIELDS) {
                return post_error(p, CV_S3_MALFORMED_POST, "Too many form fields.");
            }
            if (!field(p, p->cur_name)) {
                struct post_field *f = &p->fields[p->nfields];
                f->name = cv_arena_strndup(&r->arena, p->cur_name, strlen(p->cur_name));
                f->value = cv_arena_strndup(&r->arena, p->buf, vlen);
                f->len = vlen;
                if (!f->name || !f->value) {
                    return CV_ENOMEM;
                }
                p->nfields++;
            }
            consume(p, vlen + p->delim_len);
            p->phase = PH_AFTER_DELIM;
            break;
        }
        case PH_FILE: {
            const char *d = p->len ? memmem(p->buf, p->len, p->delim, p->delim_len) : NULL;
            if (d) {
                size_t n = (size_t)(d - p->buf);
                err = file_bytes(r, p->buf, n);
                if (err) {
                    return err;
                }
                consume(p, n + p->delim_len);
                /* Fields after the file are ignored. */
                p->phase = PH_DONE;
                p->len = 0;
                return CV_OK;
            }
            if (final) {
                return malformed(p);
            }
            /* Keep what could be the start of the delimiter. */
            if (p->len >= p->delim_len) {
                size_t n = p->len - (p->delim_len - 1);
                err = file_bytes(r, p->buf, n);
                if (err) {
                    return err;
                }
                consume(p, n);
            }
            return CV_OK;
        }
        case PH_DONE:
            p->len = 0;
            return CV_OK;
        }
    }
}

/* ------------------------------------------------------------ the glue */

bool s3_post_begin(struct store_req *r)
{
    struct cv_str ct = req_header(r, "content-type"), item, rest, b = CV_STR_NULL;
    struct s3_post *p;

    item = CV_STR_NULL;
    rest = CV_STR_NULL;
    if (ct.ptr) {
        cv_str_split(ct, ';', &item, &rest);
    }
    if (!item.ptr || !cv_str_eq_ci_c(cv_str_trim(item), "multipart/form-data")) {
        resp_error(r, CV_S3_PRECONDITION_FAILED,
                   "Bucket POST must be of the enclosure-type multipart/form-data", NULL);
        return false;
    }
    while (rest.len) {
        cv_str_split(rest, ';', &item, &rest);
        item = cv_str_trim(item);
        if (item.len > 9 && cv_str_eq_ci((struct cv_str){item.ptr, 9}, CV_STR("boundary="))) {
            b = (struct cv_str){item.ptr + 9, item.len - 9};
            if (b.len >= 2 && b.ptr[0] == '"' && b.ptr[b.len - 1] == '"') {
                b.ptr++;
                b.len -= 2;
            }
        }
    }
    if (!b.len || b.len > 200) {
        resp_error(r, CV_S3_MALFORMED_POST,
                   "The body of your POST request is not well-formed multipart/form-data.", NULL);
        return false;
    }
    p = cv_arena_alloc(&r->arena, sizeof(*p));
    if (!p) {
        resp_error(r, CV_ENOMEM, NULL, NULL);
        return false;
    }
    memset(p, 0, sizeof(*p));
    p->len_min = p->len_max = -1;
    p->delim_len = b.len + 4;
    p->delim = cv_arena_alloc(&r->arena, p->delim_len + 1);
    p->buf = cv_arena_alloc(&r->arena, POST_BUF);
    if (!p->delim || !p->buf) {
        resp_error(r, CV_ENOMEM, NULL, NULL);
        return false;
    }
    memcpy(p->delim, "\r\n--", 4);
    memcpy(p->delim + 4, b.ptr, b.len);
    p->delim[p->delim_len] = '\0';
    r->post = p;
    r->body_max = r->st->cfg.limits.max_put_bytes + 1024 * 1024;
    return true;
}

cv_err s3_post_feed(struct store_req *r, const char *data, size_t len)
{
    struct s3_post *p = r->post;
    cv_err err;

    while (len) {
        size_t n = CV_MIN(len, POST_BUF - p->len);
        if (p->phase == PH_DONE) {
            return CV_OK;
        }
        if (!n) {
            return malformed(p); /* a part header or field that never ends */
        }
        memcpy(p->buf + p->len, data, n);
        p->len += n;
        data += n;
        len -= n;
        err = parse(r, p, false);
        if (err) {
            if (p->file_seen) {
                blob_writer_abort(&r->blob);
                p->file_seen = false;
            }
            return err;
        }
    }
    return CV_OK;
}

const char *s3_post_errmsg(const struct store_req *r)
{
    return r->post && r->post->msg[0] ? r->post->msg : NULL;
}

void s3_post_object(struct store_req *r)
{
    struct s3_post *p = r->post;
    struct cv_str status = field_str(p, "success_action_status");
    struct cv_str redirect = field_str(p, "success_action_redirect");
    cv_err err = parse(r, p, true);
    char etag[80] = "";
    size_t i;

    if (err) {
        if (p->file_seen) {
            blob_writer_abort(&r->blob);
        }
        if (err != CV_ECANCELED) {
            resp_error(r, err, p->msg[0] ? p->msg : NULL, NULL);
        }
        return;
    }
    if (!p->file_seen) {
        resp_error(r, CV_S3_INVALID_ARGUMENT, "POST requires exactly one file upload per request.",
                   NULL);
        return;
    }
    if (p->len_max >= 0 && (int64_t)r->body_size > p->len_max) {
        blob_writer_abort(&r->blob);
        resp_error(r, CV_S3_ENTITY_TOO_LARGE, NULL, NULL);
        return;
    }
    if (p->len_min >= 0 && (int64_t)r->body_size < p->len_min) {
        blob_writer_abort(&r->blob);
        resp_error(r, CV_S3_ENTITY_TOO_SMALL, NULL, NULL);
        return;
    }
    err = blob_finish(&r->blob);
    if (err) {
        blob_writer_abort(&r->blob);
        resp_error(r, err, NULL, NULL);
        return;
    }
    s3_put_object(r);
    if (r->resp.status != 200) {
        return; /* the error is set */
    }
    for (i = 0; i < r->resp.nheaders; i++) {
        if (strcmp(r->resp.headers[i].name, "ETag") == 0) {
            snprintf(etag, sizeof(etag), "%s", r->resp.headers[i].value);
        }
    }
    if (redirect.len) {
        struct cv_buf loc = CV_BUF_INIT(8192);
        const char *sep = memchr(redirect.ptr, '?', redirect.len) ? "&" : "?";
        cv_err e2 = cv_buf_add(&loc, redirect.ptr, redirect.len);
        if (!e2) {
            e2 = cv_buf_addf(&loc, "%sbucket=%.*s&key=", sep, (int)r->bucket.len, r->bucket.ptr);
        }
        if (!e2) {
            e2 = cv_uri_encode(&loc, r->key, true);
        }
        if (!e2) {
            e2 = cv_buf_adds(&loc, "&etag=");
        }
        if (!e2) {
            e2 = cv_uri_encode(&loc, cv_str_c(etag), true);
        }
        if (!e2) {
            (void)resp_header(r, "Location", loc.ptr);
            r->resp.status = 303;
        }
        cv_buf_release(&loc);
        return;
    }
    if (cv_str_eq_c(status, "201")) {
        struct cv_buf *b = &r->resp.body;
        cv_buf_release(b);
        cv_buf_init(b, 64 * 1024);
        /* AWS's PostResponse carries no xmlns (clients look up <Key> bare). */
        err = cv_buf_adds(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse>");
        if (!err) {
            err = cv_buf_addf(b, "<Location>http://%s/%.*s/", p->host, (int)r->bucket.len,
                              r->bucket.ptr);
        }
        if (!err) {
            err = cv_uri_encode(b, r->key, false);
        }
        if (!err) {
            err = cv_buf_adds(b, "</Location>");
        }
        if (!err) {
            err = xml_elem(b, "Bucket", r->bucket.ptr, r->bucket.len);
        }
        if (!err) {
            err = xml_elem(b, "Key", r->key.ptr, r->key.len);
        }
        if (!err) {
            err = xml_elemc(b, "ETag", etag);
        }
        if (!err) {
            err = xml_end(b, "PostResponse");
        }
        if (err) {
            resp_error(r, err, NULL, NULL);
            return;
        }
        r->resp.status = 201;
        r->resp.content_type = "application/xml";
        return;
    }
    r->resp.status = cv_str_eq_c(status, "200") ? 200 : 204;
}
