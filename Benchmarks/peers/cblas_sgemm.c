// The plain-C reference for the sgemm_* kernel workloads: cblas_sgemm on preallocated
// row-major float32 matrices, timed the same way as `deq bench kernels` (warm-up, then the
// median of samples of at least 5 ms). Prints one JSON object per size.
//
//   cc -O2 cblas_sgemm.c -o cblas_sgemm -lopenblas
//   OPENBLAS_NUM_THREADS=2 ./cblas_sgemm            # sizes 64 256 1024
//   ./cblas_sgemm 512                               # other sizes
#include <cblas.h>
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

static float *random_matrix(int n, uint32_t seed) {
    float *m = aligned_alloc(64, (size_t)n * (size_t)n * sizeof(float) + 64);
    if (!m) { fprintf(stderr, "cblas_sgemm: out of memory for a %d x %d matrix\n", n, n); exit(1); }
    for (size_t i = 0; i < (size_t)n * (size_t)n; i++) {
        seed = seed * 1664525u + 1013904223u;  // any values will do; the timing does not depend on them
        m[i] = (float)((seed >> 8) * (1.0 / 16777216.0) - 0.5);
    }
    return m;
}

static void run_size(int n) {
    float *a = random_matrix(n, 1), *b = random_matrix(n, 2), *c = random_matrix(n, 3);
    // Warm-up: at least three calls and 0.2 s.
    int calls = 0;
    double start = now_seconds(), elapsed;
    do {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        calls++;
        elapsed = now_seconds() - start;
    } while (calls < 3 || elapsed < 0.2);
    double per_call = elapsed / calls;
    int per_sample = (int)(0.005 / per_call) + 1;
    int samples = (int)(1.0 / (per_call * per_sample));
    if (samples < 11) samples = 11;
    if (samples > 201) samples = 201;
    double *times = malloc(sizeof(double) * (size_t)samples);
    for (int s = 0; s < samples; s++) {
        double t0 = now_seconds();
        for (int i = 0; i < per_sample; i++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        times[s] = (now_seconds() - t0) / per_sample;
    }
    qsort(times, (size_t)samples, sizeof(double), compare_doubles);
    double median = times[samples / 2];
    double gflops = 2.0 * n * (double)n * n / median / 1e9;
    printf("{\"name\":\"sgemm_%d\",\"ms\":%.6f,\"min_ms\":%.6f,\"gflops\":%.3f,\"samples\":%d,\"threads\":%d}\n",
           n, median * 1e3, times[0] * 1e3, gflops, samples, openblas_get_num_threads());
    fflush(stdout);
    free(times); free(a); free(b); free(c);
}

int main(int argc, char **argv) {
    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            int n = atoi(argv[i]);
            if (n < 1) { fprintf(stderr, "cblas_sgemm: size '%s' is not a positive integer; pass sizes like 256\n", argv[i]); return 2; }
            run_size(n);
        }
    } else {
        const int sizes[] = {64, 256, 1024};
        for (int i = 0; i < 3; i++) run_size(sizes[i]);
    }
    return 0;
}
