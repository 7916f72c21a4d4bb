/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: before any data moves, the ranks check that they run the same operator (shapes,
 * dtypes, case, comm scales) and that none failed locally, so all of them fail together. */
#ifndef QMAR_SRC_AGREE_H
#define QMAR_SRC_AGREE_H
#include "plan.h"

/* local: this rank's own status so far (e.g. an allocation that failed, a short workspace).
 * Returns SUCCESS only if every rank is fine and agrees; otherwise local's status on a rank that
 * failed locally and QMAR_ERR_RUNTIME on the others. When an exchange itself fails (or this rank
 * cannot take part in it), the group is revoked, so no peer waits for its timeout. */
qmar_status qmar__agree(const qmar_executor *e, qmar_status local, const void *payload,
                        uint64_t len, const void **parts);

/* Whether len bytes of payload can ride on the agreement (the backend's allgather_riding): then
 * qmar__agree sends them (payload NULL on a rank that failed locally) and, on SUCCESS, parts[r]
 * points at rank r's, readable until this rank's next collective. Otherwise pass NULL, 0. */
int qmar__agree_can_ride(const qmar_executor *e, uint64_t len);
#endif
