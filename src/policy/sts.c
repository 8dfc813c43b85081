/*
 * STS GetCallerIdentity over libcurl, signed with a minimal SigV4 header
 * signer built on base's SHA-256 and HMAC.
 */
#include "policy/policy_sts.h"

#include <curl/curl.h>
#include <string.h>

static cv_err hex_sha256(const void *data, size_t len, char out[65])
{
    uint8_t d[CV_SHA256_LEN];

    cv_sha256(data, len, d);
    cv_hex_encode(d, sizeof(d), out);
    return CV_OK;
}

cv_err policy_sigv4_authorization(const struct policy_sigv4_in *in, struct cv_buf *auth,
                                  char amz_date[17])
{
    struct cv_buf creq = CV_BUF_INIT(1 << 20), sts = CV_BUF_INIT(4096), key = CV_BUF_INIT(512);
    char date[9], body_hash[65], creq_hash[65], sig_hex[65];
    uint8_t k[CV_SHA256_LEN], sig[CV_SHA256_LEN];
    const char *signed_headers;
    cv_err err;

    cv_time_amz(in->unix_s, amz_date);
    memcpy(date, amz_date, 8);
    date[8] = '\0';
    (void)hex_sha256(in->body ? in->body : "", in->body_len, body_hash);
    if (in->content_type && in->session_token) {
        signed_headers = "content-type;host;x-amz-date;x-amz-security-token";
    } else if (in->content_type) {
        signed_headers = "content-type;host;x-amz-date";
    } else if (in->session_token) {
        signed_headers = "host;x-amz-date;x-amz-security-token";
    } else {
        signed_headers = "host;x-amz-date";
    }
    err = cv_buf_addf(&creq, "%s\n%s\n\n", in->method, in->path);
    if (!err && in->content_type) {
        err = cv_buf_addf(&creq, "content-type:%s\n", in->content_type);
    }
    if (!err) {
        err = cv_buf_addf(&creq, "host:%s\nx-amz-date:%s\n", in->host, amz_date);
    }
    if (!err && in->session_token) {
        err = cv_buf_addf(&creq, "x-amz-security-token:%s\n", in->session_token);
    }
    if (!err) {
        err = cv_buf_addf(&creq, "\n%s\n%s", signed_headers, body_hash);
    }
    if (err) {
        goto out;
    }
    (void)hex_sha256(creq.ptr, creq.len, creq_hash);
    err = cv_buf_addf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", amz_date, date,
                      in->region, in->service, creq_hash);
    if (!err) {
        err = cv_buf_addf(&key, "AWS4%s", in->secret_access_key);
    }
    if (err) {
        goto out;
    }
    cv_hmac_sha256(key.ptr, key.len, date, strlen(date), k);
    cv_hmac_sha256(k, sizeof(k), in->region, strlen(in->region), k);
    cv_hmac_sha256(k, sizeof(k), in->service, strlen(in->service), k);
    cv_hmac_sha256(k, sizeof(k), "aws4_request", 12, k);
    cv_hmac_sha256(k, sizeof(k), sts.ptr, sts.len, sig);
    cv_hex_encode(sig, sizeof(sig), sig_hex);
    err = cv_buf_addf(auth,
                      "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, "
                      "Signature=%s",
                      in->access_key_id, date, in->region, in->service, signed_headers, sig_hex);
out:
    cv_secure_zero(k, sizeof(k));
    if (key.ptr) {
        cv_secure_zero(key.ptr, key.len);
    }
    cv_buf_release(&creq);
    cv_buf_release(&sts);
    cv_buf_release(&key);
    return err;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    struct cv_buf *b = ud;

    if (cv_buf_add(b, data, size * n) != CV_OK) {
        return 0;
    }
    return size * n;
}

