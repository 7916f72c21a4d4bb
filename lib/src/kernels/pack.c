/* SPDX-License-Identifier: Apache-2.0 */
/* x2, in any stored layout, into a kernel's packed-B layout (kernel.h, qmar__bfmt). Runs once per
 * Run; the common cases (rows of x2 contiguous in n, or columns contiguous in k) copy whole
 * groups at a time, everything else goes element by element. */
#include <string.h>

#include "kernel.h"

/* The layout as ACSL (proofs/units/pack: the size of the packed buffer, the element offsets, the
 * padding, the row and column loops (their scalar loops) and qmar__pack_b_rect are proven). */
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

/*@ assigns \nothing;
    ensures \result == (a > b ? a : b);
*/
static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/*@ assigns \nothing;
    ensures \result == (a < b ? a : b);
*/
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

/*@ ghost
  /@ requires 1 <= g <= 4 && 0 <= t && 1 <= kp && kp % g == 0 && t < kp;
     assigns \nothing;
     ensures t / g * g <= t < t / g * g + g && (t / g + 1) * g <= kp;
  @/
  static void lemma_group_fits(int64_t t, int32_t g, int64_t kp)
  {
  }
*/

/* Where element (t, j) lies: at or after the start of its panel, and the bytes from it to the
 * end of its group of rows (t % group == 0: the columns after j in the panel, group bytes each)
 * inside the panel. What rows4, rows2, the columns and the padding write. */
/*@ ghost
  /@ requires bfmt_ok(f);
     requires 1 <= kp <= 65600 && kp % f->group == 0;
     requires 0 <= t < kp && 0 <= j;
     requires (j / f->nr + 1) * (kp * f->nr) <= 4611686018427387904;
     assigns \nothing;
     ensures pb_panel(f->nr, kp, j) <= pb_at(f->nr, f->group, kp, t, j);
     ensures pb_at(f->nr, f->group, kp, t, j) - t % f->group + (f->nr - j % f->nr) * f->group <=
             pb_panel(f->nr, kp, j) + kp * f->nr;
  @/
  static void lemma_at_bounds(const qmar__bfmt *f, int64_t kp, int64_t t, int64_t j)
  {
      lemma_group_fits(t, f->group, kp);
      lemma_mul_mono(t / f->group + 1, kp / f->group, (int64_t)f->nr * f->group);
      lemma_mul_mono(j % f->nr, f->nr - 1, f->group);
  }
*/

/* Division by a group size (1 to 4), one size at a time: each case a division by a constant. */
/*@ ghost
  /@ requires 1 <= g <= 4 && 0 <= x;
     assigns \nothing;
     ensures 0 <= x / g * g <= x < x / g * g + g;
     ensures (x / g * g) % g == 0;
     ensures (x + g) / g == x / g + 1 && (x + g) % g == x % g;
     ensures x % g == 0 && 0 < x ==> g <= x;
  @/
  static void lemma_div_small(int64_t x, int32_t g)
  {
      // (x + g) / g, stated for each constant divisor: with g unknown CVC4 times out on it.
      if (g == 1) {
      } else if (g == 2) {
          /@ assert (x + 2) / 2 == x / 2 + 1 && (x + 2) % 2 == x % 2; @/
          /@ assert (x + g) / g == x / g + 1 && (x + g) % g == x % g; @/
      } else if (g == 3) {
          /@ assert (x + 3) / 3 == x / 3 + 1 && (x + 3) % 3 == x % 3; @/
          /@ assert (x + g) / g == x / g + 1 && (x + g) % g == x % g; @/
      } else {
          /@ assert (x + 4) / 4 == x / 4 + 1 && (x + 4) % 4 == x % 4; @/
          /@ assert (x + g) / g == x / g + 1 && (x + g) % g == x % g; @/
      }
  }
*/

/* A multiple of a group size (1 to 4) is one: (m * g) % g == 0 with g unknown is a nonlinear
 * fact neither prover finds (Z3 ran out of memory on it in lemma_layout); one size at a time it is
 * a product by a constant. */
/*@ ghost
  /@ requires 1 <= g <= 4 && 0 <= m;
     assigns \nothing;
     ensures (m * g) % g == 0;
  @/
  static void lemma_mul_mod(int64_t m, int32_t g)
  {
      if (g == 1) {
      } else if (g == 2) {
      } else if (g == 3) {
      } else {
      }
  }
*/

