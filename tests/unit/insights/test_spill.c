/* The per-record spill: memory only, and moving on to a temporary file. */
#include "insights/insights_int.h"
#include "test.h"

/* @p reserve: records written in place (ins_spill_reserve, as the analysis does), else copied in. */
static void roundtrip(size_t cap, size_t nrec, bool reserve)
{
    struct ins_spill s;
    unsigned char rec[300];

    assert_int_equal(ins_spill_init(&s, cap), CV_OK);
    for (size_t r = 0; r < nrec; r++) {
        size_t n = 1 + r % 250;
        unsigned char *at = rec;
        if (reserve) {
            /* Room for the largest record; only n bytes of it are used. */
            assert_int_equal(ins_spill_reserve(&s, sizeof(rec), &at), CV_OK);
        }
        for (size_t k = 0; k < n; k++) {
            at[k] = (unsigned char)(r * 31 + k);
        }
        if (reserve) {
            s.len += n;
        } else {
            assert_int_equal(ins_spill_put(&s, rec, n), CV_OK);
        }
    }
    assert_int_equal(ins_spill_rewind(&s), CV_OK);
    for (size_t r = 0; r < nrec; r++) {
        size_t n = 1 + r % 250;
        assert_int_equal(ins_spill_need(&s, 300), CV_OK);
        assert_true(s.len - s.pos >= n);
        for (size_t k = 0; k < n; k++) {
            assert_int_equal(s.buf[s.pos + k], (unsigned char)(r * 31 + k));
        }
        s.pos += n;
    }
    /* Everything read: nothing left. */
    assert_int_equal(ins_spill_need(&s, 1), CV_OK);
    assert_int_equal(s.len - s.pos, 0);
    ins_spill_release(&s);
}

static void test_in_memory(void **state)
{
    CV_UNUSED(state);
    roundtrip(1 << 20, 1000, false);
    roundtrip(1 << 20, 1000, true);
}

static void test_temp_file(void **state)
{
    CV_UNUSED(state);
    /* 4 KiB of memory for about 125 KB of records: most of it goes to the file. */
    roundtrip(4096, 1000, false);
    roundtrip(4096, 1000, true);
}

static void test_too_big(void **state)
{
    struct ins_spill s;
    static unsigned char big[8192];
    CV_UNUSED(state);
    assert_int_equal(ins_spill_init(&s, 4096), CV_OK);
    assert_int_equal(ins_spill_put(&s, big, sizeof(big)), CV_EINVAL);
    unsigned char *at = NULL;
    assert_int_equal(ins_spill_reserve(&s, sizeof(big), &at), CV_EINVAL);
    ins_spill_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_memory),
        cmocka_unit_test(test_temp_file),
        cmocka_unit_test(test_too_big),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
