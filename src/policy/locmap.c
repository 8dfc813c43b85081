/*
 * Where each element of a JSON document sits (line:column), keyed by the
 * same paths the checker and the simulator print ("Statement[0].Action[1]").
 * Meant for text jansson has accepted; on other text it still terminates
 * (every loop makes progress) but the positions mean little.
 */
#include "policy/policy_int.h"

#include <string.h>

struct loc {
    char *path;
    unsigned line, col, eline, ecol;
};

struct policy_locmap {
    struct loc *v;
    size_t n, cap;
};

struct scan {
    const char *s;
    size_t len, i;
    unsigned line, col;
    struct policy_locmap *m;
    struct cv_buf path;
    cv_err err;
    int depth;
};

#define LOC_MAX_DEPTH 256

static void adv(struct scan *sc)
{
    unsigned char c = (unsigned char)sc->s[sc->i];

    if (c == '\n') {
        sc->line++;
        sc->col = 1;
    } else if ((c & 0xC0) != 0x80) {
        sc->col++;
    }
    sc->i++;
}

static void ws(struct scan *sc)
{
    while (sc->i < sc->len && (sc->s[sc->i] == ' ' || sc->s[sc->i] == '\t' ||
                               sc->s[sc->i] == '\n' || sc->s[sc->i] == '\r')) {
        adv(sc);
    }
}

static void skip_string(struct scan *sc)
{
    adv(sc); /* opening quote */
    while (sc->i < sc->len && sc->s[sc->i] != '"') {
        if (sc->s[sc->i] == '\\' && sc->i + 1 < sc->len) {
            adv(sc);
        }
        adv(sc);
    }
    if (sc->i < sc->len) {
        adv(sc);
    }
}

static size_t add_loc(struct scan *sc, unsigned line, unsigned col)
{
    struct policy_locmap *m = sc->m;

    if (sc->err) {
        return SIZE_MAX;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 32;
        struct loc *v = cv_realloc(m->v, cap * sizeof(*v));
        if (!v) {
            sc->err = CV_ENOMEM;
            return SIZE_MAX;
        }
        m->v = v;
        m->cap = cap;
    }
    m->v[m->n].path = cv_strndup(sc->path.ptr ? sc->path.ptr : "", sc->path.len);
    if (!m->v[m->n].path) {
        sc->err = CV_ENOMEM;
        return SIZE_MAX;
    }
    m->v[m->n].line = line;
    m->v[m->n].col = col;
    m->v[m->n].eline = line;
    m->v[m->n].ecol = col;
    return m->n++;
}

static void set_end(struct scan *sc, size_t idx)
{
    if (idx != SIZE_MAX && idx < sc->m->n) {
        sc->m->v[idx].eline = sc->line;
        sc->m->v[idx].ecol = sc->col;
    }
}

static void value(struct scan *sc);

static void push(struct scan *sc, const char *fmt_key, const char *p, size_t n, size_t idx)
{
    cv_err err = CV_OK;

    if (fmt_key) {
        if (sc->path.len) {
            err = cv_buf_addc(&sc->path, '.');
        }
        if (!err) {
            err = cv_buf_add(&sc->path, p, n);
        }
    } else {
        err = cv_buf_addf(&sc->path, "[%zu]", idx);
    }
    if (err && !sc->err) {
        sc->err = err;
    }
}

static void object(struct scan *sc)
{
    size_t base = sc->path.len;

    adv(sc); /* { */
    ws(sc);
    while (sc->i < sc->len && sc->s[sc->i] != '}' && !sc->err) {
        size_t before = sc->i;
        unsigned kl = sc->line, kc = sc->col;
        size_t ks = sc->i + 1, idx;
        skip_string(sc);
        size_t ke = sc->i - 1;
        push(sc, "", sc->s + ks, ke > ks ? ke - ks : 0, 0);
        idx = add_loc(sc, kl, kc);
        ws(sc);
        if (sc->i < sc->len && sc->s[sc->i] == ':') {
            adv(sc);
        }
        ws(sc);
        value(sc);
        set_end(sc, idx);
        if (sc->path.ptr) {
            cv_buf_setlen(&sc->path, base);
        }
        ws(sc);
        if (sc->i < sc->len && sc->s[sc->i] == ',') {
            adv(sc);
            ws(sc);
        }
        if (sc->i == before && sc->i < sc->len) {
            adv(sc); /* not JSON: make progress anyway */
        }
    }
    if (sc->i < sc->len) {
        adv(sc);
    }
}

