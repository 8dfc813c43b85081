/*
 * Shared helpers for the unit tests (cmocka). Include after the module
 * header under test.
 */
#ifndef CV_TEST_H
#define CV_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/base.h"

/* The shared test data folder, or NULL (a user's fresh clone has none). */
static inline const char *cv_test_shared_dir(void)
{
    const char *d = getenv("CV_SHARED_DIR");
    char path[4096];
    FILE *f;

    if (!d || !*d) {
        return NULL;
    }
    snprintf(path, sizeof(path), "%s/DESIGN.md", d);
    f = fopen(path, "r");
    if (!f) {
        return NULL;
    }
    fclose(f);
    return d;
}

/* Skips the current test with a message when the shared data is absent. */
#define CV_REQUIRE_SHARED(dir)                                                                     \
    do {                                                                                           \
        (dir) = cv_test_shared_dir();                                                              \
        if (!(dir)) {                                                                              \
            print_message("SKIP: ../shared is absent (a fresh clone); shared vectors not run\n");  \
            skip();                                                                                \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/*
 * Allocation-failure sweep: runs @p body with the n-th allocation failing,
 * for n = 0, 1, ... until a run completes with no injected failure. @p body
 * must return CV_OK on a clean run and clean up on error (ASan checks leaks).
 */
#define CV_ALLOC_SWEEP(body)                                                                       \
    do {                                                                                           \
        for (long sweep_n_ = 0;; sweep_n_++) {                                                     \
            cv_err sweep_err_;                                                                     \
            cv_alloc_fail_after(sweep_n_);                                                         \
            sweep_err_ = (body);                                                                   \
            long used_ = cv_alloc_count();                                                         \
            cv_alloc_fail_after(-1);                                                               \
            if (used_ <= sweep_n_) {                                                               \
                assert_int_equal(sweep_err_, CV_OK);                                               \
                break;                                                                             \
            }                                                                                      \
        }                                                                                          \
    } while (0)

#endif
