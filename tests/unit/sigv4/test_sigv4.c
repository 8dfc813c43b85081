/*
 * sigv4 without the shared data: Authorization and presigned-query parsing,
 * time checks, the S3 and generic canonicalisation rules, sign/verify round
 * trips, the key cache (rotation, eviction, threads, no allocation on hits),
 * and allocation-failure sweeps over parse, verify, sign and presign.
 */
#include "sigv4/sigv4.h"
#include "test.h"
#include "sv_test.h"

#include <pthread.h>

#define SIG64 "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
#define CRED "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

/* A request with the given Authorization value and date headers. */
static void mkreq(struct sigv4_request *r, struct sigv4_header *h, size_t *nh, const char *auth,
                  const char *xdate, const char *date)
{
    size_t n = 0;

    memset(r, 0, sizeof(*r));
    r->method = CV_STR("GET");
    r->raw_path = CV_STR("/test.txt");
    h[n++] = (struct sigv4_header){CV_STR("Host"), CV_STR("examplebucket.s3.amazonaws.com")};
    if (auth) {
        h[n++] = (struct sigv4_header){CV_STR("Authorization"), cv_str_c(auth)};
    }
    if (xdate) {
        h[n++] = (struct sigv4_header){CV_STR("X-Amz-Date"), cv_str_c(xdate)};
    }
    if (date) {
        h[n++] = (struct sigv4_header){CV_STR("Date"), cv_str_c(date)};
    }
    r->headers = h;
    r->nheaders = n;
    *nh = n;
}

static void test_parse_header(void **state)
{
    static const struct {
        const char *name, *auth;
        cv_err want;
    } cases[] = {
        {"standard",
         "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host;x-amz-date, Signature=" SIG64,
         CV_OK},
        {"no spaces",
         "AWS4-HMAC-SHA256 Credential=" CRED ",SignedHeaders=host;x-amz-date,Signature=" SIG64,
         CV_OK},
        {"reordered",
         "AWS4-HMAC-SHA256 Signature=" SIG64 ", Credential=" CRED ", SignedHeaders=host;x-amz-date",
         CV_OK},
        {"loose spacing",
         "  AWS4-HMAC-SHA256   Credential = " CRED
         " ,\tSignedHeaders= host;x-amz-date ,Signature =" SIG64 "  ",
         CV_OK},
        {"trailing comma",
         "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host, Signature=" SIG64 ",", CV_OK},
        {"upper-case hex",
         "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host, "
         "Signature=AEEED9BBCCD4D02EE5C0109B86D86835F995330DA4C265957D157751F604D404",
         CV_OK},
        {"no space after algorithm",
         "AWS4-HMAC-SHA256Credential=" CRED ", SignedHeaders=host, Signature=" SIG64,
         CV_S3_AUTH_HEADER_MALFORMED},
        {"missing signature", "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host",
         CV_S3_AUTH_HEADER_MALFORMED},
        {"missing credential", "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" SIG64,
         CV_S3_AUTH_HEADER_MALFORMED},
        {"repeated component",
         "AWS4-HMAC-SHA256 Credential=" CRED ", Credential=" CRED
         ", SignedHeaders=host, Signature=" SIG64,
         CV_S3_AUTH_HEADER_MALFORMED},
        {"unknown component",
         "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host, Signature=" SIG64 ", Foo=bar",
         CV_S3_AUTH_HEADER_MALFORMED},
        {"component without =",
         "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host, Signature=" SIG64 ", junk",
         CV_S3_AUTH_HEADER_MALFORMED},
        {"short signature",
         "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host, "
         "Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d40",
         CV_S3_AUTH_HEADER_MALFORMED},
        {"non-hex signature",
         "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host, "
         "Signature=zeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
         CV_S3_AUTH_HEADER_MALFORMED},
        {"credential with 4 parts",
         "AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3, SignedHeaders=host, "
         "Signature=" SIG64,
         CV_S3_AUTH_HEADER_MALFORMED},
        {"credential with 6 parts",
         "AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request/x, "
         "SignedHeaders=host, Signature=" SIG64,
         CV_S3_AUTH_HEADER_MALFORMED},
        {"bad terminator",
         "AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_requests, "
         "SignedHeaders=host, Signature=" SIG64,
         CV_S3_AUTH_HEADER_MALFORMED},
        {"bad credential date",
         "AWS4-HMAC-SHA256 Credential=AKID/2013052/us-east-1/s3/aws4_request, SignedHeaders=host, "
         "Signature=" SIG64,
         CV_S3_AUTH_HEADER_MALFORMED},
        {"empty access key",
         "AWS4-HMAC-SHA256 Credential=/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, "
         "Signature=" SIG64,
         CV_S3_AUTH_HEADER_MALFORMED},
        {"empty service",
         "AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1//aws4_request, SignedHeaders=host, "
         "Signature=" SIG64,
         CV_S3_AUTH_HEADER_MALFORMED},
        {"empty signed headers",
         "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=, Signature=" SIG64,
         CV_S3_AUTH_HEADER_MALFORMED},
        {"empty header name",
         "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host;;x-amz-date, Signature=" SIG64,
         CV_S3_AUTH_HEADER_MALFORMED},
        {"header list ends with ;",
         "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host;, Signature=" SIG64,
         CV_S3_AUTH_HEADER_MALFORMED},
        {"space in header name",
         "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=ho st, Signature=" SIG64,
         CV_S3_AUTH_HEADER_MALFORMED},
        {"sigv2", "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=", CV_EUNSUPPORTED},
        {"sigv4a",
         "AWS4-ECDSA-P256-SHA256 Credential=AKID/20130524/s3/aws4_request, SignedHeaders=host, "
         "Signature=3045",
         CV_EUNSUPPORTED},
        {"empty", "", CV_S3_AUTH_HEADER_MALFORMED},
        {"algorithm only", "AWS4-HMAC-SHA256", CV_S3_AUTH_HEADER_MALFORMED},
    };
    CV_UNUSED(state);
    for (size_t i = 0; i < CV_ARRAY_LEN(cases); i++) {
        struct sigv4_request r;
        struct sigv4_header h[4];
        struct sigv4_parsed p;
        size_t nh;
        char msg[256];
        cv_err got;

        mkreq(&r, h, &nh, cases[i].auth, "20130524T000000Z", NULL);
        got = sigv4_parse(&r, &p, msg, sizeof(msg));
        if (got != cases[i].want) {
            print_message("%s: got %s (%s)\n", cases[i].name, cv_err_str(got), msg);
        }
        assert_int_equal(got, cases[i].want);
        if (got == CV_OK) {
            assert_int_equal(p.kind, SIGV4_AUTH_HEADER);
            assert_true(cv_str_eq_c(p.access_key_id, "AKIAIOSFODNN7EXAMPLE"));
            assert_true(cv_str_eq_c(p.scope.date, "20130524"));
            assert_true(cv_str_eq_c(p.scope.region, "us-east-1"));
            assert_true(cv_str_eq_c(p.scope.service, "s3"));
            assert_true(cv_str_eq_c(p.credential, CRED));
            assert_int_equal(p.signature[0], 0xae);
            assert_int_equal(p.signature[31], 0x04);
            assert_int_equal(p.request_time, 1369353600);
            assert_int_equal(p.expires, 0);
        } else {
            assert_int_equal(p.kind, SIGV4_AUTH_NONE);
            assert_true(msg[0] != '\0');
        }
    }
}

