// Equilibrium's C kernels: elementwise, reduction, row-wise and indexing loops with OpenMP,
// plus thin wrappers over OpenBLAS / LAPACKE. Strides and sizes are in elements, never bytes.
#ifndef EQ_CKERNELS_H
#define EQ_CKERNELS_H

#include <stdint.h>
#include <stddef.h>
#include <cblas.h>
#include <lapacke.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EQ_MAX_DIMS 12

/// Element types. Values match `DType`'s raw values on the Swift side.
typedef enum {
    EQ_F32 = 0,
    EQ_F64 = 1,
    EQ_I64 = 2,
    EQ_BOOL = 3,   // one byte, 0 or 1
} eq_dtype;

// ---------------------------------------------------------------- runtime

/// Sets the thread count of OpenMP and OpenBLAS together (the one knob).
void eq_set_num_threads(int n);
// Makes standard output line-buffered (progress lines reach a redirected log as they are printed).
void eq_stdout_line_buffered(void);
int eq_get_num_threads(void);
/// 1 when the kernels were compiled with OpenMP (`-Xcc -fopenmp`), 0 when they run serially.
int eq_openmp_enabled(void);

/// The instruction set of the elementwise, reduction and row-wise kernels, chosen once at start-up
/// from the CPU's features: "avx2+fma" or "portable". EQ_KERNELS=portable forces the portable
/// loops (EQ_KERNELS=auto, the default, picks the best the CPU supports).
const char *eq_kernels_name(void);
/// Element count under which a kernel stays on one thread.
int64_t eq_parallel_threshold(void);
void eq_set_parallel_threshold(int64_t n);
/// Bytes (all operands of one op together) above which elementwise outputs are written with
/// streaming stores: the last-level cache size, or EQ_STREAM_MB.
int64_t eq_stream_threshold_bytes(void);
void eq_set_stream_threshold_bytes(int64_t bytes);

/// 64-byte-aligned allocation, counted so tests and benchmarks can see live and peak bytes.
void *eq_alloc(size_t bytes);
void eq_free(void *p, size_t bytes);
/// Frees every cached block (freed large tensor buffers kept for reuse).
void eq_alloc_cache_release(void);
/// Bytes held in the cache of freed blocks (not counted as live).
int64_t eq_alloc_cached_bytes(void);
int64_t eq_live_bytes(void);
int64_t eq_live_allocations(void);
int64_t eq_peak_bytes(void);
/// Resets the peak to the current live figure and returns it.
int64_t eq_reset_peak_bytes(void);
/// Starts a nested peak measurement: returns the enclosing peak and restarts the peak from the
/// live figure. `eq_peak_scope_end` returns the scope's peak and folds it into the enclosing one.
int64_t eq_peak_scope_begin(void);
int64_t eq_peak_scope_end(int64_t enclosing_peak);

/// Gradient mode is per thread, so a no-grad scope on one thread leaves others alone.
int eq_grad_enabled(void);
void eq_set_grad_enabled(int enabled);

/// Monotonic clock in nanoseconds.
uint64_t eq_now_ns(void);

// ---------------------------------------------------------------- elementwise

typedef enum {
    EQ_NEG = 0, EQ_EXP, EQ_LOG, EQ_LOG1P, EQ_TANH, EQ_SIGMOID, EQ_RELU, EQ_GELU, EQ_SOFTPLUS,
    EQ_SQRT, EQ_RSQRT, EQ_ABS, EQ_SIGN, EQ_SQUARE, EQ_RECIPROCAL, EQ_SIN, EQ_COS, EQ_EXPM1,
    EQ_CLAMP,        // p0 = lower, p1 = upper (either may be +-inf)
    EQ_AFFINE,       // x * p0 + p1
    EQ_POW_SCALAR,   // x ^ p0
    EQ_LOGICAL_NOT,  // bool only
    EQ_ERF,
    EQ_GELU_GRAD,    // d gelu / dx
    EQ_UNARY_COUNT
} eq_unary_op;

/// y = op(x) over an n-d strided region (strides may be zero or negative).
void eq_unary(int op, int dtype, int ndim, const int64_t *shape,
              const void *x, const int64_t *xs, void *y, const int64_t *ys,
              double p0, double p1);

typedef enum {
    EQ_ADD = 0, EQ_SUB, EQ_MUL, EQ_DIV, EQ_POW, EQ_MAXIMUM, EQ_MINIMUM, EQ_ATAN2,
    // Fused backward helpers: a is the incoming gradient, b the saved tensor.
    EQ_TANH_BWD,      // a * (1 - b^2), b = tanh output
    EQ_SIGMOID_BWD,   // a * b * (1 - b), b = sigmoid output
    EQ_RELU_BWD,      // b > 0 ? a : 0, b = relu input
    EQ_GELU_BWD,      // a * gelu'(b)
    EQ_SOFTPLUS_BWD,  // a * sigmoid(b)
    // Comparisons write bool.
    EQ_EQ, EQ_NE, EQ_LT, EQ_LE, EQ_GT, EQ_GE,
    // Logical (bool operands).
    EQ_AND, EQ_OR, EQ_XOR,
    EQ_BINARY_COUNT
} eq_binary_op;

