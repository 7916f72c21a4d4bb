/* SPDX-License-Identifier: Apache-2.0 */
/* GEMM + epilogue on one rank and one thread: qmar's compute part of Run (allocate, pack x2,
 * GEMM, fused epilogue: exactly what execute.c does before the collective) and the whole public
 * call with R = 1 (plus planning, agreement and the one-rank reduce), against oneDNN's int8
 * matmul with the same inputs (s8 x s8, int32 bias, per-channel scales, BF16 output, plain
 * row-major weights; also with weights reordered beforehand), and the register-only peak of this
 * core (AMX TDPBSSD if the CPU has it, else AVX-512 VPDPBUSD), all measured by this program in
 * one run. Runs are interleaved so that all see the same machine noise; the table gives medians,
 * the summary the best runs. Outputs of qmar and oneDNN are compared bit for bit.
 *
 * usage: bench_gemm [--quick] [--transposed] [--min-seconds S] [--csv FILE] [MxKxN ...]
 * oneDNN runs on OpenMP: the program re-executes itself with OMP_NUM_THREADS=1 when needed. */
#define _DEFAULT_SOURCE
#include <dnnl.h>
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compute.h"
#include "fp.h"
#include "kernels/cpu.h"
#include "kernels/kernel.h"
#include "nz.h"
#include "qmar/qmar.h"
#include "validate.h"

#define MAX_REPS 64

/* Two clocks: wall time, and this thread's CPU time, which leaves out the time other processes
 * on a shared machine take the core away (oneDNN runs on the calling thread with
 * OMP_NUM_THREADS=1, so both libraries are measured the same way). */
enum { WALL, CPU, NCLOCK };
static const char *const clock_names[NCLOCK] = {"wall-clock time", "thread CPU time"};

static double clock_now(int which)
{
    struct timespec ts;
    clock_gettime(which == WALL ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double now(void)
{
    return clock_now(WALL);
}

typedef struct stamp {
    double t[NCLOCK];
} stamp;

static stamp stamp_now(void)
{
    stamp s = {{clock_now(WALL), clock_now(CPU)}};
    return s;
}

/* --transposed: x2 stored transposed (n x k row-major, PyTorch's Linear weight; FRACTAL_NZ of
 * that for the NZ column), oneDNN's plain weights in the same order (ba). */
static int transposed;

static uint64_t rng = 88172645463325252u;
static uint64_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ---- register-only peaks ---- */

__attribute__((target("avx512f,avx512vnni"))) static void vnni_peak_gops(double *gops)
{
    __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(5);
    __m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0,
            c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
    const long iters = 4000000;
    stamp t0 = stamp_now();
    for (long i = 0; i < iters; i++) {
        c0 = _mm512_dpbusd_epi32(c0, a, b), c1 = _mm512_dpbusd_epi32(c1, a, b);
        c2 = _mm512_dpbusd_epi32(c2, a, b), c3 = _mm512_dpbusd_epi32(c3, a, b);
        c4 = _mm512_dpbusd_epi32(c4, a, b), c5 = _mm512_dpbusd_epi32(c5, a, b);
        c6 = _mm512_dpbusd_epi32(c6, a, b), c7 = _mm512_dpbusd_epi32(c7, a, b);
        c8 = _mm512_dpbusd_epi32(c8, a, b), c9 = _mm512_dpbusd_epi32(c9, a, b);
        c10 = _mm512_dpbusd_epi32(c10, a, b), c11 = _mm512_dpbusd_epi32(c11, a, b);
        __asm__ volatile("" : "+v"(c0), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4), "+v"(c5));
        __asm__ volatile("" : "+v"(c6), "+v"(c7), "+v"(c8), "+v"(c9), "+v"(c10), "+v"(c11));
    }
    stamp t1 = stamp_now();
    volatile int sink = _mm512_reduce_add_epi32(
        _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(c0, c1), _mm512_add_epi32(c2, c3)),
                         _mm512_add_epi32(_mm512_add_epi32(c4, c5), c6)));
    sink += _mm512_reduce_add_epi32(_mm512_add_epi32(_mm512_add_epi32(c7, c8),
                                                     _mm512_add_epi32(_mm512_add_epi32(c9, c10), c11)));
    (void)sink;
    for (int c = 0; c < NCLOCK; c++) /* 64 multiply-adds per instruction */
        gops[c] = (double)iters * 12 * 64 * 2 / (t1.t[c] - t0.t[c]) * 1e-9;
}

