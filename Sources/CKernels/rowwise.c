// Fused row-wise kernels over the last axis: softmax, log-softmax and layer norm.
#include "iterate.h"
#include "mathfun.h"
#include <math.h>

#define SOFTMAX_ROW(T, ACC, EXPF, LOGF)                                                    \
    static void softmax_row_##T(int64_t n, const T *x, T *y, int use_log) {                    \
        T m = x[0];                                                                        \
        for (int64_t j = 1; j < n; j++) m = x[j] > m ? x[j] : m;                           \
        if (m == (T)-INFINITY) m = 0;                                                      \
        ACC s = 0;                                                                         \
        if (use_log) {                                                                         \
            for (int64_t j = 0; j < n; j++) s += (ACC)EXPF(x[j] - m);                      \
            /* (x - m) - log s: adding m to log s first would round away low bits. */     \
            T ls = (T)LOGF(s);                                                             \
            for (int64_t j = 0; j < n; j++) y[j] = (x[j] - m) - ls;                        \
        } else {                                                                           \
            for (int64_t j = 0; j < n; j++) { T e = EXPF(x[j] - m); y[j] = e; s += (ACC)e; } \
            T inv = (T)(1.0 / s);                                                          \
            for (int64_t j = 0; j < n; j++) y[j] *= inv;                                   \
        }                                                                                  \
    }

SOFTMAX_ROW(double, double, exp, log)

// float32 rows keep 16 independent max and sum lanes: a single accumulator is a serial
// dependency chain that the compiler may not reorder, which made long rows (a 33k-word
// vocabulary) run at scalar speed.
#define LANES 16
static void softmax_row_float(int64_t n, const float *x, float *y, int use_log) {
    float mv[LANES], sv[LANES];
    for (int l = 0; l < LANES; l++) { mv[l] = -INFINITY; sv[l] = 0; }
    int64_t body = n - n % LANES;
    for (int64_t j = 0; j < body; j += LANES)
        for (int l = 0; l < LANES; l++) mv[l] = x[j + l] > mv[l] ? x[j + l] : mv[l];
    float m = -INFINITY;
    for (int l = 0; l < LANES; l++) m = mv[l] > m ? mv[l] : m;
    for (int64_t j = body; j < n; j++) m = x[j] > m ? x[j] : m;
    if (m == -INFINITY) m = 0;
    for (int64_t j = 0; j < body; j += LANES)
        for (int l = 0; l < LANES; l++) {
            float e = eq_expf(x[j + l] - m);
            if (!use_log) y[j + l] = e;
            sv[l] += e;
        }
    float s = 0;
    for (int l = 0; l < LANES; l++) s += sv[l];
    for (int64_t j = body; j < n; j++) {
        float e = eq_expf(x[j] - m);
        if (!use_log) y[j] = e;
        s += e;
    }
    if (use_log) {
        /* (x - m) - log s: adding m to log s first would round away low bits. */
        float ls = logf(s);
        for (int64_t j = 0; j < n; j++) y[j] = (x[j] - m) - ls;
    } else {
        float inv = 1.0f / s;
        for (int64_t j = 0; j < n; j++) y[j] *= inv;
    }
}
#undef LANES

void eq_softmax(int dtype, int64_t rows, int64_t n, const void *x, void *y, int use_log) {
    const int par = rows * n >= eq_parallel_threshold() && rows > 1;
    if (dtype == EQ_F32) {
#pragma omp parallel for if (par) schedule(static)
        for (int64_t r = 0; r < rows; r++)
            softmax_row_float(n, (const float *)x + r * n, (float *)y + r * n, use_log);
    } else {
#pragma omp parallel for if (par) schedule(static)
        for (int64_t r = 0; r < rows; r++)
            softmax_row_double(n, (const double *)x + r * n, (double *)y + r * n, use_log);
    }
}

