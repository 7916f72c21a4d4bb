/* SPDX-License-Identifier: Apache-2.0 */
/* qmar compat — aclnnQuantMatmulAllReduceV3: int8 matmul + dequant (+ pertoken, + x3) + all-reduce
 * (+ int8 low-bit communication with both comm scales), run by qmar.
 *
 * The parameters, rules and status codes are qmar's restatement of Ascend's (spec/validation.md,
 * numerics.md in qmar's source tree); GetWorkspaceSize validates and plans, the second call runs
 * on the calling thread, communicating with the other ranks' threads, and consumes the executor.
 * group is the name HcclGetCommName returns. */
#ifndef QMAR_COMPAT_ACLNNOP_ACLNN_QUANT_MATMUL_ALL_REDUCE_V3_H
#define QMAR_COMPAT_ACLNNOP_ACLNN_QUANT_MATMUL_ALL_REDUCE_V3_H

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

ACLNN_API aclnnStatus aclnnQuantMatmulAllReduceV3GetWorkspaceSize(
    const aclTensor *x1, const aclTensor *x2, const aclTensor *biasOptional,
    const aclTensor *x3Optional, const aclTensor *dequantScale,
    const aclTensor *pertokenScaleOptional, const aclTensor *commQuantScale1Optional,
    const aclTensor *commQuantScale2Optional, const char *group, const char *reduceOp,
    int64_t commTurn, int64_t streamMode, const aclTensor *output, uint64_t *workspaceSize,
    aclOpExecutor **executor);

ACLNN_API aclnnStatus aclnnQuantMatmulAllReduceV3(void *workspace, uint64_t workspaceSize,
                                                  aclOpExecutor *executor,
                                                  const aclrtStream stream);

#ifdef __cplusplus
}
#endif
#endif
