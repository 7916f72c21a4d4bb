/* SPDX-License-Identifier: Apache-2.0 */
#include "scratch.h"

#include <stdlib.h>

void *qmar__scratch_take(qmar__scratch_buf *kept, uint64_t bytes, void *(*alloc)(uint64_t),
                         uint64_t *got)
{
    if (kept != NULL && kept->ptr != NULL) {
        void *p = kept->ptr;
        kept->ptr = NULL;
        if (kept->bytes >= bytes) {
            *got = kept->bytes;
            return p;
        }
        free(p); /* too small: make room before the larger one is allocated */
    }
    void *p = alloc(bytes);
    *got = p != NULL ? bytes : 0;
    return p;
}

void qmar__scratch_give(qmar__scratch_buf *kept, void *p, uint64_t bytes)
{
    if (kept != NULL && kept->ptr == NULL && p != NULL) {
        kept->ptr = p;
        kept->bytes = bytes;
        return;
    }
    free(p);
}

void qmar__scratch_free(qmar__scratch *s)
{
    free(s->weight.ptr);
    free(s->work.ptr);
    s->weight.ptr = s->work.ptr = NULL;
}
