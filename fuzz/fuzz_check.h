/* SPDX-License-Identifier: Apache-2.0 */
/* How a harness reports a broken oracle: one line naming the target and the kind of failure,
 * then abort(), which libFuzzer and AFL++ record as a crash and the replay main as a failed
 * input. The kind (a short [a-z0-9-] word) names the regress-<kind>-<n> file the campaign keeps. */
#ifndef QMAR_FUZZ_CHECK_H
#define QMAR_FUZZ_CHECK_H

#if defined(__GNUC__)
#define FUZZ_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define FUZZ_NORETURN __attribute__((noreturn))
#else
#define FUZZ_PRINTF(a, b)
#define FUZZ_NORETURN
#endif

/* Prints "qmar-fuzz: FAIL <target> <kind>: <message>" to stderr and aborts. */
FUZZ_NORETURN void fuzz_fail(const char *kind, const char *fmt, ...) FUZZ_PRINTF(2, 3);

/* QMAR_FUZZ_VERBOSE is set in the environment: harnesses print one line per input. */
int fuzz_verbose(void);

/* The target's name, defined by each harness ("fuzz_validate", ...). */
extern const char fuzz_target_name[];

#define FUZZ_CHECK(cond, kind, ...)                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_fail(kind, __VA_ARGS__);                                                          \
    } while (0)
#endif
