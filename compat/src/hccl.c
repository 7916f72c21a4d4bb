/* SPDX-License-Identifier: Apache-2.0 */
/* HCCL communicators on qmar's in-process communicator. An HcclComm is one rank's endpoint (a
 * qmar_comm plus the device it stands for); its name is the `group` of the operator. Executors
 * planned on an endpoint hold a reference, so that a rank whose run fails can still break the
 * group (qmar_comm_revoke) after HcclCommDestroy; the last reference releases it. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"

static HcclResult hfail(HcclResult r, const char *api, const char *reason)
{
    return (HcclResult)qc_fail((int32_t)r, api, "%s", reason);
}

static HcclResult from_qmar(qmar_status s)
{
    return s == QMAR_ERR_INNER ? HCCL_E_MEMORY : s == QMAR_ERR_PARAM_NULLPTR ? HCCL_E_PTR
                                                                              : HCCL_E_INTERNAL;
}

/* Every endpoint not yet released (live, or destroyed with executors still referring to it). */
static pthread_mutex_t comm_lock = PTHREAD_MUTEX_INITIALIZER;
static qc_comm *endpoints;

static qc_comm *wrap(qmar_comm *q, int32_t device, uint32_t rank, uint32_t size)
{
    qc_comm *c = qc_calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->q = q;
    c->device = device;
    c->rank = rank;
    c->size = size;
    qmar_comm_get_name(q, c->name);
    if (qc_reg_add_handle(c, sizeof *c, QC_COMM, &c->handle) != 0) {
        free(c);
        return NULL;
    }
    pthread_mutex_lock(&comm_lock);
    c->next = endpoints;
    endpoints = c;
    pthread_mutex_unlock(&comm_lock);
    return c;
}

/* Undoes wrap for a handle never handed out, or releases a destroyed one. Caller holds
 * comm_lock; the qmar endpoint is destroyed by the caller. */
static void unlink_locked(qc_comm *c)
{
    qc_comm **p = &endpoints;
    while (*p != c)
        p = &(*p)->next;
    *p = c->next;
}

static qc_comm *find_locked(const char *group)
{
    qc_comm *c = endpoints;
    while (c != NULL && strncmp(c->name, group, QMAR_GROUP_NAME_MAX) != 0)
        c = c->next;
    return c;
}

qc_comm *qc_comm_acquire(const char *group, int *destroyed)
{
    pthread_mutex_lock(&comm_lock);
    qc_comm *c = find_locked(group);
    *destroyed = c != NULL && c->destroyed;
    if (c != NULL && !c->destroyed)
        c->executors++;
    else
        c = NULL;
    pthread_mutex_unlock(&comm_lock);
    return c;
}

void qc_comm_release(qc_comm *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&comm_lock);
    int last = --c->executors == 0 && c->destroyed;
    if (last)
        unlink_locked(c);
    pthread_mutex_unlock(&comm_lock);
    if (last) {
        qmar_comm_destroy(c->q);
        free(c);
    }
}

void qc_comm_revoke(qc_comm *c)
{
    if (c != NULL)
        qmar_comm_revoke(c->q);
}

void qc_comm_revoke_by_name(const char *group)
{
    pthread_mutex_lock(&comm_lock);
    qc_comm *c = find_locked(group);
    if (c != NULL)
        qmar_comm_revoke(c->q); /* under the lock: c cannot be released meanwhile */
    pthread_mutex_unlock(&comm_lock);
}

/* A handle wrap made that is not handed out after all. */
static void unwrap(qc_comm *c)
{
    qc_reg_take(c->handle, QC_COMM, NULL);
    pthread_mutex_lock(&comm_lock);
    unlink_locked(c);
    pthread_mutex_unlock(&comm_lock);
    free(c);
}

