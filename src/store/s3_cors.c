/*
 * CORS: the bucket's configuration (Put/Get/DeleteBucketCors), preflight
 * requests (OPTIONS, never authenticated), and the Access-Control-* headers
 * on ordinary requests that carry an Origin header.
 *
 * The configuration is kept as the canonical XML GetBucketCors returns, in
 * its own table (bucket_cors, bucket_doc_get/set; a trigger drops it with
 * the bucket), and parsed
 * again when a request needs it: only requests with an Origin header do.
 *
 * Matching follows AWS: the first rule whose AllowedOrigin matches the Origin
 * (one '*' wildcard allowed, case-sensitive), whose AllowedMethod lists the
 * method (Access-Control-Request-Method on a preflight), and whose
 * AllowedHeader patterns cover every Access-Control-Request-Headers entry
 * (case-insensitive) wins.
 */
#include "store_int.h"

#include <stdio.h>
#include <string.h>

#define CORS_MAX_RULES 100
#define CORS_MAX_DOC (64 * 1024)

static const char *const cors_methods[] = {"GET", "PUT", "HEAD", "POST", "DELETE"};

/* '*' matches any run of bytes; at most one '*' (validated on PUT). */
static bool wild_match(struct cv_str pat, struct cv_str s, bool ci)
{
    const char *star = memchr(pat.ptr, '*', pat.len);
    struct cv_str head, tail, sh, st;

    if (!star) {
        return ci ? cv_str_eq_ci(pat, s) : cv_str_eq(pat, s);
    }
    head = (struct cv_str){pat.ptr, (size_t)(star - pat.ptr)};
    tail = (struct cv_str){star + 1, pat.len - head.len - 1};
    if (s.len < head.len + tail.len) {
        return false;
    }
    sh = (struct cv_str){s.ptr, head.len};
    st = (struct cv_str){s.ptr + s.len - tail.len, tail.len};
    if (ci) {
        return cv_str_eq_ci(head, sh) && cv_str_eq_ci(tail, st);
    }
    return cv_str_eq(head, sh) && cv_str_eq(tail, st);
}

static unsigned count_char(struct cv_str s, char c)
{
    unsigned n = 0;
    size_t i;

    for (i = 0; i < s.len; i++) {
        n += s.ptr[i] == c;
    }
    return n;
}

/* Loads the stored document into @p out; CV_S3_NO_SUCH_CORS when none. */
static cv_err cors_load(struct store *st, struct cv_str bucket, struct cv_buf *out)
{
    bool found;
    cv_err err = bucket_doc_get(st->db, BUCKET_DOC_CORS, bucket, out, &found);

    return !err && !found ? CV_S3_NO_SUCH_CORS : err;
}

/* ------------------------------------------------------------ the API */

/* "<what> "<v>" <tail>" into msg; InvalidRequest. */
static cv_err invalid(char *msg, size_t msglen, const char *what, struct cv_str v,
                      const char *tail)
{
    snprintf(msg, msglen, "%s%.*s%s", what, (int)CV_MIN(v.len, 200), v.ptr ? v.ptr : "", tail);
    return CV_S3_INVALID_REQUEST;
}

/*
 * Validates a CORSConfiguration and writes its canonical form into @p out.
 * Returns CV_S3_MALFORMED_XML or CV_S3_INVALID_REQUEST (with @p msg).
 */
