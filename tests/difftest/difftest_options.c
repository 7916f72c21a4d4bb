/* SPDX-License-Identifier: Apache-2.0 */
/* Command line of qmar-difftest, in the style of nccl-tests (-b/-e/-f sweep, -n/-w, -c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "difftest.h"

static const char usage[] =
    "usage: mpirun -n R qmar-difftest [options]\n"
    "  -b M, -e M, -f F   sweep m from M to M by factor F (default 8, 64, 2)\n"
    "  -K K, -N N         k and n (default 64, 128)\n"
    "  -n I, -w W         timed iterations and warm-up runs per row (default 1, 0)\n"
    "  -c 0|1             compare with the integer-exact model (default 1)\n"
    "  --seed S           seed of all inputs (default 1); with --row I, reproduce row I alone\n"
    "  --cases 1,2,3  --dtypes fp16,bf16  --layouts nd,nd-t,nz,nz-t   (default: all)\n"
    "  --json FILE        also write the rows and the summary as JSON (rank 0)\n"
    "  --inproc           rank 0 also runs each row on the in-process backend (R threads)\n"
    "  --timeout-ms T     collective timeout (default: QMAR_COMM_TIMEOUT_MS or 60000)\n"
    "  --fault stall:R|die:R|differ:R   rank R arrives late, dies, or disagrees\n"
    "  --expect-status S  every surviving rank must return S (for fault runs)\n";

/* Parses "a,b,c" against names; sets bit i for names[i]. */
static int parse_set(const char *arg, const char *const *names, int count, uint32_t *set)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", arg);
    *set = 0;
    for (char *tok = strtok(buf, ","); tok != NULL; tok = strtok(NULL, ",")) {
        int i = 0;
        while (i < count && strcmp(tok, names[i]) != 0)
            i++;
        if (i == count)
            return -1;
        *set |= 1u << i;
    }
    return *set ? 0 : -1;
}

static int parse_fault(const char *arg, difftest_options *o)
{
    static const char *const kinds[] = {"stall:", "die:", "differ:"};
    for (int i = 0; i < 3; i++)
        if (strncmp(arg, kinds[i], strlen(kinds[i])) == 0) {
            o->fault = FAULT_STALL + i;
            o->fault_rank = atoi(arg + strlen(kinds[i]));
            return 0;
        }
    return -1;
}

static void defaults(difftest_options *o)
{
    memset(o, 0, sizeof *o);
    o->m_begin = 8, o->m_end = 64, o->m_factor = 2, o->k = 64, o->n = 128;
    o->iters = 1, o->check = 1, o->seed = 1, o->only_row = -1;
    o->cases = 7, o->dtypes = 3, o->layouts = 15;
    o->fault_rank = -1, o->expect_status = 0;
}

int difftest_parse(int argc, char **argv, difftest_options *o)
{
    static const char *const case_names[] = {"1", "2", "3"};
    static const char *const dtype_names[] = {"fp16", "bf16"};
    static const char *const layout_names[] = {"nd", "nd-t", "nz", "nz-t"};
    static const struct option longs[] = {
        {"seed", 1, 0, 's'}, {"row", 1, 0, 'r'}, {"cases", 1, 0, 'C'}, {"dtypes", 1, 0, 'D'},
        {"layouts", 1, 0, 'L'}, {"json", 1, 0, 'j'}, {"inproc", 0, 0, 'i'},
        {"timeout-ms", 1, 0, 't'}, {"fault", 1, 0, 'F'}, {"expect-status", 1, 0, 'x'},
        {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    defaults(o);
    int c, bad = 0;
    while (!bad && (c = getopt_long(argc, argv, "b:e:f:K:N:n:w:c:h", longs, NULL)) != -1) {
        switch (c) {
        case 'b': o->m_begin = atoll(optarg); break;
        case 'e': o->m_end = atoll(optarg); break;
        case 'f': o->m_factor = atoll(optarg); break;
        case 'K': o->k = atoll(optarg); break;
        case 'N': o->n = atoll(optarg); break;
        case 'n': o->iters = atoi(optarg); break;
        case 'w': o->warmup = atoi(optarg); break;
        case 'c': o->check = atoi(optarg); break;
        case 's': o->seed = strtoull(optarg, NULL, 0); break;
        case 'r': o->only_row = atoll(optarg); break;
        case 'C': bad = parse_set(optarg, case_names, 3, &o->cases); break;
        case 'D': bad = parse_set(optarg, dtype_names, 2, &o->dtypes); break;
        case 'L': bad = parse_set(optarg, layout_names, 4, &o->layouts); break;
        case 'j': o->json = optarg; break;
        case 'i': o->inproc = 1; break;
        case 't': o->timeout_ms = atoll(optarg); break;
        case 'F': bad = parse_fault(optarg, o); break;
        case 'x': o->expect_status = atoll(optarg); break;
        case 'h': fputs(usage, stdout); return 1;
        default: bad = 1;
        }
    }
    if (!bad && (o->m_begin < 1 || o->m_end < o->m_begin || o->m_factor < 2 || o->k < 1 ||
                 o->n < 1 || o->iters < 1 || o->warmup < 0))
        bad = 1;
    if (bad)
        fputs(usage, stderr);
    return bad ? -1 : 0;
}

static int nth_bit(uint32_t set, int64_t n)
{
    for (int i = 0; i < 32; i++)
        if ((set >> i) & 1u && n-- == 0)
            return i;
    return -1;
}

static int popcount(uint32_t set)
{
    int c = 0;
    for (; set; set &= set - 1)
        c++;
    return c;
}

int difftest_row(const difftest_options *o, int32_t ranks, int64_t index, scenario *sc)
{
    int64_t sizes = 0;
    for (int64_t m = o->m_begin; m <= o->m_end; m *= o->m_factor)
        sizes++;
    int64_t nc = popcount(o->cases), nd = popcount(o->dtypes), nl = popcount(o->layouts);
    if (index < 0 || index >= nc * nd * nl * sizes)
        return 0;
    int64_t m = o->m_begin, rest = index;
    for (int64_t s = rest % sizes; s > 0; s--)
        m *= o->m_factor;
    rest /= sizes;
    int layout = nth_bit(o->layouts, rest % nl);
    rest /= nl;
    int dtype = nth_bit(o->dtypes, rest % nd);
    rest /= nd;
    int op_case = nth_bit(o->cases, rest) + 1;
    uint64_t mix = o->seed * 0x9E3779B97F4A7C15u + (uint64_t)index;
    *sc = (scenario){
        .ranks = ranks, .op_case = op_case, .case3_pertoken = (int)(index & 1),
        .y = dtype ? QMAR_BF16 : QMAR_FLOAT16, .b = index % 4 == 3 ? 1 : 0, .s = m, .k = o->k,
        .n = o->n, .x2_layout = (model_x2_layout)layout, .bias = (int)((index >> 1) & 1),
        .x3 = (int)(index % 3), .scale_shape = (int)((index / 3) % 3),
        .comm_scale_row = (int)((index >> 2) & 1), .seed = harness_next(&mix),
        .data_mode = (int)((index / 5) % 3),
    };
    return 1;
}
