/* SPDX-License-Identifier: Apache-2.0 */
/* An endpoint's helper thread (worker.h): one job slot under a mutex, two condition variables. */
#include "worker.h"

#include <pthread.h>
#include <stdlib.h>

#include "fault.h"

struct qmar__worker {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* a job or the end was posted */
    pthread_cond_t idle; /* the job returned */
    void (*fn)(void *);
    void *arg;
    int busy; /* a job is posted or running */
    int quit;
};

static void *worker_main(void *arg)
{
    qmar__worker *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->busy && !w->quit)
            pthread_cond_wait(&w->wake, &w->lock);
        if (!w->busy) /* quit, with nothing left to do */
            break;
        pthread_mutex_unlock(&w->lock);
        w->fn(w->arg);
        pthread_mutex_lock(&w->lock);
        w->busy = 0;
        pthread_cond_signal(&w->idle);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static qmar__worker *worker_make(void)
{
    qmar__worker *w = qmar__calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    int mutex = pthread_mutex_init(&w->lock, NULL) == 0;
    int wake = pthread_cond_init(&w->wake, NULL) == 0;
    int idle = pthread_cond_init(&w->idle, NULL) == 0;
    if (mutex && wake && idle && pthread_create(&w->thread, NULL, worker_main, w) == 0)
        return w;
    if (idle)
        pthread_cond_destroy(&w->idle);
    if (wake)
        pthread_cond_destroy(&w->wake);
    if (mutex)
        pthread_mutex_destroy(&w->lock);
    free(w);
    return NULL;
}

int qmar__worker_start(qmar__worker **w, void (*fn)(void *), void *arg)
{
    if (*w == NULL && (*w = worker_make()) == NULL)
        return -1;
    pthread_mutex_lock(&(*w)->lock);
    (*w)->fn = fn;
    (*w)->arg = arg;
    (*w)->busy = 1;
    pthread_cond_signal(&(*w)->wake);
    pthread_mutex_unlock(&(*w)->lock);
    return 0;
}

void qmar__worker_wait(qmar__worker *w)
{
    pthread_mutex_lock(&w->lock);
    while (w->busy)
        pthread_cond_wait(&w->idle, &w->lock);
    pthread_mutex_unlock(&w->lock);
}

void qmar__worker_free(qmar__worker *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->lock);
    w->quit = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->idle);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
