/*
 * Themes: from the corpus statistics to a small set of themes, and the
 * assignment of records to them.
 *
 * 1. Candidates: content stems (not stopwords, not generic feedback words,
 *    not strongly sentiment-laden) frequent enough in the sample.
 * 2. Each candidate gets a context vector: positive PMI with every feature
 *    stem it shares a record with. Two candidates are similar when their
 *    contexts are (cosine): "waiter" and "staff" rarely meet, but both come
 *    with "friendly", "rude", "attentive".
 * 3. Average-linkage agglomerative clustering merges candidates while the
 *    similarity stays above a threshold; words of a built-in aspect synonym
 *    group start in one cluster.
 * 4. The clusters covering the most records become themes. A theme's
 *    profile is the lift of every feature among the records that mention
 *    it; a record is assigned to the themes it mentions, or else to the
 *    theme its words point to when the evidence is strong enough.
 *
 * Everything is ordered by counts with ties broken by the stem's bytes, so
 * the result does not depend on hash order.
 */
#include "insights/insights_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CANDIDATES 400
#define MAX_FEATURES 3000
#define CLUSTER_SIM 0.22f
#define MEMBER_WEIGHT 8.0f
#define ATTRIBUTE_WEIGHT 20.0f /* a word of an attribute aspect (price, cleanliness, location) */
#define MODIFIER_SHARE 0.5f   /* a word that modifies the next ("food delivery") */
#define SECOND_SHARE 0.75f     /* another named theme joins at this share of the best score */
#define DERIVED_COVERAGE 0.02  /* a theme outside the aspect groups covers 2 % of records */
#define VEC_MIN_FEATURES 3    /* a context vector needs 3 features seen twice */
#define SIM_SHRINK 5.0         /* context similarity of rare words shrinks by df/(df+5) */
#define ASSIGN_THRESHOLD 1.6f
#define PROFILE_MIN 3
/*
 * The second pass: a record with no theme above ASSIGN_THRESHOLD may still
 * join one through thin evidence, the words it shares with even one or two
 * of the theme's records (weak lift: shrunk by c/(c+1), kept above 0.3).
 */
#define WEAK_PROFILE_MIN 1
#define WEAK_SHRINK 1.0
#define WEAK_LIFT_MIN 0.3
#define WEAK_THRESHOLD 1.3f
#define COHESION_MIN 0.15
#define PMI_SHIFT 0.405 /* log 1.5 */

void ins_sample_init(struct ins_sample *s, size_t maxids)
{
    memset(s, 0, sizeof(*s));
    s->maxids = maxids;
    s->stride = 1;
}

void ins_sample_release(struct ins_sample *s)
{
    if (!s) {
        return;
    }
    cv_free(s->ids);
    cv_free(s->recs);
    cv_free(s->recno);
    memset(s, 0, sizeof(*s));
}

/* Halves the sample: keeps the records whose number is a multiple of 2*stride. */
static void decimate(struct ins_sample *s)
{
    size_t out = 0, nids = 0;

    s->stride *= 2;
    for (size_t r = 0; r < s->nrecs; r++) {
        if (s->recno[r] % s->stride != 0) {
            continue;
        }
        uint32_t b = s->recs[r], e = s->recs[r + 1];
        memmove(s->ids + nids, s->ids + b, (e - b) * sizeof(uint32_t));
        s->recs[out] = (uint32_t)nids;
        s->recno[out] = s->recno[r];
        nids += e - b;
        out++;
    }
    s->nrecs = out;
    s->nids = nids;
    s->recs[out] = (uint32_t)nids;
}

cv_err ins_sample_add(struct ins_sample *s, uint32_t recno, const uint32_t *ids, size_t n)
{
    if (recno % s->stride != 0) {
        return CV_OK;
    }
    while (s->nids + n > s->maxids && s->nrecs > 0) {
        decimate(s);
        if (recno % s->stride != 0) {
            return CV_OK;
        }
    }
    if (s->nids + n > s->capids) {
        size_t ncap = s->capids ? s->capids * 2 : 65536;
        while (ncap < s->nids + n) {
            ncap *= 2;
        }
        uint32_t *ni = cv_realloc(s->ids, ncap * sizeof(uint32_t));
        if (!ni) {
            return CV_ENOMEM;
        }
        s->ids = ni;
        s->capids = ncap;
    }
    if (s->nrecs + 2 > s->caprecs) {
        size_t ncap = s->caprecs ? s->caprecs * 2 : 4096;
        uint32_t *nr = cv_realloc(s->recs, ncap * sizeof(uint32_t));
        if (!nr) {
            return CV_ENOMEM;
        }
        s->recs = nr;
        uint32_t *nn = cv_realloc(s->recno, ncap * sizeof(uint32_t));
        if (!nn) {
            return CV_ENOMEM;
        }
        s->recno = nn;
        s->caprecs = ncap;
    }
    if (s->nrecs == 0) {
        s->recs[0] = 0;
    }
    if (n > 0) {
        memcpy(s->ids + s->nids, ids, n * sizeof(uint32_t));
    }
    s->nids += n;
    s->recno[s->nrecs] = recno;
    s->nrecs++;
    s->recs[s->nrecs] = (uint32_t)s->nids;
    return CV_OK;
}

