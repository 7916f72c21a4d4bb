/* SPDX-License-Identifier: Apache-2.0 */
/* The CPU's own account of itself: vendor, family/model and cache sizes from CPUID (the
 * deterministic cache parameters, leaf 4 on Intel, 0x8000001D on AMD: both give ways, partitions,
 * line size and sets of each cache level, and how many logical CPUs share it; AMD's 0x80000005/6
 * where 0x8000001D is missing), else from Linux's sysfs (/sys/devices/system/cpu/cpu0/cache),
 * else defaults. Read once per process. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "cpu.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define QMAR_X86 1
#else
#define QMAR_X86 0
#endif

static qmar__cpu facts;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* One cache as a level and a type (1 data, 2 instruction, 3 unified). */
static void note_cache(int level, int type, int64_t bytes, int32_t sharing)
{
    if (type == 2 || bytes <= 0)
        return;
    sharing = sharing < 1 ? 1 : sharing;
    if (level == 1)
        facts.l1d = bytes;
    else if (level == 2)
        facts.l2 = bytes, facts.l2_sharing = sharing;
    else if (level == 3)
        facts.l3 = bytes, facts.l3_sharing = sharing;
}

#if QMAR_X86
static void read_cpuid(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d))
        return;
    unsigned max_leaf = a;
    memcpy(facts.vendor, &b, 4), memcpy(facts.vendor + 4, &d, 4), memcpy(facts.vendor + 8, &c, 4);
    if (__get_cpuid(1, &a, &b, &c, &d)) { /* extended family and model (SDM / APM rules) */
        unsigned fam = a >> 8 & 0xF, mod = a >> 4 & 0xF;
        facts.family = fam == 0xF ? fam + (a >> 20 & 0xFF) : fam;
        facts.model = fam == 0x6 || fam == 0xF ? mod | (a >> 16 & 0xF) << 4 : mod;
    }
    /* Intel: leaf 4; AMD: leaf 0x8000001D (when TOPOEXT, 0x80000001 ECX bit 22, says it exists) */
    unsigned leaf = 0;
    if (strcmp(facts.vendor, "GenuineIntel") == 0 && max_leaf >= 4)
        leaf = 4;
    else if (__get_cpuid(0x80000001, &a, &b, &c, &d) && (c >> 22 & 1))
        leaf = 0x8000001D;
    for (unsigned i = 0; leaf != 0 && i < 16; i++) {
        __cpuid_count(leaf, i, a, b, c, d);
        int type = (int)(a & 0x1F);
        if (type == 0) /* no more caches */
            break;
        int64_t ways = (b >> 22) + 1, parts = (b >> 12 & 0x3FF) + 1, line = (b & 0xFFF) + 1;
        note_cache((int)(a >> 5 & 7), type, ways * parts * line * ((int64_t)c + 1),
                   (int32_t)(a >> 14 & 0xFFF) + 1);
        facts.cache_source = leaf == 4 ? "CPUID leaf 4" : "CPUID leaf 0x8000001D";
    }
    /* AMD's older leaves (also what some hypervisors give instead of 0x8000001D): L1d KiB in
     * 0x80000005 ECX[31:24], L2 KiB in 0x80000006 ECX[31:16], L3 in 512 KiB units in EDX[31:18]
     * (no sharing counts). */
    if (facts.l1d == 0 && strcmp(facts.vendor, "AuthenticAMD") == 0 &&
        __get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000006) {
        __cpuid(0x80000005, a, b, c, d);
        note_cache(1, 1, (int64_t)(c >> 24) * 1024, 1);
        __cpuid(0x80000006, a, b, c, d);
        note_cache(2, 3, (int64_t)(c >> 16) * 1024, 1);
        note_cache(3, 3, (int64_t)(d >> 18) * 512 * 1024, 1);
        if (facts.l1d != 0 && facts.l2 != 0)
            facts.cache_source = "CPUID 0x80000005/6";
    }
}
#endif

/* sysfs: cpu0's caches, "32K" style sizes and a list of the CPUs sharing each. */
static void read_sysfs(void)
{
    for (int i = 0; i < 8; i++) {
        char path[96], text[64] = "", shared[256] = "";
        int level = 0;
        long size = 0;
        char unit = 0;
        FILE *f;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        if ((f = fopen(path, "r")) == NULL)
            break;
        int ok = fscanf(f, "%d", &level) == 1;
        fclose(f);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
        if (ok && (f = fopen(path, "r")) != NULL) {
            ok = fscanf(f, "%63s", text) == 1;
            fclose(f);
        }
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        if (ok && (f = fopen(path, "r")) != NULL) {
            ok = fscanf(f, "%ld%c", &size, &unit) >= 1;
            fclose(f);
        }
        snprintf(path, sizeof path,
                 "/sys/devices/system/cpu/cpu0/cache/index%d/shared_cpu_list", i);
        if (ok && (f = fopen(path, "r")) != NULL) {
            if (fgets(shared, sizeof shared, f) == NULL)
                shared[0] = '\0';
            fclose(f);
        }
        if (!ok)
            continue;
        int64_t bytes = unit == 'K' ? size * 1024 : unit == 'M' ? size * 1048576 : size;
        int32_t sharing = 0; /* "0-3,8-11": count the CPUs */
        for (char *p = shared; *p != '\0' && *p != '\n';) {
            long lo, hi;
            int used;
            if (sscanf(p, "%ld%n", &lo, &used) != 1)
                break;
            p += used, hi = lo;
            if (*p == '-' && sscanf(p + 1, "%ld%n", &hi, &used) == 1)
                p += 1 + used;
            sharing += (int32_t)(hi - lo + 1);
            if (*p == ',')
                p++;
        }
        int type = strcmp(text, "Instruction") == 0 ? 2 : strcmp(text, "Data") == 0 ? 1 : 3;
        note_cache(level, type, bytes, sharing);
        facts.cache_source = "sysfs";
    }
}

static void detect(void)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    facts.online_cpus = online < 1 ? 1 : online > INT32_MAX ? INT32_MAX : (int32_t)online;
    facts.l2_sharing = facts.l3_sharing = 1;
    facts.cache_source = "defaults";
#if QMAR_X86
    read_cpuid();
#endif
    if (facts.l1d == 0 || facts.l2 == 0)
        read_sysfs();
    if (facts.l1d == 0 || facts.l2 == 0) { /* nothing reported: common values */
        facts.l1d = 32 * 1024, facts.l2 = 1024 * 1024, facts.l3 = 8 * 1024 * 1024;
        facts.cache_source = "defaults";
    }
    if (facts.vendor[0] == '\0')
        strcpy(facts.vendor, "unknown");
}

const qmar__cpu *qmar__cpu_facts(void)
{
    pthread_once(&once, detect);
    return &facts;
}

int32_t qmar__default_threads(int32_t ranks_sharing)
{
    long cpus = 0;
#ifdef CPU_COUNT
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        cpus = CPU_COUNT(&set);
#endif
    if (cpus < 1)
        cpus = qmar__cpu_facts()->online_cpus;
    long per_rank = cpus / (ranks_sharing < 1 ? 1 : ranks_sharing);
    return per_rank < 1 ? 1 : per_rank > 64 ? 64 : (int32_t)per_rank;
}