HcclResult HcclCommInitAll(uint32_t ndev, int32_t *devices, HcclComm *comms)
{
    const char *api = "HcclCommInitAll";
    if (devices == NULL || comms == NULL)
        return hfail(HCCL_E_PTR, api, devices == NULL ? "devices is NULL" : "comms is NULL");
    if (ndev < 1 || ndev > QMAR_COMM_MAX_RANKS)
        return (HcclResult)qc_fail(HCCL_E_PARA, api, "ndev %u is not in 1..%d", ndev,
                                   QMAR_COMM_MAX_RANKS);
    for (uint32_t i = 0; i < ndev; i++) {
        if (devices[i] < 0 || devices[i] >= qc_device_count())
            return (HcclResult)qc_fail(HCCL_E_PARA, api, "devices[%u] = %d is not in 0..%d", i,
                                       (int)devices[i], qc_device_count() - 1);
        for (uint32_t j = 0; j < i; j++)
            if (devices[j] == devices[i])
                return (HcclResult)qc_fail(HCCL_E_PARA, api, "device %d is listed twice",
                                           (int)devices[i]);
    }
    qmar_comm *q[QMAR_COMM_MAX_RANKS];
    qmar_status s = qmar_comm_init_all((int32_t)ndev, q);
    if (s != QMAR_SUCCESS)
        return (HcclResult)qc_fail_qmar((int32_t)from_qmar(s), api);
    qc_comm *c[QMAR_COMM_MAX_RANKS];
    uint32_t made = 0;
    for (; made < ndev; made++) {
        c[made] = wrap(q[made], devices[made], made, ndev);
        if (c[made] == NULL)
            break;
    }
    if (made < ndev) { /* undo everything: no half-built communicator escapes */
        for (uint32_t i = 0; i < made; i++)
            unwrap(c[i]);
        for (uint32_t i = 0; i < ndev; i++)
            qmar_comm_destroy(q[i]);
        return hfail(HCCL_E_MEMORY, api, "out of memory");
    }
    for (uint32_t i = 0; i < ndev; i++)
        comms[i] = (HcclComm)(uintptr_t)c[i]->handle;
    return HCCL_SUCCESS;
}

/* ---- root info: ranks that call from their own threads ----------------------------------------
 * A root info names a rendezvous. The first rank to arrive creates the whole qmar communicator;
 * every rank takes its own endpoint; the rendezvous closes when all have taken theirs, and a
 * closed rendezvous cannot be joined again (its id is remembered: a late rank gets an error, not
 * a group of its own that nobody else can join). Nobody waits, so a rank that never comes leaves
 * its endpoint unused (its peers time out in the operator, as they would on HCCL). */

#define ROOT_MAGIC "qmar-compat-root"

typedef struct root_bytes {
    char magic[16];
    uint64_t pid;
    uint64_t id;
} root_bytes;

typedef struct rendezvous {
    struct rendezvous *next;
    uint64_t id;
    uint32_t nranks, taken;
    qmar_comm *q[QMAR_COMM_MAX_RANKS];
    unsigned char done[QMAR_COMM_MAX_RANKS];
} rendezvous;

static pthread_mutex_t root_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t next_root_id = 1;
static rendezvous *pending;
/* Ids of closed rendezvous: a bit per id below next_root_id, in 64-bit words. */
static uint64_t *closed_ids;
static size_t closed_words;

static int is_closed_locked(uint64_t id)
{
    return id / 64 < closed_words && (closed_ids[id / 64] >> (id % 64) & 1) != 0;
}

/* 0, or -1 when the bitmap cannot grow (out of memory). */
static int reserve_closed_locked(uint64_t id)
{
    if (id / 64 < closed_words)
        return 0;
    size_t words = closed_words == 0 ? 16 : closed_words;
    while (id / 64 >= words)
        words *= 2;
    uint64_t *bits = qc_calloc(words, sizeof *bits);
    if (bits == NULL)
        return -1;
    if (closed_words > 0)
        memcpy(bits, closed_ids, closed_words * sizeof *bits);
    free(closed_ids);
    closed_ids = bits;
    closed_words = words;
    return 0;
}

