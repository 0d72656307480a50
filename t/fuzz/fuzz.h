/*
 * fuzz.h: what every libFuzzer harness in t/fuzz shares.
 *
 * Each fuzz_<name>.c defines both entry points below.  Under clang
 * (scripts/fuzz) libFuzzer calls them; under gcc t/fuzz/replay_main.c
 * calls them on every file of a seed corpus (make check, t/scripts).
 * Harnesses check invariants of the code under test with FUZZ_CHECK: a
 * broken invariant aborts, which libFuzzer records as a crash.
 */
#ifndef LCRM_FUZZ_H
#define LCRM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Called once before the first input; always returns 0. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Runs one input; returns 0 (aborts on a broken invariant). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, what)                                           \
    do {                                                                 \
        if (!(cond)) {                                                   \
            fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n",       \
                    (what), __FILE__, __LINE__);                         \
            abort();                                                     \
        }                                                                \
    } while (0)

/* Outcome notes for writing seeds: build with -DFUZZ_VERBOSE to see them. */
#ifdef FUZZ_VERBOSE
#define FUZZ_NOTE(...) fprintf(stderr, __VA_ARGS__)
#else
#define FUZZ_NOTE(...) ((void)0)
#endif

#endif
