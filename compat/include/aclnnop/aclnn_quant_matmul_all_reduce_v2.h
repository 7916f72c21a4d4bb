/* SPDX-License-Identifier: Apache-2.0 */
/* qmar compat — aclnnQuantMatmulAllReduceV2 (V3 without the comm scales): run by qmar as V3 with
 * both comm scales absent. */
#ifndef QMAR_COMPAT_ACLNNOP_ACLNN_QUANT_MATMUL_ALL_REDUCE_V2_H
#define QMAR_COMPAT_ACLNNOP_ACLNN_QUANT_MATMUL_ALL_REDUCE_V2_H

#ifdef __cplusplus
#include <string>
#endif

#include "aclnn/aclnn_base.h"
#include "hccl/hccl.h"
#include "hccl/hccl_types.h"
#include "aclnnop/aclnn_util.h"

#ifdef __cplusplus
extern "C" {
#endif

ACLNN_API aclnnStatus aclnnQuantMatmulAllReduceV2GetWorkspaceSize(
    const aclTensor *x1, const aclTensor *x2, const aclTensor *bias, const aclTensor *x3,
    const aclTensor *dequantScale, const aclTensor *pertokenScale, const char *group,
    const char *reduceOp, int64_t commTurn, int64_t streamMode, const aclTensor *output,
    uint64_t *workspaceSize, aclOpExecutor **executor);

ACLNN_API aclnnStatus aclnnQuantMatmulAllReduceV2(void *workspace, uint64_t workspaceSize,
                                                  aclOpExecutor *executor,
                                                  const aclrtStream stream);

#ifdef __cplusplus
}
#endif
#endif
