// Choosing OpenBLAS's kernels on CPUs its build does not know.
//
// Debian's OpenBLAS (0.3.21, DYNAMIC_ARCH) picks its kernels from the CPU model number. On a
// CPU newer than the build — measured here: an Intel Xeon of family 6, model 207 (Emerald
// Rapids, AVX-512) — it falls back to "Prescott", its SSE3 kernels: one training step of the
// small adaptive-span model took 462 ms instead of 186 ms with the SkylakeX kernels (2 threads).
// The same build on an AMD EPYC of family 26 (Zen 5, AVX-512) recognises the CPU as "Zen" and
// runs its AVX2 (Haswell) kernels: sgemm_1024 at 218 GFLOP/s against 423 GFLOP/s with the
// SkylakeX kernels, and one training step of the reference RMC language model in 7.2 s instead
// of 4.4 s (2 threads, measured side by side). So on a CPU with AVX-512, a core without AVX-512
// kernels (Haswell, Zen, SandyBridge and older) is replaced by SkylakeX as well.
// OpenBLAS reads OPENBLAS_CORETYPE only while it loads, so `deq` asks this file which core the
// CPU's features allow and, when OpenBLAS chose a generic one, runs itself again with the
// variable set (BLASCore.swift). A variable the user or the machine set is always kept.
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ckernels.h"

extern char *openblas_get_corename(void);

const char *eq_blas_core_name(void) {
    const char *name = openblas_get_corename();
    return name ? name : "unknown";
}

static const char *faster_core(void);

const char *eq_blas_recommended_core(void) {
    return getenv("OPENBLAS_CORETYPE") != NULL ? NULL : faster_core();
}

const char *eq_blas_faster_core(void) { return faster_core(); }

static const char *faster_core(void) {
    const char *current = eq_blas_core_name();
    // Generic fallbacks are replaced, and on a CPU with AVX-512 the cores whose kernels stop at
    // AVX2; any other core OpenBLAS recognised is its own choice.
    static const char *generic[] = {"prescott", "core2", "katmai", "coppermine", "northwood", "banias", "atom", "nehalem", "unknown"};
    int fallback = 0;
    for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++) {
        if (strcasecmp(current, generic[i]) == 0) fallback = 1;
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    // Recognised cores whose kernels stop at AVX2 (or AVX): slower than SkylakeX's where AVX-512 runs.
    static const char *without_avx512[] = {"haswell", "zen", "sandybridge", "excavator", "steamroller", "piledriver", "bulldozer"};
    int narrow = 0;
    for (size_t i = 0; i < sizeof without_avx512 / sizeof without_avx512[0]; i++) {
        if (strcasecmp(current, without_avx512[i]) == 0) narrow = 1;
    }
    if (!fallback && !(avx512 && narrow)) return NULL;
    if (avx512) return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
    if (__builtin_cpu_supports("avx")) return "SandyBridge";
#else
    if (!fallback) return NULL;
#endif
    return NULL;
}