/// out = a op b with broadcasting expressed as zero strides. Comparisons write EQ_BOOL.
void eq_binary(int op, int dtype, int ndim, const int64_t *shape,
               const void *a, const int64_t *as, const void *b, const int64_t *bs,
               void *out, const int64_t *os);

/// out = cond ? a : b (cond is bool).
void eq_where(int dtype, int ndim, const int64_t *shape,
              const uint8_t *cond, const int64_t *cs, const void *a, const int64_t *as,
              const void *b, const int64_t *bs, void *out, const int64_t *os);

/// Strided copy with dtype conversion: dst = (dst_dtype) src.
void eq_copy(int src_dtype, int dst_dtype, int ndim, const int64_t *shape,
             const void *src, const int64_t *ss, void *dst, const int64_t *ds);

/// Fills n contiguous elements with value.
void eq_fill(int dtype, int64_t n, void *out, double value);
/// out[i] = start + i * step.
void eq_arange(int dtype, int64_t n, void *out, double start, double step);

/// Fused axpy for optimizers and accumulation: y += alpha * x (contiguous, same dtype).
void eq_axpy(int dtype, int64_t n, double alpha, const void *x, void *y);

/// Fused Adam / AdamW over `count` contiguous tensors of one dtype (PyTorch's fused form): tensor
/// t has sizes[t] elements at params[t], grads[t], exp_avg[t], exp_avg_sq[t]. Per element, with
/// weight decay wd: decoupled p *= 1 - lr*wd, else g += wd*p; m = b1 m + (1-b1) g;
/// v = b2 v + (1-b2) g^2; p -= step_size[t] * m / (sqrt(v / bias2[t]) + eps).
void eq_adam_multi(int dtype, int64_t count, void *const *params, const void *const *grads,
                   void *const *exp_avg, void *const *exp_avg_sq, const int64_t *sizes,
                   const double *step_size, const double *bias2, double lr, double beta1,
                   double beta2, double eps, double weight_decay, int decoupled);
/// Fused SGD with momentum over `count` contiguous tensors: g += wd*p; buf = g where fresh[t],
/// else buf = mu buf + (1-dampening) g; p -= lr * (nesterov ? g + mu buf : buf).
void eq_sgd_multi(int dtype, int64_t count, void *const *params, const void *const *grads,
                  void *const *buffers, const int64_t *sizes, const int *fresh, double lr,
                  double momentum, double dampening, double weight_decay, int nesterov);

// ---------------------------------------------------------------- reductions

typedef enum {
    EQ_RSUM = 0, EQ_RMAX, EQ_RMIN, EQ_RARGMAX, EQ_RARGMIN, EQ_RLOGSUMEXP, EQ_RPROD, EQ_RSUMSQ,
    EQ_RANY, EQ_RALL,
} eq_reduce_op;

/// Reduces a contiguous [outer, k, inner] array over its middle axis into [outer, inner].
/// ARGMAX/ARGMIN write int64; ANY/ALL read and write bool; the rest keep the dtype
/// (float32 sums accumulate in double, contiguous ones after adding groups of four in float).
void eq_reduce(int op, int dtype, int64_t outer, int64_t k, int64_t inner,
               const void *x, void *out);

// ---------------------------------------------------------------- row-wise (last axis)

/// Softmax (or log-softmax when log != 0) of each contiguous row of length n.
void eq_softmax(int dtype, int64_t rows, int64_t n, const void *x, void *y, int log);
/// Softmax of each contiguous row of length n of v = scale · x, where v is `fill` at the entries
/// whose mask byte is nonzero (masked_fill then softmax, in one pass over x). mask (may be NULL:
/// nothing masked) holds mask_rows rows of n bytes; row r of x uses mask row r % mask_rows.
void eq_softmax_masked(int dtype, int64_t rows, int64_t n, const void *x, const uint8_t *mask,
                       int64_t mask_rows, double scale, double fill, void *y);
/// Backward of softmax/log-softmax given the output y and incoming gradient g.
void eq_softmax_backward(int dtype, int64_t rows, int64_t n, const void *y, const void *g,
                         void *dx, int log);
/// Cross entropy of each contiguous row of logits x [rows, n] against int64 targets (each in
/// [0, n)), with label smoothing eps: loss[r] = lse − (1 − eps)·x[r, t[r]] − eps·mean(x[r]), where
/// lse = log Σ exp(x[r]), without writing a log-softmax. stats [rows, 2] receives each row's max
/// and 1/Σ exp(x − max), for eq_cross_entropy_backward.
void eq_cross_entropy(int dtype, int64_t rows, int64_t n, const void *x, const int64_t *targets, double eps,
                      void *stats, void *loss);
/// dx[r] = s_r · (softmax(x[r]) − uniform − onehot·[j = t[r]]) with s_r = scale · row_scale[r]
/// (row_scale may be NULL: 1), from the forward's stats: one pass over x.
void eq_cross_entropy_backward(int dtype, int64_t rows, int64_t n, const void *x, const void *stats,
                               const int64_t *targets, const double *row_scale, double scale, double onehot,
                               double uniform, void *dx);
