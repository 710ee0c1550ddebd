// Reductions of a contiguous [outer, k, inner] array over its middle axis.
// Compiled once per instruction set (see kernels_isa.h).
#ifndef EQ_REDUCE_H
#define EQ_REDUCE_H
#include "kernels_isa.h"
#include "iterate.h"
#include "mathfun.h"
#include "simd.h"
#include <math.h>
#include <stdlib.h>

// One output element: reduce x[0], x[s], ..., x[(k-1)s]. ACC is the accumulator type.
#define REDUCE_ONE(T, ACC, EXPF)                                                           \
    static inline void reduce_one_##T(int op, int64_t k, const T *x, int64_t s, void *out, \
                                      int64_t oi) {                                        \
        switch (op) {                                                                      \
        case EQ_RSUM: {                                                                    \
            ACC acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;                                    \
            int64_t j = 0;                                                                 \
            if (s == 1) {                                                                  \
                for (; j + 4 <= k; j += 4) {                                               \
                    acc0 += (ACC)x[j]; acc1 += (ACC)x[j + 1];                              \
                    acc2 += (ACC)x[j + 2]; acc3 += (ACC)x[j + 3];                          \
                }                                                                          \
            }                                                                              \
            for (; j < k; j++) acc0 += (ACC)x[j * s];                                      \
            ((T *)out)[oi] = (T)((acc0 + acc1) + (acc2 + acc3));                           \
            break;                                                                         \
        }                                                                                  \
        case EQ_RSUMSQ: {                                                                  \
            ACC acc = 0;                                                                   \
            for (int64_t j = 0; j < k; j++) { ACC v = (ACC)x[j * s]; acc += v * v; }       \
            ((T *)out)[oi] = (T)acc;                                                       \
            break;                                                                         \
        }                                                                                  \
        case EQ_RPROD: {                                                                   \
            ACC acc = 1;                                                                   \
            for (int64_t j = 0; j < k; j++) acc *= (ACC)x[j * s];                          \
            ((T *)out)[oi] = (T)acc;                                                       \
            break;                                                                         \
        }                                                                                  \
        case EQ_RMAX: case EQ_RARGMAX: case EQ_RMIN: case EQ_RARGMIN: {                    \
            const int ismax = op == EQ_RMAX || op == EQ_RARGMAX;                           \
            T best = x[0];                                                                 \
            int64_t bi = 0;                                                                \
            for (int64_t j = 1; j < k; j++) {                                              \
                T v = x[j * s];                                                            \
                if (best != best) break; /* NaN wins, as in PyTorch */                     \
                if (v != v || (ismax ? v > best : v < best)) { best = v; bi = j; }         \
            }                                                                              \
            if (op == EQ_RMAX || op == EQ_RMIN) ((T *)out)[oi] = best;                     \
            else ((int64_t *)out)[oi] = bi;                                                \
            break;                                                                         \
        }                                                                                  \
        case EQ_RLOGSUMEXP: {                                                              \
            T m = x[0];                                                                    \
            for (int64_t j = 1; j < k; j++) { T v = x[j * s]; m = v > m ? v : m; }         \
            if (m == (T)INFINITY || m == (T)-INFINITY) { ((T *)out)[oi] = m; break; }      \
            ACC acc = 0;                                                                   \
            for (int64_t j = 0; j < k; j++) acc += (ACC)EXPF(x[j * s] - m);                \
            ((T *)out)[oi] = (T)((ACC)m + log(acc));                                       \
            break;                                                                         \
        }                                                                                  \
        default: break;                                                                    \
        }                                                                                  \
    }

REDUCE_ONE(float, double, eq_expf)
REDUCE_ONE(double, double, exp)

