/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the large buffers of a Run (the packed weight; the threads' packed A, B blocks and
 * int32 blocks), kept on the endpoint for its next Run instead of freed. A freed buffer of
 * megabytes goes back to the kernel, and the next Run touches every page of a fresh one again:
 * a page fault and a page of zeros each (one rank, m = 1024, k = 2048, n = 4096 on a Zen 5 VM:
 * 14.3-17.5 ms a Run freeing them, 13.5-13.8 ms keeping them). What is kept is freed with the
 * endpoint; a Run that needs more replaces a kept buffer by a larger one. */
#ifndef QMAR_SRC_SCRATCH_H
#define QMAR_SRC_SCRATCH_H
#include <stdint.h>

typedef struct qmar__scratch_buf {
    void *ptr;      /* NULL: nothing kept */
    uint64_t bytes; /* its usable size */
} qmar__scratch_buf;

typedef struct qmar__scratch {
    qmar__scratch_buf weight; /* the packed x2 */
    qmar__scratch_buf work;   /* the threads' buffers */
} qmar__scratch;

/* A buffer of at least `bytes`: the one *kept holds when it is that large (taken out of it), else
 * a new one from alloc (what *kept held is freed first). kept may be NULL (nothing is kept).
 * *got is the buffer's usable size; NULL when alloc fails. */
void *qmar__scratch_take(qmar__scratch_buf *kept, uint64_t bytes, void *(*alloc)(uint64_t),
                         uint64_t *got);

/* Gives p (`bytes` usable) back to *kept for the next Run; frees it when kept is NULL or already
 * holds a buffer. p may be NULL. */
void qmar__scratch_give(qmar__scratch_buf *kept, void *p, uint64_t bytes);

/* Frees what s keeps. */
void qmar__scratch_free(qmar__scratch *s);
#endif
