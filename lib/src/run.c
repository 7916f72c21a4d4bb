/* Run: the contract checks of api.md, then the planned computation. The executor is consumed
 * whatever the outcome. A rank that fails here still takes part in the agreement (its peers fail
 * at once instead of at their timeout), and every Run ends with the backend's agreement on the
 * outcome, so no rank reports SUCCESS for a Run another rank failed (spec/api.md "One outcome"). */
#include <pthread.h>
#include <stddef.h>

#include "error.h"
#include "plan.h"

static qmar_status check_workspace(const qmar_executor *e, const void *workspace, uint64_t size)
{
    if (size < e->workspace_size)
        return qmar__fail(QMAR_ERR_PARAM_INVALID, "run: workspace_size %llu < planned %llu",
                          (unsigned long long)size, (unsigned long long)e->workspace_size);
    if (workspace == NULL && e->workspace_size > 0)
        return qmar__fail(QMAR_ERR_PARAM_INVALID, "run: workspace is NULL, planned size %llu",
                          (unsigned long long)e->workspace_size);
    return QMAR_SUCCESS;
}

qmar_status qmar_quant_matmul_all_reduce_v3(void *workspace, uint64_t workspace_size,
                                            qmar_executor *executor, void *stream)
{
    (void)stream; /* execution is synchronous on the calling thread */
    if (executor == NULL)
        return qmar__fail(QMAR_ERR_PARAM_NULLPTR, "run: executor is NULL");
    /* Run is no cancellation point: a cancel request takes effect after it returns, so a rank
     * never leaves its group halfway through a collective (spec/api.md "Cancellation"). */
    int cancel_state;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
    qmar_status st = check_workspace(executor, workspace, workspace_size);
    st = qmar__execute(executor, workspace, st);
    qmar_comm *comm = executor->comm;
    if (comm->ops->agree_outcome != NULL)
        st = comm->ops->agree_outcome(comm, st);
    qmar_executor_destroy(executor);
    pthread_setcancelstate(cancel_state, NULL);
    return st;
}
