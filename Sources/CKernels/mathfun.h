// Branch-free float32 transcendentals that clang auto-vectorizes (glibc's expf/tanhf do not).
// Polynomials follow the classic Cephes range reductions; special values (+-inf, NaN, denormal
// results) are handled with selects so the loops stay vectorizable.
#ifndef EQ_MATHFUN_H
#define EQ_MATHFUN_H

#include <stdint.h>
#include <math.h>
#include <string.h>

// Forced inlining: clang's inliner otherwise keeps the larger helpers (erfc, gelu) as calls,
// and a call inside a loop stops it from being vectorized.
#define EQ_MATHFUN static inline __attribute__((always_inline))

static inline float eq_bits_to_float(int32_t i) { float f; memcpy(&f, &i, 4); return f; }
static inline int32_t eq_float_to_bits(float f) { int32_t i; memcpy(&i, &f, 4); return i; }

/// exp(x), about 1 ulp; gradual underflow into denormals, +inf above 88.72.
EQ_MATHFUN float eq_expf(float x) {
    const float hi = 88.72283935546875f, lo = -103.972084045410f;
    float xc = fminf(fmaxf(x, lo), hi);
    float fx = floorf(xc * 1.44269504088896341f + 0.5f);
    float r = xc - fx * 0.693359375f;
    r = r - fx * -2.12194440e-4f;
    float z = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * z + r + 1.0f;
    // 2^n split in two factors so that n down to -150 still lands in the denormals.
    int32_t n = (int32_t)fx;
    int32_t n1 = n >> 1;
    int32_t n2 = n - n1;
    y = y * eq_bits_to_float((n1 + 127) << 23) * eq_bits_to_float((n2 + 127) << 23);
    y = x > hi ? INFINITY : y;
    y = x < lo ? 0.0f : y;
    return x != x ? x : y;
}

/// Natural log, about 1 ulp; log(0) = -inf, log(x < 0) = NaN, denormal inputs handled.
EQ_MATHFUN float eq_logf(float x) {
    int denormal = x < 1.17549435e-38f;
    float xs = denormal ? x * 8388608.0f : x;  // 2^23
    int32_t bits = eq_float_to_bits(xs);
    int32_t e = ((bits >> 23) & 0xff) - 126;
    float m = eq_bits_to_float((bits & 0x007fffff) | 0x3f000000);  // [0.5, 1)
    e = denormal ? e - 23 : e;
    int small = m < 0.707106781186547524f;
    float fe = (float)(small ? e - 1 : e);
    m = small ? m + m - 1.0f : m - 1.0f;
    float z = m * m;
    float y = 7.0376836292e-2f;
    y = y * m - 1.1514610310e-1f;
    y = y * m + 1.1676998740e-1f;
    y = y * m - 1.2420140846e-1f;
    y = y * m + 1.4249322787e-1f;
    y = y * m - 1.6668057665e-1f;
    y = y * m + 2.0000714765e-1f;
    y = y * m - 2.4999993993e-1f;
    y = y * m + 3.3333331174e-1f;
    y = y * m * z;
    y = y + fe * -2.12194440e-4f;
    y = y - 0.5f * z;
    float r = m + y;
    r = r + fe * 0.693359375f;
    r = x == INFINITY ? INFINITY : r;
    r = x == 0.0f ? -INFINITY : r;
    r = x < 0.0f ? NAN : r;
    return x != x ? x : r;
}

/// expm1(x): exact near zero through the exp(x) - 1 correction trick.
static inline float eq_expm1f(float x) {
    float u = eq_expf(x);
    float um1 = u - 1.0f;
    float lu = eq_logf(u);
    float corrected = um1 * (x / lu);
    float r = (u == 1.0f) ? x : corrected;
    r = (um1 == -1.0f) ? -1.0f : r;
    r = (u == INFINITY) ? INFINITY : r;
    r = fabsf(x) > 0.5f ? um1 : r;
    return x != x ? x : r;
}

/// log(1 + x) through the u = 1 + x correction, exact near zero.
static inline float eq_log1pf(float x) {
    float u = 1.0f + x;
    float d = u - 1.0f;
    float lu = eq_logf(u);
    float r = (d == 0.0f) ? x : lu * (x / d);
    r = (u == INFINITY) ? INFINITY : r;
    return x != x ? x : r;
}

/// tanh(x): odd polynomial for |x| < 0.625, 1 - 2 / (exp(2|x|) + 1) above.
static inline float eq_tanhf(float x) {
    float ax = fabsf(x);
    float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float small = p * z * x + x;
    float e = eq_expf(2.0f * fminf(ax, 10.0f));
    float big = 1.0f - 2.0f / (e + 1.0f);
    big = copysignf(big, x);
    float r = ax < 0.625f ? small : big;
    return x != x ? x : r;
}

/// 1 / (1 + exp(-x)), computed from exp(-|x|) so both tails keep relative accuracy.
static inline float eq_sigmoidf(float x) {
    float e = eq_expf(-fabsf(x));
    float pos = 1.0f / (1.0f + e);
    float neg = e / (1.0f + e);
    float r = x >= 0.0f ? pos : neg;
    return x != x ? x : r;
}