static cv_err cors_canonical(const struct xml_node *root, struct cv_buf *out, char *msg,
                             size_t msglen)
{
    const struct xml_node *rule, *n;
    unsigned nrules = 0;
    cv_err err;

    if (!root || strcmp(root->name, "CORSConfiguration") != 0) {
        return CV_S3_MALFORMED_XML;
    }
    err = xml_begin(out, "CORSConfiguration");
    for (rule = root->child; rule && !err; rule = rule->next) {
        unsigned norigins = 0, nmethods = 0, nids = 0, nages = 0;

        if (strcmp(rule->name, "CORSRule") != 0) {
            return CV_S3_MALFORMED_XML;
        }
        if (++nrules > CORS_MAX_RULES) {
            snprintf(msg, msglen, "The CORS configuration has more than %d rules.",
                     CORS_MAX_RULES);
            return CV_S3_INVALID_REQUEST;
        }
        for (n = rule->child; n; n = n->next) {
            struct cv_str v = cv_str_trim(xml_text(n));
            if (strcmp(n->name, "AllowedOrigin") == 0) {
                norigins++;
                if (count_char(v, '*') > 1) {
                    return invalid(msg, msglen, "AllowedOrigin \"", v,
                                   "\" can not have more than one wildcard.");
                }
            } else if (strcmp(n->name, "AllowedMethod") == 0) {
                size_t k;
                bool ok = false;
                nmethods++;
                for (k = 0; k < CV_ARRAY_LEN(cors_methods); k++) {
                    ok = ok || cv_str_eq_c(v, cors_methods[k]);
                }
                if (!ok) {
                    return invalid(msg, msglen,
                                   "Found unsupported HTTP method in CORS config. Unsupported "
                                   "method is ",
                                   v, "");
                }
            } else if (strcmp(n->name, "AllowedHeader") == 0) {
                if (count_char(v, '*') > 1) {
                    return invalid(msg, msglen, "AllowedHeader \"", v,
                                   "\" can not have more than one wildcard.");
                }
            } else if (strcmp(n->name, "MaxAgeSeconds") == 0) {
                uint64_t age;
                if (++nages > 1 || cv_parse_u64(v, &age) != CV_OK || age > INT32_MAX) {
                    return CV_S3_MALFORMED_XML;
                }
            } else if (strcmp(n->name, "ID") == 0) {
                if (++nids > 1 || v.len > 255) {
                    return CV_S3_MALFORMED_XML;
                }
            } else if (strcmp(n->name, "ExposeHeader") != 0) {
                return CV_S3_MALFORMED_XML;
            }
        }
        if (!norigins || !nmethods) {
            return CV_S3_MALFORMED_XML;
        }
        /* Canonical order: ID, AllowedHeader, AllowedMethod, AllowedOrigin,
         * ExposeHeader, MaxAgeSeconds (the order GetBucketCors answers in). */
        err = xml_open(out, "CORSRule");
        {
            static const char *const order[] = {"ID",           "AllowedHeader", "AllowedMethod",
                                                "AllowedOrigin", "ExposeHeader", "MaxAgeSeconds"};
            size_t k;
            for (k = 0; k < CV_ARRAY_LEN(order) && !err; k++) {
                for (n = rule->child; n && !err; n = n->next) {
                    if (strcmp(n->name, order[k]) == 0) {
                        struct cv_str v = cv_str_trim(xml_text(n));
                        err = xml_elem(out, n->name, v.ptr ? v.ptr : "", v.len);
                    }
                }
            }
        }
        if (!err) {
            err = xml_close(out, "CORSRule");
        }
    }
    if (!err && !nrules) {
        return CV_S3_MALFORMED_XML;
    }
    if (!err) {
        err = xml_end(out, "CORSConfiguration");
    }
    return err;
}

void s3_put_bucket_cors(struct store_req *r)
{
    struct xml_node *root = NULL;
    struct cv_buf doc = CV_BUF_INIT(CORS_MAX_DOC * 2);
    char msg[320] = "";
    cv_err err;

    if (r->xml.len > CORS_MAX_DOC) {
        resp_error(r, CV_S3_MALFORMED_XML, "The CORS configuration is larger than 64 KB.", NULL);
        return;
    }
    err = xml_parse(&r->arena, r->xml.ptr ? r->xml.ptr : "", r->xml.len, &root);
    if (!err) {
        err = cors_canonical(root, &doc, msg, sizeof(msg));
    } else if (err != CV_ENOMEM) {
        err = CV_S3_MALFORMED_XML;
    }
    if (err) {
        resp_error(r, err, msg[0] ? msg : NULL, NULL);
        goto out;
    }
    err = bucket_doc_set(r->st->db, BUCKET_DOC_CORS, r->bucket, doc.ptr);
    if (err) {
        resp_error(r, err, NULL, NULL);
        goto out;
    }
    r->resp.status = 200;
out:
    cv_buf_release(&doc);
}

