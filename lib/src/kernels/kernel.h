/* Internal: the int8 GEMM kernel interface. ISA-specific variants slot in beside the portable one
 * and are chosen at run time (dispatch.c); every variant must give the same int32 results. */
#ifndef QMAR_SRC_KERNELS_KERNEL_H
#define QMAR_SRC_KERNELS_KERNEL_H
#include <stdint.h>

typedef struct qmar__kernel {
    const char *name;
    /* acc[r*n + j] = sum over t < k of a[r*k + t] * bt[j*k + t], for r < rows, j < n.
     * a is row-major rows x k; bt is x2 transposed (n x k, row-major), as packed by the plan.
     * Exact in int32: |sum| <= 65535 * 128 * 128 < 2^31. */
    void (*gemm_s8s8s32)(const int8_t *a, const int8_t *bt, int32_t *acc, int64_t rows,
                         int64_t n, int64_t k);
} qmar__kernel;

extern const qmar__kernel qmar__kernel_portable;

/* The kernel for this process: QMAR_ISA from the environment if set and supported, else the
 * best the CPU supports. */
const qmar__kernel *qmar__kernel_select(void);
#endif
