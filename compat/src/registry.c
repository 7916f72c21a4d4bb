/* The handle registry: an open-addressing hash set of live objects (pointer -> kind, size), so
 * that every handle a caller passes back can be checked before it is used. One lock; lookups are
 * O(1) except the block search of qc_reg_block, which walks the table (memcpy bounds, weight
 * capacity) and is linear in the number of live objects. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"

typedef struct slot {
    const void *key; /* NULL: empty; TOMBSTONE: deleted */
    qc_kind kind;
    uint64_t size;
} slot;

static const char tombstone_byte;
#define TOMBSTONE ((const void *)&tombstone_byte)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static slot *table;
static size_t cap, used, tombs; /* cap is 0 or a power of two */

static size_t hash_ptr(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdu;
    x ^= x >> 33;
    return (size_t)x;
}

/* Index of p's slot, or of the slot where it would go (first tombstone or empty) when absent. */
static size_t find(const void *p, int *found)
{
    size_t mask = cap - 1, i = hash_ptr(p) & mask, insert = (size_t)-1;
    for (;;) {
        if (table[i].key == NULL) {
            *found = 0;
            return insert != (size_t)-1 ? insert : i;
        }
        if (table[i].key == TOMBSTONE) {
            if (insert == (size_t)-1)
                insert = i;
        } else if (table[i].key == p) {
            *found = 1;
            return i;
        }
        i = (i + 1) & mask;
    }
}

static int grow(void)
{
    /* Double when live entries fill a quarter; otherwise rehash in place to drop tombstones. */
    size_t ncap = cap == 0 ? 256 : (used + 1) * 4 > cap ? cap * 2 : cap;
    slot *old = table;
    size_t ocap = cap;
    table = calloc(ncap, sizeof *table);
    if (table == NULL) {
        table = old;
        return -1;
    }
    cap = ncap;
    used = tombs = 0;
    for (size_t i = 0; i < ocap; i++) {
        if (old[i].key != NULL && old[i].key != TOMBSTONE) {
            int found;
            table[find(old[i].key, &found)] = old[i];
            used++;
        }
    }
    free(old);
    return 0;
}

int qc_reg_add(const void *p, qc_kind kind, uint64_t size)
{
    pthread_mutex_lock(&lock);
    if ((used + tombs + 1) * 2 > cap && grow() != 0) {
        pthread_mutex_unlock(&lock);
        return -1;
    }
    int found;
    size_t i = find(p, &found);
    if (!found) {
        if (table[i].key == TOMBSTONE)
            tombs--;
        used++;
    }
    table[i] = (slot){p, kind, size};
    pthread_mutex_unlock(&lock);
    return 0;
}

static int has_locked(const void *p, qc_kind kind, size_t *at)
{
    if (p == NULL || cap == 0)
        return 0;
    int found;
    size_t i = find(p, &found);
    if (!found || table[i].kind != kind)
        return 0;
    *at = i;
    return 1;
}

static void remove_at(size_t i)
{
    table[i].key = TOMBSTONE;
    used--;
    tombs++;
}

int qc_reg_has(const void *p, qc_kind kind)
{
    size_t i;
    pthread_mutex_lock(&lock);
    int live = has_locked(p, kind, &i);
    pthread_mutex_unlock(&lock);
    return live;
}

int qc_reg_take(const void *p, qc_kind kind, uint64_t *size)
{
    size_t i;
    pthread_mutex_lock(&lock);
    int live = has_locked(p, kind, &i);
    if (live) {
        if (size != NULL)
            *size = table[i].size;
        remove_at(i);
    }
    pthread_mutex_unlock(&lock);
    return live;
}

aclOpExecutor *qc_reg_take_executor(const void *p, qc_exec_kind kind)
{
    size_t i;
    aclOpExecutor *e = NULL;
    pthread_mutex_lock(&lock);
    if (has_locked(p, QC_EXECUTOR, &i) && ((const aclOpExecutor *)p)->kind == kind) {
        e = (aclOpExecutor *)(uintptr_t)p;
        remove_at(i);
    }
    pthread_mutex_unlock(&lock);
    return e;
}

int qc_reg_block(const void *p, uint64_t len, const void **base, uint64_t *size)
{
    uintptr_t a = (uintptr_t)p;
    int verdict = 0;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < cap && verdict == 0; i++) {
        const slot *s = &table[i];
        if (s->key == NULL || s->key == TOMBSTONE || (s->kind != QC_ALLOC && s->kind != QC_HOST_ALLOC))
            continue;
        uintptr_t b = (uintptr_t)s->key;
        if (a < b || a - b >= s->size)
            continue;
        *base = s->key;
        *size = s->size;
        verdict = len <= s->size - (a - b) ? 1 : -1;
    }
    pthread_mutex_unlock(&lock);
    return verdict;
}

void qc_reg_drain(qc_kind kind, void (*release)(void *p))
{
    for (;;) {
        void *victim = NULL;
        pthread_mutex_lock(&lock);
        for (size_t i = 0; i < cap && victim == NULL; i++) {
            if (table[i].key != NULL && table[i].key != TOMBSTONE && table[i].kind == kind) {
                victim = (void *)(uintptr_t)table[i].key;
                remove_at(i);
            }
        }
        pthread_mutex_unlock(&lock);
        if (victim == NULL)
            return;
        release(victim); /* outside the lock: release may call back into the registry */
    }
}
