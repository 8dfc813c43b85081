/* XML: writing S3 response documents, and parsing request documents (expat). */
#include "store_int.h"

#include <expat.h>
#include <stdio.h>
#include <string.h>

#define S3_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"

cv_err xml_begin(struct cv_buf *b, const char *root)
{
    return cv_buf_addf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%s xmlns=\"%s\">", root,
                       S3_XMLNS);
}

cv_err xml_end(struct cv_buf *b, const char *root)
{
    return cv_buf_addf(b, "</%s>", root);
}

cv_err xml_open(struct cv_buf *b, const char *name)
{
    return cv_buf_addf(b, "<%s>", name);
}

cv_err xml_close(struct cv_buf *b, const char *name)
{
    return cv_buf_addf(b, "</%s>", name);
}

cv_err xml_elem(struct cv_buf *b, const char *name, const char *text, size_t len)
{
    cv_err err = cv_buf_addf(b, "<%s>", name);

    if (!err) {
        err = cv_buf_add_xml(b, text ? text : "", text ? len : 0);
    }
    if (!err) {
        err = cv_buf_addf(b, "</%s>", name);
    }
    return err;
}

cv_err xml_elemc(struct cv_buf *b, const char *name, const char *text)
{
    return xml_elem(b, name, text, text ? strlen(text) : 0);
}

cv_err xml_elemf(struct cv_buf *b, const char *name, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    return xml_elemc(b, name, tmp);
}

/* ------------------------------------------------------------- parsing */

#define XML_MAX_DEPTH 16
#define XML_MAX_NODES 20000

struct parse_state {
    struct cv_arena *a;
    struct xml_node *root, *cur;
    struct xml_node *last_child[XML_MAX_DEPTH + 1];
    unsigned depth;
    unsigned nodes;
    cv_err err;
    XML_Parser p;
};

static void stop(struct parse_state *s, cv_err err)
{
    if (!s->err) {
        s->err = err;
    }
    XML_StopParser(s->p, XML_FALSE);
}

static void on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct parse_state *s = ud;
    struct xml_node *n;
    const char *local = strrchr(name, '|'); /* namespace separator */

    CV_UNUSED(attrs);
    if (s->err) {
        return;
    }
    if (s->depth >= XML_MAX_DEPTH || ++s->nodes > XML_MAX_NODES) {
        stop(s, CV_S3_MALFORMED_XML);
        return;
    }
    n = cv_arena_alloc(s->a, sizeof(*n));
    if (!n) {
        stop(s, CV_ENOMEM);
        return;
    }
    memset(n, 0, sizeof(*n));
    local = local ? local + 1 : name;
    n->name = cv_arena_strndup(s->a, local, strlen(local));
    cv_buf_init(&n->text, 1 << 20);
    if (!n->name) {
        stop(s, CV_ENOMEM);
        return;
    }
    n->parent = s->cur;
    if (!s->cur) {
        if (s->root) {
            stop(s, CV_S3_MALFORMED_XML);
            return;
        }
        s->root = n;
    } else if (s->last_child[s->depth]) {
        s->last_child[s->depth]->next = n;
    } else {
        s->cur->child = n;
    }
    if (s->cur) {
        s->last_child[s->depth] = n;
    }
    s->cur = n;
    s->depth++;
    s->last_child[s->depth] = NULL;
}

static void on_end(void *ud, const XML_Char *name)
{
    struct parse_state *s = ud;

    CV_UNUSED(name);
    if (s->err || !s->cur) {
        return;
    }
    s->cur = s->cur->parent;
    s->depth--;
}

static void on_text(void *ud, const XML_Char *text, int len)
{
    struct parse_state *s = ud;
    cv_err err;

    if (s->err || !s->cur || len <= 0) {
        return;
    }
    err = cv_buf_add(&s->cur->text, text, (size_t)len);
    if (err) {
        stop(s, err == CV_ETOOBIG ? CV_S3_MALFORMED_XML : err);
    }
}

/* Text buffers live in cv_bufs; keep them alive in the arena's lifetime by
 * registering nothing: callers release with xml_release(). To keep the API
 * simple the buffers are copied into the arena at the end. */
static cv_err freeze(struct cv_arena *a, struct xml_node *n)
{
    for (; n; n = n->next) {
        struct cv_buf *t = &n->text;
        char *copy = cv_arena_strndup(a, t->ptr ? t->ptr : "", t->len);
        size_t len = t->len;
        cv_err err;

        cv_buf_release(t);
        if (!copy) {
            return CV_ENOMEM;
        }
        t->ptr = copy;
        t->len = len;
        t->cap = 0; /* arena-owned: never released */
        err = freeze(a, n->child);
        if (err) {
            return err;
        }
    }
    return CV_OK;
}

static void release_all(struct xml_node *n)
{
    for (; n; n = n->next) {
        if (n->text.cap) {
            cv_buf_release(&n->text);
        }
        release_all(n->child);
    }
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal)
{
    CV_UNUSED(name);
    CV_UNUSED(sysid);
    CV_UNUSED(pubid);
    CV_UNUSED(has_internal);
    /* No DTDs: no entity expansion tricks. */
    stop(ud, CV_S3_MALFORMED_XML);
}

cv_err xml_parse(struct cv_arena *a, const char *data, size_t len, struct xml_node **root)
{
    struct parse_state s;
    cv_err err = CV_OK;

    memset(&s, 0, sizeof(s));
    s.a = a;
    *root = NULL;
    if (len > INT32_MAX) {
        return CV_S3_MALFORMED_XML;
    }
    s.p = XML_ParserCreateNS("UTF-8", '|');
    if (!s.p) {
        return CV_ENOMEM;
    }
    XML_SetUserData(s.p, &s);
    XML_SetElementHandler(s.p, on_start, on_end);
    XML_SetCharacterDataHandler(s.p, on_text);
    XML_SetStartDoctypeDeclHandler(s.p, on_doctype);
    if (XML_Parse(s.p, data, (int)len, XML_TRUE) != XML_STATUS_OK && !s.err) {
        s.err = CV_S3_MALFORMED_XML;
    }
    if (!s.err && !s.root) {
        s.err = CV_S3_MALFORMED_XML;
    }
    err = s.err;
    if (!err) {
        err = freeze(a, s.root);
    }
    if (err) {
        release_all(s.root);
    } else {
        *root = s.root;
    }
    XML_ParserFree(s.p);
    return err;
}

struct xml_node *xml_parse_doc(struct cv_arena *a, const struct cv_buf *body, const char *root_name)
{
    struct xml_node *root = NULL;

    if (!body->len || xml_parse(a, body->ptr, body->len, &root) != CV_OK ||
        strcmp(root->name, root_name) != 0) {
        return NULL;
    }
    return root;
}

const struct xml_node *xml_child(const struct xml_node *n, const char *name)
{
    const struct xml_node *c;

    for (c = n ? n->child : NULL; c; c = c->next) {
        if (strcmp(c->name, name) == 0) {
            return c;
        }
    }
    return NULL;
}

struct cv_str xml_text(const struct xml_node *n)
{
    struct cv_str s = {"", 0};

    if (n && n->text.ptr) {
        s.ptr = n->text.ptr;
        s.len = n->text.len;
    }
    return s;
}