HcclResult HcclGetRootInfo(HcclRootInfo *rootInfo)
{
    if (rootInfo == NULL)
        return hfail(HCCL_E_PTR, "HcclGetRootInfo", "rootInfo is NULL");
    root_bytes rb;
    memset(&rb, 0, sizeof rb);
    memcpy(rb.magic, ROOT_MAGIC, sizeof rb.magic);
    rb.pid = (uint64_t)getpid();
    pthread_mutex_lock(&root_lock);
    rb.id = next_root_id++;
    pthread_mutex_unlock(&root_lock);
    memset(rootInfo, 0, sizeof *rootInfo);
    memcpy(rootInfo->internal, &rb, sizeof rb);
    return HCCL_SUCCESS;
}

static rendezvous *find_or_open(uint64_t id, uint32_t nranks, HcclResult *err)
{
    rendezvous *r = pending;
    while (r != NULL && r->id != id)
        r = r->next;
    if (r != NULL) {
        *err = r->nranks == nranks ? HCCL_SUCCESS : HCCL_E_PARA;
        return r;
    }
    if (id == 0 || id >= next_root_id || is_closed_locked(id)) {
        *err = HCCL_E_PARA; /* never issued, or closed: all its ranks have joined */
        return NULL;
    }
    /* Room to mark it closed later, so that closing cannot fail. */
    r = reserve_closed_locked(id) == 0 ? qc_calloc(1, sizeof *r) : NULL;
    if (r == NULL) {
        *err = HCCL_E_MEMORY;
        return NULL;
    }
    qmar_status s = qmar_comm_init_all((int32_t)nranks, r->q);
    if (s != QMAR_SUCCESS) {
        free(r);
        *err = from_qmar(s);
        return NULL;
    }
    r->id = id;
    r->nranks = nranks;
    r->next = pending;
    pending = r;
    *err = HCCL_SUCCESS;
    return r;
}

static void close_rendezvous(rendezvous *r)
{
    rendezvous **p = &pending;
    while (*p != r)
        p = &(*p)->next;
    *p = r->next;
    closed_ids[r->id / 64] |= UINT64_C(1) << (r->id % 64);
    free(r);
}

HcclResult HcclCommInitRootInfo(uint32_t nRanks, const HcclRootInfo *rootInfo, uint32_t rank,
                                HcclComm *comm)
{
    const char *api = "HcclCommInitRootInfo";
    if (rootInfo == NULL || comm == NULL)
        return hfail(HCCL_E_PTR, api, rootInfo == NULL ? "rootInfo is NULL" : "comm is NULL");
    if (nRanks < 1 || nRanks > QMAR_COMM_MAX_RANKS || rank >= nRanks)
        return (HcclResult)qc_fail(HCCL_E_PARA, api, "rank %u of %u ranks (1..%d ranks)", rank,
                                   nRanks, QMAR_COMM_MAX_RANKS);
    root_bytes rb;
    memcpy(&rb, rootInfo->internal, sizeof rb);
    if (memcmp(rb.magic, ROOT_MAGIC, sizeof rb.magic) != 0)
        return hfail(HCCL_E_PARA, api, "rootInfo did not come from HcclGetRootInfo");
    if (rb.pid != (uint64_t)getpid())
        return hfail(HCCL_E_NOT_SUPPORT, api,
                     "rootInfo comes from another process: communicators across processes "
                     "are not emulated (ranks must be threads of one process)");
    int32_t device = qc_current_device();
    if (device < 0)
        device = (int32_t)rank; /* no current device: the rank stands for itself */
    HcclResult err;
    pthread_mutex_lock(&root_lock);
    rendezvous *r = find_or_open(rb.id, nRanks, &err);
    qc_comm *c = NULL;
    if (r != NULL && err == HCCL_SUCCESS && !r->done[rank]) {
        c = wrap(r->q[rank], device, rank, nRanks);
        if (c != NULL) {
            r->done[rank] = 1;
            if (++r->taken == nRanks)
                close_rendezvous(r);
        } else {
            err = HCCL_E_MEMORY;
        }
    } else if (r != NULL && err == HCCL_SUCCESS) {
        err = HCCL_E_PARA; /* this rank already joined */
    }
    pthread_mutex_unlock(&root_lock);
    if (c == NULL)
        return (HcclResult)qc_fail(err, api, "%s",
                                   err == HCCL_E_MEMORY ? "out of memory"
                                   : err != HCCL_E_PARA ? "communicator creation failed"
                                   : r == NULL ? "the rendezvous of this rootInfo is closed (all "
                                                 "its ranks have joined) or was never issued"
                                               : "rank joined twice, or nRanks differs from the "
                                                 "other ranks'");
    *comm = (HcclComm)(uintptr_t)c->handle;
    return HCCL_SUCCESS;
}

