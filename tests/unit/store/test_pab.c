/*
 * Block Public Access (s3_pab.c): AWS's "meaning of public" for bucket
 * policies (a table of statement shapes) and for ACLs (public grants, and
 * the IgnorePublicAcls view of who a grant matches).
 */
#include "store/store_int.h"
#include "test.h"

#define ALICE "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define BOB "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* One statement on the objects of bucket b inside a policy: PRINCIPAL and the rest. */
#define STMT(effect, principal, extra)                                                             \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"" effect "\"," principal             \
    ",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"" extra "}]}"
#define STAR "\"Principal\":\"*\""
#define AWS_STAR "\"Principal\":{\"AWS\":\"*\"}"
#define ACCOUNT "\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"}"
#define COND(op, key, value) ",\"Condition\":{\"" op "\":{\"" key "\":" value "}}"

struct policy_case {
    const char *name;
    const char *doc;
    bool is_public;
};

static const struct policy_case policy_cases[] = {
    {"Principal *", STMT("Allow", STAR, ""), true},
    {"AWS *", STMT("Allow", AWS_STAR, ""), true},
    {"AWS list with *",
     STMT("Allow", "\"Principal\":{\"AWS\":[\"arn:aws:iam::111122223333:root\",\"*\"]}", ""), true},
    {"a fixed account", STMT("Allow", ACCOUNT, ""), false},
    {"a canonical user", STMT("Allow", "\"Principal\":{\"CanonicalUser\":\"" ALICE "\"}", ""),
     false},
    {"a service principal",
     STMT("Allow", "\"Principal\":{\"Service\":\"logging.s3.amazonaws.com\"}", ""), false},
    {"Deny to *", STMT("Deny", STAR, ""), false},
    {"NotPrincipal Allow", STMT("Allow", "\"NotPrincipal\":{\"AWS\":\"arn:aws:iam::1:root\"}", ""),
     true},
    /* aws:SourceIp: fixed CIDRs of /8 or narrower (IPv6 /32). */
    {"SourceIp /32", STMT("Allow", STAR, COND("IpAddress", "aws:SourceIp", "\"10.0.0.0/32\"")),
     false},
    {"SourceIp address", STMT("Allow", STAR, COND("IpAddress", "aws:SourceIp", "\"192.0.2.7\"")),
     false},
    {"SourceIp /8", STMT("Allow", STAR, COND("IpAddress", "aws:SourceIp", "\"10.0.0.0/8\"")),
     false},
    {"SourceIp /7", STMT("Allow", STAR, COND("IpAddress", "aws:SourceIp", "\"10.0.0.0/7\"")), true},
    {"SourceIp 0.0.0.0/0", STMT("Allow", STAR, COND("IpAddress", "aws:SourceIp", "\"0.0.0.0/0\"")),
     true},
    {"SourceIp list with 0/0",
     STMT("Allow", STAR, COND("IpAddress", "aws:SourceIp", "[\"10.1.0.0/16\",\"0.0.0.0/0\"]")),
     true},
    {"SourceIp IPv6 /48",
     STMT("Allow", STAR, COND("IpAddress", "aws:SourceIp", "\"2001:db8:1::/48\"")), false},
    {"SourceIp ::/0", STMT("Allow", STAR, COND("IpAddress", "aws:SourceIp", "\"::/0\"")), true},
    {"NotIpAddress", STMT("Allow", STAR, COND("NotIpAddress", "aws:SourceIp", "\"10.0.0.0/8\"")),
     true},
    {"SourceIp not an address",
     STMT("Allow", STAR, COND("IpAddress", "aws:SourceIp", "\"10.0.0.0/x\"")), true},
    /* Fixed values of the narrowing keys. */
    {"SourceVpc fixed",
     STMT("Allow", STAR, COND("StringEquals", "aws:SourceVpc", "\"vpc-91237329\"")), false},
    {"SourceVpc wildcard", STMT("Allow", STAR, COND("StringLike", "aws:SourceVpc", "\"vpc-*\"")),
     true},
    {"SourceVpc ?", STMT("Allow", STAR, COND("StringEquals", "aws:SourceVpc", "\"vpc-1?\"")), true},
    {"SourceAccount number",
     STMT("Allow", STAR, COND("StringEquals", "aws:SourceAccount", "111122223333")), false},
    {"SourceArn ArnLike fixed",
     STMT("Allow", STAR,
          COND("ArnLike", "aws:SourceArn", "\"arn:aws:cloudfront::111122223333:distribution/E1\"")),
     false},
    {"PrincipalOrgID", STMT("Allow", STAR, COND("StringEquals", "aws:PrincipalOrgID", "\"o-abc\"")),
     false},
    {"key names are case-insensitive",
     STMT("Allow", STAR, COND("StringEquals", "AWS:PRINCIPALACCOUNT", "\"111122223333\"")), false},
    {"a policy variable",
     STMT("Allow", STAR, COND("StringEquals", "aws:PrincipalAccount", "\"${aws:username}\"")),
     true},
    {"userid AROLEID:*",
     STMT("Allow", STAR, COND("StringLike", "aws:userid", "\"AROAEXAMPLEID:*\"")), false},
    {"userid *", STMT("Allow", STAR, COND("StringLike", "aws:userid", "\"*\"")), true},
    {"StringNotEquals", STMT("Allow", STAR, COND("StringNotEquals", "aws:SourceVpc", "\"vpc-1\"")),
     true},
    {"IfExists", STMT("Allow", STAR, COND("StringEqualsIfExists", "aws:SourceVpc", "\"vpc-1\"")),
     true},
    {"ForAnyValue",
     STMT("Allow", STAR, COND("ForAnyValue:StringEquals", "aws:SourceVpce", "[\"vpce-1\"]")),
     false},
    {"ForAllValues",
     STMT("Allow", STAR, COND("ForAllValues:StringEquals", "aws:SourceVpce", "[\"vpce-1\"]")),
     true},
    {"empty value list", STMT("Allow", STAR, COND("StringEquals", "aws:SourceVpc", "[]")), true},
    {"a key that does not narrow",
     STMT("Allow", STAR, COND("StringEquals", "aws:UserAgent", "\"curl\"")), true},
    {"s3:prefix does not narrow", STMT("Allow", STAR, COND("StringEquals", "s3:prefix", "\"a\"")),
     true},
    /* One fixed key is enough: conditions are ANDed. */
    {"fixed key beside a wildcard one",
     STMT("Allow", STAR,
          ",\"Condition\":{\"StringEquals\":{\"aws:SourceVpc\":\"vpc-1\"},"
          "\"StringLike\":{\"aws:SourceArn\":\"*\"}}"),
     false},
    /* Several statements: any public one makes the policy public. */
    {"a public statement after a private one",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\"," ACCOUNT
     ",\"Action\":\"s3:*\",\"Resource\":\"*\"},{\"Effect\":\"Allow\"," STAR
     ",\"Action\":\"s3:ListBucket\",\"Resource\":\"arn:aws:s3:::b\"}]}",
     true},
    {"Statement as one object",
     "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\"," ACCOUNT
     ",\"Action\":\"s3:*\",\"Resource\":\"*\"}}",
     false},
    {"not JSON", "{\"Statement\":", true},
};

