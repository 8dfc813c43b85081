/*
 * ACL documents (acl.c): the x-amz-grant-* header grammar, the
 * AccessControlPolicy XML body, canned ACL expansion, the stored form (and
 * an older store's canned names), who a grant matches, and allocation
 * failure sweeps over parsing and encoding.
 */
#include "store/store_int.h"
#include "test.h"

#define ALICE "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define BOB "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ALL_URI "http://acs.amazonaws.com/groups/global/AllUsers"
#define AUTH_URI "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
#define LOG_URI "http://acs.amazonaws.com/groups/s3/LogDelivery"

/* "PERM kind:id" per grant, space separated, for readable expectations. */
static void render(const struct acl *a, char *out, size_t len)
{
    static const char *const kinds[] = {"id", "email", "all", "auth", "log"};
    size_t i, o = 0;

    out[0] = '\0';
    for (i = 0; i < a->n && o < len; i++) {
        int n = snprintf(out + o, len - o, "%s%s %s%s%s", i ? " " : "",
                         acl_perm_name(a->g[i].perm), kinds[a->g[i].kind],
                         a->g[i].id[0] ? ":" : "", a->g[i].id);
        assert_true(n > 0);
        o += (size_t)n;
    }
}

struct header_case {
    const char *name;
    const char *value;
    cv_err want;
    const char *grants;
};

static const struct header_case header_cases[] = {
    {"one id", "id=" ALICE, CV_OK, "READ id:" ALICE},
    {"quoted id", "id=\"" ALICE "\"", CV_OK, "READ id:" ALICE},
    {"spaces everywhere", "  id = \"" ALICE "\" ,  id=" BOB "  ", CV_OK,
     "READ id:" ALICE " READ id:" BOB},
    {"key case-insensitive", "ID=" ALICE ", EmailAddress=x@example.com", CV_OK,
     "READ id:" ALICE " READ email:x@example.com"},
    {"groups", "uri=\"" ALL_URI "\", uri=" AUTH_URI ", uri=" LOG_URI, CV_OK,
     "READ all READ auth READ log"},
    {"quoted comma kept", "emailAddress=\"a,b@example.com\"", CV_OK, "READ email:a,b@example.com"},
    {"empty", "", CV_S3_INVALID_ARGUMENT, NULL},
    {"blank", "   ", CV_S3_INVALID_ARGUMENT, NULL},
    {"no equals", "id", CV_S3_INVALID_ARGUMENT, NULL},
    {"empty value", "id=", CV_S3_INVALID_ARGUMENT, NULL},
    {"empty quoted value", "id=\"\"", CV_S3_INVALID_ARGUMENT, NULL},
    {"unterminated quote", "id=\"abc", CV_S3_INVALID_ARGUMENT, NULL},
    {"junk after quote", "id=\"abc\" x", CV_S3_INVALID_ARGUMENT, NULL},
    {"unknown key", "nick=alice", CV_S3_INVALID_ARGUMENT, NULL},
    {"unknown group", "uri=http://acs.amazonaws.com/groups/global/Everyone",
     CV_S3_INVALID_ARGUMENT, NULL},
    {"blank inside an id", "id=ab cd", CV_S3_INVALID_ARGUMENT, NULL},
    {"control byte in an id", "id=ab\x01" "cd", CV_S3_INVALID_ARGUMENT, NULL},
    {"trailing comma", "id=" ALICE ",", CV_S3_INVALID_ARGUMENT, NULL},
    {"id too long",
     "id=" ALICE ALICE "x", CV_S3_INVALID_ARGUMENT, NULL},
};

