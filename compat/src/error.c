/* SPDX-License-Identifier: Apache-2.0 */
/* Failure reasons: the thread's last one is aclGetRecentErrMsg's text, and each one is printed
 * to stderr (QMAR_COMPAT_LOG=0 silences it), since host programs written for CANN print only the
 * status code and CANN itself would have logged the reason. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"

#define MSG_MAX 512
static _Thread_local char last_msg[MSG_MAX];
static _Thread_local int has_msg;

static int log_enabled(void)
{
    const char *v = getenv("QMAR_COMPAT_LOG");
    return v == NULL || strcmp(v, "0") != 0;
}

static const char *status_name(int32_t s)
{
    switch (s) {
    case 161001: return "ACLNN_ERR_PARAM_NULLPTR";
    case 161002: return "ACLNN_ERR_PARAM_INVALID";
    case 361001: return "ACLNN_ERR_RUNTIME_ERROR";
    case 561000: return "ACLNN_ERR_INNER";
    case 100000: return "ACL_ERROR_INVALID_PARAM";
    case 100002: return "ACL_ERROR_REPEAT_INITIALIZE";
    case 100037: return "ACL_ERROR_REPEAT_FINALIZE";
    case 107001: return "ACL_ERROR_RT_INVALID_DEVICEID";
    case 107002: return "ACL_ERROR_RT_CONTEXT_NULL";
    case 207001: return "ACL_ERROR_RT_MEMORY_ALLOCATION";
    default: return s > 0 && s < 100 ? "HcclResult" : "status";
    }
}

static int32_t record(int32_t status, const char *api, const char *reason)
{
    /* A long reason is cut at the buffer's end; the result is checked so that optimising
     * builds do not warn about the cut (-Wformat-truncation). */
    if (snprintf(last_msg, sizeof last_msg, "%s: %s", api, reason) < 0)
        last_msg[0] = '\0';
    has_msg = 1;
    if (log_enabled())
        fprintf(stderr, "[qmar-compat] %s failed with %d (%s): %s\n", api, (int)status,
                status_name(status), reason);
    return status;
}

int32_t qc_fail(int32_t status, const char *api, const char *fmt, ...)
{
    char reason[MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    return record(status, api, reason);
}

int32_t qc_fail_qmar(int32_t status, const char *api)
{
    return record(status, api, qmar_last_error());
}

const char *aclGetRecentErrMsg(void)
{
    return has_msg ? last_msg : NULL;
}