/* The same for a panel width (1 to 64), whole panels: in a context of its own (in lemma_layout's,
 * CVC4 took 23 s of its 60 s timeout idle, and ran past it on a loaded machine). */
/*@ ghost
  /@ requires 1 <= b <= 64 && 0 <= a <= 281474976710656;
     assigns \nothing;
     ensures (a * b) % b == 0;
  @/
  static void lemma_mul_mod_nr(int64_t a, int64_t b)
  {
  }
*/

/* The packed layout of (k, n) as pack_b_rect and pack_b_pad use it: the depth kp holds whole
 * groups, the width np whole panels, and the size fits in int64 (2^61, as packed_b_bytes). */
/*@ ghost
  /@ requires bfmt_ok(f);
     requires 1 <= k <= 65535 && 1 <= n <= 281474976710656 && k * n <= 562949953421312;
     assigns \nothing;
     ensures k <= pb_align(k, f->kalign) <= 65600;
     ensures pb_align(k, f->kalign) % f->group == 0;
     ensures n <= pb_align(n, f->nr);
     ensures pb_align(n, f->nr) % f->nr == 0;
     ensures pb_size(f->nr, f->kalign, k, n) <= 2305843009213693952;
  @/
  static void lemma_layout(const qmar__bfmt *f, int64_t k, int64_t n)
  {
      int64_t q = (k + f->kalign - 1) / f->kalign;
      int64_t kp = q * f->kalign;
      int64_t qn = (n + f->nr - 1) / f->nr;
      int64_t np = qn * f->nr;
      /@ assert kp == pb_align(k, f->kalign) && np == pb_align(n, f->nr); @/
      /@ assert k <= kp <= k + f->kalign - 1 && n <= np <= n + f->nr - 1; @/
      /@ assert kp <= 64 * k && np <= 64 * n; @/
      lemma_mul_mono(kp, 64 * k, np);
      lemma_mul_mono(np, 64 * n, 64 * k);
      /@ assert kp * np <= 4096 * (k * n); @/
      lemma_mul_mod_nr(qn, f->nr);
      /@ assert (qn * f->nr) % f->nr == 0; @/
      int64_t m = q * (f->kalign / f->group);
      /@ assert f->kalign / f->group * f->group == f->kalign; @/
      /@ assert kp == m * f->group; @/
      lemma_mul_mod(m, f->group);
      /@ assert (m * f->group) % f->group == 0; @/
  }
*/

/* The panel of column j < np ends inside the kp x np buffer. */
/*@ ghost
  /@ requires 1 <= nr <= 64 && 0 <= j < np && np % nr == 0 && 1 <= kp <= 65600;
     requires kp * np <= 2305843009213693952;
     assigns \nothing;
     ensures (j / nr + 1) * (kp * nr) <= kp * np;
  @/
  static void lemma_panel_end(int64_t j, int64_t nr, int64_t np, int64_t kp)
  {
      /@ assert j / nr + 1 <= np / nr; @/
      lemma_mul_mono(j / nr + 1, np / nr, kp * nr);
      /@ assert np / nr * (kp * nr) == kp * np; @/
  }
*/

/* Panels in column order: the panel of j starts no later than that of j2 >= j. */
/*@ ghost
  /@ requires 1 <= nr <= 64 && 0 <= j <= j2 && 1 <= kp <= 65600;
     requires (j2 / nr + 1) * (kp * nr) <= 4611686018427387904;
     assigns \nothing;
     ensures pb_panel(nr, kp, j) <= pb_panel(nr, kp, j2);
  @/
  static void lemma_panel_mono(int64_t nr, int64_t kp, int64_t j, int64_t j2)
  {
      // left to Z3 (wp.flags: a "nonlinear" assertion), which proves it at once; CVC4 does not
      /@ assert nonlinear: j / nr <= j2 / nr; @/
      lemma_mul_mono(j / nr, j2 / nr, kp * nr);
  }
*/

/* Byte offset of element (t, j): pb_at of pack.acsl, without overflow (t == kp too: the padding
 * loop forms that address, one past its last group, without writing there). */
