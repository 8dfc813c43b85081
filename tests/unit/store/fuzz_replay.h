/*
 * Replays a fuzz target's seed corpus (fuzz/corpus/NAME/) and its
 * regression inputs (tests/unit/store/fuzz-regress/NAME/, if any) through
 * the target's LLVMFuzzerTestOneInput, built by the normal test compiler
 * with the sanitizers of the test build. No fuzzing: a target whose
 * invariants break, or that crashes, on a kept input fails the test.
 *
 * Include after the fuzz target's source, with FUZZ_NAME defined.
 */
#ifndef CV_FUZZ_REPLAY_H
#define CV_FUZZ_REPLAY_H

#include <dirent.h>

static size_t replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    if (!d) {
        return 0;
    }
    for (e = readdir(d); e; e = readdir(d)) {
        char path[4096];
        struct cv_buf b = CV_BUF_INIT(1 << 24);
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (cv_file_read(path, &b) != CV_OK) {
            fail_msg("cannot read %s", path);
        }
        (void)LLVMFuzzerTestOneInput((const uint8_t *)(b.ptr ? b.ptr : ""), b.len);
        cv_buf_release(&b);
        n++;
    }
    closedir(d);
    return n;
}

static void test_replay(void **state)
{
    const char *src = getenv("CV_SOURCE_DIR");
    char dir[4096];
    size_t n;

    (void)state;
    if (!src) {
        src = ".";
    }
    snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s", src, FUZZ_NAME);
    n = replay_dir(dir);
    assert_true(n > 0); /* the seed corpus is part of the tree */
    snprintf(dir, sizeof(dir), "%s/tests/unit/store/fuzz-regress/%s", src, FUZZ_NAME);
    n += replay_dir(dir);
    print_message("%s: %zu inputs replayed\n", FUZZ_NAME, n);
}

#endif