static void test_parse_dates_and_mechanisms(void **state)
{
    struct sigv4_request r;
    struct sigv4_header h[8];
    struct sigv4_parsed p;
    size_t nh;
    char amz[17];
    const char *auth = "AWS4-HMAC-SHA256 Credential=" CRED ", SignedHeaders=host, Signature=" SIG64;

    CV_UNUSED(state);
    /* Date header only. */
    mkreq(&r, h, &nh, auth, NULL, "Fri, 24 May 2013 00:00:00 GMT");
    assert_int_equal(sigv4_parse(&r, &p, NULL, 0), CV_OK);
    assert_int_equal(p.request_time, 1369353600);
    sigv4_amz_date(&p, amz);
    assert_string_equal(amz, "20130524T000000Z");
    /* X-Amz-Date wins over Date. */
    mkreq(&r, h, &nh, auth, "20130524T010203Z", "Thu, 23 May 2013 00:00:00 GMT");
    assert_int_equal(sigv4_parse(&r, &p, NULL, 0), CV_OK);
    assert_int_equal(p.request_time, 1369353600 + 3723);
    assert_true(cv_str_eq_c(p.amz_date, "20130524T010203Z"));
    /* No date at all. */
    mkreq(&r, h, &nh, auth, NULL, NULL);
    assert_int_equal(sigv4_parse(&r, &p, NULL, 0), CV_S3_MISSING_SECURITY_HEADER);
    /* Unparseable dates. */
    mkreq(&r, h, &nh, auth, "2013-05-24T00:00:00Z", NULL);
    assert_int_equal(sigv4_parse(&r, &p, NULL, 0), CV_S3_ACCESS_DENIED);
    mkreq(&r, h, &nh, auth, NULL, "yesterday");
    assert_int_equal(sigv4_parse(&r, &p, NULL, 0), CV_S3_ACCESS_DENIED);
    /* The credential date must be the request's. */
    mkreq(&r, h, &nh, auth, "20130525T000000Z", NULL);
    assert_int_equal(sigv4_parse(&r, &p, NULL, 0), CV_S3_AUTH_HEADER_MALFORMED);
    /* Empty region (IAM, STS global). */
    mkreq(&r, h, &nh,
          "AWS4-HMAC-SHA256 Credential=AKID/20261127//iam/aws4_request, SignedHeaders=host, "
          "Signature=" SIG64,
          "20261127T120000Z", NULL);
    assert_int_equal(sigv4_parse(&r, &p, NULL, 0), CV_OK);
    assert_int_equal(p.scope.region.len, 0);
    assert_true(cv_str_eq_c(p.scope.service, "iam"));
    /* Anonymous. */
    mkreq(&r, h, &nh, NULL, NULL, NULL);
    assert_int_equal(sigv4_parse(&r, &p, NULL, 0), CV_OK);
    assert_int_equal(p.kind, SIGV4_AUTH_NONE);
    /* Two Authorization headers. */
    mkreq(&r, h, &nh, auth, "20130524T000000Z", NULL);
    h[nh++] = (struct sigv4_header){CV_STR("authorization"), cv_str_c(auth)};
    r.nheaders = nh;
    assert_int_equal(sigv4_parse(&r, &p, NULL, 0), CV_S3_AUTH_HEADER_MALFORMED);
    /* Header and query auth together. */
    mkreq(&r, h, &nh, auth, "20130524T000000Z", NULL);
    r.raw_query = CV_STR("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=x");
    assert_int_equal(sigv4_parse(&r, &p, NULL, 0), CV_S3_INVALID_ARGUMENT);
    /* SigV2 presigned. */
    mkreq(&r, h, &nh, NULL, NULL, NULL);
    r.raw_query = CV_STR("AWSAccessKeyId=AKID&Expires=1141889120&Signature=vjbyPxybd%2F");
    assert_int_equal(sigv4_parse(&r, &p, NULL, 0), CV_EUNSUPPORTED);
    /* The session token header. */
    mkreq(&r, h, &nh, auth, "20130524T000000Z", NULL);
    h[nh++] = (struct sigv4_header){CV_STR("x-amz-security-token"), CV_STR(" tok/en+== ")};
    r.nheaders = nh;
    assert_int_equal(sigv4_parse(&r, &p, NULL, 0), CV_OK);
    {
        struct cv_buf t = CV_BUF_INIT(1024);
        assert_int_equal(sigv4_security_token(&p, &t), CV_OK);
        assert_string_equal(t.ptr, "tok/en+==");
        cv_buf_release(&t);
    }
}

