/* SPDX-License-Identifier: Apache-2.0 */
/* qmar compat — HCCL communicators, mapped onto qmar's in-process communicator.
 *
 * A communicator's ranks are threads of this process. HcclCommInitAll(ndev, devices, comms)
 * creates one (rank i = devices[i]); HcclGetRootInfo + HcclCommInitRootInfo create one whose
 * ranks call from their own threads. HcclGetCommName gives the qmar group name of one rank's
 * endpoint: pass it as `group` to aclnnQuantMatmulAllReduceV3. Collectives between processes
 * (a root info from another process) are not emulated: HCCL_E_NOT_SUPPORT. */
#ifndef QMAR_COMPAT_HCCL_HCCL_H
#define QMAR_COMPAT_HCCL_HCCL_H

#include "acl/acl.h"
#include "hccl/hccl_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ndev in 1..64; device ids valid (aclrtGetDeviceCount) and distinct. */
ACL_FUNC_VISIBILITY HcclResult HcclCommInitAll(uint32_t ndev, int32_t *devices, HcclComm *comms);
ACL_FUNC_VISIBILITY HcclResult HcclGetRootInfo(HcclRootInfo *rootInfo);
/* Each rank 0..nRanks-1 calls it once, with the root info of one HcclGetRootInfo call. */
ACL_FUNC_VISIBILITY HcclResult HcclCommInitRootInfo(uint32_t nRanks, const HcclRootInfo *rootInfo,
                                                    uint32_t rank, HcclComm *comm);
/* commName must hold COMM_NAME_MAX_LENGTH (128) chars. */
ACL_FUNC_VISIBILITY HcclResult HcclGetCommName(HcclComm comm, char *commName);
ACL_FUNC_VISIBILITY HcclResult HcclGetRankSize(HcclComm comm, uint32_t *rankSize);
ACL_FUNC_VISIBILITY HcclResult HcclGetRankId(HcclComm comm, uint32_t *rank);
/* Each rank destroys its own endpoint; executors planned on it keep it alive until they run. */
ACL_FUNC_VISIBILITY HcclResult HcclCommDestroy(HcclComm comm);
ACL_FUNC_VISIBILITY const char *HcclGetErrorString(HcclResult code);

#ifdef __cplusplus
}
#endif
#endif
