/*
 * Request documents: xml_parse over the bodies S3 accepts (DeleteObjects,
 * CompleteMultipartUpload, Tagging, AccessControlPolicy, ...), namespaces,
 * DOCTYPEs refused (no entity expansion), depth / node / text limits and
 * malformed input; object tags from the x-amz-tagging form and the Tagging
 * document (limits, round trips through the stored form); allocation
 * failure sweeps over all of it.
 */
#include "store/store_int.h"
#include "test.h"

#define S3NS "http://s3.amazonaws.com/doc/2006-03-01/"

/* Renders a tree as "name(text)[child,child]" with leaf text only, so the
 * expectations stay readable. */
static void render(const struct xml_node *n, struct cv_buf *out)
{
    for (; n; n = n->next) {
        assert_int_equal(cv_buf_adds(out, n->name), CV_OK);
        if (!n->child) {
            struct cv_str t = xml_text(n);
            assert_int_equal(cv_buf_addf(out, "(%.*s)", (int)t.len, t.ptr), CV_OK);
        } else {
            assert_int_equal(cv_buf_addc(out, '['), CV_OK);
            render(n->child, out);
            assert_int_equal(cv_buf_addc(out, ']'), CV_OK);
        }
        if (n->next) {
            assert_int_equal(cv_buf_addc(out, ','), CV_OK);
        }
    }
}

struct xml_case {
    const char *name;
    const char *doc;
    cv_err want;
    const char *tree; /* when CV_OK */
};