#define PQ_BASE                                                                                    \
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-" \
    "1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=host"

static void test_parse_presigned(void **state)
{
    static const struct {
        const char *name, *query;
        cv_err want;
    } cases[] = {
        {"valid", PQ_BASE "&X-Amz-Expires=86400&X-Amz-Signature=" SIG64, CV_OK},
        {"expires 1", PQ_BASE "&X-Amz-Expires=1&X-Amz-Signature=" SIG64, CV_OK},
        {"expires a week", PQ_BASE "&X-Amz-Expires=604800&X-Amz-Signature=" SIG64, CV_OK},
        {"other params around",
         "a=1&" PQ_BASE "&X-Amz-Expires=60&b&X-Amz-Signature=" SIG64 "&c=", CV_OK},
        {"expires 0", PQ_BASE "&X-Amz-Expires=0&X-Amz-Signature=" SIG64, CV_S3_AUTH_QUERY_ERROR},
        {"expires over a week", PQ_BASE "&X-Amz-Expires=604801&X-Amz-Signature=" SIG64,
         CV_S3_AUTH_QUERY_ERROR},
        {"expires negative", PQ_BASE "&X-Amz-Expires=-5&X-Amz-Signature=" SIG64,
         CV_S3_AUTH_QUERY_ERROR},
        {"expires not a number", PQ_BASE "&X-Amz-Expires=1h&X-Amz-Signature=" SIG64,
         CV_S3_AUTH_QUERY_ERROR},
        {"expires empty", PQ_BASE "&X-Amz-Expires=&X-Amz-Signature=" SIG64, CV_S3_AUTH_QUERY_ERROR},
        {"no expires", PQ_BASE "&X-Amz-Signature=" SIG64, CV_S3_AUTH_QUERY_ERROR},
        {"no signature", PQ_BASE "&X-Amz-Expires=60", CV_S3_AUTH_QUERY_ERROR},
        {"no credential",
         "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=host&X-"
         "Amz-Expires=60&X-Amz-Signature=" SIG64,
         CV_S3_AUTH_QUERY_ERROR},
        {"no date",
         "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" CRED
         "&X-Amz-SignedHeaders=host&X-Amz-Expires=60&X-Amz-Signature=" SIG64,
         CV_S3_AUTH_QUERY_ERROR},
        {"no signed headers",
         "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" CRED
         "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=60&X-Amz-Signature=" SIG64,
         CV_S3_AUTH_QUERY_ERROR},
        {"repeated signature",
         PQ_BASE "&X-Amz-Expires=60&X-Amz-Signature=" SIG64 "&X-Amz-Signature=" SIG64,
         CV_S3_AUTH_QUERY_ERROR},
        {"bad date",
         "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" CRED
         "&X-Amz-Date=20130524&X-Amz-SignedHeaders=host&X-Amz-Expires=60&X-Amz-Signature=" SIG64,
         CV_S3_AUTH_QUERY_ERROR},
        {"date not the scope's",
         "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" CRED
         "&X-Amz-Date=20130525T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=60&X-Amz-"
         "Signature=" SIG64,
         CV_S3_AUTH_QUERY_ERROR},
        {"short signature", PQ_BASE "&X-Amz-Expires=60&X-Amz-Signature=abc",
         CV_S3_AUTH_QUERY_ERROR},
        {"encoded access key",
         "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%41ID%2F20130524%2Fus-east-1%2Fs3%"
         "2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=60&X-"
         "Amz-Signature=" SIG64,
         CV_S3_AUTH_QUERY_ERROR},
        {"other algorithm",
         "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&X-Amz-Credential=" CRED
         "&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=60&X-Amz-"
         "Signature=" SIG64,
         CV_EUNSUPPORTED},
        {"lower-case %2f",
         "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2f20130524%2fus-"
         "east-1%2fs3%2faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=host%3bx-amz-"
         "meta-a&X-Amz-Expires=60&X-Amz-Signature=" SIG64,
         CV_OK},
    };
    CV_UNUSED(state);
    for (size_t i = 0; i < CV_ARRAY_LEN(cases); i++) {
        struct sigv4_request r;
        struct sigv4_header h[4];
        struct sigv4_parsed p;
        size_t nh;
        char msg[256];
        cv_err got;

        mkreq(&r, h, &nh, NULL, NULL, NULL);
        r.raw_query = cv_str_c(cases[i].query);
        got = sigv4_parse(&r, &p, msg, sizeof(msg));
        if (got != cases[i].want) {
            print_message("%s: got %s (%s)\n", cases[i].name, cv_err_str(got), msg);
        }
        assert_int_equal(got, cases[i].want);
        if (got == CV_OK) {
            assert_int_equal(p.kind, SIGV4_AUTH_QUERY);
            assert_true(cv_str_eq_c(p.access_key_id, "AKIAIOSFODNN7EXAMPLE"));
            assert_true(cv_str_eq_c(p.scope.region, "us-east-1"));
            assert_true(cv_str_eq_c(p.amz_date, "20130524T000000Z"));
            assert_true(p.expires >= 1 && p.expires <= SIGV4_MAX_EXPIRES_S);
        }
    }
    /* The token comes percent-encoded; sigv4_security_token() decodes it. */
    {
        struct sigv4_request r;
        struct sigv4_header h[4];
        struct sigv4_parsed p;
        struct cv_buf t = CV_BUF_INIT(1024);
        size_t nh;
        mkreq(&r, h, &nh, NULL, NULL, NULL);
        r.raw_query = CV_STR(PQ_BASE "&X-Amz-Expires=60&X-Amz-Security-Token=ab%2Fc%2Bd%3D%3D"
                                     "&X-Amz-Signature=" SIG64);
        assert_int_equal(sigv4_parse(&r, &p, NULL, 0), CV_OK);
        assert_true(cv_str_eq_c(p.security_token, "ab%2Fc%2Bd%3D%3D"));
        assert_int_equal(sigv4_security_token(&p, &t), CV_OK);
        assert_string_equal(t.ptr, "ab/c+d==");
        cv_buf_release(&t);
    }
}

