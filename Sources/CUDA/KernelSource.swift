/// The CUDA C source of the elementwise, reduction and row-wise kernels. NVRTC compiles it to PTX
/// for the device's compute capability the first time a kernel is needed (``KernelCache``); every
/// kernel exists for float (`_f32`) and double (`_f64`). All take contiguous buffers.
///
/// Launch shapes: elementwise kernels use a grid-stride loop over 256-thread blocks; row-wise ones
/// (row sums, softmax, layer norm) use one 256-thread block per row and a shared-memory tree
/// reduction, so a row of any length works (each thread strides over the row).
enum KernelSource {
    /// Threads per block for every kernel (the row kernels' shared arrays have this size).
    static let blockSize = 256

    static let text = #"""
#define EQ_BLOCK 256
#define EQ_LOOP(i, n) for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; \
                           i < (n); i += (long long)blockDim.x * gridDim.x)

template <typename T> __device__ T eq_block_sum(T v, T *buf) {
    buf[threadIdx.x] = v;
    __syncthreads();
    for (int s = EQ_BLOCK / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) buf[threadIdx.x] += buf[threadIdx.x + s];
        __syncthreads();
    }
    T r = buf[0];
    __syncthreads();
    return r;
}

template <typename T> __device__ T eq_block_max(T v, T *buf) {
    buf[threadIdx.x] = v;
    __syncthreads();
    for (int s = EQ_BLOCK / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) buf[threadIdx.x] = max(buf[threadIdx.x], buf[threadIdx.x + s]);
        __syncthreads();
    }
    T r = buf[0];
    __syncthreads();
    return r;
}

#define EQ_BINARY(name, T, S, expr) \
extern "C" __global__ void name##_##S(const T *a, const T *b, T *c, long long n) { \
    EQ_LOOP(i, n) { T x = a[i], y = b[i]; c[i] = (expr); } }

#define EQ_UNARY(name, T, S, expr) \
extern "C" __global__ void name##_##S(const T *a, T *c, long long n) { \
    EQ_LOOP(i, n) { T x = a[i]; c[i] = (expr); } }

#define EQ_KERNELS(T, S) \
EQ_BINARY(add, T, S, x + y) \
EQ_BINARY(sub, T, S, x - y) \
EQ_BINARY(mul, T, S, x * y) \
EQ_BINARY(div, T, S, x / y) \
EQ_BINARY(maximum, T, S, x > y ? x : y) \
EQ_UNARY(neg, T, S, -x) \
EQ_UNARY(exp, T, S, exp(x)) \
EQ_UNARY(log, T, S, log(x)) \
EQ_UNARY(tanh, T, S, tanh(x)) \
EQ_UNARY(sqrt, T, S, sqrt(x)) \
EQ_UNARY(relu, T, S, x > T(0) ? x : T(0)) \
EQ_UNARY(sigmoid, T, S, T(1) / (T(1) + exp(-x))) \
extern "C" __global__ void scale_##S(const T *a, T *c, T s, long long n) { \
    EQ_LOOP(i, n) c[i] = a[i] * s; } \
extern "C" __global__ void row_sum_##S(const T *a, T *out, long long cols) { \
    __shared__ T buf[EQ_BLOCK]; \
    const T *row = a + blockIdx.x * cols; \
    T acc = T(0); \
    for (long long j = threadIdx.x; j < cols; j += EQ_BLOCK) acc += row[j]; \
    acc = eq_block_sum(acc, buf); \
    if (threadIdx.x == 0) out[blockIdx.x] = acc; } \
extern "C" __global__ void chunk_sum_##S(const T *a, T *out, long long n, long long chunk) { \
    __shared__ T buf[EQ_BLOCK]; \
    long long start = blockIdx.x * chunk, end = min(n, start + chunk); \
    T acc = T(0); \
    for (long long j = start + threadIdx.x; j < end; j += EQ_BLOCK) acc += a[j]; \
    acc = eq_block_sum(acc, buf); \
    if (threadIdx.x == 0) out[blockIdx.x] = acc; } \
extern "C" __global__ void softmax_##S(const T *a, T *out, long long cols) { \
    __shared__ T buf[EQ_BLOCK]; \
    const T *row = a + blockIdx.x * cols; \
    T *orow = out + blockIdx.x * cols; \
    T m = row[0]; /* cols >= 1: the host never launches empty rows */ \
    for (long long j = threadIdx.x; j < cols; j += EQ_BLOCK) m = max(m, row[j]); \
    m = eq_block_max(m, buf); \
    T acc = T(0); \
    for (long long j = threadIdx.x; j < cols; j += EQ_BLOCK) { T e = exp(row[j] - m); orow[j] = e; acc += e; } \
    acc = eq_block_sum(acc, buf); \
    for (long long j = threadIdx.x; j < cols; j += EQ_BLOCK) orow[j] = orow[j] / acc; } \
extern "C" __global__ void layer_norm_##S(const T *a, T *out, long long cols, T eps) { \
    __shared__ T buf[EQ_BLOCK]; \
    const T *row = a + blockIdx.x * cols; \
    T *orow = out + blockIdx.x * cols; \
    T acc = T(0); \
    for (long long j = threadIdx.x; j < cols; j += EQ_BLOCK) acc += row[j]; \
    T mean = eq_block_sum(acc, buf) / T(cols); \
    T sq = T(0); \
    for (long long j = threadIdx.x; j < cols; j += EQ_BLOCK) { T d = row[j] - mean; sq += d * d; } \
    T inv = T(1) / sqrt(eq_block_sum(sq, buf) / T(cols) + eps); \
    for (long long j = threadIdx.x; j < cols; j += EQ_BLOCK) orow[j] = (row[j] - mean) * inv; }

EQ_KERNELS(float, f32)
EQ_KERNELS(double, f64)
"""#
}
