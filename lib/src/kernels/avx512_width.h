/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: whether this core's 512-bit VPDPBUSD runs at full width (avx512_width.c), which the
 * AVX-512 kernel's blocking (avx512.c, tune) follows. */
#ifndef QMAR_SRC_KERNELS_AVX512_WIDTH_H
#define QMAR_SRC_KERNELS_AVX512_WIDTH_H

/* 1 if a 512-bit VPDPBUSD issues as fast as a 256-bit one (a full 512-bit datapath: twice the
 * multiply-adds per cycle of a core that splits it into two 256-bit halves), else 0. Timed on
 * each call (about 50 us): call it once. */
int qmar__avx512_full_width(void);
#endif
