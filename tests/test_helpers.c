/* SPDX-License-Identifier: Apache-2.0 */
/* qmar_trans_quant_param_v2, qmar_calculate_matmul_weight_size_v2, qmar_trans_matmul_weight
 * (numerics.md §6-§7): documented examples, hand-computed words, bad arguments. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "qmar/qmar.h"

static uint64_t word_of(float scale, const float *offset)
{
    uint64_t w = 0;
    CHECK_EQ_I64(qmar_trans_quant_param_v2(&scale, 1, offset, offset ? 1 : 0, &w, 1), QMAR_SUCCESS);
    return w;
}

static void test_trans_quant_words(void)
{
    /* 1.0f = 0x3F800000: the mask keeps it whole, bit 46 is set. */
    CHECK_EQ_I64(word_of(1.0f, NULL), 0x400000000000 | 0x3F800000);
    /* 0x3F800001 loses its low 13 bits. */
    float f;
    uint32_t bits = 0x3F801FFFu;
    memcpy(&f, &bits, sizeof f);
    CHECK_EQ_I64(word_of(f, NULL), 0x400000000000 | 0x3F800000);
    /* offset 2.5 -> rint 2 (tie to even) -> bits 37.. = 2 */
    float o = 2.5f;
    CHECK_EQ_I64(word_of(1.0f, &o), 0x400000000000 | (INT64_C(2) << 37) | 0x3F800000);
    o = 3.5f; /* tie -> 4 */
    CHECK_EQ_I64(word_of(1.0f, &o), 0x400000000000 | (INT64_C(4) << 37) | 0x3F800000);
    o = -1.0f; /* -1 & 0x1FF = 0x1FF */
    CHECK_EQ_I64(word_of(1.0f, &o), 0x400000000000 | (INT64_C(0x1FF) << 37) | 0x3F800000);
    o = -1000.0f; /* clamps to -256 = 0x100 in 9 bits */
    CHECK_EQ_I64(word_of(1.0f, &o), 0x400000000000 | (INT64_C(0x100) << 37) | 0x3F800000);
    o = INFINITY; /* clamps to 255 */
    CHECK_EQ_I64(word_of(1.0f, &o), 0x400000000000 | (INT64_C(0xFF) << 37) | 0x3F800000);
    o = NAN; /* NaN counts as 0 */
    CHECK_EQ_I64(word_of(1.0f, &o), 0x400000000000 | 0x3F800000);
    o = -2.5f; /* tie -> -2 -> 0x1FE */
    CHECK_EQ_I64(word_of(-2.0f, &o),
                 0x400000000000 | (INT64_C(0x1FE) << 37) | 0xC0000000);
}

static void test_trans_quant_broadcast_and_errors(void)
{
    float s[3] = {1.0f, 2.0f, 4.0f}, off[1] = {1.0f};
    uint64_t w[3];
    CHECK_EQ_I64(qmar_trans_quant_param_v2(s, 3, off, 1, w, 3), QMAR_SUCCESS);
    CHECK_EQ_I64(w[2], 0x400000000000 | (INT64_C(1) << 37) | 0x40800000);
    CHECK_EQ_I64(qmar_trans_quant_param_v2(s, 1, NULL, 0, w, 3), QMAR_SUCCESS);
    CHECK_EQ_I64(qmar_trans_quant_param_v2(NULL, 1, NULL, 0, w, 3), QMAR_ERR_PARAM_NULLPTR);
    CHECK(qmar_last_error()[0] != '\0');
    CHECK_EQ_I64(qmar_trans_quant_param_v2(s, 3, off, 2, w, 3), QMAR_ERR_PARAM_INVALID);
    CHECK_EQ_I64(qmar_trans_quant_param_v2(s, 3, NULL, 0, w, 2), QMAR_ERR_PARAM_INVALID);
    CHECK_EQ_I64(qmar_trans_quant_param_v2(s, 0, NULL, 0, w, 2), QMAR_ERR_PARAM_INVALID);
    CHECK_EQ_I64(qmar_trans_quant_param_v2(s, 3, off, 0, w, 3), QMAR_ERR_PARAM_INVALID);
}