typedef struct tilecfg {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tilecfg;

__attribute__((target("amx-tile,amx-int8"))) static void amx_peak_gops(double *gops)
{
    tilecfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++)
        cfg.rows[t] = 16, cfg.colsb[t] = 64;
    _tile_loadconfig(&cfg);
    static int8_t buf[1024];
    _tile_loadd(4, buf, 64);
    _tile_loadd(5, buf, 64);
    _tile_loadd(6, buf, 64);
    _tile_loadd(7, buf, 64);
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    const long iters = 400000;
    stamp t0 = stamp_now();
    for (long i = 0; i < iters; i++) {
        _tile_dpbssd(0, 4, 6);
        _tile_dpbssd(1, 4, 7);
        _tile_dpbssd(2, 5, 6);
        _tile_dpbssd(3, 5, 7);
    }
    stamp t1 = stamp_now();
    _tile_release();
    for (int c = 0; c < NCLOCK; c++)
        gops[c] = (double)iters * 4 * 16 * 16 * 64 * 2 / (t1.t[c] - t0.t[c]) * 1e-9;
}

#define PEAK_TRIALS 5

/* Best of PEAK_TRIALS short runs per clock: noise only ever lowers a measurement. */
static void measure_peaks(int has_amx, int has_vnni, double *amx, double *vnni)
{
    for (int t = 0; t < PEAK_TRIALS; t++) {
        double a[NCLOCK] = {0}, v[NCLOCK] = {0};
        if (has_amx)
            amx_peak_gops(a);
        if (has_vnni)
            vnni_peak_gops(v);
        for (int c = 0; c < NCLOCK; c++) {
            amx[c] = a[c] > amx[c] ? a[c] : amx[c];
            vnni[c] = v[c] > vnni[c] ? v[c] : vnni[c];
        }
    }
}

/* ---- memory read bandwidth ---- */

/* One thread reading `bytes` at p from end to end with 64-byte loads: the most a GEMM with few
 * rows, which reads each byte of x2 once, can reach. Timed on x2 itself in each round beside the
 * GEMMs, so that it sees the same machine (on a shared machine memory bandwidth varies). */
