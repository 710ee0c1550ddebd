// The solvers' per-iteration work on one sample's history (`count` contiguous rows of `n`
// values): the dot products of every row with two vectors, and the subtraction of a combination
// of the rows (a gemv); and the residual norms of every method. Done as Swift scalar loops they
// were the larger part of Anderson's own work per iteration (on tanh-256, batch 32: 0.96x one
// evaluation of the map at m = 30, measured with `deq bench solvers --overhead`).
#include "iterate.h"
#include "kernels_isa.h"
#include <stdlib.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#define EQ_ROWS_STACK 128

void eq_rows_subtract_combination(int dtype, int64_t count, int64_t n, const void *rows,
                                  const double *coefficients, void *out) {
    if (count <= 0) return;
    if (dtype == EQ_F64) {
        cblas_dgemv(CblasRowMajor, CblasTrans, (blasint)count, (blasint)n, -1.0, (const double *)rows,
                    (blasint)n, coefficients, 1, 1.0, (double *)out, 1);
        return;
    }
    float stack[EQ_ROWS_STACK];
    float *c = count <= EQ_ROWS_STACK ? stack : malloc((size_t)count * sizeof(float));
    for (int64_t j = 0; j < count; j++) c[j] = (float)coefficients[j];
    cblas_sgemv(CblasRowMajor, CblasTrans, (blasint)count, (blasint)n, -1.0f, (const float *)rows,
                (blasint)n, c, 1, 1.0f, (float *)out, 1);
    if (c != stack) free(c);
}

// Both dot products of every row with a and with b in one pass over the rows: the history is
// larger than L2 at m = 30 (32 samples x 30 rows x 256 doubles = 2 MB), so reading it once
// instead of twice (two gemv calls) is what counts. Two independent accumulators per vector.
#define ROWS_DOT2_PORTABLE(T)                                                                    \
    for (int64_t j = 0; j < count; j++) {                                                        \
        const T *r = (const T *)rows + j * n;                                                    \
        T a0 = 0, a1 = 0, b0 = 0, b1 = 0;                                                        \
        int64_t i = 0;                                                                           \
        for (; i + 2 <= n; i += 2) {                                                             \
            a0 += r[i] * ((const T *)a)[i]; b0 += r[i] * ((const T *)b)[i];                      \
            a1 += r[i + 1] * ((const T *)a)[i + 1]; b1 += r[i + 1] * ((const T *)b)[i + 1];      \
        }                                                                                        \
        for (; i < n; i++) { a0 += r[i] * ((const T *)a)[i]; b0 += r[i] * ((const T *)b)[i]; }   \
        out_a[j] = (double)(a0 + a1); out_b[j] = (double)(b0 + b1);                              \
    }

