/* aclDestroyAclOpExecutor: releases an executor that was planned but will not be run. */
#include <stdlib.h>

#include "compat.h"

aclnnStatus aclDestroyAclOpExecutor(aclOpExecutor *executor)
{
    if (executor == NULL)
        return qc_fail(ACLNN_ERR_PARAM_NULLPTR, "aclDestroyAclOpExecutor", "executor is NULL");
    if (!qc_reg_take(executor, QC_EXECUTOR, NULL))
        return qc_fail(ACLNN_ERR_PARAM_INVALID, "aclDestroyAclOpExecutor",
                       "%p is not a live executor (already run or destroyed)", (void *)executor);
    if (executor->kind == QC_EXEC_QMAR)
        qmar_executor_destroy(executor->u.q);
    free(executor);
    return ACLNN_SUCCESS;
}
