/* Run: the contract checks of api.md, then the planned computation. The executor is consumed
 * whatever the outcome. */
#include <stddef.h>

#include "error.h"
#include "plan.h"

qmar_status qmar_quant_matmul_all_reduce_v3(void *workspace, uint64_t workspace_size,
                                            qmar_executor *executor, void *stream)
{
    (void)stream; /* execution is synchronous on the calling thread */
    if (executor == NULL)
        return qmar__fail(QMAR_ERR_PARAM_NULLPTR, "run: executor is NULL");
    qmar_status st;
    if (workspace_size < executor->workspace_size)
        st = qmar__fail(QMAR_ERR_PARAM_INVALID,
                        "run: workspace_size %llu < planned %llu",
                        (unsigned long long)workspace_size,
                        (unsigned long long)executor->workspace_size);
    else if (workspace == NULL && executor->workspace_size > 0)
        st = qmar__fail(QMAR_ERR_PARAM_INVALID, "run: workspace is NULL, planned size %llu",
                        (unsigned long long)executor->workspace_size);
    else
        st = qmar__execute(executor, workspace);
    /* Minimal stand-in (harden-mpi) for harden-core's last step of Run: the outcome vote. */
    if (executor->comm->ops->agree_outcome != NULL)
        st = executor->comm->ops->agree_outcome(executor->comm, st);
    qmar_executor_destroy(executor);
    return st;
}
