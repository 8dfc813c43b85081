/*
 * Sentiment: the VADER method (Hutto and Gilbert, ICWSM 2014), following
 * the rules of the reference implementation (vaderSentiment 3.3, Python):
 * lexicon valence; "no" as a negator of the next lexicon word; ALL-CAPS
 * emphasis when only some words are capitals; boosters and dampeners up to
 * three words back (scaled 1, 0.95, 0.9); negation up to three words back
 * (times -0.74) with the "never so/this" and "without doubt" exceptions;
 * special-case idioms; "least"; the contrastive "but" (before x0.5, after
 * x1.5); '!' and '?' emphasis; compound = s / sqrt(s^2 + 15); pos/neu/neg
 * proportions. Where the reference has quirks that change scores (the
 * "but" rule finds a sentiment by value, not by position) they are kept, so
 * that scores match the published tool.
 */
#include "insights/insights_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define C_INCR 0.733
#define N_SCALAR (-0.74)

struct phrase {
    const char *w[3];
    unsigned n;
    double val;
};

/* VADER's SPECIAL_CASES with more than one word. */
static const struct phrase special_cases[] = {
    {{"the", "shit", NULL}, 2, 3.0},        {{"the", "bomb", NULL}, 2, 3.0},
    {{"bad", "ass", NULL}, 2, 1.5},         {{"bus", "stop", NULL}, 2, 0.0},
    {{"yeah", "right", NULL}, 2, -2.0},     {{"kiss", "of", "death"}, 3, -1.5},
    {{"to", "die", "for"}, 3, 3.0},         {{"beating", "heart", NULL}, 2, 3.1},
    {{"broken", "heart", NULL}, 2, -2.9},
};
/* VADER's multi-word BOOSTER_DICT entries (all dampeners). */
static const struct phrase booster_phrases[] = {
    {{"just", "enough", NULL}, 2, -0.293},
    {{"kind", "of", NULL}, 2, -0.293},
    {{"sort", "of", NULL}, 2, -0.293},
};

bool ins_is_idiom_word(const char *w, size_t len)
{
    for (size_t k = 0; k < CV_ARRAY_LEN(special_cases) + CV_ARRAY_LEN(booster_phrases); k++) {
        const struct phrase *p = k < CV_ARRAY_LEN(special_cases)
                                     ? &special_cases[k]
                                     : &booster_phrases[k - CV_ARRAY_LEN(special_cases)];
        for (unsigned i = 0; i < p->n; i++) {
            if (len > 0 && p->w[i][0] == w[0] && strlen(p->w[i]) == len &&
                memcmp(p->w[i], w, len) == 0) {
                return true;
            }
        }
    }
    return false;
}

static bool word_is(const struct ins_word *w, const char *s)
{
    size_t n = strlen(s);
    return w->len == n && memcmp(w->key, s, n) == 0;
}

/* Does the sequence of tokens at @p idx (n of them) spell phrase @p p? */
static bool seq_is(const struct ins_tok *t, const size_t *idx, unsigned n, const struct phrase *p)
{
    if (p->n != n) {
        return false;
    }
    for (unsigned k = 0; k < n; k++) {
        if (!(t[idx[k]].w->flags & INS_W_IDIOM)) {
            return false; /* no idiom has this word: skip the string compares */
        }
    }
    for (unsigned k = 0; k < n; k++) {
        if (!word_is(t[idx[k]].w, p->w[k])) {
            return false;
        }
    }
    return true;
}

/* Can the tokens at idx be an idiom at all (every one an idiom word)? */
static bool idiom_words(const struct ins_tok *t, const size_t *idx, unsigned n)
{
    for (unsigned k = 0; k < n; k++) {
        if (!(t[idx[k]].w->flags & INS_W_IDIOM)) {
            return false;
        }
    }
    return true;
}

static bool special_lookup(const struct ins_tok *t, const size_t *idx, unsigned n, double *val)
{
    if (!idiom_words(t, idx, n)) {
        return false;
    }
    for (size_t k = 0; k < CV_ARRAY_LEN(special_cases); k++) {
        if (seq_is(t, idx, n, &special_cases[k])) {
            *val = special_cases[k].val;
            return true;
        }
    }
    return false;
}