static void test_check_time(void **state)
{
    struct sigv4_parsed p;
    const int64_t t = 1369353600;

    CV_UNUSED(state);
    memset(&p, 0, sizeof(p));
    p.kind = SIGV4_AUTH_HEADER;
    p.request_time = t;
    assert_int_equal(sigv4_check_time(&p, t), CV_OK);
    assert_int_equal(sigv4_check_time(&p, t + 900), CV_OK);
    assert_int_equal(sigv4_check_time(&p, t - 900), CV_OK);
    assert_int_equal(sigv4_check_time(&p, t + 901), CV_S3_REQUEST_TIME_TOO_SKEWED);
    assert_int_equal(sigv4_check_time(&p, t - 901), CV_S3_REQUEST_TIME_TOO_SKEWED);
    p.kind = SIGV4_AUTH_QUERY;
    p.expires = 3600;
    assert_int_equal(sigv4_check_time(&p, t + 3600), CV_OK);
    assert_int_equal(sigv4_check_time(&p, t + 3601), CV_S3_EXPIRED_PRESIGNED);
    assert_int_equal(sigv4_check_time(&p, t - 900), CV_OK);
    assert_int_equal(sigv4_check_time(&p, t - 901), CV_S3_NOT_YET_VALID);
}

/* The canonical request of a request with the given path, query, headers. */
static void canon(const char *path, const char *query, const struct sigv4_header *h, size_t nh,
                  unsigned flags, struct cv_buf *out)
{
    struct sigv4_request r;

    memset(&r, 0, sizeof(r));
    r.method = CV_STR("GET");
    r.raw_path = cv_str_c(path);
    r.raw_query = cv_str_c(query);
    r.headers = h;
    r.nheaders = nh;
    r.payload_hash = CV_STR(SIGV4_UNSIGNED_PAYLOAD);
    cv_buf_reset(out);
    assert_int_equal(sigv4_canonical_request(&r, NULL, flags, out), CV_OK);
}

/* The second (path) and third (query) lines of a canonical request. */
static void lines(const struct cv_buf *b, char *path, char *query, size_t cap)
{
    const char *p = strchr(b->ptr, '\n') + 1;
    const char *q = strchr(p, '\n');
    const char *e = strchr(q + 1, '\n');

    snprintf(path, cap, "%.*s", (int)(q - p), p);
    snprintf(query, cap, "%.*s", (int)(e - q - 1), q + 1);
}

static void test_canonical_paths_and_queries(void **state)
{
    static const struct {
        const char *path, *query;
        unsigned flags;
        const char *want_path, *want_query;
    } cases[] = {
        /* S3: decode once, encode once, '/' kept, no normalisation. */
        {"/b/a%20b", "", 0, "/b/a%20b", ""},
        {"/b/a b", "", 0, "/b/a%20b", ""},
        {"/b/a+b", "", 0, "/b/a%2Bb", ""},
        {"/b/%7e%7E~", "", 0, "/b/~~~", ""},
        {"/b/%2a*", "", 0, "/b/%2A%2A", ""},
        {"/b/\xc3\xa9%C3%A9", "", 0, "/b/%C3%A9%C3%A9", ""},
        {"/b//a/./c/../d/", "", 0, "/b//a/./c/../d/", ""},
        {"/b/a%2Fb", "", 0, "/b/a/b", ""},
        {"/b/%zz%4", "", 0, "/b/%25zz%254", ""},
        {"/test$file.text", "", 0, "/test%24file.text", ""},
        {"", "", 0, "/", ""},
        /* Generic: remove dot segments, collapse '//', encode the wire form again. */
        {"/a%20b", "", SIGV4_DOUBLE_ENCODE, "/a%2520b", ""},
        {"//a//b/./c/../", "", SIGV4_NORMALIZE_PATH | SIGV4_DOUBLE_ENCODE, "/a/b/", ""},
        {"/a/..", "", SIGV4_NORMALIZE_PATH | SIGV4_DOUBLE_ENCODE, "/", ""},
        {"/a/../../b", "", SIGV4_NORMALIZE_PATH | SIGV4_DOUBLE_ENCODE, "/b", ""},
        {"a/b", "", SIGV4_NORMALIZE_PATH | SIGV4_DOUBLE_ENCODE, "a/b", ""},
        {"/%2e/x", "", SIGV4_NORMALIZE_PATH, "/./x", ""},
        /* Queries: decoded, re-encoded strictly, sorted by key then value. */
        {"/", "b=2&a=1&a=&c", 0, "/", "a=&a=1&b=2&c="},
        {"/", "a=z&a-b=y", 0, "/", "a=z&a-b=y"},
        {"/", "k=a+b&j=%7e&i=a%20b&h=%c3%bc&g=\xc3\xbc", 0, "/",
         "g=%C3%BC&h=%C3%BC&i=a%20b&j=~&k=a%2Bb"},
        {"/", "&&k=v&", 0, "/", "k=v"},
        {"/", "prefix=photos/2006/&delimiter=/", 0, "/", "delimiter=%2F&prefix=photos%2F2006%2F"},
        {"/", "X-Amz-Signature=abc&a=1", 0, "/", "X-Amz-Signature=abc&a=1"},
        {"/", "B=1&a=2&_=3&~=4", 0, "/", "B=1&_=3&a=2&~=4"},
        {"/", "a=%3D%26&b==", 0, "/", "a=%3D%26&b=%3D"},
        {"/", "uploads", 0, "/", "uploads="},
    };
    struct sigv4_header h[] = {{CV_STR("Host"), CV_STR("h")}};
    struct cv_buf b = CV_BUF_INIT(1 << 16);
    char path[4096], query[4096];

    CV_UNUSED(state);
    for (size_t i = 0; i < CV_ARRAY_LEN(cases); i++) {
        canon(cases[i].path, cases[i].query, h, 1, cases[i].flags, &b);
        lines(&b, path, query, sizeof(path));
        if (strcmp(path, cases[i].want_path) != 0 || strcmp(query, cases[i].want_query) != 0) {
            print_message("case %zu: path '%s' query '%s'\n", i, path, query);
        }
        assert_string_equal(path, cases[i].want_path);
        assert_string_equal(query, cases[i].want_query);
    }
    /* Many parameters (past the on-stack array): sorted all the same. */
    {
        char q[4096];
        size_t n = 0;
        for (int i = 99; i >= 0; i--) {
            n += (size_t)snprintf(q + n, sizeof(q) - n, "%sk%02d=%d", i == 99 ? "" : "&", i, i);
        }
        canon("/", q, h, 1, 0, &b);
        lines(&b, path, query, sizeof(path));
        assert_true(strncmp(query, "k00=0&k01=1&k02=2&", 18) == 0);
        assert_non_null(strstr(query, "&k98=98&k99=99"));
    }
    cv_buf_release(&b);
}