/// log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)).
static inline float eq_softplusf(float x) {
    float r = fmaxf(x, 0.0f) + eq_log1pf(eq_expf(-fabsf(x)));
    return x != x ? x : r;
}

/// erfc(z) for z >= 0 with fractional error below 1.2e-7 (Chebyshev fit of Numerical Recipes),
/// given z^2 as an exact-ish sum sq_hi + sq_lo (sq_hi exact). Keeping the Gaussian exponent split
/// matters in the tail: rounding z^2 ~ 80 or adding the fit's correction to it would cost
/// ~1e-5 relative error, so exp(-sq_hi) and exp(p - sq_lo) are taken separately.
/// Returns scale * erfc(z); the Gaussian factor is applied last so that, when the result is
/// denormal, it is rounded once (a denormal rounded first and then scaled up loses bits).
EQ_MATHFUN float eq_erfc_core(float z, float sq_hi, float sq_lo, float scale) {
    float t = 1.0f / (1.0f + 0.5f * z);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    return (scale * t * eq_expf(p - sq_lo)) * eq_expf(-sq_hi);
}

/// The top 12 significant bits of a non-negative float, so that its square is exact.
EQ_MATHFUN float eq_high_half(float a) {
    return eq_bits_to_float(eq_float_to_bits(a) & (int32_t)0xfffff000);
}

/// erfc(z) for z >= 0. z is capped at 20 (erfc is 0 in float beyond ~10.1) so that z = inf
/// does not produce inf - inf.
EQ_MATHFUN float eq_erfc_pos(float z) {
    z = fminf(z, 20.0f);
    float zh = eq_high_half(z);
    return eq_erfc_core(z, zh * zh, (z - zh) * (z + zh), 1.0f);
}

EQ_MATHFUN float eq_erff(float x) {
    float ax = fabsf(x);
    // Near zero erf(x) ~ 2x/sqrt(pi) (1 - x^2/3 + x^4/10 - x^6/42): avoids 1 - erfc cancellation.
    float z = x * x;
    float series = x * 1.1283791670955126f * (1.0f + z * (-1.0f / 3.0f + z * (0.1f + z * (-1.0f / 42.0f + z * (1.0f / 216.0f)))));
    float big = copysignf(1.0f - eq_erfc_pos(ax), x);
    float r = ax < 0.3f ? series : big;
    return x != x ? x : r;
}

/// scale * erfc(|x| / sqrt 2) for |x| <= 40. The exponent x^2 / 2 is split from x itself (not
/// from the rounded x / sqrt 2, whose error would be squared into it).
EQ_MATHFUN float eq_phi_tail(float ax, float scale) {
    float xh = eq_high_half(ax);
    return eq_erfc_core(ax * 0.70710678118654752f, 0.5f * (xh * xh), 0.5f * ((ax - xh) * (ax + xh)), scale);
}

/// Normal CDF Phi(x) = erfc(-x / sqrt 2) / 2, accurate in the lower tail.
EQ_MATHFUN float eq_phif(float x) {
    float half = eq_phi_tail(fminf(fabsf(x), 40.0f), 0.5f);
    return x < 0.0f ? half : 1.0f - half;
}

/// gelu(x) = x Phi(x) (the exact, erf form PyTorch uses by default). With h = x erfc(|x|/sqrt 2) / 2,
/// gelu is h below zero and x - h above. x is clamped to +-40 inside h (where the tail is 0)
/// so that +-inf give inf and the limit 0 rather than inf * 0.
EQ_MATHFUN float eq_geluf(float x) {
    float xc = fminf(fmaxf(x, -40.0f), 40.0f);
    float h = eq_phi_tail(fabsf(xc), 0.5f * xc);
    return x < 0.0f ? h : x - h;
}

/// d/dx [x Phi(x)] = Phi(x) + x phi(x).
/// x is clamped to +-40 in the x phi(x) term (where it is 0) so that +-inf give 1 and 0, not NaN.
EQ_MATHFUN float eq_gelu_gradf(float x) {
    float xc = fminf(fmaxf(x, -40.0f), 40.0f);
    float pdf = 0.3989422804014327f * eq_expf(-0.5f * xc * xc);
    return eq_phif(x) + xc * pdf;
}

static inline double eq_phi(double x) { return 0.5 * erfc(-x * 0.70710678118654752440); }
// At -inf the limit 0, as in the float32 version (x * Phi(x) would be -inf * 0).
static inline double eq_gelu(double x) { return x == -INFINITY ? -0.0 : x * eq_phi(x); }
static inline double eq_gelu_grad(double x) {
    double xc = fmin(fmax(x, -60.0), 60.0);
    return eq_phi(x) + xc * 0.39894228040143267794 * exp(-0.5 * xc * xc);
}
static inline double eq_sigmoid(double x) {
    double e = exp(-fabs(x));
    return x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}
static inline double eq_softplus(double x) { return fmax(x, 0.0) + log1p(exp(-fabs(x))); }

#endif
