// Explicit AVX2 + FMA versions of the hottest float32 loops (exp-based row kernels and sums).
// The scalar code in mathfun.h stays the reference and the fallback: every function here
// computes the same formula lane by lane, and machines without AVX2 use the scalar loops.
#ifndef EQ_SIMD_H
#define EQ_SIMD_H

#include "mathfun.h"

#if defined(__AVX2__) && defined(__FMA__)
#define EQ_HAVE_AVX2 1
#include <immintrin.h>

/// Eight eq_expf at once: the same Cephes reduction and polynomial. Special values come out of
/// the arithmetic instead of selects: the clamps pass NaN through (max/min return their second
/// operand when one is NaN), x above 88.72 overflows 2^128 to +inf, and x below -104 gives
/// 0.97 * 2^-150, which rounds to 0.
static inline __m256 eq_exp8(__m256 x) {
    __m256 xc = _mm256_min_ps(_mm256_set1_ps(88.8f), _mm256_max_ps(_mm256_set1_ps(-104.0f), x));
    __m256 fx = _mm256_floor_ps(_mm256_fmadd_ps(xc, _mm256_set1_ps(1.44269504088896341f),
                                                 _mm256_set1_ps(0.5f)));
    __m256 r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), xc);
    r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 z = _mm256_mul_ps(r, r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    __m256 y = _mm256_add_ps(_mm256_fmadd_ps(p, z, r), _mm256_set1_ps(1.0f));
    // 2^n as two factors so results down to 2^-150 land in the denormals.
    __m256i n = _mm256_cvttps_epi32(fx);
    __m256i n1 = _mm256_srai_epi32(n, 1);
    __m256i n2 = _mm256_sub_epi32(n, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    y = _mm256_mul_ps(y, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23)));
    return _mm256_mul_ps(y, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23)));
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

/// Sum of n contiguous floats: float partial sums over blocks of 2048 (32 lanes of 64 values
/// each), blocks added in double. As accurate as a double loop for practical purposes and as
/// fast as the memory.
static inline double eq_sum_f32(const float *x, int64_t n) {
    double total = 0;
    int64_t j = 0;
    while (j < n) {
        int64_t end = n - j > 2048 ? j + 2048 : n;
#ifdef EQ_HAVE_AVX2
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (; j + 32 <= end; j += 32) {
            a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + j));
            a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + j + 8));
            a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + j + 16));
            a3 = _mm256_add_ps(a3, _mm256_loadu_ps(x + j + 24));
        }
        float block = eq_hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
#else
        float acc[32] = {0};
        for (; j + 32 <= end; j += 32)
            for (int l = 0; l < 32; l++) acc[l] += x[j + l];
        float block = 0;
        for (int l = 0; l < 32; l++) block += acc[l];
#endif
        for (; j < end; j++) block += x[j];
        total += block;
    }
    return total;
}

#endif