__attribute__((target("avx512f"))) static void read_all(const int8_t *p, int64_t bytes)
{
    __m512i acc0 = _mm512_setzero_si512(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    int64_t i = 0;
    for (; i + 256 <= bytes; i += 256) {
        acc0 = _mm512_add_epi32(acc0, _mm512_loadu_si512(p + i));
        acc1 = _mm512_add_epi32(acc1, _mm512_loadu_si512(p + i + 64));
        acc2 = _mm512_add_epi32(acc2, _mm512_loadu_si512(p + i + 128));
        acc3 = _mm512_add_epi32(acc3, _mm512_loadu_si512(p + i + 192));
    }
    volatile int sink = _mm512_reduce_add_epi32(
        _mm512_add_epi32(_mm512_add_epi32(acc0, acc1), _mm512_add_epi32(acc2, acc3)));
    (void)sink;
}

/* ---- oneDNN ---- */

#define DNNL_OK(call)                                                                              \
    do {                                                                                           \
        dnnl_status_t s_ = (call);                                                                 \
        if (s_ != dnnl_success) {                                                                  \
            fprintf(stderr, "oneDNN: %s failed (%d)\n", #call, (int)s_);                           \
            exit(2);                                                                               \
        }                                                                                          \
    } while (0)

typedef struct dnnl_mm {
    dnnl_primitive_t prim;
    dnnl_memory_t src, wei, bias, dst, wei_user;
    const char *impl;
    int bias_f32;
} dnnl_mm;

static dnnl_engine_t engine;
static dnnl_stream_t stream;

/* prepacked: weights in the layout oneDNN prefers (reordered once, outside the timing). */
static int dnnl_setup(dnnl_mm *mm, int64_t m, int64_t k, int64_t n, int8_t *x1, int8_t *x2,
                      int32_t *bias, float *bias_f, const float *scales, uint16_t *out,
                      int prepacked)
{
    dnnl_memory_desc_t src_md, wei_md, bias_md, dst_md, wei_user_md;
    dnnl_dims_t ds = {m, k}, dw = {k, n}, db = {1, n}, dd = {m, n};
    DNNL_OK(dnnl_memory_desc_init_by_tag(&src_md, 2, ds, dnnl_s8, dnnl_ab));
    dnnl_format_tag_t plain = transposed ? dnnl_ba : dnnl_ab;
    DNNL_OK(dnnl_memory_desc_init_by_tag(&wei_user_md, 2, dw, dnnl_s8, plain));
    DNNL_OK(dnnl_memory_desc_init_by_tag(&wei_md, 2, dw, dnnl_s8,
                                         prepacked ? dnnl_format_tag_any : plain));
    DNNL_OK(dnnl_memory_desc_init_by_tag(&dst_md, 2, dd, dnnl_bf16, dnnl_ab));
    dnnl_primitive_attr_t attr;
    DNNL_OK(dnnl_primitive_attr_create(&attr));
    DNNL_OK(dnnl_primitive_attr_set_output_scales(attr, n, 1 << 1, scales));
    dnnl_primitive_desc_t pd = NULL;
    mm->bias_f32 = 0;
    for (int attempt = 0; attempt < 2 && pd == NULL; attempt++) { /* s32 bias, else f32 */
        DNNL_OK(dnnl_memory_desc_init_by_tag(&bias_md, 2, db, attempt ? dnnl_f32 : dnnl_s32,
                                             dnnl_ab));
        dnnl_matmul_desc_t desc;
        DNNL_OK(dnnl_matmul_desc_init(&desc, &src_md, &wei_md, &bias_md, &dst_md));
        if (dnnl_primitive_desc_create(&pd, &desc, attr, engine, NULL) != dnnl_success)
            pd = NULL;
        mm->bias_f32 = attempt;
    }
    dnnl_primitive_attr_destroy(attr);
    if (pd == NULL)
        return 0;
    DNNL_OK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &mm->impl));
    mm->impl = strdup(mm->impl);
    const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    DNNL_OK(dnnl_memory_create(&mm->src, &src_md, engine, x1));
    DNNL_OK(dnnl_memory_create(&mm->bias, &bias_md, engine, mm->bias_f32 ? (void *)bias_f : bias));
    DNNL_OK(dnnl_memory_create(&mm->dst, &dst_md, engine, out));
    DNNL_OK(dnnl_memory_create(&mm->wei_user, &wei_user_md, engine, x2));
    if (prepacked) {
        DNNL_OK(dnnl_memory_create(&mm->wei, wmd, engine, DNNL_MEMORY_ALLOCATE));
        dnnl_primitive_desc_t rpd;
        dnnl_primitive_t rprim;
        DNNL_OK(dnnl_reorder_primitive_desc_create(&rpd, &wei_user_md, engine, wmd, engine, NULL));
        DNNL_OK(dnnl_primitive_create(&rprim, rpd));
        dnnl_exec_arg_t rargs[2] = {{DNNL_ARG_FROM, mm->wei_user}, {DNNL_ARG_TO, mm->wei}};
        DNNL_OK(dnnl_primitive_execute(rprim, stream, 2, rargs));
        DNNL_OK(dnnl_stream_wait(stream));
        dnnl_primitive_destroy(rprim);
        dnnl_primitive_desc_destroy(rpd);
    } else {
        mm->wei = mm->wei_user;
    }
    DNNL_OK(dnnl_primitive_create(&mm->prim, pd));
    dnnl_primitive_desc_destroy(pd);
    return 1;
}

static void dnnl_run(const dnnl_mm *mm)
{
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, mm->src},
                               {DNNL_ARG_WEIGHTS, mm->wei},
                               {DNNL_ARG_BIAS, mm->bias},
                               {DNNL_ARG_DST, mm->dst}};
    DNNL_OK(dnnl_primitive_execute(mm->prim, stream, 4, args));
    DNNL_OK(dnnl_stream_wait(stream));
}

static void dnnl_free(dnnl_mm *mm)
{
    dnnl_primitive_destroy(mm->prim);
    if (mm->wei != mm->wei_user)
        dnnl_memory_destroy(mm->wei);
    dnnl_memory_destroy(mm->wei_user);
    dnnl_memory_destroy(mm->src);
    dnnl_memory_destroy(mm->bias);
    dnnl_memory_destroy(mm->dst);
    free((void *)mm->impl);
}

