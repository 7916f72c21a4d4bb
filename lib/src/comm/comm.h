/* Internal: communicator endpoints, the name registry behind `group`, and the backend interface. */
#ifndef QMAR_SRC_COMM_COMM_H
#define QMAR_SRC_COMM_COMM_H
#include <stdint.h>

#include "qmar/qmar.h"

#define QMAR__DEFAULT_TIMEOUT_MS 60000

/* What a backend (in-process threads, MPI) provides to the endpoints it created. */
typedef struct qmar__backend_ops {
    /* Frees the backend state of one endpoint when its last reference goes. */
    void (*release)(qmar_comm *comm);
} qmar__backend_ops;

struct qmar_comm {
    int32_t rank;
    int32_t size;
    int64_t timeout_ms;
    char name[QMAR_GROUP_NAME_MAX];
    int32_t refs;      /* the user's handle + one per executor planned on it; registry lock */
    int32_t destroyed; /* the user called qmar_comm_destroy: no longer found by name */
    const qmar__backend_ops *ops;
    void *backend;     /* backend's per-endpoint state */
};

/* Timeout for new endpoints: QMAR_COMM_TIMEOUT_MS if it is a positive integer, else the default. */
int64_t qmar__comm_default_timeout_ms(void);

/* Makes the endpoint findable by its name; its refs start at 1 (the user's handle). */
qmar_status qmar__comm_register(qmar_comm *comm);

/* Finds the live endpoint named `name` and takes a reference on it; NULL if none. */
qmar_comm *qmar__comm_acquire(const char *name);

/* Drops a reference taken by qmar__comm_acquire; the last one frees the endpoint. */
void qmar__comm_release(qmar_comm *comm);
#endif