static const struct xml_case xml_cases[] = {
    {"DeleteObjects",
     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Delete xmlns=\"" S3NS "\">"
     "<Object><Key>a/b.txt</Key></Object><Object><Key>x&amp;y &lt;z&gt;</Key>"
     "<VersionId>null</VersionId></Object><Quiet>true</Quiet></Delete>",
     CV_OK, "Delete[Object[Key(a/b.txt)],Object[Key(x&y <z>),VersionId(null)],Quiet(true)]"},
    {"DeleteObjects without namespace", "<Delete><Object><Key>k</Key></Object></Delete>", CV_OK,
     "Delete[Object[Key(k)]]"},
    {"prefixed namespace",
     "<s3:Delete xmlns:s3=\"" S3NS "\"><s3:Object><s3:Key>k</s3:Key></s3:Object></s3:Delete>",
     CV_OK, "Delete[Object[Key(k)]]"},
    {"foreign namespace keeps local names",
     "<Delete xmlns=\"urn:other\"><Object xmlns=\"urn:x\"><Key>k</Key></Object></Delete>", CV_OK,
     "Delete[Object[Key(k)]]"},
    {"CompleteMultipartUpload",
     "<CompleteMultipartUpload xmlns=\"" S3NS "\">\n"
     "  <Part><PartNumber>1</PartNumber><ETag>&quot;a54357aff0632cce46d942af68356b38&quot;"
     "</ETag></Part>\n"
     "  <Part><ETag>\"0c78aef83f66abc1fa1e8477f296d394\"</ETag><PartNumber>2</PartNumber>"
     "<ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>\n"
     "</CompleteMultipartUpload>",
     CV_OK,
     "CompleteMultipartUpload[Part[PartNumber(1),ETag(\"a54357aff0632cce46d942af68356b38\")],"
     "Part[ETag(\"0c78aef83f66abc1fa1e8477f296d394\"),PartNumber(2),ChecksumCRC32(AAAAAA==)]]"},
    {"Tagging",
     "<Tagging xmlns=\"" S3NS "\"><TagSet><Tag><Key>project</Key><Value>caravel</Value></Tag>"
     "<Tag><Key>empty</Key><Value></Value></Tag></TagSet></Tagging>",
     CV_OK, "Tagging[TagSet[Tag[Key(project),Value(caravel)],Tag[Key(empty),Value()]]]"},
    {"AccessControlPolicy with xsi attributes",
     "<AccessControlPolicy xmlns=\"" S3NS "\"><Owner><ID>abc</ID></Owner><AccessControlList>"
     "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
     "xsi:type=\"CanonicalUser\"><ID>abc</ID></Grantee><Permission>FULL_CONTROL</Permission>"
     "</Grant></AccessControlList></AccessControlPolicy>",
     CV_OK,
     "AccessControlPolicy[Owner[ID(abc)],AccessControlList[Grant[Grantee[ID(abc)],"
     "Permission(FULL_CONTROL)]]]"},
    {"CreateBucketConfiguration",
     "<CreateBucketConfiguration xmlns=\"" S3NS "\"><LocationConstraint>eu-west-1"
     "</LocationConstraint></CreateBucketConfiguration>",
     CV_OK, "CreateBucketConfiguration[LocationConstraint(eu-west-1)]"},
    {"self-closing elements", "<Delete><Quiet/><Object><Key/></Object></Delete>", CV_OK,
     "Delete[Quiet(),Object[Key()]]"},
    {"CDATA, character references, UTF-8",
     "<a><![CDATA[<x>&amp;]]>&#x41;&#66;\xC3\xA9\xE6\x97\xA5</a>", CV_OK,
     "a(<x>&amp;AB\xC3\xA9\xE6\x97\xA5)"},
    {"comments and processing instructions", "<!-- c --><?pi x?><a><!-- in -->t<?q?></a>", CV_OK,
     "a(t)"},
    {"whitespace kept in leaf text", "<a> k \n</a>", CV_OK, "a( k \n)"},
    {"encoding declaration", "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><a/>",
     CV_OK, "a()"},
    /* Malformed. */
    {"empty", "", CV_S3_MALFORMED_XML, NULL},
    {"whitespace only", "  \n ", CV_S3_MALFORMED_XML, NULL},
    {"not XML", "Delete me", CV_S3_MALFORMED_XML, NULL},
    {"unclosed root", "<Delete><Object>", CV_S3_MALFORMED_XML, NULL},
    {"mismatched tags", "<a><b></a></b>", CV_S3_MALFORMED_XML, NULL},
    {"two roots", "<a/><b/>", CV_S3_MALFORMED_XML, NULL},
    {"text after the root", "<a/>junk", CV_S3_MALFORMED_XML, NULL},
    {"undefined entity", "<a>&nbsp;</a>", CV_S3_MALFORMED_XML, NULL},
    {"unquoted attribute", "<a b=c/>", CV_S3_MALFORMED_XML, NULL},
    {"invalid UTF-8", "<a>\xFF\xFE</a>", CV_S3_MALFORMED_XML, NULL},
    {"overlong UTF-8", "<a>\xC0\xAF</a>", CV_S3_MALFORMED_XML, NULL},
    {"bad character reference", "<a>&#0;</a>", CV_S3_MALFORMED_XML, NULL},
    {"unbound namespace prefix", "<x:a/>", CV_S3_MALFORMED_XML, NULL},
    {"truncated declaration", "<?xml version=", CV_S3_MALFORMED_XML, NULL},
    {"JSON", "{\"Objects\":[]}", CV_S3_MALFORMED_XML, NULL},
    /* DTDs refused, whatever they hold: no entity expansion. */
    {"DOCTYPE alone", "<!DOCTYPE a><a/>", CV_S3_MALFORMED_XML, NULL},
    {"internal entity", "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", CV_S3_MALFORMED_XML, NULL},
    {"billion laughs",
     "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
     "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
     "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
     "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>"
     "<Delete><Object><Key>&lol3;</Key></Object></Delete>",
     CV_S3_MALFORMED_XML, NULL},
    {"external entity (XXE)",
     "<!DOCTYPE a [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><a>&xxe;</a>", CV_S3_MALFORMED_XML,
     NULL},
    {"external DTD", "<!DOCTYPE a SYSTEM \"http://127.0.0.1:1/x.dtd\"><a/>", CV_S3_MALFORMED_XML,
     NULL},
    {"parameter entity", "<!DOCTYPE a [<!ENTITY % p \"x\"> %p;]><a/>", CV_S3_MALFORMED_XML, NULL},
};

static void test_documents(void **state)
{
    (void)state;
    for (size_t i = 0; i < CV_ARRAY_LEN(xml_cases); i++) {
        const struct xml_case *c = &xml_cases[i];
        struct cv_arena a = CV_ARENA_INIT(4096);
        struct xml_node *root = (struct xml_node *)&a; /* must be reset */
        cv_err err = xml_parse(&a, c->doc, strlen(c->doc), &root);

        if (err != c->want) {
            fail_msg("xml case '%s': got %s, want %s", c->name, cv_err_str(err),
                     cv_err_str(c->want));
        }
        if (err == CV_OK) {
            struct cv_buf t = CV_BUF_INIT(1 << 20);
            assert_non_null(root);
            assert_null(root->parent);
            render(root, &t);
            if (strcmp(t.ptr, c->tree) != 0) {
                fail_msg("xml case '%s':\n  got  %s\n  want %s", c->name, t.ptr, c->tree);
            }
            cv_buf_release(&t);
        } else {
            assert_null(root);
        }
        cv_arena_release(&a);
    }
}

