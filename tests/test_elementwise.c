/* SPDX-License-Identifier: Apache-2.0 */
/* Every vector version of the collectives' element-wise passes (elementwise.h) against the scalar
 * reference on the same inputs, bit for bit: random values, every special class (zeros, denormals,
 * infinities, NaNs, values that round or saturate at the int8 edges), lengths around the vector
 * width, 1..8 ranks. Fails if the CPU runs a vector version that was never compared. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "elementwise.h"
#include "kernels/kernel.h"
#include "qmar/qmar.h"

static uint64_t state = 0x243F6A8885A308D3u;

static uint64_t next(void)
{
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    return state;
}

/* When set, every generated value is one of the special or boundary ones. */
static int specials_only;

/* Y bits: a third special or boundary classes (±0, ±inf, quiet and signalling NaN, denormals,
 * the largest finite, ±1 and ±0.5 as divisors, values at and around the int8 edges: 126.5, 127,
 * 127.5, 128, -127.5, -128, and 255, -128.5 in fp16, 129, -129 in bf16), the rest ordinary
 * magnitudes near 2^-2..2^9. */
static uint16_t gen_y(int bf16)
{
    static const uint16_t h[] = {0x0000, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0x7C01, 0x0001,
                                 0x83FF, 0x7BFF, 0x5800, 0x57F0, 0x5BF8, 0x3800, 0xB800,
                                 0x3C00, 0xBC00, 0x57F8, 0x57E8, 0xD7F8, 0xD800, 0xD804};
    static const uint16_t b[] = {0x0000, 0x8000, 0x7F80, 0xFF80, 0x7FC0, 0x7F81, 0x0001,
                                 0x807F, 0x7F7F, 0x4300, 0x42FF, 0x4301, 0x3F00, 0xBF00,
                                 0x3F80, 0xBF80, 0x42FE, 0x42FD, 0xC2FF, 0xC300, 0xC301};
    enum { NSPECIAL = sizeof h / sizeof h[0] };
    _Static_assert(sizeof b == sizeof h, "one table per Y");
    uint64_t r = next();
    if (r % 3 == 0 || specials_only)
        return (bf16 ? b : h)[(r >> 8) % NSPECIAL];
    if (r % 3 == 1)
        return (uint16_t)(r >> 16); /* any bits */
    uint16_t sign = (uint16_t)((r >> 40) & 1) << 15;
    return bf16 ? (uint16_t)(sign | ((125 + (r >> 20) % 11) << 7) | ((r >> 32) & 0x7F))
                : (uint16_t)(sign | ((13 + (r >> 20) % 11) << 10) | ((r >> 32) & 0x3FF));
}

static float gen_ratio(void)
{
    uint64_t r = next();
    /* 64: |S| * 64 overflows fp16 for |S| >= 1024 (inf, then 127/-128); 0.5: S = 255 and -257
     * give 127.5 and -128.5 */
    static const float special[] = {0.0f,  -0.0f,   1.0f / 0.0f, -1.0f / 0.0f, 0.0f / 0.0f, 0.5f,
                                    -0.5f, 0.125f,  1.0e-40f,    1.0f,         -1.0f,       64.0f,
                                    1.0f / 1024.0f, 127.5f / 1024.0f};
    if (r % 5 == 0 || specials_only)
        return special[(r >> 8) % (sizeof special / sizeof special[0])];
    float f = (float)(int32_t)(r >> 40) / (float)(1 << 24);
    return (r & 1) ? f : -f;
}

static int is_nan(uint16_t h, int32_t y)
{
    return y == QMAR_BF16 ? (h & 0x7FFF) > 0x7F80 : (h & 0x7FFF) > 0x7C00;
}

/* Compares Y outputs word by word, guard words included; two NaNs are equal whatever their
 * payloads (numerics.md: which operand's NaN an addition returns is not specified, and compilers
 * may swap the operands of a commutative add). Reports the first difference. */
static int same_words(const char *what, const uint16_t *a, const uint16_t *b, int64_t cells,
                      int64_t words, int32_t y, const uint16_t *const *in, int32_t ranks)
{
    for (int64_t c = 0; c < words; c++)
        if (a[c] != b[c] && !(c < cells && is_nan(a[c], y) && is_nan(b[c], y))) {
            fprintf(stderr, "%s: word %lld: scalar %04x vector %04x; inputs", what, (long long)c,
                    a[c], b[c]);
            for (int32_t r = 0; in != NULL && r < ranks; r++)
                fprintf(stderr, " %04x", in[r][c]);
            fprintf(stderr, "\n");
            return 0;
        }
    return 1;
}

