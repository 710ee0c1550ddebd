// Non-temporal (streaming) output for elementwise kernels whose operands do not fit the
// last-level cache. Such an output would only evict the inputs on its way to memory, and a
// normal store first reads each output line (read-for-ownership); streaming stores skip both,
// which took a 2^22-element float add from 2.0 to 1.3 ms on one core here.
#ifndef EQ_STREAM_H
#define EQ_STREAM_H

#include "ckernels.h"
#include <stdint.h>
#include <string.h>
#if defined(EQ_AVX2) || defined(__SSE2__)
#include <immintrin.h>
#endif

/// Elements computed into an L1-resident block before it is streamed out.
#define EQ_STREAM_BLOCK 512

/// Whether an op touching `bytes` in all its operands should stream its output.
static inline int eq_should_stream(int64_t bytes) { return bytes > eq_stream_threshold_bytes(); }

static inline int eq_aligned32(const void *p) { return ((uintptr_t)p & 31) == 0; }

/// Copies a block to 32-byte-aligned `dst` with streaming stores; `bytes` is a multiple of 32.
static inline void eq_stream_copy(void *dst, const void *src, size_t bytes) {
#if defined(EQ_AVX2)
    for (size_t i = 0; i < bytes; i += 32)
        _mm256_stream_si256((__m256i *)((char *)dst + i),
                            _mm256_load_si256((const __m256i *)((const char *)src + i)));
#elif defined(__SSE2__)   // every x86-64 CPU
    for (size_t i = 0; i < bytes; i += 16)
        _mm_stream_si128((__m128i *)((char *)dst + i),
                         _mm_load_si128((const __m128i *)((const char *)src + i)));
#else
    memcpy(dst, src, bytes);
#endif
}

/// Makes streamed stores visible before the thread goes on (they are weakly ordered).
static inline void eq_stream_fence(void) {
#if defined(EQ_AVX2) || defined(__SSE2__)
    _mm_sfence();
#endif
}

#endif