/* words may not share a byte with the scales or offsets it is made from (writing word 0 would
 * change scale[1] before it is read): rejected with a reason, nothing written. */
static void test_trans_quant_overlap(void)
{
    _Alignas(8) unsigned char mem[64], before[64];
    for (size_t i = 0; i < sizeof mem; i++)
        mem[i] = (unsigned char)(0x3F + i);
    float one = 1.0f, two = 2.0f;
    memcpy(mem + 8, &one, 4);
    memcpy(mem + 12, &two, 4);
    memcpy(before, mem, sizeof mem);
    uint64_t *w = (uint64_t *)(void *)mem;
    float *s = (float *)(void *)(mem + 8); /* inside words[0..1] */
    CHECK_EQ_I64(qmar_trans_quant_param_v2(s, 2, NULL, 0, w, 2), QMAR_ERR_PARAM_INVALID);
    CHECK(strstr(qmar_last_error(), "overlap") != NULL);
    CHECK(strstr(qmar_last_error(), "scale") != NULL);
    CHECK(memcmp(mem, before, sizeof mem) == 0);
    /* An offset inside the words (scale elsewhere). */
    float sc[2] = {1.0f, 2.0f};
    CHECK_EQ_I64(qmar_trans_quant_param_v2(sc, 2, s, 2, w, 2), QMAR_ERR_PARAM_INVALID);
    CHECK(strstr(qmar_last_error(), "offset") != NULL);
    CHECK(memcmp(mem, before, sizeof mem) == 0);
    /* A scale inside the second half of the only word. */
    CHECK_EQ_I64(qmar_trans_quant_param_v2((float *)(void *)(mem + 20), 1, NULL, 0,
                                           (uint64_t *)(void *)(mem + 16), 1),
                 QMAR_ERR_PARAM_INVALID);
    CHECK(memcmp(mem, before, sizeof mem) == 0);
    /* Adjacent buffers are fine: scales at mem[0..8), words from mem[8]. */
    uint32_t s1;
    memcpy(&s1, mem + 4, sizeof s1);
    CHECK_EQ_I64(qmar_trans_quant_param_v2((float *)(void *)mem, 2, NULL, 0,
                                           (uint64_t *)(void *)(mem + 8), 2), QMAR_SUCCESS);
    uint64_t w1;
    memcpy(&w1, mem + 16, sizeof w1);
    CHECK_EQ_I64(w1, 0x400000000000 | (s1 & 0xFFFFE000u));
    /* words_count beyond the words written does not matter: only words[0..N-1] is written. */
    float tail[4] = {1.0f, 1.0f, 1.0f, 1.0f};
    uint64_t ww[4];
    CHECK_EQ_I64(qmar_trans_quant_param_v2(tail, 1, NULL, 0, ww, 4), QMAR_SUCCESS);
}

static void test_weight_size(void)
{
    uint64_t n = 0;
    int64_t d[2] = {510, 270};
    CHECK_EQ_I64(qmar_calculate_matmul_weight_size_v2(d, 2, QMAR_INT8, &n), QMAR_SUCCESS);
    CHECK_EQ_I64(n, 147456);
    int64_t e[2] = {1, 1};
    CHECK_EQ_I64(qmar_calculate_matmul_weight_size_v2(e, 2, QMAR_INT8, &n), QMAR_SUCCESS);
    CHECK_EQ_I64(n, 16 * 32);
    CHECK_EQ_I64(qmar_calculate_matmul_weight_size_v2(d, 2, QMAR_FLOAT16, &n),
                 QMAR_ERR_PARAM_INVALID);
    CHECK_EQ_I64(qmar_calculate_matmul_weight_size_v2(d, 3, QMAR_INT8, &n), QMAR_ERR_PARAM_INVALID);
    int64_t bad[2] = {0, 5};
    CHECK_EQ_I64(qmar_calculate_matmul_weight_size_v2(bad, 2, QMAR_INT8, &n),
                 QMAR_ERR_PARAM_INVALID);
    int64_t huge[2] = {INT64_MAX, INT64_MAX};
    CHECK_EQ_I64(qmar_calculate_matmul_weight_size_v2(huge, 2, QMAR_INT8, &n),
                 QMAR_ERR_PARAM_INVALID);
    CHECK_EQ_I64(qmar_calculate_matmul_weight_size_v2(NULL, 2, QMAR_INT8, &n),
                 QMAR_ERR_PARAM_NULLPTR);
}

