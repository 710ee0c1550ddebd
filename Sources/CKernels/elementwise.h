// Unary, binary, where, copy/convert, fill and axpy kernels over strided operands.
// Compiled once per instruction set (see kernels_isa.h): public entry points are named EQ_ISA(...).
#ifndef EQ_ELEMENTWISE_H
#define EQ_ELEMENTWISE_H
#include "kernels_isa.h"
#include "iterate.h"
#include "mathfun.h"
#include "stream.h"
#include <math.h>

typedef struct { int op; double p0, p1; int stream; } unary_ctx;
typedef struct { int op; int stream; } binary_ctx;

// Contiguous rows get their own loop so clang vectorizes them; strided rows take the plain loop.
#define ROW_LOOP1(T, U, EXPR)                                                        \
    do {                                                                               \
        const T *x = (const T *)ptr[0];                                                \
        U *y = (U *)ptr[1];                                                            \
        const int64_t sx = st[0], sy = st[1];                                          \
        if (sx == 1 && sy == 1 && stream) {                                            \
            int64_t i = 0;                                                             \
            for (; i < n && !eq_aligned32(y + i); i++) { T v = x[i]; y[i] = (U)(EXPR); } \
            _Alignas(32) U blk[EQ_STREAM_BLOCK];                                       \
            for (; i + EQ_STREAM_BLOCK <= n; i += EQ_STREAM_BLOCK) {                   \
                for (int64_t j = 0; j < EQ_STREAM_BLOCK; j++) { T v = x[i + j]; blk[j] = (U)(EXPR); } \
                eq_stream_copy(y + i, blk, sizeof blk);                                \
            }                                                                          \
            for (; i < n; i++) { T v = x[i]; y[i] = (U)(EXPR); }                       \
            eq_stream_fence();                                                         \
        } else if (sx == 1 && sy == 1) {                                               \
            for (int64_t i = 0; i < n; i++) { T v = x[i]; y[i] = (U)(EXPR); }          \
        } else {                                                                       \
            for (int64_t i = 0; i < n; i++) { T v = x[i * sx]; y[i * sy] = (U)(EXPR); } \
        }                                                                              \
    } while (0)

static void unary_f32(int64_t n, char *const *ptr, const int64_t *st, const void *vctx) {
    const unary_ctx *c = vctx;
    const int stream = c->stream;
    const float p0 = (float)c->p0, p1 = (float)c->p1;
    switch (c->op) {
    case EQ_NEG: ROW_LOOP1(float, float, -v); break;
    case EQ_EXP: ROW_LOOP1(float, float, eq_expf(v)); break;
    case EQ_LOG: ROW_LOOP1(float, float, eq_logf(v)); break;
    case EQ_LOG1P: ROW_LOOP1(float, float, eq_log1pf(v)); break;
    case EQ_EXPM1: ROW_LOOP1(float, float, eq_expm1f(v)); break;
    case EQ_TANH: ROW_LOOP1(float, float, eq_tanhf(v)); break;
    case EQ_SIGMOID: ROW_LOOP1(float, float, eq_sigmoidf(v)); break;
    case EQ_RELU: ROW_LOOP1(float, float, v > 0.0f ? v : 0.0f); break;
    case EQ_GELU: ROW_LOOP1(float, float, eq_geluf(v)); break;
    case EQ_GELU_GRAD: ROW_LOOP1(float, float, eq_gelu_gradf(v)); break;
    case EQ_SOFTPLUS: ROW_LOOP1(float, float, eq_softplusf(v)); break;
    case EQ_SQRT: ROW_LOOP1(float, float, sqrtf(v)); break;
    case EQ_RSQRT: ROW_LOOP1(float, float, 1.0f / sqrtf(v)); break;
    case EQ_ABS: ROW_LOOP1(float, float, fabsf(v)); break;
    case EQ_SIGN: ROW_LOOP1(float, float, v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : (v == 0.0f ? 0.0f : v))); break;
    case EQ_SQUARE: ROW_LOOP1(float, float, v * v); break;
    case EQ_RECIPROCAL: ROW_LOOP1(float, float, 1.0f / v); break;
    case EQ_SIN: ROW_LOOP1(float, float, sinf(v)); break;
    case EQ_COS: ROW_LOOP1(float, float, cosf(v)); break;
    case EQ_ERF: ROW_LOOP1(float, float, eq_erff(v)); break;
    case EQ_CLAMP: ROW_LOOP1(float, float, v != v ? v : fminf(fmaxf(v, p0), p1)); break;
    case EQ_AFFINE: ROW_LOOP1(float, float, v * p0 + p1); break;
    case EQ_POW_SCALAR:
        if (p0 == 2.0f) ROW_LOOP1(float, float, v * v);
        else if (p0 == 0.5f) ROW_LOOP1(float, float, sqrtf(v));
        else if (p0 == 1.0f) ROW_LOOP1(float, float, v);
        else if (p0 == -1.0f) ROW_LOOP1(float, float, 1.0f / v);
        else ROW_LOOP1(float, float, powf(v, p0));
        break;
    default: break;
    }
}