static inline void reduce_one_i64(int op, int64_t k, const int64_t *x, int64_t s, void *out,
                                  int64_t oi) {
    int64_t acc;
    switch (op) {
    case EQ_RSUM: acc = 0; for (int64_t j = 0; j < k; j++) acc += x[j * s]; ((int64_t *)out)[oi] = acc; break;
    case EQ_RSUMSQ: acc = 0; for (int64_t j = 0; j < k; j++) acc += x[j * s] * x[j * s]; ((int64_t *)out)[oi] = acc; break;
    case EQ_RPROD: acc = 1; for (int64_t j = 0; j < k; j++) acc *= x[j * s]; ((int64_t *)out)[oi] = acc; break;
    case EQ_RMAX: case EQ_RMIN: case EQ_RARGMAX: case EQ_RARGMIN: {
        const int ismax = op == EQ_RMAX || op == EQ_RARGMAX;
        int64_t best = x[0], bi = 0;
        for (int64_t j = 1; j < k; j++) {
            int64_t v = x[j * s];
            if (ismax ? v > best : v < best) { best = v; bi = j; }
        }
        ((int64_t *)out)[oi] = (op == EQ_RMAX || op == EQ_RMIN) ? best : bi;
        break;
    }
    default: break;
    }
}

static inline void reduce_one_bool(int op, int64_t k, const uint8_t *x, int64_t s, void *out,
                                   int64_t oi) {
    uint8_t r = op == EQ_RALL;
    for (int64_t j = 0; j < k; j++) {
        if (op == EQ_RANY && x[j * s]) { r = 1; break; }
        if (op == EQ_RALL && !x[j * s]) { r = 0; break; }
    }
    if (op == EQ_RANY || op == EQ_RALL) ((uint8_t *)out)[oi] = r;
    else if (op == EQ_RSUM) {
        int64_t c = 0;
        for (int64_t j = 0; j < k; j++) c += x[j * s] != 0;
        ((int64_t *)out)[oi] = c;
    } else if (op == EQ_RPROD) {
        uint8_t p = 1;
        for (int64_t j = 0; j < k; j++) if (!x[j * s]) { p = 0; break; }
        ((uint8_t *)out)[oi] = p;
    } else if (op == EQ_RMAX || op == EQ_RMIN || op == EQ_RARGMAX || op == EQ_RARGMIN) {
        // The extreme of 0/1 values is the first element equal to 1 (max) or 0 (min), else element 0.
        const uint8_t want = op == EQ_RMAX || op == EQ_RARGMAX;
        int64_t bi = 0;
        for (int64_t j = 0; j < k; j++) if ((x[j * s] != 0) == want) { bi = j; break; }
        if (op == EQ_RMAX || op == EQ_RMIN) ((uint8_t *)out)[oi] = x[bi * s] != 0;
        else ((int64_t *)out)[oi] = bi;
    }
}

static void reduce_slice(int op, int dtype, int64_t k, const char *x, int64_t s, void *out,
                         int64_t oi) {
    if (dtype == EQ_F32 && op == EQ_RSUM && s == 1) {
        ((float *)out)[oi] = (float)eq_sum_f32((const float *)x, k);
        return;
    }
    switch (dtype) {
    case EQ_F32: reduce_one_float(op, k, (const float *)x, s, out, oi); break;
    case EQ_F64: reduce_one_double(op, k, (const double *)x, s, out, oi); break;
    case EQ_I64: reduce_one_i64(op, k, (const int64_t *)x, s, out, oi); break;
    default: reduce_one_bool(op, k, (const uint8_t *)x, s, out, oi); break;
    }
}

typedef struct {
    const float *x;
    int64_t k, chunk;
    double *part;
} sum_job;

static void sum_chunks(int64_t lo, int64_t hi, void *vjob) {
    const sum_job *j = vjob;
    for (int64_t c = lo; c < hi; c++) {
        int64_t a = c * j->chunk, b = a + j->chunk < j->k ? a + j->chunk : j->k;
        j->part[c] = eq_sum_f32(j->x + a, b - a);
    }
}

