// The kernels compiled once per instruction set and chosen at run time.
//
// elementwise.h, reduce.h and rowwise.h are included by two translation units:
// kernels_portable.c (the baseline CPU: SSE2 on x86-64, NEON on arm64) and, on x86-64,
// kernels_avx2.c (every function under target("avx2,fma")). Each defines EQ_ISA(name) to give its
// entry points their own names (eq_unary_portable, eq_unary_avx2, ...) and fills one
// eq_kernel_table; dispatch.c picks a table once at start-up and the public eq_* functions call
// through it. No compiler flag is needed, so the package builds for any CPU and a machine without
// AVX2 runs the portable loops instead of stopping with an illegal instruction.
#ifndef EQ_KERNELS_ISA_H
#define EQ_KERNELS_ISA_H

#include "ckernels.h"

typedef struct {
    const char *name;
    __typeof__(eq_unary) *unary;
    __typeof__(eq_binary) *binary;
    __typeof__(eq_where) *where;
    __typeof__(eq_copy) *copy;
    __typeof__(eq_fill) *fill;
    __typeof__(eq_arange) *arange;
    __typeof__(eq_axpy) *axpy;
    __typeof__(eq_reduce) *reduce;
    __typeof__(eq_softmax) *softmax;
    __typeof__(eq_softmax_backward) *softmax_backward;
    __typeof__(eq_softmax_masked) *softmax_masked;
    __typeof__(eq_layernorm) *layernorm;
    __typeof__(eq_layernorm_backward) *layernorm_backward;
    __typeof__(eq_cross_entropy) *cross_entropy;
    __typeof__(eq_cross_entropy_backward) *cross_entropy_backward;
} eq_kernel_table;

extern const eq_kernel_table eq_kernels_portable;
/// True when the AVX2+FMA table is the active one: for kernels outside the table (optimizers,
/// solver rows) that pick their own compiled variant the same way.
int eq_kernels_use_avx2(void);
#if defined(__x86_64__) || defined(__i386__)
#define EQ_CAN_DISPATCH_AVX2 1
extern const eq_kernel_table eq_kernels_avx2;
#endif

/// The table of one instruction set's translation unit, listing the EQ_ISA-named entry points.
#define EQ_KERNEL_TABLE(NAME)                                                               \
    {                                                                                       \
        NAME, EQ_ISA(eq_unary), EQ_ISA(eq_binary), EQ_ISA(eq_where), EQ_ISA(eq_copy),       \
        EQ_ISA(eq_fill), EQ_ISA(eq_arange), EQ_ISA(eq_axpy), EQ_ISA(eq_reduce),             \
        EQ_ISA(eq_softmax), EQ_ISA(eq_softmax_backward), EQ_ISA(eq_softmax_masked),         \
        EQ_ISA(eq_layernorm), EQ_ISA(eq_layernorm_backward), EQ_ISA(eq_cross_entropy),      \
        EQ_ISA(eq_cross_entropy_backward)                                                   \
    }

#endif
