/* Theme assignment: the strong weights, the second pass's weak weights, the dense rows. */
#include "insights/insights_int.h"
#include "test.h"

/*
 * A hand-built model of two themes over four stems:
 *   stem 0: theme 0, 8 (a member word)        stem 1: weak, theme 1, 1.4
 *   stem 2: weak, theme 0, 0.5                stem 3: theme 1, 1.0 (a profile lift)
 */
static uint32_t wstart[] = {0, 1, 1, 1, 2};
static uint32_t wtheme[] = {0, 1};
static float wval[] = {8.0f, 1.0f};
static uint32_t xstart[] = {0, 0, 1, 2, 2};
static uint32_t xtheme[] = {1, 0};
static float xval[] = {1.4f, 0.5f};

static struct ins_model model(void)
{
    struct ins_model m = {0};
    m.nthemes = 2;
    m.nstems = 4;
    m.wstart = wstart;
    m.wtheme = wtheme;
    m.wval = wval;
    m.xstart = xstart;
    m.xtheme = xtheme;
    m.xval = xval;
    m.threshold = 1.6f;
    return m;
}

static size_t assign(const uint32_t *stems, size_t n, uint32_t *out, float *score)
{
    struct ins_model m = model();
    return ins_model_assign(&m, stems, n, out, 4, score);
}

static void test_strong(void **state)
{
    uint32_t out[4], st[] = {0, 1};
    float score;
    CV_UNUSED(state);
    /* A member word: its theme; the weak weights are not consulted. */
    assert_int_equal(assign(st, 2, out, &score), 1);
    assert_int_equal(out[0], 0);
    assert_true(score == 8.0f);
}

static void test_second_pass(void **state)
{
    uint32_t out[4], one[] = {1}, two[] = {2}, lift[] = {3, 1}, mod[] = {1 | INS_STEM_MOD};
    float score;
    CV_UNUSED(state);
    /* No strong evidence, weak evidence above 1.3: the theme it points to. */
    assert_int_equal(assign(one, 1, out, &score), 1);
    assert_int_equal(out[0], 1);
    assert_true(score > 1.39f && score < 1.41f);
    /* Weak evidence below the threshold: no theme. */
    assert_int_equal(assign(two, 1, out, &score), 0);
    assert_true(score == 0.0f);
    /* Strong (1.0, below 1.6) and weak (1.4) add up in the second pass. */
    assert_int_equal(assign(lift, 2, out, &score), 1);
    assert_int_equal(out[0], 1);
    assert_true(score > 2.39f && score < 2.41f);
    /* A modifier counts half: 0.7 is too little. */
    assert_int_equal(assign(mod, 1, out, &score), 0);
}

/*
 * The dense rows give the very same themes and scores (bit for bit) as the
 * weight lists, for every combination of the four stems, each absent,
 * present or a modifier.
 */
static void test_dense_rows(void **state)
{
    struct ins_model lists = model(), dense = model();
    CV_UNUSED(state);
    assert_int_equal(ins_model_dense_rows(&dense), CV_OK);
    assert_non_null(dense.rows);
    assert_non_null(dense.xrows);
    assert_int_equal(dense.stride, 4);
    assert_int_equal(dense.rowof[1], 0); /* no strong weights: the zero row */
    for (unsigned combo = 0; combo < 81; combo++) {
        uint32_t st[4], out_l[4], out_d[4];
        size_t n = 0;
        float sl = -1, sd = -2;
        for (unsigned k = 0, c = combo; k < 4; k++, c /= 3) {
            if (c % 3) {
                st[n++] = k | (c % 3 == 2 ? INS_STEM_MOD : 0);
            }
        }
        size_t nl = ins_model_assign(&lists, st, n, out_l, 4, &sl);
        size_t nd = ins_model_assign(&dense, st, n, out_d, 4, &sd);
        assert_int_equal(nl, nd);
        assert_memory_equal(&sl, &sd, sizeof(float));
        for (size_t k = 0; k < nl; k++) {
            assert_int_equal(out_l[k], out_d[k]);
        }
    }
    cv_free(dense.rowof);
    cv_free(dense.rows);
    cv_free(dense.xrowof);
    cv_free(dense.xrows);
}

