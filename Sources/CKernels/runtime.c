// Threads, counted aligned allocation, per-thread gradient mode and a clock.
#include "ckernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static int eq_threads = 0;
static int64_t eq_threshold = 32768;

/// The default thread count: OpenMP's (OMP_NUM_THREADS or the cores), or the online cores when
/// the kernels are built without OpenMP (they then run serially; OpenBLAS still threads).
static int eq_default_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
#endif
}

void eq_set_num_threads(int n) {
    if (n < 1) n = 1;
    eq_threads = n;
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
    openblas_set_num_threads(n);
}

int eq_get_num_threads(void) { return eq_threads > 0 ? eq_threads : eq_default_threads(); }

int eq_openmp_enabled(void) {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int64_t eq_parallel_threshold(void) { return eq_threshold; }
void eq_set_parallel_threshold(int64_t n) { eq_threshold = n < 1 ? 1 : n; }

// The last-level cache size, or 32 MiB where the system does not say; EQ_STREAM_MB overrides.
// sysfs comes first: inside virtual machines sysconf can report the host's whole L3.
static int64_t eq_llc_bytes(void) {
    int64_t best = 0;
    for (int i = 0; i < 8; i++) {
        char path[96];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        FILE *f = fopen(path, "r");
        if (!f) break;
        long v = 0;
        char unit = 0;
        if (fscanf(f, "%ld%c", &v, &unit) >= 1) {
            int64_t bytes = unit == 'K' ? (int64_t)v << 10 : unit == 'M' ? (int64_t)v << 20 : v;
            if (bytes > best) best = bytes;
        }
        fclose(f);
    }
    if (best <= 0) best = sysconf(_SC_LEVEL3_CACHE_SIZE);
    return best > 0 ? best : (int64_t)32 << 20;
}

// Set once at start-up (below), so kernels on any thread read it without a race.
static int64_t eq_stream_bytes = (int64_t)32 << 20;
int64_t eq_stream_threshold_bytes(void) { return eq_stream_bytes; }
void eq_set_stream_threshold_bytes(int64_t bytes) { eq_stream_bytes = bytes < 0 ? 0 : bytes; }

// EQ_NUM_THREADS and EQ_STREAM_MB are read once, before any Swift code runs.
__attribute__((constructor)) static void eq_runtime_init(void) {
    const char *stream_mb = getenv("EQ_STREAM_MB");
    eq_stream_bytes = stream_mb ? (int64_t)atol(stream_mb) << 20 : eq_llc_bytes();
    const char *env = getenv("EQ_NUM_THREADS");
    int n = env ? atoi(env) : 0;
    if (n > 0) {
        eq_set_num_threads(n);
    } else {
        eq_set_num_threads(eq_default_threads());
    }
}

static _Atomic int64_t live_bytes = 0;
static _Atomic int64_t live_count = 0;
static _Atomic int64_t peak_bytes = 0;

// A cache of freed large blocks, reused by exact (rounded) size. Why: a training step allocates
// and frees the same large buffers every solver iteration; glibc hands blocks above its mmap
// threshold back to the kernel, so each reuse paid for fresh zeroed pages (page faults and
// clear_page took ~20% of a DEQ-Transformer step). The live/peak counters above count tensor
// bytes handed out, never cached blocks. EQ_ALLOC_CACHE_MB caps the cache (0 = off; by default
// the larger of 256 MB and the process's most live tensor bytes, see eq_cache_capacity).
#define EQ_CACHE_MIN_BYTES ((size_t)64 * 1024)
#define EQ_CACHE_BUCKETS 128
typedef struct { size_t size; void *head; } eq_bucket;   // blocks chain through their first word
static eq_bucket eq_buckets[EQ_CACHE_BUCKETS];
static size_t eq_cached_bytes = 0;
static size_t eq_cache_cap = (size_t)-1;                 // read from the environment on first use
static pthread_mutex_t eq_cache_lock = PTHREAD_MUTEX_INITIALIZER;

// The most live tensor bytes the process has held (never reset, unlike peak_bytes).
static _Atomic int64_t high_water_bytes = 0;

// The cache keeps at most EQ_ALLOC_CACHE_MB when that is set; by default it keeps up to the
// larger of 256 MB and the most live tensor bytes the process has held so far: a step whose
// tensors outgrow a fixed cap frees and re-faults the excess every step (the N-th farthest
// RMC at batch 1600 holds ~3 GB: 45 s an epoch with a 256 MB cap, 37 s with 4 GB, same RSS).
static size_t eq_cache_capacity(void) {
    if (eq_cache_cap == (size_t)-1) {
        const char *env = getenv("EQ_ALLOC_CACHE_MB");
        long mb = env ? atol(env) : -1;
        eq_cache_cap = mb >= 0 ? (size_t)mb << 20 : (size_t)-2;   // -2: adaptive
    }
    if (eq_cache_cap != (size_t)-2) return eq_cache_cap;
    const size_t floor = (size_t)256 << 20;
    const size_t high = (size_t)atomic_load(&high_water_bytes);
    return high > floor ? high : floor;
}

static size_t eq_rounded(size_t bytes) {
    size_t r = (bytes + 63) & ~(size_t)63;
    if (r == 0) r = 64;
    // Large blocks round to 4 KiB so that near-equal sizes share a bucket.
    if (r >= EQ_CACHE_MIN_BYTES) r = (r + 4095) & ~(size_t)4095;
    return r;
}

static void *eq_cache_take(size_t rounded) {
    void *p = NULL;
    pthread_mutex_lock(&eq_cache_lock);
    for (int i = 0; i < EQ_CACHE_BUCKETS; i++) {
        if (eq_buckets[i].size == rounded && eq_buckets[i].head) {
            p = eq_buckets[i].head;
            eq_buckets[i].head = *(void **)p;
            eq_cached_bytes -= rounded;
            break;
        }
    }
    pthread_mutex_unlock(&eq_cache_lock);
    return p;
}

// Returns 1 if the block was cached, 0 if the caller must free it.
static int eq_cache_put(void *p, size_t rounded) {
    int kept = 0;
    pthread_mutex_lock(&eq_cache_lock);
    if (eq_cached_bytes + rounded <= eq_cache_capacity()) {
        int slot = -1;
        for (int i = 0; i < EQ_CACHE_BUCKETS; i++) {
            if (eq_buckets[i].size == rounded) { slot = i; break; }
            if (slot < 0 && !eq_buckets[i].head) slot = i;   // an empty bucket can take a new size
        }
        if (slot >= 0) {
            eq_buckets[slot].size = rounded;
            *(void **)p = eq_buckets[slot].head;
            eq_buckets[slot].head = p;
            eq_cached_bytes += rounded;
            kept = 1;
        }
    }
    pthread_mutex_unlock(&eq_cache_lock);
    return kept;
}

// A cache of small blocks (under EQ_CACHE_MIN_BYTES), one free list per 64-byte size class,
// behind a spin lock (tensors are made and dropped on one thread at a time almost always, so it
// is uncontended: an atomic exchange each way). Why: a chain of recorded 8x8 ops spent ~20% of
// its time in glibc's posix_memalign/free (perf on `deq bench autograd`), and every small op
// pays that for its fresh output. At most EQ_SMALL_CACHE_BYTES are kept.
#define EQ_SMALL_CLASSES (EQ_CACHE_MIN_BYTES / 64)
#define EQ_SMALL_CACHE_BYTES ((size_t)16 << 20)
static void *eq_small_heads[EQ_SMALL_CLASSES];
static size_t eq_small_bytes = 0;
static atomic_flag eq_small_lock = ATOMIC_FLAG_INIT;

static inline void eq_small_acquire(void) {
    while (atomic_flag_test_and_set_explicit(&eq_small_lock, memory_order_acquire)) {}
}
static inline void eq_small_unlock(void) { atomic_flag_clear_explicit(&eq_small_lock, memory_order_release); }

static void *eq_small_take(size_t rounded) {
    size_t c = rounded / 64 - 1;
    eq_small_acquire();
    void *p = eq_small_heads[c];
    if (p) {
        eq_small_heads[c] = *(void **)p;
        eq_small_bytes -= rounded;
    }
    eq_small_unlock();
    return p;
}

static int eq_small_put(void *p, size_t rounded) {
    if (eq_cache_capacity() == 0) return 0;
    size_t c = rounded / 64 - 1;
    int kept = 0;
    eq_small_acquire();
    if (eq_small_bytes + rounded <= EQ_SMALL_CACHE_BYTES) {
        *(void **)p = eq_small_heads[c];
        eq_small_heads[c] = p;
        eq_small_bytes += rounded;
        kept = 1;
    }
    eq_small_unlock();
    return kept;
}

static void eq_small_release(void) {
    eq_small_acquire();
    for (size_t c = 0; c < EQ_SMALL_CLASSES; c++) {
        while (eq_small_heads[c]) {
            void *p = eq_small_heads[c];
            eq_small_heads[c] = *(void **)p;
            free(p);
        }
    }
    eq_small_bytes = 0;
    eq_small_unlock();
}

static size_t eq_small_cached(void) {
    eq_small_acquire();
    size_t n = eq_small_bytes;
    eq_small_unlock();
    return n;
}

void eq_alloc_cache_release(void) {
    eq_small_release();
    pthread_mutex_lock(&eq_cache_lock);
    for (int i = 0; i < EQ_CACHE_BUCKETS; i++) {
        while (eq_buckets[i].head) {
            void *p = eq_buckets[i].head;
            eq_buckets[i].head = *(void **)p;
            free(p);
        }
        eq_buckets[i].size = 0;
    }
    eq_cached_bytes = 0;
    pthread_mutex_unlock(&eq_cache_lock);
}

int64_t eq_alloc_cached_bytes(void) {
    pthread_mutex_lock(&eq_cache_lock);
    int64_t n = (int64_t)eq_cached_bytes;
    pthread_mutex_unlock(&eq_cache_lock);
    return n + (int64_t)eq_small_cached();
}

void *eq_alloc(size_t bytes) {
    void *p = NULL;
    size_t rounded = eq_rounded(bytes);
    p = rounded >= EQ_CACHE_MIN_BYTES ? eq_cache_take(rounded) : eq_small_take(rounded);
    if (!p && posix_memalign(&p, 64, rounded) != 0) return NULL;
    int64_t now = atomic_fetch_add(&live_bytes, (int64_t)bytes) + (int64_t)bytes;
    atomic_fetch_add(&live_count, 1);
    int64_t peak = atomic_load(&peak_bytes);
    while (now > peak && !atomic_compare_exchange_weak(&peak_bytes, &peak, now)) {}
    int64_t high = atomic_load(&high_water_bytes);
    while (now > high && !atomic_compare_exchange_weak(&high_water_bytes, &high, now)) {}
    return p;
}

void eq_free(void *p, size_t bytes) {
    if (!p) return;
    size_t rounded = eq_rounded(bytes);
    int kept = rounded < EQ_CACHE_MIN_BYTES ? eq_small_put(p, rounded) : eq_cache_put(p, rounded);
    if (!kept) free(p);
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

// Standard output line-buffered even when redirected (Swift 6 cannot name the C global stdout).
void eq_stdout_line_buffered(void) { setvbuf(stdout, NULL, _IOLBF, 0); }
