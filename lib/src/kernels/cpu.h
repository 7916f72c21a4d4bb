/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: what the CPU reports about itself, read once per process (cpu.c). The kernels derive
 * their blocking from it (never from constants tuned to one model), bench_gemm prints it. */
#ifndef QMAR_SRC_KERNELS_CPU_H
#define QMAR_SRC_KERNELS_CPU_H
#include <stdint.h>

typedef struct qmar__cpu {
    char vendor[13];          /* CPUID leaf 0, e.g. "AuthenticAMD", "GenuineIntel" */
    uint32_t family, model;   /* display family and model (CPUID leaf 1 with the extended fields) */
    int64_t l1d, l2, l3;      /* bytes of one instance of each data/unified cache, 0 if unknown */
    int32_t l2_sharing, l3_sharing; /* logical CPUs sharing one instance (1 if unknown) */
    const char *cache_source; /* where the sizes came from: a CPUID leaf, sysfs, or "defaults" */
    int32_t online_cpus;      /* CPUs online when first read (sysconf: a sysfs read of ~10 us, and
                               * far more with several ranks at once: not per Run), at least 1 */
} qmar__cpu;

/* The facts of this CPU, read on first use. Where the CPU reports no cache sizes, the defaults
 * 32 KiB / 1 MiB / 8 MiB are used (cache_source says so). */
const qmar__cpu *qmar__cpu_facts(void);

/* Threads for one rank when QMAR_NUM_THREADS is unset: the CPUs of this process's affinity mask
 * divided by `ranks_sharing` (the ranks of this process or host sharing them), at least 1. */
int32_t qmar__default_threads(int32_t ranks_sharing);
#endif