void ins_model_release(struct ins_model *m)
{
    if (!m) {
        return;
    }
    for (size_t t = 0; t < m->nthemes; t++) {
        cv_free(m->themes[t].members);
    }
    cv_free(m->themes);
    cv_free(m->wstart);
    cv_free(m->wtheme);
    cv_free(m->wval);
    cv_free(m->xstart);
    cv_free(m->xtheme);
    cv_free(m->xval);
    cv_free(m->rowof);
    cv_free(m->rows);
    cv_free(m->xrowof);
    cv_free(m->xrows);
    memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------- ordering */

static const struct ins_vocab *sort_vocab;
static const uint32_t *sort_df;

/* Higher document frequency first, then the stem's bytes. */
static int cmp_by_df(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    if (sort_df[x] != sort_df[y]) {
        return sort_df[x] > sort_df[y] ? -1 : 1;
    }
    return strcmp(sort_vocab->stems[x].key, sort_vocab->stems[y].key);
}

struct sparse {
    uint32_t *idx;
    float *val;
    uint32_t n;
};

static float sparse_dot(const struct sparse *a, const struct sparse *b)
{
    uint32_t i = 0, j = 0;
    float s = 0;

    while (i < a->n && j < b->n) {
        if (a->idx[i] == b->idx[j]) {
            s += a->val[i++] * b->val[j++];
        } else if (a->idx[i] < b->idx[j]) {
            i++;
        } else {
            j++;
        }
    }
    return s;
}

struct cluster {
    uint32_t *m; /* candidate indices */
    uint32_t n;
    bool alive;
    uint8_t group; /* the first built-in aspect among its members, or 0 */
};

/* The first alive b > a with the largest sim[a][b], or UINT32_MAX. */
static void row_best(const float *sim, const struct cluster *cl, uint32_t n, uint32_t a,
                     uint32_t *rbest)
{
    const float *row = sim + (size_t)a * n;
    uint32_t best = UINT32_MAX;

    for (uint32_t b = a + 1; b < n; b++) {
        if (cl[b].alive && (best == UINT32_MAX || row[b] > row[best])) {
            best = b;
        }
    }
    rbest[a] = best;
}

/*
 * A cluster is a theme only if it hangs together: its members' contexts are
 * alike on average (clusters of unrelated chatter words merge at the
 * threshold but stay loose), or, for a single word, it is frequent.
 */
/* Does the cluster hold a word of a built-in aspect group? */
static bool cl_grouped(const struct ins_vocab *v, const struct cluster *c, const uint32_t *cand)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < c->n; i++) {
        n += v->stems[cand[c->m[i]]].group != 0;
    }
    return n >= 1;
}

static double cohesion(const struct cluster *c, const struct sparse *vec)
{
    double tot = 0;
    uint32_t np = 0;

    for (uint32_t x = 0; x < c->n; x++) {
        for (uint32_t y = x + 1; y < c->n; y++) {
            tot += sparse_dot(&vec[c->m[x]], &vec[c->m[y]]);
            np++;
        }
    }
    return np ? tot / np : 1.0;
}

static bool coherent(const struct cluster *c, const struct sparse *vec, const uint32_t *sdf,
                     const uint32_t *cand, uint32_t cov, uint32_t nrec, bool grouped)
{
    CV_UNUSED(cov);
    if (grouped) {
        return true; /* an aspect: its words belong together by the list */
    }
    if (c->n == 1) {
        uint32_t df = sdf[cand[c->m[0]]];
        return df >= 0.03 * nrec && df <= 0.2 * nrec;
    }
    return cohesion(c, vec) >= COHESION_MIN;
}

/*
 * A theme that no sampled record would get (its words always come with a
 * stronger theme's: "price" outweighs "reasonable") would show with no
 * mentions: it is dropped, and the weights renumbered.
 */
/* Renumbers the themes of a stem -> (theme, weight) CSR, dropping those mapped to UINT32_MAX. */
static void remap_csr(uint32_t *start, uint32_t *theme, float *val, uint32_t nstems,
                      const uint32_t *map, uint32_t nt)
{
    uint32_t nw = 0;

    for (uint32_t st = 0; st < nstems; st++) {
        uint32_t b = start[st], e = start[st + 1];
        start[st] = nw;
        for (uint32_t w = b; w < e; w++) {
            if (theme[w] < nt && map[theme[w]] != UINT32_MAX) {
                theme[nw] = map[theme[w]];
                val[nw++] = val[w];
            }
        }
    }
    start[nstems] = nw;
}

/* One CSR of weights as dense rows of m->stride floats (struct ins_model: rowof, rows). */
static cv_err csr_rows(const struct ins_model *m, const uint32_t *start, const uint32_t *theme,
                       const float *val, uint32_t **rowof_out, float **rows_out)
{
    uint32_t nt = (uint32_t)CV_MIN(m->nthemes, 64), nrows = 0;
    uint32_t *rowof = cv_malloc((size_t)m->nstems * sizeof(uint32_t) + 1);
    float *rows;

    if (!rowof) {
        return CV_ENOMEM;
    }
    nrows = 1; /* row 0: zeros, for the stems without weights */
    for (uint32_t st = 0; st < m->nstems; st++) {
        rowof[st] = start[st] < start[st + 1] ? nrows++ : 0;
    }
    rows = cv_calloc((size_t)nrows * m->stride, sizeof(float));
    if (!rows) {
        cv_free(rowof);
        return CV_ENOMEM;
    }
    for (uint32_t st = 0; st < m->nstems; st++) {
        float *row = rows + (size_t)rowof[st] * m->stride;
        for (uint32_t w = start[st]; w < start[st + 1]; w++) { /* none for row 0 */
            if (theme[w] < nt) {
                row[theme[w]] = val[w]; /* at most one weight per theme and stem */
            }
        }
    }
    *rowof_out = rowof;
    *rows_out = rows;
    return CV_OK;
}