static void test_grant_headers(void **state)
{
    struct acl *a = cv_malloc(sizeof(*a));
    char got[1024];
    size_t i;

    (void)state;
    assert_non_null(a);
    for (i = 0; i < CV_ARRAY_LEN(header_cases); i++) {
        const struct header_case *c = &header_cases[i];
        cv_err err;
        acl_init(a, "111111111111");
        err = acl_parse_grant_header(cv_str_c(c->value), ACL_READ, a);
        if (err != c->want) {
            fail_msg("%s: got %s, want %s", c->name, cv_err_str(err), cv_err_str(c->want));
        }
        if (!err) {
            render(a, got, sizeof(got));
            if (strcmp(got, c->grants) != 0) {
                fail_msg("%s: got '%s', want '%s'", c->name, got, c->grants);
            }
        }
    }
    /* Headers accumulate: one per permission, in the order given. */
    acl_init(a, "111111111111");
    assert_int_equal(acl_parse_grant_header(CV_STR("id=" ALICE), ACL_WRITE, a), CV_OK);
    assert_int_equal(acl_parse_grant_header(CV_STR("uri=" ALL_URI), ACL_FULL_CONTROL, a), CV_OK);
    render(a, got, sizeof(got));
    assert_string_equal(got, "WRITE id:" ALICE " FULL_CONTROL all");
    cv_free(a);
}

static void test_grant_limit(void **state)
{
    struct acl *a = cv_malloc(sizeof(*a));
    size_t i;

    (void)state;
    assert_non_null(a);
    acl_init(a, "111111111111");
    for (i = 0; i < ACL_MAX_GRANTS; i++) {
        assert_int_equal(acl_parse_grant_header(CV_STR("uri=" ALL_URI), ACL_READ, a), CV_OK);
    }
    assert_int_equal(acl_parse_grant_header(CV_STR("uri=" ALL_URI), ACL_READ, a),
                     CV_S3_MALFORMED_ACL);
    assert_int_equal(a->n, ACL_MAX_GRANTS);
    cv_free(a);
}

#define ACP_HEAD                                                                                   \
    "<AccessControlPolicy xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\" "                     \
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
#define GRANT(grantee, perm) "<Grant><Grantee>" grantee "</Grantee><Permission>" perm "</Permission></Grant>"

struct xml_case {
    const char *name;
    const char *doc;
    cv_err want;
    const char *grants;
    const char *owner;
};

static const struct xml_case xml_cases[] = {
    {"owner and grants in order",
     ACP_HEAD "<Owner><ID>" ALICE "</ID><DisplayName>alice</DisplayName></Owner>"
              "<AccessControlList>" GRANT("<ID>" BOB "</ID>", "WRITE_ACP")
                  GRANT("<URI>" ALL_URI "</URI>", "READ")
                      GRANT("<EmailAddress>b@example.com</EmailAddress>", "READ_ACP")
                          GRANT("<ID> " ALICE " </ID>", "FULL_CONTROL") "</AccessControlList>"
                                                                         "</AccessControlPolicy>",
     CV_OK,
     "WRITE_ACP id:" BOB " READ all READ_ACP email:b@example.com FULL_CONTROL id:" ALICE, ALICE},
    {"no owner, empty list", ACP_HEAD "<AccessControlList/></AccessControlPolicy>", CV_OK, "", ""},
    {"no list", ACP_HEAD "<Owner><ID>" ALICE "</ID></Owner></AccessControlPolicy>", CV_OK, "",
     ALICE},
    {"wrong root", "<Policy><AccessControlList/></Policy>", CV_S3_MALFORMED_ACL, NULL, NULL},
    {"not XML", "AccessControlPolicy", CV_S3_MALFORMED_ACL, NULL, NULL},
    {"bad permission",
     ACP_HEAD "<AccessControlList>" GRANT("<ID>" BOB "</ID>", "ALL") "</AccessControlList>"
              "</AccessControlPolicy>",
     CV_S3_MALFORMED_ACL, NULL, NULL},
    {"missing permission",
     ACP_HEAD "<AccessControlList><Grant><Grantee><ID>" BOB "</ID></Grantee></Grant>"
              "</AccessControlList></AccessControlPolicy>",
     CV_S3_MALFORMED_ACL, NULL, NULL},
    {"missing grantee",
     ACP_HEAD "<AccessControlList><Grant><Permission>READ</Permission></Grant>"
              "</AccessControlList></AccessControlPolicy>",
     CV_S3_MALFORMED_ACL, NULL, NULL},
    {"empty grantee",
     ACP_HEAD "<AccessControlList>" GRANT("<DisplayName>x</DisplayName>", "READ")
              "</AccessControlList></AccessControlPolicy>",
     CV_S3_MALFORMED_ACL, NULL, NULL},
    {"foreign element in the list",
     ACP_HEAD "<AccessControlList><Other/></AccessControlList></AccessControlPolicy>",
     CV_S3_MALFORMED_ACL, NULL, NULL},
    {"unknown group",
     ACP_HEAD "<AccessControlList>" GRANT("<URI>http://example.com/g</URI>", "READ")
              "</AccessControlList></AccessControlPolicy>",
     CV_S3_INVALID_ARGUMENT, NULL, NULL},
    {"empty id",
     ACP_HEAD "<AccessControlList>" GRANT("<ID></ID>", "READ") "</AccessControlList>"
              "</AccessControlPolicy>",
     CV_S3_INVALID_ARGUMENT, NULL, NULL},
};

