/* The in-process communicator: one group shared by nranks endpoints, each driven by a thread. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "../error.h"
#include "comm.h"
#include "inproc.h"

static atomic_uint_fast64_t next_group_id;

static void inproc_release(qmar_comm *comm)
{
    qmar__inproc_group *g = comm->backend;
    pthread_mutex_lock(&g->lock);
    int last = --g->endpoints == 0;
    pthread_mutex_unlock(&g->lock);
    if (last) {
        pthread_cond_destroy(&g->changed);
        pthread_mutex_destroy(&g->lock);
        free(g);
    }
}

static const qmar__backend_ops inproc_ops = {.release = inproc_release};

static qmar__inproc_group *group_create(int32_t nranks)
{
    qmar__inproc_group *g = calloc(1, sizeof *g);
    if (g == NULL)
        return NULL;
    if (pthread_mutex_init(&g->lock, NULL) != 0) {
        free(g);
        return NULL;
    }
    if (pthread_cond_init(&g->changed, NULL) != 0) {
        pthread_mutex_destroy(&g->lock);
        free(g);
        return NULL;
    }
    g->size = nranks;
    g->endpoints = 0;
    return g;
}

/* Undoes a partly built init_all: the first `made` endpoints are registered. */
static void unwind(qmar_comm **comms, int32_t made, qmar__inproc_group *g)
{
    for (int32_t r = 0; r < made; r++) {
        qmar_comm_destroy(comms[r]);
        comms[r] = NULL;
    }
    if (made == 0) {
        pthread_cond_destroy(&g->changed);
        pthread_mutex_destroy(&g->lock);
        free(g);
    }
}

qmar_status qmar_comm_init_all(int32_t nranks, qmar_comm **comms)
{
    if (comms == NULL)
        return qmar__fail(QMAR_ERR_PARAM_NULLPTR, "comm_init_all: comms is NULL");
    if (nranks < 1 || nranks > QMAR_COMM_MAX_RANKS)
        return qmar__fail(QMAR_ERR_PARAM_INVALID, "comm_init_all: nranks %d not in 1..%d",
                          (int)nranks, QMAR_COMM_MAX_RANKS);
    qmar__inproc_group *g = group_create(nranks);
    if (g == NULL)
        return qmar__fail(QMAR_ERR_INNER, "comm_init_all: out of memory");
    uint64_t id = atomic_fetch_add(&next_group_id, 1);
    int64_t timeout = qmar__comm_default_timeout_ms();
    for (int32_t r = 0; r < nranks; r++) {
        qmar_comm *c = calloc(1, sizeof *c);
        if (c == NULL) {
            unwind(comms, r, g);
            return qmar__fail(QMAR_ERR_INNER, "comm_init_all: out of memory");
        }
        c->rank = r;
        c->size = nranks;
        c->timeout_ms = timeout;
        snprintf(c->name, sizeof c->name, "qmar-inproc-g%llu-r%d", (unsigned long long)id, (int)r);
        c->ops = &inproc_ops;
        c->backend = g;
        g->endpoints++;
        qmar_status st = qmar__comm_register(c);
        if (st != QMAR_SUCCESS) {
            g->endpoints--;
            free(c);
            unwind(comms, r, g);
            return st;
        }
        comms[r] = c;
    }
    return QMAR_SUCCESS;
}
