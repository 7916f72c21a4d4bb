/* SPDX-License-Identifier: Apache-2.0 */
/* The agreement step of Run: one small all-gather of a header describing the call, then (case 3)
 * one all-gather of the comm scales, compared bit for bit with rank 0's. Where the backend can,
 * the header goes in one round with a payload riding along (the e rows of a small Run). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "agree.h"
#include "error.h"

enum { H_STATUS, H_CASE, H_Y, H_M, H_K, H_N, H_SLOTS, SLOT_WORDS = 3 + QMAR_MAX_DIMS };
#define HEADER_WORDS (H_SLOTS + QMAR__NSLOTS * SLOT_WORDS)
_Static_assert(HEADER_WORDS * sizeof(int64_t) <= QMAR__RIDE_HEADER_MAX,
               "the agreement's header must fit allgather_riding's slot");

/* The header as ACSL (proofs/units/agree): what make_header writes and check_headers compares. */
/*@ predicate slots_bounded{L}(qmar_executor *e) =
      \forall integer s; 0 <= s < QMAR__NSLOTS ==>
          e->present[s] != 0 ==> e->t[s].view_ndim <= QMAR_MAX_DIMS;
    // Rank r's header (status word aside) equals rank 0's.
    predicate header_equal{L}(int64_t *all, integer r) =
      \forall integer w; 1 <= w < HEADER_WORDS ==> all[r * HEADER_WORDS + w] == all[w];
    // Ranks [from, size) agree with rank 0.
    predicate headers_agree{L}(int64_t *all, integer from, integer size) =
      \forall integer r; from <= r < size ==> header_equal(all, r);
    predicate succeeded{L}(int64_t *all, integer r) =
      all[r * HEADER_WORDS + H_STATUS] == QMAR_SUCCESS;
    predicate all_succeeded{L}(int64_t *all, integer size) =
      \forall integer r; 0 <= r < size ==> succeeded(all, r);
*/

/* Plain loops rather than memset/memcpy: the same words, and WP's typed memory model sees them
 * (the libc contracts speak of bytes, these words are int64). A descriptor has at most
 * QMAR_MAX_DIMS dims (qmar_tensor_create's bound, kept by the executor's copy): trusted here. */
/*@ requires \valid_read(e) && slots_bounded(e);
    requires \valid(h + (0 .. HEADER_WORDS - 1));
    requires \separated(h + (0 .. HEADER_WORDS - 1), e);
    assigns h[0 .. HEADER_WORDS - 1];
    ensures h[H_STATUS] == local && h[H_CASE] == e->facts.op_case && h[H_Y] == e->facts.y;
    ensures h[H_M] == e->facts.m && h[H_K] == e->facts.k && h[H_N] == e->facts.n;
    ensures \forall integer s; 0 <= s < QMAR__NSLOTS ==>
        h[H_SLOTS + s * SLOT_WORDS] == e->present[s];
*/
static void make_header(const qmar_executor *e, qmar_status local, int64_t *h)
{
    /*@ loop invariant 0 <= i <= HEADER_WORDS;
        loop invariant \forall integer j; 0 <= j < i ==> h[j] == 0;
        loop assigns i, h[0 .. HEADER_WORDS - 1];
        loop variant HEADER_WORDS - i;
    */
    for (int i = 0; i < HEADER_WORDS; i++)
        h[i] = 0;
    h[H_STATUS] = local;
    h[H_CASE] = e->facts.op_case;
    h[H_Y] = e->facts.y;
    h[H_M] = e->facts.m;
    h[H_K] = e->facts.k;
    h[H_N] = e->facts.n;
    /*@ loop invariant 0 <= s <= QMAR__NSLOTS;
        loop invariant h[H_STATUS] == local && h[H_CASE] == e->facts.op_case;
        loop invariant h[H_Y] == e->facts.y && h[H_M] == e->facts.m;
        loop invariant h[H_K] == e->facts.k && h[H_N] == e->facts.n;
        loop invariant \forall integer t; 0 <= t < s ==>
            h[H_SLOTS + t * SLOT_WORDS] == e->present[t];
        loop assigns s, h[H_SLOTS .. HEADER_WORDS - 1];
        loop variant QMAR__NSLOTS - s;
    */
    for (int s = 0; s < QMAR__NSLOTS; s++) {
        int64_t *w = h + H_SLOTS + s * SLOT_WORDS;
        w[0] = e->present[s];
        if (!e->present[s])
            continue;
        w[1] = e->t[s].dtype;
        w[2] = (int64_t)e->t[s].view_ndim;
        /*@ loop invariant 0 <= d <= e->t[s].view_ndim;
            loop invariant w[0] == e->present[s];
            loop invariant h[H_STATUS] == local && h[H_CASE] == e->facts.op_case;
            loop invariant h[H_Y] == e->facts.y && h[H_M] == e->facts.m;
            loop invariant h[H_K] == e->facts.k && h[H_N] == e->facts.n;
            loop invariant \forall integer t; 0 <= t < s ==>
                h[H_SLOTS + t * SLOT_WORDS] == e->present[t];
            loop assigns d, w[3 .. SLOT_WORDS - 1];
            loop variant e->t[s].view_ndim - d;
        */
        for (uint64_t d = 0; d < e->t[s].view_ndim; d++)
            w[3 + d] = e->t[s].view_dims[d];
    }
}

