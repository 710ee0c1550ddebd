// GEMM through OpenBLAS with transpose flags instead of copies.
#include "iterate.h"

// Products up to this many multiply-adds (e.g. 128 x 128 x 64) count as small.
#define EQ_GEMM_SMALL (128.0 * 128.0 * 64.0)

/// Product number i of a batch walked in two strided levels: entry i is (i / inner, i % inner).
static inline void gemm_one(int dtype, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int64_t m, int64_t n,
                            int64_t k, double alpha, const void *a, int64_t lda, int64_t outer_a,
                            int64_t stride_a, const void *b, int64_t ldb, int64_t outer_b, int64_t stride_b,
                            double beta, void *c, int64_t ldc, int64_t outer_c, int64_t stride_c,
                            int64_t inner, int64_t i) {
    const int64_t o = i / inner, j = i % inner;
    const int64_t oa = o * outer_a + j * stride_a, ob = o * outer_b + j * stride_b, oc = o * outer_c + j * stride_c;
    if (dtype == EQ_F32) {
        cblas_sgemm(CblasRowMajor, ta, tb, (blasint)m, (blasint)n, (blasint)k, (float)alpha,
                    (const float *)a + oa, (blasint)lda, (const float *)b + ob, (blasint)ldb, (float)beta,
                    (float *)c + oc, (blasint)ldc);
    } else {
        cblas_dgemm(CblasRowMajor, ta, tb, (blasint)m, (blasint)n, (blasint)k, alpha,
                    (const double *)a + oa, (blasint)lda, (const double *)b + ob, (blasint)ldb, beta,
                    (double *)c + oc, (blasint)ldc);
    }
}

void eq_gemm(int dtype, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, double alpha,
             const void *a, int64_t lda, int64_t outer_a, int64_t stride_a, const void *b, int64_t ldb,
             int64_t outer_b, int64_t stride_b, double beta, void *c, int64_t ldc, int64_t outer_c,
             int64_t stride_c, int64_t batch, int64_t inner) {
    const enum CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
    const enum CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
    // Many small products (attention's per-head matmuls): OpenBLAS runs each on one thread, so
    // split the batch over our threads instead, each calling a single-threaded BLAS. OpenBLAS's
    // OpenMP build cannot see our (libomp) parallel region, hence its thread count is set to 1
    // around the loop and restored after.
    const int threads = eq_get_num_threads();
    const int split = batch > 1 && threads > 1 && (double)m * (double)n * (double)k <= EQ_GEMM_SMALL;
    if (!split) {
        // No OpenMP construct at all here: even a serialized region costs about a microsecond,
        // a fifth of a 64 x 64 product.
        for (int64_t i = 0; i < batch; i++)
            gemm_one(dtype, ta, tb, m, n, k, alpha, a, lda, outer_a, stride_a, b, ldb, outer_b, stride_b, beta, c, ldc,
                 outer_c, stride_c, inner, i);
        return;
    }
    openblas_set_num_threads(1);
    #pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t i = 0; i < batch; i++)
        gemm_one(dtype, ta, tb, m, n, k, alpha, a, lda, outer_a, stride_a, b, ldb, outer_b, stride_b, beta, c, ldc,
                 outer_c, stride_c, inner, i);
    openblas_set_num_threads(threads);
}