void s3_get_bucket_cors(struct store_req *r)
{
    cv_err err;

    cv_buf_release(&r->resp.body);
    cv_buf_init(&r->resp.body, CORS_MAX_DOC * 2);
    err = cors_load(r->st, r->bucket, &r->resp.body);
    if (err) {
        char b[80];
        snprintf(b, sizeof(b), "%.*s", (int)CV_MIN(r->bucket.len, 70), r->bucket.ptr);
        resp_error(r, err, NULL, "BucketName", b, NULL);
        return;
    }
    r->resp.status = 200;
    r->resp.content_type = "application/xml";
}

void s3_delete_bucket_cors(struct store_req *r)
{
    cv_err err = bucket_doc_set(r->st->db, BUCKET_DOC_CORS, r->bucket, NULL);

    if (err) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    r->resp.status = 204;
}

/* ------------------------------------------------------------ matching */

static bool rule_has(const struct xml_node *rule, const char *name, struct cv_str v, bool wild,
                     bool ci)
{
    const struct xml_node *n;

    for (n = rule->child; n; n = n->next) {
        if (strcmp(n->name, name) == 0) {
            struct cv_str p = xml_text(n);
            if (wild ? wild_match(p, v, ci) : (ci ? cv_str_eq_ci(p, v) : cv_str_eq(p, v))) {
                return true;
            }
        }
    }
    return false;
}

/* Every comma-separated entry of Access-Control-Request-Headers is allowed. */
static bool headers_allowed(const struct xml_node *rule, struct cv_str list)
{
    struct cv_str tok, rest;

    while (list.len) {
        cv_str_split(list, ',', &tok, &rest);
        tok = cv_str_trim(tok);
        list = rest;
        if (tok.len && !rule_has(rule, "AllowedHeader", tok, true, true)) {
            return false;
        }
    }
    return true;
}

static const struct xml_node *match_rule(const struct xml_node *root, struct cv_str origin,
                                         struct cv_str method, struct cv_str req_headers)
{
    const struct xml_node *rule;

    for (rule = root ? root->child : NULL; rule; rule = rule->next) {
        if (rule_has(rule, "AllowedOrigin", origin, true, false) &&
            rule_has(rule, "AllowedMethod", method, false, false) &&
            headers_allowed(rule, req_headers)) {
            return rule;
        }
    }
    return NULL;
}

/* "a, b, c" of a rule's elements named @p name (arena), or NULL when none. */
static const char *joined(struct store_req *r, const struct xml_node *rule, const char *name)
{
    struct cv_buf b = CV_BUF_INIT(CORS_MAX_DOC);
    const struct xml_node *n;
    const char *s = NULL;
    cv_err err = CV_OK;

    for (n = rule->child; n && !err; n = n->next) {
        if (strcmp(n->name, name) == 0) {
            struct cv_str v = xml_text(n);
            if (b.len) {
                err = cv_buf_adds(&b, ", ");
            }
            if (!err) {
                err = cv_buf_add(&b, v.ptr ? v.ptr : "", v.len);
            }
        }
    }
    if (!err && b.len) {
        s = cv_arena_strndup(&r->arena, b.ptr, b.len);
    }
    cv_buf_release(&b);
    return s;
}

/* The Access-Control-* headers for a matched rule. */
static void allow_headers(struct store_req *r, const struct xml_node *rule, struct cv_str origin,
                          struct cv_str req_headers)
{
    const struct xml_node *n;
    const char *v;
    bool any_origin = false;
    char tmp[512];