static void unary_f64(int64_t n, char *const *ptr, const int64_t *st, const void *vctx) {
    const unary_ctx *c = vctx;
    const int stream = c->stream;
    const double p0 = c->p0, p1 = c->p1;
    switch (c->op) {
    case EQ_NEG: ROW_LOOP1(double, double, -v); break;
    case EQ_EXP: ROW_LOOP1(double, double, exp(v)); break;
    case EQ_LOG: ROW_LOOP1(double, double, log(v)); break;
    case EQ_LOG1P: ROW_LOOP1(double, double, log1p(v)); break;
    case EQ_EXPM1: ROW_LOOP1(double, double, expm1(v)); break;
    case EQ_TANH: ROW_LOOP1(double, double, tanh(v)); break;
    case EQ_SIGMOID: ROW_LOOP1(double, double, eq_sigmoid(v)); break;
    case EQ_RELU: ROW_LOOP1(double, double, v > 0.0 ? v : 0.0); break;
    case EQ_GELU: ROW_LOOP1(double, double, eq_gelu(v)); break;
    case EQ_GELU_GRAD: ROW_LOOP1(double, double, eq_gelu_grad(v)); break;
    case EQ_SOFTPLUS: ROW_LOOP1(double, double, eq_softplus(v)); break;
    case EQ_SQRT: ROW_LOOP1(double, double, sqrt(v)); break;
    case EQ_RSQRT: ROW_LOOP1(double, double, 1.0 / sqrt(v)); break;
    case EQ_ABS: ROW_LOOP1(double, double, fabs(v)); break;
    case EQ_SIGN: ROW_LOOP1(double, double, v > 0.0 ? 1.0 : (v < 0.0 ? -1.0 : (v == 0.0 ? 0.0 : v))); break;
    case EQ_SQUARE: ROW_LOOP1(double, double, v * v); break;
    case EQ_RECIPROCAL: ROW_LOOP1(double, double, 1.0 / v); break;
    case EQ_SIN: ROW_LOOP1(double, double, sin(v)); break;
    case EQ_COS: ROW_LOOP1(double, double, cos(v)); break;
    case EQ_ERF: ROW_LOOP1(double, double, erf(v)); break;
    case EQ_CLAMP: ROW_LOOP1(double, double, v != v ? v : fmin(fmax(v, p0), p1)); break;
    case EQ_AFFINE: ROW_LOOP1(double, double, v * p0 + p1); break;
    case EQ_POW_SCALAR:
        if (p0 == 2.0) ROW_LOOP1(double, double, v * v);
        else if (p0 == 1.0) ROW_LOOP1(double, double, v);
        else ROW_LOOP1(double, double, pow(v, p0));
        break;
    default: break;
    }
}

