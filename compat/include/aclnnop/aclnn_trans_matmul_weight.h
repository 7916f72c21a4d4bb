/* SPDX-License-Identifier: Apache-2.0 */
/* qmar compat — weight preprocessing into FRACTAL_NZ (int8 only).
 *
 * aclnnCalculateMatmulWeightSizeV2 gives the element count of the NZ form of a 2-D int8 weight:
 * Align(d0,16) * Align(d1,32). aclnnTransMatmulWeight converts a 2-D int8 ND weight (contiguous
 * (k,n), or transposed: view (k,n) over (n,k) memory) in place into FRACTAL_NZ and updates the
 * descriptor: format FRACTAL_NZ, storage dims (ceil(W/32), ceil(H/16), 16, 32) with (H,W) the
 * stored matrix, offset 0. The buffer must hold the NZ size: allocate it with aclrtMalloc and the
 * size from aclnnCalculateMatmulWeightSizeV2 (checked when the buffer came from aclrtMalloc). */
#ifndef QMAR_COMPAT_ACLNNOP_ACLNN_TRANS_MATMUL_WEIGHT_H
#define QMAR_COMPAT_ACLNNOP_ACLNN_TRANS_MATMUL_WEIGHT_H

#include "aclnn/aclnn_base.h"
#include "aclnnop/aclnn_util.h"

#ifdef __cplusplus
extern "C" {
#endif

ACLNN_API aclnnStatus aclnnCalculateMatmulWeightSizeV2(const aclIntArray *tensorShape,
                                                       aclDataType dataType,
                                                       uint64_t *weightTensorSize);

/* The workspace (> 0: the ND bytes) holds the ND copy the conversion reads from. */
ACLNN_API aclnnStatus aclnnTransMatmulWeightGetWorkspaceSize(aclTensor *mmWeightRef,
                                                             uint64_t *workspaceSize,
                                                             aclOpExecutor **executor);
ACLNN_API aclnnStatus aclnnTransMatmulWeight(void *workspace, uint64_t workspaceSize,
                                             aclOpExecutor *executor, aclrtStream stream);

#ifdef __cplusplus
}
#endif
#endif