/* Both CSRs as dense rows (again after themes were dropped). */
cv_err ins_model_dense_rows(struct ins_model *m)
{
    cv_err err;

    cv_free(m->rowof);
    cv_free(m->rows);
    cv_free(m->xrowof);
    cv_free(m->xrows);
    m->rowof = m->xrowof = NULL;
    m->rows = m->xrows = NULL;
    if (m->nthemes == 0) {
        return CV_OK;
    }
    m->stride = ((uint32_t)CV_MIN(m->nthemes, 64) + 3) & ~3u;
    err = csr_rows(m, m->wstart, m->wtheme, m->wval, &m->rowof, &m->rows);
    if (!err) {
        err = csr_rows(m, m->xstart, m->xtheme, m->xval, &m->xrowof, &m->xrows);
    }
    return err;
}

static void drop_idle_themes(struct ins_model *m, const struct ins_sample *s)
{
    uint32_t wins[64] = {0}, map[64], out[4], nt = (uint32_t)CV_MIN(m->nthemes, 64), k = 0;
    float score;

    for (size_t r = 0; r < s->nrecs; r++) {
        size_t n = ins_model_assign(m, s->ids + s->recs[r], s->recs[r + 1] - s->recs[r], out, 4,
                                    &score);
        for (size_t j = 0; j < n; j++) {
            wins[out[j]]++;
        }
    }
    for (uint32_t t = 0; t < nt; t++) {
        map[t] = wins[t] ? k++ : UINT32_MAX;
    }
    if (k == nt) {
        return;
    }
    for (uint32_t t = 0; t < nt; t++) {
        if (map[t] == UINT32_MAX) {
            cv_free(m->themes[t].members);
        } else {
            m->themes[map[t]] = m->themes[t];
        }
    }
    m->nthemes = k;
    remap_csr(m->wstart, m->wtheme, m->wval, m->nstems, map, nt);
    remap_csr(m->xstart, m->xtheme, m->xval, m->nstems, map, nt);
}