static void unary_i64(int64_t n, char *const *ptr, const int64_t *st, const void *vctx) {
    const unary_ctx *c = vctx;
    const int stream = c->stream;
    const int64_t p0 = (int64_t)c->p0, p1 = (int64_t)c->p1;
    const double lo = c->p0, hi = c->p1;
    switch (c->op) {
    case EQ_NEG: ROW_LOOP1(int64_t, int64_t, -v); break;
    case EQ_ABS: ROW_LOOP1(int64_t, int64_t, v < 0 ? -v : v); break;
    case EQ_SIGN: ROW_LOOP1(int64_t, int64_t, (v > 0) - (v < 0)); break;
    case EQ_SQUARE: ROW_LOOP1(int64_t, int64_t, v * v); break;
    case EQ_RELU: ROW_LOOP1(int64_t, int64_t, v > 0 ? v : 0); break;
    case EQ_CLAMP: ROW_LOOP1(int64_t, int64_t, (double)v < lo ? (int64_t)lo : ((double)v > hi ? (int64_t)hi : v)); break;
    case EQ_AFFINE: ROW_LOOP1(int64_t, int64_t, v * p0 + p1); break;
    default: break;
    }
}

static void unary_bool(int64_t n, char *const *ptr, const int64_t *st, const void *vctx) {
    const unary_ctx *c = vctx;
    const int stream = c->stream;
    if (c->op == EQ_LOGICAL_NOT) ROW_LOOP1(uint8_t, uint8_t, !v);
}

void EQ_ISA(eq_unary)(int op, int dtype, int ndim, const int64_t *shape,
              const void *x, const int64_t *xs, void *y, const int64_t *ys,
              double p0, double p1) {
    const int64_t *strides[2] = {xs, ys};
    eq_iter it;
    eq_iter_init(&it, ndim, shape, 2, strides);
    char *base[2] = {(char *)x, (char *)y};
    size_t es = eq_dtype_size(dtype);
    size_t elsize[2] = {es, es};
    unary_ctx ctx = {op, p0, p1, eq_should_stream(eq_iter_numel(&it) * (int64_t)(2 * es))};
    eq_row_fn fn = dtype == EQ_F32 ? unary_f32 : dtype == EQ_F64 ? unary_f64
                 : dtype == EQ_I64 ? unary_i64 : unary_bool;
    eq_iter_run(&it, base, elsize, fn, &ctx);
}

// ---------------------------------------------------------------- binary

#define ROW_LOOP2(T, U, EXPR)                                                          \
    do {                                                                               \
        const T *A = (const T *)ptr[0];                                                \
        const T *B = (const T *)ptr[1];                                                \
        U *O = (U *)ptr[2];                                                            \
        const int64_t sa = st[0], sb = st[1], so = st[2];                              \
        if (sa == 1 && sb == 1 && so == 1 && stream) {                                 \
            int64_t i = 0;                                                             \
            for (; i < n && !eq_aligned32(O + i); i++) { T a = A[i], b = B[i]; O[i] = (U)(EXPR); } \
            _Alignas(32) U blk[EQ_STREAM_BLOCK];                                       \
            for (; i + EQ_STREAM_BLOCK <= n; i += EQ_STREAM_BLOCK) {                   \
                for (int64_t j = 0; j < EQ_STREAM_BLOCK; j++) {                        \
                    T a = A[i + j], b = B[i + j]; blk[j] = (U)(EXPR);                  \
                }                                                                      \
                eq_stream_copy(O + i, blk, sizeof blk);                                \
            }                                                                          \
            for (; i < n; i++) { T a = A[i], b = B[i]; O[i] = (U)(EXPR); }             \
            eq_stream_fence();                                                         \
        } else if (sa == 1 && sb == 1 && so == 1) {                                    \
            for (int64_t i = 0; i < n; i++) { T a = A[i], b = B[i]; O[i] = (U)(EXPR); } \
        } else if (sa == 1 && sb == 0 && so == 1) {                                    \
            const T b = B[0];                                                          \
            for (int64_t i = 0; i < n; i++) { T a = A[i]; O[i] = (U)(EXPR); }          \
        } else if (sa == 0 && sb == 1 && so == 1) {                                    \
            const T a = A[0];                                                          \
            for (int64_t i = 0; i < n; i++) { T b = B[i]; O[i] = (U)(EXPR); }          \
        } else {                                                                       \
            for (int64_t i = 0; i < n; i++) {                                          \
                T a = A[i * sa], b = B[i * sb];                                        \
                O[i * so] = (U)(EXPR);                                                 \
            }                                                                          \
        }                                                                              \
    } while (0)

