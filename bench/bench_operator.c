/* SPDX-License-Identifier: Apache-2.0 */
/* The whole operator under `mpirun -n R`, side by side with what a user would otherwise build:
 *  1. case 1 (BF16 output, per-channel scales, bias) at (m, k/R, n), over MPI, against oneDNN's
 *     int8 matmul on each rank followed by MPI_Allreduce and a BF16 conversion;
 *  2. the same operator on the in-process backend (R threads in rank 0), against the same baseline,
 *     and the compute alone (one rank) for reference;
 *  3. case 3 (int8 communication) against case 1 at a communication-bound shape;
 *  4. a sweep over m (default 1, 16, 128, 1024) at the main shape's k/R and n, both backends
 *     against the baseline, with the per-call latency (plan + Run) of the smallest m; --csv FILE
 *     writes it for bench/plot.py.
 * Times are medians over iterations of the slowest rank's time.
 *
 * usage: mpirun -n 2 bench_operator [--shape M,K,N] [--comm-shape M,K,N] [--iters I]
 *                                   [--sweep M1,M2,...] [--csv FILE] */
#define _DEFAULT_SOURCE
#include <mpi.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "onednn_pipeline.h"
#include "qmar/qmar.h"
#include "qmar/qmar_mpi.h"

typedef struct shape {
    int64_t m, k, n;
} shape;

/* One rank's inputs, and its workspace, kept across runs as an application would keep it. */
typedef struct inputs {
    shape s;
    int8_t *x1, *x2;
    int32_t *bias;
    float *bias_f, *scale_f;
    uint16_t *scale, *s1, *s2, *out;
    void *ws;
    uint64_t ws_size;
    int time_plan; /* the time includes planning (get_workspace_size), not only Run */
} inputs;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static uint16_t bf16_of(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    return (uint16_t)(x >> 16);
}

static float f32_of_bf16(uint16_t h)
{
    uint32_t x = (uint32_t)h << 16;
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}

static int make_inputs(inputs *in, shape s, uint64_t seed)
{
    memset(in, 0, sizeof *in);
    in->s = s;
    size_t mk = (size_t)(s.m * s.k), kn = (size_t)(s.k * s.n), mn = (size_t)(s.m * s.n);
    size_t n = (size_t)s.n;
    in->x1 = malloc(mk), in->x2 = malloc(kn), in->bias = malloc(n * 4);
    in->bias_f = malloc(n * 4), in->scale_f = malloc(n * 4), in->scale = malloc(n * 2);
    in->s1 = malloc(n * 2), in->s2 = malloc(n * 2), in->out = malloc(mn * 2);
    if (!in->x1 || !in->x2 || !in->bias || !in->bias_f || !in->scale_f || !in->scale ||
        !in->s1 || !in->s2 || !in->out)
        return -1;
    for (size_t i = 0; i < mk; i++)
        in->x1[i] = (int8_t)((seed = seed * 6364136223846793005u + 1442695040888963407u) >> 56);
    for (size_t i = 0; i < kn; i++)
        in->x2[i] = (int8_t)((seed = seed * 6364136223846793005u + 1442695040888963407u) >> 56);
    for (size_t j = 0; j < n; j++) {
        in->scale[j] = bf16_of(1.0f / 4096.0f * (float)(1 + j % 7));
        in->scale_f[j] = f32_of_bf16(in->scale[j]);
        in->bias[j] = (int32_t)(j % 1000) - 500;
        in->bias_f[j] = (float)in->bias[j] * in->scale_f[j];
        in->s1[j] = bf16_of(0.5f), in->s2[j] = bf16_of(2.0f);
    }
    return 0;
}

static void free_inputs(inputs *in)
{
    void *p[] = {in->x1, in->x2, in->bias, in->bias_f, in->scale_f, in->scale, in->s1, in->s2,
                 in->out, in->ws};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        free(p[i]);
}

static qmar_tensor *nd(int64_t d0, int64_t d1, uint64_t ndim, qmar_dtype dt, void *data)
{
    int64_t dims[2] = {d0, d1};
    return qmar_tensor_create(dims, ndim, dt, NULL, 0, QMAR_FORMAT_ND, dims, ndim, data);
}

