// GEMM through OpenBLAS with transpose flags instead of copies.
#include "iterate.h"

void eq_gemm(int dtype, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, double alpha,
             const void *a, int64_t lda, int64_t stride_a, const void *b, int64_t ldb,
             int64_t stride_b, double beta, void *c, int64_t ldc, int64_t stride_c,
             int64_t batch) {
    const enum CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
    const enum CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
    for (int64_t i = 0; i < batch; i++) {
        if (dtype == EQ_F32) {
            cblas_sgemm(CblasRowMajor, ta, tb, (blasint)m, (blasint)n, (blasint)k, (float)alpha,
                        (const float *)a + i * stride_a, (blasint)lda,
                        (const float *)b + i * stride_b, (blasint)ldb, (float)beta,
                        (float *)c + i * stride_c, (blasint)ldc);
        } else {
            cblas_dgemm(CblasRowMajor, ta, tb, (blasint)m, (blasint)n, (blasint)k, alpha,
                        (const double *)a + i * stride_a, (blasint)lda,
                        (const double *)b + i * stride_b, (blasint)ldb, beta,
                        (double *)c + i * stride_c, (blasint)ldc);
        }
    }
}
