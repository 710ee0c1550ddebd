// Index-driven kernels over [outer, n, inner] arrays: index_select/index_add along one axis and
// gather/scatter_add with a full index array. Each returns -1, or the flat position of the
// first out-of-range index so the caller can name it.
#include "iterate.h"
#include <string.h>

static int64_t first_bad(const int64_t *idx, int64_t count, int64_t n) {
    for (int64_t j = 0; j < count; j++)
        if (idx[j] < 0 || idx[j] >= n) return j;
    return -1;
}

int64_t eq_index_select(int dtype, int64_t outer, int64_t n, int64_t inner, const void *x,
                        const int64_t *idx, int64_t k, void *out) {
    int64_t bad = first_bad(idx, k, n);
    if (bad >= 0) return bad;
    const size_t es = eq_dtype_size(dtype);
    const size_t row = (size_t)inner * es;
    const int par = outer * k * inner >= eq_parallel_threshold();
#pragma omp parallel for num_threads(eq_get_num_threads()) if (par) schedule(static) collapse(2)
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < k; j++)
            memcpy((char *)out + ((size_t)(o * k + j)) * row,
                   (const char *)x + ((size_t)(o * n + idx[j])) * row, row);
    return -1;
}

#define ADD_ROWS(T)                                                            \
    do {                                                                       \
        const T *S = src; T *O = out;                                          \
        _Pragma("omp parallel for if (par) schedule(static) collapse(2)")      \
        for (int64_t o = 0; o < outer; o++)                                    \
            for (int64_t i = 0; i < inner; i++)                                \
                for (int64_t j = 0; j < k; j++)                                \
                    O[(o * n + idx[j]) * inner + i] += S[(o * k + j) * inner + i]; \
    } while (0)

int64_t eq_index_add(int dtype, int64_t outer, int64_t n, int64_t inner, const void *src,
                     const int64_t *idx, int64_t k, void *out) {
    int64_t bad = first_bad(idx, k, n);
    if (bad >= 0) return bad;
    // Threads split (outer, inner) so that two threads never add into the same element.
    const int par = outer * k * inner >= eq_parallel_threshold() && outer * inner > 1;
    if (inner == 1 || outer * inner < 2) {
        // Row-wise accumulation keeps the contiguous inner loop (embedding gradients).
        const size_t es = eq_dtype_size(dtype);
        (void)es;
        switch (dtype) {
        case EQ_F32: { const float *S = src; float *O = out;
            for (int64_t o = 0; o < outer; o++) for (int64_t j = 0; j < k; j++) for (int64_t i = 0; i < inner; i++)
                O[(o * n + idx[j]) * inner + i] += S[(o * k + j) * inner + i];
            break; }
        case EQ_F64: { const double *S = src; double *O = out;
            for (int64_t o = 0; o < outer; o++) for (int64_t j = 0; j < k; j++) for (int64_t i = 0; i < inner; i++)
                O[(o * n + idx[j]) * inner + i] += S[(o * k + j) * inner + i];
            break; }
        case EQ_I64: { const int64_t *S = src; int64_t *O = out;
            for (int64_t o = 0; o < outer; o++) for (int64_t j = 0; j < k; j++) for (int64_t i = 0; i < inner; i++)
                O[(o * n + idx[j]) * inner + i] += S[(o * k + j) * inner + i];
            break; }
        default: break;
        }
        return -1;
    }
    switch (dtype) {
    case EQ_F32: ADD_ROWS(float); break;
    case EQ_F64: ADD_ROWS(double); break;
    case EQ_I64: ADD_ROWS(int64_t); break;
    default: break;
    }
    return -1;
}

#define GATHER(T)                                                                  \
    do {                                                                           \
        const T *X = x; T *O = out;                                                \
        _Pragma("omp parallel for if (par) schedule(static)")                      \
        for (int64_t o = 0; o < outer; o++)                                        \
            for (int64_t j = 0; j < k; j++)                                        \
                for (int64_t i = 0; i < inner; i++) {                              \
                    int64_t p = (o * k + j) * inner + i;                           \
                    O[p] = X[(o * n + idx[p]) * inner + i];                        \
                }                                                                  \
    } while (0)

int64_t eq_gather(int dtype, int64_t outer, int64_t n, int64_t inner, const void *x,
                  const int64_t *idx, int64_t k, void *out) {
    int64_t bad = first_bad(idx, outer * k * inner, n);
    if (bad >= 0) return bad;
    const int par = outer * k * inner >= eq_parallel_threshold();
    switch (dtype) {
    case EQ_F32: GATHER(float); break;
    case EQ_F64: GATHER(double); break;
    case EQ_I64: GATHER(int64_t); break;
    default: GATHER(uint8_t); break;
    }
    return -1;
}

#define SCATTER_ADD(T)                                                             \
    do {                                                                           \
        const T *S = src; T *O = out;                                              \
        _Pragma("omp parallel for if (par) schedule(static)")                      \
        for (int64_t o = 0; o < outer; o++)                                        \
            for (int64_t j = 0; j < k; j++)                                        \
                for (int64_t i = 0; i < inner; i++) {                              \
                    int64_t p = (o * k + j) * inner + i;                           \
                    O[(o * n + idx[p]) * inner + i] += S[p];                       \
                }                                                                  \
    } while (0)

int64_t eq_scatter_add(int dtype, int64_t outer, int64_t n, int64_t inner, const void *src,
                       const int64_t *idx, int64_t k, void *out) {
    int64_t bad = first_bad(idx, outer * k * inner, n);
    if (bad >= 0) return bad;
    // Different o never collide, so threads split the outer axis.
    const int par = outer * k * inner >= eq_parallel_threshold() && outer > 1;
    switch (dtype) {
    case EQ_F32: SCATTER_ADD(float); break;
    case EQ_F64: SCATTER_ADD(double); break;
    case EQ_I64: SCATTER_ADD(int64_t); break;
    default: break;
    }
    return -1;
}
