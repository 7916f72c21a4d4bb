/* SPDX-License-Identifier: Apache-2.0 */
/* qmar compat — ACL entry header: process init/finalize plus the runtime (acl_rt.h).
 * See acl_rt.h for what devices, contexts, streams and memory mean on CPUs. */
#ifndef QMAR_COMPAT_ACL_ACL_H
#define QMAR_COMPAT_ACL_ACL_H

#include "acl_base.h"
#include "acl_rt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The ACL version this layer follows. */
#define ACL_MAJOR_VERSION 1
#define ACL_MINOR_VERSION 15
#define ACL_PATCH_VERSION 0

/* configPath may be NULL; a given path is not read (there is nothing to configure).
 * A second aclInit without aclFinalize is ACL_ERROR_REPEAT_INITIALIZE. */
ACL_FUNC_VISIBILITY aclError aclInit(const char *configPath);
/* Frees what the runtime owns (aclrtMalloc'd memory, streams, contexts still alive).
 * Without a preceding aclInit: ACL_ERROR_REPEAT_FINALIZE. */
ACL_FUNC_VISIBILITY aclError aclFinalize(void);
ACL_FUNC_VISIBILITY aclError aclrtGetVersion(int32_t *majorVersion, int32_t *minorVersion,
                                             int32_t *patchVersion);
/* Reason of the calling thread's most recent failure (which API, which rule, which values), or
 * NULL when it has had none. */
ACL_FUNC_VISIBILITY const char *aclGetRecentErrMsg(void);

#ifdef __cplusplus
}
#endif
#endif