/* First rank whose header differs from rank 0's (status word aside), or -1. A word-by-word loop
 * instead of memcmp: the same verdict (int64 words without padding are equal exactly when their
 * bytes are), in words WP's typed memory model sees. */
/*@ requires 1 <= size <= QMAR_COMM_MAX_RANKS;
    requires \valid_read(all + (0 .. size * HEADER_WORDS - 1));
    assigns \nothing;
    ensures -1 <= \result < size && \result != 0;
    ensures \result == -1 ==> headers_agree(all, 1, size);
    ensures \result != -1 ==> !header_equal(all, \result);
*/
static int32_t first_disagreeing(const int64_t *all, int32_t size)
{
    /*@ loop invariant 1 <= r <= size;
        loop invariant headers_agree(all, 1, r);
        loop assigns r;
        loop variant size - r;
    */
    for (int32_t r = 1; r < size; r++) {
        /*@ loop invariant 1 <= w <= HEADER_WORDS;
            loop invariant \forall integer v; 1 <= v < w ==> all[r * HEADER_WORDS + v] == all[v];
            loop assigns w;
            loop variant HEADER_WORDS - w;
        */
        for (int w = 1; w < HEADER_WORDS; w++)
            if (all[r * HEADER_WORDS + w] != all[w]) {
                /*@ assert !header_equal(all, r); */
                return r;
            }
        /*@ assert header_equal(all, r); */
    }
    return -1;
}

/*@ requires \valid_read(e) && \valid_read(e->comm);
    requires 1 <= e->comm->size <= QMAR_COMM_MAX_RANKS;
    requires \valid_read(all + (0 .. e->comm->size * HEADER_WORDS - 1));
    assigns qmar__reason_state;
    ensures local != QMAR_SUCCESS ==> \result == local;
    ensures local == QMAR_SUCCESS && all_succeeded(all, e->comm->size) &&
        headers_agree(all, 1, e->comm->size) ==> \result == QMAR_SUCCESS;
    ensures local == QMAR_SUCCESS && !all_succeeded(all, e->comm->size) ==>
        \result == QMAR_ERR_RUNTIME;
    ensures local == QMAR_SUCCESS && !headers_agree(all, 1, e->comm->size) ==>
        \result == QMAR_ERR_RUNTIME;
*/
static qmar_status check_headers(const qmar_executor *e, const int64_t *all, qmar_status local)
{
    int32_t size = e->comm->size;
    if (local != QMAR_SUCCESS)
        return local; /* the reason was recorded when it failed */
    /*@ loop invariant 0 <= r <= size;
        loop invariant all_succeeded(all, r);
        loop assigns r;
        loop variant size - r;
    */
    for (int32_t r = 0; r < size; r++)
        if (all[r * HEADER_WORDS + H_STATUS] != QMAR_SUCCESS) {
            /*@ assert !succeeded(all, r); */
            return qmar__fail(QMAR_ERR_RUNTIME, "run: rank %d failed (status %lld)", (int)r,
                              (long long)all[r * HEADER_WORDS + H_STATUS]);
        }
    int32_t bad = first_disagreeing(all, size);
    if (bad >= 0)
        return qmar__fail(QMAR_ERR_RUNTIME,
                          "run: rank %d disagrees with rank 0 on shapes, dtypes or case", (int)bad);
    return QMAR_SUCCESS;
}

