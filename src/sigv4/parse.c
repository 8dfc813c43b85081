/*
 * Finding and parsing a request's SigV4 authentication: the Authorization
 * header or the presigned X-Amz-* query parameters; the time checks.
 */
#include "sigv4/sigv4_int.h"

#include <string.h>

static bool is_digits(struct cv_str s)
{
    size_t i;

    for (i = 0; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') {
            return false;
        }
    }
    return true;
}

static bool has_char(struct cv_str s, char c)
{
    return s.len && memchr(s.ptr, c, s.len) != NULL;
}

/* Splits at '/' or (a presigned value still encoded) "%2F". */
static bool split_slash(struct cv_str *rest, struct cv_str *part)
{
    size_t i;

    for (i = 0; i < rest->len; i++) {
        if (rest->ptr[i] == '/') {
            *part = (struct cv_str){rest->ptr, i};
            rest->ptr += i + 1;
            rest->len -= i + 1;
            return true;
        }
        if (rest->ptr[i] == '%' && i + 2 < rest->len && rest->ptr[i + 1] == '2' &&
            (rest->ptr[i + 2] == 'F' || rest->ptr[i + 2] == 'f')) {
            *part = (struct cv_str){rest->ptr, i};
            rest->ptr += i + 3;
            rest->len -= i + 3;
            return true;
        }
    }
    *part = *rest;
    rest->ptr += rest->len;
    rest->len = 0;
    return false;
}

/* "AKID/20130524/us-east-1/s3/aws4_request" */
static bool parse_credential(struct cv_str cred, struct sigv4_parsed *out, const char **why)
{
    struct cv_str rest = cred, akid, date, region, service, term;

    if (!split_slash(&rest, &akid) || !split_slash(&rest, &date) || !split_slash(&rest, &region) ||
        !split_slash(&rest, &service)) {
        *why = "the Credential must have the form AKID/date/region/service/aws4_request";
        return false;
    }
    split_slash(&rest, &term);
    if (rest.len || !cv_str_eq_c(term, "aws4_request")) {
        *why = "the Credential must end with /aws4_request";
        return false;
    }
    if (akid.len == 0 || service.len == 0) {
        *why = "the Credential has an empty access key id or service";
        return false;
    }
    if (has_char(akid, '%') || has_char(region, '%') || has_char(service, '%')) {
        *why = "the Credential has an encoded character where none is allowed";
        return false;
    }
    if (date.len != 8 || !is_digits(date)) {
        *why = "the Credential date must be YYYYMMDD";
        return false;
    }
    out->credential = cred;
    out->access_key_id = akid;
    out->scope.date = date;
    out->scope.region = region;
    out->scope.service = service;
    return true;
}

/* RFC 9110 token characters. */
static bool token_char(unsigned char c)
{
    return sigv4_unreserved[c] || c == '!' || c == '#' || c == '$' || c == '%' || c == '&' ||
           c == '\'' || c == '*' || c == '+' || c == '^' || c == '`' || c == '|';
}

static bool valid_header_name(struct cv_str n)
{
    size_t i;

    if (n.len == 0) {
        return false;
    }
    for (i = 0; i < n.len; i++) {
        if (!token_char((unsigned char)n.ptr[i])) {
            return false;
        }
    }
    return true;
}

static bool parse_signed_headers(struct cv_str sh, const char **why)
{
    struct cv_str rest = sh, name;

    if (sh.len == 0) {
        *why = "SignedHeaders is empty";
        return false;
    }
    while (sigv4_sh_next(&rest, &name)) {
        if (!valid_header_name(name)) {
            *why = "SignedHeaders has an empty or invalid header name";
            return false;
        }
    }
    if (sh.ptr[sh.len - 1] == ';') {
        *why = "SignedHeaders ends with ';'";
        return false;
    }
    return true;
}

static bool parse_signature(struct cv_str s, struct sigv4_parsed *out)
{
    if (s.len != 2 * CV_SHA256_LEN || cv_hex_decode(s, out->signature, CV_SHA256_LEN) != CV_OK) {
        return false;
    }
    out->signature_hex = s;
    return true;
}

static struct cv_str trim_ws(struct cv_str s)
{
    while (s.len && sigv4_is_ws((unsigned char)s.ptr[0])) {
        s.ptr++;
        s.len--;
    }
    while (s.len && sigv4_is_ws((unsigned char)s.ptr[s.len - 1])) {
        s.len--;
    }
    return s;
}

/*
 * "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." with
 * the components in any order and any whitespace around ',' and '='.
 */
