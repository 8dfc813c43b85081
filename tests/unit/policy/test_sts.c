/*
 * STS GetCallerIdentity for `caravel policy generate`: the private SigV4
 * signer against signatures computed by botocore (an independent
 * implementation), and the whole call (library and CLI) against a fake STS
 * endpoint on 127.0.0.1 that checks the request is well-formed and signed.
 */
#include "policy/policy.h"
#include "policy/policy_sts.h"
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define BODY "Action=GetCallerIdentity&Version=2011-06-15"
#define CTYPE "application/x-www-form-urlencoded; charset=utf-8"

static void test_sigv4_known_answers(void **state)
{
    struct policy_sigv4_in in = {"POST",       "127.0.0.1:8080", "/",   CTYPE, BODY,
                                 strlen(BODY), "us-east-1",      "sts", AKID,  SECRET,
                                 NULL,         1704164645 /* 2024-01-02T03:04:05Z */};
    struct cv_buf auth = CV_BUF_INIT(4096);
    char date[17];

    (void)state;
    assert_int_equal(policy_sigv4_authorization(&in, &auth, date), CV_OK);
    assert_string_equal(date, "20240102T030405Z");
    /* Values from botocore's SigV4Auth for the same request. */
    assert_string_equal(
        auth.ptr, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1/sts/"
                  "aws4_request, SignedHeaders=content-type;host;x-amz-date, "
                  "Signature=690c78fa95976bda69a8447a376ae5813401b235008fe8060a478c70226bb667");
    cv_buf_reset(&auth);
    in.session_token = "FQoGZXIvYXdzEXAMPLETOKEN";
    assert_int_equal(policy_sigv4_authorization(&in, &auth, date), CV_OK);
    assert_string_equal(
        auth.ptr, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1/sts/"
                  "aws4_request, SignedHeaders=content-type;host;x-amz-date;"
                  "x-amz-security-token, "
                  "Signature=20def80fb6afba3f1af5ee01485396b9b15793cafde256f8d66e91120ef9d665");
    cv_buf_release(&auth);
}

/* ------------------------------------------------------------ fake STS */

struct fake {
    int fd;
    int port;
    pthread_t th;
    int nrequests;
    int status;        /* reply status */
    char problem[512]; /* first malformed-request finding, "" when fine */
};

static const char *hdr(const char *req, const char *name, char *out, size_t n)
{
    const char *p = req;
    size_t nl = strlen(name);

    while ((p = strstr(p, "\r\n")) != NULL) {
        p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1, *e = strstr(v, "\r\n");
            while (*v == ' ') {
                v++;
            }
            snprintf(out, n, "%.*s", (int)(e - v), v);
            return out;
        }
    }
    return NULL;
}

static void check_request(struct fake *f, const char *req, const char *body)
{
    char host[128], date[64], ctype[128], auth[512], expect[512];
    struct cv_buf mine = CV_BUF_INIT(1024);
    char mydate[17];
    int64_t t;

    if (strncmp(req, "POST / HTTP/1.1\r\n", 17) != 0) {
        snprintf(f->problem, sizeof(f->problem), "request line: %.40s", req);
    } else if (!hdr(req, "Host", host, sizeof(host)) ||
               !hdr(req, "X-Amz-Date", date, sizeof(date)) ||
               !hdr(req, "Content-Type", ctype, sizeof(ctype)) ||
               !hdr(req, "Authorization", auth, sizeof(auth))) {
        snprintf(f->problem, sizeof(f->problem), "missing a header");
    } else if (strcmp(ctype, CTYPE) != 0 || strcmp(body, BODY) != 0) {
        snprintf(f->problem, sizeof(f->problem), "content type or body");
    } else if (cv_time_parse_amz(cv_str_c(date), &t) != CV_OK) {
        snprintf(f->problem, sizeof(f->problem), "X-Amz-Date %s", date);
    } else {
        /* Recompute the signature over what arrived. */
        struct policy_sigv4_in in = {"POST",      host,  "/",  ctype,  body, strlen(body),
                                     "eu-west-3", "sts", AKID, SECRET, NULL, t};
        if (policy_sigv4_authorization(&in, &mine, mydate) != CV_OK) {
            snprintf(f->problem, sizeof(f->problem), "cannot sign");
        } else {
            snprintf(expect, sizeof(expect), "%s", mine.ptr);
            if (strcmp(auth, expect) != 0) {
                snprintf(f->problem, sizeof(f->problem), "signature: got %.200s want %.200s", auth,
                         expect);
            }
        }
    }
    cv_buf_release(&mine);
}