static void test_xml(void **state)
{
    struct acl *a = cv_malloc(sizeof(*a));
    char got[2048], owner[ACL_ID_MAX];
    size_t i;

    (void)state;
    assert_non_null(a);
    for (i = 0; i < CV_ARRAY_LEN(xml_cases); i++) {
        const struct xml_case *c = &xml_cases[i];
        struct cv_arena ar = CV_ARENA_INIT(1024);
        cv_err err;
        acl_init(a, "111111111111");
        err = acl_parse_xml(&ar, c->doc, strlen(c->doc), a, owner);
        if (err != c->want) {
            fail_msg("%s: got %s, want %s", c->name, cv_err_str(err), cv_err_str(c->want));
        }
        if (!err) {
            render(a, got, sizeof(got));
            if (strcmp(got, c->grants) != 0) {
                fail_msg("%s: got '%s', want '%s'", c->name, got, c->grants);
            }
            assert_string_equal(owner, c->owner);
            assert_string_equal(a->owner, "111111111111"); /* the body never moves ownership */
        }
        cv_arena_release(&ar);
    }
    cv_free(a);
}

struct canned_case {
    const char *name;
    bool bucket;
    const char *owner;
    const char *grants;
};

static const struct canned_case canned_cases[] = {
    {"private", false, ALICE, "FULL_CONTROL id:" ALICE},
    {"public-read", true, ALICE, "READ all FULL_CONTROL id:" ALICE},
    {"public-read-write", true, ALICE, "READ all WRITE all FULL_CONTROL id:" ALICE},
    {"authenticated-read", false, ALICE, "READ auth FULL_CONTROL id:" ALICE},
    {"aws-exec-read", false, ALICE, "FULL_CONTROL id:" ALICE},
    {"bucket-owner-read", false, ALICE, "FULL_CONTROL id:" ALICE " READ id:" BOB},
    {"bucket-owner-read", false, BOB, "FULL_CONTROL id:" BOB},
    {"bucket-owner-read", true, ALICE, "FULL_CONTROL id:" ALICE},
    {"bucket-owner-full-control", false, ALICE,
     "FULL_CONTROL id:" ALICE " FULL_CONTROL id:" BOB},
    {"bucket-owner-full-control", false, BOB, "FULL_CONTROL id:" BOB},
    {"log-delivery-write", true, BOB, "WRITE log READ_ACP log FULL_CONTROL id:" BOB},
};