/* ---- qmar: the whole public call, one rank ---- */

typedef struct qmar_mm {
    qmar_tensor *x1, *x2, *bias, *scale, *out;
    char group[QMAR_GROUP_NAME_MAX];
    void *ws;
    uint64_t ws_size;
} qmar_mm;

static void qmar_setup(qmar_mm *q, qmar_comm *comm, int64_t m, int64_t k, int64_t n, int8_t *x1,
                       int8_t *x2, int32_t *bias, uint16_t *scale, uint16_t *out)
{
    int64_t d1[2] = {m, k}, d2[2] = {k, n}, db[1] = {n}, dout[2] = {m, n};
    int64_t stored_t[2] = {n, k}, strides_t[2] = {1, k}; /* a transposed view of n x k */
    q->x1 = qmar_tensor_create(d1, 2, QMAR_INT8, NULL, 0, QMAR_FORMAT_ND, d1, 2, x1);
    q->x2 = transposed ? qmar_tensor_create(d2, 2, QMAR_INT8, strides_t, 0, QMAR_FORMAT_ND,
                                            stored_t, 2, x2)
                       : qmar_tensor_create(d2, 2, QMAR_INT8, NULL, 0, QMAR_FORMAT_ND, d2, 2, x2);
    q->bias = qmar_tensor_create(db, 1, QMAR_INT32, NULL, 0, QMAR_FORMAT_ND, db, 1, bias);
    q->scale = qmar_tensor_create(db, 1, QMAR_BF16, NULL, 0, QMAR_FORMAT_ND, db, 1, scale);
    q->out = qmar_tensor_create(dout, 2, QMAR_BF16, NULL, 0, QMAR_FORMAT_ND, dout, 2, out);
    qmar_comm_get_name(comm, q->group);
    q->ws_size = (uint64_t)(m * n * 2) + 64;
    q->ws = aligned_alloc(64, (q->ws_size + 63) / 64 * 64);
}

static void qmar_run(const qmar_mm *q)
{
    uint64_t ws = 0;
    qmar_executor *ex = NULL;
    qmar_status st = qmar_quant_matmul_all_reduce_v3_get_workspace_size(
        q->x1, q->x2, q->bias, NULL, q->scale, NULL, NULL, NULL, q->group, "sum", 0, 1, q->out,
        &ws, &ex);
    if (st == QMAR_SUCCESS && ws <= q->ws_size)
        st = qmar_quant_matmul_all_reduce_v3(q->ws, q->ws_size, ex, NULL);
    if (st != QMAR_SUCCESS) {
        fprintf(stderr, "qmar: %s: %s\n", qmar_status_string(st), qmar_last_error());
        exit(2);
    }
}

/* The large buffers the compute keeps from one call to the next, as Run keeps them on its
 * endpoint (scratch.h). */
static qmar__scratch kept;

/* The compute part of Run (execute.c: scratch_alloc, compute_rows, free) into e. */
static void qmar_compute(int64_t m, int64_t k, int64_t n, const int8_t *x1, const int8_t *x2,
                         int32_t layout, const int32_t *bias, const uint16_t *scale, uint16_t *e)
{
    qmar__compute c;
    if (qmar__compute_init_kept(&c, qmar__kernel_select(), 1, m, k, n, layout, QMAR__MODE_CHOOSE,
                                &kept) != QMAR_SUCCESS) {
        fprintf(stderr, "qmar: %s\n", qmar_last_error());
        exit(2);
    }
    qmar__epilogue ep = {.y = QMAR_BF16, .mode = QMAR__DQ_BF16, .n = n, .scale = scale,
                         .scale_step = 1, .bias = bias};
    qmar__compute_prepare(&c, x1, x2, &ep);
    qmar__compute_rows(&c, 0, m, e, n);
    qmar__compute_free(&c);
}

static void qmar_free(qmar_mm *q)
{
    qmar_tensor_destroy(q->x1);
    qmar_tensor_destroy(q->x2);
    qmar_tensor_destroy(q->bias);
    qmar_tensor_destroy(q->scale);
    qmar_tensor_destroy(q->out);
    free(q->ws);
}

