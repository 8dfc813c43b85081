/*
 * Block Public Access: "is this bucket policy public" (s3_pab.c) on any
 * bytes. Invariants: the answer is the same twice; text that is not JSON is
 * public; a JSON document with no "Allow" in it is not.
 */
#include "store/store_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    bool pub = pab_policy_is_public(text, size);
    json_t *doc;

    if (pab_policy_is_public(text, size) != pub) {
        abort();
    }
    doc = json_loadb(text, size, 0, NULL);
    if (!doc && !pub) {
        abort();
    }
    if (doc && pub && !memmem(data, size, "Allow", 5)) {
        abort();
    }
    json_decref(doc);
    return 0;
}