/*@ requires bfmt_ok(f);
    requires 1 <= kp <= 65600 && kp % f->group == 0;
    requires 0 <= t <= kp && 0 <= j;
    requires (j / f->nr + 1) * (kp * f->nr) <= 4611686018427387904;
    assigns \nothing;
    ensures \result == pb_at(f->nr, f->group, kp, t, j);
    ensures t < kp ==> pb_panel(f->nr, kp, j) <= \result &&
            \result - t % f->group + (f->nr - j % f->nr) * f->group <=
            pb_panel(f->nr, kp, j) + kp * f->nr;
*/
static int64_t at(const qmar__bfmt *f, int64_t kp, int64_t t, int64_t j)
{
    //@ ghost if (t < kp) lemma_at_bounds(f, kp, t, j);
    //@ assert t / f->group <= kp / f->group && (t / f->group) * f->group <= kp;
    //@ ghost lemma_mul_mono(t / f->group, kp / f->group, (int64_t)f->nr * f->group);
    //@ ghost lemma_mul_mono(j % f->nr, f->nr - 1, f->group);
    //@ ghost lemma_mul_mono(j / f->nr, j / f->nr + 1, kp * f->nr);
    //@ ghost lemma_mul_mono(f->nr, kp * f->nr, j / f->nr);
    //@ assert kp / f->group * f->group == kp;
    //@ assert t / f->group * f->nr * f->group <= kp * f->nr;
    //@ assert j / f->nr * kp * f->nr + kp * f->nr <= 4611686018427387904;
    /* The last two terms are small (column in panel < 64, group <= 4): with the two bounds above
     * the whole sum stays below 2^62 + 2^9, and the provers need not multiply them out. */
    //@ ghost lemma_mul_mono(j % f->nr, 64, f->group);
    //@ assert 0 <= (j % f->nr) * f->group <= 256 && 0 <= t % f->group < 4;
    //@ assert j / f->nr * kp * f->nr + t / f->group * f->nr * f->group <= 4611686018427387904;
    /* Each partial product of the return expression is an int64 already (the casts below are
     * the machine values WP's overflow goals are stated in): said once here, so that the goal of
     * the first sum need not rediscover it through two products. */
    //@ assert (int64_t)(j / f->nr) == j / f->nr && (int64_t)(t / f->group) == t / f->group;
    //@ assert (int64_t)(j / f->nr * kp) == j / f->nr * kp;
    //@ assert (int64_t)(j / f->nr * kp * f->nr) == j / f->nr * kp * f->nr;
    //@ assert (int64_t)(t / f->group * f->nr) == t / f->group * f->nr;
    //@ assert (int64_t)(t / f->group * f->nr * f->group) == t / f->group * f->nr * f->group;
    return (j / f->nr) * kp * f->nr + (t / f->group) * f->nr * f->group + (j % f->nr) * f->group +
           t % f->group;
}

/* Full groups of 4 rows of x2 (contiguous in j): one 32-bit word per column. */
/*@ requires bfmt_ok(f) && f->group == 4 && 1 <= kp <= 65600 && kp % 4 == 0;
    requires rows_ok(r, t, 4, ja, jb) && t + 4 <= kp && t % 4 == 0;
    requires pb_panel(f->nr, kp, jb - 1) + kp * f->nr <= 4611686018427387904;
    requires \valid(packed + (0 .. pb_panel(f->nr, kp, jb - 1) + kp * f->nr - 1));
    requires \separated(f, r, packed + (0 .. pb_panel(f->nr, kp, jb - 1) + kp * f->nr - 1));
    assigns packed[0 .. pb_panel(f->nr, kp, jb - 1) + kp * f->nr - 1];
*/
static void rows4(const qmar__bfmt *f, int64_t kp, const qmar__b_rect *r, int64_t t, int64_t ja,
                  int64_t jb, uint8_t *packed)
{
    uint8_t m = f->xor_mask; /* read once: a byte store could alias *f */
#if defined(__SSE2__)
    uint32_t x = f->xor_mask * 0x01010101u;
#endif
    //@ ghost lemma_mul_mono(t + 3 - r->t0, r->t1 - 1 - r->t0, r->st);
    //@ ghost lemma_mul_mono(0, t - r->t0, r->st);
    //@ ghost lemma_mul_mono(t - r->t0, t + 3 - r->t0, r->st);
    //@ assert (t - r->t0) * r->st + 3 * r->st <= (r->t1 - 1 - r->t0) * r->st;
    const int8_t *s0 = r->src + (t - r->t0) * r->st + (ja - r->j0);
    const int8_t *s1 = s0 + r->st, *s2 = s1 + r->st, *s3 = s2 + r->st;
    /*@ loop invariant ja <= j <= jb;
        loop assigns j, packed[0 .. pb_panel(f->nr, kp, jb - 1) + kp * f->nr - 1];
        loop variant jb - j;
    */
    for (int64_t j = ja; j < jb;) {
        int64_t end = min64(jb, (j / f->nr + 1) * f->nr); /* the rest of this panel */
        //@ ghost lemma_panel_mono(f->nr, kp, j, jb - 1);
        uint8_t *d = packed + at(f, kp, t, j);
        int64_t len = end - j, o = j - ja, c = 0;
        //@ assert len <= f->nr - j % f->nr;
        /*@ loop invariant 0 <= c <= len;
            loop assigns c, packed[0 .. pb_panel(f->nr, kp, jb - 1) + kp * f->nr - 1];
            loop variant len - c;
        */
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
        for (; c < len; c++) { /* the bytes of the word above, stored one at a time */
            d[4 * c] = (uint8_t)s0[o + c] ^ m;
            d[4 * c + 1] = (uint8_t)s1[o + c] ^ m;
            d[4 * c + 2] = (uint8_t)s2[o + c] ^ m;
            d[4 * c + 3] = (uint8_t)s3[o + c] ^ m;
        }
        j = end;
    }
}