cv_err ins_model_build(struct ins_model *m, struct ins_vocab *v, const struct ins_sample *s,
                       uint64_t nrecords, unsigned max_themes)
{
    uint32_t ns = v->nstems, nrec = (uint32_t)s->nrecs;
    uint32_t *sdf = NULL, *order = NULL, *cand = NULL, *feat = NULL;
    int32_t *cidx = NULL, *fidx = NULL;
    uint32_t ncand = 0, nfeat = 0;
    uint32_t *co = NULL;
    struct sparse *vec = NULL;
    float *sim = NULL, *dense = NULL;
    struct cluster *cl = NULL;
    uint32_t *cov = NULL, *stamp = NULL, *rank = NULL, *rbest = NULL;
    float *lift = NULL;
    uint32_t *tcount = NULL;
    cv_err err = CV_ENOMEM;

    CV_UNUSED(nrecords);
    memset(m, 0, sizeof(*m));
    m->nstems = ns;
    m->threshold = ASSIGN_THRESHOLD;
    m->wstart = cv_calloc((size_t)ns + 1, sizeof(uint32_t));
    m->xstart = cv_calloc((size_t)ns + 1, sizeof(uint32_t));
    if (!m->wstart || !m->xstart) {
        goto out;
    }
    if (nrec == 0 || ns == 0 || max_themes == 0) {
        err = CV_OK;
        goto out;
    }

    /* Document frequencies in the sample. */
    sdf = cv_calloc(ns, sizeof(uint32_t));
    order = cv_malloc((size_t)ns * sizeof(uint32_t));
    cidx = cv_malloc((size_t)ns * sizeof(int32_t));
    fidx = cv_malloc((size_t)ns * sizeof(int32_t));
    if (!sdf || !order || !cidx || !fidx) {
        goto out;
    }
    for (size_t i = 0; i < s->nids; i++) {
        sdf[s->ids[i] & ~INS_STEM_MOD]++;
    }
    for (uint32_t i = 0; i < ns; i++) {
        v->stems[i].sdf = sdf[i];
    }
    for (uint32_t i = 0; i < ns; i++) {
        order[i] = i;
        cidx[i] = fidx[i] = -1;
    }
    sort_vocab = v;
    sort_df = sdf;
    qsort(order, ns, sizeof(uint32_t), cmp_by_df);

    /* Candidates and features. */
    uint32_t min_df = (uint32_t)CV_MAX(3.0, ceil(0.004 * nrec));
    cand = cv_malloc(MAX_CANDIDATES * sizeof(uint32_t));
    feat = cv_malloc(MAX_FEATURES * sizeof(uint32_t));
    if (!cand || !feat) {
        goto out;
    }
    for (uint32_t k = 0; k < ns; k++) {
        uint32_t st = order[k];
        if (sdf[st] == 0) {
            break;
        }
        if (sdf[st] < 2 && !v->stems[st].group) {
            continue; /* once: only an aspect word is a candidate */
        }
        if (nfeat < MAX_FEATURES && sdf[st] >= 2) {
            fidx[st] = (int32_t)nfeat;
            feat[nfeat++] = st;
        }
        bool grouped = v->stems[st].group != 0;
        /* Every word of an aspect group counts for its theme, however rare. */
        if (ncand < MAX_CANDIDATES && v->stems[st].kind == INS_STEM_CONTENT &&
            (sdf[st] >= min_df || (grouped && sdf[st] >= 1))) {
            cidx[st] = (int32_t)ncand;
            cand[ncand++] = st;
        }
    }
    if (ncand == 0) {
        err = CV_OK;
        goto out;
    }

    /* Co-occurrence of candidates with features, within records. */
    co = cv_calloc((size_t)ncand * nfeat, sizeof(uint32_t));
    if (!co) {
        goto out;
    }
    for (uint32_t r = 0; r < nrec; r++) {
        const uint32_t *ids = s->ids + s->recs[r];
        uint32_t n = s->recs[r + 1] - s->recs[r];
        /*
         * The record's features (position, index) and candidates, looked up
         * once (a record has at most 64 stems).
         */
        uint32_t fpos[64], fno[64], rc[64];
        uint32_t nf = 0, nc = 0;
        for (uint32_t a = 0; a < n && a < 64; a++) {
            uint32_t st = ids[a] & ~INS_STEM_MOD;
            if (fidx[st] >= 0) {
                fpos[nf] = a;
                fno[nf++] = (uint32_t)fidx[st];
            }
            if (cidx[st] >= 0) {
                rc[nc++] = a << 16 | (uint32_t)cidx[st];
            }
        }
        if (nf == 0 || nc == 0) {
            continue;
        }
        if (n > 64) { /* not from ins_sample_add (RECORD_MAX_STEMS): the plain way */
            for (uint32_t a = 0; a < n; a++) {
                int32_t c = cidx[ids[a] & ~INS_STEM_MOD];
                if (c < 0) {
                    continue;
                }
                uint32_t *row = co + (size_t)c * nfeat;
                for (uint32_t b = 0; b < n; b++) {
                    int32_t f = fidx[ids[b] & ~INS_STEM_MOD];
                    if (b != a && f >= 0) {
                        row[f]++;
                    }
                }
            }
            continue;
        }
        for (uint32_t j = 0; j < nc; j++) {
            uint32_t a = rc[j] >> 16;
            uint32_t *row = co + (size_t)(rc[j] & 0xFFFF) * nfeat;
            for (uint32_t k = 0; k < nf; k++) {
                row[fno[k]] += fpos[k] != a; /* not with itself */
            }
        }
    }

    /* PPMI context vectors, L2-normalised. */
    vec = cv_calloc(ncand, sizeof(*vec));
    if (!vec) {
        goto out;
    }
    for (uint32_t c = 0; c < ncand; c++) {
        const uint32_t *row = co + (size_t)c * nfeat;
        uint32_t nnz = 0;
        double norm = 0;
        for (uint32_t f = 0; f < nfeat; f++) {
            nnz += row[f] >= 2;
        }
        if (nnz < VEC_MIN_FEATURES) {
            nnz = 0; /* too thin a context to compare: no likeness */
        }
        vec[c].idx = cv_malloc((nnz ? nnz : 1) * sizeof(uint32_t));
        vec[c].val = cv_malloc((nnz ? nnz : 1) * sizeof(float));
        if (!vec[c].idx || !vec[c].val) {
            goto out;
        }
        for (uint32_t f = 0; nnz > 0 && f < nfeat; f++) {
            if (row[f] < 2 || feat[f] == cand[c]) {
                continue;
            }
            /* Shifted PPMI: only associations well above chance count. */
            double pmi = log((double)row[f] * nrec / ((double)sdf[cand[c]] * sdf[feat[f]])) -
                         PMI_SHIFT;
            if (pmi <= 0) {
                continue;
            }
            vec[c].idx[vec[c].n] = f;
            vec[c].val[vec[c].n] = (float)pmi;
            vec[c].n++;
            norm += pmi * pmi;
        }
        norm = sqrt(norm);
        for (uint32_t k = 0; norm > 0 && k < vec[c].n; k++) {
            vec[c].val[k] = (float)(vec[c].val[k] / norm);
        }
    }

    /*
     * Pairwise similarity. Dot products through an inverted index (feature ->
     * the candidates with it, in order): only the features two vectors share
     * are multiplied. Both walks add a pair's products in increasing feature
     * order and the products of unshared features are +0 (values are > 0),
     * so the sums are the same floats as walking one vector against the other.
     */
    sim = cv_malloc((size_t)ncand * ncand * sizeof(float));
    cl = cv_calloc(ncand, sizeof(*cl));
    dense = cv_calloc(ncand, sizeof(float));
    uint32_t *pstart = cv_calloc((size_t)nfeat + 1, sizeof(uint32_t));
    uint32_t *pnext = cv_malloc(((size_t)nfeat + 1) * sizeof(uint32_t));
    uint32_t npost = 0;
    for (uint32_t c = 0; c < ncand; c++) {
        npost += vec[c].n;
    }
    uint32_t *pcand = cv_malloc((npost ? npost : 1) * sizeof(uint32_t));
    float *pval = cv_malloc((npost ? npost : 1) * sizeof(float));
    if (!sim || !cl || !dense || !pstart || !pnext || !pcand || !pval) {
        cv_free(pstart);
        cv_free(pnext);
        cv_free(pcand);
        cv_free(pval);
        goto out;
    }
    for (uint32_t c = 0; c < ncand; c++) {
        for (uint32_t k = 0; k < vec[c].n; k++) {
            pstart[vec[c].idx[k] + 1]++;
        }
    }
    for (uint32_t f = 0; f < nfeat; f++) {
        pstart[f + 1] += pstart[f];
    }
    memcpy(pnext, pstart, ((size_t)nfeat + 1) * sizeof(uint32_t));
    for (uint32_t c = 0; c < ncand; c++) {
        for (uint32_t k = 0; k < vec[c].n; k++) {
            uint32_t at = pnext[vec[c].idx[k]]++;
            pcand[at] = c;
            pval[at] = vec[c].val[k];
        }
    }
    memcpy(pnext, pstart, ((size_t)nfeat + 1) * sizeof(uint32_t)); /* first entry with c > a */
    for (uint32_t a = 0; a < ncand; a++) {
        uint8_t ga = v->stems[cand[a]].group;
        sim[(size_t)a * ncand + a] = 1;
        for (uint32_t b = a + 1; b < ncand; b++) {
            dense[b] = 0;
        }
        for (uint32_t k = 0; k < vec[a].n; k++) {
            uint32_t f = vec[a].idx[k];
            float va = vec[a].val[k];
            uint32_t e = pstart[f + 1], i = pnext[f];
            while (i < e && pcand[i] <= a) {
                i++;
            }
            pnext[f] = i;
            for (; i < e; i++) {
                dense[pcand[i]] += va * pval[i];
            }
        }
        for (uint32_t b = a + 1; b < ncand; b++) {
            uint8_t gb = v->stems[cand[b]].group;
            float x;
            if (ga && ga == gb) {
                x = 1.0f;
            } else if (ga && gb) {
                x = 0.0f; /* different built-in aspects stay apart */
            } else {
                x = dense[b];
                /* The contexts of rare words are thin: trust their likeness less. */
                double mdf = CV_MIN(sdf[cand[a]], sdf[cand[b]]);
                x = (float)(x * (mdf / (mdf + SIM_SHRINK)));
            }
            sim[(size_t)a * ncand + b] = sim[(size_t)b * ncand + a] = x;
        }
    }
    cv_free(pstart);
    cv_free(pnext);
    cv_free(pcand);
    cv_free(pval);
    for (uint32_t a = 0; a < ncand; a++) {
        cl[a].m = cv_malloc(ncand * sizeof(uint32_t));
        if (!cl[a].m) {
            goto out;
        }
        cl[a].m[0] = a;
        cl[a].n = 1;
        cl[a].alive = true;
        cl[a].group = v->stems[cand[a]].group;
    }

    /*
     * Average-linkage agglomeration (Lance-Williams update of sim). Each row
     * keeps its best partner (the first b > a with the row's largest
     * similarity), so a merge costs O(n) instead of a scan of the matrix;
     * the pair chosen is the one a full scan would choose (largest
     * similarity, then smallest a, then smallest b).
     */
    rbest = cv_malloc((size_t)ncand * sizeof(uint32_t));
    if (!rbest) {
        goto out;
    }
    for (uint32_t a = 0; a < ncand; a++) {
        row_best(sim, cl, ncand, a, rbest);
    }
    for (;;) {
        float best = CLUSTER_SIM;
        uint32_t ba = UINT32_MAX, bb = UINT32_MAX;
        for (uint32_t a = 0; a < ncand; a++) {
            if (cl[a].alive && rbest[a] != UINT32_MAX && sim[(size_t)a * ncand + rbest[a]] > best) {
                best = sim[(size_t)a * ncand + rbest[a]];
                ba = a;
                bb = rbest[a];
            }
        }
        if (ba == UINT32_MAX) {
            break;
        }
        float wa = (float)cl[ba].n, wb = (float)cl[bb].n;
        uint8_t g1 = cl[ba].group ? cl[ba].group : cl[bb].group;
        for (uint32_t k = 0; k < ncand; k++) {
            if (!cl[k].alive || k == ba || k == bb) {
                continue;
            }
            float x = sim[(size_t)ba * ncand + k], y = sim[(size_t)bb * ncand + k];
            float z = (wa * x + wb * y) / (wa + wb);
            /* A built-in group never merges with another group. */
            if ((x == 0.0f || y == 0.0f) && g1 && cl[k].group && g1 != cl[k].group) {
                z = 0.0f;
            }
            sim[(size_t)ba * ncand + k] = sim[(size_t)k * ncand + ba] = z;
        }
        memcpy(cl[ba].m + cl[ba].n, cl[bb].m, cl[bb].n * sizeof(uint32_t));
        cl[ba].n += cl[bb].n;
        cl[ba].group = g1;
        cl[bb].alive = false;
        /* Rows whose best partner changed or died, and rows that may prefer ba now. */
        for (uint32_t a = 0; a < ncand; a++) {
            if (!cl[a].alive) {
                continue;
            }
            if (a == ba || rbest[a] == ba || rbest[a] == bb) {
                row_best(sim, cl, ncand, a, rbest);
            } else if (a < ba) {
                float z = sim[(size_t)a * ncand + ba];
                float cur = rbest[a] == UINT32_MAX ? -1e30f : sim[(size_t)a * ncand + rbest[a]];
                if (z > cur || (z == cur && ba < rbest[a])) {
                    rbest[a] = ba;
                }
            }
        }
    }

    /* Coverage of every cluster in the sample. */
    cov = cv_calloc(ncand, sizeof(uint32_t));
    stamp = cv_calloc(ncand, sizeof(uint32_t));
    rank = cv_malloc(ncand * sizeof(uint32_t));
    int32_t *owner = cv_malloc((size_t)ncand * sizeof(int32_t));
    if (!cov || !stamp || !rank || !owner) {
        cv_free(owner);
        goto out;
    }
    for (uint32_t a = 0; a < ncand; a++) {
        for (uint32_t i = 0; cl[a].alive && i < cl[a].n; i++) {
            owner[cl[a].m[i]] = (int32_t)a;
        }
    }
    for (uint32_t r = 0; r < nrec; r++) {
        for (uint32_t k = s->recs[r]; k < s->recs[r + 1]; k++) {
            int32_t c = cidx[s->ids[k] & ~INS_STEM_MOD];
            if (c < 0) {
                continue;
            }
            uint32_t o = (uint32_t)owner[c];
            if (stamp[o] != r + 1) {
                stamp[o] = r + 1;
                cov[o]++;
            }
        }
    }
    cv_free(owner);
    uint32_t nalive = 0;
    uint32_t min_cov = (uint32_t)CV_MAX(3.0, ceil(0.01 * nrec));
    uint32_t min_cov_derived = (uint32_t)CV_MAX(3.0, ceil(DERIVED_COVERAGE * nrec));
    for (uint32_t a = 0; a < ncand; a++) {
        if (!cl[a].alive) {
            continue;
        }
        bool grouped = cl_grouped(v, &cl[a], cand);
        if (cov[a] >= (grouped ? min_cov : min_cov_derived) &&
            coherent(&cl[a], vec, sdf, cand, cov[a], nrec, grouped)) {
            rank[nalive++] = a;
        }
    }
    /* Most records first; ties by the first member's bytes (deterministic). */
    for (uint32_t i = 1; i < nalive; i++) {
        for (uint32_t j = i; j > 0; j--) {
            uint32_t x = rank[j - 1], y = rank[j];
            bool swap = cov[y] > cov[x] ||
                        (cov[y] == cov[x] &&
                         strcmp(v->stems[cand[cl[y].m[0]]].key, v->stems[cand[cl[x].m[0]]].key) < 0);
            if (!swap) {
                break;
            }
            rank[j - 1] = y;
            rank[j] = x;
        }
    }
    if (nalive > max_themes) {
        nalive = max_themes;
    }

    /* Themes: members sorted by document frequency. */
    m->themes = cv_calloc(nalive ? nalive : 1, sizeof(*m->themes));
    if (!m->themes) {
        goto out;
    }
    for (uint32_t t = 0; t < nalive; t++) {
        struct cluster *c = &cl[rank[t]];
        struct ins_theme *th = &m->themes[t];
        th->members = cv_malloc(c->n * sizeof(uint32_t));
        if (!th->members) {
            goto out;
        }
        for (uint32_t i = 0; i < c->n; i++) {
            th->members[i] = cand[c->m[i]];
        }
        qsort(th->members, c->n, sizeof(uint32_t), cmp_by_df);
        th->nmembers = c->n;
        th->head = th->members[0];
        /*
         * A word of a built-in aspect group names the theme before a more
         * frequent descriptor, unless it is a minor member (half as frequent).
         */
        for (uint32_t i = 0; i < c->n; i++) {
            if (v->stems[th->members[i]].group) {
                if (sdf[th->members[i]] * 2 >= sdf[th->members[0]]) {
                    th->head = th->members[i];
                }
                break;
            }
        }
        th->df = cov[rank[t]];
        th->cohesion = (float)cohesion(c, vec);
        m->nthemes++;
    }

    /* Profiles: lift of each feature among the records that mention a theme. */
    uint32_t nt = (uint32_t)m->nthemes;
    if (nt == 0) {
        err = CV_OK;
        goto out;
    }
    int32_t *mtheme = cv_malloc((size_t)ns * sizeof(int32_t));
    tcount = cv_calloc((size_t)nt * nfeat, sizeof(uint32_t));
    uint32_t *tdf = cv_calloc(nt, sizeof(uint32_t));
    uint32_t *rt = cv_malloc(nt * sizeof(uint32_t));
    if (!mtheme || !tcount || !tdf || !rt) {
        cv_free(mtheme);
        cv_free(tdf);
        cv_free(rt);
        goto out;
    }
    for (uint32_t i = 0; i < ns; i++) {
        mtheme[i] = -1;
    }
    for (uint32_t t = 0; t < nt; t++) {
        for (size_t i = 0; i < m->themes[t].nmembers; i++) {
            mtheme[m->themes[t].members[i]] = (int32_t)t;
        }
    }
    for (uint32_t r = 0; r < nrec; r++) {
        uint32_t nrt = 0;
        for (uint32_t k = s->recs[r]; k < s->recs[r + 1]; k++) {
            int32_t t = mtheme[s->ids[k] & ~INS_STEM_MOD];
            bool dup = false;
            for (uint32_t q = 0; q < nrt && t >= 0; q++) {
                dup |= rt[q] == (uint32_t)t;
            }
            if (t >= 0 && !dup) {
                rt[nrt++] = (uint32_t)t;
            }
        }
        for (uint32_t q = 0; q < nrt; q++) {
            tdf[rt[q]]++;
            for (uint32_t k = s->recs[r]; k < s->recs[r + 1]; k++) {
                int32_t f = fidx[s->ids[k] & ~INS_STEM_MOD];
                if (f >= 0) {
                    tcount[(size_t)rt[q] * nfeat + (uint32_t)f]++;
                }
            }
        }
    }
    /* CSR of weights by stem: members first, then lifted features. */
    lift = cv_malloc((size_t)nt * nfeat * sizeof(float));
    if (!lift) {
        cv_free(mtheme);
        cv_free(tdf);
        cv_free(rt);
        goto out;
    }
    size_t nw = 0, nx = 0;
    for (uint32_t t = 0; t < nt; t++) {
        for (uint32_t f = 0; f < nfeat; f++) {
            uint32_t c = tcount[(size_t)t * nfeat + f];
            float w = 0;
            if (mtheme[feat[f]] < 0 && c >= PROFILE_MIN && tdf[t] > 0) {
                double p_ft = (double)c / tdf[t];
                double p_f = (double)sdf[feat[f]] / nrec;
                double l = log(p_ft / p_f);
                /* Shrink towards zero for thin evidence. */
                l *= (double)c / (c + 5.0);
                if (l > 0.5) {
                    w = (float)l;
                }
            }
            if (w == 0 && mtheme[feat[f]] < 0 && c >= WEAK_PROFILE_MIN && tdf[t] > 0) {
                double l = log(((double)c / tdf[t]) / ((double)sdf[feat[f]] / nrec));
                l *= (double)c / (c + WEAK_SHRINK);
                if (l > WEAK_LIFT_MIN) {
                    w = -(float)l; /* negative: a weak weight */
                }
            }
            lift[(size_t)t * nfeat + f] = w;
            nw += w > 0;
            nx += w < 0;
        }
    }
    /* A word of an aspect group that has a theme names that theme, sampled or not. */
    int32_t gtheme[256];
    for (unsigned g = 0; g < 256; g++) {
        gtheme[g] = -1;
    }
    for (uint32_t t = 0; t < nt; t++) {
        for (size_t i = 0; i < m->themes[t].nmembers; i++) {
            uint8_t g = v->stems[m->themes[t].members[i]].group;
            if (g && gtheme[g] < 0) {
                gtheme[g] = (int32_t)t;
            }
        }
    }
    for (uint32_t i = 0; i < ns; i++) {
        if (mtheme[i] < 0 && v->stems[i].group && gtheme[v->stems[i].group] >= 0) {
            mtheme[i] = gtheme[v->stems[i].group];
        }
        nw += mtheme[i] >= 0;
    }
    m->wtheme = cv_malloc((nw ? nw : 1) * sizeof(uint32_t));
    m->wval = cv_malloc((nw ? nw : 1) * sizeof(float));
    m->xtheme = cv_malloc((nx ? nx : 1) * sizeof(uint32_t));
    m->xval = cv_malloc((nx ? nx : 1) * sizeof(float));
    if (!m->wtheme || !m->wval || !m->xtheme || !m->xval) {
        cv_free(mtheme);
        cv_free(tdf);
        cv_free(rt);
        goto out;
    }
    nw = 0;
    nx = 0;
    for (uint32_t i = 0; i < ns; i++) {
        m->wstart[i] = (uint32_t)nw;
        m->xstart[i] = (uint32_t)nx;
        if (mtheme[i] >= 0) {
            m->wtheme[nw] = (uint32_t)mtheme[i];
            m->wval[nw++] = ins_group_is_attribute(v->stems[i].group) ? ATTRIBUTE_WEIGHT
                                                                       : MEMBER_WEIGHT;
            continue;
        }
        int32_t f = fidx[i];
        for (uint32_t t = 0; f >= 0 && t < nt; t++) {
            float w = lift[(size_t)t * nfeat + (uint32_t)f];
            if (w > 0) {
                m->wtheme[nw] = t;
                m->wval[nw++] = w;
            } else if (w < 0) {
                m->xtheme[nx] = t;
                m->xval[nx++] = -w;
            }
        }
    }
    m->wstart[ns] = (uint32_t)nw;
    m->xstart[ns] = (uint32_t)nx;
    cv_free(mtheme);
    cv_free(tdf);
    cv_free(rt);
    err = ins_model_dense_rows(m);
    if (!err) {
        drop_idle_themes(m, s);
        err = ins_model_dense_rows(m);
    }
out:
    if (err) {
        ins_model_release(m);
    }
    for (uint32_t c = 0; vec && c < ncand; c++) {
        cv_free(vec[c].idx);
        cv_free(vec[c].val);
    }
    for (uint32_t c = 0; cl && c < ncand; c++) {
        cv_free(cl[c].m);
    }
    cv_free(vec);
    cv_free(cl);
    cv_free(sim);
    cv_free(dense);
    cv_free(co);
    cv_free(sdf);
    cv_free(order);
    cv_free(cidx);
    cv_free(fidx);
    cv_free(cand);
    cv_free(feat);
    cv_free(cov);
    cv_free(stamp);
    cv_free(rank);
    cv_free(rbest);
    cv_free(lift);
    cv_free(tcount);
    return err;
}

