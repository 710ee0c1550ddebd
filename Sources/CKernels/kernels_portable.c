// The portable kernels: elementwise.h, reduce.h and rowwise.h for the baseline CPU, which
// the compiler auto-vectorizes with whatever every CPU of the target has (SSE2 on x86-64).
#define EQ_ISA(name) name##_portable
#include "elementwise.h"
#include "reduce.h"
#include "rowwise.h"

const eq_kernel_table eq_kernels_portable = EQ_KERNEL_TABLE("portable");
