/*
 * libFuzzer: the tokenizer (the ASCII fast path with its eight-byte scans and
 * the UTF-8 path), the vocabulary and VADER on arbitrary text. Checks that
 * a text is scored the same whether it is its own buffer or part of a larger
 * one (the fast path reads slack bytes past a token, never past the text),
 * and that the scores are in range.
 */
#include "insights/insights_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static struct ins_vocab vocab;
static struct ins_tokbuf tb;
static bool ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ins_sentiment a, b;
    char *exact, *padded;

    if (size > (1u << 14)) {
        return 0;
    }
    if (!ready) {
        if (ins_vocab_init(&vocab) != CV_OK) {
            abort();
        }
        ready = true;
    }
    /* The text in a buffer of exactly its size (ASan catches any over-read). */
    exact = malloc(size ? size : 1);
    padded = malloc(size + 64);
    if (!exact || !padded) {
        abort();
    }
    memcpy(exact, data, size);
    memcpy(padded, data, size);
    memset(padded + size, 'A', 64);
    if (ins_tokenize(&vocab, &tb, exact, size) != CV_OK) {
        abort();
    }
    ins_vader(&tb, &a);
    size_t n1 = tb.ntoks;
    if (ins_tokenize(&vocab, &tb, padded, size) != CV_OK) {
        abort();
    }
    ins_vader(&tb, &b);
    if (n1 != tb.ntoks || a.compound != b.compound || a.pos != b.pos || a.neu != b.neu ||
        a.neg != b.neg) {
        abort(); /* bytes past the text changed the result */
    }
    if (!(a.compound >= -1.0 && a.compound <= 1.0) || isnan(a.pos) || isnan(a.neu) ||
        isnan(a.neg)) {
        abort();
    }
    free(exact);
    free(padded);
    return 0;
}