/* Parent links and xml_child / xml_text on absent nodes. */
static void test_navigation(void **state)
{
    static const char doc[] = "<Delete><Object><Key>k1</Key></Object><Quiet>false</Quiet>"
                              "<Object><Key>k2</Key></Object></Delete>";
    struct cv_arena a = CV_ARENA_INIT(4096);
    struct xml_node *root = NULL;
    const struct xml_node *o, *k;

    (void)state;
    assert_int_equal(xml_parse(&a, doc, sizeof(doc) - 1, &root), CV_OK);
    o = xml_child(root, "Object");
    assert_non_null(o);
    assert_ptr_equal(o->parent, root);
    k = xml_child(o, "Key");
    assert_ptr_equal(k->parent, o);
    assert_true(cv_str_eq_c(xml_text(k), "k1"));
    assert_true(cv_str_eq_c(xml_text(xml_child(root, "Quiet")), "false"));
    assert_null(xml_child(root, "Missing"));
    assert_null(xml_child(NULL, "Key"));
    assert_true(cv_str_eq_c(xml_text(NULL), ""));
    assert_true(cv_str_eq_c(xml_text(xml_child(xml_child(o->next->next, "Key"), "x")), ""));
    assert_true(cv_str_eq_c(xml_text(xml_child(o->next->next, "Key")), "k2"));
    cv_arena_release(&a);
}

/* A document that is not NUL-terminated is read only within its length. */
static void test_length_bound(void **state)
{
    char doc[32];
    struct cv_arena a = CV_ARENA_INIT(4096);
    struct xml_node *root = NULL;

    (void)state;
    memcpy(doc, "<a>x</a><b>garbage", 18);
    assert_int_equal(xml_parse(&a, doc, 8, &root), CV_OK);
    assert_true(cv_str_eq_c(xml_text(root), "x"));
    cv_arena_release(&a);
    assert_int_equal(xml_parse(&a, doc, 7, &root), CV_S3_MALFORMED_XML);
    cv_arena_release(&a);
}

static cv_err parse_generated(const char *doc, size_t len)
{
    struct cv_arena a = CV_ARENA_INIT(1 << 16);
    struct xml_node *root = NULL;
    cv_err err = xml_parse(&a, doc, len, &root);

    cv_arena_release(&a);
    return err;
}

/* Nesting: 16 levels parse, 17 do not. */
static void test_depth_limit(void **state)
{
    struct cv_buf b = CV_BUF_INIT(1 << 20);

    (void)state;
    for (int depth = 1; depth <= 40; depth++) {
        cv_buf_reset(&b);
        for (int i = 0; i < depth; i++) {
            assert_int_equal(cv_buf_adds(&b, "<e>"), CV_OK);
        }
        for (int i = 0; i < depth; i++) {
            assert_int_equal(cv_buf_adds(&b, "</e>"), CV_OK);
        }
        if (parse_generated(b.ptr, b.len) != (depth <= 16 ? CV_OK : CV_S3_MALFORMED_XML)) {
            fail_msg("depth %d: wrong verdict", depth);
        }
    }
    /* Deep nesting a million levels down fails fast, without recursion. */
    cv_buf_reset(&b);
    for (int i = 0; i < 100000; i++) {
        assert_int_equal(cv_buf_adds(&b, "<e>"), CV_OK);
    }
    assert_int_equal(parse_generated(b.ptr, b.len), CV_S3_MALFORMED_XML);
    cv_buf_release(&b);
}

