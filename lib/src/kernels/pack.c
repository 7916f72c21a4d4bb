/* SPDX-License-Identifier: Apache-2.0 */
/* x2, in any stored layout, into a kernel's packed-B layout (kernel.h, qmar__bfmt). Runs once per
 * Run; the common cases (rows of x2 contiguous in n, or columns contiguous in k) copy whole
 * groups at a time, everything else goes element by element. */
#include <string.h>

#include "kernel.h"

/* The layout as ACSL (proofs/units/pack: the size of the packed buffer is computed without
 * overflow). */
#include "../../spec/acsl/pack.acsl" /* found through -I lib/src, as the headers do */

#if defined(__SSE2__)
#include <emmintrin.h> /* baseline on x86-64 */
#endif

/*@ requires 1 <= a <= 64 && 0 <= v <= 281474976710656;
    assigns \nothing;
    ensures \result == pb_align(v, a) && v <= \result <= v + a - 1;
*/
static int64_t align_up(int64_t v, int64_t a)
{
    return (v + a - 1) / a * a;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/*@ ghost
  /@ requires 0 <= a <= b && 0 <= c;
     assigns \nothing;
     ensures a * c <= b * c;
  @/
  static void lemma_mul_mono(int64_t a, int64_t b, int64_t c)
  {
  }
*/

/* k <= 65535 (S2) and k * n <= 2^48 (x2's footprint) on an accepted call; compute.c also asks for
 * (k, nc) with nc <= Align(n, nr) <= n + 63, hence the 2^49. */
/*@ requires bfmt_ok(f);
    requires 1 <= k <= 65535 && 1 <= n <= 281474976710656 && k * n <= 562949953421312;
    assigns \nothing;
    ensures \result == pb_size(f->nr, f->kalign, k, n);
*/
uint64_t qmar__packed_b_bytes(const qmar__bfmt *f, int64_t k, int64_t n)
{
    /* Align(v, a) <= 64 v for v >= 1: the product stays below 2^12 k n < 2^64. */
    //@ ghost int64_t kp = (k + f->kalign - 1) / f->kalign * f->kalign;
    //@ ghost int64_t np = (n + f->nr - 1) / f->nr * f->nr;
    //@ assert kp <= 64 * k && np <= 64 * n;
    //@ ghost lemma_mul_mono(kp, 64 * k, np);
    //@ ghost lemma_mul_mono(np, 64 * n, 64 * k);
    //@ assert kp * np <= 4096 * (k * n) <= 2305843009213693952;
    //@ assert kp == pb_align(k, f->kalign) && np == pb_align(n, f->nr);
    //@ assert 1 <= pb_align(k, f->kalign) * pb_align(n, f->nr) <= 2305843009213693952;
    //@ assert (uint64_t)pb_align(k, f->kalign) == pb_align(k, f->kalign);
    //@ assert (uint64_t)pb_align(n, f->nr) == pb_align(n, f->nr);
    return (uint64_t)align_up(k, f->kalign) * (uint64_t)align_up(n, f->nr);
}

/* Byte offset of element (t, j). */
static int64_t at(const qmar__bfmt *f, int64_t kp, int64_t t, int64_t j)
{
    return (j / f->nr) * kp * f->nr + (t / f->group) * f->nr * f->group + (j % f->nr) * f->group +
           t % f->group;
}

/* Full groups of 4 rows of x2 (contiguous in j): one 32-bit word per column. */
static void rows4(const qmar__bfmt *f, int64_t kp, const qmar__b_rect *r, int64_t t, int64_t ja,
                  int64_t jb, uint8_t *packed)
{
    uint32_t x = f->xor_mask * 0x01010101u;
    const int8_t *s0 = r->src + (t - r->t0) * r->st + (ja - r->j0);
    const int8_t *s1 = s0 + r->st, *s2 = s1 + r->st, *s3 = s2 + r->st;
    for (int64_t j = ja; j < jb;) {
        int64_t end = min64(jb, (j / f->nr + 1) * f->nr); /* the rest of this panel */
        uint8_t *d = packed + at(f, kp, t, j);
        int64_t len = end - j, o = j - ja, c = 0;
#if defined(__SSE2__)
        __m128i xv = _mm_set1_epi32((int)x);
        for (; c + 16 <= len; c += 16) { /* 4 rows x 16 columns -> 16 words */
            __m128i r0 = _mm_loadu_si128((const __m128i *)(s0 + o + c));
            __m128i r1 = _mm_loadu_si128((const __m128i *)(s1 + o + c));
            __m128i r2 = _mm_loadu_si128((const __m128i *)(s2 + o + c));
            __m128i r3 = _mm_loadu_si128((const __m128i *)(s3 + o + c));
            __m128i lo01 = _mm_unpacklo_epi8(r0, r1), hi01 = _mm_unpackhi_epi8(r0, r1);
            __m128i lo23 = _mm_unpacklo_epi8(r2, r3), hi23 = _mm_unpackhi_epi8(r2, r3);
            __m128i *dv = (__m128i *)(d + 4 * c);
            _mm_storeu_si128(dv, _mm_xor_si128(_mm_unpacklo_epi16(lo01, lo23), xv));
            _mm_storeu_si128(dv + 1, _mm_xor_si128(_mm_unpackhi_epi16(lo01, lo23), xv));
            _mm_storeu_si128(dv + 2, _mm_xor_si128(_mm_unpacklo_epi16(hi01, hi23), xv));
            _mm_storeu_si128(dv + 3, _mm_xor_si128(_mm_unpackhi_epi16(hi01, hi23), xv));
        }
#endif
        for (; c < len; c++) {
            uint32_t w = (uint32_t)(uint8_t)s0[o + c] | (uint32_t)(uint8_t)s1[o + c] << 8 |
                         (uint32_t)(uint8_t)s2[o + c] << 16 | (uint32_t)(uint8_t)s3[o + c] << 24;
            w ^= x;
            memcpy(d + 4 * c, &w, 4);
        }
        j = end;
    }
}

/* Full groups of 2 rows of x2 (contiguous in j). */
static void rows2(const qmar__bfmt *f, int64_t kp, const qmar__b_rect *r, int64_t t, int64_t ja,
                  int64_t jb, uint8_t *packed)
{
    uint16_t x = (uint16_t)(f->xor_mask * 0x0101u);
    const int8_t *s0 = r->src + (t - r->t0) * r->st + (ja - r->j0);
    const int8_t *s1 = s0 + r->st;
    for (int64_t j = ja; j < jb;) {
        int64_t end = min64(jb, (j / f->nr + 1) * f->nr);
        uint8_t *d = packed + at(f, kp, t, j);
        int64_t len = end - j, o = j - ja, c = 0;
#if defined(__SSE2__)
        __m128i xv = _mm_set1_epi16((short)x);
        for (; c + 16 <= len; c += 16) { /* 2 rows x 16 columns -> 16 pairs */
            __m128i r0 = _mm_loadu_si128((const __m128i *)(s0 + o + c));
            __m128i r1 = _mm_loadu_si128((const __m128i *)(s1 + o + c));
            __m128i *dv = (__m128i *)(d + 2 * c);
            _mm_storeu_si128(dv, _mm_xor_si128(_mm_unpacklo_epi8(r0, r1), xv));
            _mm_storeu_si128(dv + 1, _mm_xor_si128(_mm_unpackhi_epi8(r0, r1), xv));
        }
#endif
        for (; c < len; c++) {
            uint16_t w = (uint16_t)((uint8_t)s0[o + c] | (uint8_t)s1[o + c] << 8);
            w ^= x;
            memcpy(d + 2 * c, &w, 2);
        }
        j = end;
    }
}

/* One group of column j: `group` bytes of x2 contiguous in t. */
static void col_group(const qmar__bfmt *f, const int8_t *s, uint8_t *d)
{
    for (int32_t i = 0; i < f->group; i++)
        d[i] = (uint8_t)s[i] ^ f->xor_mask;
}

/* Columns of x2 contiguous in t (a transposed layout), column by column within each panel, so
 * that the columns are read straight through and the panel being written stays in cache. With
 * groups of 4, four columns x four groups at a time: a 4 x 4 transpose of 32-bit words. */
static void cols(const qmar__bfmt *f, int64_t kp, const qmar__b_rect *r, int64_t ta, int64_t tb,
                 int64_t ja, int64_t jb, uint8_t *packed)
{
    int32_t g = f->group;
    int64_t step = (int64_t)f->nr * g; /* from one group to the next in a panel */
    for (int64_t j = ja; j < jb;) {
        int64_t c = 1, t = ta;
        const int8_t *s = r->src + (j - r->j0) * r->sj + (ta - r->t0);
        uint8_t *d = packed + at(f, kp, ta, j);
#if defined(__SSE2__)
        if (g == 4 && j + 4 <= jb && j / f->nr == (j + 3) / f->nr) {
            c = 4;
            __m128i xv = _mm_set1_epi8((char)f->xor_mask);
            for (; t + 16 <= tb; t += 16, s += 16, d += 4 * step) {
                __m128i r0 = _mm_loadu_si128((const __m128i *)s);
                __m128i r1 = _mm_loadu_si128((const __m128i *)(s + r->sj));
                __m128i r2 = _mm_loadu_si128((const __m128i *)(s + 2 * r->sj));
                __m128i r3 = _mm_loadu_si128((const __m128i *)(s + 3 * r->sj));
                __m128i a = _mm_unpacklo_epi32(r0, r1), b = _mm_unpacklo_epi32(r2, r3);
                __m128i e = _mm_unpackhi_epi32(r0, r1), h = _mm_unpackhi_epi32(r2, r3);
                _mm_storeu_si128((__m128i *)d, _mm_xor_si128(_mm_unpacklo_epi64(a, b), xv));
                _mm_storeu_si128((__m128i *)(d + step), _mm_xor_si128(_mm_unpackhi_epi64(a, b), xv));
                _mm_storeu_si128((__m128i *)(d + 2 * step),
                                 _mm_xor_si128(_mm_unpacklo_epi64(e, h), xv));
                _mm_storeu_si128((__m128i *)(d + 3 * step),
                                 _mm_xor_si128(_mm_unpackhi_epi64(e, h), xv));
            }
        }
#endif
        for (; t < tb; t += g, s += g, d += step) /* the rest, one column at a time */
            for (int64_t i = 0; i < c; i++)
                col_group(f, s + i * r->sj, d + i * g);
        j += c;
    }
}

/* Below this many columns at a time, the rows of x2 are read in full; above, in chunks, so that
 * the panels written for one chunk are few enough to stay in the TLB and the cache. */
#define ROW_CHUNK 256

void qmar__pack_b_rect(const qmar__bfmt *f, int64_t k, int64_t n, const qmar__b_rect *r,
                       int64_t jlo, int64_t jhi, uint8_t *packed)
{
    (void)n;
    int64_t kp = align_up(k, f->kalign);
    int64_t ja = max64(r->j0, jlo), jb = min64(r->j1, jhi);
    if (ja >= jb || r->t0 >= r->t1)
        return;
    int32_t g = f->group;
    int64_t t = r->t0, tfull = r->t0 % g == 0 ? r->t0 + (r->t1 - r->t0) / g * g : r->t0;
    if (r->sj == 1 && (g == 4 || g == 2)) {
        for (int64_t c0 = ja; c0 < jb; c0 += ROW_CHUNK) {
            int64_t c1 = min64(jb, c0 + ROW_CHUNK);
            for (t = r->t0; t < tfull; t += g)
                (g == 4 ? rows4 : rows2)(f, kp, r, t, c0, c1, packed);
        }
    } else if (r->st == 1 && g > 1) {
        cols(f, kp, r, t, tfull, ja, jb, packed);
        t = tfull;
    }
    for (; t < r->t1; t++) /* what is left: element by element */
        for (int64_t j = ja; j < jb; j++)
            packed[at(f, kp, t, j)] =
                (uint8_t)r->src[(t - r->t0) * r->st + (j - r->j0) * r->sj] ^ f->xor_mask;
}

void qmar__pack_b_pad(const qmar__bfmt *f, int64_t k, int64_t n, int64_t jlo, int64_t jhi,
                      uint8_t *packed)
{
    int64_t kp = align_up(k, f->kalign), np = align_up(n, f->nr);
    if (k == kp) /* only the padding columns */
        jlo = jlo > n ? jlo : n;
    for (int64_t j = jlo; j < min64(jhi, np); j++) {
        int64_t t = j < n ? k : 0;
        for (; t < kp && t % f->group != 0; t++)
            packed[at(f, kp, t, j)] = f->xor_mask;
        uint8_t *d = packed + at(f, kp, t, j); /* whole groups from here on */
        for (; t < kp; t += f->group, d += (int64_t)f->nr * f->group)
            memset(d, f->xor_mask, (size_t)f->group);
    }
}