#define BINARY_COMMON(T)                                                  \
    case EQ_ADD: ROW_LOOP2(T, T, a + b); break;                           \
    case EQ_SUB: ROW_LOOP2(T, T, a - b); break;                           \
    case EQ_MUL: ROW_LOOP2(T, T, a * b); break;                           \
    case EQ_EQ: ROW_LOOP2(T, uint8_t, a == b); break;                     \
    case EQ_NE: ROW_LOOP2(T, uint8_t, a != b); break;                     \
    case EQ_LT: ROW_LOOP2(T, uint8_t, a < b); break;                      \
    case EQ_LE: ROW_LOOP2(T, uint8_t, a <= b); break;                     \
    case EQ_GT: ROW_LOOP2(T, uint8_t, a > b); break;                      \
    case EQ_GE: ROW_LOOP2(T, uint8_t, a >= b); break;

// add, sub, mul and div over contiguous rows with streaming stores straight from the vector
// registers: for these memory-bound ops even the L1 round trip of the block path costs a third.
#ifdef EQ_AVX2
#define STREAM_ARITH(T, V, LOAD, STORE, ADD, SUB, MUL, DIV)                                   \
    static int stream_arith_##T(int op, int64_t n, const T *A, const T *B, T *O) {              \
        if (op != EQ_ADD && op != EQ_SUB && op != EQ_MUL && op != EQ_DIV) return 0;            \
        const int64_t lanes = 32 / sizeof(T);                                                   \
        int64_t i = 0;                                                                          \
        for (; i < n && !eq_aligned32(O + i); i++)                                              \
            O[i] = op == EQ_ADD ? A[i] + B[i] : op == EQ_SUB ? A[i] - B[i]                      \
                 : op == EQ_MUL ? A[i] * B[i] : A[i] / B[i];                                    \
        switch (op) {                                                                           \
        case EQ_ADD: for (; i + lanes <= n; i += lanes) STORE(O + i, ADD(LOAD(A + i), LOAD(B + i))); break; \
        case EQ_SUB: for (; i + lanes <= n; i += lanes) STORE(O + i, SUB(LOAD(A + i), LOAD(B + i))); break; \
        case EQ_MUL: for (; i + lanes <= n; i += lanes) STORE(O + i, MUL(LOAD(A + i), LOAD(B + i))); break; \
        default: for (; i + lanes <= n; i += lanes) STORE(O + i, DIV(LOAD(A + i), LOAD(B + i))); break;     \
        }                                                                                       \
        for (; i < n; i++)                                                                      \
            O[i] = op == EQ_ADD ? A[i] + B[i] : op == EQ_SUB ? A[i] - B[i]                      \
                 : op == EQ_MUL ? A[i] * B[i] : A[i] / B[i];                                    \
        eq_stream_fence();                                                                      \
        return 1;                                                                               \
    }
STREAM_ARITH(float, __m256, _mm256_loadu_ps, _mm256_stream_ps, _mm256_add_ps, _mm256_sub_ps,
             _mm256_mul_ps, _mm256_div_ps)
