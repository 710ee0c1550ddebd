// The few pieces of the CUDA driver API, cuBLAS and NVRTC that Sources/CUDA uses, declared here
// and resolved at run time with dlopen/dlsym: the package builds without a CUDA toolkit, and a
// binary without a GPU fails with a message, not a loader error. Built only with EQ_CUDA=1.
#ifndef CCUDA_H
#define CCUDA_H
#include <stddef.h>
#include <stdint.h>

typedef uint64_t eq_cu_deviceptr;   // CUdeviceptr (64-bit builds)

/// Which libraries were opened (bit 0 driver, 1 cuBLAS, 2 NVRTC).
enum { EQ_CU_HAVE_DRIVER = 1, EQ_CU_HAVE_CUBLAS = 2, EQ_CU_HAVE_NVRTC = 4 };

/// Opens one library by path (or soname) and resolves its symbols. `which` is one of
/// EQ_CU_HAVE_*. Returns 0, or -1 with `err` holding dlerror()/the missing symbol.
int eq_cu_open(int which, const char *path, char *err, size_t errlen);
/// The EQ_CU_HAVE_* bits of the libraries opened so far.
int eq_cu_loaded(void);

// ---- Driver API (every call returns a CUresult; 0 is success) ----
int eq_cu_init(void);
int eq_cu_device_count(int *count);
int eq_cu_device_name(int ordinal, char *name, int len);
int eq_cu_device_capability(int ordinal, int *major, int *minor);
int eq_cu_device_total_mem(int ordinal, size_t *bytes);
int eq_cu_driver_version(int *version);
/// Retains the device's primary context and makes it current on this thread.
int eq_cu_set_device(int ordinal);
int eq_cu_alloc(eq_cu_deviceptr *ptr, size_t bytes);
int eq_cu_free(eq_cu_deviceptr ptr);
int eq_cu_htod(eq_cu_deviceptr dst, const void *src, size_t bytes);
int eq_cu_dtoh(void *dst, eq_cu_deviceptr src, size_t bytes);
int eq_cu_dtod(eq_cu_deviceptr dst, eq_cu_deviceptr src, size_t bytes);
int eq_cu_synchronize(void);
/// Loads a PTX image; `*module` receives the CUmodule.
int eq_cu_module_load_ptx(void **module, const char *ptx);
int eq_cu_module_function(void **function, void *module, const char *name);
/// Launches on the default stream; `params` holds pointers to each argument.
int eq_cu_launch(void *function, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                 unsigned bz, unsigned shared_bytes, void **params);
/// The driver's name for an error code ("CUDA_ERROR_NO_DEVICE"), or NULL.
const char *eq_cu_error_name(int code);

// ---- cuBLAS (returns a cublasStatus_t; 0 is success) ----
int eq_cublas_create(void **handle);
int eq_cublas_destroy(void *handle);
/// Row-major C[m,n] = alpha * A[m,k] B[k,n] + beta * C (op on each input: 't' transposes it).
int eq_cublas_sgemm_rowmajor(void *handle, char ta, char tb, int m, int n, int k, float alpha,
                             eq_cu_deviceptr a, eq_cu_deviceptr b, float beta, eq_cu_deviceptr c);
int eq_cublas_dgemm_rowmajor(void *handle, char ta, char tb, int m, int n, int k, double alpha,
                             eq_cu_deviceptr a, eq_cu_deviceptr b, double beta, eq_cu_deviceptr c);

// ---- NVRTC (returns an nvrtcResult; 0 is success) ----
int eq_nvrtc_version(int *major, int *minor);
/// Compiles CUDA C `source` to PTX for `arch` ("compute_90"). On success `*ptx` is malloc'd
/// (caller frees); on failure `*log` may hold the compiler log (malloc'd, caller frees).
int eq_nvrtc_compile(const char *source, const char *name, const char *arch, char **ptx, char **log);
const char *eq_nvrtc_error_string(int code);

#endif
