// The sum of several ranks' gradient buffers, written to every rank's result buffer, for the
// node-local all-reduce over an MPI shared-memory window (Sources/Distributed/SharedMemorySum.swift).
#include <string.h>
#include "include/ckernels.h"

// Blocks of 2048 elements: the running sum stays in L1 while it is added to and copied out.
#define EQ_SUM_BLOCK 2048

#define SUM_INTO(T)                                                                              \
    for (int64_t start = lo; start < hi; start += EQ_SUM_BLOCK) {                                \
        const int64_t n = hi - start < EQ_SUM_BLOCK ? hi - start : EQ_SUM_BLOCK;                 \
        T *restrict first = (T *)outputs[0] + start;                                             \
        const T *restrict a = (const T *)inputs[0] + start;                                      \
        if (n_in == 1) {                                                                         \
            memcpy(first, a, (size_t)n * sizeof(T));                                             \
        } else {                                                                                 \
            const T *restrict b = (const T *)inputs[1] + start;                                  \
            for (int64_t i = 0; i < n; i++) first[i] = a[i] + b[i];                              \
            for (int p = 2; p < n_in; p++) {                                                     \
                const T *restrict c = (const T *)inputs[p] + start;                              \
                for (int64_t i = 0; i < n; i++) first[i] += c[i];                                \
            }                                                                                    \
        }                                                                                        \
        for (int q = 1; q < n_out; q++) memcpy((T *)outputs[q] + start, first, (size_t)n * sizeof(T)); \
    }

void eq_sum_into(int dtype, int64_t lo, int64_t hi, const void *const *inputs, int n_in,
                 void *const *outputs, int n_out) {
    if (hi <= lo || n_in < 1 || n_out < 1) return;
    if (dtype == EQ_F64) {
        SUM_INTO(double)
    } else {
        SUM_INTO(float)
    }
}