/* Full groups of 2 rows of x2 (contiguous in j). */
/*@ requires bfmt_ok(f) && f->group == 2 && 1 <= kp <= 65600 && kp % 2 == 0;
    requires rows_ok(r, t, 2, ja, jb) && t + 2 <= kp && t % 2 == 0;
    requires pb_panel(f->nr, kp, jb - 1) + kp * f->nr <= 4611686018427387904;
    requires \valid(packed + (0 .. pb_panel(f->nr, kp, jb - 1) + kp * f->nr - 1));
    requires \separated(f, r, packed + (0 .. pb_panel(f->nr, kp, jb - 1) + kp * f->nr - 1));
    assigns packed[0 .. pb_panel(f->nr, kp, jb - 1) + kp * f->nr - 1];
*/
static void rows2(const qmar__bfmt *f, int64_t kp, const qmar__b_rect *r, int64_t t, int64_t ja,
                  int64_t jb, uint8_t *packed)
{
    uint8_t m = f->xor_mask;
#if defined(__SSE2__)
    uint16_t x = (uint16_t)(f->xor_mask * 0x0101u);
#endif
    //@ ghost lemma_mul_mono(t + 1 - r->t0, r->t1 - 1 - r->t0, r->st);
    //@ ghost lemma_mul_mono(0, t - r->t0, r->st);
    //@ ghost lemma_mul_mono(t - r->t0, t + 1 - r->t0, r->st);
    //@ assert (t - r->t0) * r->st + r->st <= (r->t1 - 1 - r->t0) * r->st;
    const int8_t *s0 = r->src + (t - r->t0) * r->st + (ja - r->j0);
    const int8_t *s1 = s0 + r->st;
    /*@ loop invariant ja <= j <= jb;
        loop assigns j, packed[0 .. pb_panel(f->nr, kp, jb - 1) + kp * f->nr - 1];
        loop variant jb - j;
    */
    for (int64_t j = ja; j < jb;) {
        int64_t end = min64(jb, (j / f->nr + 1) * f->nr);
        //@ ghost lemma_panel_mono(f->nr, kp, j, jb - 1);
        uint8_t *d = packed + at(f, kp, t, j);
        int64_t len = end - j, o = j - ja, c = 0;
        //@ assert len <= f->nr - j % f->nr;
        /*@ loop invariant 0 <= c <= len;
            loop assigns c, packed[0 .. pb_panel(f->nr, kp, jb - 1) + kp * f->nr - 1];
            loop variant len - c;
        */
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
            d[2 * c] = (uint8_t)s0[o + c] ^ m;
            d[2 * c + 1] = (uint8_t)s1[o + c] ^ m;
        }
        j = end;
    }
}

/* One group of column j: `group` bytes of x2 contiguous in t. */
/*@ requires bfmt_ok(f);
    requires \valid_read(s + (0 .. f->group - 1)) && \valid(d + (0 .. f->group - 1));
    requires \separated(f, d + (0 .. f->group - 1));
    assigns d[0 .. f->group - 1];
*/
static void col_group(const qmar__bfmt *f, const int8_t *s, uint8_t *d)
{
    /*@ loop invariant 0 <= i <= f->group;
        loop assigns i, d[0 .. f->group - 1];
        loop variant f->group - i;
    */
    for (int32_t i = 0; i < f->group; i++)
        d[i] = (uint8_t)s[i] ^ f->xor_mask;
}

