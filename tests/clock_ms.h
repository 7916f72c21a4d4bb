/* SPDX-License-Identifier: Apache-2.0 */
/* Milliseconds on the monotonic clock, and a sleep that survives signals: what the tests and
 * fuzz_api time and stagger their ranks with. Header-only, so that any test or harness can use
 * it without linking another file. */
#ifndef QMAR_TESTS_CLOCK_MS_H
#define QMAR_TESTS_CLOCK_MS_H
#include <stdint.h>
#include <time.h>

static inline double clock_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static inline void clock_sleep_ms(int64_t ms)
{
    struct timespec t = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {
    }
}
#endif
