/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the handles the library hands out (endpoints, executors) are checked before use.
 * A handle is not the object's address but a slot index and that slot's generation, packed into
 * an odd pointer-sized value (never a valid object address), so a stale, double or foreign handle
 * is recognised without touching memory, even when the old object's memory has been reused. */
#ifndef QMAR_SRC_HANDLE_H
#define QMAR_SRC_HANDLE_H

typedef enum qmar__handle_kind {
    QMAR__HANDLE_COMM = 1,
    QMAR__HANDLE_EXECUTOR = 2,
} qmar__handle_kind;

/* One process-wide lock over the table. The caller holds it across a lookup and what it does
 * with the object (take a reference, remove it), so the two are one step. */
void qmar__handles_lock(void);
void qmar__handles_unlock(void);

/* Registers obj; returns its handle, or NULL when out of memory. Lock held. */
void *qmar__handle_add_locked(void *obj, qmar__handle_kind kind);
/* The object behind handle if it is live and of this kind, else NULL. For backends that return
 * an endpoint's address itself (before they use qmar__comm_handle), a registered address is
 * found too. Lock held. */
void *qmar__handle_find_locked(const void *handle, qmar__handle_kind kind);
/* The handle is dead from now on (its slot's generation moves on). Lock held. */
void qmar__handle_remove_locked(const void *handle);
#endif