/* ---- one shape ---- */

/* timed in this order each round (READ: reading x2 once, the bandwidth reference) */
enum { COMP, COMP_NZ, RUN, DNNL, DNNL_PRE, READ, NVARIANT };

typedef struct result {
    int64_t m, k, n;
    double med[NCLOCK][NVARIANT], best[NCLOCK][NVARIANT]; /* seconds */
    int reps;
    int64_t differ, ulp2;                    /* outputs: bits differ / by more than 1 ulp */
    const char *impl;
} result;

static result bench_shape(qmar_comm *comm, int64_t m, int64_t k, int64_t n, double min_seconds)
{
    result r = {.m = m, .k = k, .n = n};
    int8_t *x1 = aligned_alloc(64, (size_t)((m * k + 63) / 64 * 64));
    int8_t *x2 = aligned_alloc(64, (size_t)((k * n + 63) / 64 * 64));
    int64_t rows = transposed ? n : k, cols = transposed ? k : n; /* of x2 as stored */
    int32_t nd = transposed ? QMAR__X2_ND_T : QMAR__X2_ND, nz = transposed ? QMAR__X2_NZ_T
                                                                           : QMAR__X2_NZ;
    int64_t nz_bytes = (rows + 15) / 16 * 16 * ((cols + 31) / 32 * 32);
    int8_t *x2_nz = aligned_alloc(64, (size_t)((nz_bytes + 63) / 64 * 64));
    int32_t *bias = malloc((size_t)n * 4);
    float *bias_f = malloc((size_t)n * 4), *scales = malloc((size_t)n * 4);
    uint16_t *scale_bf16 = malloc((size_t)n * 2);
    uint16_t *out_q = aligned_alloc(64, (size_t)((m * n * 2 + 63) / 64 * 64));
    uint16_t *out_c = aligned_alloc(64, (size_t)((m * n * 2 + 63) / 64 * 64));
    uint16_t *out_d = aligned_alloc(64, (size_t)((m * n * 2 + 63) / 64 * 64));
    for (int64_t i = 0; i < m * k; i++)
        x1[i] = (int8_t)next();
    for (int64_t i = 0; i < k * n; i++)
        x2[i] = (int8_t)next();
    for (int64_t j = 0; j < n; j++) {
        bias[j] = (int32_t)(next() % 20001) - 10000;
        bias_f[j] = (float)bias[j];
        /* a bf16 scale around 1e-4, the same value for both libraries */
        scale_bf16[j] = qmar__f32_to_bf16(1e-4f * (float)(1 + next() % 100) / 50.0f);
        scales[j] = qmar__bf16_to_f32(scale_bf16[j]);
    }
    memset(x2_nz, 0, (size_t)nz_bytes); /* x2 in FRACTAL_NZ, as TransMatmulWeight makes it once */
    for (int64_t h = 0; h < rows; h++)
        for (int64_t w = 0; w < cols; w++)
            x2_nz[qmar__nz_index(h, w, rows)] = x2[h * cols + w];
    qmar_mm q;
    qmar_setup(&q, comm, m, k, n, x1, x2, bias, scale_bf16, out_q);
    dnnl_mm d, dp;
    if (!dnnl_setup(&d, m, k, n, x1, x2, bias, bias_f, scales, out_d, 0) ||
        !dnnl_setup(&dp, m, k, n, x1, x2, bias, bias_f, scales, out_d, 1)) {
        fprintf(stderr, "oneDNN has no s8 x s8 -> bf16 matmul here\n");
        exit(2);
    }
    r.impl = strdup(d.impl);
    /* warm-up, then the check that both compute the same thing */
    qmar_run(&q);
    qmar_compute(m, k, n, x1, x2, nd, bias, scale_bf16, out_c);
    dnnl_run(&d);
    for (int64_t i = 0; i < m * n; i++) {
        int32_t a = out_q[i], b = out_d[i];
        r.differ += a != b || out_c[i] != out_q[i];
        r.ulp2 += abs(a - b) > 1;
    }
    qmar_compute(m, k, n, x1, x2_nz, nz, bias, scale_bf16, out_c);
    for (int64_t i = 0; i < m * n; i++)
        r.differ += out_c[i] != out_q[i];
    dnnl_run(&dp);
    static double t[NCLOCK][NVARIANT][MAX_REPS];
    double start = now();
    int reps = 0;
    while (reps < MAX_REPS && (reps < 3 || now() - start < min_seconds)) {
        stamp st[NVARIANT + 1];
        st[0] = stamp_now();
        qmar_compute(m, k, n, x1, x2, nd, bias, scale_bf16, out_c);
        st[1] = stamp_now();
        qmar_compute(m, k, n, x1, x2_nz, nz, bias, scale_bf16, out_c);
        st[2] = stamp_now();
        qmar_run(&q);
        st[3] = stamp_now();
        dnnl_run(&d);
        st[4] = stamp_now();
        dnnl_run(&dp);
        st[5] = stamp_now();
        read_all(x2, k * n);
        st[6] = stamp_now();
        for (int c = 0; c < NCLOCK; c++)
            for (int v = 0; v < NVARIANT; v++)
                t[c][v][reps] = st[v + 1].t[c] - st[v].t[c];
        reps++;
    }
    r.reps = reps;
    for (int c = 0; c < NCLOCK; c++)
        for (int v = 0; v < NVARIANT; v++) {
            r.med[c][v] = median(t[c][v], reps);
            r.best[c][v] = t[c][v][0]; /* median() sorted them */
        }
    qmar_free(&q);
    dnnl_free(&d);
    dnnl_free(&dp);
    free(x1), free(x2), free(x2_nz), free(bias), free(bias_f), free(scales), free(scale_bf16);
    free(out_q), free(out_c), free(out_d);
    return r;
}

