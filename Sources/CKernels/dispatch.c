// The public elementwise, reduction and row-wise entry points: each calls the kernel table
// chosen once at start-up (kernels_isa.h) from the CPU's features and EQ_KERNELS.
#include "kernels_isa.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Written once by the constructor below, before any Swift code runs; read-only afterwards.
static const eq_kernel_table *eq_active = &eq_kernels_portable;

static int eq_cpu_has_avx2_fma(void) {
#ifdef EQ_CAN_DISPATCH_AVX2
    __builtin_cpu_init();   // constructors may run before the compiler runtime's own one
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

__attribute__((constructor)) static void eq_kernels_init(void) {
    const char *env = getenv("EQ_KERNELS");
    if (env && strcmp(env, "portable") == 0) return;
    if (env && *env && strcmp(env, "auto") != 0 && strcmp(env, "avx2") != 0)
        fprintf(stderr, "Equilibrium: EQ_KERNELS=%s is not one of auto, avx2, portable; "
                        "using auto (the best kernels this CPU supports)\n", env);
#ifdef EQ_CAN_DISPATCH_AVX2
    if (eq_cpu_has_avx2_fma()) {
        eq_active = &eq_kernels_avx2;
        return;
    }
#endif
    if (env && strcmp(env, "avx2") == 0)
        fprintf(stderr, "Equilibrium: EQ_KERNELS=avx2 but this CPU lacks AVX2 or FMA; "
                        "using the portable kernels\n");
}

const char *eq_kernels_name(void) { return eq_active->name; }

int eq_kernels_use_avx2(void) {
#ifdef EQ_CAN_DISPATCH_AVX2
    return eq_active == &eq_kernels_avx2;
#else
    return 0;
#endif
}

void eq_unary(int op, int dtype, int ndim, const int64_t *shape, const void *x, const int64_t *xs,
              void *y, const int64_t *ys, double p0, double p1) {
    eq_active->unary(op, dtype, ndim, shape, x, xs, y, ys, p0, p1);
}

void eq_binary(int op, int dtype, int ndim, const int64_t *shape, const void *a, const int64_t *as,
               const void *b, const int64_t *bs, void *out, const int64_t *os) {
    eq_active->binary(op, dtype, ndim, shape, a, as, b, bs, out, os);
}

void eq_where(int dtype, int ndim, const int64_t *shape, const uint8_t *cond, const int64_t *cs,
              const void *a, const int64_t *as, const void *b, const int64_t *bs, void *out,
              const int64_t *os) {
    eq_active->where(dtype, ndim, shape, cond, cs, a, as, b, bs, out, os);
}

void eq_copy(int src_dtype, int dst_dtype, int ndim, const int64_t *shape, const void *src,
             const int64_t *ss, void *dst, const int64_t *ds) {
    eq_active->copy(src_dtype, dst_dtype, ndim, shape, src, ss, dst, ds);
}

void eq_fill(int dtype, int64_t n, void *out, double value) { eq_active->fill(dtype, n, out, value); }

void eq_arange(int dtype, int64_t n, void *out, double start, double step) {
    eq_active->arange(dtype, n, out, start, step);
}

void eq_axpy(int dtype, int64_t n, double alpha, const void *x, void *y) {
    eq_active->axpy(dtype, n, alpha, x, y);
}

void eq_reduce(int op, int dtype, int64_t outer, int64_t k, int64_t inner, const void *x,
               void *out) {
    eq_active->reduce(op, dtype, outer, k, inner, x, out);
}

void eq_softmax(int dtype, int64_t rows, int64_t n, const void *x, void *y, int log) {
    eq_active->softmax(dtype, rows, n, x, y, log);
}

void eq_softmax_backward(int dtype, int64_t rows, int64_t n, const void *y, const void *g,
                         void *dx, int log) {
    eq_active->softmax_backward(dtype, rows, n, y, g, dx, log);
}

void eq_cross_entropy(int dtype, int64_t rows, int64_t n, const void *x, const int64_t *targets, double eps,
                      void *stats, void *loss) {
    eq_active->cross_entropy(dtype, rows, n, x, targets, eps, stats, loss);
}

void eq_cross_entropy_backward(int dtype, int64_t rows, int64_t n, const void *x, const void *stats,
                               const int64_t *targets, const double *row_scale, double scale, double onehot,
                               double uniform, void *dx) {
    eq_active->cross_entropy_backward(dtype, rows, n, x, stats, targets, row_scale, scale, onehot, uniform, dx);
}

void eq_softmax_masked(int dtype, int64_t rows, int64_t n, const void *x, const uint8_t *mask,
                       int64_t mask_rows, double scale, double fill, void *y) {
    eq_active->softmax_masked(dtype, rows, n, x, mask, mask_rows, scale, fill, y);
}

void eq_layernorm(int dtype, int64_t rows, int64_t n, const void *x, const void *gamma,
                  const void *beta, double eps, void *y, void *mean, void *rstd) {
    eq_active->layernorm(dtype, rows, n, x, gamma, beta, eps, y, mean, rstd);
}

void eq_layernorm_backward(int dtype, int64_t rows, int64_t n, const void *x, const void *gamma,
                           const void *g, const void *mean, const void *rstd, void *dx,
                           void *dgamma, void *dbeta) {
    eq_active->layernorm_backward(dtype, rows, n, x, gamma, g, mean, rstd, dx, dgamma, dbeta);
}