static double idioms_check(double valence, const struct ins_tok *t, size_t n, size_t i)
{
    const size_t onezero[] = {i - 1, i};
    const size_t twoonezero[] = {i - 2, i - 1, i};
    const size_t twoone[] = {i - 2, i - 1};
    const size_t threetwoone[] = {i - 3, i - 2, i - 1};
    const size_t threetwo[] = {i - 3, i - 2};
    const struct {
        const size_t *idx;
        unsigned n;
    } seqs[] = {{onezero, 2}, {twoonezero, 3}, {twoone, 2}, {threetwoone, 3}, {threetwo, 2}};
    double v;

    for (size_t k = 0; k < CV_ARRAY_LEN(seqs); k++) {
        if (special_lookup(t, seqs[k].idx, seqs[k].n, &v)) {
            valence = v;
            break;
        }
    }
    if (n - 1 > i) {
        const size_t zeroone[] = {i, i + 1};
        if (special_lookup(t, zeroone, 2, &v)) {
            valence = v;
        }
    }
    if (n - 1 > i + 1) {
        const size_t zeroonetwo[] = {i, i + 1, i + 2};
        if (special_lookup(t, zeroonetwo, 3, &v)) {
            valence = v;
        }
    }
    /* Booster bigrams such as "sort of" (threetwoone has three words: never). */
    for (size_t k = 0; idiom_words(t, threetwo, 2) && k < CV_ARRAY_LEN(booster_phrases); k++) {
        if (seq_is(t, threetwo, 2, &booster_phrases[k])) {
            valence += booster_phrases[k].val;
        }
    }
    for (size_t k = 0; idiom_words(t, twoone, 2) && k < CV_ARRAY_LEN(booster_phrases); k++) {
        if (seq_is(t, twoone, 2, &booster_phrases[k])) {
            valence += booster_phrases[k].val;
        }
    }
    return valence;
}

static double scalar_inc_dec(const struct ins_tok *t, double valence, bool cap_diff)
{
    double scalar = 0.0;

    if (t->w->flags & INS_W_BOOST) {
        scalar = ins_word_boost(t->w);
        if (valence < 0) {
            scalar *= -1;
        }
        if (t->upper && cap_diff) {
            if (valence > 0) {
                scalar += C_INCR;
            } else {
                scalar -= C_INCR;
            }
        }
    }
    return scalar;
}

static bool sp(const struct ins_tok *t, enum ins_special s)
{
    return t->w->special == s;
}

static double negation_check(double valence, const struct ins_tok *t, unsigned start_i, size_t i)
{
    if (start_i == 0) {
        if (t[i - 1].w->flags & INS_W_NEG) {
            valence *= N_SCALAR;
        }
    } else if (start_i == 1) {
        if (sp(&t[i - 2], INS_SP_NEVER) && (sp(&t[i - 1], INS_SP_SO) || sp(&t[i - 1], INS_SP_THIS))) {
            valence *= 1.25;
        } else if (sp(&t[i - 2], INS_SP_WITHOUT) && sp(&t[i - 1], INS_SP_DOUBT)) {
            /* "without a doubt": no negation */
        } else if (t[i - 2].w->flags & INS_W_NEG) {
            valence *= N_SCALAR;
        }
    } else {
        if ((sp(&t[i - 3], INS_SP_NEVER) && (sp(&t[i - 2], INS_SP_SO) || sp(&t[i - 2], INS_SP_THIS))) ||
            (sp(&t[i - 1], INS_SP_SO) || sp(&t[i - 1], INS_SP_THIS))) {
            valence *= 1.25;
        } else if (sp(&t[i - 3], INS_SP_WITHOUT) &&
                   (sp(&t[i - 2], INS_SP_DOUBT) || sp(&t[i - 1], INS_SP_DOUBT))) {
            /* no negation */
        } else if (t[i - 3].w->flags & INS_W_NEG) {
            valence *= N_SCALAR;
        }
    }
    return valence;
}

static double least_check(double valence, const struct ins_tok *t, size_t i)
{
    if (i > 1 && !(t[i - 1].w->flags & INS_W_LEX) && sp(&t[i - 1], INS_SP_LEAST)) {
        if (!sp(&t[i - 2], INS_SP_AT) && !sp(&t[i - 2], INS_SP_VERY)) {
            valence *= N_SCALAR;
        }
    } else if (i > 0 && !(t[i - 1].w->flags & INS_W_LEX) && sp(&t[i - 1], INS_SP_LEAST)) {
        valence *= N_SCALAR;
    }
    return valence;
}

static double sentiment_valence(const struct ins_tok *t, size_t n, size_t i, bool cap_diff)
{
    const struct ins_word *w = t[i].w;
    double valence;

    if (!(w->flags & INS_W_LEX)) {
        return 0.0;
    }
    valence = w->valence;
    /* "no" before another lexicon word negates it rather than scoring itself. */
    if (w->special == INS_SP_NO && i != n - 1 && (t[i + 1].w->flags & INS_W_LEX)) {
        valence = 0.0;
    }
    if ((i > 0 && sp(&t[i - 1], INS_SP_NO)) || (i > 1 && sp(&t[i - 2], INS_SP_NO)) ||
        (i > 2 && sp(&t[i - 3], INS_SP_NO) && (sp(&t[i - 1], INS_SP_OR) || sp(&t[i - 1], INS_SP_NOR)))) {
        valence = w->valence * N_SCALAR;
    }
    if (t[i].upper && cap_diff) {
        if (valence > 0) {
            valence += C_INCR;
        } else {
            valence -= C_INCR;
        }
    }
    for (unsigned start_i = 0; start_i < 3; start_i++) {
        if (i > start_i && !(t[i - (start_i + 1)].w->flags & INS_W_LEX)) {
            double s = scalar_inc_dec(&t[i - (start_i + 1)], valence, cap_diff);
            if (start_i == 1 && s != 0) {
                s *= 0.95;
            }
            if (start_i == 2 && s != 0) {
                s *= 0.9;
            }
            valence += s;
            valence = negation_check(valence, t, start_i, i);
            if (start_i == 2) {
                valence = idioms_check(valence, t, n, i);
            }
        }
    }
    return least_check(valence, t, i);
}