/* Plans and runs the operator once on `group`; returns the Run time in seconds, < 0 on error. */
static double run_qmar(inputs *in, const char *group, int op_case)
{
    shape s = in->s;
    qmar_tensor *t[9] = {
        nd(s.m, s.k, 2, QMAR_INT8, in->x1), nd(s.k, s.n, 2, QMAR_INT8, in->x2),
        nd(s.n, 0, 1, QMAR_INT32, in->bias), NULL, nd(s.n, 0, 1, QMAR_BF16, in->scale), NULL,
        op_case == 3 ? nd(s.n, 0, 1, QMAR_BF16, in->s1) : NULL,
        op_case == 3 ? nd(s.n, 0, 1, QMAR_BF16, in->s2) : NULL,
        nd(s.m, s.n, 2, QMAR_BF16, in->out)};
    uint64_t ws_size = 0;
    qmar_executor *ex = NULL;
    double secs = -1, t_plan = now();
    if (qmar_quant_matmul_all_reduce_v3_get_workspace_size(t[0], t[1], t[2], t[3], t[4], t[5],
                                                           t[6], t[7], group, "sum", 0, 1, t[8],
                                                           &ws_size, &ex) == QMAR_SUCCESS) {
        if (ws_size > in->ws_size) {
            free(in->ws);
            in->ws = malloc(ws_size);
            in->ws_size = in->ws ? ws_size : 0;
        }
        double t0 = now();
        qmar_status st = qmar_quant_matmul_all_reduce_v3(in->ws, in->ws_size, ex, NULL);
        secs = st == QMAR_SUCCESS ? now() - (in->time_plan ? t_plan : t0) : -1;
        if (st != QMAR_SUCCESS)
            fprintf(stderr, "qmar: %s\n", qmar_last_error());
    } else {
        fprintf(stderr, "qmar plan: %s\n", qmar_last_error());
    }
    for (int i = 0; i < 9; i++)
        qmar_tensor_destroy(t[i]);
    return secs;
}

/* ---- MPI runs: the slowest rank's time per iteration, median over iterations -------------- */

typedef double (*timed_run)(void *arg);

static double median_over_ranks(timed_run fn, void *arg, int iters)
{
    double v[64];
    fn(arg); /* warm-up */
    for (int it = 0; it < iters; it++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double mine = fn(arg), slowest;
        MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        v[it] = slowest;
    }
    return median(v, iters);
}

typedef struct qmar_run_arg {
    inputs *in;
    const char *group;
    int op_case;
} qmar_run_arg;

static double qmar_once(void *arg)
{
    qmar_run_arg *a = arg;
    return run_qmar(a->in, a->group, a->op_case);
}

static double onednn_once(void *arg)
{
    double t0 = now();
    return onednn_pipeline_run(arg, MPI_COMM_WORLD) == 0 ? now() - t0 : -1;
}

/* ---- in-process runs: R threads of rank 0 -------------------------------------------------- */

/* Where every iteration of the in-process runs starts: a barrier that polls (the ranks fit the
 * cores, as the MPI ranks busy-poll in MPI_Barrier), so that every rank is running, on a core of
 * its own, when the iteration starts. A sleeping barrier (pthread_barrier_t) timed the wake-up of
 * its last sleeper, and let the scheduler wake both rank threads on one core: at m = 16 the runs
 * split between 0.7 ms and 1.7 ms (Zen 5, 2 vCPUs) as the two ranks shared a core or not. */
typedef struct spin_start {
    atomic_int arrived;
    atomic_int round;
    int ranks, yield; /* yield: more ranks than CPUs, so a poller gives its CPU away */
} spin_start;

static void spin_start_wait(spin_start *s)
{
    int round = atomic_load(&s->round);
    if (atomic_fetch_add(&s->arrived, 1) == s->ranks - 1) {
        atomic_store(&s->arrived, 0);
        atomic_store(&s->round, round + 1);
        return;
    }
    while (atomic_load(&s->round) == round)
        if (s->yield)
            sched_yield();
        else
            __builtin_ia32_pause();
}

/* One in-process rank: a thread that lives for all iterations, as a rank of an application does
 * (creating threads per call would time their start-up skew, not qmar); every iteration starts
 * at spin_start, as the MPI runs start at MPI_Barrier. */
typedef struct thread_arg {
    inputs *in;
    char group[QMAR_GROUP_NAME_MAX];
    int iters;          /* timed iterations, after one warm-up */
    spin_start *start;  /* all ranks of the group */
    double secs[64];    /* this rank's time per timed iteration (< 0: failed) */
} thread_arg;