STREAM_ARITH(double, __m256d, _mm256_loadu_pd, _mm256_stream_pd, _mm256_add_pd, _mm256_sub_pd,
             _mm256_mul_pd, _mm256_div_pd)
#else
static int stream_arith_float(int op, int64_t n, const float *A, const float *B, float *O) { return 0; }
static int stream_arith_double(int op, int64_t n, const double *A, const double *B, double *O) { return 0; }
#endif

static void binary_f32(int64_t n, char *const *ptr, const int64_t *st, const void *vctx) {
    const binary_ctx *c = vctx;
    const int stream = c->stream;
    if (stream && st[0] == 1 && st[1] == 1 && st[2] == 1 &&
        stream_arith_float(c->op, n, (const float *)ptr[0], (const float *)ptr[1], (float *)ptr[2]))
        return;
    switch (c->op) {
    BINARY_COMMON(float)
    case EQ_DIV: ROW_LOOP2(float, float, a / b); break;
    case EQ_POW: ROW_LOOP2(float, float, powf(a, b)); break;
    // NaN propagates like PyTorch's maximum/minimum.
    case EQ_MAXIMUM: ROW_LOOP2(float, float, (a != a || b != b) ? a + b : (a > b ? a : b)); break;
    case EQ_MINIMUM: ROW_LOOP2(float, float, (a != a || b != b) ? a + b : (a < b ? a : b)); break;
    case EQ_ATAN2: ROW_LOOP2(float, float, atan2f(a, b)); break;
    case EQ_TANH_BWD: ROW_LOOP2(float, float, a * (1.0f - b * b)); break;
    case EQ_SIGMOID_BWD: ROW_LOOP2(float, float, a * b * (1.0f - b)); break;
    case EQ_RELU_BWD: ROW_LOOP2(float, float, b > 0.0f ? a : 0.0f); break;
    case EQ_GELU_BWD: ROW_LOOP2(float, float, a * eq_gelu_gradf(b)); break;
    case EQ_SOFTPLUS_BWD: ROW_LOOP2(float, float, a * eq_sigmoidf(b)); break;
    default: break;
    }
}

static void binary_f64(int64_t n, char *const *ptr, const int64_t *st, const void *vctx) {
    const binary_ctx *c = vctx;
    const int stream = c->stream;
    if (stream && st[0] == 1 && st[1] == 1 && st[2] == 1 &&
        stream_arith_double(c->op, n, (const double *)ptr[0], (const double *)ptr[1], (double *)ptr[2]))
        return;
    switch (c->op) {
    BINARY_COMMON(double)
    case EQ_DIV: ROW_LOOP2(double, double, a / b); break;
    case EQ_POW: ROW_LOOP2(double, double, pow(a, b)); break;
    case EQ_MAXIMUM: ROW_LOOP2(double, double, (a != a || b != b) ? a + b : (a > b ? a : b)); break;
    case EQ_MINIMUM: ROW_LOOP2(double, double, (a != a || b != b) ? a + b : (a < b ? a : b)); break;
    case EQ_ATAN2: ROW_LOOP2(double, double, atan2(a, b)); break;
    case EQ_TANH_BWD: ROW_LOOP2(double, double, a * (1.0 - b * b)); break;
    case EQ_SIGMOID_BWD: ROW_LOOP2(double, double, a * b * (1.0 - b)); break;
    case EQ_RELU_BWD: ROW_LOOP2(double, double, b > 0.0 ? a : 0.0); break;
    case EQ_GELU_BWD: ROW_LOOP2(double, double, a * eq_gelu_grad(b)); break;
    case EQ_SOFTPLUS_BWD: ROW_LOOP2(double, double, a * eq_sigmoid(b)); break;
    default: break;
    }
}

static inline int64_t ipow(int64_t a, int64_t b) {
    if (b < 0) return a == 1 ? 1 : (a == -1 ? ((b & 1) ? -1 : 1) : 0);
    int64_t r = 1;
    while (b) { if (b & 1) r *= a; a *= a; b >>= 1; }
    return r;
}

