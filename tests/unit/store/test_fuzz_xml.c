/*
 * Replays fuzz/fuzz_store_xml.c's corpus and kept regression inputs in the
 * normal (sanitized) test build: see fuzz_replay.h.
 */
#include "test.h"
#include "../../../fuzz/fuzz_store_xml.c"

#define FUZZ_NAME "fuzz_store_xml"
#include "fuzz_replay.h"

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_replay)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