static void test_canned(void **state)
{
    struct acl *a = cv_malloc(sizeof(*a));
    char got[1024];
    size_t i;

    (void)state;
    assert_non_null(a);
    for (i = 0; i < CV_ARRAY_LEN(canned_cases); i++) {
        const struct canned_case *c = &canned_cases[i];
        acl_init(a, "111111111111");
        /* The bucket is Bob's; the resource is c->owner's. */
        assert_int_equal(acl_canned(cv_str_c(c->name), c->owner, BOB, c->bucket, a), CV_OK);
        render(a, got, sizeof(got));
        if (strcmp(got, c->grants) != 0) {
            fail_msg("%s (owner %.4s): got '%s', want '%s'", c->name, c->owner, got, c->grants);
        }
    }
    assert_int_equal(acl_canned(CV_STR("public"), ALICE, BOB, false, a), CV_S3_INVALID_ARGUMENT);
    cv_free(a);
}

static void test_stored_form(void **state)
{
    struct acl *a = cv_malloc(sizeof(*a)), *b = cv_malloc(sizeof(*b));
    struct cv_buf enc = CV_BUF_INIT(64 * 1024);
    char got[1024], want[1024];

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    acl_init(a, "222222222222");
    assert_int_equal(acl_add(a, ACL_USER, CV_STR(BOB), ACL_FULL_CONTROL), CV_OK);
    assert_int_equal(acl_add(a, ACL_ALL_USERS, CV_STR_NULL, ACL_READ), CV_OK);
    assert_int_equal(acl_add(a, ACL_LOG_DELIVERY, CV_STR_NULL, ACL_WRITE), CV_OK);
    assert_int_equal(acl_add(a, ACL_AUTH_USERS, CV_STR_NULL, ACL_READ_ACP), CV_OK);
    assert_int_equal(acl_add(a, ACL_USER, CV_STR(ALICE), ACL_WRITE_ACP), CV_OK);
    assert_int_equal(acl_encode(a, &enc), CV_OK);
    assert_string_equal(enc.ptr, "cvacl1 222222222222\nFULL_CONTROL id " BOB "\nREAD group "
                                 "AllUsers\nWRITE group LogDelivery\nREAD_ACP group "
                                 "AuthenticatedUsers\nWRITE_ACP id " ALICE "\n");
    assert_int_equal(acl_decode((struct cv_str){enc.ptr, enc.len}, "111111111111", ALICE, b),
                     CV_OK);
    assert_string_equal(b->owner, "222222222222");
    render(a, want, sizeof(want));
    render(b, got, sizeof(got));
    assert_string_equal(got, want);

    /* Nothing stored: the bucket owner's private ACL. */
    assert_int_equal(acl_decode(CV_STR_NULL, "111111111111", ALICE, b), CV_OK);
    assert_string_equal(b->owner, "111111111111");
    render(b, got, sizeof(got));
    assert_string_equal(got, "FULL_CONTROL id:" ALICE);
    /* An older store's canned name. */
    assert_int_equal(acl_decode(CV_STR("public-read"), "111111111111", ALICE, b), CV_OK);
    render(b, got, sizeof(got));
    assert_string_equal(got, "READ all FULL_CONTROL id:" ALICE);
    /* Damaged stored forms are refused, never half-read into a grant. */
    assert_int_equal(acl_decode(CV_STR("cvacl1 1\nALL id x\n"), "1", ALICE, b), CV_EINVAL);
    assert_int_equal(acl_decode(CV_STR("cvacl1 1\nREAD group Everyone\n"), "1", ALICE, b),
                     CV_EINVAL);
    assert_int_equal(acl_decode(CV_STR("cvacl1 1\nREAD nobody x\n"), "1", ALICE, b), CV_EINVAL);
    /* E-mail grantees are resolved before storing; they never reach the store. */
    cv_buf_reset(&enc);
    assert_int_equal(acl_add(a, ACL_EMAIL, CV_STR("x@example.com"), ACL_READ), CV_OK);
    assert_int_equal(acl_encode(a, &enc), CV_EINVAL);
    cv_buf_release(&enc);
    cv_free(a);
    cv_free(b);
}