static cv_err parse_auth_header(struct cv_str v, struct sigv4_parsed *out, char *errmsg,
                                size_t errlen)
{
    static const char alg[] = SIGV4_ALGORITHM;
    struct cv_str rest, comp, cred = CV_STR_NULL, sh = CV_STR_NULL, sig = CV_STR_NULL;
    bool have_cred = false, have_sh = false, have_sig = false;
    const char *why = NULL;

    v = trim_ws(v);
    if (v.len > 4 && memcmp(v.ptr, "AWS ", 4) == 0) {
        cv_errf(errmsg, errlen, "Signature Version 2 is not supported; use AWS4-HMAC-SHA256");
        return CV_EUNSUPPORTED;
    }
    if (v.len < sizeof(alg) || memcmp(v.ptr, alg, sizeof(alg) - 1) != 0 ||
        !sigv4_is_ws((unsigned char)v.ptr[sizeof(alg) - 1])) {
        struct cv_str first;
        size_t i = 0;
        while (i < v.len && !sigv4_is_ws((unsigned char)v.ptr[i])) {
            i++;
        }
        first = (struct cv_str){v.ptr, i};
        if (i < v.len && first.len && !has_char(first, '=')) {
            cv_errf(errmsg, errlen, "unsupported authorization algorithm '%.*s'",
                    (int)CV_MIN(first.len, 64), first.ptr);
            return CV_EUNSUPPORTED;
        }
        cv_errf(errmsg, errlen, "the authorization header must start with %s", alg);
        return CV_S3_AUTH_HEADER_MALFORMED;
    }
    rest = (struct cv_str){v.ptr + sizeof(alg), v.len - sizeof(alg)};
    while (rest.len) {
        struct cv_str key, val;
        cv_str_split(rest, ',', &comp, &rest);
        comp = trim_ws(comp);
        if (comp.len == 0) {
            continue;
        }
        if (!cv_str_split(comp, '=', &key, &val)) {
            why = "a component has no '='";
            goto bad;
        }
        key = trim_ws(key);
        val = trim_ws(val);
        if (cv_str_eq_c(key, "Credential") && !have_cred) {
            cred = val;
            have_cred = true;
        } else if (cv_str_eq_c(key, "SignedHeaders") && !have_sh) {
            sh = val;
            have_sh = true;
        } else if (cv_str_eq_c(key, "Signature") && !have_sig) {
            sig = val;
            have_sig = true;
        } else {
            why = "unknown or repeated component";
            goto bad;
        }
    }
    if (!have_cred || !have_sh || !have_sig) {
        why = "Credential, SignedHeaders and Signature are all required";
        goto bad;
    }
    if (!parse_credential(cred, out, &why) || !parse_signed_headers(sh, &why)) {
        goto bad;
    }
    if (!parse_signature(sig, out)) {
        why = "the Signature must be 64 hex digits";
        goto bad;
    }
    out->signed_headers = sh;
    out->kind = SIGV4_AUTH_HEADER;
    return CV_OK;
bad:
    cv_errf(errmsg, errlen, "malformed authorization header: %s", why);
    return CV_S3_AUTH_HEADER_MALFORMED;
}

struct presign_params {
    struct cv_str alg, cred, date, expires, sh, sig, token;
    bool any; /* an X-Amz-Algorithm was seen */
};

static bool take(struct cv_str *slot, bool *seen, struct cv_str v)
{
    if (*seen) {
        return false;
    }
    *slot = v;
    *seen = true;
    return true;
}

