// The n-d strided walker shared by every elementwise kernel: coalesce dimensions, split the
// flattened index range among threads, and hand each thread contiguous-in-index row segments.
#ifndef EQ_ITERATE_H
#define EQ_ITERATE_H

#include "ckernels.h"
#include <stdatomic.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/// This thread's number in the enclosing parallel region (0 when built without OpenMP, where
/// every `#pragma omp` is ignored and the kernels run serially).
static inline int eq_thread_index(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

#define EQ_MAX_OPS 4

typedef struct {
    int ndim;
    int nops;
    int64_t shape[EQ_MAX_DIMS];
    int64_t stride[EQ_MAX_OPS][EQ_MAX_DIMS];  // in elements of each operand
} eq_iter;

/// A row kernel: `n` elements, operand pointers and their element strides along the row.
typedef void (*eq_row_fn)(int64_t n, char *const *ptr, const int64_t *stride, const void *ctx);

static inline size_t eq_dtype_size(int dtype) {
    switch (dtype) {
    case EQ_F32: return 4;
    case EQ_F64: return 8;
    case EQ_I64: return 8;
    default: return 1;
    }
}

/// Builds an iterator, dropping size-1 dimensions and merging dimensions that are contiguous
/// with each other in every operand.
static inline void eq_iter_init(eq_iter *it, int ndim, const int64_t *shape, int nops,
                                const int64_t *const *strides) {
    it->nops = nops;
    int nd = 0;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] == 1) continue;
        if (nd > 0) {
            int mergeable = 1;
            for (int o = 0; o < nops; o++) {
                if (it->stride[o][nd - 1] != strides[o][d] * shape[d]) { mergeable = 0; break; }
            }
            if (mergeable) {
                it->shape[nd - 1] *= shape[d];
                for (int o = 0; o < nops; o++) it->stride[o][nd - 1] = strides[o][d];
                continue;
            }
        }
        it->shape[nd] = shape[d];
        for (int o = 0; o < nops; o++) it->stride[o][nd] = strides[o][d];
        nd++;
    }
    if (nd == 0) {  // a scalar
        it->shape[0] = 1;
        for (int o = 0; o < nops; o++) it->stride[o][0] = 0;
        nd = 1;
    }
    it->ndim = nd;
}

static inline int64_t eq_iter_numel(const eq_iter *it) {
    int64_t n = 1;
    for (int d = 0; d < it->ndim; d++) n *= it->shape[d];
    return n;
}

/// Walks flattened elements [s, e) calling fn once per row segment.
static inline void eq_iter_walk(const eq_iter *it, char *const *base, const size_t *elsize,
                                int64_t s, int64_t e, eq_row_fn fn, const void *ctx) {
    const int nd = it->ndim, nops = it->nops;
    int64_t idx[EQ_MAX_DIMS];
    int64_t rem = s;
    for (int d = nd - 1; d >= 0; d--) {
        idx[d] = rem % it->shape[d];
        rem /= it->shape[d];
    }
    char *p[EQ_MAX_OPS];
    int64_t bst[EQ_MAX_OPS][EQ_MAX_DIMS];
    int64_t inner[EQ_MAX_OPS];
    for (int o = 0; o < nops; o++) {
        p[o] = base[o];
        for (int d = 0; d < nd; d++) {
            bst[o][d] = it->stride[o][d] * (int64_t)elsize[o];
            p[o] += idx[d] * bst[o][d];
        }
        inner[o] = it->stride[o][nd - 1];
    }
    int64_t pos = s;
    const int64_t last = it->shape[nd - 1];
    while (pos < e) {
        int64_t len = last - idx[nd - 1];
        if (len > e - pos) len = e - pos;
        fn(len, p, inner, ctx);
        pos += len;
        if (pos >= e) break;
        idx[nd - 1] += len;
        for (int o = 0; o < nops; o++) p[o] += len * bst[o][nd - 1];
        int d = nd - 1;
        while (d > 0 && idx[d] == it->shape[d]) {
            for (int o = 0; o < nops; o++) p[o] -= it->shape[d] * bst[o][d];
            idx[d] = 0;
            d--;
            idx[d]++;
            for (int o = 0; o < nops; o++) p[o] += bst[o][d];
        }
    }
}