/*
 * acc[t] += f * weight for every stem's dense row, four themes at a time (a
 * zero weight adds nothing: the same floats as walking the list).
 */
typedef float ins_v4f __attribute__((vector_size(16)));

/* dense_add's loop for @p nv four-theme groups; a constant nv keeps the sums in registers. */
static inline __attribute__((always_inline)) void
dense_add_n(const struct ins_model *m, const uint32_t *rowof, const float *rows,
            const uint32_t *stems, size_t n, float *acc, uint32_t nv)
{
    ins_v4f vacc[16];

    for (uint32_t q = 0; q < nv; q++) {
        memcpy(&vacc[q], acc + 4 * q, sizeof(ins_v4f));
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t st = stems[i] & ~INS_STEM_MOD;
        if (st >= m->nstems) {
            continue;
        }
        /* A stem without weights reads row 0, all zeros: no branch on it. */
        float f = 1.0f - (1.0f - MODIFIER_SHARE) * (float)(stems[i] >> 31);
        ins_v4f vf = {f, f, f, f};
        const float *row = rows + (size_t)rowof[st] * m->stride;
        for (uint32_t q = 0; q < nv; q++) {
            ins_v4f r;
            memcpy(&r, row + 4 * q, sizeof(r));
            vacc[q] += vf * r;
        }
    }
    for (uint32_t q = 0; q < nv; q++) {
        memcpy(acc + 4 * q, &vacc[q], sizeof(ins_v4f));
    }
}