static void test_canonical_headers(void **state)
{
    struct sigv4_header h[] = {
        {CV_STR("Host"), CV_STR("examplebucket.s3.amazonaws.com")},
        {CV_STR("X-Amz-Meta-A"), CV_STR("  a   b\t c  ")},
        {CV_STR("x-amz-meta-a"), CV_STR("second")},
        {CV_STR("My-Header"), CV_STR("value1\n  value2\n     value3")},
        {CV_STR("Empty"), CV_STR("")},
        {CV_STR("ZZ"), CV_STR("\"a   b   c\"")},
    };
    struct cv_buf b = CV_BUF_INIT(1 << 16);
    static const char want[] = "GET\n/\n\n"
                               "empty:\n"
                               "host:examplebucket.s3.amazonaws.com\n"
                               "my-header:value1 value2 value3\n"
                               "x-amz-meta-a:a b c,second\n"
                               "zz:\"a b c\"\n"
                               "\n"
                               "empty;host;my-header;x-amz-meta-a;zz\n"
                               "UNSIGNED-PAYLOAD";

    CV_UNUSED(state);
    canon("/", "", h, CV_ARRAY_LEN(h), 0, &b);
    assert_string_equal(b.ptr, want);
    cv_buf_release(&b);
}

/* Signs a request, checks that it verifies, and that changes break it. */
static void roundtrip(struct sigv4_request *r, unsigned flags)
{
    struct sigv4_credentials cred = {CV_STR("AKIDEXAMPLE"), CV_STR(SECRET), CV_STR_NULL};
    struct cv_buf auth = CV_BUF_INIT(4096), scratch = CV_BUF_INIT(1 << 20);
    struct sigv4_header h[40];
    struct sigv4_request r2 = *r;
    struct sigv4_parsed p;
    struct sigv4_signing_key key;
    char msg[256];
    cv_err e;

    assert_true(r->nheaders < CV_ARRAY_LEN(h));
    assert_int_equal(sigv4_sign(r, &cred, CV_STR("eu-west-3"), CV_STR("s3"),
                                CV_STR("20260101T101010Z"), flags, &auth),
                     CV_OK);
    memcpy(h, r->headers, r->nheaders * sizeof(h[0]));
    h[r->nheaders] = (struct sigv4_header){CV_STR("Authorization"), {auth.ptr, auth.len}};
    r2.headers = h;
    r2.nheaders = r->nheaders + 1;
    e = sigv4_parse(&r2, &p, msg, sizeof(msg));
    if (e) {
        print_message("parse: %s: %s\n", cv_err_str(e), msg);
    }
    assert_int_equal(e, CV_OK);
    sigv4_derive_key(&key, CV_STR(SECRET), &p.scope);
    e = sigv4_verify(&r2, &p, &key, flags, &scratch);
    if (e) {
        print_message("verify: %s\n%s\n", cv_err_str(e), scratch.ptr);
    }
    assert_int_equal(e, CV_OK);
    /* A different path. */
    {
        struct cv_str saved = r2.raw_path;
        r2.raw_path = CV_STR("/other");
        assert_int_equal(sigv4_verify(&r2, &p, &key, flags, &scratch),
                         CV_S3_SIGNATURE_DOES_NOT_MATCH);
        r2.raw_path = saved;
    }
    /* Another secret. */
    sigv4_derive_key(&key, CV_STR("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ"), &p.scope);
    assert_int_equal(sigv4_verify(&r2, &p, &key, flags, &scratch), CV_S3_SIGNATURE_DOES_NOT_MATCH);
    /* A signed header missing from the request. */
    sigv4_derive_key(&key, CV_STR(SECRET), &p.scope);
    h[0].name = CV_STR("X-Not-Host");
    assert_int_equal(sigv4_verify(&r2, &p, &key, flags, &scratch), CV_S3_AUTH_HEADER_MALFORMED);
    cv_buf_release(&auth);
    cv_buf_release(&scratch);
}

