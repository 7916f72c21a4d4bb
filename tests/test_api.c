/* SPDX-License-Identifier: Apache-2.0 */
/* The public API around the operator: status names, last error per thread, descriptors,
 * communicators and the group registry, the executor's life cycle and Run's argument checks. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "qmar/qmar.h"

static void test_status_strings(void)
{
    CHECK(strcmp(qmar_status_string(QMAR_SUCCESS), "QMAR_SUCCESS") == 0);
    CHECK(strcmp(qmar_status_string(161001), "QMAR_ERR_PARAM_NULLPTR") == 0);
    CHECK(strcmp(qmar_status_string(161002), "QMAR_ERR_PARAM_INVALID") == 0);
    CHECK(strcmp(qmar_status_string(361001), "QMAR_ERR_RUNTIME") == 0);
    CHECK(strcmp(qmar_status_string(561000), "QMAR_ERR_INNER") == 0);
    CHECK(strcmp(qmar_status_string(42), "unknown status") == 0);
    CHECK_EQ_I64(QMAR_FLOAT, 0);
    CHECK_EQ_I64(QMAR_BF16, 27);
    CHECK_EQ_I64(QMAR_FORMAT_FRACTAL_NZ, 29);
    CHECK_EQ_I64(qmar_dtype_size(QMAR_BF16), 2);
    CHECK_EQ_I64(qmar_dtype_size((qmar_dtype)5), 0);
}

static void *fresh_thread_error(void *arg)
{
    *(int *)arg = qmar_last_error() != NULL && qmar_last_error()[0] == '\0';
    return NULL;
}

static void test_last_error_is_per_thread(void)
{
    CHECK_EQ_I64(qmar_comm_rank(NULL, NULL), QMAR_ERR_PARAM_NULLPTR);
    CHECK(strstr(qmar_last_error(), "comm") != NULL);
    int clean = 0;
    pthread_t t;
    pthread_create(&t, NULL, fresh_thread_error, &clean);
    pthread_join(t, NULL);
    CHECK(clean); /* another thread's failure is not this thread's reason */
}