static void *inproc_rank(void *p)
{
    thread_arg *a = p;
    for (int it = 0; it <= a->iters; it++) {
        spin_start_wait(a->start);
        double secs = run_qmar(a->in, a->group, 1);
        if (it > 0)
            a->secs[it - 1] = secs;
    }
    return NULL;
}

/* Runs R in-process ranks (each on its own copy of the inputs) `iters` times; median of the
 * slowest rank's Run time. */
static double inproc_median(inputs *ins, int32_t ranks, int iters)
{
    qmar_comm *comms[64];
    thread_arg args[64];
    pthread_t th[64];
    spin_start start = {.ranks = ranks, .yield = ranks > sysconf(_SC_NPROCESSORS_ONLN)};
    double v[64];
    if (qmar_comm_init_all(ranks, comms) != QMAR_SUCCESS)
        return -1;
    for (int32_t r = 0; r < ranks; r++) {
        args[r] = (thread_arg){.in = &ins[r], .iters = iters, .start = &start};
        qmar_comm_get_name(comms[r], args[r].group);
        pthread_create(&th[r], NULL, inproc_rank, &args[r]);
    }
    for (int32_t r = 0; r < ranks; r++)
        pthread_join(th[r], NULL);
    for (int it = 0; it < iters; it++) {
        double slowest = 0;
        for (int32_t r = 0; r < ranks; r++) {
            double secs = args[r].secs[it];
            slowest = secs > slowest || secs < 0 ? secs : slowest;
            if (secs < 0)
                break;
        }
        v[it] = slowest;
    }
    for (int32_t r = 0; r < ranks; r++)
        qmar_comm_destroy(comms[r]);
    return median(v, iters);
}

