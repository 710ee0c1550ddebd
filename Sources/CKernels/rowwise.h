// Fused row-wise kernels over the last axis: softmax, log-softmax and layer norm.
// Compiled once per instruction set (see kernels_isa.h).
#ifndef EQ_ROWWISE_H
#define EQ_ROWWISE_H
#include "kernels_isa.h"
#include "iterate.h"
#include "mathfun.h"
#include "simd.h"
#include <math.h>

// Lanes for float32 row loops: independent partial results that clang turns into vector
// registers (two AVX2 registers, or one AVX-512 register). Float reductions are otherwise not
// vectorized, because reassociating them changes rounding.
#define EQ_LANES 16

/// Largest element of x[0..n) by lanes; NaNs are skipped here and propagate through exp later.
static inline float row_max_f32(int64_t n, const float *x) {
    float m[EQ_LANES];
    for (int l = 0; l < EQ_LANES; l++) m[l] = -INFINITY;
    int64_t j = 0;
    for (; j + EQ_LANES <= n; j += EQ_LANES)
        for (int l = 0; l < EQ_LANES; l++) m[l] = x[j + l] > m[l] ? x[j + l] : m[l];
    for (; j < n; j++) m[0] = x[j] > m[0] ? x[j] : m[0];
    float r = m[0];
    for (int l = 1; l < EQ_LANES; l++) r = m[l] > r ? m[l] : r;
    return r;
}

/// Sum of lanes, added in double so the final combination costs no accuracy.
static inline double lanes_sum(const float *acc) {
    double s = 0;
    for (int l = 0; l < EQ_LANES; l++) s += acc[l];
    return s;
}

#ifdef EQ_HAVE_AVX2
// The AVX2 row: the same three passes with the exp kept in registers.
static void softmax_row_float(int64_t n, const float *x, float *y, int use_log) {
    int64_t j = 0;
    __m256 m0 = _mm256_set1_ps(-INFINITY), m1 = m0;
    // max_ps returns its second operand when one is NaN, so NaNs are skipped like the scalar loop.
    for (; j + 16 <= n; j += 16) {
        m0 = _mm256_max_ps(_mm256_loadu_ps(x + j), m0);
        m1 = _mm256_max_ps(_mm256_loadu_ps(x + j + 8), m1);
    }
    float m = eq_hmax8(_mm256_max_ps(m0, m1));
    for (; j < n; j++) m = x[j] > m ? x[j] : m;
    if (m == -INFINITY) m = 0;
    const __m256 vm = _mm256_set1_ps(m);
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    float tail = 0;
    if (use_log) {
        for (j = 0; j + 16 <= n; j += 16) {
            s0 = _mm256_add_ps(s0, eq_exp8_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(x + j), vm)));
            s1 = _mm256_add_ps(s1, eq_exp8_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(x + j + 8), vm)));
        }
        for (; j < n; j++) tail += eq_expf(x[j] - m);
        // (x - m) - log s: adding m to log s first would round away low bits.
        const float ls = (float)log((double)eq_hsum8(_mm256_add_ps(s0, s1)) + tail);
        for (j = 0; j < n; j++) y[j] = (x[j] - m) - ls;
    } else {
        for (j = 0; j + 16 <= n; j += 16) {
            __m256 e0 = eq_exp8_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(x + j), vm));
            __m256 e1 = eq_exp8_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(x + j + 8), vm));
            _mm256_storeu_ps(y + j, e0);
            _mm256_storeu_ps(y + j + 8, e1);
            s0 = _mm256_add_ps(s0, e0);
            s1 = _mm256_add_ps(s1, e1);
        }
        for (; j < n; j++) { float e = eq_expf(x[j] - m); y[j] = e; tail += e; }
        const float inv = (float)(1.0 / ((double)eq_hsum8(_mm256_add_ps(s0, s1)) + tail));
        const __m256 vinv = _mm256_set1_ps(inv);
        for (j = 0; j + 8 <= n; j += 8) _mm256_storeu_ps(y + j, _mm256_mul_ps(_mm256_loadu_ps(y + j), vinv));
        for (; j < n; j++) y[j] *= inv;
    }
}
#else
// Portable float32 row: max, exp-and-sum, scale, each a loop over a row in L1.
static void softmax_row_float(int64_t n, const float *x, float *y, int use_log) {
    float m = row_max_f32(n, x);
    if (m == -INFINITY) m = 0;
    float acc[EQ_LANES] = {0};
    int64_t j = 0;
    if (use_log) {
        for (; j + EQ_LANES <= n; j += EQ_LANES)
            for (int l = 0; l < EQ_LANES; l++) acc[l] += eq_expf(x[j + l] - m);
        for (; j < n; j++) acc[0] += eq_expf(x[j] - m);
        const float ls = (float)log(lanes_sum(acc));  // (x - m) - log s, as above
        for (j = 0; j < n; j++) y[j] = (x[j] - m) - ls;
    } else {
        for (; j + EQ_LANES <= n; j += EQ_LANES)
            for (int l = 0; l < EQ_LANES; l++) {
                float e = eq_expf(x[j + l] - m);
                y[j + l] = e;
                acc[l] += e;
            }
        for (; j < n; j++) { float e = eq_expf(x[j] - m); y[j] = e; acc[0] += e; }
        const float inv = (float)(1.0 / lanes_sum(acc));
        for (j = 0; j < n; j++) y[j] *= inv;
    }
}
#endif