static double gops(const result *r, double seconds)
{
    return 2.0 * (double)r->m * (double)r->k * (double)r->n / seconds * 1e-9;
}

static const char *shape_name(const result *r)
{
    static char buf[4][48];
    static int at;
    char *b = buf[at++ % 4];
    snprintf(b, 48, "%lldx%lldx%lld", (long long)r->m, (long long)r->k, (long long)r->n);
    return b;
}

/* One table: per shape GOPS of each variant, the ratios, the peak share; for few rows also the
 * rate at which x2 was read against the measured read bandwidth. */
static void print_table(const result *res, int nshapes, int c, int pass, double peak,
                        const char *peak_name)
{
    printf("\n%s, %s (GOPS; ratio = qmar / oneDNN, NZ ratio = qmar NZ / oneDNN pre; %s = "
           "GEMM+epi / peak)\n", clock_names[c], pass ? "best runs" : "medians", peak_name);
    printf("%-17s| %9s %9s %9s | %9s %6s | %10s %6s | %6s | %s\n", "m x k x n", "GEMM+epi",
           "NZ", "Run R=1", "oneDNN", "ratio", "oneDNN pre", "NZ rat", peak_name,
           "x2 read GB/s: ND NZ oneDNN read-only (ND, NZ of read-only)");
    for (int s = 0; s < nshapes; s++) {
        const result *r = &res[s];
        const double *tv = pass ? r->best[c] : r->med[c];
        double g = gops(r, tv[COMP]), gz = gops(r, tv[COMP_NZ]), gq = gops(r, tv[RUN]);
        double gd = gops(r, tv[DNNL]), gp = gops(r, tv[DNNL_PRE]);
        printf("%-17s| %9.1f %9.1f %9.1f | %9.1f %5.2fx | %10.1f %5.2fx | %5.1f%% |", shape_name(r),
               g, gz, gq, gd, g / gd, gp, gz / gp, peak > 0 ? 100 * g / peak : 0.0);
        if (r->m <= 16) {
            double bytes = (double)r->k * (double)r->n * 1e-9, bw = bytes / tv[READ];
            printf(" %5.1f %5.1f %5.1f %5.1f (%3.0f%%, %3.0f%%)", bytes / tv[COMP],
                   bytes / tv[COMP_NZ], bytes / tv[DNNL], bw, 100 * bytes / tv[COMP] / bw,
                   100 * bytes / tv[COMP_NZ] / bw);
        }
        printf("\n");
    }
}

/* m, k, n and GOPS (best run by the thread's CPU time, the clock least disturbed on a shared
 * machine; on a quiet one it equals wall time) of each variant, for bench/plot.py. */
