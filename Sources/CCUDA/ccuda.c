// Run-time binding of the CUDA driver API, cuBLAS and NVRTC (see include/ccuda.h). Signatures
// follow cuda.h / cublas_api.h / nvrtc.h of CUDA 12 and 13 (the _v2 driver entry points are the
// ones those headers map the plain names to).
#include "ccuda.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef int CUdevice;
typedef void *CUcontext;

static int loaded = 0;

// Driver
static CUresult (*p_cuInit)(unsigned);
static CUresult (*p_cuDriverGetVersion)(int *);
static CUresult (*p_cuDeviceGetCount)(int *);
static CUresult (*p_cuDeviceGet)(CUdevice *, int);
static CUresult (*p_cuDeviceGetName)(char *, int, CUdevice);
static CUresult (*p_cuDeviceGetAttribute)(int *, int, CUdevice);
static CUresult (*p_cuDeviceTotalMem)(size_t *, CUdevice);
static CUresult (*p_cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
static CUresult (*p_cuCtxSetCurrent)(CUcontext);
static CUresult (*p_cuCtxSynchronize)(void);
static CUresult (*p_cuMemAlloc)(eq_cu_deviceptr *, size_t);
static CUresult (*p_cuMemFree)(eq_cu_deviceptr);
static CUresult (*p_cuMemcpyHtoD)(eq_cu_deviceptr, const void *, size_t);
static CUresult (*p_cuMemcpyDtoH)(void *, eq_cu_deviceptr, size_t);
static CUresult (*p_cuMemcpyDtoD)(eq_cu_deviceptr, eq_cu_deviceptr, size_t);
static CUresult (*p_cuModuleLoadData)(void **, const void *);
static CUresult (*p_cuModuleGetFunction)(void **, void *, const char *);
static CUresult (*p_cuLaunchKernel)(void *, unsigned, unsigned, unsigned, unsigned, unsigned,
                                    unsigned, unsigned, void *, void **, void **);
static CUresult (*p_cuGetErrorName)(CUresult, const char **);

// cuBLAS (cublasOperation_t: 0 N, 1 T)
static int (*p_cublasCreate)(void **);
static int (*p_cublasDestroy)(void *);
static int (*p_cublasSgemm)(void *, int, int, int, int, int, const float *, const float *, int,
                            const float *, int, const float *, float *, int);
static int (*p_cublasDgemm)(void *, int, int, int, int, int, const double *, const double *, int,
                            const double *, int, const double *, double *, int);

// NVRTC
typedef void *nvrtcProgram;
static int (*p_nvrtcVersion)(int *, int *);
static int (*p_nvrtcCreateProgram)(nvrtcProgram *, const char *, const char *, int,
                                   const char *const *, const char *const *);
static int (*p_nvrtcCompileProgram)(nvrtcProgram, int, const char *const *);
static int (*p_nvrtcGetPTXSize)(nvrtcProgram, size_t *);
static int (*p_nvrtcGetPTX)(nvrtcProgram, char *);
static int (*p_nvrtcGetProgramLogSize)(nvrtcProgram, size_t *);
static int (*p_nvrtcGetProgramLog)(nvrtcProgram, char *);
static int (*p_nvrtcDestroyProgram)(nvrtcProgram *);
static const char *(*p_nvrtcGetErrorString)(int);

#define BIND(lib, ptr, name)                                                          \
    do {                                                                              \
        *(void **)(&ptr) = dlsym(lib, name);                                          \
        if (!ptr) { snprintf(err, errlen, "%s has no symbol %s", path, name); return -1; } \
    } while (0)

int eq_cu_open(int which, const char *path, char *err, size_t errlen) {
    if (loaded & which) return 0;
    void *lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (!lib) {
        const char *e = dlerror();
        snprintf(err, errlen, "%s", e ? e : "dlopen failed");
        return -1;
    }
    switch (which) {
    case EQ_CU_HAVE_DRIVER:
        BIND(lib, p_cuInit, "cuInit");
        BIND(lib, p_cuDriverGetVersion, "cuDriverGetVersion");
        BIND(lib, p_cuDeviceGetCount, "cuDeviceGetCount");
        BIND(lib, p_cuDeviceGet, "cuDeviceGet");
        BIND(lib, p_cuDeviceGetName, "cuDeviceGetName");
        BIND(lib, p_cuDeviceGetAttribute, "cuDeviceGetAttribute");
        BIND(lib, p_cuDeviceTotalMem, "cuDeviceTotalMem_v2");
        BIND(lib, p_cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
        BIND(lib, p_cuCtxSetCurrent, "cuCtxSetCurrent");
        BIND(lib, p_cuCtxSynchronize, "cuCtxSynchronize");
        BIND(lib, p_cuMemAlloc, "cuMemAlloc_v2");
        BIND(lib, p_cuMemFree, "cuMemFree_v2");
        BIND(lib, p_cuMemcpyHtoD, "cuMemcpyHtoD_v2");
        BIND(lib, p_cuMemcpyDtoH, "cuMemcpyDtoH_v2");
        BIND(lib, p_cuMemcpyDtoD, "cuMemcpyDtoD_v2");
        BIND(lib, p_cuModuleLoadData, "cuModuleLoadData");
        BIND(lib, p_cuModuleGetFunction, "cuModuleGetFunction");
        BIND(lib, p_cuLaunchKernel, "cuLaunchKernel");
        BIND(lib, p_cuGetErrorName, "cuGetErrorName");
        break;
    case EQ_CU_HAVE_CUBLAS:
        BIND(lib, p_cublasCreate, "cublasCreate_v2");
        BIND(lib, p_cublasDestroy, "cublasDestroy_v2");
        BIND(lib, p_cublasSgemm, "cublasSgemm_v2");
        BIND(lib, p_cublasDgemm, "cublasDgemm_v2");
        break;
    case EQ_CU_HAVE_NVRTC:
        BIND(lib, p_nvrtcVersion, "nvrtcVersion");
        BIND(lib, p_nvrtcCreateProgram, "nvrtcCreateProgram");
        BIND(lib, p_nvrtcCompileProgram, "nvrtcCompileProgram");
        BIND(lib, p_nvrtcGetPTXSize, "nvrtcGetPTXSize");
        BIND(lib, p_nvrtcGetPTX, "nvrtcGetPTX");
        BIND(lib, p_nvrtcGetProgramLogSize, "nvrtcGetProgramLogSize");
        BIND(lib, p_nvrtcGetProgramLog, "nvrtcGetProgramLog");
        BIND(lib, p_nvrtcDestroyProgram, "nvrtcDestroyProgram");
        BIND(lib, p_nvrtcGetErrorString, "nvrtcGetErrorString");
        break;
    default:
        snprintf(err, errlen, "unknown library kind %d", which);
        return -1;
    }
    loaded |= which;
    return 0;
}

int eq_cu_loaded(void) { return loaded; }

// ---- Driver ----
// 999 is CUDA_ERROR_UNKNOWN: returned when the driver was never opened (Swift checks first).
#define NEED_DRIVER if (!(loaded & EQ_CU_HAVE_DRIVER)) return 999

int eq_cu_init(void) { NEED_DRIVER; return p_cuInit(0); }
int eq_cu_driver_version(int *v) { NEED_DRIVER; return p_cuDriverGetVersion(v); }
int eq_cu_device_count(int *count) { NEED_DRIVER; return p_cuDeviceGetCount(count); }

int eq_cu_device_name(int ordinal, char *name, int len) {
    NEED_DRIVER;
    CUdevice d;
    CUresult r = p_cuDeviceGet(&d, ordinal);
    return r ? r : p_cuDeviceGetName(name, len, d);
}

int eq_cu_device_capability(int ordinal, int *major, int *minor) {
    NEED_DRIVER;
    CUdevice d;
    CUresult r = p_cuDeviceGet(&d, ordinal);
    if (r) return r;
    // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75, _MINOR = 76
    r = p_cuDeviceGetAttribute(major, 75, d);
    return r ? r : p_cuDeviceGetAttribute(minor, 76, d);
}

int eq_cu_device_total_mem(int ordinal, size_t *bytes) {
    NEED_DRIVER;
    CUdevice d;
    CUresult r = p_cuDeviceGet(&d, ordinal);
    return r ? r : p_cuDeviceTotalMem(bytes, d);
}

// Each device's primary context, retained once (the first call, made under the Swift side's
// lock) and then only made current: every thread that runs a CUDA op calls this first.
#define EQ_CU_MAX_DEVICES 64
static CUcontext contexts[EQ_CU_MAX_DEVICES];

int eq_cu_set_device(int ordinal) {
    NEED_DRIVER;
    if (ordinal < 0 || ordinal >= EQ_CU_MAX_DEVICES) return 101;   /* CUDA_ERROR_INVALID_DEVICE */
    if (!contexts[ordinal]) {
        CUdevice d;
        CUcontext ctx;
        CUresult r = p_cuDeviceGet(&d, ordinal);
        if (r) return r;
        r = p_cuDevicePrimaryCtxRetain(&ctx, d);
        if (r) return r;
        contexts[ordinal] = ctx;
    }
    return p_cuCtxSetCurrent(contexts[ordinal]);
}

int eq_cu_alloc(eq_cu_deviceptr *ptr, size_t bytes) { NEED_DRIVER; return p_cuMemAlloc(ptr, bytes ? bytes : 1); }
int eq_cu_free(eq_cu_deviceptr ptr) { NEED_DRIVER; return p_cuMemFree(ptr); }
int eq_cu_htod(eq_cu_deviceptr d, const void *s, size_t n) { NEED_DRIVER; return n ? p_cuMemcpyHtoD(d, s, n) : 0; }
int eq_cu_dtoh(void *d, eq_cu_deviceptr s, size_t n) { NEED_DRIVER; return n ? p_cuMemcpyDtoH(d, s, n) : 0; }
int eq_cu_dtod(eq_cu_deviceptr d, eq_cu_deviceptr s, size_t n) { NEED_DRIVER; return n ? p_cuMemcpyDtoD(d, s, n) : 0; }
int eq_cu_synchronize(void) { NEED_DRIVER; return p_cuCtxSynchronize(); }
int eq_cu_module_load_ptx(void **m, const char *ptx) { NEED_DRIVER; return p_cuModuleLoadData(m, ptx); }
int eq_cu_module_function(void **f, void *m, const char *name) { NEED_DRIVER; return p_cuModuleGetFunction(f, m, name); }

int eq_cu_launch(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                 unsigned bz, unsigned shared, void **params) {
    NEED_DRIVER;
    return p_cuLaunchKernel(f, gx, gy, gz, bx, by, bz, shared, NULL, params, NULL);
}

const char *eq_cu_error_name(int code) {
    const char *s = NULL;
    if ((loaded & EQ_CU_HAVE_DRIVER) && p_cuGetErrorName(code, &s) == 0) return s;
    return NULL;
}

// ---- cuBLAS ----
#define NEED_CUBLAS if (!(loaded & EQ_CU_HAVE_CUBLAS)) return 1   /* CUBLAS_STATUS_NOT_INITIALIZED */

int eq_cublas_create(void **h) { NEED_CUBLAS; return p_cublasCreate(h); }
int eq_cublas_destroy(void *h) { NEED_CUBLAS; return p_cublasDestroy(h); }

// Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands, keep each
// one's transpose flag; a row-major [r, c] matrix is a column-major one with leading dimension c.
#define GEMM_ROWMAJOR(fn, T)                                                                \
    NEED_CUBLAS;                                                                            \
    int opa = (ta == 't' || ta == 'T'), opb = (tb == 't' || tb == 'T');                     \
    int lda = opa ? m : k, ldb = opb ? k : n;                                               \
    return fn(handle, opb, opa, n, m, k, &alpha, (const T *)(uintptr_t)b, ldb,              \
              (const T *)(uintptr_t)a, lda, &beta, (T *)(uintptr_t)c, n)

int eq_cublas_sgemm_rowmajor(void *handle, char ta, char tb, int m, int n, int k, float alpha,
                             eq_cu_deviceptr a, eq_cu_deviceptr b, float beta, eq_cu_deviceptr c) {
    GEMM_ROWMAJOR(p_cublasSgemm, float);
}

int eq_cublas_dgemm_rowmajor(void *handle, char ta, char tb, int m, int n, int k, double alpha,
                             eq_cu_deviceptr a, eq_cu_deviceptr b, double beta, eq_cu_deviceptr c) {
    GEMM_ROWMAJOR(p_cublasDgemm, double);
}

// ---- NVRTC ----
#define NEED_NVRTC if (!(loaded & EQ_CU_HAVE_NVRTC)) return 7   /* NVRTC_ERROR_INTERNAL_ERROR */

int eq_nvrtc_version(int *major, int *minor) { NEED_NVRTC; return p_nvrtcVersion(major, minor); }

const char *eq_nvrtc_error_string(int code) {
    return (loaded & EQ_CU_HAVE_NVRTC) ? p_nvrtcGetErrorString(code) : NULL;
}

int eq_nvrtc_compile(const char *source, const char *name, const char *arch, char **ptx, char **log) {
    NEED_NVRTC;
    *ptx = NULL;
    *log = NULL;
    nvrtcProgram prog;
    int r = p_nvrtcCreateProgram(&prog, source, name, 0, NULL, NULL);
    if (r) return r;
    char archopt[64];
    snprintf(archopt, sizeof archopt, "--gpu-architecture=%s", arch);
    // Full-precision math: the float64 results are compared with the CPU to 1e-10.
    const char *opts[] = {archopt, "--std=c++17", "--fmad=false"};
    r = p_nvrtcCompileProgram(prog, 3, opts);
    if (r) {
        size_t n = 0;
        if (p_nvrtcGetProgramLogSize(prog, &n) == 0 && n > 1) {
            *log = malloc(n);
            if (*log && p_nvrtcGetProgramLog(prog, *log) != 0) { free(*log); *log = NULL; }
        }
        p_nvrtcDestroyProgram(&prog);
        return r;
    }
    size_t n = 0;
    r = p_nvrtcGetPTXSize(prog, &n);
    if (!r) {
        *ptx = malloc(n);
        r = *ptx ? p_nvrtcGetPTX(prog, *ptx) : 7;
        if (r) { free(*ptx); *ptx = NULL; }
    }
    p_nvrtcDestroyProgram(&prog);
    return r;
}