/* Case 3: s1 and s2 must be bitwise identical on every rank (numerics.md §5). buf holds
 * (size + 1) * 2n * 2 bytes: this rank's scales, then every rank's. */
static qmar_status check_comm_scales(const qmar_executor *e, char *buf)
{
    int32_t size = e->comm->size;
    uint64_t half = (uint64_t)e->facts.n * 2; /* n elements of 2 bytes each */
    char *mine = buf, *all = buf + 2 * half;
    for (int s = 0; s < 2; s++) {
        const qmar_tensor *t = &e->t[QMAR__CS1 + s];
        memcpy(mine + s * half, (const char *)t->data + t->offset * 2, half);
    }
    qmar_status st = e->comm->ops->allgather(e->comm, mine, 2 * half, all);
    if (st != QMAR_SUCCESS)
        e->comm->ops->revoke(e->comm);
    for (int32_t r = 1; st == QMAR_SUCCESS && r < size; r++)
        if (memcmp(all + (uint64_t)r * 2 * half, all, 2 * half) != 0)
            st = qmar__fail(QMAR_ERR_RUNTIME,
                            "run: rank %d's comm quant scales differ from rank 0's", (int)r);
    return st;
}

int qmar__agree_can_ride(const qmar_executor *e, uint64_t len)
{
    return e->comm->ops->allgather_riding != NULL && len <= QMAR__RIDE_PAYLOAD_MAX;
}

/* The header exchange: in one round where the backend can (every rank then takes this path,
 * whatever its payload, so that the rounds match), else a plain all-gather. */
static qmar_status exchange(const qmar_executor *e, const int64_t *mine, int64_t *all,
                            const void *payload, uint64_t len, const void **parts)
{
    qmar_comm *comm = e->comm;
    uint64_t hlen = HEADER_WORDS * sizeof *mine;
    const void *unused[QMAR_COMM_MAX_RANKS];
    if (comm->ops->allgather_riding != NULL)
        return comm->ops->allgather_riding(comm, mine, hlen, all, payload, payload ? len : 0,
                                           parts != NULL ? parts : unused);
    return comm->ops->allgather(comm, mine, hlen, all);
}

qmar_status qmar__agree(const qmar_executor *e, qmar_status local, const void *payload,
                        uint64_t len, const void **parts)
{
    /* Everything is allocated before the first exchange, so an allocation failure is reported
     * to the peers through the header instead of leaving them to time out. */
    int64_t mine[HEADER_WORDS];
    uint64_t size = (uint64_t)e->comm->size;
    uint64_t scales = e->facts.op_case == 3 ? (size + 1) * 4 * (uint64_t)e->facts.n : 0;
    int64_t *all = qmar__malloc(sizeof mine * size);
    char *buf = scales ? qmar__malloc(scales) : NULL;
    if (local == QMAR_SUCCESS && scales && buf == NULL)
        local = qmar__fail(QMAR_ERR_INNER, "run: out of memory for the comm scales");
    make_header(e, local, mine);
    char why[256] = ""; /* a local failure's reason outlives the exchange's own */
    if (local != QMAR_SUCCESS)
        snprintf(why, sizeof why, "%s", qmar_last_error());
    qmar_status st;
    if (all == NULL) {
        /* Without room for the peers' headers this rank cannot take part: it breaks the group
         * so that its peers fail at once (spec/api.md "One outcome"). */
        e->comm->ops->revoke(e->comm);
        st = local != QMAR_SUCCESS ? local
                                   : qmar__fail(QMAR_ERR_INNER, "run: out of memory for the "
                                                "agreement (the group is revoked)");
    } else if ((st = exchange(e, mine, all, payload, len, parts)) == QMAR_SUCCESS) {
        st = check_headers(e, all, local);
    } else {
        e->comm->ops->revoke(e->comm); /* a collective that failed: no peer may wait for us */
    }
    if (local != QMAR_SUCCESS)
        st = qmar__fail(local, "%s", why);
    if (st == QMAR_SUCCESS && scales)
        st = check_comm_scales(e, buf);
    if (local != QMAR_SUCCESS) /* even if the exchange failed too (e.g. a peer reacted first) */
        st = local;
    free(all);
    free(buf);
    return st;
}
