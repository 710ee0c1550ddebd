// Philox4x32-10 (Salmon et al., SC'11): a counter-based generator, so element i of a draw depends
// only on (seed, counter) and any thread can produce any element.
#include "iterate.h"
#include <math.h>

typedef struct { uint32_t v[4]; } philox4;

static inline philox4 philox_round(philox4 c, uint32_t k0, uint32_t k1) {
    const uint64_t p0 = (uint64_t)0xD2511F53u * c.v[0];
    const uint64_t p1 = (uint64_t)0xCD9E8D57u * c.v[2];
    philox4 r;
    r.v[0] = (uint32_t)(p1 >> 32) ^ c.v[1] ^ k0;
    r.v[1] = (uint32_t)p1;
    r.v[2] = (uint32_t)(p0 >> 32) ^ c.v[3] ^ k1;
    r.v[3] = (uint32_t)p0;
    return r;
}

static inline philox4 philox(uint64_t seed, uint64_t counter) {
    philox4 c = {{(uint32_t)counter, (uint32_t)(counter >> 32), 0u, 0u}};
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int r = 0; r < 10; r++) {
        c = philox_round(c, k0, k1);
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    return c;
}

// Uniform in [0, 1) with 24 bits (float) or in (0, 1] for log-safety in Box-Muller.
static inline double u01_53(uint32_t a, uint32_t b) {
    uint64_t bits = ((uint64_t)a << 21) ^ (uint64_t)b;
    return (double)(bits & ((1ull << 53) - 1)) * (1.0 / 9007199254740992.0);
}

void eq_philox_uniform(int dtype, int64_t n, uint64_t seed, uint64_t offset, void *out,
                       double low, double high) {
    const int64_t blocks = (n + 3) / 4;
    const double span = high - low;
    const int par = n >= eq_parallel_threshold();
#pragma omp parallel for num_threads(eq_get_num_threads()) if (par) schedule(static)
    for (int64_t b = 0; b < blocks; b++) {
        philox4 r = philox(seed, offset + (uint64_t)b);
        for (int l = 0; l < 4; l++) {
            int64_t i = b * 4 + l;
            if (i >= n) break;
            if (dtype == EQ_F32) {
                float u = (float)(r.v[l] >> 8) * (1.0f / 16777216.0f);
                float v = (float)low + (float)span * u;
                // Rounding can reach `high`; keep the interval half-open.
                ((float *)out)[i] = v < (float)high ? v : (float)low;
            } else {
                double u = u01_53(r.v[l], r.v[(l + 1) & 3]);
                ((double *)out)[i] = low + span * u;
            }
        }
    }
}

void eq_philox_normal(int dtype, int64_t n, uint64_t seed, uint64_t offset, void *out,
                      double mean, double std) {
    const int64_t blocks = (n + 3) / 4;
    const int par = n >= eq_parallel_threshold();
#pragma omp parallel for num_threads(eq_get_num_threads()) if (par) schedule(static)
    for (int64_t b = 0; b < blocks; b++) {
        philox4 r = philox(seed, offset + (uint64_t)b);
        // Two Box-Muller pairs from one block.
        for (int pair = 0; pair < 2; pair++) {
            double u1 = ((double)r.v[2 * pair] + 1.0) * (1.0 / 4294967297.0);   // (0, 1)
            double u2 = (double)r.v[2 * pair + 1] * (1.0 / 4294967296.0);       // [0, 1)
            double rad = sqrt(-2.0 * log(u1));
            double z0 = rad * cos(6.283185307179586 * u2);
            double z1 = rad * sin(6.283185307179586 * u2);
            int64_t i = b * 4 + 2 * pair;
            if (dtype == EQ_F32) {
                if (i < n) ((float *)out)[i] = (float)(mean + std * z0);
                if (i + 1 < n) ((float *)out)[i + 1] = (float)(mean + std * z1);
            } else {
                if (i < n) ((double *)out)[i] = mean + std * z0;
                if (i + 1 < n) ((double *)out)[i + 1] = mean + std * z1;
            }
        }
    }
}

void eq_philox_randint(int64_t n, uint64_t seed, uint64_t offset, int64_t *out, int64_t low,
                       int64_t high) {
    const uint64_t span = (uint64_t)(high - low);
    const int64_t blocks = (n + 1) / 2;
#pragma omp parallel for num_threads(eq_get_num_threads()) if (n >= eq_parallel_threshold()) schedule(static)
    for (int64_t b = 0; b < blocks; b++) {
        philox4 r = philox(seed, offset + (uint64_t)b);
        for (int l = 0; l < 2; l++) {
            int64_t i = b * 2 + l;
            if (i >= n) break;
            uint64_t bits = ((uint64_t)r.v[2 * l] << 32) | r.v[2 * l + 1];
            // 128-bit multiply-shift maps 64 random bits onto [0, span) with negligible bias.
            out[i] = low + (int64_t)(((__uint128_t)bits * span) >> 64);
        }
    }
}