/* Node count: 20000 elements parse, 20001 do not. */
static void test_node_limit(void **state)
{
    struct cv_buf b = CV_BUF_INIT(1 << 22);
    size_t sizes[] = {19999, 20000};

    (void)state;
    for (size_t s = 0; s < 2; s++) {
        cv_buf_reset(&b);
        assert_int_equal(cv_buf_adds(&b, "<Delete>"), CV_OK);
        for (size_t i = 0; i < sizes[s] - 1; i++) {
            assert_int_equal(cv_buf_adds(&b, "<Q/>"), CV_OK);
        }
        assert_int_equal(cv_buf_adds(&b, "</Delete>"), CV_OK);
        assert_int_equal(parse_generated(b.ptr, b.len), CV_OK); /* sizes[s] nodes */
        /* One more element crosses the limit only at 20001. */
        cv_buf_reset(&b);
        assert_int_equal(cv_buf_adds(&b, "<Delete>"), CV_OK);
        for (size_t i = 0; i < sizes[s]; i++) {
            assert_int_equal(cv_buf_adds(&b, "<Q/>"), CV_OK);
        }
        assert_int_equal(cv_buf_adds(&b, "</Delete>"), CV_OK);
        assert_int_equal(parse_generated(b.ptr, b.len),
                         sizes[s] + 1 <= 20000 ? CV_OK : CV_S3_MALFORMED_XML);
    }
    cv_buf_release(&b);
}

/* One element's text is capped at 1 MiB. */
static void test_text_limit(void **state)
{
    size_t cap = (size_t)1 << 20;
    char *doc = malloc(cap + 64);
    size_t n;

    (void)state;
    assert_non_null(doc);
    memcpy(doc, "<a>", 3);
    memset(doc + 3, 'x', cap);
    memcpy(doc + 3 + cap, "</a>", 4);
    n = 3 + cap + 4;
    assert_int_equal(parse_generated(doc, n), CV_OK);
    memset(doc + 3, 'y', cap + 1);
    memcpy(doc + 3 + cap + 1, "</a>", 4);
    assert_int_equal(parse_generated(doc, n + 1), CV_S3_MALFORMED_XML);
    free(doc);
}

/* ----------------------------------------------------------------- tags */

struct tag_case {
    const char *name;
    const char *input; /* query form */
    cv_err want;
    size_t n;
    const char *encoded; /* tags_encode of the result */
};

static const struct tag_case query_cases[] = {
    {"two tags", "a=1&b=2", CV_OK, 2, "a=1&b=2"},
    {"empty", "", CV_OK, 0, ""},
    {"empty value", "k=", CV_OK, 1, "k="},
    {"no equals sign", "k", CV_OK, 1, "k="},
    {"empty parts skipped", "&&a=1&&", CV_OK, 1, "a=1"},
    {"percent decoding", "a%20b=c%26d%3De%2F%C3%A9", CV_OK, 1, "a%20b=c%26d%3De%2F%C3%A9"},
    {"plus is a space", "a+b=c+d", CV_OK, 1, "a%20b=c%20d"},
    {"equals in value", "k=a=b", CV_OK, 1, "k=a%3Db"},
    {"unreserved kept", "A-z_0.9~=v", CV_OK, 1, "A-z_0.9~=v"},
    {"ten tags", "a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10", CV_OK, 10,
     "a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10"},
    {"eleven tags", "a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11", CV_S3_INVALID_TAG, 0, NULL},
    {"duplicate key", "a=1&b=2&a=3", CV_S3_INVALID_TAG, 0, NULL},
    {"duplicate key after decoding", "a%20=1&a+=2", CV_S3_INVALID_TAG, 0, NULL},
    {"keys differ by case", "a=1&A=2", CV_OK, 2, "a=1&A=2"},
    {"empty key", "=v", CV_S3_INVALID_TAG, 0, NULL},
    {"aws: prefix", "aws:createdBy=me", CV_S3_INVALID_TAG, 0, NULL},
    {"aws: encoded", "aws%3Ax=1", CV_S3_INVALID_TAG, 0, NULL},
    {"aws inside a key", "x-aws:y=1", CV_OK, 1, "x-aws%3Ay=1"},
    {"invalid UTF-8 key", "%FF=1", CV_S3_INVALID_TAG, 0, NULL},
    {"invalid UTF-8 value", "k=%C3", CV_S3_INVALID_TAG, 0, NULL},
    {"bad percent escape", "k=%zz", CV_S3_INVALID_ARGUMENT, 0, NULL},
    {"truncated percent escape", "k=%4", CV_S3_INVALID_ARGUMENT, 0, NULL},
};