static void rows_dot2_portable(int dtype, int64_t count, int64_t n, const void *rows, const void *a,
                               const void *b, double *out_a, double *out_b) {
    if (dtype == EQ_F64) { ROWS_DOT2_PORTABLE(double) } else { ROWS_DOT2_PORTABLE(float) }
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma"))) static double hsum4(__m256d v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

__attribute__((target("avx2,fma"))) static double hsum8(__m256 v) {
    __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    return hsum4(_mm256_add_pd(lo, hi));
}

__attribute__((target("avx2,fma"))) static void rows_dot2_avx2(int dtype, int64_t count, int64_t n,
                                                               const void *rows, const void *a, const void *b,
                                                               double *out_a, double *out_b) {
    if (dtype == EQ_F64) {
        const double *pa = a, *pb = b;
        for (int64_t j = 0; j < count; j++) {
            const double *r = (const double *)rows + j * n;
            __m256d a0 = _mm256_setzero_pd(), a1 = a0, b0 = a0, b1 = a0;
            int64_t i = 0;
            for (; i + 8 <= n; i += 8) {
                __m256d r0 = _mm256_loadu_pd(r + i), r1 = _mm256_loadu_pd(r + i + 4);
                a0 = _mm256_fmadd_pd(r0, _mm256_loadu_pd(pa + i), a0);
                a1 = _mm256_fmadd_pd(r1, _mm256_loadu_pd(pa + i + 4), a1);
                b0 = _mm256_fmadd_pd(r0, _mm256_loadu_pd(pb + i), b0);
                b1 = _mm256_fmadd_pd(r1, _mm256_loadu_pd(pb + i + 4), b1);
            }
            double sa = hsum4(_mm256_add_pd(a0, a1)), sb = hsum4(_mm256_add_pd(b0, b1));
            for (; i < n; i++) { sa += r[i] * pa[i]; sb += r[i] * pb[i]; }
            out_a[j] = sa; out_b[j] = sb;
        }
    } else {
        const float *pa = a, *pb = b;
        for (int64_t j = 0; j < count; j++) {
            const float *r = (const float *)rows + j * n;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, b0 = a0, b1 = a0;
            int64_t i = 0;
            for (; i + 16 <= n; i += 16) {
                __m256 r0 = _mm256_loadu_ps(r + i), r1 = _mm256_loadu_ps(r + i + 8);
                a0 = _mm256_fmadd_ps(r0, _mm256_loadu_ps(pa + i), a0);
                a1 = _mm256_fmadd_ps(r1, _mm256_loadu_ps(pa + i + 8), a1);
                b0 = _mm256_fmadd_ps(r0, _mm256_loadu_ps(pb + i), b0);
                b1 = _mm256_fmadd_ps(r1, _mm256_loadu_ps(pb + i + 8), b1);
            }
            double sa = hsum8(_mm256_add_ps(a0, a1)), sb = hsum8(_mm256_add_ps(b0, b1));
            for (; i < n; i++) { sa += (double)(r[i] * pa[i]); sb += (double)(r[i] * pb[i]); }
            out_a[j] = sa; out_b[j] = sb;
        }
    }
}
#endif

void eq_rows_dot2(int dtype, int64_t count, int64_t n, const void *rows, const void *a, const void *b,
                  double *out_a, double *out_b) {
#if defined(__x86_64__) || defined(__i386__)
    if (eq_kernels_use_avx2()) {
        rows_dot2_avx2(dtype, count, n, rows, a, b, out_a, out_b);
        return;
    }
#endif
    rows_dot2_portable(dtype, count, n, rows, a, b, out_a, out_b);
}

// Per-row sum of squares and largest |value| of a contiguous [rows, n] array, for the solvers'
// residual norms (every iteration of every method). The sum keeps the order of the scalar loop
// it replaces (four interleaved partial sums, multiply then add), so norms are bit-identical;
// the max needs no order. A NaN anywhere makes the row's max NaN (the sum is NaN then too).
#define ROW_STATS_PORTABLE(T)                                                                    \
    for (int64_t r = 0; r < count; r++) {                                                        \
        const T *x = (const T *)data + r * n;                                                    \
        T s0 = 0, s1 = 0, s2 = 0, s3 = 0, m = 0;                                                 \
        int64_t i = 0;                                                                           \
        for (; i + 4 <= n; i += 4) {                                                             \
            s0 += x[i] * x[i]; s1 += x[i + 1] * x[i + 1];                                        \
            s2 += x[i + 2] * x[i + 2]; s3 += x[i + 3] * x[i + 3];                                \
        }                                                                                        \
        for (; i < n; i++) s0 += x[i] * x[i];                                                    \
        for (i = 0; i < n; i++) { T v = x[i] < 0 ? -x[i] : x[i]; if (v > m) m = v; }             \
        sum_squares[r] = (double)(s0 + s1) + (double)(s2 + s3);                                  \
        max_abs[r] = sum_squares[r] != sum_squares[r] ? sum_squares[r] : (double)m;              \
    }

static void row_stats_portable(int dtype, int64_t count, int64_t n, const void *data, double *sum_squares,
                               double *max_abs) {
    if (dtype == EQ_F64) { ROW_STATS_PORTABLE(double) } else { ROW_STATS_PORTABLE(float) }
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma"))) static void row_stats_avx2(int dtype, int64_t count, int64_t n,
                                                               const void *data, double *sum_squares,
                                                               double *max_abs) {
    if (dtype != EQ_F64) {
        // float32: four float lanes, as the four partial sums of the scalar loop.
        const __m128 fsign = _mm_set1_ps(-0.0f);
        for (int64_t r = 0; r < count; r++) {
            const float *x = (const float *)data + r * n;
            __m128 s = _mm_setzero_ps(), m = s;
            int64_t i = 0;
            for (; i + 4 <= n; i += 4) {
                __m128 v = _mm_loadu_ps(x + i);
                s = _mm_add_ps(s, _mm_mul_ps(v, v));
                m = _mm_max_ps(m, _mm_andnot_ps(fsign, v));
            }
            float lane[4], big[4];
            _mm_storeu_ps(lane, s);
            _mm_storeu_ps(big, m);
            float mx = big[0];
            for (int k = 1; k < 4; k++) if (big[k] > mx) mx = big[k];
            for (; i < n; i++) { lane[0] += x[i] * x[i]; float v = x[i] < 0 ? -x[i] : x[i]; if (v > mx) mx = v; }
            sum_squares[r] = (double)(lane[0] + lane[1]) + (double)(lane[2] + lane[3]);
            max_abs[r] = sum_squares[r] != sum_squares[r] ? sum_squares[r] : (double)mx;
        }
        return;
    }
    const __m256d sign = _mm256_set1_pd(-0.0);
    for (int64_t r = 0; r < count; r++) {
        const double *x = (const double *)data + r * n;
        __m256d s = _mm256_setzero_pd(), m = s;
        int64_t i = 0;
        for (; i + 4 <= n; i += 4) {
            __m256d v = _mm256_loadu_pd(x + i);
            s = _mm256_add_pd(s, _mm256_mul_pd(v, v));
            m = _mm256_max_pd(m, _mm256_andnot_pd(sign, v));
        }
        double lane[4], big[4];
        _mm256_storeu_pd(lane, s);
        _mm256_storeu_pd(big, m);
        double mx = big[0];
        for (int k = 1; k < 4; k++) if (big[k] > mx) mx = big[k];
        for (; i < n; i++) { lane[0] += x[i] * x[i]; double v = x[i] < 0 ? -x[i] : x[i]; if (v > mx) mx = v; }
        sum_squares[r] = (lane[0] + lane[1]) + (lane[2] + lane[3]);
        max_abs[r] = sum_squares[r] != sum_squares[r] ? sum_squares[r] : mx;
    }
}
#endif

void eq_row_stats(int dtype, int64_t count, int64_t n, const void *data, double *sum_squares, double *max_abs) {
#if defined(__x86_64__) || defined(__i386__)
    if (eq_kernels_use_avx2()) {
        row_stats_avx2(dtype, count, n, data, sum_squares, max_abs);
        return;
    }
#endif
    row_stats_portable(dtype, count, n, data, sum_squares, max_abs);
}