/*
 * acc[t] += f * weight for every stem's dense row, four themes at a time (a
 * zero weight adds nothing: the same floats as walking the list). Up to 16
 * themes (the default is 12) the group count is a constant of the loop.
 */
static void dense_add(const struct ins_model *m, const uint32_t *rowof, const float *rows,
                      const uint32_t *stems, size_t n, float *acc)
{
    switch (m->stride / 4) {
    case 1:
        dense_add_n(m, rowof, rows, stems, n, acc, 1);
        break;
    case 2:
        dense_add_n(m, rowof, rows, stems, n, acc, 2);
        break;
    case 3:
        dense_add_n(m, rowof, rows, stems, n, acc, 3);
        break;
    case 4:
        dense_add_n(m, rowof, rows, stems, n, acc, 4);
        break;
    default:
        dense_add_n(m, rowof, rows, stems, n, acc, m->stride / 4);
        break;
    }
}

size_t ins_model_assign(const struct ins_model *m, const uint32_t *stems, size_t n, uint32_t *out,
                        size_t max, float *score)
{
    float acc[64];
    uint32_t nt = (uint32_t)CV_MIN(m->nthemes, 64);
    size_t k = 0;

    *score = 0;
    if (nt == 0 || max == 0) {
        return 0;
    }
    memset(acc, 0, (m->rows ? m->stride : nt) * sizeof(float)); /* the dense rows' padding too */
    if (m->rows) {
        dense_add(m, m->rowof, m->rows, stems, n, acc);
    } else {
        for (size_t i = 0; i < n; i++) {
            uint32_t st = stems[i] & ~INS_STEM_MOD;
            float f = (stems[i] & INS_STEM_MOD) ? MODIFIER_SHARE : 1.0f;
            if (st >= m->nstems) {
                continue;
            }
            for (uint32_t w = m->wstart[st]; w < m->wstart[st + 1]; w++) {
                if (m->wtheme[w] < nt) {
                    acc[m->wtheme[w]] += f * m->wval[w];
                }
            }
        }
    }
    /* Best first; ties by theme order. */
    uint32_t best = 0;
    for (uint32_t t = 1; t < nt; t++) {
        if (acc[t] > acc[best]) {
            best = t;
        }
    }
    if (acc[best] < m->threshold) {
        /* The second pass: the strong and the weak evidence together, one theme. */
        if (m->xrows) {
            dense_add(m, m->xrowof, m->xrows, stems, n, acc);
        }
        for (size_t i = 0; !m->xrows && i < n; i++) {
            uint32_t st = stems[i] & ~INS_STEM_MOD;
            float f = (stems[i] & INS_STEM_MOD) ? MODIFIER_SHARE : 1.0f;
            if (st >= m->nstems) {
                continue;
            }
            for (uint32_t w = m->xstart[st]; w < m->xstart[st + 1]; w++) {
                if (m->xtheme[w] < nt) {
                    acc[m->xtheme[w]] += f * m->xval[w];
                }
            }
        }
        best = 0;
        for (uint32_t t = 1; t < nt; t++) {
            if (acc[t] > acc[best]) {
                best = t;
            }
        }
        if (acc[best] < WEAK_THRESHOLD) {
            return 0;
        }
        *score = acc[best];
        out[k++] = best;
        return k;
    }
    *score = acc[best];
    out[k++] = best;
    /*
     * Other themes the record names explicitly, in theme order: a bit mask
     * first (the same comparisons, without a branch per theme; most records
     * have none).
     */
    float second = SECOND_SHARE * acc[best];
    uint64_t more = 0;
    for (uint32_t t = 0; t < nt; t++) {
        more |= (uint64_t)(acc[t] >= MEMBER_WEIGHT && acc[t] >= second) << t;
    }
    more &= ~((uint64_t)1 << best);
    while (more && k < max) {
        out[k++] = (uint32_t)__builtin_ctzll(more);
        more &= more - 1;
    }
    return k;
}