static void test_tags_query(void **state)
{
    (void)state;
    for (size_t i = 0; i < CV_ARRAY_LEN(query_cases); i++) {
        const struct tag_case *c = &query_cases[i];
        struct cv_arena a = CV_ARENA_INIT(4096);
        struct tag_set ts;
        char msg[256] = "";
        cv_err err = tags_parse_query(&a, cv_str_c(c->input), &ts, msg, sizeof(msg));

        if (err != c->want) {
            fail_msg("tag case '%s': got %s (%s), want %s", c->name, cv_err_str(err), msg,
                     cv_err_str(c->want));
        }
        if (err == CV_OK) {
            struct cv_buf enc = CV_BUF_INIT(1 << 16);
            assert_int_equal(ts.n, c->n);
            assert_int_equal(tags_encode(&ts, &enc), CV_OK);
            if (strcmp(enc.ptr, c->encoded) != 0) {
                fail_msg("tag case '%s': encoded '%s', want '%s'", c->name, enc.ptr, c->encoded);
            }
            cv_buf_release(&enc);
        } else {
            assert_true(msg[0] != '\0'); /* a message for the client */
        }
        cv_arena_release(&a);
    }
}

static void repeat(struct cv_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(cv_buf_adds(b, s), CV_OK);
    }
}

/* Key up to 128 and value up to 256 characters, counted in code points. */
static void test_tags_lengths(void **state)
{
    static const struct {
        const char *unit; /* one character, percent-encoded */
        size_t klen, vlen;
        cv_err want;
    } cases[] = {
        {"k", 128, 256, CV_OK},
        {"k", 129, 1, CV_S3_INVALID_TAG},
        {"k", 1, 257, CV_S3_INVALID_TAG},
        {"%C3%A9", 128, 256, CV_OK}, /* 2-byte: 256 / 512 bytes */
        {"%C3%A9", 129, 1, CV_S3_INVALID_TAG},
        {"%F0%9D%84%9E", 128, 256, CV_OK}, /* 4-byte: 512 / 1024 bytes */
        {"%F0%9D%84%9E", 1, 257, CV_S3_INVALID_TAG},
    };

    (void)state;
    for (size_t i = 0; i < CV_ARRAY_LEN(cases); i++) {
        struct cv_buf q = CV_BUF_INIT(1 << 16), x = CV_BUF_INIT(1 << 16);
        struct cv_arena a = CV_ARENA_INIT(4096);
        struct tag_set ts;
        char msg[256];
        cv_err err;

        repeat(&q, cases[i].unit, cases[i].klen);
        assert_int_equal(cv_buf_addc(&q, '='), CV_OK);
        repeat(&q, cases[i].unit, cases[i].vlen);
        err = tags_parse_query(&a, (struct cv_str){q.ptr, q.len}, &ts, msg, sizeof(msg));
        if (err != cases[i].want) {
            fail_msg("length case %zu: got %s", i, cv_err_str(err));
        }
        /* The same limits through the XML document. */
        if (err == CV_OK) {
            assert_int_equal(tags_write_xml(&a, (struct cv_str){q.ptr, q.len}, &x), CV_OK);
            assert_int_equal(tags_parse_xml(&a, x.ptr, x.len, &ts, msg, sizeof(msg)), CV_OK);
            assert_int_equal(ts.n, 1);
        }
        cv_buf_release(&q);
        cv_buf_release(&x);
        cv_arena_release(&a);
    }
}

/* A key or value far past the limits is an InvalidTag, not a size error. */
static void test_tags_very_long(void **state)
{
    static const size_t lens[] = {4095, 4096, 4097, 10000};

    (void)state;
    for (size_t i = 0; i < CV_ARRAY_LEN(lens); i++) {
        for (int which = 0; which < 2; which++) {
            struct cv_buf q = CV_BUF_INIT(1 << 16);
            struct cv_arena a = CV_ARENA_INIT(4096);
            struct tag_set ts;
            char msg[256] = "";
            cv_err err;

            if (which == 0) {
                repeat(&q, "k", lens[i]);
                assert_int_equal(cv_buf_adds(&q, "=v"), CV_OK);
            } else {
                assert_int_equal(cv_buf_adds(&q, "k="), CV_OK);
                repeat(&q, "%41", lens[i]);
            }
            err = tags_parse_query(&a, (struct cv_str){q.ptr, q.len}, &ts, msg, sizeof(msg));
            if (err != CV_S3_INVALID_TAG) {
                fail_msg("%s of %zu bytes: got %s", which ? "value" : "key", lens[i],
                         cv_err_str(err));
            }
            cv_buf_release(&q);
            cv_arena_release(&a);
        }
    }
}

