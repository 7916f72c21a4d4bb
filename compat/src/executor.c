/* SPDX-License-Identifier: Apache-2.0 */
/* Executors: handing out their handles, releasing them, and aclDestroyAclOpExecutor. A handle is
 * never reused (registry.c), so a consumed or destroyed one stays an error code forever, and the
 * group of the last STALE_MEMORY operator executors is remembered: a rank that runs a stale
 * handle fails locally, and breaks that group so its peers do not wait for the timeout. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"

#define STALE_MEMORY 256

static pthread_mutex_t stale_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    const void *handle;
    char group[QMAR_GROUP_NAME_MAX];
} stale[STALE_MEMORY];
static unsigned stale_next;

int32_t qc_executor_publish(qc_executor *e, aclOpExecutor **out, const char *api)
{
    const void *h;
    if (qc_reg_add_handle(e, sizeof *e, QC_EXECUTOR, &h) != 0) {
        qc_executor_free(e, NULL);
        return qc_fail(ACLNN_ERR_INNER, api, "out of memory (executor handle)");
    }
    *out = (aclOpExecutor *)(uintptr_t)h;
    return ACLNN_SUCCESS;
}

void qc_executor_free(qc_executor *e, const void *handle)
{
    if (e->kind == QC_EXEC_QMAR) {
        if (handle != NULL) {
            pthread_mutex_lock(&stale_lock);
            stale[stale_next].handle = handle;
            memcpy(stale[stale_next].group, e->u.op.group, QMAR_GROUP_NAME_MAX);
            stale_next = (stale_next + 1) % STALE_MEMORY;
            pthread_mutex_unlock(&stale_lock);
        }
        qmar_executor_destroy(e->u.op.q); /* NULL once it was run */
        qc_comm_release(e->u.op.comm);
    }
    free(e);
}

int qc_executor_stale_group(const void *handle, char group[QMAR_GROUP_NAME_MAX])
{
    int found = 0;
    pthread_mutex_lock(&stale_lock);
    for (unsigned i = 0; i < STALE_MEMORY && !found; i++) {
        if (stale[i].handle == handle && handle != NULL) {
            memcpy(group, stale[i].group, QMAR_GROUP_NAME_MAX);
            found = 1;
        }
    }
    pthread_mutex_unlock(&stale_lock);
    return found;
}

aclnnStatus aclDestroyAclOpExecutor(aclOpExecutor *executor)
{
    if (executor == NULL)
        return qc_fail(ACLNN_ERR_PARAM_NULLPTR, "aclDestroyAclOpExecutor", "executor is NULL");
    qc_executor *e = qc_reg_take_executor(executor, 0);
    if (e == NULL)
        return qc_fail(ACLNN_ERR_PARAM_INVALID, "aclDestroyAclOpExecutor",
                       "%p is not a live executor (already run or destroyed, or foreign)",
                       (void *)executor);
    qc_executor_free(e, executor);
    return ACLNN_SUCCESS;
}
