/* SPDX-License-Identifier: Apache-2.0 */
/* The handle registry: an open-addressing hash set of live objects (handle -> kind, size, object,
 * generation), so that every handle a caller passes back can be checked before it is used. One
 * lock; lookups are O(1) except the block search of qc_reg_block, which walks the table (memcpy
 * bounds, weight capacity, executor pins) and is linear in the number of live objects.
 *
 * Memory blocks are keyed by their address (the application uses it). Every other object gets a
 * handle that is never reused (qc_reg_add_handle): an address in the kernel half of the x86-64 /
 * AArch64 address space, which no user-space object ever has, counted up from HANDLE_BASE, and
 * never dereferenced. So a stale handle stays stale even after malloc hands its object's memory to
 * a new object: destroying it twice can never destroy another live object. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"

typedef struct slot {
    const void *key; /* NULL: empty; TOMBSTONE: deleted */
    qc_kind kind;
    uint64_t size;
    uint64_t gen; /* the registration's number: blocks at one address differ by it */
    void *obj;    /* the object behind a qc_reg_add_handle handle, else the key itself */
    uint32_t busy; /* memory blocks: runs that use the block now (qc_reg_hold_blocks) */
    int released;  /* a busy block the application freed: dead to every lookup, its memory is
                      freed when the last run using it ends */
} slot;

static const char tombstone_byte;
#define TOMBSTONE ((const void *)&tombstone_byte)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static slot *table;
static size_t cap, used, tombs; /* cap is 0 or a power of two */
static uint64_t registrations;   /* generation counter: every add takes the next number */
static uint64_t handles_issued;  /* qc_reg_add_handle's counter */

#define HANDLE_BASE UINT64_C(0xFFFF900000000000)
_Static_assert(sizeof(void *) == 8, "handles live in the kernel half of a 64-bit address space");
#define HANDLE_LIMIT (UINT64_C(1) << 40) /* handles per process; then qc_reg_add_handle fails */

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
    table = qc_calloc(ncap, sizeof *table);
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

/* Caller holds the lock. */
static int add_locked(const void *p, qc_kind kind, uint64_t size, void *obj)
{
    if ((used + tombs + 1) * 2 > cap && grow() != 0)
        return -1;
    int found;
    size_t i = find(p, &found);
    if (!found) {
        if (table[i].key == TOMBSTONE)
            tombs--;
        used++;
    }
    table[i] = (slot){.key = p, .kind = kind, .size = size, .gen = ++registrations, .obj = obj};
    return 0;
}

int qc_reg_add(const void *p, qc_kind kind, uint64_t size)
{
    pthread_mutex_lock(&lock);
    int r = add_locked(p, kind, size, (void *)(uintptr_t)p);
    pthread_mutex_unlock(&lock);
    return r;
}

int qc_reg_add_handle(void *obj, uint64_t size, qc_kind kind, const void **handle)
{
    pthread_mutex_lock(&lock);
    int r = -1;
    if (handles_issued < HANDLE_LIMIT) {
        const void *h = (const void *)(uintptr_t)(HANDLE_BASE + ((handles_issued + 1) << 4));
        r = add_locked(h, kind, size, obj);
        if (r == 0) {
            handles_issued++;
            *handle = h;
        }
    }
    pthread_mutex_unlock(&lock);
    return r;
}

