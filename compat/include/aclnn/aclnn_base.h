/* SPDX-License-Identifier: Apache-2.0 */
/* qmar compat — aclnn common part: status codes, aclnnInit/Finalize, executors.
 *
 * Every aclnn operator is two calls: XxxGetWorkspaceSize validates and returns an executor, Xxx
 * runs it (synchronously here) and consumes it. An executor that will never run is released with
 * aclDestroyAclOpExecutor. */
#ifndef QMAR_COMPAT_ACLNN_ACLNN_BASE_H
#define QMAR_COMPAT_ACLNN_ACLNN_BASE_H

#ifdef __cplusplus
/* What host programs written against CANN use without including it themselves. */
#include <cstdio>
#include <memory>
#include <string>
#else
#include <stdio.h>
#endif

#include "acl/acl_base.h"
#include "aclnn/acl_meta.h"

/* aclnn status codes (CANN's values). */
#ifndef ACLNN_SUCCESS
#define ACLNN_SUCCESS 0
#endif
#ifndef ACLNN_ERR_PARAM_NULLPTR
#define ACLNN_ERR_PARAM_NULLPTR 161001
#endif
#ifndef ACLNN_ERR_PARAM_INVALID
#define ACLNN_ERR_PARAM_INVALID 161002
#endif
#ifndef ACLNN_ERR_RUNTIME_ERROR
#define ACLNN_ERR_RUNTIME_ERROR 361001
#endif
#ifndef ACLNN_ERR_INNER
#define ACLNN_ERR_INNER 561000
#endif
#ifndef ACLNN_ERR_INNER_NULLPTR
#define ACLNN_ERR_INNER_NULLPTR 561103
#endif

#ifdef __cplusplus
extern "C" {
#endif

ACL_FUNC_VISIBILITY aclnnStatus aclnnInit(const char *configPath);
ACL_FUNC_VISIBILITY aclnnStatus aclnnFinalize(void);
/* Releases an executor that was planned but will not be run. */
ACL_FUNC_VISIBILITY aclnnStatus aclDestroyAclOpExecutor(aclOpExecutor *executor);

#ifdef __cplusplus
}
#endif
#endif
