/* SPDX-License-Identifier: Apache-2.0 */
/* Run: the contract checks of api.md, then the planned computation. The executor is consumed
 * whatever the outcome. A rank that fails here still takes part in the agreement (its peers fail
 * at once instead of at their timeout), and every Run ends with the backend's agreement on the
 * outcome, so no rank reports SUCCESS for a Run another rank failed (spec/api.md "One outcome"). */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

#include "error.h"
#include "handle.h"
#include "plan.h"

qmar_executor *qmar__executor_publish(qmar_executor *e)
{
    qmar__handles_lock();
    qmar_executor *handle = qmar__handle_add_locked(e, QMAR__HANDLE_EXECUTOR);
    qmar__handles_unlock();
    return handle;
}

/* The executor behind a caller's handle, which dies here (Run and destroy consume it), or NULL
 * with a reason: the handle was run or destroyed already, or never was an executor. */
static qmar_executor *claim(qmar_executor *handle, const char *api)
{
    qmar__handles_lock();
    qmar_executor *e = qmar__handle_find_locked(handle, QMAR__HANDLE_EXECUTOR);
    if (e != NULL)
        qmar__handle_remove_locked(handle);
    qmar__handles_unlock();
    if (e == NULL)
        qmar__fail(QMAR_ERR_PARAM_INVALID, "%s: executor is not a live executor (already run or "
                   "destroyed, or never planned)", api);
    return e;
}

static void executor_free(qmar_executor *e)
{
    qmar__comm_release(e->comm);
    free(e);
}

void qmar_executor_destroy(qmar_executor *executor)
{
    if (executor == NULL)
        return;
    qmar_executor *e = claim(executor, "executor_destroy");
    if (e != NULL)
        executor_free(e);
}

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
    qmar_executor *e = claim(executor, "run");
    if (e == NULL)
        return QMAR_ERR_PARAM_INVALID;
    /* Run is no cancellation point: a cancel request takes effect after it returns, so a rank
     * never leaves its group halfway through a collective (spec/api.md "Cancellation"). */
    int cancel_state;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
    qmar_status st = check_workspace(e, workspace, workspace_size);
    st = qmar__execute(e, workspace, st);
    qmar_comm *comm = e->comm;
    if (comm->ops->agree_outcome != NULL)
        st = comm->ops->agree_outcome(comm, st);
    executor_free(e);
    pthread_setcancelstate(cancel_state, NULL);
    return st;
}