static void softmax_row_double(int64_t n, const double *x, double *y, int use_log) {
    double m = x[0];
    for (int64_t j = 1; j < n; j++) m = x[j] > m ? x[j] : m;
    if (m == -INFINITY) m = 0;
    double s = 0;
    if (use_log) {
        for (int64_t j = 0; j < n; j++) s += exp(x[j] - m);
        double ls = log(s);  // (x - m) - log s, as above
        for (int64_t j = 0; j < n; j++) y[j] = (x[j] - m) - ls;
    } else {
        for (int64_t j = 0; j < n; j++) { double e = exp(x[j] - m); y[j] = e; s += e; }
        double inv = 1.0 / s;
        for (int64_t j = 0; j < n; j++) y[j] *= inv;
    }
}

// Row jobs for eq_parallel_chunks: the kernel arguments plus a range of rows.
typedef struct {
    int dtype, use_log;
    int64_t n;
    const void *x, *g;
    void *y;
} softmax_job;

static void softmax_rows(int64_t lo, int64_t hi, void *vjob) {
    const softmax_job *j = vjob;
    for (int64_t r = lo; r < hi; r++) {
        if (j->dtype == EQ_F32)
            softmax_row_float(j->n, (const float *)j->x + r * j->n, (float *)j->y + r * j->n, j->use_log);
        else
            softmax_row_double(j->n, (const double *)j->x + r * j->n, (double *)j->y + r * j->n, j->use_log);
    }
}

void EQ_ISA(eq_softmax)(int dtype, int64_t rows, int64_t n, const void *x, void *y, int use_log) {
    const int par = rows * n >= eq_parallel_threshold() && rows > 1;
    softmax_job job = {dtype, use_log, n, x, 0, y};
    eq_parallel_chunks(rows, eq_dynamic_chunk(rows), par, softmax_rows, &job);
}

// Attention's scale, mask and softmax in one row pass: v = scale·x (fill where masked) is written
// into the output row, which then sits in L1 for the softmax in place. Each element is rounded as
// the separate product, masked_fill and softmax round it, so results match those ops exactly.
typedef struct {
    int dtype;
    int64_t n, mask_rows;
    const void *x;
    const uint8_t *mask;
    double scale, fill;
    void *y;
} masked_softmax_job;

static void masked_softmax_rows(int64_t lo, int64_t hi, void *vjob) {
    const masked_softmax_job *j = vjob;
    for (int64_t r = lo; r < hi; r++) {
        const uint8_t *m = j->mask ? j->mask + (r % j->mask_rows) * j->n : 0;
        if (j->dtype == EQ_F32) {
            const float *x = (const float *)j->x + r * j->n;
            float *y = (float *)j->y + r * j->n;
            const float s = (float)j->scale, f = (float)j->fill;
            if (m) { for (int64_t k = 0; k < j->n; k++) y[k] = m[k] ? f : x[k] * s; }
            else { for (int64_t k = 0; k < j->n; k++) y[k] = x[k] * s; }
            softmax_row_float(j->n, y, y, 0);
        } else {
            const double *x = (const double *)j->x + r * j->n;
            double *y = (double *)j->y + r * j->n;
            if (m) { for (int64_t k = 0; k < j->n; k++) y[k] = m[k] ? j->fill : x[k] * j->scale; }
            else { for (int64_t k = 0; k < j->n; k++) y[k] = x[k] * j->scale; }
            softmax_row_double(j->n, y, y, 0);
        }
    }
}