static void binary_i64(int64_t n, char *const *ptr, const int64_t *st, const void *vctx) {
    const binary_ctx *c = vctx;
    const int stream = c->stream;
    switch (c->op) {
    BINARY_COMMON(int64_t)
    // Integer division floors like Python's //; division by zero gives 0 instead of a trap.
    case EQ_DIV: ROW_LOOP2(int64_t, int64_t, b == 0 ? 0 : (a / b - ((a % b != 0) && ((a < 0) != (b < 0))))); break;
    case EQ_POW: ROW_LOOP2(int64_t, int64_t, ipow(a, b)); break;
    case EQ_MAXIMUM: ROW_LOOP2(int64_t, int64_t, a > b ? a : b); break;
    case EQ_MINIMUM: ROW_LOOP2(int64_t, int64_t, a < b ? a : b); break;
    default: break;
    }
}

static void binary_bool(int64_t n, char *const *ptr, const int64_t *st, const void *vctx) {
    const binary_ctx *c = vctx;
    const int stream = c->stream;
    switch (c->op) {
    case EQ_AND: case EQ_MUL: case EQ_MINIMUM: ROW_LOOP2(uint8_t, uint8_t, a & b); break;
    case EQ_OR: case EQ_ADD: case EQ_MAXIMUM: ROW_LOOP2(uint8_t, uint8_t, a | b); break;
    case EQ_XOR: case EQ_NE: ROW_LOOP2(uint8_t, uint8_t, a ^ b); break;
    case EQ_EQ: ROW_LOOP2(uint8_t, uint8_t, a == b); break;
    case EQ_LT: ROW_LOOP2(uint8_t, uint8_t, a < b); break;
    case EQ_LE: ROW_LOOP2(uint8_t, uint8_t, a <= b); break;
    case EQ_GT: ROW_LOOP2(uint8_t, uint8_t, a > b); break;
    case EQ_GE: ROW_LOOP2(uint8_t, uint8_t, a >= b); break;
    default: break;
    }
}

void EQ_ISA(eq_binary)(int op, int dtype, int ndim, const int64_t *shape,
               const void *a, const int64_t *as, const void *b, const int64_t *bs,
               void *out, const int64_t *os) {
    const int64_t *strides[3] = {as, bs, os};
    eq_iter it;
    eq_iter_init(&it, ndim, shape, 3, strides);
    char *base[3] = {(char *)a, (char *)b, (char *)out};
    size_t es = eq_dtype_size(dtype);
    int compare = op >= EQ_EQ && op <= EQ_GE;
    size_t elsize[3] = {es, es, compare ? 1 : es};
    eq_row_fn fn = dtype == EQ_F32 ? binary_f32 : dtype == EQ_F64 ? binary_f64
                 : dtype == EQ_I64 ? binary_i64 : binary_bool;
    binary_ctx ctx = {op, eq_should_stream(eq_iter_numel(&it) * (int64_t)(elsize[0] + elsize[1] + elsize[2]))};
    eq_iter_run(&it, base, elsize, fn, &ctx);
}

// ---------------------------------------------------------------- where

#define WHERE_ROW(T)                                                                      \
    static void where_##T(int64_t n, char *const *ptr, const int64_t *st, const void *c) { \
        (void)c;                                                                          \
        const uint8_t *C = (const uint8_t *)ptr[0];                                       \
        const T *A = (const T *)ptr[1];                                                   \
        const T *B = (const T *)ptr[2];                                                   \
        T *O = (T *)ptr[3];                                                               \
        for (int64_t i = 0; i < n; i++)                                                   \
            O[i * st[3]] = C[i * st[0]] ? A[i * st[1]] : B[i * st[2]];                    \
    }
typedef uint8_t u8;
WHERE_ROW(float)
WHERE_ROW(double)
WHERE_ROW(int64_t)
WHERE_ROW(u8)