    for (n = rule->child; n; n = n->next) {
        if (strcmp(n->name, "AllowedOrigin") == 0 && cv_str_eq_c(xml_text(n), "*")) {
            any_origin = true;
        }
    }
    if (any_origin) {
        (void)resp_header(r, "Access-Control-Allow-Origin", "*");
    } else {
        snprintf(tmp, sizeof(tmp), "%.*s", (int)CV_MIN(origin.len, sizeof(tmp) - 1), origin.ptr);
        (void)resp_header(r, "Access-Control-Allow-Origin", tmp);
        (void)resp_header(r, "Access-Control-Allow-Credentials", "true");
    }
    v = joined(r, rule, "AllowedMethod");
    if (v) {
        (void)resp_header(r, "Access-Control-Allow-Methods", v);
    }
    if (req_headers.len) {
        snprintf(tmp, sizeof(tmp), "%.*s", (int)CV_MIN(req_headers.len, sizeof(tmp) - 1),
                 req_headers.ptr);
        (void)resp_header(r, "Access-Control-Allow-Headers", tmp);
    }
    v = joined(r, rule, "ExposeHeader");
    if (v) {
        (void)resp_header(r, "Access-Control-Expose-Headers", v);
    }
    for (n = rule->child; n; n = n->next) {
        if (strcmp(n->name, "MaxAgeSeconds") == 0) {
            struct cv_str a = xml_text(n);
            snprintf(tmp, sizeof(tmp), "%.*s", (int)CV_MIN(a.len, 20), a.ptr);
            (void)resp_header(r, "Access-Control-Max-Age", tmp);
        }
    }
    (void)resp_header(r, "Vary",
                      "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
}

static cv_err load_rules(struct store_req *r, struct xml_node **root)
{
    struct cv_buf doc = CV_BUF_INIT(CORS_MAX_DOC * 2);
    cv_err err = cors_load(r->st, r->bucket, &doc);

    *root = NULL;
    if (!err) {
        err = xml_parse(&r->arena, doc.ptr ? doc.ptr : "", doc.len, root);
    }
    cv_buf_release(&doc);
    return err;
}

void s3_cors_preflight(struct store_req *r)
{
    struct cv_str origin = req_header(r, "origin");
    struct cv_str method = req_header(r, "access-control-request-method");
    struct cv_str hdrs = req_header(r, "access-control-request-headers");
    struct xml_node *root = NULL;
    const struct xml_node *rule;
    cv_err err;

    if (!origin.ptr) {
        resp_error(r, CV_S3_CORS_BAD_REQUEST, NULL, NULL);
        return;
    }
    if (!method.ptr) {
        resp_error(r, CV_S3_CORS_BAD_REQUEST,
                   "Insufficient information. Access-Control-Request-Method header needed.", NULL);
        return;
    }
    err = load_rules(r, &root);
    if (err && err != CV_S3_NO_SUCH_CORS) {
        resp_error(r, err, NULL, NULL);
        return;
    }
    rule = err ? NULL : match_rule(root, origin, method, hdrs.ptr ? hdrs : CV_STR(""));
    if (!rule) {
        resp_error(r, CV_S3_CORS_FORBIDDEN, NULL, "Method", "OPTIONS", "ResourceType",
                   r->has_key ? "OBJECT" : "BUCKET", NULL);
        return;
    }
    allow_headers(r, rule, origin, hdrs.ptr ? hdrs : CV_STR(""));
    r->resp.status = 200;
}

void s3_cors_decorate(struct store_req *r)
{
    struct cv_str origin, method, hdrs;
    struct xml_node *root = NULL;
    const struct xml_node *rule;

    if (!r->bucket.len || r->op == OP_IAM_QUERY || r->op == OP_CORS_PREFLIGHT ||
        r->op == OP_UNKNOWN) {
        return;
    }
    origin = req_header(r, "origin");
    if (!origin.ptr || !origin.len) {
        return;
    }
    method = req_header(r, "access-control-request-method");
    if (!method.ptr) {
        method = r->method;
    }
    hdrs = req_header(r, "access-control-request-headers");
    if (load_rules(r, &root) != CV_OK) {
        return;
    }
    rule = match_rule(root, origin, method, hdrs.ptr ? hdrs : CV_STR(""));
    if (rule) {
        allow_headers(r, rule, origin, hdrs.ptr ? hdrs : CV_STR(""));
    }
}
