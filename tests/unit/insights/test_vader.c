/*
 * VADER rules, one named case per rule, with the expected compound score.
 *
 * Sources of the expected values:
 *  [py]  the vaderSentiment (Python) README / demo output of the reference
 *        release (vaderSentiment.py __main__ examples);
 *  [js]  the npm vader-sentiment@1.1.3 port, run with node, for rules where
 *        the port and the Python reference agree;
 *  [hand] derived by hand from the Python source where the JS port lacks
 *        the rule (the comment shows the arithmetic).
 * compound = s / sqrt(s^2 + 15) with s the sum of valences.
 */
#include "insights/insights_int.h"
#include "test.h"

#include <math.h>

struct vcase {
    const char *rule;
    const char *text;
    double compound;
    double pos, neu, neg; /* < 0: not checked */
};

static const struct vcase cases[] = {
    {"lexicon word", "The book was good.", 0.4404, 0.492, 0.508, 0.0},                 /* py */
    {"negation", "The book was not good.", -0.3412, 0.0, 0.624, 0.376},                /* js */
    {"negation by n't", "The book isn't good.", -0.3412, -1, -1, -1},                  /* js */
    {"negation three words back", "The book is not really very good.", -0.4270, -1, -1, -1}, /* js */
    {"negation of a negative", "At least it isn't a horrible book.", 0.4310, 0.322, 0.678, 0.0}, /* py */
    {"nor", "VADER is not smart, handsome, nor funny.", -0.7424, 0.0, 0.354, 0.646},   /* py */
    {"booster", "The book was very good.", 0.4927, -1, -1, -1},                        /* js */
    {"dampener", "The book was slightly good.", 0.3832, -1, -1, -1},                   /* js */
    {"kind of", "The book was only kind of good.", 0.3832, -1, -1, -1},                /* py */
    {"all caps emphasis", "The book was GOOD.", 0.5622, -1, -1, -1},                   /* js */
    {"all caps booster and punctuation", "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
     0.9469, -1, -1, -1},                                                               /* py */
    {"exclamation emphasis", "VADER is smart, handsome, and funny!", 0.8439, 0.752, 0.248, 0.0}, /* py */
    {"no exclamation", "VADER is smart, handsome, and funny.", 0.8316, 0.746, 0.254, 0.0}, /* py */
    {"question emphasis", "Was the book good??", 0.5040, -1, -1, -1},                  /* js */
    {"contrastive but", "The plot was good, but the characters are uncompelling and the dialog is not great.",
     -0.7042, 0.094, 0.579, 0.327},                                                     /* py */
    {"but with slang and caps", "Today only kinda sux! But I'll get by, lol", 0.5249, 0.317, 0.556, 0.127}, /* py */
    {"emoticons", "Make sure you :) or :D today!", 0.8633, -1, -1, -1},               /* py */
    /* [py] README: 0.7003 (the emoji become "heart with arrow", "kiss mark", ...) */
    {"emoji", "Catch utf-8 emoji such as \xf0\x9f\x92\x98 and \xf0\x9f\x92\x8b and \xf0\x9f\x98\x81", 0.7003,
     -1, -1, -1},
    {"least as negation", "Roger Dodger is one of the least compelling variations on this theme.", -0.1695,
     -1, -1, -1},                                                                       /* py */
    {"at least is not negation", "Roger Dodger is at least compelling as a variation on the theme.", 0.2263,
     -1, -1, -1},                                                                       /* py */
    {"most as booster", "Roger Dodger is one of the most compelling variations on this theme.", 0.2944,
     -1, -1, -1},                                                                       /* py */
    {"never", "Sentiment analysis has never been good.", -0.3412, -1, -1, -1},         /* py */
    {"never this", "Sentiment analysis has never been this good!", 0.5672, -1, -1, -1}, /* py */
    {"idiom the shit", "With VADER, sentiment analysis is the shit!", 0.6476, -1, -1, -1}, /* py */
    {"idiom bad ass", "VADER is quite bad ass", 0.6124, -1, -1, -1},                   /* js */
    {"capitalised negation", "Not bad at all", 0.4310, -1, -1, -1},                    /* py */
    /* [hand] "no" before a lexicon word: good (1.9) * -0.74 = -1.406; "no" scores 0:
     * -1.406 / sqrt(1.406^2 + 15) = -0.3412 */
    {"no as negator", "There is no good food.", -0.3412, 0.0, 0.624, 0.376},
    /* [hand] doubt (-1.5) negated by "without" two back: 1.11; excellent 2.7 not negated
     * ("without ... doubt"): 3.81 / sqrt(3.81^2 + 15) = 0.7013 */
    {"without doubt", "Without a doubt, excellent idea.", 0.7013, -1, -1, -1},
    {"empty", "", 0.0, 0.0, 0.0, 0.0},
    {"no sentiment", "The table is in the kitchen.", 0.0, 0.0, 1.0, 0.0},
};

static void test_rules(void **state)
{
    CV_UNUSED(state);
    for (size_t i = 0; i < CV_ARRAY_LEN(cases); i++) {
        const struct vcase *c = &cases[i];
        struct ins_sentiment s;
        assert_int_equal(ins_sentiment_of(c->text, strlen(c->text), &s), CV_OK);
        if (fabs(s.compound - c->compound) > 1e-9) {
            fail_msg("rule '%s': compound %.4f, expected %.4f", c->rule, s.compound, c->compound);
        }
        if (c->pos >= 0 && (fabs(s.pos - c->pos) > 1e-9 || fabs(s.neu - c->neu) > 1e-9 ||
                            fabs(s.neg - c->neg) > 1e-9)) {
            fail_msg("rule '%s': pos/neu/neg %.3f/%.3f/%.3f, expected %.3f/%.3f/%.3f", c->rule,
                     s.pos, s.neu, s.neg, c->pos, c->neu, c->neg);
        }
    }
}

static void test_labels(void **state)
{
    CV_UNUSED(state);
    assert_int_equal(ins_label_of(-0.9), INS_VERY_NEGATIVE);
    assert_int_equal(ins_label_of(-0.5), INS_VERY_NEGATIVE);
    assert_int_equal(ins_label_of(-0.2), INS_NEGATIVE);
    assert_int_equal(ins_label_of(-0.0499), INS_NEUTRAL);
    assert_int_equal(ins_label_of(0.0), INS_NEUTRAL);
    assert_int_equal(ins_label_of(0.05), INS_POSITIVE);
    assert_int_equal(ins_label_of(0.5), INS_VERY_POSITIVE);
    assert_string_equal(ins_label_name(INS_VERY_POSITIVE), "very_positive");
}

static void test_lexicon_table(void **state)
{
    double v;
    CV_UNUSED(state);
    /* The generated table: sorted, and holds known VADER entries. */
    assert_true(ins_lexicon_len > 7000);
    for (size_t i = 1; i < ins_lexicon_len; i++) {
        struct cv_str a = {ins_lexicon[i - 1].word, ins_lexicon[i - 1].len};
        struct cv_str b = {ins_lexicon[i].word, ins_lexicon[i].len};
        assert_true(cv_str_cmp(a, b) < 0);
    }
    assert_true(ins_lexicon_find("good", 4, &v));
    assert_true(fabs(v - 1.9) < 1e-12);
    assert_true(ins_lexicon_find(":)", 2, &v));
    assert_false(ins_lexicon_find("caravel", 7, &v));
    assert_non_null(ins_emoji_find(0x1F600));
    assert_null(ins_emoji_find('a'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_lexicon_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
