// Threads, counted aligned allocation, per-thread gradient mode and a clock.
#include "ckernels.h"
#include <omp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static int eq_threads = 0;
static int64_t eq_threshold = 32768;

void eq_set_num_threads(int n) {
    if (n < 1) n = 1;
    eq_threads = n;
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
}

int eq_get_num_threads(void) { return eq_threads > 0 ? eq_threads : omp_get_max_threads(); }

int64_t eq_parallel_threshold(void) { return eq_threshold; }
void eq_set_parallel_threshold(int64_t n) { eq_threshold = n < 1 ? 1 : n; }

// EQ_NUM_THREADS is read once, before any Swift code runs.
__attribute__((constructor)) static void eq_runtime_init(void) {
    const char *env = getenv("EQ_NUM_THREADS");
    int n = env ? atoi(env) : 0;
    if (n > 0) {
        eq_set_num_threads(n);
    } else {
        eq_set_num_threads(omp_get_max_threads());
    }
}

static _Atomic int64_t live_bytes = 0;
static _Atomic int64_t live_count = 0;
static _Atomic int64_t peak_bytes = 0;

// Blocks come from malloc with 64 spare bytes, aligned by hand, with malloc's pointer stored
// just before the block. posix_memalign instead returns its alignment slack to the heap, so a
// freed block is slightly smaller than the next request of the same size; when anything was
// allocated after it (libomp does, in parallel regions) the heap grew by a fresh block on
// every call, and every large tensor page-faulted all of its memory again.
void *eq_alloc(size_t bytes) {
    size_t rounded = (bytes + 63) & ~(size_t)63;
    if (rounded == 0) rounded = 64;
    char *raw = malloc(rounded + 64);
    if (!raw) return NULL;
    void *p = (void *)(((uintptr_t)raw + 64) & ~(uintptr_t)63);
    ((void **)p)[-1] = raw;
    int64_t now = atomic_fetch_add(&live_bytes, (int64_t)bytes) + (int64_t)bytes;
    atomic_fetch_add(&live_count, 1);
    int64_t peak = atomic_load(&peak_bytes);
    while (now > peak && !atomic_compare_exchange_weak(&peak_bytes, &peak, now)) {}
    return p;
}

void eq_free(void *p, size_t bytes) {
    if (!p) return;
    free(((void **)p)[-1]);
    atomic_fetch_sub(&live_bytes, (int64_t)bytes);
    atomic_fetch_sub(&live_count, 1);
}

int64_t eq_live_bytes(void) { return atomic_load(&live_bytes); }
int64_t eq_live_allocations(void) { return atomic_load(&live_count); }
int64_t eq_peak_bytes(void) { return atomic_load(&peak_bytes); }
int64_t eq_reset_peak_bytes(void) {
    int64_t now = atomic_load(&live_bytes);
    atomic_store(&peak_bytes, now);
    return now;
}

static _Thread_local int grad_disabled = 0;
int eq_grad_enabled(void) { return !grad_disabled; }
void eq_set_grad_enabled(int enabled) { grad_disabled = !enabled; }

int64_t eq_peak_scope_begin(void) {
    int64_t enclosing = atomic_load(&peak_bytes);
    atomic_store(&peak_bytes, atomic_load(&live_bytes));
    return enclosing;
}

int64_t eq_peak_scope_end(int64_t enclosing_peak) {
    int64_t scope = atomic_load(&peak_bytes);
    if (enclosing_peak > scope) atomic_store(&peak_bytes, enclosing_peak);
    return scope;
}

uint64_t eq_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
