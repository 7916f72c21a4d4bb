/* SPDX-License-Identifier: Apache-2.0 */
/* A tiny test harness: CHECK records a failure with its location and goes on, so one run shows
 * every broken assertion; check_summary() prints the closing "N passed, N failed" line. */
#ifndef QMAR_TESTS_CHECK_H
#define QMAR_TESTS_CHECK_H
#include <inttypes.h>
#include <stdio.h>

static long check_passed_, check_failed_;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            check_passed_++;                                                                       \
        } else {                                                                                   \
            check_failed_++;                                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_I64(a, b)                                                                         \
    do {                                                                                           \
        int64_t ca_ = (int64_t)(a), cb_ = (int64_t)(b);                                            \
        if (ca_ == cb_) {                                                                          \
            check_passed_++;                                                                       \
        } else {                                                                                   \
            check_failed_++;                                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%" PRId64 " != %" PRId64 ")\n",        \
                    __FILE__, __LINE__, #a, #b, ca_, cb_);                                         \
        }                                                                                          \
    } while (0)

/* Prints the closing line and returns the process exit code. */
static inline int check_summary(void)
{
    printf("%ld passed, %ld failed\n", check_passed_, check_failed_);
    return check_failed_ == 0 ? 0 : 1;
}
#endif