static void test_sign_verify_roundtrip(void **state)
{
    static const char *paths[] = {"/", "/b/k", "/b/a b/c+d/%E2%82%AC", "/b//x/../y/./z",
                                  "/b/~!*'()"};
    static const char *queries[] = {"", "a=1&b=2", "list-type=2&prefix=a%2Fb&x", "k=&k=v&k=a",
                                    "uploadId=abc%2Bdef&partNumber=3"};
    CV_UNUSED(state);
    for (size_t i = 0; i < CV_ARRAY_LEN(paths); i++) {
        for (size_t j = 0; j < CV_ARRAY_LEN(queries); j++) {
            struct sigv4_header h[] = {
                {CV_STR("Host"), CV_STR("bucket.localhost:9000")},
                {CV_STR("X-Amz-Date"), CV_STR("20260101T101010Z")},
                {CV_STR("X-Amz-Content-Sha256"), CV_STR(SIGV4_EMPTY_SHA256)},
                {CV_STR("x-amz-meta-Note"), CV_STR(" two  spaces ")},
                {CV_STR("Range"), CV_STR("bytes=0-9")},
            };
            struct sigv4_request r = {CV_STR("GET"),   cv_str_c(paths[i]), cv_str_c(queries[j]), h,
                                      CV_ARRAY_LEN(h), CV_STR_NULL};
            roundtrip(&r, 0);
            roundtrip(&r, SIGV4_NORMALIZE_PATH | SIGV4_DOUBLE_ENCODE);
        }
    }
}

static void test_presign_roundtrip(void **state)
{
    struct sigv4_header h[] = {{CV_STR("host"), CV_STR("bucket.localhost")}};
    struct sigv4_request r = {CV_STR("PUT"), CV_STR("/b/a b.txt"), CV_STR("x-id=PutObject"), h, 1,
                              CV_STR_NULL};
    struct sigv4_credentials cred = {CV_STR("ASIAEXAMPLE"), CV_STR(SECRET),
                                     CV_STR("IQoJb3JpZ2luX2VjE/+token==")};
    struct cv_buf q = CV_BUF_INIT(8192), scratch = CV_BUF_INIT(1 << 16), tok = CV_BUF_INIT(1024);
    struct sigv4_parsed p;
    struct sigv4_signing_key key;

    CV_UNUSED(state);
    assert_int_equal(sigv4_presign(&r, &cred, CV_STR("us-east-1"), CV_STR("s3"),
                                   CV_STR("20260101T000000Z"), 0, &q),
                     CV_EINVAL);
    assert_int_equal(sigv4_presign(&r, &cred, CV_STR("us-east-1"), CV_STR("s3"),
                                   CV_STR("20260101T000000Z"), 604801, &q),
                     CV_EINVAL);
    assert_int_equal(
        sigv4_presign(&r, &cred, CV_STR("us-east-1"), CV_STR("s3"), CV_STR("2026-01-01"), 60, &q),
        CV_EINVAL);
    assert_int_equal(sigv4_presign(&r, &cred, CV_STR("us-east-1"), CV_STR("s3"),
                                   CV_STR("20260101T000000Z"), 600, &q),
                     CV_OK);
    assert_true(strncmp(q.ptr, "x-id=PutObject&X-Amz-Algorithm=AWS4-HMAC-SHA256&", 48) == 0);
    assert_non_null(strstr(q.ptr, "X-Amz-Security-Token=IQoJb3JpZ2luX2VjE%2F%2Btoken%3D%3D"));
    r.raw_query = (struct cv_str){q.ptr, q.len};
    assert_int_equal(sigv4_parse(&r, &p, NULL, 0), CV_OK);
    assert_int_equal(p.kind, SIGV4_AUTH_QUERY);
    assert_int_equal(p.expires, 600);
    assert_int_equal(sigv4_security_token(&p, &tok), CV_OK);
    assert_string_equal(tok.ptr, "IQoJb3JpZ2luX2VjE/+token==");
    sigv4_derive_key(&key, CV_STR(SECRET), &p.scope);
    assert_int_equal(sigv4_verify(&r, &p, &key, 0, &scratch), CV_OK);
    /* The token is signed: tamper with it. */
    {
        char *t = strstr(q.ptr, "token%3D");
        t[0] = 'T';
        assert_int_equal(sigv4_parse(&r, &p, NULL, 0), CV_OK);
        assert_int_equal(sigv4_verify(&r, &p, &key, 0, &scratch), CV_S3_SIGNATURE_DOES_NOT_MATCH);
    }
    cv_buf_release(&q);
    cv_buf_release(&scratch);
    cv_buf_release(&tok);
}

/* --------------------------------------------------------------- key cache */

/* Keys compared by what they compute (the hash states carry unused bytes). */
static bool key_eq(const struct sigv4_signing_key *a, const struct sigv4_signing_key *b)
{
    uint8_t x[CV_SHA256_LEN], y[CV_SHA256_LEN];

    cv_hmac_sha256_key_mac(&a->mac, "probe", 5, x);
    cv_hmac_sha256_key_mac(&b->mac, "probe", 5, y);
    return memcmp(x, y, sizeof(x)) == 0;
}

