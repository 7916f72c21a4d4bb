/* SPDX-License-Identifier: Apache-2.0 */
/* Status names and the thread-local reason of the last failure. */
#include <stdarg.h>
#include <stdio.h>

#include "error.h"

/* Long enough for a parameter, a rule and a few 64-bit values; longer texts are truncated. */
#define REASON_MAX 512
static _Thread_local char last_reason[REASON_MAX];

/* Every status, and any other value, has a name: a text the caller may read (a string literal). */
/*@ assigns \nothing;
    ensures \valid_read(\result);
*/
const char *qmar_status_string(qmar_status s)
{
    switch (s) {
    case QMAR_SUCCESS: return "QMAR_SUCCESS";
    case QMAR_ERR_PARAM_NULLPTR: return "QMAR_ERR_PARAM_NULLPTR";
    case QMAR_ERR_PARAM_INVALID: return "QMAR_ERR_PARAM_INVALID";
    case QMAR_ERR_RUNTIME: return "QMAR_ERR_RUNTIME";
    case QMAR_ERR_INNER: return "QMAR_ERR_INNER";
    default: return "unknown status";
    }
}

/* The reason buffer itself: REASON_MAX bytes the caller may read (vsnprintf always ends the text
 * inside it with a NUL; before the first failure it is all NULs). */
/*@ assigns \nothing;
    ensures (char *)\result == &last_reason[0] && \valid_read(\result + (0 .. REASON_MAX - 1));
*/
const char *qmar_last_error(void)
{
    return last_reason;
}

qmar_status qmar__fail(qmar_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_reason, sizeof last_reason, fmt, ap);
    va_end(ap);
    return s;
}
