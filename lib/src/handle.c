/* SPDX-License-Identifier: Apache-2.0 */
/* The handle table (handle.h): slots of (object, kind, generation), a free list, one lock. */
#include "handle.h"

#include <pthread.h>
#include <stdint.h>

#include "fault.h"

typedef struct slot {
    void *obj; /* NULL: free */
    uint32_t generation;
    int32_t kind;
    uint32_t next_free; /* free list, when obj is NULL */
} slot;

#define SLOT_BITS 24 /* 16 M live handles */
#define NO_SLOT UINT32_MAX

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static slot *slots;
static uint32_t cap, first_free = NO_SLOT;

void qmar__handles_lock(void)
{
    pthread_mutex_lock(&lock);
}

void qmar__handles_unlock(void)
{
    pthread_mutex_unlock(&lock);
}

/* handle = ((generation << SLOT_BITS | index) << 1) | 1: odd, so never an object's address. */
static void *encode(uint32_t index, uint32_t generation)
{
    uint64_t v = (((uint64_t)generation << SLOT_BITS | index) << 1) | 1u;
    return (void *)(uintptr_t)v;
}

static int grow(void)
{
    uint32_t ncap = cap == 0 ? 64 : cap * 2;
    if (ncap > (1u << SLOT_BITS))
        return -1;
    slot *n = qmar__realloc(slots, (size_t)ncap * sizeof *n);
    if (n == NULL)
        return -1;
    for (uint32_t i = ncap; i-- > cap;) { /* new slots join the free list, lowest first */
        n[i] = (slot){.next_free = first_free};
        first_free = i;
    }
    slots = n;
    cap = ncap;
    return 0;
}

void *qmar__handle_add_locked(void *obj, qmar__handle_kind kind)
{
    if (first_free == NO_SLOT && grow() != 0)
        return NULL;
    uint32_t i = first_free;
    first_free = slots[i].next_free;
    slots[i].obj = obj;
    slots[i].kind = (int32_t)kind;
    return encode(i, slots[i].generation);
}

/* Index of the live slot of handle, or NO_SLOT. */
static uint32_t slot_of(const void *handle, qmar__handle_kind kind)
{
    uint64_t v = (uint64_t)(uintptr_t)handle;
    if ((v & 1u) == 0) { /* an object's own address (a backend that returns it) */
        for (uint32_t i = 0; handle != NULL && i < cap; i++)
            if (slots[i].obj == handle && slots[i].kind == (int32_t)kind)
                return i;
        return NO_SLOT;
    }
    v >>= 1;
    uint64_t index = v & ((1u << SLOT_BITS) - 1), generation = v >> SLOT_BITS;
    if (index >= cap || slots[index].obj == NULL || slots[index].kind != (int32_t)kind ||
        slots[index].generation != generation)
        return NO_SLOT;
    return (uint32_t)index;
}

void *qmar__handle_find_locked(const void *handle, qmar__handle_kind kind)
{
    uint32_t i = slot_of(handle, kind);
    return i == NO_SLOT ? NULL : slots[i].obj;
}

void qmar__handle_remove_locked(const void *handle)
{
    for (int kind = QMAR__HANDLE_COMM; kind <= QMAR__HANDLE_EXECUTOR; kind++) {
        uint32_t i = slot_of(handle, (qmar__handle_kind)kind);
        if (i == NO_SLOT)
            continue;
        slots[i].obj = NULL;
        slots[i].generation = (slots[i].generation + 1) & 0xFFFFFFFFu;
        slots[i].next_free = first_free;
        first_free = i;
        return;
    }
}