/* Columns of x2 contiguous in t (a transposed layout), column by column within each panel, so
 * that the columns are read straight through and the panel being written stays in cache. With
 * groups of 4, four columns x four groups at a time: a 4 x 4 transpose of 32-bit words. */
/*@ requires bfmt_ok(f) && 2 <= f->group && 1 <= kp <= 65600 && kp % f->group == 0;
    requires \valid_read(r) && r->st == 1 && 0 <= r->sj && 0 <= r->j0 <= ja < jb <= r->j1;
    requires 0 <= r->t0 <= ta <= tb <= r->t1 && tb <= kp && r->t0 < r->t1;
    requires (tb - ta) % f->group == 0 && (ta < tb ==> ta % f->group == 0);
    requires rect_last(r) <= 281474976710656 && \valid_read(r->src + (0 .. rect_last(r)));
    requires pb_panel(f->nr, kp, jb - 1) + kp * f->nr <= 4611686018427387904;
    requires \valid(packed + (0 .. pb_panel(f->nr, kp, jb - 1) + kp * f->nr - 1));
    requires \separated(f, r, packed + (0 .. pb_panel(f->nr, kp, jb - 1) + kp * f->nr - 1));
    assigns packed[0 .. pb_panel(f->nr, kp, jb - 1) + kp * f->nr - 1];
*/
static void cols(const qmar__bfmt *f, int64_t kp, const qmar__b_rect *r, int64_t ta, int64_t tb,
                 int64_t ja, int64_t jb, uint8_t *packed)
{
    int32_t g = f->group;
    int64_t step = (int64_t)f->nr * g; /* from one group to the next in a panel */
    /*@ loop invariant ja <= j <= jb;
        loop assigns j, packed[0 .. pb_panel(f->nr, kp, jb - 1) + kp * f->nr - 1];
        loop variant jb - j;
    */
    for (int64_t j = ja; j < jb;) {
        int64_t c = 1, t = ta;
        //@ ghost lemma_mul_mono(0, j - r->j0, r->sj);
        //@ ghost lemma_mul_mono(j - r->j0, r->j1 - 1 - r->j0, r->sj);
        //@ ghost lemma_panel_mono(f->nr, kp, j, jb - 1);
        const int8_t *s = r->src + (j - r->j0) * r->sj + (ta - r->t0);
        uint8_t *d = packed + at(f, kp, ta, j);
        /*@ loop invariant ta <= t <= tb && (tb - t) % g == 0 && (ta < tb ==> t % g == 0);
            loop invariant s == r->src + (j - r->j0) * r->sj + (t - r->t0);
            loop invariant d == packed + pb_at(f->nr, g, kp, t, j);
            loop assigns t, s, d, packed[0 .. pb_panel(f->nr, kp, jb - 1) + kp * f->nr - 1];
            loop variant tb - t;
        */
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
        for (; t < tb; t += g, s += g, d += step) { /* the rest, one column at a time */
            //@ ghost lemma_at_bounds(f, kp, t, j);
            //@ ghost lemma_div_small(t, g);
            //@ ghost lemma_div_small(tb - t, g);
            //@ ghost lemma_div_small(tb - t - g, g);
            //@ assert c == 1;
            /* The next group of rows is one step further in the panel (the invariant on d): its
             * row group is t / g + 1, its row in the group the same, hence pb_at + nr * g. */
            //@ assert (t + g) / g == t / g + 1 && (t + g) % g == t % g;
            //@ assert (t / g + 1) * (f->nr * g) == t / g * (f->nr * g) + step;
            //@ assert pb_at(f->nr, g, kp, t + g, j) == pb_at(f->nr, g, kp, t, j) + step;
            /*@ loop invariant 0 <= i <= c;
                loop assigns i, packed[0 .. pb_panel(f->nr, kp, jb - 1) + kp * f->nr - 1];
                loop variant c - i;
            */
            for (int64_t i = 0; i < c; i++)
                col_group(f, s + i * r->sj, d + i * g);
        }
        j += c;
    }
}

/* The offset from r->src of element (t, j) of x2's rectangle r: a function of its own, so that
 * its products are proven free of overflow in a small context (in the element loop of
 * qmar__pack_b_rect, after the row and column loops, the provers did not find it). */
