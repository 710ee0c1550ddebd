// The plain-C reference for `cuda-bench sgemm`: cublasSgemm on device-resident row-major
// float32 matrices, timed the same way (3 warm-up calls, then the median per call of 21 samples
// of at least 5 ms, each ended by cudaDeviceSynchronize). Prints one JSON object per size.
// Links the pip wheels' libraries (nvidia-cuda-runtime, nvidia-cublas; CUDA 13 wheels put them
// in site-packages/nvidia/cu13/lib). The handful of declarations below match cuda_runtime_api.h
// and cublas_api.h, so no toolkit headers are needed (the wheels' headers also want
// nvidia-cuda-crt's crt/host_defines.h).
//
//   L=$(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))')/nvidia/cu13/lib
//   cc -O2 cublas_sgemm.c -o cublas_sgemm -L$L -l:libcublas.so.13 -l:libcudart.so.13 -Wl,-rpath,$L
//   ./cublas_sgemm 4096
#include <stddef.h>

typedef int cudaError_t;
typedef int cublasStatus_t;
typedef void *cublasHandle_t;
enum { cudaSuccess = 0, cudaMemcpyHostToDevice = 1, CUBLAS_STATUS_SUCCESS = 0, CUBLAS_OP_N = 0 };
cudaError_t cudaMalloc(void **ptr, size_t bytes);
cudaError_t cudaFree(void *ptr);
cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, int kind);
cudaError_t cudaDeviceSynchronize(void);
const char *cudaGetErrorString(cudaError_t e);
cublasStatus_t cublasCreate_v2(cublasHandle_t *h);
cublasStatus_t cublasDestroy_v2(cublasHandle_t h);
cublasStatus_t cublasSgemm_v2(cublasHandle_t h, int ta, int tb, int m, int n, int k, const float *alpha,
                              const float *a, int lda, const float *b, int ldb, const float *beta,
                              float *c, int ldc);
#define cublasCreate cublasCreate_v2
#define cublasDestroy cublasDestroy_v2
#define cublasSgemm cublasSgemm_v2
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define CHECK_CUDA(call) do { cudaError_t e = (call); if (e != cudaSuccess) { \
    fprintf(stderr, "cublas_sgemm: %s failed: %s\n", #call, cudaGetErrorString(e)); exit(1); } } while (0)
#define CHECK_BLAS(call) do { cublasStatus_t s = (call); if (s != CUBLAS_STATUS_SUCCESS) { \
    fprintf(stderr, "cublas_sgemm: %s failed with status %d\n", #call, (int)s); exit(1); } } while (0)

static float *device_matrix(int n, uint32_t seed) {
    size_t count = (size_t)n * (size_t)n;
    float *host = malloc(count * sizeof(float));
    if (!host) { fprintf(stderr, "cublas_sgemm: out of memory for a %d x %d matrix\n", n, n); exit(1); }
    for (size_t i = 0; i < count; i++) {
        seed = seed * 1664525u + 1013904223u;  // any values will do; the timing does not depend on them
        host[i] = (float)((seed >> 8) * (1.0 / 16777216.0) - 0.5);
    }
    float *dev;
    CHECK_CUDA(cudaMalloc((void **)&dev, count * sizeof(float)));
    CHECK_CUDA(cudaMemcpy(dev, host, count * sizeof(float), cudaMemcpyHostToDevice));
    free(host);
    return dev;
}

static void time_size(cublasHandle_t h, int n) {
    float *a = device_matrix(n, 1), *b = device_matrix(n, 2), *c = device_matrix(n, 3);
    const float one = 1, zero = 0;
    // Row-major C = A B is column-major C^T = B^T A^T, as the CUDA target calls it.
#define GEMM CHECK_BLAS(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, b, n, a, n, &zero, c, n))
    for (int i = 0; i < 3; i++) GEMM;
    CHECK_CUDA(cudaDeviceSynchronize());
    int reps = 1;
    for (;;) {
        double t0 = now_seconds();
        for (int i = 0; i < reps; i++) GEMM;
        CHECK_CUDA(cudaDeviceSynchronize());
        if (now_seconds() - t0 >= 0.005) break;
        reps *= 2;
    }
    double samples[21];
    for (int s = 0; s < 21; s++) {
        double t0 = now_seconds();
        for (int i = 0; i < reps; i++) GEMM;
        CHECK_CUDA(cudaDeviceSynchronize());
        samples[s] = (now_seconds() - t0) / reps;
    }
    qsort(samples, 21, sizeof(double), compare_doubles);
    double median = samples[10];
    printf("{\"name\": \"sgemm_%d\", \"tool\": \"cublas-c\", \"median_ns\": %lld, \"gflops\": %.1f}\n", n,
           (long long)(median * 1e9), 2.0 * n * (double)n * n / median / 1e9);
    cudaFree(a); cudaFree(b); cudaFree(c);
}

int main(int argc, char **argv) {
    cublasHandle_t h;
    CHECK_BLAS(cublasCreate(&h));
    if (argc < 2) time_size(h, 4096);
    for (int i = 1; i < argc; i++) time_size(h, atoi(argv[i]));
    cublasDestroy(h);
    return 0;
}