struct tagxml_case {
    const char *name;
    const char *doc;
    cv_err want;
    const char *encoded;
};

static const struct tagxml_case xml_tag_cases[] = {
    {"two tags",
     "<Tagging xmlns=\"" S3NS "\"><TagSet><Tag><Key>a b</Key><Value>c&amp;d</Value></Tag>"
     "<Tag><Key>\xC3\xA9</Key><Value>x=y</Value></Tag></TagSet></Tagging>",
     CV_OK, "a%20b=c%26d&%C3%A9=x%3Dy"},
    {"empty TagSet", "<Tagging><TagSet/></Tagging>", CV_OK, ""},
    {"Value absent", "<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>", CV_OK, "k="},
    {"no TagSet", "<Tagging></Tagging>", CV_S3_MALFORMED_XML, NULL},
    {"wrong root", "<Tags><TagSet/></Tags>", CV_S3_MALFORMED_XML, NULL},
    {"Tag without Key", "<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>",
     CV_S3_MALFORMED_XML, NULL},
    {"foreign element in TagSet",
     "<Tagging><TagSet><Tag><Key>k</Key></Tag><Other/></TagSet></Tagging>", CV_S3_MALFORMED_XML,
     NULL},
    {"empty Key", "<Tagging><TagSet><Tag><Key></Key><Value>v</Value></Tag></TagSet></Tagging>",
     CV_S3_INVALID_TAG, NULL},
    {"duplicate keys",
     "<Tagging><TagSet><Tag><Key>k</Key></Tag><Tag><Key>k</Key></Tag></TagSet></Tagging>",
     CV_S3_INVALID_TAG, NULL},
    {"aws: prefix", "<Tagging><TagSet><Tag><Key>aws:x</Key></Tag></TagSet></Tagging>",
     CV_S3_INVALID_TAG, NULL},
    {"not XML", "k=v", CV_S3_MALFORMED_XML, NULL},
    {"DOCTYPE", "<!DOCTYPE Tagging><Tagging><TagSet/></Tagging>", CV_S3_MALFORMED_XML, NULL},
};

static void test_tags_xml(void **state)
{
    (void)state;
    for (size_t i = 0; i < CV_ARRAY_LEN(xml_tag_cases); i++) {
        const struct tagxml_case *c = &xml_tag_cases[i];
        struct cv_arena a = CV_ARENA_INIT(4096);
        struct tag_set ts;
        char msg[256] = "";
        cv_err err = tags_parse_xml(&a, c->doc, strlen(c->doc), &ts, msg, sizeof(msg));

        if (err != c->want) {
            fail_msg("tag xml case '%s': got %s, want %s", c->name, cv_err_str(err),
                     cv_err_str(c->want));
        }
        if (!err) {
            struct cv_buf enc = CV_BUF_INIT(1 << 16);
            assert_int_equal(tags_encode(&ts, &enc), CV_OK);
            if (strcmp(enc.ptr, c->encoded) != 0) {
                fail_msg("tag xml case '%s': encoded '%s'", c->name, enc.ptr);
            }
            cv_buf_release(&enc);
        }
        cv_arena_release(&a);
    }
}