/*
 * A record that names several themes: the best first, then every other one
 * whose member weight it reaches (>= 8) at 3/4 of the best or more, in theme
 * order, up to the caller's maximum. Three themes over three stems:
 * stem 0: theme 0, 8; stem 1: theme 2, 9; stem 2: theme 1, 5.
 */
static void test_other_themes(void **state)
{
    static uint32_t ws[] = {0, 1, 2, 3}, wt[] = {0, 2, 1}, xs[] = {0, 0, 0, 0};
    static float wv[] = {8.0f, 9.0f, 5.0f};
    struct ins_model m = {0};
    uint32_t out[4], all[] = {0, 1, 2}, mod[] = {0 | INS_STEM_MOD, 1};
    float score;
    CV_UNUSED(state);
    m.nthemes = 3;
    m.nstems = 3;
    m.wstart = ws;
    m.wtheme = wt;
    m.wval = wv;
    m.xstart = xs;
    m.threshold = 1.6f;
    for (int dense = 0; dense < 2; dense++) {
        if (dense) {
            assert_int_equal(ins_model_dense_rows(&m), CV_OK);
        }
        assert_int_equal(ins_model_assign(&m, all, 3, out, 4, &score), 2);
        assert_int_equal(out[0], 2); /* 9: the best */
        assert_int_equal(out[1], 0); /* 8: a member, >= 6.75; theme 1 (5) is not */
        assert_true(score == 9.0f);
        assert_int_equal(ins_model_assign(&m, all, 3, out, 1, &score), 1); /* the maximum */
        assert_int_equal(out[0], 2);
        assert_int_equal(ins_model_assign(&m, mod, 2, out, 4, &score), 1); /* 4: a modifier */
        assert_int_equal(out[0], 2);
    }
    cv_free(m.rowof);
    cv_free(m.rows);
    cv_free(m.xrowof);
    cv_free(m.xrows);
}

/*
 * Aspect words and their inflections meet: each inflection rule of
 * ins_aspect_group and each plural rule of the food nouns, by name.
 */
static void test_aspect_inflections(void **state)
{
    static const struct {
        const char *word, *base;
    } cases[] = {
        {"deliveries", "delivery"}, /* ies -> y */
        {"crashes", "crash"},       /* es */
        {"waiters", "waiter"},      /* s */
        {"crashed", "crash"},       /* ed */
        {"priced", "price"},        /* ed -> e, d */
        {"crashing", "crash"},      /* ing */
        {"charging", "charge"},     /* ing -> e (listed itself too) */
        {"shipped", "ship"},        /* a doubled consonant */
        {"pricier", NULL},          /* not an inflection the rules know */
    };
    CV_UNUSED(state);
    for (size_t i = 0; i < CV_ARRAY_LEN(cases); i++) {
        unsigned g = ins_aspect_group(cases[i].word, strlen(cases[i].word));
        if (cases[i].base) {
            assert_int_not_equal(g, 0);
            assert_int_equal(g, ins_synonym_group(cases[i].base, strlen(cases[i].base)));
        }
    }
    /* WordNet's plural rules for food nouns. */
    static const char *const food[] = {"sandwiches", "radishes", "berries", "pizzas"};
    for (size_t i = 0; i < CV_ARRAY_LEN(food); i++) {
        assert_true(ins_is_food_noun(food[i], strlen(food[i])));
    }
    assert_false(ins_is_food_noun("deliveries", 10));
    assert_false(ins_is_food_noun("boxes", 5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strong),
        cmocka_unit_test(test_second_pass),
        cmocka_unit_test(test_dense_rows),
        cmocka_unit_test(test_other_themes),
        cmocka_unit_test(test_aspect_inflections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
