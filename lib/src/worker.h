/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: an endpoint's helper thread, which computes row blocks while the rank's own thread
 * communicates (execute.c). Made at the first Run that wants it and kept until the endpoint is
 * freed, so that no Run pays for creating a thread. */
#ifndef QMAR_SRC_WORKER_H
#define QMAR_SRC_WORKER_H

typedef struct qmar__worker qmar__worker;

/* Runs fn(arg) on *w's thread, making the thread first if *w is NULL. Returns 0, or -1 when no
 * thread could be had (no memory, no thread): the caller then does the work itself. One job at
 * a time: the caller waits (qmar__worker_wait) before it starts the next. */
int qmar__worker_start(qmar__worker **w, void (*fn)(void *), void *arg);

/* Waits until the job started last has returned. */
void qmar__worker_wait(qmar__worker *w);

/* Ends the thread (after its job, if any) and frees it; NULL is fine. */
void qmar__worker_free(qmar__worker *w);
#endif