void EQ_ISA(eq_where)(int dtype, int ndim, const int64_t *shape,
              const uint8_t *cond, const int64_t *cs, const void *a, const int64_t *as,
              const void *b, const int64_t *bs, void *out, const int64_t *os) {
    const int64_t *strides[4] = {cs, as, bs, os};
    eq_iter it;
    eq_iter_init(&it, ndim, shape, 4, strides);
    char *base[4] = {(char *)cond, (char *)a, (char *)b, (char *)out};
    size_t es = eq_dtype_size(dtype);
    size_t elsize[4] = {1, es, es, es};
    eq_row_fn fn = dtype == EQ_F32 ? where_float : dtype == EQ_F64 ? where_double
                 : dtype == EQ_I64 ? where_int64_t : where_u8;
    eq_iter_run(&it, base, elsize, fn, NULL);
}

// ---------------------------------------------------------------- copy / convert

#define COPY_ROW(S, D)                                                                        \
    static void copy_##S##_##D(int64_t n, char *const *ptr, const int64_t *st, const void *c) { \
        (void)c;                                                                              \
        const S *x = (const S *)ptr[0];                                                       \
        D *y = (D *)ptr[1];                                                                   \
        if (st[0] == 1 && st[1] == 1) {                                                       \
            for (int64_t i = 0; i < n; i++) y[i] = (D)x[i];                                   \
        } else {                                                                              \
            for (int64_t i = 0; i < n; i++) y[i * st[1]] = (D)x[i * st[0]];                   \
        }                                                                                     \
    }
#define COPY_FROM(S) COPY_ROW(S, float) COPY_ROW(S, double) COPY_ROW(S, int64_t) COPY_ROW(S, u8)
COPY_FROM(float)
COPY_FROM(double)
COPY_FROM(int64_t)
COPY_FROM(u8)

// Float to bool must test != 0 rather than truncate.
static void copy_to_bool_f32(int64_t n, char *const *ptr, const int64_t *st, const void *c) {
    (void)c;
    const float *x = (const float *)ptr[0];
    u8 *y = (u8 *)ptr[1];
    for (int64_t i = 0; i < n; i++) y[i * st[1]] = x[i * st[0]] != 0.0f;
}
static void copy_to_bool_f64(int64_t n, char *const *ptr, const int64_t *st, const void *c) {
    (void)c;
    const double *x = (const double *)ptr[0];
    u8 *y = (u8 *)ptr[1];
    for (int64_t i = 0; i < n; i++) y[i * st[1]] = x[i * st[0]] != 0.0;
}
static void copy_to_bool_i64(int64_t n, char *const *ptr, const int64_t *st, const void *c) {
    (void)c;
    const int64_t *x = (const int64_t *)ptr[0];
    u8 *y = (u8 *)ptr[1];
    for (int64_t i = 0; i < n; i++) y[i * st[1]] = x[i * st[0]] != 0;
}

static eq_row_fn copy_fn(int s, int d) {
    static const eq_row_fn table[4][4] = {
        {copy_float_float, copy_float_double, copy_float_int64_t, copy_to_bool_f32},
        {copy_double_float, copy_double_double, copy_double_int64_t, copy_to_bool_f64},
        {copy_int64_t_float, copy_int64_t_double, copy_int64_t_int64_t, copy_to_bool_i64},
        {copy_u8_float, copy_u8_double, copy_u8_int64_t, copy_u8_u8},
    };
    return table[s][d];
}

void EQ_ISA(eq_copy)(int src_dtype, int dst_dtype, int ndim, const int64_t *shape,
             const void *src, const int64_t *ss, void *dst, const int64_t *ds) {
    const int64_t *strides[2] = {ss, ds};
    eq_iter it;
    eq_iter_init(&it, ndim, shape, 2, strides);
    char *base[2] = {(char *)src, (char *)dst};
    size_t elsize[2] = {eq_dtype_size(src_dtype), eq_dtype_size(dst_dtype)};
    eq_iter_run(&it, base, elsize, copy_fn(src_dtype, dst_dtype), NULL);
}