void EQ_ISA(eq_softmax_masked)(int dtype, int64_t rows, int64_t n, const void *x, const uint8_t *mask,
                               int64_t mask_rows, double scale, double fill, void *y) {
    const int par = rows * n >= eq_parallel_threshold() && rows > 1;
    masked_softmax_job job = {dtype, n, mask_rows > 0 ? mask_rows : 1, x, mask, scale, fill, y};
    eq_parallel_chunks(rows, eq_dynamic_chunk(rows), par, masked_softmax_rows, &job);
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

static void softmax_bwd_rows(int64_t lo, int64_t hi, void *vjob) {
    const softmax_job *j = vjob;
    for (int64_t r = lo; r < hi; r++) {
        if (j->dtype == EQ_F32)
            softmax_bwd_row_float(j->n, (const float *)j->x + r * j->n, (const float *)j->g + r * j->n,
                                  (float *)j->y + r * j->n, j->use_log);
        else
            softmax_bwd_row_double(j->n, (const double *)j->x + r * j->n, (const double *)j->g + r * j->n,
                                   (double *)j->y + r * j->n, j->use_log);
    }
}

void EQ_ISA(eq_softmax_backward)(int dtype, int64_t rows, int64_t n, const void *y, const void *g,
                         void *dx, int use_log) {
    const int par = rows * n >= eq_parallel_threshold() && rows > 1;
    softmax_job job = {dtype, use_log, n, y, g, dx};  // x holds the forward output here
    eq_parallel_chunks(rows, eq_dynamic_chunk(rows), par, softmax_bwd_rows, &job);
}

// Cross entropy against a target per row, for word-level language models whose softmax runs over
// a 10–30k-word vocabulary: the loss needs each row's log-sum-exp and one logit, so the forward
// reads the logits once and writes two numbers a row (a log-softmax wrote and re-read an [N, V]
// buffer), and the backward is one pass c_r · exp(x − max_r) with the target's −scale added.
#ifdef EQ_HAVE_AVX2
static double row_exp_sum_float(int64_t n, const float *x, float m) {
    const __m256 vm = _mm256_set1_ps(m);
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        s0 = _mm256_add_ps(s0, eq_exp8_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(x + j), vm)));
        s1 = _mm256_add_ps(s1, eq_exp8_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(x + j + 8), vm)));
    }
    float tail = 0;
    for (; j < n; j++) tail += eq_expf(x[j] - m);
    return (double)eq_hsum8(_mm256_add_ps(s0, s1)) + tail;
}
static void scaled_exp_row_float(int64_t n, const float *x, float m, float c, float shift, float *dx) {
    const __m256 vm = _mm256_set1_ps(m), vc = _mm256_set1_ps(c), vs = _mm256_set1_ps(shift);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8)
        _mm256_storeu_ps(dx + j, _mm256_fmsub_ps(eq_exp8_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(x + j), vm)), vc, vs));
    for (; j < n; j++) dx[j] = c * eq_expf(x[j] - m) - shift;
}
#else
static double row_exp_sum_float(int64_t n, const float *x, float m) {
    float acc[EQ_LANES] = {0};
    int64_t j = 0;
    for (; j + EQ_LANES <= n; j += EQ_LANES)
        for (int l = 0; l < EQ_LANES; l++) acc[l] += eq_expf(x[j + l] - m);
    for (; j < n; j++) acc[0] += eq_expf(x[j] - m);
    return lanes_sum(acc);
}
static void scaled_exp_row_float(int64_t n, const float *x, float m, float c, float shift, float *dx) {
    for (int64_t j = 0; j < n; j++) dx[j] = c * eq_expf(x[j] - m) - shift;
}
#endif

typedef struct {
    int dtype;
    int64_t n;
    const void *x;
    const int64_t *targets;
    void *stats, *out;
    const double *row_scale;
    double eps, scale, onehot, uniform;
} xent_job;

