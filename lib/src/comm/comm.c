/* Communicator endpoints: the public accessors, the registry that resolves a `group` name, and
 * reference counting, so an executor keeps its endpoint alive even if the user destroys it. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../error.h"
#include "comm.h"

/* Live endpoints. A fixed table keeps lookups simple; 4096 endpoints is far more than any
 * process drives (8 ranks per group). */
#define REGISTRY_CAP 4096
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static qmar_comm *registry[REGISTRY_CAP];

int64_t qmar__comm_default_timeout_ms(void)
{
    const char *env = getenv("QMAR_COMM_TIMEOUT_MS");
    if (env == NULL || *env == '\0')
        return QMAR__DEFAULT_TIMEOUT_MS;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(env, &end, 10);
    if (errno != 0 || *end != '\0' || v < 1)
        return QMAR__DEFAULT_TIMEOUT_MS;
    return (int64_t)v;
}

qmar_status qmar__comm_register(qmar_comm *comm)
{
    pthread_mutex_lock(&registry_lock);
    for (int i = 0; i < REGISTRY_CAP; i++) {
        if (registry[i] == NULL) {
            comm->refs = 1;
            registry[i] = comm;
            pthread_mutex_unlock(&registry_lock);
            return QMAR_SUCCESS;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    return qmar__fail(QMAR_ERR_INNER, "comm: registry full (%d live endpoints)", REGISTRY_CAP);
}

qmar_comm *qmar__comm_acquire(const char *name)
{
    qmar_comm *found = NULL;
    pthread_mutex_lock(&registry_lock);
    for (int i = 0; i < REGISTRY_CAP && found == NULL; i++) {
        if (registry[i] != NULL && strncmp(registry[i]->name, name, QMAR_GROUP_NAME_MAX) == 0) {
            found = registry[i];
            found->refs++;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    return found;
}

/* Caller holds registry_lock. */
static void unregister_locked(qmar_comm *comm)
{
    for (int i = 0; i < REGISTRY_CAP; i++)
        if (registry[i] == comm)
            registry[i] = NULL;
}

void qmar__comm_release(qmar_comm *comm)
{
    if (comm == NULL)
        return;
    pthread_mutex_lock(&registry_lock);
    int last = --comm->refs == 0;
    if (last)
        unregister_locked(comm);
    pthread_mutex_unlock(&registry_lock);
    if (last) {
        if (comm->ops != NULL && comm->ops->release != NULL)
            comm->ops->release(comm);
        free(comm);
    }
}

qmar_status qmar_comm_get_name(const qmar_comm *comm, char name[QMAR_GROUP_NAME_MAX])
{
    if (comm == NULL || name == NULL)
        return qmar__fail(QMAR_ERR_PARAM_NULLPTR, "comm_get_name: %s is NULL",
                          comm == NULL ? "comm" : "name");
    memcpy(name, comm->name, QMAR_GROUP_NAME_MAX);
    return QMAR_SUCCESS;
}

qmar_status qmar_comm_rank(const qmar_comm *comm, int32_t *rank)
{
    if (comm == NULL || rank == NULL)
        return qmar__fail(QMAR_ERR_PARAM_NULLPTR, "comm_rank: %s is NULL",
                          comm == NULL ? "comm" : "rank");
    *rank = comm->rank;
    return QMAR_SUCCESS;
}

qmar_status qmar_comm_size(const qmar_comm *comm, int32_t *size)
{
    if (comm == NULL || size == NULL)
        return qmar__fail(QMAR_ERR_PARAM_NULLPTR, "comm_size: %s is NULL",
                          comm == NULL ? "comm" : "size");
    *size = comm->size;
    return QMAR_SUCCESS;
}

qmar_status qmar_comm_set_timeout_ms(qmar_comm *comm, int64_t timeout_ms)
{
    if (comm == NULL)
        return qmar__fail(QMAR_ERR_PARAM_NULLPTR, "comm_set_timeout_ms: comm is NULL");
    if (timeout_ms < 1)
        return qmar__fail(QMAR_ERR_PARAM_INVALID, "comm_set_timeout_ms: timeout %lld < 1 ms",
                          (long long)timeout_ms);
    comm->timeout_ms = timeout_ms;
    return QMAR_SUCCESS;
}

qmar_status qmar_comm_revoke(qmar_comm *comm)
{
    if (comm == NULL)
        return qmar__fail(QMAR_ERR_PARAM_NULLPTR, "comm_revoke: comm is NULL");
    comm->ops->revoke(comm);
    return QMAR_SUCCESS;
}

qmar_status qmar_comm_destroy(qmar_comm *comm)
{
    if (comm == NULL)
        return qmar__fail(QMAR_ERR_PARAM_NULLPTR, "comm_destroy: comm is NULL");
    pthread_mutex_lock(&registry_lock);
    int twice = comm->destroyed;
    if (!twice) {
        comm->destroyed = 1;
        unregister_locked(comm); /* its name resolves no more, even while executors hold it */
    }
    pthread_mutex_unlock(&registry_lock);
    if (twice)
        return qmar__fail(QMAR_ERR_PARAM_INVALID, "comm_destroy: endpoint already destroyed");
    qmar__comm_release(comm);
    return QMAR_SUCCESS;
}
