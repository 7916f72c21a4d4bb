/* SPDX-License-Identifier: Apache-2.0 */
/* Failure reporting shared by the harnesses (fuzz_check.h). */
#include "fuzz_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void fuzz_fail(const char *kind, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "qmar-fuzz: FAIL %s %s: ", fuzz_target_name, kind);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

int fuzz_verbose(void)
{
    static int cached = -1;
    if (cached < 0) {
        const char *v = getenv("QMAR_FUZZ_VERBOSE");
        cached = v != NULL && *v != '\0' && *v != '0';
    }
    return cached;
}