static void array(struct scan *sc)
{
    size_t base = sc->path.len, k = 0;

    adv(sc); /* [ */
    ws(sc);
    while (sc->i < sc->len && sc->s[sc->i] != ']' && !sc->err) {
        size_t idx, before = sc->i;
        push(sc, NULL, NULL, 0, k++);
        idx = add_loc(sc, sc->line, sc->col);
        value(sc);
        set_end(sc, idx);
        if (sc->path.ptr) {
            cv_buf_setlen(&sc->path, base);
        }
        ws(sc);
        if (sc->i < sc->len && sc->s[sc->i] == ',') {
            adv(sc);
            ws(sc);
        }
        if (sc->i == before && sc->i < sc->len) {
            adv(sc); /* not JSON: make progress anyway */
        }
    }
    if (sc->i < sc->len) {
        adv(sc);
    }
}

static void value(struct scan *sc)
{
    char c;

    if (sc->i >= sc->len) {
        return;
    }
    c = sc->s[sc->i];
    if (c == '{' || c == '[') {
        if (++sc->depth > LOC_MAX_DEPTH) {
            sc->err = CV_ETOOBIG;
            return;
        }
        if (c == '{') {
            object(sc);
        } else {
            array(sc);
        }
        sc->depth--;
    } else if (c == '"') {
        skip_string(sc);
    } else {
        while (sc->i < sc->len && sc->s[sc->i] != ',' && sc->s[sc->i] != '}' &&
               sc->s[sc->i] != ']' && sc->s[sc->i] != ' ' && sc->s[sc->i] != '\n' &&
               sc->s[sc->i] != '\r' && sc->s[sc->i] != '\t') {
            adv(sc);
        }
    }
}

cv_err policy_locmap_build(const char *text, size_t len, struct policy_locmap **out)
{
    struct scan sc;
    size_t root;

    *out = NULL;
    memset(&sc, 0, sizeof(sc));
    sc.s = text;
    sc.len = len;
    sc.line = 1;
    sc.col = 1;
    cv_buf_init(&sc.path, 1 << 16);
    sc.m = cv_calloc(1, sizeof(*sc.m));
    if (!sc.m) {
        return CV_ENOMEM;
    }
    ws(&sc);
    root = add_loc(&sc, sc.line, sc.col);
    value(&sc);
    set_end(&sc, root);
    cv_buf_release(&sc.path);
    if (sc.err == CV_ENOMEM) {
        policy_locmap_free(sc.m);
        return CV_ENOMEM;
    }
    *out = sc.m;
    return CV_OK;
}

bool policy_locmap_find(const struct policy_locmap *m, const char *path, unsigned *line,
                        unsigned *col, unsigned *end_line, unsigned *end_col)
{
    size_t i;

    if (!m) {
        return false;
    }
    for (i = 0; i < m->n; i++) {
        if (strcmp(m->v[i].path, path) == 0) {
            *line = m->v[i].line;
            *col = m->v[i].col;
            if (end_line) {
                *end_line = m->v[i].eline;
            }
            if (end_col) {
                *end_col = m->v[i].ecol;
            }
            return true;
        }
    }
    return false;
}

void policy_locmap_free(struct policy_locmap *m)
{
    size_t i;

    if (!m) {
        return;
    }
    for (i = 0; i < m->n; i++) {
        cv_free(m->v[i].path);
    }
    cv_free(m->v);
    cv_free(m);
}
