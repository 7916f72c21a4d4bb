/* SPDX-License-Identifier: Apache-2.0 */
#include "closed_form.h"

#include <pthread.h>
#include <string.h>

int closed_form_a(int it, int32_t r)
{
    return (it * 3 + r * 5) % 7 - 3;
}

qmar_status closed_form_run(const char *group, int64_t m, int64_t k, int64_t n, int8_t *x1,
                            int8_t *x2, uint16_t *scale, uint16_t *out, void *ws,
                            uint64_t ws_cap)
{
    int64_t x1d[2] = {m, k}, x2d[2] = {k, n}, nd[1] = {n}, outd[2] = {m, n};
    qmar_tensor *t1 = qmar_tensor_create(x1d, 2, QMAR_INT8, NULL, 0, QMAR_FORMAT_ND, x1d, 2, x1);
    qmar_tensor *t2 = qmar_tensor_create(x2d, 2, QMAR_INT8, NULL, 0, QMAR_FORMAT_ND, x2d, 2, x2);
    qmar_tensor *dq = qmar_tensor_create(nd, 1, QMAR_BF16, NULL, 0, QMAR_FORMAT_ND, nd, 1, scale);
    qmar_tensor *to = qmar_tensor_create(outd, 2, QMAR_BF16, NULL, 0, QMAR_FORMAT_ND, outd, 2, out);
    uint64_t ws_size = 0;
    qmar_executor *ex = NULL;
    qmar_status st = qmar_quant_matmul_all_reduce_v3_get_workspace_size(
        t1, t2, NULL, NULL, dq, NULL, NULL, NULL, group, "sum", 0, 1, to, &ws_size, &ex);
    if (st == QMAR_SUCCESS && ws_size > ws_cap) {
        qmar_executor_destroy(ex);
        st = QMAR_ERR_INNER;
    } else if (st == QMAR_SUCCESS) {
        st = qmar_quant_matmul_all_reduce_v3(ws, ws_size, ex, NULL);
    }
    qmar_tensor_destroy(t1), qmar_tensor_destroy(t2), qmar_tensor_destroy(dq);
    qmar_tensor_destroy(to);
    return st;
}

static float bf16_to_float(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

int64_t closed_form_wrong(const uint16_t *out, int64_t m, int64_t n, int64_t k, int it,
                          int32_t ranks)
{
    int sum = 0;
    for (int32_t r = 0; r < ranks; r++)
        sum += closed_form_a(it, r);
    int64_t wrong = 0;
    for (int64_t i = 0; i < m * n; i++)
        wrong += bf16_to_float(out[i]) != (float)(k * sum);
    return wrong;
}

static void *rank_main(void *arg)
{
    closed_form_rank *c = arg;
    char group[QMAR_GROUP_NAME_MAX];
    qmar_comm_get_name(c->comm, group);
    c->body(c, group);
    return NULL;
}

void closed_form_group(int32_t ranks, void (*body)(closed_form_rank *, const char *),
                       int64_t *failed, int64_t *wrong)
{
    qmar_comm *comms[64];
    closed_form_rank ctx[64];
    pthread_t th[64];
    *failed = *wrong = 0;
    if (ranks < 1 || ranks > 64 || qmar_comm_init_all(ranks, comms) != QMAR_SUCCESS) {
        *failed = 1;
        return;
    }
    int32_t started = 0;
    for (; started < ranks; started++) {
        ctx[started] = (closed_form_rank){.comm = comms[started], .rank = started, .ranks = ranks,
                                          .body = body};
        if (pthread_create(&th[started], NULL, rank_main, &ctx[started]) != 0)
            break;
    }
    if (started < ranks) { /* the others would wait for the missing rank: fail them at once */
        *failed += 1;
        for (int32_t r = 0; r < ranks; r++)
            qmar_comm_revoke(comms[r]);
    }
    for (int32_t r = 0; r < started; r++) {
        pthread_join(th[r], NULL);
        *failed += ctx[r].failed;
        *wrong += ctx[r].wrong;
    }
    for (int32_t r = 0; r < ranks; r++)
        qmar_comm_destroy(comms[r]);
}