/* Other ranks wait here while rank 0 runs in-process, without spinning on a core. */
static void idle_barrier(void)
{
    MPI_Request req;
    int done = 0;
    MPI_Ibarrier(MPI_COMM_WORLD, &req);
    while (MPI_Test(&req, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
}

/* ---- the three comparisons ------------------------------------------------------------------ */

#define MAX_SWEEP 8

typedef struct bench {
    int rank, size, iters;
    shape main, comm_bound;
    char group[QMAR_GROUP_NAME_MAX];
    int64_t sweep[MAX_SWEEP];
    int nsweep;
    const char *csv;
} bench;

static void section_mpi(const bench *b, inputs *in, double *qmar_ms, double *base_ms)
{
    onednn_pipeline pipe;
    qmar_run_arg qa = {in, b->group, 1};
    *qmar_ms = 1e3 * median_over_ranks(qmar_once, &qa, b->iters);
    if (onednn_pipeline_init(&pipe, in->s.m, in->s.k, in->s.n, in->x1, in->x2, in->bias_f,
                             in->scale_f) == 0)
        *base_ms = 1e3 * median_over_ranks(onednn_once, &pipe, b->iters);
    else
        *base_ms = -1;
    onednn_pipeline_free(&pipe);
}

static void section_inproc(const bench *b, double *inproc_ms, double *compute_ms)
{
    *inproc_ms = *compute_ms = -1;
    if (b->rank == 0) {
        inputs ins[64];
        int ok = 1;
        for (int r = 0; r < b->size; r++)
            ok &= make_inputs(&ins[r], b->main, 1000u + (uint64_t)r) == 0;
        if (ok) {
            *inproc_ms = 1e3 * inproc_median(ins, b->size, b->iters);
            *compute_ms = 1e3 * inproc_median(ins, 1, b->iters);
        }
        for (int r = 0; r < b->size; r++)
            free_inputs(&ins[r]);
    }
    idle_barrier();
}

static void section_comm_bound(const bench *b, double *case1_ms, double *case3_ms)
{
    inputs in;
    *case1_ms = *case3_ms = -1;
    if (make_inputs(&in, b->comm_bound, 7u + (uint64_t)b->rank) == 0) {
        qmar_run_arg c1 = {&in, b->group, 1}, c3 = {&in, b->group, 3};
        *case1_ms = 1e3 * median_over_ranks(qmar_once, &c1, b->iters);
        *case3_ms = 1e3 * median_over_ranks(qmar_once, &c3, b->iters);
    }
    free_inputs(&in);
}

/* One m of the sweep: qmar over MPI, the baseline, qmar in-process (rank 0's threads); then,
 * with plan + Run timed, qmar over MPI and in-process again (the per-call latency). */
typedef struct sweep_row {
    double mpi, base, inproc, mpi_call, inproc_call; /* ms */
} sweep_row;

/* Iterations of one sweep row: the short Runs of the sweep swing from run to run far more than
 * the long ones (scheduling, wake-ups; with 5 iterations in-process m = 128 measured 3.6 to
 * 5.2 ms in one hour, Zen 5), and cost little: at least 41, so that the median stands on enough
 * runs. */
static int sweep_iters(const bench *b)
{
    return b->iters < 41 ? 41 : b->iters;
}

static void section_sweep(const bench *b, sweep_row *rows)
{
    for (int i = 0; i < b->nsweep; i++) {
        shape s = {b->sweep[i], b->main.k, b->main.n};
        inputs in;
        sweep_row *r = &rows[i];
        r->mpi = r->base = r->inproc = r->mpi_call = r->inproc_call = -1;
        if (make_inputs(&in, s, 1000u + (uint64_t)b->rank) == 0) {
            bench one = *b;
            one.main = s;
            one.iters = sweep_iters(b);
            section_mpi(&one, &in, &r->mpi, &r->base);
            in.time_plan = 1;
            qmar_run_arg qa = {&in, b->group, 1};
            r->mpi_call = 1e3 * median_over_ranks(qmar_once, &qa, sweep_iters(b));
        }
        free_inputs(&in);
        if (b->rank == 0) {
            inputs ins[64];
            int ok = 1;
            for (int q = 0; q < b->size; q++)
                ok &= make_inputs(&ins[q], s, 1000u + (uint64_t)q) == 0;
            if (ok) {
                r->inproc = 1e3 * inproc_median(ins, b->size, sweep_iters(b));
                for (int q = 0; q < b->size; q++)
                    ins[q].time_plan = 1;
                r->inproc_call = 1e3 * inproc_median(ins, b->size, sweep_iters(b));
            }
            for (int q = 0; q < b->size; q++)
                free_inputs(&ins[q]);
        }
        idle_barrier();
    }
}

static void print_sweep(const bench *b, const sweep_row *rows)
{
    printf("\n# sweep over m: case 1 at (m, k/R, n) = (m, %lld, %lld), Run only (ms); "
           "speed-up = baseline / qmar\n", (long long)b->main.k, (long long)b->main.n);
    printf("%8s %12s %12s %8s %14s %8s\n", "m", "qmar MPI", "oneDNN+MPI", "speed-up",
           "qmar in-proc", "speed-up");
    for (int i = 0; i < b->nsweep; i++) {
        const sweep_row *r = &rows[i];
        printf("%8lld %12.3f %12.3f %7.2fx %14.3f %7.2fx\n", (long long)b->sweep[i], r->mpi,
               r->base, r->base / r->mpi, r->inproc, r->base / r->inproc);
    }
    printf("per-call latency at m = %lld (plan + Run, median of the slowest rank): MPI %.1f us, "
           "in-process %.1f us\n", (long long)b->sweep[0], 1e3 * rows[0].mpi_call,
           1e3 * rows[0].inproc_call);
    if (b->csv == NULL)
        return;
    FILE *f = fopen(b->csv, "w");
    if (f == NULL) {
        perror(b->csv);
        return;
    }
    fprintf(f, "m,k,n,qmar_mpi_ms,baseline_ms,qmar_inproc_ms,qmar_mpi_call_ms,"
               "qmar_inproc_call_ms\n");
    for (int i = 0; i < b->nsweep; i++)
        fprintf(f, "%lld,%lld,%lld,%.4f,%.4f,%.4f,%.4f,%.4f\n", (long long)b->sweep[i],
                (long long)b->main.k, (long long)b->main.n, rows[i].mpi, rows[i].base,
                rows[i].inproc, rows[i].mpi_call, rows[i].inproc_call);
    fclose(f);
}

static void print_report(const bench *b, const double *ms)
{
    const char *isa = getenv("QMAR_ISA"), *threads = getenv("QMAR_NUM_THREADS");
    printf("# bench_operator: R = %d MPI processes (transport as given to mpirun), QMAR_ISA=%s, "
           "QMAR_NUM_THREADS=%s, oneDNN on OMP_NUM_THREADS=%s; medians of %d runs "
           "(the sweep: at least 41)\n",
           b->size, isa ? isa : "(best)", threads ? threads : "(default: CPUs / ranks)",
           getenv("OMP_NUM_THREADS") ? getenv("OMP_NUM_THREADS") : "(unset)", b->iters);
    printf("\n# whole operator: case 1, BF16 output, per-channel scales, bias; "
           "(m, k/R, n) = (%lld, %lld, %lld)\n", (long long)b->main.m, (long long)b->main.k,
           (long long)b->main.n);
    printf("%-34s %12s %30s %9s\n", "qmar backend", "qmar (ms)", "oneDNN + MPI_Allreduce (ms)",
           "speed-up");
    printf("%-34s %12.2f %30.2f %8.2fx\n", "MPI", ms[0], ms[1], ms[1] / ms[0]);
    printf("%-34s %12.2f %30.2f %8.2fx\n", "in-process (R threads of rank 0)", ms[2], ms[1],
           ms[1] / ms[2]);
    printf("%-34s %12.2f\n", "compute alone (in-process, 1 rank)", ms[3]);
    printf("\n# int8 communication: case 3 vs case 1, communication-bound (m, k/R, n) = "
           "(%lld, %lld, %lld)\n", (long long)b->comm_bound.m, (long long)b->comm_bound.k,
           (long long)b->comm_bound.n);
    printf("%-34s %12s %12s %9s\n", "", "case 1 (ms)", "case 3 (ms)", "speed-up");
    printf("%-34s %12.2f %12.2f %8.2fx\n", "MPI", ms[4], ms[5], ms[4] / ms[5]);
}

static int parse_shape(const char *arg, shape *s)
{
    long long m, k, n;
    if (sscanf(arg, "%lld,%lld,%lld", &m, &k, &n) != 3 || m < 1 || k < 1 || n < 1)
        return -1;
    *s = (shape){m, k, n};
    return 0;
}

static int parse_args(int argc, char **argv, bench *b)
{
    b->iters = 21;
    b->main = (shape){1024, 2048, 4096};
    b->comm_bound = (shape){8192, 64, 4096};
    static const int64_t sweep[] = {1, 16, 128, 1024};
    b->nsweep = 4;
    memcpy(b->sweep, sweep, sizeof sweep);
    b->csv = NULL;
    for (int i = 1; i < argc; i++) {
        int last = i + 1 >= argc;
        if (!last && strcmp(argv[i], "--csv") == 0) {
            b->csv = argv[++i];
        } else if (!last && strcmp(argv[i], "--sweep") == 0) {
            char *p = argv[++i], *end;
            b->nsweep = 0;
            while (*p != '\0' && b->nsweep < MAX_SWEEP) {
                long long m = strtoll(p, &end, 10);
                if (end == p || m < 1)
                    return -1;
                b->sweep[b->nsweep++] = m;
                p = *end == ',' ? end + 1 : end;
            }
            if (b->nsweep == 0)
                return -1;
        } else if (!last && strcmp(argv[i], "--shape") == 0 &&
                   parse_shape(argv[i + 1], &b->main) == 0) {
            i++;
        } else if (!last && strcmp(argv[i], "--comm-shape") == 0 &&
                   parse_shape(argv[i + 1], &b->comm_bound) == 0) {
            i++;
        } else if (!last && strcmp(argv[i], "--iters") == 0 &&
                   (b->iters = atoi(argv[i + 1])) > 0 && b->iters <= 64) {
            i++;
        } else {
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    bench b;
    qmar_comm *comm = NULL;
    double ms[6];
    sweep_row rows[MAX_SWEEP];
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &b.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &b.size);
    if (parse_args(argc, argv, &b) != 0 || b.size > 64) {
        if (b.rank == 0)
            fprintf(stderr, "usage: mpirun -n R bench_operator [--shape M,K,N] "
                            "[--comm-shape M,K,N] [--iters 1..64] [--sweep M1,M2,...] "
                            "[--csv FILE]\n");
        MPI_Finalize();
        return 2;
    }
    inputs in;
    if (qmar_comm_init_mpi(MPI_COMM_WORLD, &comm) != QMAR_SUCCESS ||
        make_inputs(&in, b.main, 1000u + (uint64_t)b.rank) != 0) {
        fprintf(stderr, "rank %d: setup failed: %s\n", b.rank, qmar_last_error());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    qmar_comm_get_name(comm, b.group);
    section_mpi(&b, &in, &ms[0], &ms[1]);
    free_inputs(&in);
    section_inproc(&b, &ms[2], &ms[3]);
    section_comm_bound(&b, &ms[4], &ms[5]);
    section_sweep(&b, rows);
    if (b.rank == 0) {
        print_report(&b, ms);
        print_sweep(&b, rows);
    }
    qmar_comm_destroy(comm);
    MPI_Finalize();
    return 0;
}