// A full float sum of one long row, split across threads with double partials.
static int sum_long_row(int dtype, int64_t k, const void *x, void *out, int64_t oi) {
    if (dtype != EQ_F32 && dtype != EQ_F64) return 0;
    double total = 0.0;
    if (dtype == EQ_F32) {
        const float *X = x;
        // Fixed 64K-element chunks, handed out dynamically, with their partial sums added in
        // order afterwards: the result depends on neither timing nor the thread count.
        enum { CHUNK = 1 << 16, MAX_CHUNKS = 4096 };
        const int64_t chunk = k / MAX_CHUNKS + 1 > CHUNK ? ((k / MAX_CHUNKS + 1 + 15) & ~(int64_t)15) : CHUNK;
        const int64_t nchunks = (k + chunk - 1) / chunk;
        double part[MAX_CHUNKS];
        sum_job job = {X, k, chunk, part};
        eq_parallel_chunks(nchunks, 1, 1, sum_chunks, &job);
        for (int64_t c = 0; c < nchunks; c++) total += part[c];
        ((float *)out)[oi] = (float)total;
    } else {
        const double *X = x;
#pragma omp parallel for num_threads(eq_get_num_threads()) reduction(+ : total) schedule(static)
        for (int64_t j = 0; j < k; j++) total += X[j];
        ((double *)out)[oi] = total;
    }
    return 1;
}

// One block of up to 256 outputs of a middle-axis sum. A function of its own (not the body of
// the OpenMP loop) so that it keeps the kernel's target attribute: outlined OpenMP regions are
// compiled for the baseline CPU.
static void sum_middle_block(int dtype, const char *X, void *out, int64_t k, int64_t inner,
                             int64_t o, int64_t blk) {
    int64_t i0 = blk * 256, i1 = i0 + 256 < inner ? i0 + 256 : inner;
    if (dtype == EQ_F32) {
        const float *src = (const float *)X + o * k * inner;
        float *dst = (float *)out + o * inner;
        double acc[256];
        for (int64_t i = i0; i < i1; i++) acc[i - i0] = 0.0;
        for (int64_t j = 0; j < k; j++)
            for (int64_t i = i0; i < i1; i++) acc[i - i0] += src[j * inner + i];
        for (int64_t i = i0; i < i1; i++) dst[i] = (float)acc[i - i0];
    } else {
        const double *src = (const double *)X + o * k * inner;
        double *dst = (double *)out + o * inner;
        for (int64_t i = i0; i < i1; i++) dst[i] = 0.0;
        for (int64_t j = 0; j < k; j++)
            for (int64_t i = i0; i < i1; i++) dst[i] += src[j * inner + i];
    }
}

void EQ_ISA(eq_reduce)(int op, int dtype, int64_t outer, int64_t k, int64_t inner,
               const void *x, void *out) {
    const size_t es = eq_dtype_size(dtype);
    const char *X = x;
    const int64_t nout = outer * inner;
    if (nout == 0) return;
    if (k == 0) {
        // Empty reductions: the identity where there is one.
        double v = (op == EQ_RPROD || op == EQ_RALL) ? 1.0 : 0.0;
        int odt = (op == EQ_RARGMAX || op == EQ_RARGMIN) ? EQ_I64 : dtype;
        if (op == EQ_RLOGSUMEXP) v = -INFINITY;
        eq_fill(odt, nout, out, v);
        return;
    }
    const int64_t work = nout * k;
    const int par = work >= eq_parallel_threshold() && eq_get_num_threads() > 1;
    if (nout == 1 && op == EQ_RSUM && par && sum_long_row(dtype, k, x, out, 0)) return;
    if (inner == 1) {
#pragma omp parallel for num_threads(eq_get_num_threads()) if (par) schedule(static)
        for (int64_t o = 0; o < outer; o++) reduce_slice(op, dtype, k, X + o * k * es, 1, out, o);
        return;
    }
    // Reducing a middle axis: sum whole rows into the output so the inner loop is contiguous.
    if (op == EQ_RSUM && (dtype == EQ_F32 || dtype == EQ_F64)) {
#pragma omp parallel for num_threads(eq_get_num_threads()) if (par) schedule(static) collapse(2)
        for (int64_t o = 0; o < outer; o++)
            for (int64_t blk = 0; blk < (inner + 255) / 256; blk++)
                sum_middle_block(dtype, X, out, k, inner, o, blk);
        return;
    }
#pragma omp parallel for num_threads(eq_get_num_threads()) if (par) schedule(static) collapse(2)
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++)
            reduce_slice(op, dtype, k, X + (o * k * inner + i) * es, inner, out, o * inner + i);
}

#endif
