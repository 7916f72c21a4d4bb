/* SPDX-License-Identifier: Apache-2.0 */
/* Communicator endpoints: the public accessors, the registry that resolves a `group` name, and
 * reference counting, so an executor keeps its endpoint alive even if the user destroys it. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../error.h"
#include "../handle.h"
#include "../worker.h"
#include "comm.h"

/* Live endpoints by name. A fixed table keeps lookups simple; 4096 endpoints is far more than
 * any process drives (8 ranks per group). Guarded by the handle table's lock (handle.h), which
 * also guards every endpoint's refs and destroyed. */
#define REGISTRY_CAP 4096
static qmar_comm *registry[REGISTRY_CAP];

int64_t qmar__comm_default_timeout_ms(void)
{
    const char *env = getenv("QMAR_COMM_TIMEOUT_MS");
    if (env == NULL || *env == '\0')
        return QMAR__DEFAULT_TIMEOUT_MS;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(env, &end, 10);
    if (errno != 0 || *end != '\0' || v < 1) {
        static atomic_int warned; /* once per process, like QMAR_ISA */
        if (atomic_exchange(&warned, 1) == 0)
            fprintf(stderr, "qmar: QMAR_COMM_TIMEOUT_MS=%s is not a positive integer (ms); "
                    "using %d\n", env, QMAR__DEFAULT_TIMEOUT_MS);
        return QMAR__DEFAULT_TIMEOUT_MS;
    }
    return (int64_t)v;
}

qmar_status qmar__comm_register(qmar_comm *comm)
{
    qmar__handles_lock();
    int i = 0;
    while (i < REGISTRY_CAP && registry[i] != NULL)
        i++;
    if (i < REGISTRY_CAP)
        comm->handle = qmar__handle_add_locked(comm, QMAR__HANDLE_COMM);
    if (i < REGISTRY_CAP && comm->handle != NULL) {
        comm->refs = 1;
        registry[i] = comm;
    }
    qmar__handles_unlock();
    if (i == REGISTRY_CAP)
        return qmar__fail(QMAR_ERR_INNER, "comm: registry full (%d live endpoints)", REGISTRY_CAP);
    if (comm->handle == NULL)
        return qmar__fail(QMAR_ERR_INNER, "comm: out of memory for the handle table");
    return QMAR_SUCCESS;
}

qmar_comm *qmar__comm_handle(const qmar_comm *comm)
{
    return comm->handle;
}

qmar_comm *qmar__comm_acquire(const char *name)
{
    qmar_comm *found = NULL;
    qmar__handles_lock();
    for (int i = 0; i < REGISTRY_CAP && found == NULL; i++) {
        if (registry[i] != NULL && strncmp(registry[i]->name, name, QMAR_GROUP_NAME_MAX) == 0) {
            found = registry[i];
            found->refs++;
        }
    }
    qmar__handles_unlock();
    return found;
}

/* Caller holds the lock. */
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
    qmar__handles_lock();
    int last = --comm->refs == 0;
    if (last) {
        unregister_locked(comm);
        if (!comm->destroyed) /* never handed out, or a failed init undoing itself */
            qmar__handle_remove_locked(comm->handle);
    }
    qmar__handles_unlock();
    if (last) {
        qmar__worker_free(comm->worker);
        qmar__scratch_free(&comm->scratch);
        if (comm->ops != NULL && comm->ops->release != NULL)
            comm->ops->release(comm);
        free(comm);
    }
}

/* The live endpoint behind a caller's handle, with a reference taken (qmar__comm_release), or
 * NULL with a reason: 161001 for NULL, 161002 for anything else that is not a live endpoint. */
static qmar_comm *resolve(const qmar_comm *handle, const char *api, qmar_status *st)
{
    if (handle == NULL) {
        *st = qmar__fail(QMAR_ERR_PARAM_NULLPTR, "%s: comm is NULL", api);
        return NULL;
    }
    qmar__handles_lock();
    qmar_comm *c = qmar__handle_find_locked(handle, QMAR__HANDLE_COMM);
    if (c != NULL)
        c->refs++;
    qmar__handles_unlock();
    if (c == NULL)
        *st = qmar__fail(QMAR_ERR_PARAM_INVALID,
                         "%s: comm is not a live endpoint (destroyed, or never created)", api);
    else
        *st = QMAR_SUCCESS;
    return c;
}

qmar_status qmar_comm_get_name(const qmar_comm *comm, char name[QMAR_GROUP_NAME_MAX])
{
    if (name == NULL && comm != NULL)
        return qmar__fail(QMAR_ERR_PARAM_NULLPTR, "comm_get_name: name is NULL");
    qmar_status st;
    qmar_comm *c = resolve(comm, "comm_get_name", &st);
    if (c == NULL)
        return st;
    memcpy(name, c->name, QMAR_GROUP_NAME_MAX);
    qmar__comm_release(c);
    return QMAR_SUCCESS;
}

qmar_status qmar_comm_rank(const qmar_comm *comm, int32_t *rank)
{
    if (rank == NULL && comm != NULL)
        return qmar__fail(QMAR_ERR_PARAM_NULLPTR, "comm_rank: rank is NULL");
    qmar_status st;
    qmar_comm *c = resolve(comm, "comm_rank", &st);
    if (c == NULL)
        return st;
    *rank = c->rank;
    qmar__comm_release(c);
    return QMAR_SUCCESS;
}

qmar_status qmar_comm_size(const qmar_comm *comm, int32_t *size)
{
    if (size == NULL && comm != NULL)
        return qmar__fail(QMAR_ERR_PARAM_NULLPTR, "comm_size: size is NULL");
    qmar_status st;
    qmar_comm *c = resolve(comm, "comm_size", &st);
    if (c == NULL)
        return st;
    *size = c->size;
    qmar__comm_release(c);
    return QMAR_SUCCESS;
}

qmar_status qmar_comm_set_timeout_ms(qmar_comm *comm, int64_t timeout_ms)
{
    qmar_status st;
    qmar_comm *c = resolve(comm, "comm_set_timeout_ms", &st);
    if (c == NULL)
        return st;
    if (timeout_ms < 1)
        st = qmar__fail(QMAR_ERR_PARAM_INVALID, "comm_set_timeout_ms: timeout %lld < 1 ms",
                        (long long)timeout_ms);
    else
        c->timeout_ms = timeout_ms;
    qmar__comm_release(c);
    return st;
}

qmar_status qmar_comm_revoke(qmar_comm *comm)
{
    qmar_status st;
    qmar_comm *c = resolve(comm, "comm_revoke", &st);
    if (c == NULL)
        return st;
    c->ops->revoke(c);
    qmar__comm_release(c);
    return QMAR_SUCCESS;
}

qmar_status qmar_comm_destroy(qmar_comm *comm)
{
    if (comm == NULL)
        return qmar__fail(QMAR_ERR_PARAM_NULLPTR, "comm_destroy: comm is NULL");
    qmar__handles_lock();
    qmar_comm *c = qmar__handle_find_locked(comm, QMAR__HANDLE_COMM);
    if (c != NULL) {
        c->destroyed = 1;
        unregister_locked(c); /* its name resolves no more, even while executors hold it */
        qmar__handle_remove_locked(comm); /* a second destroy finds nothing */
    }
    qmar__handles_unlock();
    if (c == NULL)
        return qmar__fail(QMAR_ERR_PARAM_INVALID,
                          "comm_destroy: comm is not a live endpoint (already destroyed, or "
                          "never created)");
    qmar__comm_release(c);
    return QMAR_SUCCESS;
}