static int has_locked(const void *p, qc_kind kind, size_t *at)
{
    if (p == NULL || cap == 0)
        return 0;
    int found;
    size_t i = find(p, &found);
    if (!found || table[i].kind != kind || table[i].released)
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

size_t qc_reg_read(const void *handle, qc_kind kind, void *dst, size_t size)
{
    size_t i, n = 0;
    pthread_mutex_lock(&lock);
    if (has_locked(handle, kind, &i)) {
        n = size < table[i].size ? size : (size_t)table[i].size;
        memcpy(dst, table[i].obj, n);
    }
    pthread_mutex_unlock(&lock);
    return n;
}

int qc_reg_write(const void *handle, qc_kind kind, const void *src, size_t size)
{
    size_t i;
    pthread_mutex_lock(&lock);
    int live = has_locked(handle, kind, &i) && size <= table[i].size;
    if (live)
        memcpy(table[i].obj, src, size);
    pthread_mutex_unlock(&lock);
    return live;
}

void *qc_reg_take_obj(const void *handle, qc_kind kind)
{
    size_t i;
    void *obj = NULL;
    pthread_mutex_lock(&lock);
    if (has_locked(handle, kind, &i)) {
        obj = table[i].obj;
        remove_at(i);
    }
    pthread_mutex_unlock(&lock);
    return obj;
}

qc_executor *qc_reg_take_executor(const void *handle, qc_exec_kind kind)
{
    size_t i;
    qc_executor *e = NULL;
    pthread_mutex_lock(&lock);
    if (has_locked(handle, QC_EXECUTOR, &i)) {
        qc_executor *obj = table[i].obj;
        if (kind == 0 || obj->kind == kind) {
            e = obj;
            remove_at(i);
        }
    }
    pthread_mutex_unlock(&lock);
    return e;
}

int qc_reg_block_live(const void *base, uint64_t gen)
{
    size_t i;
    pthread_mutex_lock(&lock);
    int live = (has_locked(base, QC_ALLOC, &i) || has_locked(base, QC_HOST_ALLOC, &i)) &&
               table[i].gen == gen;
    pthread_mutex_unlock(&lock);
    return live;
}

int qc_reg_block(const void *p, uint64_t len, const void **base, uint64_t *size)
{
    return qc_reg_block_gen(p, len, base, size, NULL);
}

int qc_reg_block_gen(const void *p, uint64_t len, const void **base, uint64_t *size,
                     uint64_t *gen)
{
    uintptr_t a = (uintptr_t)p;
    int verdict = 0;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < cap && verdict == 0; i++) {
        const slot *s = &table[i];
        if (s->key == NULL || s->key == TOMBSTONE || s->released ||
            (s->kind != QC_ALLOC && s->kind != QC_HOST_ALLOC))
            continue;
        uintptr_t b = (uintptr_t)s->key;
        if (a < b || a - b >= s->size)
            continue;
        *base = s->key;
        *size = s->size;
        if (gen != NULL)
            *gen = s->gen;
        verdict = len <= s->size - (a - b) ? 1 : -1;
    }
    pthread_mutex_unlock(&lock);
    return verdict;
}

/* Caller holds the lock. A live block is removed (1: the caller frees it now), or, while runs
 * use it, released (0: the last of them frees it). */
static int release_block_locked(size_t i)
{
    if (table[i].busy > 0) {
        table[i].released = 1;
        return 0;
    }
    remove_at(i);
    return 1;
}

int qc_reg_free_block(const void *p, qc_kind kind, int *free_now)
{
    size_t i;
    pthread_mutex_lock(&lock);
    int live = has_locked(p, kind, &i);
    if (live)
        *free_now = release_block_locked(i);
    pthread_mutex_unlock(&lock);
    return live;
}

/* The slot of a block pinned at base with number gen, live or released; -1 if none. */
static ptrdiff_t pinned_slot_locked(const void *base, uint64_t gen)
{
    if (cap == 0)
        return -1;
    int found;
    size_t i = find(base, &found);
    if (!found || (table[i].kind != QC_ALLOC && table[i].kind != QC_HOST_ALLOC) ||
        table[i].gen != gen)
        return -1;
    return (ptrdiff_t)i;
}

int qc_reg_hold_blocks(const qc_pins *pins, uint32_t *failed)
{
    pthread_mutex_lock(&lock);
    uint32_t n = 0;
    for (; n < pins->n; n++) {
        ptrdiff_t i = pinned_slot_locked(pins->pin[n].base, pins->pin[n].gen);
        if (i < 0 || table[i].released)
            break;
        table[i].busy++;
    }
    int held = n == pins->n;
    if (!held) {
        *failed = n;
        while (n-- > 0)
            table[pinned_slot_locked(pins->pin[n].base, pins->pin[n].gen)].busy--;
    }
    pthread_mutex_unlock(&lock);
    return held;
}

void qc_reg_drop_blocks(const qc_pins *pins)
{
    void *to_free[QC_MAX_PINS];
    uint32_t nfree = 0;
    pthread_mutex_lock(&lock);
    for (uint32_t n = 0; n < pins->n; n++) {
        ptrdiff_t i = pinned_slot_locked(pins->pin[n].base, pins->pin[n].gen);
        if (i < 0)
            continue; /* cannot happen: a held block stays in the table */
        if (--table[i].busy == 0 && table[i].released) {
            to_free[nfree++] = table[i].obj;
            remove_at((size_t)i);
        }
    }
    pthread_mutex_unlock(&lock);
    while (nfree > 0)
        free(to_free[--nfree]);
}

void qc_reg_drain(qc_kind kind, void (*release)(void *p))
{
    for (;;) {
        void *victim = NULL;
        pthread_mutex_lock(&lock);
        for (size_t i = 0; i < cap && victim == NULL; i++) {
            if (table[i].key != NULL && table[i].key != TOMBSTONE && table[i].kind == kind &&
                !table[i].released) {
                int block = kind == QC_ALLOC || kind == QC_HOST_ALLOC;
                if (!block || release_block_locked(i))
                    victim = table[i].obj;
                if (!block)
                    remove_at(i);
            }
        }
        pthread_mutex_unlock(&lock);
        if (victim == NULL)
            return;
        release(victim); /* outside the lock: release may call back into the registry */
    }
}