static void write_csv(const char *path, const result *res, int nshapes)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return;
    }
    fprintf(f, "m,k,n,qmar_nd,qmar_nz,qmar_run,onednn,onednn_pre,read_bw_gbs\n");
    for (int s = 0; s < nshapes; s++) {
        const result *r = &res[s];
        const double *tv = r->best[CPU];
        fprintf(f, "%lld,%lld,%lld,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f\n", (long long)r->m,
                (long long)r->k, (long long)r->n, gops(r, tv[COMP]), gops(r, tv[COMP_NZ]),
                gops(r, tv[RUN]), gops(r, tv[DNNL]), gops(r, tv[DNNL_PRE]),
                (double)r->k * (double)r->n * 1e-9 / tv[READ]);
    }
    fclose(f);
}

int main(int argc, char **argv)
{
    const char *omp = getenv("OMP_NUM_THREADS");
    if (omp == NULL || strcmp(omp, "1") != 0) { /* oneDNN's OpenMP reads it at load time */
        setenv("OMP_NUM_THREADS", "1", 1);
        execv("/proc/self/exe", argv);
        perror("re-exec with OMP_NUM_THREADS=1");
        return 2;
    }
    setenv("QMAR_NUM_THREADS", "1", 1); /* one thread for qmar too (read once, later) */
    double min_seconds = 3.0;
    /* decode shapes: x2 of 256 MiB, more than the last-level cache of most CPUs */
    int64_t shapes[16][3] = {{32, 64, 128},       {128, 4096, 4096}, {1024, 4096, 4096},
                             {4096, 4096, 4096},  {1, 16384, 16384}, {4, 16384, 16384},
                             {16, 16384, 16384}};
    int nshapes = 7, custom = 0;
    const char *csv = NULL;
    for (int i = 1; i < argc; i++) {
        long long m, k, n;
        if (strcmp(argv[i], "--quick") == 0)
            min_seconds = 0.5;
        else if (strcmp(argv[i], "--transposed") == 0)
            transposed = 1;
        else if (strcmp(argv[i], "--min-seconds") == 0 && i + 1 < argc)
            min_seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc)
            csv = argv[++i];
        else if (sscanf(argv[i], "%lldx%lldx%lld", &m, &k, &n) == 3 && nshapes < 16) {
            if (!custom)
                nshapes = 0, custom = 1;
            shapes[nshapes][0] = m, shapes[nshapes][1] = k, shapes[nshapes][2] = n;
            nshapes++;
        } else {
            fprintf(stderr, "usage: %s [--quick] [--transposed] [--min-seconds S] [--csv FILE] "
                    "[MxKxN ...]\n", argv[0]);
            return 2;
        }
    }
    const dnnl_version_t *v = dnnl_version();
    DNNL_OK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    DNNL_OK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    const qmar__kernel *kern = qmar__kernel_select();
    const qmar__cpu *cpu = qmar__cpu_facts();
    int has_amx = qmar__kernel_for(QMAR__ISA_AMX) != NULL;
    int has_vnni = qmar__kernel_for(QMAR__ISA_AVX512) != NULL;
    printf("bench_gemm: GEMM + epilogue (s8 x s8 + int32 bias, per-channel scale, BF16 out), "
           "1 rank, 1 thread%s\n", transposed ? "; x2 stored transposed (--transposed)" : "");
    printf("CPU: %s family %u (0x%x) model %u (0x%x); L1d %lld KiB, L2 %lld KiB (shared by %d), "
           "L3 %lld KiB (shared by %d), from %s\n", cpu->vendor, cpu->family, cpu->family,
           cpu->model, cpu->model, (long long)cpu->l1d / 1024, (long long)cpu->l2 / 1024,
           (int)cpu->l2_sharing, (long long)cpu->l3 / 1024, (int)cpu->l3_sharing,
           cpu->cache_source);
    printf("qmar kernel: %s (QMAR_ISA to force one): micro-tile %d x %d, row tile %d, column "
           "block %d, k block %d (512-bit VPDPBUSD timed %s), direct-path stage %d bytes, "
           "direct path for m <= %d (ND), "
           "%d (FRACTAL_NZ), %d (transposed), %s; "
           "oneDNN %d.%d.%d; OMP_NUM_THREADS=1\n",
           kern->name, (int)kern->mr, (int)kern->bfmt.nr, (int)kern->mc, (int)kern->nc,
           (int)kern->kc, kern->full_width ? "at full width" : "split or not timed",
           (int)kern->stage_bytes, (int)kern->direct_rows[QMAR__X2_ND],
           (int)kern->direct_rows[QMAR__X2_NZ], (int)kern->direct_rows[QMAR__X2_ND_T],
           kern->gemm_staged != NULL ? "staged path past it for FRACTAL_NZ and one row tile"
                                     : "FRACTAL_NZ: any m",
           v->major, v->minor, v->patch);
    qmar_comm *comm;
    if (qmar_comm_init_all(1, &comm) != QMAR_SUCCESS)
        return 2;
    /* The peak is the best of short trials before and after the shapes. */
    double amx[NCLOCK] = {0}, vnni[NCLOCK] = {0};
    measure_peaks(has_amx, has_vnni, amx, vnni);
    const char *peak_name = has_amx ? "AMX" : "VNNI";
    result res[16];
    printf("%-17s%4s | %9s %9s %9s | %9s %6s | %10s %6s | %s\n", "m x k x n", "reps",
           "GEMM+epi", "NZ", "Run R=1", "oneDNN", "ratio", "oneDNN pre", "NZ rat",
           "outputs (qmar ND, NZ vs oneDNN)");
    for (int s = 0; s < nshapes; s++) {
        result *r = &res[s];
        *r = bench_shape(comm, shapes[s][0], shapes[s][1], shapes[s][2], min_seconds);
        double g = gops(r, r->med[WALL][COMP]), gq = gops(r, r->med[WALL][RUN]);
        double gz = gops(r, r->med[WALL][COMP_NZ]);
        double gd = gops(r, r->med[WALL][DNNL]), gp = gops(r, r->med[WALL][DNNL_PRE]);
        printf("%-17s%4d | %9.1f %9.1f %9.1f | %9.1f %5.2fx | %10.1f %5.2fx | ", shape_name(r),
               r->reps, g, gz, gq, gd, g / gd, gp, gz / gp);
        if (r->differ)
            printf("%lld differ (%lld by > 1 ulp)\n", (long long)r->differ, (long long)r->ulp2);
        else
            printf("bit-identical\n");
        fflush(stdout);
    }
    measure_peaks(has_amx, has_vnni, amx, vnni);
    printf("\nregister-only peak of this core, best of %d trials (wall / CPU time): AMX TDPBSSD ",
           2 * PEAK_TRIALS);
    if (has_amx)
        printf("%.1f / %.1f GOPS", amx[WALL], amx[CPU]);
    else
        printf("n/a (no AMX on this CPU)");
    printf("; AVX-512 VNNI VPDPBUSD ");
    if (has_vnni)
        printf("%.1f / %.1f GOPS", vnni[WALL], vnni[CPU]);
    else
        printf("n/a");
    printf("\n");
    for (int c = 0; c < NCLOCK; c++)
        for (int pass = 0; pass < 2; pass++)
            print_table(res, nshapes, c, pass, has_amx ? amx[c] : vnni[c], peak_name);
    printf("\nGOPS = 2*m*k*n / time. GEMM+epi = qmar's compute part of Run (allocate, pack x2, "
           "GEMM, fused epilogue),\nx2 plain row-major (ND); NZ = the same with x2 in FRACTAL_NZ "
           "(read in place, never packed);\n(with --transposed: x2 stored n x k (ND_T), NZ = "
           "FRACTAL_NZ of that, oneDNN's plain weights ba);\nRun R=1 = the whole public call on "
           "a one-rank group (plus planning, agreement, the one-rank reduce);\noneDNN = matmul "
           "with plain (ab) weights as given; oneDNN pre = weights reordered to oneDNN's layout "
           "beforehand "
           "(untimed).\noneDNN implementation: %s\n", res[0].impl);
    if (csv != NULL)
        write_csv(csv, res, nshapes);
    qmar_comm_destroy(comm);
    qmar__scratch_free(&kept);
    dnnl_stream_destroy(stream);
    dnnl_engine_destroy(engine);
    for (int s = 0; s < nshapes; s++)
        free((void *)res[s].impl);
    return 0;
}