static void xent_rows(int64_t lo, int64_t hi, void *vjob) {
    const xent_job *j = vjob;
    for (int64_t r = lo; r < hi; r++) {
        const int64_t t = j->targets[r];
        double m, s, xt, mean = 0;
        if (j->dtype == EQ_F32) {
            const float *x = (const float *)j->x + r * j->n;
            float mf = row_max_f32(j->n, x);
            if (mf == -INFINITY) mf = 0;
            s = row_exp_sum_float(j->n, x, mf);
            m = mf;
            xt = x[t];
            ((float *)j->stats)[2 * r] = mf;
            ((float *)j->stats)[2 * r + 1] = (float)(1.0 / s);
            if (j->eps != 0) { for (int64_t k = 0; k < j->n; k++) mean += x[k]; mean /= (double)j->n; }
        } else {
            const double *x = (const double *)j->x + r * j->n;
            m = x[0];
            s = 0;
            for (int64_t k = 1; k < j->n; k++) m = x[k] > m ? x[k] : m;
            if (m == -INFINITY) m = 0;
            for (int64_t k = 0; k < j->n; k++) s += exp(x[k] - m);
            xt = x[t];
            ((double *)j->stats)[2 * r] = m;
            ((double *)j->stats)[2 * r + 1] = 1.0 / s;
            if (j->eps != 0) { for (int64_t k = 0; k < j->n; k++) mean += x[k]; mean /= (double)j->n; }
        }
        // lse − x_t as (m − x_t) + log s: adding m to log s first would round away low bits.
        const double lse_minus = log(s);
        const double loss = (1 - j->eps) * ((m - xt) + lse_minus) + (j->eps != 0 ? j->eps * ((m - mean) + lse_minus) : 0);
        if (j->dtype == EQ_F32) ((float *)j->out)[r] = (float)loss; else ((double *)j->out)[r] = loss;
    }
}

static void xent_backward_rows(int64_t lo, int64_t hi, void *vjob) {
    const xent_job *j = vjob;
    for (int64_t r = lo; r < hi; r++) {
        const int64_t t = j->targets[r];
        const double sr = j->scale * (j->row_scale ? j->row_scale[r] : 1.0);
        if (j->dtype == EQ_F32) {
            const float *st = (const float *)j->stats + 2 * r;
            float *dx = (float *)j->out + r * j->n;
            scaled_exp_row_float(j->n, (const float *)j->x + r * j->n, st[0], (float)(sr * st[1]), (float)(sr * j->uniform), dx);
            dx[t] -= (float)(sr * j->onehot);
        } else {
            const double *x = (const double *)j->x + r * j->n, *st = (const double *)j->stats + 2 * r;
            double *dx = (double *)j->out + r * j->n;
            const double c = sr * st[1], shift = sr * j->uniform;
            for (int64_t k = 0; k < j->n; k++) dx[k] = c * exp(x[k] - st[0]) - shift;
            dx[t] -= sr * j->onehot;
        }
    }
}

void EQ_ISA(eq_cross_entropy)(int dtype, int64_t rows, int64_t n, const void *x, const int64_t *targets, double eps,
                              void *stats, void *loss) {
    const int par = rows * n >= eq_parallel_threshold() && rows > 1;
    xent_job job = {dtype, n, x, targets, stats, loss, NULL, eps, 0, 0, 0};
    eq_parallel_chunks(rows, eq_dynamic_chunk(rows), par, xent_rows, &job);
}

void EQ_ISA(eq_cross_entropy_backward)(int dtype, int64_t rows, int64_t n, const void *x, const void *stats,
                                       const int64_t *targets, const double *row_scale, double scale,
                                       double onehot, double uniform, void *dx) {
    const int par = rows * n >= eq_parallel_threshold() && rows > 1;
    xent_job job = {dtype, n, x, targets, (void *)stats, dx, row_scale, 0, scale, onehot, uniform};
    eq_parallel_chunks(rows, eq_dynamic_chunk(rows), par, xent_backward_rows, &job);
}