/* A copy of the fixed fields of the live endpoint behind a handle: 1, or 0 (and the failure
 * recorded in *err). */
static int live(HcclComm comm, qc_comm *copy, const char *api, HcclResult *err)
{
    if (comm == NULL) {
        *err = hfail(HCCL_E_PTR, api, "comm is NULL");
        return 0;
    }
    if (qc_reg_read(comm, QC_COMM, copy, QC_COMM_FIXED) != QC_COMM_FIXED) {
        *err = hfail(HCCL_E_PARA, api, "not a live communicator (destroyed, or foreign)");
        return 0;
    }
    return 1;
}

HcclResult HcclGetCommName(HcclComm comm, char *commName)
{
    HcclResult err;
    if (commName == NULL)
        return hfail(HCCL_E_PTR, "HcclGetCommName", "commName is NULL");
    qc_comm c;
    if (!live(comm, &c, "HcclGetCommName", &err))
        return err;
    memcpy(commName, c.name, strnlen(c.name, sizeof c.name - 1) + 1);
    return HCCL_SUCCESS;
}

HcclResult HcclGetRankSize(HcclComm comm, uint32_t *rankSize)
{
    HcclResult err;
    if (rankSize == NULL)
        return hfail(HCCL_E_PTR, "HcclGetRankSize", "rankSize is NULL");
    qc_comm c;
    if (!live(comm, &c, "HcclGetRankSize", &err))
        return err;
    *rankSize = c.size;
    return HCCL_SUCCESS;
}

HcclResult HcclGetRankId(HcclComm comm, uint32_t *rank)
{
    HcclResult err;
    if (rank == NULL)
        return hfail(HCCL_E_PTR, "HcclGetRankId", "rank is NULL");
    qc_comm c;
    if (!live(comm, &c, "HcclGetRankId", &err))
        return err;
    *rank = c.rank;
    return HCCL_SUCCESS;
}

HcclResult HcclCommDestroy(HcclComm comm)
{
    if (comm == NULL)
        return hfail(HCCL_E_PTR, "HcclCommDestroy", "comm is NULL");
    qc_comm *c = qc_reg_take_obj(comm, QC_COMM);
    if (c == NULL)
        return hfail(HCCL_E_PARA, "HcclCommDestroy",
                     "not a live communicator (destroyed twice, or foreign)");
    pthread_mutex_lock(&comm_lock);
    c->destroyed = 1;
    int now = c->executors == 0;
    if (now)
        unlink_locked(c);
    pthread_mutex_unlock(&comm_lock);
    if (now) { /* else the last executor that refers to it releases it */
        qmar_comm_destroy(c->q);
        free(c);
    }
    return HCCL_SUCCESS;
}

const char *HcclGetErrorString(HcclResult code)
{
    static const char *const text[] = {
        "success", "parameter error", "empty pointer", "memory error", "internal error",
        "not supported", "not found", "resource unavailable", "system call error", "timeout",
        "open file failure", "tcp connect failure", "roce connect failure",
        "tcp transfer failure", "roce transfer failure", "runtime call failure",
        "driver call failure", "profiling call failure", "cce call failure",
        "network call failure", "try again", "remote error", "communicator suspending",
        "operation retry failure", "out of memory",
    };
    if ((unsigned)code < sizeof text / sizeof text[0])
        return text[code];
    return "unknown HcclResult";
}