static void test_key_cache_basics(void **state)
{
    struct sigv4_key_cache *c;
    struct sigv4_scope s = {CV_STR("20130524"), CV_STR("us-east-1"), CV_STR("s3")};
    struct sigv4_signing_key a, b, want;

    CV_UNUSED(state);
    assert_int_equal(sigv4_key_cache_new(100, &c), CV_OK);
    sigv4_derive_key(&want, CV_STR(SECRET), &s);
    sigv4_key_cache_get(c, CV_STR("AKID"), CV_STR(SECRET), &s, &a);
    sigv4_key_cache_get(c, CV_STR("AKID"), CV_STR(SECRET), &s, &b);
    assert_true(key_eq(&a, &want));
    assert_true(key_eq(&b, &want));
    /* Rotated secret: never the stale key. */
    sigv4_key_cache_get(c, CV_STR("AKID"), CV_STR("newsecret"), &s, &a);
    sigv4_derive_key(&want, CV_STR("newsecret"), &s);
    assert_true(key_eq(&a, &want));
    /* Back to the old one: also right. */
    sigv4_key_cache_get(c, CV_STR("AKID"), CV_STR(SECRET), &s, &a);
    sigv4_derive_key(&want, CV_STR(SECRET), &s);
    assert_true(key_eq(&a, &want));
    /* Each scope part matters, and the empty region is a region. */
    {
        struct sigv4_scope v[] = {
            {CV_STR("20130525"), CV_STR("us-east-1"), CV_STR("s3")},
            {CV_STR("20130524"), CV_STR("us-east-2"), CV_STR("s3")},
            {CV_STR("20130524"), CV_STR("us-east-1"), CV_STR("iam")},
            {CV_STR("20130524"), CV_STR(""), CV_STR("iam")},
            /* Too long to cache: derived every time. */
            {CV_STR("20130524"),
             CV_STR("a-region-name-that-is-much-longer-than-any-real-aws-region-name-ever-was"),
             CV_STR("s3")},
        };
        for (size_t i = 0; i < CV_ARRAY_LEN(v); i++) {
            for (int k = 0; k < 2; k++) {
                sigv4_key_cache_get(c, CV_STR("AKID"), CV_STR(SECRET), &v[i], &a);
                sigv4_derive_key(&want, CV_STR(SECRET), &v[i]);
                assert_true(key_eq(&a, &want));
            }
        }
    }
    /* Same secret, another access key id: a separate entry, same key material. */
    sigv4_key_cache_get(c, CV_STR("AKID2"), CV_STR(SECRET), &s, &a);
    sigv4_derive_key(&want, CV_STR(SECRET), &s);
    assert_true(key_eq(&a, &want));
    /* Hits allocate nothing. */
    cv_alloc_fail_after(-1);
    for (int i = 0; i < 1000; i++) {
        sigv4_key_cache_get(c, CV_STR("AKID"), CV_STR(SECRET), &s, &a);
    }
    assert_int_equal(cv_alloc_count(), 0);
    sigv4_key_cache_free(c);
    sigv4_key_cache_free(NULL);
    /* A cache of one entry per set still answers right under eviction. */
    assert_int_equal(sigv4_key_cache_new(1, &c), CV_OK);
    for (int i = 0; i < 300; i++) {
        char sec[32];
        snprintf(sec, sizeof(sec), "secret-%d", i % 97);
        sigv4_key_cache_get(c, CV_STR("AKID"), cv_str_c(sec), &s, &a);
        sigv4_derive_key(&want, cv_str_c(sec), &s);
        assert_true(key_eq(&a, &want));
    }
    sigv4_key_cache_free(c);
}

#define KC_THREADS 4
#define KC_COMBOS 48
static struct sigv4_signing_key kc_want[KC_COMBOS];
static char kc_secret[KC_COMBOS][32], kc_akid[KC_COMBOS][16];
static struct sigv4_scope kc_scope[KC_COMBOS];
static struct sigv4_key_cache *kc_cache;

static void *kc_worker(void *arg)
{
    uint64_t x = (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15ull + 1;
    long bad = 0;

    for (int i = 0; i < 20000; i++) {
        struct sigv4_signing_key k;
        size_t j;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        j = (size_t)(x % KC_COMBOS);
        sigv4_key_cache_get(kc_cache, cv_str_c(kc_akid[j]), cv_str_c(kc_secret[j]), &kc_scope[j],
                            &k);
        bad += !key_eq(&k, &kc_want[j]);
    }
    return (void *)(intptr_t)bad;
}

static void test_key_cache_threads(void **state)
{
    static const char *regions[] = {"us-east-1", "eu-west-3", "", "ap-south-2"};
    pthread_t t[KC_THREADS];

    CV_UNUSED(state);
    for (size_t j = 0; j < KC_COMBOS; j++) {
        snprintf(kc_akid[j], sizeof(kc_akid[j]), "AKID%zu", j % 5);
        /* Same key id, several secrets: rotation racing with lookups. */
        snprintf(kc_secret[j], sizeof(kc_secret[j]), "secret-%zu", j % 7);
        kc_scope[j] = (struct sigv4_scope){CV_STR("20260101"), cv_str_c(regions[j % 4]),
                                           (j & 1) ? CV_STR("s3") : CV_STR("sts")};
        sigv4_derive_key(&kc_want[j], cv_str_c(kc_secret[j]), &kc_scope[j]);
    }
    /* Smaller than the working set: evictions happen concurrently too. */
    assert_int_equal(sigv4_key_cache_new(16, &kc_cache), CV_OK);
    for (intptr_t i = 0; i < KC_THREADS; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, kc_worker, (void *)i), 0);
    }
    for (int i = 0; i < KC_THREADS; i++) {
        void *bad;
        assert_int_equal(pthread_join(t[i], &bad), 0);
        assert_int_equal((intptr_t)bad, 0);
    }
    sigv4_key_cache_free(kc_cache);
}

/* ----------------------------------------------------- allocation behaviour */

/* CV_STR for static initialisers. */
#define SL(lit)                                                                                    \
    {                                                                                              \
        (lit), sizeof(lit) - 1                                                                     \
    }
