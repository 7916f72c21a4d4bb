/* HCCL communicators on qmar's in-process communicator. An HcclComm is one rank's endpoint (a
 * qmar_comm plus the device it stands for); its name is the `group` of the operator. */
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

static qc_comm *wrap(qmar_comm *q, int32_t device, uint32_t rank, uint32_t size)
{
    qc_comm *c = malloc(sizeof *c);
    if (c == NULL)
        return NULL;
    *c = (qc_comm){q, device, rank, size};
    if (qc_reg_add(c, QC_COMM, 0) != 0) {
        free(c);
        return NULL;
    }
    return c;
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
        for (uint32_t i = 0; i < made; i++) {
            qc_reg_take(c[i], QC_COMM, NULL);
            free(c[i]);
        }
        for (uint32_t i = 0; i < ndev; i++)
            qmar_comm_destroy(q[i]);
        return hfail(HCCL_E_MEMORY, api, "out of memory");
    }
    for (uint32_t i = 0; i < ndev; i++)
        comms[i] = c[i];
    return HCCL_SUCCESS;
}

/* ---- root info: ranks that call from their own threads ----------------------------------------
 * A root info names a rendezvous. The first rank to arrive creates the whole qmar communicator;
 * every rank takes its own endpoint; the rendezvous ends when all have taken theirs. Nobody
 * waits, so a rank that never comes leaves its endpoint unused (its peers time out in the
 * operator, as they would on HCCL). */

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
    r = calloc(1, sizeof *r);
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
        return (HcclResult)qc_fail(err, api,
                                   err == HCCL_E_MEMORY ? "out of memory"
                                   : err == HCCL_E_PARA ? "rank joined twice, or nRanks differs "
                                                          "from the other ranks'"
                                                        : "communicator creation failed");
    *comm = c;
    return HCCL_SUCCESS;
}

/* The live endpoint behind a handle, or NULL (and the failure recorded). */
static qc_comm *live(HcclComm comm, const char *api, HcclResult *err)
{
    if (comm == NULL) {
        *err = hfail(HCCL_E_PTR, api, "comm is NULL");
        return NULL;
    }
    if (!qc_reg_has(comm, QC_COMM)) {
        *err = hfail(HCCL_E_PARA, api, "not a live communicator (destroyed, or foreign)");
        return NULL;
    }
    return comm;
}

HcclResult HcclGetCommName(HcclComm comm, char *commName)
{
    HcclResult err;
    if (commName == NULL)
        return hfail(HCCL_E_PTR, "HcclGetCommName", "commName is NULL");
    qc_comm *c = live(comm, "HcclGetCommName", &err);
    if (c == NULL)
        return err;
    char name[QMAR_GROUP_NAME_MAX];
    qmar_comm_get_name(c->q, name);
    memcpy(commName, name, strnlen(name, sizeof name - 1) + 1);
    return HCCL_SUCCESS;
}

HcclResult HcclGetRankSize(HcclComm comm, uint32_t *rankSize)
{
    HcclResult err;
    if (rankSize == NULL)
        return hfail(HCCL_E_PTR, "HcclGetRankSize", "rankSize is NULL");
    qc_comm *c = live(comm, "HcclGetRankSize", &err);
    if (c == NULL)
        return err;
    *rankSize = c->size;
    return HCCL_SUCCESS;
}

HcclResult HcclGetRankId(HcclComm comm, uint32_t *rank)
{
    HcclResult err;
    if (rank == NULL)
        return hfail(HCCL_E_PTR, "HcclGetRankId", "rank is NULL");
    qc_comm *c = live(comm, "HcclGetRankId", &err);
    if (c == NULL)
        return err;
    *rank = c->rank;
    return HCCL_SUCCESS;
}

HcclResult HcclCommDestroy(HcclComm comm)
{
    if (comm == NULL)
        return hfail(HCCL_E_PTR, "HcclCommDestroy", "comm is NULL");
    if (!qc_reg_take(comm, QC_COMM, NULL))
        return hfail(HCCL_E_PARA, "HcclCommDestroy",
                     "not a live communicator (destroyed twice, or foreign)");
    qc_comm *c = comm;
    qmar_comm_destroy(c->q);
    free(c);
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