/// Layer norm of each row; gamma/beta may be NULL. mean and rstd (length rows) may be NULL.
void eq_layernorm(int dtype, int64_t rows, int64_t n, const void *x, const void *gamma,
                  const void *beta, double eps, void *y, void *mean, void *rstd);
/// Layer-norm backward from the forward's mean and rstd: dx (may be NULL), and dgamma = Σ g·x̂,
/// dbeta = Σ g over the rows (each may be NULL). gamma may be NULL.
void eq_layernorm_backward(int dtype, int64_t rows, int64_t n, const void *x, const void *gamma,
                           const void *g, const void *mean, const void *rstd, void *dx,
                           void *dgamma, void *dbeta);

// ---------------------------------------------------------------- indexing

/// out[o, j, i] = x[o, idx[j], i] for x of shape [outer, n, inner]; idx values in [0, n).
/// Returns -1 on success or the position of the first out-of-range index.
int64_t eq_index_select(int dtype, int64_t outer, int64_t n, int64_t inner, const void *x,
                        const int64_t *idx, int64_t k, void *out);
/// out[o, idx[j], i] += src[o, j, i]; out has shape [outer, n, inner].
int64_t eq_index_add(int dtype, int64_t outer, int64_t n, int64_t inner, const void *src,
                     const int64_t *idx, int64_t k, void *out);
/// out[o, j, i] = x[o, idx[o, j, i], i]; x is [outer, n, inner], idx and out are [outer, k, inner].
int64_t eq_gather(int dtype, int64_t outer, int64_t n, int64_t inner, const void *x,
                  const int64_t *idx, int64_t k, void *out);
/// out[o, idx[o, j, i], i] += src[o, j, i]; the inverse of gather.
int64_t eq_scatter_add(int dtype, int64_t outer, int64_t n, int64_t inner, const void *src,
                       const int64_t *idx, int64_t k, void *out);

// ---------------------------------------------------------------- random numbers

/// Counter-based Philox4x32-10: element i of a draw depends only on (seed, offset + i), so the
/// numbers do not depend on the thread count. Each call consumes ceil(n / 4) counters.
void eq_philox_uniform(int dtype, int64_t n, uint64_t seed, uint64_t offset, void *out,
                       double low, double high);
void eq_philox_normal(int dtype, int64_t n, uint64_t seed, uint64_t offset, void *out,
                      double mean, double std);
/// Integers in [low, high).
void eq_philox_randint(int64_t n, uint64_t seed, uint64_t offset, int64_t *out, int64_t low,
                       int64_t high);

// ---------------------------------------------------------------- BLAS

/// C = alpha * op(A) op(B) + beta * C, row-major, for each of `batch` matrices, walked in two
/// levels: entry i is (i / inner, i % inner), at offset outer * (i / inner) + stride * (i % inner)
/// elements of each operand (a stride 0 broadcasts). Two levels let a head-split view
/// [B, H, T, dh] of a [B, T, H·dh] tensor reach BLAS without a copy.
void eq_gemm(int dtype, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, double alpha,
             const void *a, int64_t lda, int64_t outer_a, int64_t stride_a, const void *b, int64_t ldb,
             int64_t outer_b, int64_t stride_b, double beta, void *c, int64_t ldc, int64_t outer_c,
             int64_t stride_c, int64_t batch, int64_t inner);

/// One sample's solver history, `count` contiguous rows of `n` values (solver_rows.c):
/// out_a[j] = row_j · a and out_b[j] = row_j · b, in one pass over the rows.
void eq_rows_dot2(int dtype, int64_t count, int64_t n, const void *rows, const void *a, const void *b,
                  double *out_a, double *out_b);
/// Per row of a contiguous [count, n] array: the sum of squares and the largest |value|
/// (NaN when the row holds one).
void eq_row_stats(int dtype, int64_t count, int64_t n, const void *data, double *sum_squares, double *max_abs);
/// out -= Σ_j coefficients[j] · row_j.
void eq_rows_subtract_combination(int dtype, int64_t count, int64_t n, const void *rows,
                                  const double *coefficients, void *out);

// OpenBLAS's kernel choice (blas_core.c): the core it uses, and the core this CPU's features
// allow when OpenBLAS fell back to a generic one (NULL otherwise, or when OPENBLAS_CORETYPE is set).
const char *eq_blas_core_name(void);
const char *eq_blas_recommended_core(void);
/// The same choice made whether or not OPENBLAS_CORETYPE is set: a faster core than the one in use
/// (NULL when the one in use is already the fastest this CPU allows).
const char *eq_blas_faster_core(void);

// ---------------------------------------------------------------- shared-memory reduction

/// Elements [lo, hi) of the sum of `n_in` float32 or float64 arrays, written to each of the
/// `n_out` arrays (ranks' segments of an MPI shared-memory window; reduce_into.c). The inputs are
/// added in order 0, 1, ..., so every output gets the same bits.
void eq_sum_into(int dtype, int64_t lo, int64_t hi, const void *const *inputs, int n_in,
                 void *const *outputs, int n_out);

#ifdef __cplusplus
}
#endif
#endif