static void test_tensor_create(void)
{
    int64_t dims[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    char data[4];
    CHECK(qmar_tensor_create(dims, 9, QMAR_INT8, NULL, 0, QMAR_FORMAT_ND, dims, 1, data) == NULL);
    CHECK(qmar_tensor_create(dims, 1, QMAR_INT8, NULL, 0, QMAR_FORMAT_ND, dims, 9, data) == NULL);
    CHECK(qmar_tensor_create(NULL, 1, QMAR_INT8, NULL, 0, QMAR_FORMAT_ND, dims, 1, data) == NULL);
    CHECK(qmar_tensor_create(dims, 1, QMAR_INT8, NULL, 0, QMAR_FORMAT_ND, NULL, 1, data) == NULL);
    /* Odd descriptors are stored: the operator rejects them, not the constructor. */
    int64_t odd[2] = {-1, 0}, strides[2] = {-7, 99};
    qmar_tensor *t = qmar_tensor_create(odd, 2, (qmar_dtype)99, strides, -5, (qmar_format)7, NULL,
                                        0, NULL);
    CHECK(t != NULL);
    qmar_tensor_destroy(t);
    t = qmar_tensor_create(NULL, 0, QMAR_INT8, NULL, 0, QMAR_FORMAT_ND, NULL, 0, data);
    CHECK(t != NULL);
    qmar_tensor_destroy(t);
    qmar_tensor_destroy(NULL);
}

static void test_comms(void)
{
    qmar_comm *c[8];
    CHECK_EQ_I64(qmar_comm_init_all(8, NULL), QMAR_ERR_PARAM_NULLPTR);
    CHECK_EQ_I64(qmar_comm_init_all(0, c), QMAR_ERR_PARAM_INVALID);
    CHECK_EQ_I64(qmar_comm_init_all(QMAR_COMM_MAX_RANKS + 1, c), QMAR_ERR_PARAM_INVALID);
    CHECK_EQ_I64(qmar_comm_init_all(8, c), QMAR_SUCCESS);
    char names[8][QMAR_GROUP_NAME_MAX];
    for (int r = 0; r < 8; r++) {
        int32_t rank = -1, size = -1;
        CHECK_EQ_I64(qmar_comm_get_name(c[r], names[r]), QMAR_SUCCESS);
        CHECK_EQ_I64(qmar_comm_rank(c[r], &rank), QMAR_SUCCESS);
        CHECK_EQ_I64(qmar_comm_size(c[r], &size), QMAR_SUCCESS);
        CHECK_EQ_I64(rank, r);
        CHECK_EQ_I64(size, 8);
        CHECK(strlen(names[r]) > 0 && strlen(names[r]) < QMAR_GROUP_NAME_MAX);
        for (int q = 0; q < r; q++)
            CHECK(strcmp(names[q], names[r]) != 0);
    }
    CHECK_EQ_I64(qmar_comm_set_timeout_ms(c[0], 0), QMAR_ERR_PARAM_INVALID);
    CHECK_EQ_I64(qmar_comm_set_timeout_ms(c[0], 5), QMAR_SUCCESS);
    CHECK_EQ_I64(qmar_comm_get_name(NULL, names[0]), QMAR_ERR_PARAM_NULLPTR);
    CHECK_EQ_I64(qmar_comm_destroy(NULL), QMAR_ERR_PARAM_NULLPTR);
    for (int r = 0; r < 8; r++)
        CHECK_EQ_I64(qmar_comm_destroy(c[r]), QMAR_SUCCESS);
}

/* The seed sample's tensors (case 3, FP16 output), all in one zeroed arena. */
typedef struct sample {
    qmar_tensor *t[9];
    char *arena;
} sample;

static qmar_tensor *nd(int64_t d0, int64_t d1, uint64_t ndim, qmar_dtype dt, char *data)
{
    int64_t dims[2] = {d0, d1};
    return qmar_tensor_create(dims, ndim, dt, NULL, 0, QMAR_FORMAT_ND, dims, ndim, data);
}

static void sample_make(sample *s)
{
    s->arena = calloc(1, 1 << 16);
    char *a = s->arena;
    s->t[0] = nd(32, 64, 2, QMAR_INT8, a);                 /* x1 */
    s->t[1] = nd(64, 128, 2, QMAR_INT8, a + 4096);         /* x2 */
    s->t[2] = nd(128, 0, 1, QMAR_INT32, a + 16384);        /* bias */
    s->t[3] = nd(32, 128, 2, QMAR_FLOAT16, a + 20480);     /* x3 */
    s->t[4] = nd(128, 0, 1, QMAR_FLOAT, a + 32768);        /* dequant */
    s->t[5] = nd(32, 0, 1, QMAR_FLOAT, a + 33792);         /* pertoken */
    s->t[6] = nd(128, 0, 1, QMAR_FLOAT16, a + 34048);      /* comm scale 1 */
    s->t[7] = nd(128, 0, 1, QMAR_FLOAT16, a + 34560);      /* comm scale 2 */
    s->t[8] = nd(32, 128, 2, QMAR_FLOAT16, a + 40960);     /* output */
}

static void sample_free(sample *s)
{
    for (int i = 0; i < 9; i++)
        qmar_tensor_destroy(s->t[i]);
    free(s->arena);
}

static qmar_status plan(const sample *s, const char *group, uint64_t *ws, qmar_executor **e)
{
    qmar_tensor *const *t = s->t;
    return qmar_quant_matmul_all_reduce_v3_get_workspace_size(
        t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], group, "sum", 0, 1, t[8], ws, e);
}