// Two passes over a row that sits in L1 (mean, then the centred sum of squares), so the
// variance never suffers the cancellation of E[x^2] - E[x]^2.
static void layernorm_row_float(int64_t n, const float *x, const float *gamma, const float *beta,
                                double eps, float *y, float *mean_out, float *rstd_out) {
    float acc[EQ_LANES] = {0};
    int64_t j = 0;
    for (; j + EQ_LANES <= n; j += EQ_LANES)
        for (int l = 0; l < EQ_LANES; l++) acc[l] += x[j + l];
    for (; j < n; j++) acc[0] += x[j];
    const float mean = (float)(lanes_sum(acc) / (double)n);
    for (int l = 0; l < EQ_LANES; l++) acc[l] = 0;
    for (j = 0; j + EQ_LANES <= n; j += EQ_LANES)
        for (int l = 0; l < EQ_LANES; l++) { float d = x[j + l] - mean; acc[l] += d * d; }
    for (; j < n; j++) { float d = x[j] - mean; acc[0] += d * d; }
    const float rstd = (float)(1.0 / sqrt(lanes_sum(acc) / (double)n + eps));
    if (gamma && beta) {
        for (j = 0; j < n; j++) y[j] = (x[j] - mean) * rstd * gamma[j] + beta[j];
    } else if (gamma) {
        for (j = 0; j < n; j++) y[j] = (x[j] - mean) * rstd * gamma[j];
    } else if (beta) {
        for (j = 0; j < n; j++) y[j] = (x[j] - mean) * rstd + beta[j];
    } else {
        for (j = 0; j < n; j++) y[j] = (x[j] - mean) * rstd;
    }
    if (mean_out) *mean_out = mean;
    if (rstd_out) *rstd_out = rstd;
}

static void layernorm_row_double(int64_t n, const double *x, const double *gamma,
                                 const double *beta, double eps, double *y, double *mean_out,
                                 double *rstd_out) {
    double s = 0;
    for (int64_t j = 0; j < n; j++) s += x[j];
    const double mean = s / (double)n;
    double v = 0;
    for (int64_t j = 0; j < n; j++) { double d = x[j] - mean; v += d * d; }
    const double rstd = 1.0 / sqrt(v / (double)n + eps);
    for (int64_t j = 0; j < n; j++) {
        double t = (x[j] - mean) * rstd;
        if (gamma) t *= gamma[j];
        if (beta) t += beta[j];
        y[j] = t;
    }
    if (mean_out) *mean_out = mean;
    if (rstd_out) *rstd_out = rstd;
}

typedef struct {
    int dtype;
    int64_t n;
    double eps;
    const void *x, *gamma, *beta;
    void *y, *mean, *rstd;
} layernorm_job;

static void layernorm_rows(int64_t lo, int64_t hi, void *vjob) {
    const layernorm_job *j = vjob;
    for (int64_t r = lo; r < hi; r++) {
        if (j->dtype == EQ_F32)
            layernorm_row_float(j->n, (const float *)j->x + r * j->n, j->gamma, j->beta, j->eps,
                                (float *)j->y + r * j->n, j->mean ? (float *)j->mean + r : 0,
                                j->rstd ? (float *)j->rstd + r : 0);
        else
            layernorm_row_double(j->n, (const double *)j->x + r * j->n, j->gamma, j->beta, j->eps,
                                 (double *)j->y + r * j->n, j->mean ? (double *)j->mean + r : 0,
                                 j->rstd ? (double *)j->rstd + r : 0);
    }
}

void EQ_ISA(eq_layernorm)(int dtype, int64_t rows, int64_t n, const void *x, const void *gamma,
                  const void *beta, double eps, void *y, void *mean, void *rstd) {
    const int par = rows * n >= eq_parallel_threshold() && rows > 1;
    layernorm_job job = {dtype, n, eps, x, gamma, beta, y, mean, rstd};
    eq_parallel_chunks(rows, eq_dynamic_chunk(rows), par, layernorm_rows, &job);
}