/*
 * Python's round(x, d): the d-decimal number nearest to the exact binary
 * value. The scaled product is exact enough except near a half, where the
 * correctly rounded decimal conversion decides.
 */
static double round_to(double x, double scale, int digits)
{
    double y = x * scale, r = nearbyint(y), f = fabs(y - trunc(y));

    if (fabs(f - 0.5) < 1e-6) {
        char tmp[64];
        snprintf(tmp, sizeof(tmp), "%.*f", digits, x);
        r = strtod(tmp, NULL) * scale;
        r = nearbyint(r);
    }
    r /= scale;
    return r == 0 ? 0.0 : r;
}

void ins_vader(const struct ins_tokbuf *tb, struct ins_sentiment *out)
{
    const struct ins_tok *t = tb->toks;
    const uint32_t *lx = tb->lex;
    double *s = tb->val;
    size_t n = tb->ntoks, nl = tb->nlex, bi = tb->but_at;
    double sum = 0, amp, pos_sum = 0, neg_sum = 0, total;
    unsigned neu_count, ep, qm;
    bool cap_diff;

    memset(out, 0, sizeof(*out));
    if (n == 0) {
        return;
    }
    /* No lexicon word: every valence is 0, so compound 0 and all neutral. */
    if (nl == 0) {
        out->neu = 1.0;
        return;
    }
    /*
     * Only lexicon tokens have a valence: the reference's list of valences
     * is zero everywhere else, so it is kept sparse, s[j] for token lx[j].
     * Zeros add nothing to the sums below, and the "but" rule leaves them
     * zero, so every result is the very double of the dense computation.
     */
    cap_diff = tb->nupper > 0 && tb->nupper < n;
    for (size_t j = 0; j < nl; j++) {
        size_t i = lx[j];
        const struct ins_word *w = t[i].w;
        if ((w->flags & INS_W_BOOST) ||
            (i < n - 1 && w->special == INS_SP_KIND && t[i + 1].w->special == INS_SP_OF)) {
            s[j] = 0.0;
            continue;
        }
        s[j] = sentiment_valence(t, n, i, cap_diff);
    }
    if (bi != SIZE_MAX) {
        /*
         * The reference walks the list and finds each value's *first*
         * position (list.index); with repeated values that is not the
         * position being walked. Reproduced exactly (a zero is found at a
         * zero and stays zero: skipped).
         */
        for (size_t j = 0; j < nl; j++) {
            double v = s[j];
            size_t si = 0;
            if (v == 0) {
                continue;
            }
            while (s[si] != v) {
                si++;
            }
            if (lx[si] < bi) {
                s[si] = v * 0.5;
            } else if (lx[si] > bi) {
                s[si] = v * 1.5;
            }
        }
    }
    for (size_t j = 0; j < nl; j++) {
        sum += s[j];
    }
    ep = tb->excl > 4 ? 4 : tb->excl;
    qm = tb->quest;
    amp = ep * 0.292;
    if (qm > 1) {
        amp += qm <= 3 ? qm * 0.18 : 0.96;
    }
    if (sum > 0) {
        sum += amp;
    } else if (sum < 0) {
        sum -= amp;
    }
    out->compound = sum / sqrt(sum * sum + 15);
    if (out->compound < -1.0) {
        out->compound = -1.0;
    } else if (out->compound > 1.0) {
        out->compound = 1.0;
    }
    neu_count = (unsigned)(n - nl);
    for (size_t j = 0; j < nl; j++) {
        if (s[j] > 0) {
            pos_sum += s[j] + 1;
        }
        if (s[j] < 0) {
            neg_sum += s[j] - 1;
        }
        if (s[j] == 0) {
            neu_count++;
        }
    }
    if (pos_sum > fabs(neg_sum)) {
        pos_sum += amp;
    } else if (pos_sum < fabs(neg_sum)) {
        neg_sum -= amp;
    }
    total = pos_sum + fabs(neg_sum) + neu_count;
    out->pos = round_to(fabs(pos_sum / total), 1e3, 3);
    out->neg = round_to(fabs(neg_sum / total), 1e3, 3);
    out->neu = round_to(fabs(neu_count / total), 1e3, 3);
    out->compound = round_to(out->compound, 1e4, 4);
}