// ---------------------------------------------------------------- fill, arange, axpy

// The loops run in range functions handed to eq_parallel_chunks rather than inside an OpenMP
// region: clang compiles an outlined region for the baseline CPU whatever the enclosing
// function's target attribute, so a loop written in the region would lose AVX2 (and FMA).
// One chunk per thread keeps the static split the kernels used before.
static inline int64_t static_chunk(int64_t n) {
    const int64_t t = eq_get_num_threads();
    const int64_t c = (((n + t - 1) / t) + 15) & ~(int64_t)15;
    return c < 16 ? 16 : c;
}

typedef struct { int dtype; double value; void *out; } fill_job;

static void fill_range(int64_t lo, int64_t hi, void *vjob) {
    const fill_job *j = vjob;
    switch (j->dtype) {
    case EQ_F32: { const float v = (float)j->value; float *o = j->out; for (int64_t i = lo; i < hi; i++) o[i] = v; break; }
    case EQ_F64: { const double v = j->value; double *o = j->out; for (int64_t i = lo; i < hi; i++) o[i] = v; break; }
    case EQ_I64: { const int64_t v = (int64_t)j->value; int64_t *o = j->out; for (int64_t i = lo; i < hi; i++) o[i] = v; break; }
    default: { const u8 v = j->value != 0.0; u8 *o = j->out; for (int64_t i = lo; i < hi; i++) o[i] = v; break; }
    }
}

void EQ_ISA(eq_fill)(int dtype, int64_t n, void *out, double value) {
    // Bytes stay on one thread, as they always have (they are never large).
    const int par = n >= eq_parallel_threshold() && dtype != EQ_BOOL;
    fill_job job = {dtype, value, out};
    eq_parallel_chunks(n, static_chunk(n), par, fill_range, &job);
}

void EQ_ISA(eq_arange)(int dtype, int64_t n, void *out, double start, double step) {
    switch (dtype) {
    case EQ_F32: { float *o = out; for (int64_t i = 0; i < n; i++) o[i] = (float)(start + (double)i * step); break; }
    case EQ_F64: { double *o = out; for (int64_t i = 0; i < n; i++) o[i] = start + (double)i * step; break; }
    case EQ_I64: { int64_t *o = out; for (int64_t i = 0; i < n; i++) o[i] = (int64_t)(start + (double)i * step); break; }
    default: { u8 *o = out; for (int64_t i = 0; i < n; i++) o[i] = (start + (double)i * step) != 0.0; break; }
    }
}

typedef struct { int dtype; double alpha; const void *x; void *y; } axpy_job;

static void axpy_range(int64_t lo, int64_t hi, void *vjob) {
    const axpy_job *j = vjob;
    if (j->dtype == EQ_F32) {
        const float a = (float)j->alpha; const float *X = j->x; float *Y = j->y;
        for (int64_t i = lo; i < hi; i++) Y[i] += a * X[i];
    } else if (j->dtype == EQ_F64) {
        const double a = j->alpha; const double *X = j->x; double *Y = j->y;
        for (int64_t i = lo; i < hi; i++) Y[i] += a * X[i];
    } else if (j->dtype == EQ_I64) {
        const int64_t a = (int64_t)j->alpha; const int64_t *X = j->x; int64_t *Y = j->y;
        for (int64_t i = lo; i < hi; i++) Y[i] += a * X[i];
    }
}

void EQ_ISA(eq_axpy)(int dtype, int64_t n, double alpha, const void *x, void *y) {
    const int par = n >= eq_parallel_threshold() && dtype != EQ_I64;
    axpy_job job = {dtype, alpha, x, y};
    eq_parallel_chunks(n, static_chunk(n), par, axpy_range, &job);
}

#endif