/* XML -> set -> stored form -> set -> GetObjectTagging XML -> set: equal. */
static void test_tags_round_trip(void **state)
{
    static const char doc[] =
        "<Tagging><TagSet><Tag><Key>project</Key><Value>caravel</Value></Tag>"
        "<Tag><Key>a&amp;b=c d+e%f</Key><Value>&lt;\xC3\xA9\xE6\x97\xA5\xF0\x9D\x84\x9E&gt;</Value>"
        "</Tag><Tag><Key>~/.-_</Key><Value></Value></Tag></TagSet></Tagging>";
    struct cv_arena a = CV_ARENA_INIT(4096);
    struct tag_set t1, t2, t3;
    struct cv_buf enc = CV_BUF_INIT(1 << 16), enc2 = CV_BUF_INIT(1 << 16);
    struct cv_buf x = CV_BUF_INIT(1 << 16);
    char msg[256];

    (void)state;
    assert_int_equal(tags_parse_xml(&a, doc, sizeof(doc) - 1, &t1, msg, sizeof(msg)), CV_OK);
    assert_int_equal(t1.n, 3);
    assert_true(cv_str_eq_c(t1.key[1], "a&b=c d+e%f"));
    assert_int_equal(tags_encode(&t1, &enc), CV_OK);
    assert_int_equal(tags_parse_query(&a, (struct cv_str){enc.ptr, enc.len}, &t2, msg, sizeof(msg)),
                     CV_OK);
    assert_int_equal(tags_write_xml(&a, (struct cv_str){enc.ptr, enc.len}, &x), CV_OK);
    assert_non_null(strstr(x.ptr, "<Key>a&amp;b=c d+e%f</Key>"));
    assert_int_equal(tags_parse_xml(&a, x.ptr, x.len, &t3, msg, sizeof(msg)), CV_OK);
    assert_int_equal(t2.n, t1.n);
    assert_int_equal(t3.n, t1.n);
    for (size_t i = 0; i < t1.n; i++) {
        assert_true(cv_str_eq(t1.key[i], t2.key[i]) && cv_str_eq(t1.key[i], t3.key[i]));
        assert_true(cv_str_eq(t1.value[i], t2.value[i]) && cv_str_eq(t1.value[i], t3.value[i]));
    }
    assert_int_equal(tags_encode(&t3, &enc2), CV_OK);
    assert_string_equal(enc.ptr, enc2.ptr);
    cv_buf_release(&enc);
    cv_buf_release(&enc2);
    cv_buf_release(&x);
    cv_arena_release(&a);
}

/* ------------------------------------------------ allocation failures */

static cv_err xml_once(void)
{
    static const char *docs[] = {
        "<CompleteMultipartUpload xmlns=\"" S3NS "\"><Part><PartNumber>1</PartNumber>"
        "<ETag>\"x\"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>\"y\"</ETag></Part>"
        "</CompleteMultipartUpload>",
        "<Delete><Object><Key>a</Key></Object><Quiet>true</Quiet></Delete>",
    };
    cv_err err = CV_OK;

    for (size_t i = 0; i < CV_ARRAY_LEN(docs) && !err; i++) {
        struct cv_arena a = CV_ARENA_INIT(128); /* small blocks: many allocations */
        struct xml_node *root = NULL;
        err = xml_parse(&a, docs[i], strlen(docs[i]), &root);
        if (err) {
            assert_int_equal(err, CV_ENOMEM); /* never reported as a bad document */
            assert_null(root);
        } else {
            assert_non_null(xml_child(root, i ? "Object" : "Part"));
        }
        cv_arena_release(&a);
    }
    return err;
}

static cv_err tags_once(void)
{
    static const char doc[] = "<Tagging><TagSet><Tag><Key>a b</Key><Value>c</Value></Tag>"
                              "<Tag><Key>d</Key><Value>\xC3\xA9</Value></Tag></TagSet></Tagging>";
    struct cv_arena a = CV_ARENA_INIT(128);
    struct tag_set ts, ts2;
    struct cv_buf enc = CV_BUF_INIT(4096), x = CV_BUF_INIT(4096);
    char msg[256];
    cv_err err = tags_parse_xml(&a, doc, sizeof(doc) - 1, &ts, msg, sizeof(msg));

    if (!err) {
        err = tags_encode(&ts, &enc);
    }
    if (!err) {
        err = tags_parse_query(&a, (struct cv_str){enc.ptr, enc.len}, &ts2, msg, sizeof(msg));
    }
    if (!err) {
        err = tags_write_xml(&a, (struct cv_str){enc.ptr, enc.len}, &x);
    }
    /* An allocation failure is never reported as a bad request. */
    assert_true(err == CV_OK || err == CV_ENOMEM);
    if (!err) {
        assert_int_equal(ts2.n, 2);
        assert_string_equal(enc.ptr, "a%20b=c&d=%C3%A9");
    }
    cv_buf_release(&enc);
    cv_buf_release(&x);
    cv_arena_release(&a);
    return err;
}

static void test_alloc_sweep(void **state)
{
    (void)state;
    CV_ALLOC_SWEEP(xml_once());
    CV_ALLOC_SWEEP(tags_once());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_documents),       cmocka_unit_test(test_navigation),
        cmocka_unit_test(test_length_bound),    cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_node_limit),      cmocka_unit_test(test_text_limit),
        cmocka_unit_test(test_tags_query),      cmocka_unit_test(test_tags_lengths),
        cmocka_unit_test(test_tags_very_long),  cmocka_unit_test(test_tags_xml),
        cmocka_unit_test(test_tags_round_trip), cmocka_unit_test(test_alloc_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