static void test_grants_match(void **state)
{
    struct acl *a = cv_malloc(sizeof(*a));

    (void)state;
    assert_non_null(a);
    acl_init(a, "1");
    assert_int_equal(acl_add(a, ACL_USER, CV_STR(ALICE), ACL_READ), CV_OK);
    assert_int_equal(acl_add(a, ACL_USER, CV_STR(BOB), ACL_FULL_CONTROL), CV_OK);
    assert_true(acl_grants(a, ALICE, false, ACL_READ));
    assert_false(acl_grants(a, ALICE, false, ACL_WRITE));
    assert_false(acl_grants(a, ALICE, true, ACL_READ)); /* groups only */
    assert_true(acl_grants(a, BOB, false, ACL_WRITE_ACP)); /* FULL_CONTROL covers all */
    assert_false(acl_grants(a, NULL, false, ACL_READ));
    assert_false(acl_owner_only(a, BOB));
    acl_init(a, "1");
    assert_int_equal(acl_add(a, ACL_AUTH_USERS, CV_STR_NULL, ACL_READ), CV_OK);
    assert_true(acl_grants(a, ALICE, true, ACL_READ));
    assert_false(acl_grants(a, NULL, false, ACL_READ)); /* anonymous is not authenticated */
    assert_int_equal(acl_add(a, ACL_ALL_USERS, CV_STR_NULL, ACL_WRITE), CV_OK);
    assert_true(acl_grants(a, NULL, false, ACL_WRITE));
    assert_false(acl_grants(a, NULL, false, ACL_READ_ACP));
    acl_init(a, "1");
    assert_true(acl_owner_only(a, BOB)); /* an empty ACL grants no one else */
    assert_int_equal(acl_add(a, ACL_USER, CV_STR(BOB), ACL_FULL_CONTROL), CV_OK);
    assert_true(acl_owner_only(a, BOB));
    assert_int_equal(acl_add(a, ACL_USER, CV_STR(BOB), ACL_READ), CV_OK);
    assert_false(acl_owner_only(a, BOB));
    cv_free(a);
}

/* Parse a header and a body, encode, decode: every allocation may fail. */
static cv_err acl_once(void)
{
    static const char doc[] =
        ACP_HEAD "<Owner><ID>" ALICE "</ID></Owner><AccessControlList>" GRANT(
            "<ID>" BOB "</ID>", "READ") GRANT("<URI>" ALL_URI "</URI>", "WRITE")
            "</AccessControlList></AccessControlPolicy>";
    struct cv_arena ar = CV_ARENA_INIT(256);
    struct acl *a = cv_malloc(sizeof(*a)), *b = cv_malloc(sizeof(*b));
    struct cv_buf enc = CV_BUF_INIT(64 * 1024);
    char owner[ACL_ID_MAX];
    cv_err err = a && b ? CV_OK : CV_ENOMEM;

    if (!err) {
        acl_init(a, "111111111111");
        err = acl_parse_xml(&ar, doc, sizeof(doc) - 1, a, owner);
    }
    if (!err) {
        err = acl_parse_grant_header(CV_STR("id=\"" ALICE "\", uri=" AUTH_URI), ACL_READ_ACP, a);
    }
    if (!err) {
        err = acl_encode(a, &enc);
    }
    if (!err) {
        err = acl_decode((struct cv_str){enc.ptr, enc.len}, "1", ALICE, b);
    }
    /* An allocation failure is never reported as a bad ACL. */
    assert_true(err == CV_OK || err == CV_ENOMEM);
    if (!err) {
        assert_int_equal(b->n, 4);
        assert_true(acl_grants(b, NULL, false, ACL_WRITE));
    }
    cv_buf_release(&enc);
    cv_arena_release(&ar);
    cv_free(a);
    cv_free(b);
    return err;
}

static void test_alloc_sweep(void **state)
{
    (void)state;
    CV_ALLOC_SWEEP(acl_once());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grant_headers), cmocka_unit_test(test_grant_limit),
        cmocka_unit_test(test_xml),           cmocka_unit_test(test_canned),
        cmocka_unit_test(test_stored_form),   cmocka_unit_test(test_grants_match),
        cmocka_unit_test(test_alloc_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