/*@ requires \valid_read(r) && 0 <= r->t0 && 0 <= r->j0 && 0 <= r->st && 0 <= r->sj;
    requires r->t0 <= t < r->t1 && r->j0 <= j < r->j1;
    requires rect_last(r) <= 281474976710656;
    assigns \nothing;
    ensures \result == (t - r->t0) * r->st + (j - r->j0) * r->sj;
    ensures 0 <= \result <= rect_last(r);
*/
static int64_t src_offset(const qmar__b_rect *r, int64_t t, int64_t j)
{
    int64_t dt = t - r->t0, dj = j - r->j0;
    //@ ghost lemma_mul_mono(0, dt, r->st);
    //@ ghost lemma_mul_mono(dt, r->t1 - 1 - r->t0, r->st);
    //@ ghost lemma_mul_mono(0, dj, r->sj);
    //@ ghost lemma_mul_mono(dj, r->j1 - 1 - r->j0, r->sj);
    int64_t ot = dt * r->st, oj = dj * r->sj;
    return ot + oj;
}

/* Below this many columns at a time, the rows of x2 are read in full; above, in chunks, so that
 * the panels written for one chunk are few enough to stay in the TLB and the cache. */
#define ROW_CHUNK 256

/*@ requires bfmt_ok(f);
    requires 1 <= k <= 65535 && 1 <= n <= 281474976710656 && k * n <= 562949953421312;
    requires rect_ok(r, k, n);
    requires \valid(packed + (0 .. pb_size(f->nr, f->kalign, k, n) - 1));
    requires \separated(f, r, packed + (0 .. pb_size(f->nr, f->kalign, k, n) - 1));
    assigns packed[0 .. pb_size(f->nr, f->kalign, k, n) - 1];
*/
void qmar__pack_b_rect(const qmar__bfmt *f, int64_t k, int64_t n, const qmar__b_rect *r,
                       int64_t jlo, int64_t jhi, uint8_t *packed)
{
    (void)n;
    int64_t kp = align_up(k, f->kalign);
    //@ ghost lemma_layout(f, k, n);
    //@ ghost int64_t np = (n + f->nr - 1) / f->nr * f->nr;
    int64_t ja = max64(r->j0, jlo), jb = min64(r->j1, jhi);
    if (ja >= jb || r->t0 >= r->t1)
        return;
    int32_t g = f->group;
    int64_t t = r->t0, tfull = r->t0 % g == 0 ? r->t0 + (r->t1 - r->t0) / g * g : r->t0;
    //@ ghost lemma_div_small(r->t1 - r->t0, g);
    //@ assert r->t0 <= tfull <= r->t1 && (tfull - r->t0) % g == 0;
    //@ assert r->t0 < tfull ==> r->t0 % g == 0;
    //@ ghost lemma_panel_end(jb - 1, f->nr, np, kp);
    if (r->sj == 1 && (g == 4 || g == 2)) {
        /*@ loop invariant ja <= c0 && r->t0 <= t <= tfull;
            loop assigns c0, t, packed[0 .. pb_size(f->nr, f->kalign, k, n) - 1];
            loop variant jb - c0;
        */
        for (int64_t c0 = ja; c0 < jb; c0 += ROW_CHUNK) {
            int64_t c1 = min64(jb, c0 + ROW_CHUNK);
            //@ ghost lemma_panel_mono(f->nr, kp, c1 - 1, jb - 1);
            //@ assert r->t0 < tfull ==> r->t0 % g == 0;
            /*@ loop invariant r->t0 <= t <= tfull && (tfull - t) % g == 0;
                loop invariant r->t0 < tfull ==> t % g == 0;
                loop assigns t, packed[0 .. pb_size(f->nr, f->kalign, k, n) - 1];
                loop variant tfull - t;
            */
            for (t = r->t0; t < tfull; t += g) {
                //@ ghost lemma_div_small(t, g);
                //@ ghost lemma_div_small(tfull - t, g);
                //@ ghost lemma_div_small(tfull - t - g, g);
                if (g == 4)
                    rows4(f, kp, r, t, c0, c1, packed);
                else
                    rows2(f, kp, r, t, c0, c1, packed);
            }
        }
    } else if (r->st == 1 && g > 1) {
        cols(f, kp, r, t, tfull, ja, jb, packed);
        t = tfull;
    }
    /* What the element loop reads of x2, once (r is separated from what the loops above wrote). */
    //@ assert r->t0 < r->t1 && r->j0 < r->j1 && rect_last(r) <= 281474976710656;
    //@ assert \valid_read(r->src + (0 .. rect_last(r)));
    /*@ loop invariant r->t0 <= t <= r->t1;
        loop assigns t, packed[0 .. pb_size(f->nr, f->kalign, k, n) - 1];
        loop variant r->t1 - t;
    */
    for (; t < r->t1; t++) { /* what is left: element by element */
        /*@ loop invariant ja <= j <= jb;
            loop assigns j, packed[0 .. pb_size(f->nr, f->kalign, k, n) - 1];
            loop variant jb - j;
        */
        for (int64_t j = ja; j < jb; j++) {
            //@ ghost lemma_panel_end(j, f->nr, np, kp);
            int64_t o = src_offset(r, t, j); /* inside x2's rectangle: 0 <= o <= rect_last */
            /* The byte written: from its group to the end of its panel (at), inside the buffer. */
            //@ ghost lemma_at_bounds(f, kp, t, j);
            //@ ghost lemma_mul_mono(1, f->nr - j % f->nr, f->group);
            //@ assert pb_panel(f->nr, kp, j) + kp * f->nr == (j / f->nr + 1) * (kp * f->nr);
            //@ assert 0 <= pb_at(f->nr, f->group, kp, t, j) < pb_size(f->nr, f->kalign, k, n);
            packed[at(f, kp, t, j)] = (uint8_t)r->src[o] ^ f->xor_mask;
        }
    }
}

