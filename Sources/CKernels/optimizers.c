// Fused optimizer updates: one pass over every parameter of a model per step, one call per dtype
// (PyTorch's fused/foreach optimizers). The element loops are written once as macros and
// compiled twice: under target("avx2,fma") and for the baseline CPU; eq_kernels_use_avx2() (the
// dispatch of the other kernels, EQ_KERNELS=portable included) picks one. __builtin_elementwise_sqrt has
// no errno side effect, so the loops vectorise without -fno-math-errno.
#include "kernels_isa.h"
#include <stdint.h>

#define ADAM_LOOP(T)                                                                         \
    for (int64_t t = 0; t < count; t++) {                                                    \
        T *p = params[t], *m = exp_avg[t], *v = exp_avg_sq[t];                               \
        const T *g = grads[t];                                                               \
        const T b1 = (T)beta1, b2 = (T)beta2, ob1 = (T)(1 - beta1), ob2 = (T)(1 - beta2);    \
        const T step = (T)step_size[t], c2 = (T)bias2[t], e = (T)eps, wd = (T)weight_decay;  \
        const T shrink = (T)(1 - lr * weight_decay);                                         \
        const int64_t n = sizes[t];                                                          \
        if (weight_decay != 0 && decoupled) {                                                \
            for (int64_t i = 0; i < n; i++) p[i] = p[i] * shrink;                            \
        }                                                                                    \
        if (weight_decay != 0 && !decoupled) {                                               \
            for (int64_t i = 0; i < n; i++) {                                                \
                const T gi = g[i] + p[i] * wd;                                               \
                const T mi = m[i] * b1 + gi * ob1, vi = v[i] * b2 + gi * gi * ob2;           \
                m[i] = mi; v[i] = vi;                                                        \
                p[i] -= step * (mi / (__builtin_elementwise_sqrt(vi / c2) + e));             \
            }                                                                                \
        } else {                                                                             \
            for (int64_t i = 0; i < n; i++) {                                                \
                const T gi = g[i];                                                           \
                const T mi = m[i] * b1 + gi * ob1, vi = v[i] * b2 + gi * gi * ob2;           \
                m[i] = mi; v[i] = vi;                                                        \
                p[i] -= step * (mi / (__builtin_elementwise_sqrt(vi / c2) + e));             \
            }                                                                                \
        }                                                                                    \
    }

#define SGD_LOOP(T)                                                                          \
    for (int64_t t = 0; t < count; t++) {                                                    \
        T *p = params[t], *b = buffers[t];                                                   \
        const T *g = grads[t];                                                               \
        const T rate = (T)lr, mu = (T)momentum, damp = (T)(1 - dampening);                   \
        const T wd = (T)weight_decay;                                                        \
        const int64_t n = sizes[t];                                                          \
        const int first = fresh[t];                                                          \
        for (int64_t i = 0; i < n; i++) {                                                    \
            const T gi = weight_decay != 0 ? g[i] + p[i] * wd : g[i];                        \
            const T bi = first ? gi : b[i] * mu + gi * damp;                                 \
            b[i] = bi;                                                                       \
            p[i] -= rate * (nesterov ? gi + bi * mu : bi);                                   \
        }                                                                                    \
    }

#define OPTIMIZER_FUNCTIONS(SUFFIX, ATTR)                                                    \
    ATTR static void adam_##SUFFIX(int dtype, int64_t count, void *const *params,            \
                                   const void *const *grads, void *const *exp_avg,           \
                                   void *const *exp_avg_sq, const int64_t *sizes,            \
                                   const double *step_size, const double *bias2, double lr,  \
                                   double beta1, double beta2, double eps,                   \
                                   double weight_decay, int decoupled) {                     \
        if (dtype == EQ_F32) { ADAM_LOOP(float) } else if (dtype == EQ_F64) { ADAM_LOOP(double) } \
    }                                                                                        \
    ATTR static void sgd_##SUFFIX(int dtype, int64_t count, void *const *params,             \
                                  const void *const *grads, void *const *buffers,            \
                                  const int64_t *sizes, const int *fresh, double lr,         \
                                  double momentum, double dampening, double weight_decay,    \
                                  int nesterov) {                                            \
        if (dtype == EQ_F32) { SGD_LOOP(float) } else if (dtype == EQ_F64) { SGD_LOOP(double) } \
    }

OPTIMIZER_FUNCTIONS(portable, )
#if defined(__x86_64__) || defined(__i386__)
OPTIMIZER_FUNCTIONS(avx2, __attribute__((target("avx2,fma"))))
#else
#define adam_avx2 adam_portable
#define sgd_avx2 sgd_portable
#endif

void eq_adam_multi(int dtype, int64_t count, void *const *params, const void *const *grads,
                   void *const *exp_avg, void *const *exp_avg_sq, const int64_t *sizes,
                   const double *step_size, const double *bias2, double lr, double beta1,
                   double beta2, double eps, double weight_decay, int decoupled) {
    (eq_kernels_use_avx2() ? adam_avx2 : adam_portable)(dtype, count, params, grads, exp_avg, exp_avg_sq, sizes,
                                             step_size, bias2, lr, beta1, beta2, eps, weight_decay,
                                             decoupled);
}

void eq_sgd_multi(int dtype, int64_t count, void *const *params, const void *const *grads,
                  void *const *buffers, const int64_t *sizes, const int *fresh, double lr,
                  double momentum, double dampening, double weight_decay, int nesterov) {
    (eq_kernels_use_avx2() ? sgd_avx2 : sgd_portable)(dtype, count, params, grads, buffers, sizes, fresh, lr,
                                           momentum, dampening, weight_decay, nesterov);
}