static struct sigv4_header sw_h[] = {
    {SL("Host"), SL("examplebucket.s3.amazonaws.com")},
    {SL("Range"), SL("bytes=0-9")},
    {SL("x-amz-content-sha256"), SL(SIGV4_EMPTY_SHA256)},
    {SL("x-amz-date"), SL("20130524T000000Z")},
    {SL("Authorization"),
     SL("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")},
};
static const struct sigv4_request sw_req = {SL("GET"), SL("/test.txt"), SL(""), sw_h, 5, {NULL, 0}};

static cv_err sweep_verify(void)
{
    struct sigv4_parsed p;
    struct sigv4_signing_key key;
    struct cv_buf scratch = CV_BUF_INIT(1 << 16);
    cv_err err = sigv4_parse(&sw_req, &p, NULL, 0);

    if (!err) {
        sigv4_derive_key(&key, CV_STR(SECRET), &p.scope);
        err = sigv4_verify(&sw_req, &p, &key, 0, &scratch);
    }
    cv_buf_release(&scratch);
    return err;
}

static cv_err sweep_sign(void)
{
    struct sigv4_credentials cred = {CV_STR("AKIAIOSFODNN7EXAMPLE"), CV_STR(SECRET), CV_STR_NULL};
    struct cv_buf auth = CV_BUF_INIT(4096), creq = CV_BUF_INIT(1 << 16);
    struct sigv4_request r = sw_req;
    cv_err err;

    r.nheaders = 4;
    err = sigv4_sign(&r, &cred, CV_STR("us-east-1"), CV_STR("s3"), CV_STR("20130524T000000Z"), 0,
                     &auth);
    if (!err &&
        strstr(auth.ptr, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41") ==
            NULL) {
        err = CV_EINTERNAL;
    }
    if (!err) {
        err = sigv4_canonical_request(&r, NULL, 0, &creq);
    }
    cv_buf_release(&auth);
    cv_buf_release(&creq);
    return err;
}

static cv_err sweep_presign(void)
{
    struct sigv4_credentials cred = {CV_STR("AKIAIOSFODNN7EXAMPLE"), CV_STR(SECRET),
                                     CV_STR("to/ken")};
    struct cv_buf q = CV_BUF_INIT(4096), tok = CV_BUF_INIT(4096), scratch = CV_BUF_INIT(1 << 16);
    struct sigv4_request r = sw_req;
    struct sigv4_parsed p;
    struct sigv4_signing_key key;
    cv_err err;

    r.nheaders = 1;
    err = sigv4_presign(&r, &cred, CV_STR("us-east-1"), CV_STR("s3"), CV_STR("20130524T000000Z"),
                        86400, &q);
    if (!err) {
        r.raw_query = (struct cv_str){q.ptr, q.len};
        err = sigv4_parse(&r, &p, NULL, 0);
    }
    if (!err) {
        err = sigv4_security_token(&p, &tok);
    }
    if (!err) {
        sigv4_derive_key(&key, CV_STR(SECRET), &p.scope);
        err = sigv4_verify(&r, &p, &key, 0, &scratch);
    }
    cv_buf_release(&q);
    cv_buf_release(&tok);
    cv_buf_release(&scratch);
    return err;
}

static cv_err sweep_cache(void)
{
    struct sigv4_key_cache *c = NULL;
    struct sigv4_signing_key k;
    struct sigv4_scope s = {CV_STR("20130524"), CV_STR("us-east-1"), CV_STR("s3")};
    cv_err err = sigv4_key_cache_new(64, &c);

    if (!err) {
        sigv4_key_cache_get(c, CV_STR("AKID"), CV_STR(SECRET), &s, &k);
    }
    sigv4_key_cache_free(c);
    return err;
}

static void test_alloc_sweeps(void **state)
{
    CV_UNUSED(state);
    assert_int_equal(sweep_verify(), CV_OK);
    CV_ALLOC_SWEEP(sweep_verify());
    CV_ALLOC_SWEEP(sweep_sign());
    CV_ALLOC_SWEEP(sweep_presign());
    CV_ALLOC_SWEEP(sweep_cache());
}

/* With a warm scratch buffer, parse + verify allocate nothing. */
static void test_verify_warm_no_alloc(void **state)
{
    struct sigv4_parsed p;
    struct sigv4_signing_key key;
    struct cv_buf scratch = CV_BUF_INIT(1 << 16);

    CV_UNUSED(state);
    assert_int_equal(sigv4_parse(&sw_req, &p, NULL, 0), CV_OK);
    sigv4_derive_key(&key, CV_STR(SECRET), &p.scope);
    assert_int_equal(sigv4_verify(&sw_req, &p, &key, 0, &scratch), CV_OK);
    cv_alloc_fail_after(-1);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(sigv4_parse(&sw_req, &p, NULL, 0), CV_OK);
        assert_int_equal(sigv4_verify(&sw_req, &p, &key, 0, &scratch), CV_OK);
    }
    assert_int_equal(cv_alloc_count(), 0);
    cv_buf_release(&scratch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_header),
        cmocka_unit_test(test_parse_dates_and_mechanisms),
        cmocka_unit_test(test_parse_presigned),
        cmocka_unit_test(test_check_time),
        cmocka_unit_test(test_canonical_paths_and_queries),
        cmocka_unit_test(test_canonical_headers),
        cmocka_unit_test(test_sign_verify_roundtrip),
        cmocka_unit_test(test_presign_roundtrip),
        cmocka_unit_test(test_key_cache_basics),
        cmocka_unit_test(test_key_cache_threads),
        cmocka_unit_test(test_alloc_sweeps),
        cmocka_unit_test(test_verify_warm_no_alloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
