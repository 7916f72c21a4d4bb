/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the vectorised epilogues (same contract and bits as qmar__epilogue_block). */
#ifndef QMAR_SRC_KERNELS_EPILOGUE_SIMD_H
#define QMAR_SRC_KERNELS_EPILOGUE_SIMD_H
#include <stdint.h>

#include "epilogue.h"

void qmar__epilogue_avx2(const qmar__epilogue *p, const int32_t *acc, int64_t ldacc, int64_t row0,
                         int64_t rows, int64_t j0, int64_t j1, uint16_t *e, int64_t lde);
void qmar__epilogue_avx512(const qmar__epilogue *p, const int32_t *acc, int64_t ldacc,
                           int64_t row0, int64_t rows, int64_t j0, int64_t j1, uint16_t *e,
                           int64_t lde);
#endif