// softmax: dx = y * (g - sum(g * y)); log-softmax: dx = g - exp(y) * sum(g).
#define SOFTMAX_BWD_ROW(T, EXPF)                                                            \
    static void softmax_bwd_row_##T(int64_t n, const T *y, const T *g, T *dx, int use_log) {    \
        T s = 0;                                                                            \
        if (use_log) {                                                                          \
            for (int64_t j = 0; j < n; j++) s += g[j];                                      \
            for (int64_t j = 0; j < n; j++) dx[j] = g[j] - EXPF(y[j]) * s;                  \
        } else {                                                                            \
            for (int64_t j = 0; j < n; j++) s += g[j] * y[j];                               \
            for (int64_t j = 0; j < n; j++) dx[j] = y[j] * (g[j] - s);                      \
        }                                                                                   \
    }
SOFTMAX_BWD_ROW(float, eq_expf)
SOFTMAX_BWD_ROW(double, exp)

void eq_softmax_backward(int dtype, int64_t rows, int64_t n, const void *y, const void *g,
                         void *dx, int use_log) {
    const int par = rows * n >= eq_parallel_threshold() && rows > 1;
    if (dtype == EQ_F32) {
#pragma omp parallel for if (par) schedule(static)
        for (int64_t r = 0; r < rows; r++)
            softmax_bwd_row_float(n, (const float *)y + r * n, (const float *)g + r * n,
                                  (float *)dx + r * n, use_log);
    } else {
#pragma omp parallel for if (par) schedule(static)
        for (int64_t r = 0; r < rows; r++)
            softmax_bwd_row_double(n, (const double *)y + r * n, (const double *)g + r * n,
                                   (double *)dx + r * n, use_log);
    }
}

#define LAYERNORM_ROW(T)                                                                    \
    static void layernorm_row_##T(int64_t n, const T *x, const T *gamma, const T *beta,     \
                                  double eps, T *y, T *mean_out, T *rstd_out) {             \
        double s = 0;                                                                       \
        for (int64_t j = 0; j < n; j++) s += x[j];                                          \
        const T mean = (T)(s / (double)n);                                                  \
        double v = 0;                                                                       \
        for (int64_t j = 0; j < n; j++) { T d = x[j] - mean; v += (double)(d * d); }        \
        const T rstd = (T)(1.0 / sqrt(v / (double)n + eps));                                \
        if (gamma && beta) {                                                                \
            for (int64_t j = 0; j < n; j++) y[j] = (x[j] - mean) * rstd * gamma[j] + beta[j]; \
        } else if (gamma) {                                                                 \
            for (int64_t j = 0; j < n; j++) y[j] = (x[j] - mean) * rstd * gamma[j];         \
        } else {                                                                            \
            for (int64_t j = 0; j < n; j++) y[j] = (x[j] - mean) * rstd;                    \
        }                                                                                   \
        if (mean_out) *mean_out = mean;                                                     \
        if (rstd_out) *rstd_out = rstd;                                                     \
    }
LAYERNORM_ROW(float)
LAYERNORM_ROW(double)

void eq_layernorm(int dtype, int64_t rows, int64_t n, const void *x, const void *gamma,
                  const void *beta, double eps, void *y, void *mean, void *rstd) {
    const int par = rows * n >= eq_parallel_threshold() && rows > 1;
    if (dtype == EQ_F32) {
#pragma omp parallel for if (par) schedule(static)
        for (int64_t r = 0; r < rows; r++)
            layernorm_row_float(n, (const float *)x + r * n, gamma, beta, eps, (float *)y + r * n,
                                mean ? (float *)mean + r : 0, rstd ? (float *)rstd + r : 0);
    } else {
#pragma omp parallel for if (par) schedule(static)
        for (int64_t r = 0; r < rows; r++)
            layernorm_row_double(n, (const double *)x + r * n, gamma, beta, eps,
                                 (double *)y + r * n, mean ? (double *)mean + r : 0,
                                 rstd ? (double *)rstd + r : 0);
    }
}