static void test_plan_and_run_contract(void)
{
    sample s;
    sample_make(&s);
    qmar_comm *c[8];
    char name[QMAR_GROUP_NAME_MAX];
    CHECK_EQ_I64(qmar_comm_init_all(8, c), QMAR_SUCCESS);
    CHECK_EQ_I64(qmar_comm_get_name(c[3], name), QMAR_SUCCESS);
    uint64_t ws = 123;
    qmar_executor *e = (qmar_executor *)&ws; /* must be overwritten */
    CHECK_EQ_I64(plan(&s, name, &ws, &e), QMAR_SUCCESS);
    /* Case 3, FP16: Align64(32*128*2) + 2*Align64(32*128). */
    CHECK_EQ_I64(ws, 8192 + 2 * 4096);
    CHECK(e != NULL);
    qmar_executor_destroy(e);
    qmar_executor_destroy(NULL);

    /* Run's own checks; the executor is consumed on every path (ASan/valgrind see leaks). A
     * refused rank still takes part in the agreement (spec/api.md "One outcome"): its peers do
     * not come here, so it returns at its (short) timeout, with its own status and reason. */
    CHECK_EQ_I64(qmar_comm_set_timeout_ms(c[3], 20), QMAR_SUCCESS);
    CHECK_EQ_I64(qmar_quant_matmul_all_reduce_v3(NULL, 0, NULL, NULL), QMAR_ERR_PARAM_NULLPTR);
    CHECK_EQ_I64(plan(&s, name, &ws, &e), QMAR_SUCCESS);
    char *w = malloc(ws);
    CHECK_EQ_I64(qmar_quant_matmul_all_reduce_v3(w, ws - 1, e, NULL), QMAR_ERR_PARAM_INVALID);
    CHECK(strstr(qmar_last_error(), "workspace") != NULL);
    CHECK_EQ_I64(plan(&s, name, &ws, &e), QMAR_SUCCESS);
    CHECK_EQ_I64(qmar_quant_matmul_all_reduce_v3(NULL, ws, e, NULL), QMAR_ERR_PARAM_INVALID);
    free(w);

    /* An executor keeps its endpoint alive after the user destroys it; the name dies at once. */
    CHECK_EQ_I64(plan(&s, name, &ws, &e), QMAR_SUCCESS);
    CHECK_EQ_I64(qmar_comm_destroy(c[3]), QMAR_SUCCESS);
    qmar_executor *e2 = NULL;
    CHECK_EQ_I64(plan(&s, name, &ws, &e2), QMAR_ERR_PARAM_INVALID);
    CHECK(e2 == NULL && ws == 0);
    CHECK(strstr(qmar_last_error(), "[A4]") != NULL);
    qmar_executor_destroy(e);
    for (int r = 0; r < 8; r++)
        if (r != 3)
            qmar_comm_destroy(c[r]);
    sample_free(&s);
}

static void test_reason_names_rule(void)
{
    sample s;
    sample_make(&s);
    uint64_t ws;
    qmar_executor *e;
    qmar_tensor *t[9];
    memcpy(t, s.t, sizeof t);
    CHECK_EQ_I64(qmar_quant_matmul_all_reduce_v3_get_workspace_size(
                     t[0], NULL, t[2], t[3], t[4], t[5], t[6], t[7], "g", "sum", 0, 1, t[8], &ws,
                     &e),
                 QMAR_ERR_PARAM_NULLPTR);
    CHECK(strstr(qmar_last_error(), "x2") != NULL && strstr(qmar_last_error(), "[N1]") != NULL);
    int64_t dims[2] = {32, 65};
    qmar_tensor *bad = qmar_tensor_create(dims, 2, QMAR_INT8, NULL, 0, QMAR_FORMAT_ND, dims, 2,
                                          s.arena);
    CHECK_EQ_I64(qmar_quant_matmul_all_reduce_v3_get_workspace_size(
                     bad, t[1], t[2], t[3], t[4], t[5], t[6], t[7], "g", "sum", 0, 1, t[8], &ws,
                     &e),
                 QMAR_ERR_PARAM_INVALID);
    CHECK(strcmp(qmar_last_error(), "[S2] x2: k (64) != x1 last dim (65)") == 0);
    qmar_tensor_destroy(bad);
    sample_free(&s);
}

int main(void)
{
    test_status_strings();
    test_last_error_is_per_thread();
    test_tensor_create();
    test_comms();
    test_plan_and_run_contract();
    test_reason_names_rule();
    return check_summary();
}
