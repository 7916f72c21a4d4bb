/* SPDX-License-Identifier: Apache-2.0 */
/* Run-time choice of the GEMM kernel: CPUID says what the CPU has, XCR0 what the OS saves on a
 * context switch, and for AMX the kernel must also grant this process the tile data state
 * (arch_prctl ARCH_REQ_XCOMP_PERM). QMAR_ISA=scalar|avx2|avx512|amx forces one. */
#define _DEFAULT_SOURCE /* syscall() */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "kernel.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#define QMAR_X86 1
#else
#define QMAR_X86 0
#endif

static const char *const isa_names[QMAR__NISA] = {"scalar", "avx2", "avx512", "amx"};

#if QMAR_X86
static uint64_t xcr0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t)hi << 32 | lo;
}

/* AMX tile data is off for a process until it asks (Linux >= 5.16). */
static int amx_permission(void)
{
    enum { ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };
    return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
}

static int cpu_supports(int32_t isa)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c >> 27 & 1)) /* OSXSAVE: xgetbv usable */
        return 0;
    int f16c = c >> 29 & 1;
    uint64_t x = xcr0();
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    int avx2 = f16c && (b >> 5 & 1) && (x & 0x6) == 0x6; /* XMM and YMM state */
    int avx512 = avx2 && (b >> 16 & 1) /* F */ && (b >> 17 & 1) /* DQ */ && (b >> 30 & 1) /* BW */
                 && (b >> 31 & 1) /* VL */ && (c >> 11 & 1) /* VNNI */
                 && (x & 0xE0) == 0xE0; /* opmask, ZMM_Hi256, Hi16_ZMM state */
    int amx = avx512 && (d >> 24 & 1) /* AMX-TILE */ && (d >> 25 & 1) /* AMX-INT8 */
              && (x & 0x60000) == 0x60000; /* XTILECFG, XTILEDATA */
    switch (isa) {
    case QMAR__ISA_AVX2: return avx2;
    case QMAR__ISA_AVX512: return avx512;
    case QMAR__ISA_AMX: return amx && amx_permission();
    default: return 1;
    }
}
#else
static int cpu_supports(int32_t isa)
{
    return isa == QMAR__ISA_SCALAR;
}
#endif

static const qmar__kernel *built(int32_t isa)
{
    switch (isa) {
#if QMAR_HAVE_AVX2
    case QMAR__ISA_AVX2: return &qmar__kernel_avx2;
#endif
#if QMAR_HAVE_AVX512
    case QMAR__ISA_AVX512: return &qmar__kernel_avx512;
#endif
#if QMAR_HAVE_AMX
    case QMAR__ISA_AMX: return &qmar__kernel_amx;
#endif
    case QMAR__ISA_SCALAR: return &qmar__kernel_portable;
    default: return NULL;
    }
}

static const qmar__kernel *supported[QMAR__NISA];
static qmar__kernel tuned[QMAR__NISA]; /* copies whose blocking tune set for this CPU */
static const qmar__kernel *selected;
static int32_t num_threads = 0; /* QMAR_NUM_THREADS, 0 if unset */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void detect(void)
{
    for (int32_t isa = 0; isa < QMAR__NISA; isa++) {
        supported[isa] = NULL;
        if (built(isa) == NULL || !cpu_supports(isa))
            continue;
        tuned[isa] = *built(isa);
        if (tuned[isa].tune != NULL)
            tuned[isa].tune(&tuned[isa]);
        supported[isa] = &tuned[isa];
    }
    int32_t best = QMAR__ISA_SCALAR;
    for (int32_t isa = 0; isa < QMAR__NISA; isa++)
        if (supported[isa] != NULL)
            best = isa;
    selected = supported[best];
    const char *want = getenv("QMAR_ISA");
    if (want != NULL && *want != '\0') {
        int32_t isa = 0;
        while (isa < QMAR__NISA && strcmp(want, isa_names[isa]) != 0)
            isa++;
        if (isa < QMAR__NISA && supported[isa] != NULL)
            selected = supported[isa];
        else
            fprintf(stderr, "qmar: QMAR_ISA=%s is %s; using %s\n", want,
                    isa < QMAR__NISA ? "not supported by this CPU or build" : "unknown",
                    selected->name);
    }
    const char *nt = getenv("QMAR_NUM_THREADS");
    if (nt != NULL && *nt != '\0') {
        char *end;
        long v = strtol(nt, &end, 10);
        if (*end == '\0' && v >= 1 && v <= 64)
            num_threads = (int32_t)v;
        else
            fprintf(stderr, "qmar: QMAR_NUM_THREADS=%s is not in 1..64; using the default\n", nt);
    }
}

const qmar__kernel *qmar__kernel_for(int32_t isa)
{
    pthread_once(&once, detect);
    return isa >= 0 && isa < QMAR__NISA ? supported[isa] : NULL;
}

const qmar__kernel *qmar__kernel_select(void)
{
    pthread_once(&once, detect);
    return selected;
}

int32_t qmar__num_threads(int32_t ranks_sharing)
{
    pthread_once(&once, detect);
    return num_threads > 0 ? num_threads : qmar__default_threads(ranks_sharing);
}
