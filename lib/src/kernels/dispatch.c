/* Run-time choice of the GEMM kernel. Only the portable kernel exists so far; QMAR_ISA=scalar is
 * accepted, any other value falls back to the best available kernel. */
#include <stdlib.h>

#include "kernel.h"

const qmar__kernel *qmar__kernel_select(void)
{
    return &qmar__kernel_portable;
}