// Layer-norm backward of each row from the forward's statistics: with x̂ = (x − μ)·r and
// d = g·γ (or g), dx = r·(d − mean(d) − x̂·mean(d·x̂)). One pass for the two means, one for dx;
// the row stays in L1. As tensor ops this was ten passes with broadcasting (10% of an RMC step).
#define LN_BWD_ROW(T)                                                                            \
    static void layernorm_bwd_row_##T(int64_t n, const T *x, const T *gamma, const T *g, T mean,   \
                                       T rstd, T *dx) {                                          \
        T sa[EQ_LANES] = {0}, sb[EQ_LANES] = {0};                                                \
        int64_t j = 0;                                                                           \
        for (; j + EQ_LANES <= n; j += EQ_LANES)                                                 \
            for (int l = 0; l < EQ_LANES; l++) {                                                 \
                T d = gamma ? g[j + l] * gamma[j + l] : g[j + l];                                \
                sa[l] += d; sb[l] += d * ((x[j + l] - mean) * rstd);                             \
            }                                                                                    \
        for (; j < n; j++) {                                                                     \
            T d = gamma ? g[j] * gamma[j] : g[j];                                                \
            sa[0] += d; sb[0] += d * ((x[j] - mean) * rstd);                                     \
        }                                                                                        \
        double ta = 0, tb = 0;                                                                   \
        for (int l = 0; l < EQ_LANES; l++) { ta += sa[l]; tb += sb[l]; }                         \
        const T a = (T)(ta / (double)n), b = (T)(tb / (double)n);                                \
        for (j = 0; j < n; j++) {                                                                \
            T d = gamma ? g[j] * gamma[j] : g[j];                                                \
            dx[j] = rstd * (d - a - ((x[j] - mean) * rstd) * b);                                 \
        }                                                                                        \
    }
LN_BWD_ROW(float)
LN_BWD_ROW(double)

typedef struct {
    int dtype;
    int64_t n;
    const void *x, *gamma, *g, *mean, *rstd;
    void *dx;
} layernorm_bwd_job;

static void layernorm_bwd_rows(int64_t lo, int64_t hi, void *vjob) {
    const layernorm_bwd_job *j = vjob;
    for (int64_t r = lo; r < hi; r++) {
        if (j->dtype == EQ_F32)
            layernorm_bwd_row_float(j->n, (const float *)j->x + r * j->n, j->gamma, (const float *)j->g + r * j->n,
                                    ((const float *)j->mean)[r], ((const float *)j->rstd)[r], (float *)j->dx + r * j->n);
        else
            layernorm_bwd_row_double(j->n, (const double *)j->x + r * j->n, j->gamma, (const double *)j->g + r * j->n,
                                     ((const double *)j->mean)[r], ((const double *)j->rstd)[r], (double *)j->dx + r * j->n);
    }
}

// dγ = Σ_rows g·x̂ and dβ = Σ_rows g, row after row (deterministic), each row's loop vectorised.
#define LN_BWD_PARAMS(T)                                                                         \
    static void layernorm_bwd_params_##T(int64_t rows, int64_t n, const T *x, const T *g,          \
                                          const T *mean, const T *rstd, T *dgamma, T *dbeta) {   \
        for (int64_t j = 0; j < n; j++) { if (dgamma) dgamma[j] = 0; if (dbeta) dbeta[j] = 0; }  \
        for (int64_t r = 0; r < rows; r++) {                                                     \
            const T *xr = x + r * n, *gr = g + r * n;                                            \
            const T m = mean[r], s = rstd[r];                                                    \
            if (dgamma) for (int64_t j = 0; j < n; j++) dgamma[j] += gr[j] * ((xr[j] - m) * s);  \
            if (dbeta) for (int64_t j = 0; j < n; j++) dbeta[j] += gr[j];                        \
        }                                                                                        \
    }
LN_BWD_PARAMS(float)
LN_BWD_PARAMS(double)

void EQ_ISA(eq_layernorm_backward)(int dtype, int64_t rows, int64_t n, const void *x, const void *gamma,
                                   const void *g, const void *mean, const void *rstd, void *dx,
                                   void *dgamma, void *dbeta) {
    const int par = rows * n >= eq_parallel_threshold() && rows > 1;
    layernorm_bwd_job job = {dtype, n, x, gamma, g, mean, rstd, dx};
    if (dx) eq_parallel_chunks(rows, eq_dynamic_chunk(rows), par, layernorm_bwd_rows, &job);
    if (dgamma || dbeta) {
        if (dtype == EQ_F32)
            layernorm_bwd_params_float(rows, n, x, g, mean, rstd, dgamma, dbeta);
        else
            layernorm_bwd_params_double(rows, n, x, g, mean, rstd, dgamma, dbeta);
    }
}

#endif
