/* The tokenizer and text helpers on hard UTF-8. */
#include "insights/insights_int.h"
#include "test.h"

static struct ins_vocab vocab;
static struct ins_tokbuf tb;

static int setup(void **state)
{
    CV_UNUSED(state);
    return ins_vocab_init(&vocab) == CV_OK ? 0 : -1;
}

static int teardown(void **state)
{
    CV_UNUSED(state);
    ins_tokbuf_release(&tb);
    ins_vocab_release(&vocab);
    return 0;
}

/* Tokenizes and joins the lower-cased tokens with '|'. */
static const char *toks(const char *text)
{
    static char out[1024];
    size_t n = 0;

    assert_int_equal(ins_tokenize(&vocab, &tb, text, strlen(text)), CV_OK);
    out[0] = '\0';
    for (size_t i = 0; i < tb.ntoks; i++) {
        n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", i ? "|" : "", tb.toks[i].w->key);
    }
    return out;
}

static void test_split_and_strip(void **state)
{
    CV_UNUSED(state);
    assert_string_equal(toks("The food, was GOOD!!"), "the|food|was|good");
    /* Two characters or fewer after stripping: the token is kept as written (emoticons). */
    assert_string_equal(toks("ok. :) :-( <3"), "ok.|:)|:-(|<3");
    assert_string_equal(toks("don't \"quoted\" (paren)"), "don't|quoted|paren");
    assert_string_equal(toks("   \t\r\n  "), "");
    assert_int_equal(tb.ntoks, 0);
}

static void test_unicode_spaces(void **state)
{
    CV_UNUSED(state);
    /* NO-BREAK SPACE, IDEOGRAPHIC SPACE, EM SPACE, LINE SEPARATOR split like Python's split(). */
    assert_string_equal(toks("a\xc2\xa0" "b\xe3\x80\x80" "c\xe2\x80\x83" "d\xe2\x80\xa8" "e"),
                        "a|b|c|d|e");
    /* ZERO WIDTH SPACE is not white space in Python either. */
    assert_string_equal(toks("a\xe2\x80\x8b" "b"), "a\xe2\x80\x8b" "b");
}

static void test_case_folding(void **state)
{
    CV_UNUSED(state);
    /* Latin-1, Latin Extended-A, Greek and Cyrillic lower-case; CJK is uncased. */
    assert_string_equal(toks("\xc3\x89T\xc3\x89 \xc5\x81\xc3\x93" "D\xc5\xb9 "
                             "\xce\x91\xce\x98\xce\x97\xce\x9d\xce\x91 \xd0\x9c\xd0\x98\xd0\xa0"),
                        "\xc3\xa9t\xc3\xa9|\xc5\x82\xc3\xb3" "d\xc5\xba|"
                        "\xce\xb1\xce\xb8\xce\xb7\xce\xbd\xce\xb1|\xd0\xbc\xd0\xb8\xd1\x80");
    assert_true(tb.toks[0].upper);
    assert_true(tb.toks[3].upper);
    assert_true(ins_is_upper("\xc3\x89" "T\xc3\x89", 5));
    assert_false(ins_is_upper("\xc3\xa9t\xc3\xa9", 5));
    assert_false(ins_is_upper("\xe6\x97\xa5\xe6\x9c\xac", 6)); /* uncased */
    assert_true(ins_is_upper("A\xe6\x97\xa5", 4));
    assert_false(ins_is_upper(":)", 2));
}

static void test_emoji(void **state)
{
    CV_UNUSED(state);
    /* As VADER: a space before the description unless one is there, none after. */
    assert_string_equal(toks("a\xf0\x9f\x98\x80" "b"), "a|grinning|faceb");
    assert_string_equal(toks("\xf0\x9f\x98\x80\xf0\x9f\x98\x80"), "grinning|face|grinning|face");
    /* A skin tone modifier is its own description; FE0F is not an emoji. */
    assert_string_equal(toks("\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd"), "thumbs|up|medium|skin|tone");
}

static void test_utf8_decode(void **state)
{
    size_t adv;
    char enc[4];
    CV_UNUSED(state);
    assert_int_equal(ins_utf8_decode((const unsigned char *)"\xf0\x9f\x98\x80", 4, &adv), 0x1F600);
    assert_int_equal(adv, 4);
    /* Truncated, overlong and surrogate sequences decode as U+FFFD, one byte. */
    assert_int_equal(ins_utf8_decode((const unsigned char *)"\xf0\x9f\x98", 3, &adv), 0xFFFD);
    assert_int_equal(adv, 1);
    assert_int_equal(ins_utf8_decode((const unsigned char *)"\xc0\xaf", 2, &adv), 0xFFFD);
    assert_int_equal(ins_utf8_decode((const unsigned char *)"\xed\xa0\x80", 3, &adv), 0xFFFD);
    assert_int_equal(ins_utf8_encode(0x20AC, enc), 3);
    assert_memory_equal(enc, "\xe2\x82\xac", 3);
    assert_true(ins_is_ascii("plain ascii text, long enough", 29));
    assert_false(ins_is_ascii("caf\xc3\xa9" " au lait", 13));
}

static void test_theme_pieces(void **state)
{
    CV_UNUSED(state);
    /* Pieces: stems of content words; stopwords and punctuation are boundaries. */
    assert_string_equal(toks("deliveries"), "deliveries");
    const struct ins_word *w = tb.toks[0].w;
    assert_int_equal(w->npieces, 1);
    const struct ins_stem *s1 = &vocab.stems[ins_word_pieces(&vocab, w)[0].stem];
    assert_string_equal(s1->key, "deliveri");
    toks("delivery");
    const struct ins_stem *s2 = &vocab.stems[ins_word_pieces(&vocab, tb.toks[0].w)[0].stem];
    assert_ptr_equal(s1, s2); /* delivery and deliveries meet */
    toks("wi-fi/router");
    w = tb.toks[0].w;
    assert_int_equal(w->npieces, 3);
    toks("the");
    assert_int_equal(tb.toks[0].w->npieces, 0);
    /* A curly apostrophe separates like an ASCII one. */
    toks("customer\xe2\x80\x99s");
    w = tb.toks[0].w;
    assert_int_equal(ins_word_pieces(&vocab, w)[0].len, 8);
    assert_int_equal(ins_word_pieces(&vocab, w)[1].stem, INS_PIECE_STOP);
    /* Long tokens are scored, not interned. */
    toks("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa couldn't");
    assert_int_equal(tb.ntoks, 2);
    assert_true(tb.toks[1].w->flags & INS_W_NEG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_and_strip), cmocka_unit_test(test_unicode_spaces),
        cmocka_unit_test(test_case_folding),    cmocka_unit_test(test_emoji),
        cmocka_unit_test(test_utf8_decode),     cmocka_unit_test(test_theme_pieces),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
