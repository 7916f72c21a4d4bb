/* SPDX-License-Identifier: Apache-2.0 */
/* qmar compat — aclnnTransQuantParamV2: fp32 dequant scales (and optional fp32 offsets) to the
 * UINT64 words of the FP16-output path without pertoken (numerics.md §6 in qmar's tree).
 *
 * scale and offset: FLOAT, ND, contiguous, (t) with t = 1 or n, or (1, n); out: UINT64 or INT64,
 * ND, contiguous; with a 1-D scale out is 1-D of max(t_scale, t_offset) elements, with a 2-D scale
 * out has scale's shape. Workspace 0. */
#ifndef QMAR_COMPAT_ACLNNOP_ACLNN_TRANS_QUANT_PARAM_V2_H
#define QMAR_COMPAT_ACLNNOP_ACLNN_TRANS_QUANT_PARAM_V2_H

#include "aclnn/aclnn_base.h"
#include "aclnnop/aclnn_util.h"

#ifdef __cplusplus
extern "C" {
#endif

ACLNN_API aclnnStatus aclnnTransQuantParamV2GetWorkspaceSize(const aclTensor *scale,
                                                             const aclTensor *offset,
                                                             const aclTensor *out,
                                                             uint64_t *workspaceSize,
                                                             aclOpExecutor **executor);
ACLNN_API aclnnStatus aclnnTransQuantParamV2(void *workspace, uint64_t workspaceSize,
                                             aclOpExecutor *executor, const aclrtStream stream);

#ifdef __cplusplus
}
#endif
#endif
