// Explicit AVX2 + FMA versions of the hottest float32 loops (exp-based row kernels and sums).
// The scalar code in mathfun.h stays the reference and the fallback: every function here
// computes the same formula lane by lane, and the portable kernels use the scalar loops.
// EQ_AVX2 is defined by kernels_avx2.c, which compiles these under target("avx2,fma").
#ifndef EQ_SIMD_H
#define EQ_SIMD_H

#include "mathfun.h"

#ifdef EQ_AVX2
#define EQ_HAVE_AVX2 1
#include <immintrin.h>

/// The shared core of the exp kernels: with fx = round(x / ln 2), returns e^(x − fx ln 2)
/// (in [0.7, 1.4]) by the Cephes polynomial, and fx through `fx_out`.
static inline __m256 eq_exp8_reduced(__m256 x, __m256 *fx_out) {
    __m256 fx = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f),
                                                 _mm256_set1_ps(0.5f)));
    __m256 r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 z = _mm256_mul_ps(r, r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    *fx_out = fx;
    return _mm256_add_ps(_mm256_fmadd_ps(p, z, r), _mm256_set1_ps(1.0f));
}

/// Eight eq_expf at once: the same Cephes reduction and polynomial. Special values come out of
/// the arithmetic instead of selects: the clamps pass NaN through (max/min return their second
/// operand when one is NaN), x above 88.72 overflows 2^128 to +inf, and x below -104 gives
/// 0.97 * 2^-150, which rounds to 0.
static inline __m256 eq_exp8(__m256 x) {
    __m256 xc = _mm256_min_ps(_mm256_set1_ps(88.8f), _mm256_max_ps(_mm256_set1_ps(-104.0f), x));
    __m256 fx;
    __m256 y = eq_exp8_reduced(xc, &fx);
    // 2^n as two factors so results down to 2^-150 land in the denormals.
    __m256i n = _mm256_cvttps_epi32(fx);
    __m256i n1 = _mm256_srai_epi32(n, 1);
    __m256i n2 = _mm256_sub_epi32(n, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    y = _mm256_mul_ps(y, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23)));
    return _mm256_mul_ps(y, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23)));
}

/// eq_exp8 for arguments that are at most 0 or NaN (softmax's x - max), with a shorter common
/// path: when no lane is below -87 every result is a normal float, so one 2^n factor suffices
/// and the clamps are not needed. Otherwise the general eq_exp8 handles denormals and -inf.
static inline __m256 eq_exp8_nonpositive(__m256 x) {
    if (_mm256_movemask_ps(_mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_LT_OQ))) return eq_exp8(x);
    __m256 fx;
    __m256 y = eq_exp8_reduced(x, &fx);
    // NaN lanes: fx is NaN, the integer scale is garbage, and NaN * anything stays NaN.
    __m256i n = _mm256_add_epi32(_mm256_cvttps_epi32(fx), _mm256_set1_epi32(127));
    return _mm256_mul_ps(y, _mm256_castsi256_ps(_mm256_slli_epi32(n, 23)));
}

/// Sum of the eight lanes.
static inline float eq_hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// Largest of the eight lanes.
static inline float eq_hmax8(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
#endif

/// Sum of n contiguous floats. Groups of four elements (strided by 8 lanes) are added in
/// float, exactly converted to double and accumulated there, so the result keeps the accuracy
/// of a double accumulation up to one float rounding per group of four, at a third of the
/// conversions.
static inline double eq_sum_f32(const float *x, int64_t n) {
    int64_t j = 0;
    double total = 0;
#ifdef EQ_HAVE_AVX2
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
    for (; j + 64 <= n; j += 64) {
        __m256 q0 = _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(x + j), _mm256_loadu_ps(x + j + 8)),
                                  _mm256_add_ps(_mm256_loadu_ps(x + j + 16), _mm256_loadu_ps(x + j + 24)));
        __m256 q1 = _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(x + j + 32), _mm256_loadu_ps(x + j + 40)),
                                  _mm256_add_ps(_mm256_loadu_ps(x + j + 48), _mm256_loadu_ps(x + j + 56)));
        a0 = _mm256_add_pd(a0, _mm256_cvtps_pd(_mm256_castps256_ps128(q0)));
        a1 = _mm256_add_pd(a1, _mm256_cvtps_pd(_mm256_extractf128_ps(q0, 1)));
        a2 = _mm256_add_pd(a2, _mm256_cvtps_pd(_mm256_castps256_ps128(q1)));
        a3 = _mm256_add_pd(a3, _mm256_cvtps_pd(_mm256_extractf128_ps(q1, 1)));
    }
    for (; j + 4 <= n; j += 4) a0 = _mm256_add_pd(a0, _mm256_cvtps_pd(_mm_loadu_ps(x + j)));
    __m256d a = _mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3));
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    total = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
#else
    double acc[8] = {0};
    for (; j + 32 <= n; j += 32)
        for (int l = 0; l < 8; l++)
            acc[l] += (double)((x[j + l] + x[j + 8 + l]) + (x[j + 16 + l] + x[j + 24 + l]));
    for (int l = 0; l < 8; l++) total += acc[l];
#endif
    for (; j < n; j++) total += (double)x[j];
    return total;
}

#endif
