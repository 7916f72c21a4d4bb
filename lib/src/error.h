/* Internal: recording the reason behind a failing status (qmar_last_error). */
#ifndef QMAR_SRC_ERROR_H
#define QMAR_SRC_ERROR_H
#include "qmar/qmar.h"

/* Formats the thread-local reason text and returns s, so callers can write
 * `return qmar__fail(QMAR_ERR_PARAM_INVALID, "x2: k (%lld) ...", ...);`. */
qmar_status qmar__fail(qmar_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
#endif