static void compare(const qmar__elementwise *v, int32_t y, int32_t ranks, int64_t rows, int64_t n)
{
    const qmar__elementwise *s = &qmar__elementwise_scalar;
    int64_t cells = rows * n;
    uint16_t *e[8], *s1 = malloc((size_t)n * 2), *out_s = malloc((size_t)cells * 2 + 64),
                    *out_v = malloc((size_t)cells * 2 + 64);
    int8_t *q[8], *q_s = malloc((size_t)cells + 64), *q_v = malloc((size_t)cells + 64);
    float *ratio = malloc((size_t)n * sizeof *ratio);
    for (int32_t r = 0; r < ranks; r++) {
        e[r] = malloc((size_t)cells * 2);
        q[r] = malloc((size_t)cells);
        for (int64_t c = 0; c < cells; c++)
            e[r][c] = gen_y(y == QMAR_BF16), q[r][c] = (int8_t)next();
    }
    for (int64_t j = 0; j < n; j++)
        s1[j] = gen_y(y == QMAR_BF16), ratio[j] = gen_ratio();
    /* guard bytes after every output: a vector tail must not write past the end */
    memset(out_s, 0xA5, (size_t)cells * 2 + 64), memset(out_v, 0xA5, (size_t)cells * 2 + 64);
    memset(q_s, 0x5A, (size_t)cells + 64), memset(q_v, 0x5A, (size_t)cells + 64);
    if (ranks >= 2) {
        s->reduce_y((const uint16_t *const *)e, ranks, cells, y, out_s);
        v->reduce_y((const uint16_t *const *)e, ranks, cells, y, out_v);
        CHECK(same_words("reduce_y", out_s, out_v, cells, cells + 32, y,
                         (const uint16_t *const *)e, ranks));
    }
    s->quantize(e[0], s1, rows, n, y, q_s);
    v->quantize(e[0], s1, rows, n, y, q_v);
    CHECK(memcmp(q_s, q_v, (size_t)cells + 64) == 0);
    s->sum_requant((const int8_t *const *)q, ranks, rows, n, ratio, q_s);
    v->sum_requant((const int8_t *const *)q, ranks, rows, n, ratio, q_v);
    CHECK(memcmp(q_s, q_v, (size_t)cells + 64) == 0);
    s->dequantize(q[0], s1, rows, n, y, out_s);
    v->dequantize(q[0], s1, rows, n, y, out_v);
    CHECK(same_words("dequantize", out_s, out_v, cells, cells + 32, y, NULL, 0));
    for (int32_t r = 0; r < ranks; r++)
        free(e[r]), free(q[r]);
    free(s1), free(out_s), free(out_v), free(q_s), free(q_v), free(ratio);
}

/* Every column count up to 17 (tails of 1..7 after zero, one or two 8-lane vectors, and of
 * 1..15 after a 16-lane one), then longer rows; with random values, then with special ones
 * only. */
static void compare_all(const qmar__elementwise *v)
{
    static const int64_t ns[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,  12, 13,
                                 14, 15, 16, 17, 23, 31, 33, 64, 100, 257};
    for (specials_only = 0; specials_only < 2; specials_only++)
        for (int yi = 0; yi < 2; yi++)
            for (int32_t ranks = 1; ranks <= 8; ranks++)
                for (unsigned i = 0; i < sizeof ns / sizeof ns[0]; i++)
                    compare(v, yi ? QMAR_BF16 : QMAR_FLOAT16, ranks, 1 + (int64_t)(next() % 9),
                            ns[i]);
    specials_only = 0;
}

int main(void)
{
    int ran_avx2 = 0, ran_avx512 = 0;
    /* qmar__kernel_for says whether this CPU and OS run the ISA: AVX2 + F16C for avx2. */
#if QMAR_HAVE_AVX2
    if (qmar__kernel_for(QMAR__ISA_AVX2) != NULL) {
        compare_all(&qmar__elementwise_avx2);
        ran_avx2 = 1;
        printf("compared: avx2 vs scalar\n");
    }
#endif
#if QMAR_HAVE_AVX512
    if (qmar__kernel_for(QMAR__ISA_AVX512) != NULL) {
        compare_all(&qmar__elementwise_avx512);
        ran_avx512 = 1;
        printf("compared: avx512 vs scalar\n");
    }
#endif
    /* A CPU with AVX2 or AVX-512 whose vector passes were not compared is a failure, not a
     * skip. */
    CHECK(ran_avx2 || qmar__kernel_for(QMAR__ISA_AVX2) == NULL);
    CHECK(ran_avx512 || qmar__kernel_for(QMAR__ISA_AVX512) == NULL);
    if (!ran_avx2 && !ran_avx512)
        printf("no vector element-wise passes on this CPU or build: scalar only\n");
    return check_summary();
}
