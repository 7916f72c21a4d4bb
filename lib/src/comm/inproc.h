/* Internal: the in-process backend, ranks being threads of one process. */
#ifndef QMAR_SRC_COMM_INPROC_H
#define QMAR_SRC_COMM_INPROC_H
#include <pthread.h>
#include <stdint.h>

/* State shared by the endpoints of one in-process group. */
typedef struct qmar__inproc_group {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int32_t size;
    int32_t endpoints; /* endpoints still referencing this group */
} qmar__inproc_group;
#endif