/* Copies the text of the first <tag>...</tag> of @p xml, XML-unescaped. */
static bool xml_text(const char *xml, const char *tag, char *out, size_t outlen)
{
    char open[64], close[64];
    const char *a, *b;
    size_t o = 0;

    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    a = strstr(xml, open);
    if (!a) {
        return false;
    }
    a += strlen(open);
    b = strstr(a, close);
    if (!b) {
        return false;
    }
    while (a < b && o + 1 < outlen) {
        static const struct {
            const char *ent;
            char ch;
        } ents[] = {
            {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
        bool done = false;
        for (size_t i = 0; i < CV_ARRAY_LEN(ents) && !done; i++) {
            size_t n = strlen(ents[i].ent);
            if ((size_t)(b - a) >= n && memcmp(a, ents[i].ent, n) == 0) {
                out[o++] = ents[i].ch;
                a += n;
                done = true;
            }
        }
        if (!done) {
            out[o++] = *a++;
        }
    }
    out[o] = '\0';
    return true;
}

cv_err policy_sts_get_caller_identity(const char *endpoint, const char *region,
                                      const char *access_key_id, const char *secret_access_key,
                                      const char *session_token, const struct cv_clock *clock,
                                      struct policy_sts_identity *out, char *msg, size_t msglen)
{
    static const char body[] = "Action=GetCallerIdentity&Version=2011-06-15";
    static const char ctype[] = "application/x-www-form-urlencoded; charset=utf-8";
    CURL *curl = NULL;
    CURLU *u = NULL;
    struct curl_slist *hdrs = NULL;
    struct cv_buf auth = CV_BUF_INIT(2048), resp = CV_BUF_INIT(65536), h = CV_BUF_INIT(4096);
    char *host = NULL, *port = NULL, *path = NULL, *scheme = NULL;
    char amz_date[17], hostport[300];
    long status = 0;
    cv_err err = CV_OK;
    CURLcode cc;

    memset(out, 0, sizeof(*out));
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        cv_errf(msg, msglen, "libcurl failed to initialise");
        return CV_ENET;
    }
    u = curl_url();
    if (!u || curl_url_set(u, CURLUPART_URL, endpoint, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
        cv_errf(msg, msglen, "invalid endpoint URL '%s'", endpoint);
        err = CV_EINVAL;
        goto out;
    }
    (void)curl_url_get(u, CURLUPART_PORT, &port, 0);
    if (port && !((strcmp(scheme, "http") == 0 && strcmp(port, "80") == 0) ||
                  (strcmp(scheme, "https") == 0 && strcmp(port, "443") == 0))) {
        snprintf(hostport, sizeof(hostport), "%s:%s", host, port);
    } else {
        snprintf(hostport, sizeof(hostport), "%s", host);
    }
    struct policy_sigv4_in in = {"POST",
                                 hostport,
                                 path && *path ? path : "/",
                                 ctype,
                                 body,
                                 sizeof(body) - 1,
                                 region,
                                 "sts",
                                 access_key_id,
                                 secret_access_key,
                                 session_token,
                                 cv_clock_now_ms(clock) / 1000};
    err = policy_sigv4_authorization(&in, &auth, amz_date);
    if (err) {
        goto out;
    }
    curl = curl_easy_init();
    if (!curl) {
        err = CV_ENOMEM;
        goto out;
    }
#define HDR(...)                                                                                   \
    do {                                                                                           \
        struct curl_slist *n_;                                                                     \
        cv_buf_reset(&h);                                                                          \
        err = cv_buf_addf(&h, __VA_ARGS__);                                                        \
        if (err) {                                                                                 \
            goto out;                                                                              \
        }                                                                                          \
        n_ = curl_slist_append(hdrs, h.ptr);                                                       \
        if (!n_) {                                                                                 \
            err = CV_ENOMEM;                                                                       \
            goto out;                                                                              \
        }                                                                                          \
        hdrs = n_;                                                                                 \
    } while (0)
    HDR("Host: %s", hostport);
    HDR("Content-Type: %s", ctype);
    HDR("X-Amz-Date: %s", amz_date);
    if (session_token) {
        HDR("X-Amz-Security-Token: %s", session_token);
    }
    HDR("Authorization: %s", auth.ptr);
    HDR("Accept: text/xml");
    HDR("Expect:");
#undef HDR
    curl_easy_setopt(curl, CURLOPT_CURLU, u);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)(sizeof(body) - 1));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "caravel-policy");
    cc = curl_easy_perform(curl);
    if (cc != CURLE_OK) {
        cv_errf(msg, msglen, "STS request to %s failed: %s", endpoint, curl_easy_strerror(cc));
        err = CV_ENET;
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        char code[128] = "", text[512] = "";
        const char *xml = resp.ptr ? resp.ptr : "";
        (void)xml_text(xml, "Code", code, sizeof(code));
        (void)xml_text(xml, "Message", text, sizeof(text));
        cv_errf(msg, msglen, "STS GetCallerIdentity: HTTP %ld %s%s%s", status, code,
                text[0] ? ": " : "", text);
        err = CV_S3_ACCESS_DENIED;
        goto out;
    }
    if (!resp.ptr || !xml_text(resp.ptr, "Arn", out->arn, sizeof(out->arn)) || !out->arn[0]) {
        cv_errf(msg, msglen, "STS GetCallerIdentity: no Arn in the reply");
        err = CV_EPARSE;
        goto out;
    }
    (void)xml_text(resp.ptr, "Account", out->account, sizeof(out->account));
    (void)xml_text(resp.ptr, "UserId", out->user_id, sizeof(out->user_id));
out:
    curl_slist_free_all(hdrs);
    if (curl) {
        curl_easy_cleanup(curl);
    }
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(scheme);
    curl_url_cleanup(u);
    cv_buf_release(&auth);
    cv_buf_release(&resp);
    cv_buf_release(&h);
    curl_global_cleanup();
    return err;
}