/* Every element lands at (w/32)*(Align(H,16)*32) + h*32 + w%32; everything else is zero. */
static void check_nz(const int8_t *nd, int64_t rows, int64_t cols, const int8_t *nz, int64_t size)
{
    int64_t ar = (rows + 15) / 16 * 16;
    char *hit = calloc((size_t)size, 1);
    for (int64_t h = 0; h < rows; h++)
        for (int64_t w = 0; w < cols; w++) {
            int64_t at = (w / 32) * (ar * 32) + h * 32 + (w % 32);
            CHECK(nz[at] == nd[h * cols + w]);
            hit[at] = 1;
        }
    int64_t nonzero_padding = 0;
    for (int64_t i = 0; i < size; i++)
        nonzero_padding += !hit[i] && nz[i] != 0;
    CHECK_EQ_I64(nonzero_padding, 0);
    free(hit);
}

static void test_trans_weight(int64_t rows, int64_t cols)
{
    int64_t d[2] = {rows, cols};
    uint64_t size = 0;
    CHECK_EQ_I64(qmar_calculate_matmul_weight_size_v2(d, 2, QMAR_INT8, &size), QMAR_SUCCESS);
    int8_t *nd = malloc((size_t)(rows * cols));
    int8_t *nz = malloc(size + 16);
    for (int64_t i = 0; i < rows * cols; i++)
        nd[i] = (int8_t)(i * 37 + 11);
    memset(nz, 0x5A, size + 16);
    CHECK_EQ_I64(qmar_trans_matmul_weight(nd, rows, cols, nz, size), QMAR_SUCCESS);
    check_nz(nd, rows, cols, nz, (int64_t)size);
    for (int i = 0; i < 16; i++) /* guard bytes after the NZ buffer are untouched */
        CHECK(nz[size + (uint64_t)i] == 0x5A);
    /* In place, as aclnnTransMatmulWeight does: the ND data sits at the start of the NZ buffer. */
    int8_t *buf = calloc(size, 1);
    memcpy(buf, nd, (size_t)(rows * cols));
    CHECK_EQ_I64(qmar_trans_matmul_weight(buf, rows, cols, buf, size), QMAR_SUCCESS);
    check_nz(nd, rows, cols, buf, (int64_t)size);
    if (size > 1)
        CHECK_EQ_I64(qmar_trans_matmul_weight(buf, rows, cols, buf + 1, size - 1),
                     QMAR_ERR_PARAM_INVALID);
    CHECK_EQ_I64(qmar_trans_matmul_weight(nd, rows, cols, nz, size - 1), QMAR_ERR_PARAM_INVALID);
    free(buf);
    free(nd);
    free(nz);
}

int main(void)
{
    test_trans_quant_words();
    test_trans_quant_broadcast_and_errors();
    test_trans_quant_overlap();
    test_weight_size();
    test_trans_weight(1, 1);
    test_trans_weight(64, 128);
    test_trans_weight(17, 33);
    test_trans_weight(510, 270);
    CHECK_EQ_I64(qmar_trans_matmul_weight(NULL, 1, 1, NULL, 0), QMAR_ERR_PARAM_NULLPTR);
    int8_t one = 1, out[512];
    CHECK_EQ_I64(qmar_trans_matmul_weight(&one, 0, 1, out, sizeof out), QMAR_ERR_PARAM_INVALID);
    return check_summary();
}