static cv_err parse_presigned(struct cv_str query, struct sigv4_parsed *out, char *errmsg,
                              size_t errlen)
{
    struct presign_params pp;
    bool seen[7] = {false};
    struct cv_str rest = query, seg, k, v;
    const char *why = NULL;
    uint64_t exp;
    int64_t t;

    memset(&pp, 0, sizeof(pp));
    while (rest.len) {
        bool ok = true;
        cv_str_split(rest, '&', &seg, &rest);
        if (!cv_str_split(seg, '=', &k, &v) || k.len < 6 || memcmp(k.ptr, "X-Amz-", 6) != 0) {
            continue;
        }
        if (cv_str_eq_c(k, "X-Amz-Algorithm")) {
            ok = take(&pp.alg, &seen[0], v);
        } else if (cv_str_eq_c(k, "X-Amz-Credential")) {
            ok = take(&pp.cred, &seen[1], v);
        } else if (cv_str_eq_c(k, "X-Amz-Date")) {
            ok = take(&pp.date, &seen[2], v);
        } else if (cv_str_eq_c(k, "X-Amz-Expires")) {
            ok = take(&pp.expires, &seen[3], v);
        } else if (cv_str_eq_c(k, "X-Amz-SignedHeaders")) {
            ok = take(&pp.sh, &seen[4], v);
        } else if (cv_str_eq_c(k, "X-Amz-Signature")) {
            ok = take(&pp.sig, &seen[5], v);
        } else if (cv_str_eq_c(k, "X-Amz-Security-Token")) {
            ok = take(&pp.token, &seen[6], v);
        }
        if (!ok) {
            cv_errf(errmsg, errlen, "presigned parameter %.*s is repeated", (int)k.len, k.ptr);
            return CV_S3_AUTH_QUERY_ERROR;
        }
    }
    if (!cv_str_eq_c(pp.alg, SIGV4_ALGORITHM)) {
        cv_errf(errmsg, errlen, "X-Amz-Algorithm only supports \"%s\"", SIGV4_ALGORITHM);
        return CV_EUNSUPPORTED;
    }
    if (!seen[1] || !seen[2] || !seen[3] || !seen[4] || !seen[5]) {
        cv_errf(errmsg, errlen,
                "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
                "X-Amz-Expires parameters.");
        return CV_S3_AUTH_QUERY_ERROR;
    }
    if (!parse_credential(pp.cred, out, &why) || !parse_signed_headers(pp.sh, &why)) {
        cv_errf(errmsg, errlen, "malformed X-Amz-Credential or X-Amz-SignedHeaders: %s", why);
        return CV_S3_AUTH_QUERY_ERROR;
    }
    if (!parse_signature(pp.sig, out)) {
        cv_errf(errmsg, errlen, "X-Amz-Signature must be 64 hex digits");
        return CV_S3_AUTH_QUERY_ERROR;
    }
    if (cv_time_parse_amz(pp.date, &t) != CV_OK) {
        cv_errf(errmsg, errlen,
                "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
        return CV_S3_AUTH_QUERY_ERROR;
    }
    if (!is_digits(pp.expires) || cv_parse_u64(pp.expires, &exp) != CV_OK || exp < 1 ||
        exp > SIGV4_MAX_EXPIRES_S) {
        cv_errf(errmsg, errlen, "X-Amz-Expires must be a number of seconds from 1 to %d (one week)",
                SIGV4_MAX_EXPIRES_S);
        return CV_S3_AUTH_QUERY_ERROR;
    }
    if (memcmp(pp.date.ptr, out->scope.date.ptr, 8) != 0) {
        cv_errf(errmsg, errlen, "Invalid credential date. Date is not the same as X-Amz-Date.");
        return CV_S3_AUTH_QUERY_ERROR;
    }
    out->kind = SIGV4_AUTH_QUERY;
    out->signed_headers = pp.sh;
    out->amz_date = pp.date;
    out->request_time = t;
    out->expires = (int64_t)exp;
    out->security_token = pp.token;
    return CV_OK;
}

/* True when the raw query carries an X-Amz-Algorithm parameter. */
static bool query_has_algorithm(struct cv_str q)
{
    static const char key[] = "X-Amz-Algorithm";
    struct cv_str rest = q, seg, k, v;

    if (q.len < sizeof(key) - 1) {
        return false;
    }
    while (rest.len) {
        cv_str_split(rest, '&', &seg, &rest);
        cv_str_split(seg, '=', &k, &v);
        if (cv_str_eq_c(k, key)) {
            return true;
        }
    }
    return false;
}

/* SigV2 presigned: AWSAccessKeyId + Signature (+ Expires). */
static bool query_is_sigv2(struct cv_str q)
{
    struct cv_str rest = q, seg, k, v;
    bool id = false, sig = false;

    while (rest.len) {
        cv_str_split(rest, '&', &seg, &rest);
        cv_str_split(seg, '=', &k, &v);
        id = id || cv_str_eq_c(k, "AWSAccessKeyId");
        sig = sig || cv_str_eq_c(k, "Signature");
    }
    return id && sig;
}

#define HN(lit) (sizeof(lit) - 1)

cv_err sigv4_parse(const struct sigv4_request *req, struct sigv4_parsed *out, char *errmsg,
                   size_t errlen)
{
    struct cv_str auth = CV_STR_NULL, xdate = CV_STR_NULL, date = CV_STR_NULL, token = CV_STR_NULL;
    bool have_auth = false, have_xdate = false, have_date = false, presigned;
    size_t i;
    cv_err err;
    char ymd[17];

    memset(out, 0, sizeof(*out));
    if (errmsg && errlen) {
        errmsg[0] = '\0';
    }
    for (i = 0; i < req->nheaders; i++) {
        const struct sigv4_header *h = &req->headers[i];
        switch (h->name.len) {
        case HN("authorization"):
            if (cv_str_eq_ci_c(h->name, "authorization")) {
                if (have_auth) {
                    cv_errf(errmsg, errlen, "more than one Authorization header");
                    return CV_S3_AUTH_HEADER_MALFORMED;
                }
                auth = h->value;
                have_auth = true;
            }
            break;
        case HN("x-amz-date"):
            if (!have_xdate && cv_str_eq_ci_c(h->name, "x-amz-date")) {
                xdate = cv_str_trim(h->value);
                have_xdate = true;
            }
            break;
        case HN("date"):
            if (!have_date && cv_str_eq_ci_c(h->name, "date")) {
                date = cv_str_trim(h->value);
                have_date = true;
            }
            break;
        case HN("x-amz-security-token"):
            if (cv_str_eq_ci_c(h->name, "x-amz-security-token")) {
                token = cv_str_trim(h->value);
            }
            break;
        default:
            break;
        }
    }
    presigned = query_has_algorithm(req->raw_query);
    if (have_auth && presigned) {
        cv_errf(errmsg, errlen,
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query "
                "parameter or the Authorization header should be specified");
        return CV_S3_INVALID_ARGUMENT;
    }
    if (presigned) {
        err = parse_presigned(req->raw_query, out, errmsg, errlen);
        if (err) {
            memset(out, 0, sizeof(*out));
        }
        return err;
    }
    if (!have_auth) {
        if (query_is_sigv2(req->raw_query)) {
            cv_errf(errmsg, errlen, "Signature Version 2 is not supported; use AWS4-HMAC-SHA256");
            return CV_EUNSUPPORTED;
        }
        out->kind = SIGV4_AUTH_NONE;
        return CV_OK;
    }
    err = parse_auth_header(auth, out, errmsg, errlen);
    if (err) {
        goto out;
    }
    if (have_xdate) {
        out->amz_date = xdate;
        if (cv_time_parse_amz(xdate, &out->request_time) != CV_OK) {
            cv_errf(errmsg, errlen,
                    "AWS authentication requires a valid Date or x-amz-date header");
            err = CV_S3_ACCESS_DENIED;
            goto out;
        }
    } else if (have_date) {
        out->amz_date = date;
        if (cv_time_parse_http(date, &out->request_time) != CV_OK) {
            cv_errf(errmsg, errlen,
                    "AWS authentication requires a valid Date or x-amz-date header");
            err = CV_S3_ACCESS_DENIED;
            goto out;
        }
    } else {
        cv_errf(errmsg, errlen, "AWS authentication requires a valid Date or x-amz-date header");
        err = CV_S3_MISSING_SECURITY_HEADER;
        goto out;
    }
    if (have_xdate) {
        memcpy(ymd, xdate.ptr, 8); /* validated: 16 characters */
    } else {
        cv_time_amz(out->request_time, ymd);
    }
    if (memcmp(ymd, out->scope.date.ptr, 8) != 0) {
        cv_errf(errmsg, errlen, "Invalid credential date. Date is not the same as X-Amz-Date.");
        err = CV_S3_AUTH_HEADER_MALFORMED;
        goto out;
    }
    out->security_token = token;
out:
    if (err) {
        memset(out, 0, sizeof(*out));
    }
    return err;
}

cv_err sigv4_check_time(const struct sigv4_parsed *p, int64_t now_s)
{
    if (p->kind == SIGV4_AUTH_QUERY) {
        if (p->request_time - now_s > SIGV4_MAX_SKEW_S) {
            return CV_S3_NOT_YET_VALID;
        }
        if (now_s > p->request_time + p->expires) {
            return CV_S3_EXPIRED_PRESIGNED;
        }
        return CV_OK;
    }
    if (p->request_time - now_s > SIGV4_MAX_SKEW_S || now_s - p->request_time > SIGV4_MAX_SKEW_S) {
        return CV_S3_REQUEST_TIME_TOO_SKEWED;
    }
    return CV_OK;
}

cv_err sigv4_security_token(const struct sigv4_parsed *p, struct cv_buf *out)
{
    if (p->kind == SIGV4_AUTH_QUERY) {
        return cv_uri_decode(out, p->security_token, false);
    }
    return cv_buf_add(out, p->security_token.ptr, p->security_token.len);
}