/*@ requires bfmt_ok(f);
    requires 1 <= k <= 65535 && 1 <= n <= 281474976710656 && k * n <= 562949953421312;
    requires 0 <= jlo;
    requires \valid(packed + (0 .. pb_size(f->nr, f->kalign, k, n) - 1));
    requires \separated(f, packed + (0 .. pb_size(f->nr, f->kalign, k, n) - 1));
    assigns packed[0 .. pb_size(f->nr, f->kalign, k, n) - 1];
*/
void qmar__pack_b_pad(const qmar__bfmt *f, int64_t k, int64_t n, int64_t jlo, int64_t jhi,
                      uint8_t *packed)
{
    int64_t kp = align_up(k, f->kalign), np = align_up(n, f->nr);
    //@ ghost lemma_layout(f, k, n);
    if (k == kp) /* only the padding columns */
        jlo = jlo > n ? jlo : n;
    /*@ loop invariant 0 <= jlo <= j;
        loop assigns j, packed[0 .. pb_size(f->nr, f->kalign, k, n) - 1];
        loop variant np - j;
    */
    for (int64_t j = jlo; j < min64(jhi, np); j++) {
        //@ ghost lemma_panel_end(j, f->nr, np, kp);
        int64_t t = j < n ? k : 0;
        /*@ loop invariant 0 <= t <= kp;
            loop assigns t, packed[0 .. pb_size(f->nr, f->kalign, k, n) - 1];
            loop variant kp - t;
        */
        for (; t < kp && t % f->group != 0; t++)
            packed[at(f, kp, t, j)] = f->xor_mask;
        uint8_t *d = packed + at(f, kp, t, j); /* whole groups from here on */
        /*@ loop invariant 0 <= t <= kp && t % f->group == 0;
            loop invariant d == packed + pb_at(f->nr, f->group, kp, t, j);
            loop assigns t, d, packed[0 .. pb_size(f->nr, f->kalign, k, n) - 1];
            loop variant kp - t;
        */
        for (; t < kp; t += f->group, d += (int64_t)f->nr * f->group) {
            //@ ghost lemma_at_bounds(f, kp, t, j);
            //@ ghost lemma_div_small(t, f->group);
            /* The next group is nr * group bytes further (the invariant on d), step by step: in
             * one step CVC4 took 25 s of its 60 s timeout (idle; past it on a loaded machine). */
            /*@ assert (t / f->group + 1) * (f->nr * f->group) ==
                       t / f->group * (f->nr * f->group) + f->nr * f->group; */
            /*@ assert pb_at(f->nr, f->group, kp, t + f->group, j) ==
                       pb_at(f->nr, f->group, kp, t, j) + f->nr * f->group; */
            memset(d, f->xor_mask, (size_t)f->group);
        }
    }
}