/// Work items per dynamically scheduled chunk: about eight chunks per thread, so a thread that
/// another process holds up does not leave the others waiting at the barrier.
static inline int64_t eq_dynamic_chunk(int64_t items) {
    int64_t c = items / ((int64_t)eq_get_num_threads() * 8);
    return c < 1 ? 1 : c;
}

/// Calls fn(lo, hi, ctx) for consecutive ranges of [0, n) of `chunk` items (on the calling
/// thread alone when `parallel` is 0). Each thread owns an equal contiguous share of the
/// chunks and works through it in order, so a tensor that an op touches again lands on the
/// same core as last time (its half stays in that core's caches); a thread that finishes
/// early then takes chunks from the fronts of the other shares, so a core that another process
/// holds up does not leave the rest waiting at the barrier. OpenMP's own schedule(dynamic) is
/// avoided: recent clang emits a runtime entry point (__kmpc_dispatch_deinit) that the libomp
/// shipped with older LLVMs lacks.
static inline void eq_parallel_chunks(int64_t n, int64_t chunk, int parallel,
                                      void (*fn)(int64_t lo, int64_t hi, void *ctx), void *ctx) {
    enum { MAX_SHARES = 64 };
    const int64_t nchunks = (n + chunk - 1) / chunk;
    int threads = eq_get_num_threads();
    if (!parallel || threads <= 1 || nchunks <= 1) {
        if (n > 0) fn(0, n, ctx);
        return;
    }
    if (threads > nchunks) threads = (int)nchunks;
    if (threads > MAX_SHARES) threads = MAX_SHARES;
    // One cache line per share's counter, so stealing does not bounce the owner's line.
    struct { _Alignas(64) _Atomic int64_t next; } share[MAX_SHARES];
    for (int t = 0; t < threads; t++) atomic_init(&share[t].next, nchunks * t / threads);
#pragma omp parallel num_threads(threads)
    {
        // Every thread visits every share, so a smaller team than asked for still covers all.
        const int me = eq_thread_index();
        for (int k = 0; k < threads; k++) {
            const int owner = (me + k) % threads;
            const int64_t end = nchunks * (owner + 1) / threads;
            for (;;) {
                const int64_t c = atomic_fetch_add_explicit(&share[owner].next, 1, memory_order_relaxed);
                if (c >= end) break;
                const int64_t lo = c * chunk, hi = lo + chunk < n ? lo + chunk : n;
                fn(lo, hi, ctx);
            }
        }
    }
}

typedef struct {
    const eq_iter *it;
    char *const *base;
    const size_t *elsize;
    eq_row_fn fn;
    const void *ctx;
} eq_iter_job;

static void eq_iter_job_run(int64_t lo, int64_t hi, void *vjob) {
    const eq_iter_job *j = vjob;
    eq_iter_walk(j->it, j->base, j->elsize, lo, hi, j->fn, j->ctx);
}

/// Runs fn over the whole iterator, on several threads when it is large enough.
static inline void eq_iter_run(const eq_iter *it, char *const *base, const size_t *elsize,
                               eq_row_fn fn, const void *ctx) {
    const int64_t total = eq_iter_numel(it);
    if (total == 0) return;
    const int threads = eq_get_num_threads();
    if (total < eq_parallel_threshold() || threads <= 1) {
        eq_iter_walk(it, base, elsize, 0, total, fn, ctx);
        return;
    }
    // Chunks are multiples of 16 elements so that vector loops stay aligned, and at least
    // 16K elements so that handing them out costs nothing measurable.
    int64_t chunk = (eq_dynamic_chunk(total) + 15) & ~(int64_t)15;
    if (chunk < 16384) chunk = 16384;
    eq_iter_job job = {it, base, elsize, fn, ctx};
    eq_parallel_chunks(total, chunk, 1, eq_iter_job_run, &job);
}

#endif
