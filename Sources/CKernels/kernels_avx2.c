// The AVX2 + FMA kernels: the same sources as kernels_portable.c with every function compiled
// under target("avx2,fma"), plus the explicit intrinsics of simd.h and stream.h (EQ_AVX2).
// dispatch.c calls them only on a CPU that reports both features.
#if defined(__x86_64__) || defined(__i386__)

// System headers first, so that only this package's functions take the target attribute below.
#include "ckernels.h"
#include <immintrin.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define EQ_AVX2 1
#define EQ_ISA(name) name##_avx2

// Fused multiply-adds wherever the loops allow (what -ffp-contract=fast gave the old global build).
#pragma clang fp contract(fast)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "elementwise.h"
#include "reduce.h"
#include "rowwise.h"
#pragma clang attribute pop

const eq_kernel_table eq_kernels_avx2 = EQ_KERNEL_TABLE("avx2+fma");

#endif