static void *serve(void *arg)
{
    struct fake *f = arg;

    for (;;) {
        char buf[16384];
        size_t n = 0;
        ssize_t r;
        int c = accept(f->fd, NULL, NULL);
        char *end, len[32];
        if (c < 0) {
            return NULL;
        }
        while (n < sizeof(buf) - 1) {
            r = recv(c, buf + n, sizeof(buf) - 1 - n, 0);
            if (r <= 0) {
                break;
            }
            n += (size_t)r;
            buf[n] = '\0';
            end = strstr(buf, "\r\n\r\n");
            if (end && hdr(buf, "Content-Length", len, sizeof(len)) &&
                n >= (size_t)(end + 4 - buf) + (size_t)atoi(len)) {
                break;
            }
        }
        buf[n] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (end) {
            *end = '\0';
            if (!f->problem[0]) {
                check_request(f, buf, end + 4);
            }
        }
        f->nrequests++;
        const char *ok = "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/"
                         "2011-06-15/\"><GetCallerIdentityResult>"
                         "<Arn>arn:aws:iam::111122223333:user/connector</Arn>"
                         "<UserId>AIDAEXAMPLECONNECTOR1</UserId><Account>111122223333</Account>"
                         "</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId>"
                         "</ResponseMetadata></GetCallerIdentityResponse>";
        const char *bad = "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId"
                          "</Code><Message>The security token included in the request is "
                          "invalid.</Message></Error></ErrorResponse>";
        const char *body = f->status == 200 ? ok : bad;
        char resp[2048];
        int m = snprintf(resp, sizeof(resp),
                         "HTTP/1.1 %d X\r\nContent-Type: text/xml\r\nContent-Length: %zu\r\n"
                         "Connection: close\r\n\r\n%s",
                         f->status, strlen(body), body);
        if (send(c, resp, (size_t)m, 0) < 0) {
            snprintf(f->problem, sizeof(f->problem), "send failed");
        }
        close(c);
    }
}

static void fake_start(struct fake *f, int status)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);

    memset(f, 0, sizeof(*f));
    f->status = status;
    f->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(f->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(f->fd, 8), 0);
    assert_int_equal(getsockname(f->fd, (struct sockaddr *)&a, &al), 0);
    f->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&f->th, NULL, serve, f), 0);
}

static void fake_stop(struct fake *f)
{
    shutdown(f->fd, SHUT_RDWR);
    close(f->fd);
    pthread_join(f->th, NULL);
}

static void test_get_caller_identity(void **state)
{
    struct fake f;
    struct policy_sts_identity id;
    char url[64], msg[512];

    (void)state;
    fake_start(&f, 200);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", f.port);
    assert_int_equal(policy_sts_get_caller_identity(url, "eu-west-3", AKID, SECRET, NULL,
                                                    cv_clock_system(), &id, msg, sizeof(msg)),
                     CV_OK);
    fake_stop(&f);
    assert_string_equal(f.problem, "");
    assert_int_equal(f.nrequests, 1);
    assert_string_equal(id.arn, "arn:aws:iam::111122223333:user/connector");
    assert_string_equal(id.account, "111122223333");
    assert_string_equal(id.user_id, "AIDAEXAMPLECONNECTOR1");

    /* An STS error reply becomes an error with STS's code and message. */
    fake_start(&f, 403);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", f.port);
    assert_int_equal(policy_sts_get_caller_identity(url, "eu-west-3", AKID, SECRET, NULL,
                                                    cv_clock_system(), &id, msg, sizeof(msg)),
                     CV_S3_ACCESS_DENIED);
    fake_stop(&f);
    assert_non_null(strstr(msg, "InvalidClientTokenId"));

    /* Nothing listening. */
    assert_int_equal(policy_sts_get_caller_identity("http://127.0.0.1:1", "us-east-1", AKID, SECRET,
                                                    NULL, cv_clock_system(), &id, msg, sizeof(msg)),
                     CV_ENET);
}

static char *run(const char *cmd, int *status)
{
    FILE *p = popen(cmd, "r");
    struct cv_buf out = CV_BUF_INIT(1 << 20);
    char buf[4096];
    size_t n;

    assert_non_null(p);
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
        assert_int_equal(cv_buf_add(&out, buf, n), CV_OK);
    }
    *status = pclose(p);
    return cv_buf_detach(&out, NULL);
}

/* `caravel policy generate` without --user-arn asks the fake STS. */
static void test_cli_generate_via_sts(void **state)
{
    const char *build = getenv("CV_BUILD_DIR");
    char cmd[1024];
    struct fake f;
    char *via_sts, *direct;
    int st;

    (void)state;
    assert_non_null(build);
    fake_start(&f, 200);
    setenv("AWS_ACCESS_KEY_ID", AKID, 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    setenv("AWS_REGION", "eu-west-3", 1);
    unsetenv("AWS_SESSION_TOKEN");
    snprintf(cmd, sizeof(cmd),
             "%s/src/cli/caravel policy generate --bucket caravel-drop --endpoint-url "
             "http://127.0.0.1:%d --time-ms 1657921651068 --json",
             build, f.port);
    via_sts = run(cmd, &st);
    fake_stop(&f);
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_string_equal(f.problem, "");
    assert_int_equal(f.nrequests, 1);
    snprintf(cmd, sizeof(cmd),
             "%s/src/cli/caravel policy generate --bucket caravel-drop --user-arn "
             "arn:aws:iam::111122223333:user/connector --time-ms 1657921651068 --json",
             build);
    direct = run(cmd, &st);
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_string_equal(via_sts, direct);
    assert_non_null(strstr(via_sts, "\"arn:aws:iam::111122223333:user/connector\""));
    cv_free(via_sts);
    cv_free(direct);

    /* An STS rejection fails the command. */
    fake_start(&f, 403);
    snprintf(cmd, sizeof(cmd),
             "%s/src/cli/caravel policy generate --bucket caravel-drop --endpoint-url "
             "http://127.0.0.1:%d 2>/dev/null",
             build, f.port);
    via_sts = run(cmd, &st);
    fake_stop(&f);
    assert_int_equal(WEXITSTATUS(st), 1);
    cv_free(via_sts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigv4_known_answers),
        cmocka_unit_test(test_get_caller_identity),
        cmocka_unit_test(test_cli_generate_via_sts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