static void test_policy_public(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < CV_ARRAY_LEN(policy_cases); i++) {
        const struct policy_case *c = &policy_cases[i];
        bool got = pab_policy_is_public(c->doc, strlen(c->doc));
        if (got != c->is_public) {
            fail_msg("%s: public %d, want %d", c->name, got, c->is_public);
        }
    }
}

/* Public ACLs: grants to AllUsers or AuthenticatedUsers, whatever the permission. */
static void test_acl_public(void **state)
{
    static const struct {
        const char *canned;
        bool is_public;
    } cases[] = {
        {"private", false},
        {"public-read", true},
        {"public-read-write", true},
        {"authenticated-read", true},
        {"bucket-owner-read", false},
        {"bucket-owner-full-control", false},
        {"log-delivery-write", false},
        {"aws-exec-read", false},
    };
    struct acl *a = cv_malloc(sizeof(*a));
    size_t i;

    (void)state;
    assert_non_null(a);
    for (i = 0; i < CV_ARRAY_LEN(cases); i++) {
        acl_init(a, "111122223333");
        assert_int_equal(acl_canned(cv_str_c(cases[i].canned), ALICE, BOB, false, a), CV_OK);
        if (acl_is_public(a) != cases[i].is_public) {
            fail_msg("%s: public %d", cases[i].canned, !cases[i].is_public);
        }
    }
    /* A WRITE_ACP grant to AuthenticatedUsers is public too. */
    acl_init(a, "111122223333");
    assert_int_equal(
        acl_parse_grant_header(
            CV_STR("uri=\"http://acs.amazonaws.com/groups/global/AuthenticatedUsers\""),
            ACL_WRITE_ACP, a),
        CV_OK);
    assert_true(acl_is_public(a));
    cv_free(a);
}

/* IgnorePublicAcls: group grants match nobody; grants to ids still do. */
static void test_grants_private(void **state)
{
    struct acl *a = cv_malloc(sizeof(*a));

    (void)state;
    assert_non_null(a);
    acl_init(a, "111122223333");
    assert_int_equal(acl_canned(CV_STR("public-read"), ALICE, ALICE, true, a), CV_OK);
    assert_true(acl_grants(a, NULL, false, ACL_READ));
    assert_true(acl_grants(a, BOB, false, ACL_READ));
    assert_false(acl_grants_private(a, NULL, false, ACL_READ));
    assert_false(acl_grants_private(a, BOB, false, ACL_READ));
    assert_true(acl_grants_private(a, ALICE, false, ACL_READ)); /* the owner's FULL_CONTROL */
    assert_int_equal(acl_add(a, ACL_USER, CV_STR(BOB), ACL_READ), CV_OK);
    assert_true(acl_grants_private(a, BOB, false, ACL_READ));
    assert_false(acl_grants_private(a, BOB, true, ACL_READ)); /* groups only: nothing left */
    cv_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_public),
        cmocka_unit_test(test_acl_public),
        cmocka_unit_test(test_grants_private),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
