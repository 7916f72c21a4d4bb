/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: recording the reason behind a failing status (qmar_last_error). */
#ifndef QMAR_SRC_ERROR_H
#define QMAR_SRC_ERROR_H
#include "qmar/qmar.h"

/* The thread-local reason text, as the proofs see it: one ghost variable that no proven function
 * reads. qmar__fail's contract below is trusted, not proven (status.c formats with varargs and
 * vsnprintf; it is not a proof unit, see proofs/README.md). */
/*@ ghost int qmar__reason_state; */

/* Formats the thread-local reason text and returns s, so callers can write
 * `return qmar__fail(QMAR_ERR_PARAM_INVALID, "x2: k (%lld) ...", ...);`. */
/*@ assigns qmar__reason_state;
    ensures \result == s;
*/
qmar_status qmar__fail(qmar_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
#endif
