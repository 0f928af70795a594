/*
 * A stand-in for the CUDA driver, cuBLAS, NVRTC and NCCL, in host memory, for testing podgap's
 * CUDA code paths on a machine with no GPU. It is a test fixture, not a GPU: it checks that
 * podgap calls each library as its header declares (symbol names, argument order and types,
 * enum values), and runs the training step's real kernel source (compiled for the host with
 * ElementwiseKernels.hostPrelude) one thread at a time. Streams run everything at once, so it
 * cannot show overlap or races; a real GPU host runs the same tests against the real libraries.
 *
 * Built four times by CUDAFakeTests, one library per -D:
 *   FAKE_DRIVER  -> libcuda.so.1      (with -include kernels.c, the real kernel source)
 *   FAKE_CUBLAS  -> libcublas.so.13
 *   FAKE_NVRTC   -> libnvrtc.so.13
 *   FAKE_NCCL    -> libnccl.so.2      (built with mpicc: its allreduce is MPI_Allreduce)
 * Knobs: FAKE_CUDA_DEVICES (device count, default 1), FAKE_CUDA_INIT_FAILS=1 (cuInit fails),
 * FAKE_NVRTC_FAILS=1 (compilation fails).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fake_env_int(const char *name, int fallback) {
    const char *value = getenv(name);
    return value ? atoi(value) : fallback;
}

#ifdef FAKE_DRIVER
typedef unsigned long long CUdeviceptr;

int cuInit(unsigned int flags) { return (flags == 0 && !fake_env_int("FAKE_CUDA_INIT_FAILS", 0)) ? 0 : 3; }
int cuDriverGetVersion(int *version) { *version = 13000; return 0; }
int cuDeviceGetCount(int *count) {
    *count = fake_env_int("FAKE_CUDA_DEVICES", 1);
    return *count > 0 ? 0 : 100; /* CUDA_ERROR_NO_DEVICE */
}
int cuDeviceGet(int *device, int ordinal) {
    if (ordinal < 0 || ordinal >= fake_env_int("FAKE_CUDA_DEVICES", 1)) return 101; /* INVALID_DEVICE */
    *device = ordinal;
    return 0;
}
int cuDeviceGetName(char *name, int length, int device) { snprintf(name, length, "Fake CUDA Device %d", device); return 0; }
int cuDeviceTotalMem_v2(size_t *bytes, int device) { (void)device; *bytes = (size_t)1 << 30; return 0; }
int cuDeviceGetAttribute(int *value, int attribute, int device) {
    (void)device;
    if (attribute == 75) { *value = 9; return 0; } /* COMPUTE_CAPABILITY_MAJOR */
    if (attribute == 76) { *value = 0; return 0; } /* COMPUTE_CAPABILITY_MINOR */
    return 1; /* CUDA_ERROR_INVALID_VALUE: podgap asks for nothing else */
}
int cuDeviceGetPCIBusId(char *bus, int length, int device) { snprintf(bus, length, "0000:%02X:00.0", 0x65 + device); return 0; }
int cuDeviceGetUuid_v2(unsigned char *uuid, int device) {
    for (int i = 0; i < 16; i++) uuid[i] = (unsigned char)(0x10 * device + i);
    return 0;
}
static int fake_context;
int cuDevicePrimaryCtxRetain(void **context, int device) { (void)device; *context = &fake_context; return 0; }
int cuDevicePrimaryCtxRelease_v2(int device) { (void)device; return 0; }
int cuCtxSetCurrent(void *context) { return (context == NULL || context == &fake_context) ? 0 : 201; }

int cuMemAlloc_v2(CUdeviceptr *pointer, size_t bytes) {
    void *memory = NULL;
    if (posix_memalign(&memory, 256, bytes ? bytes : 1) != 0) return 2; /* OUT_OF_MEMORY */
    memset(memory, 0xA5, bytes); /* not zero: podgap must clear what it relies on */
    *pointer = (CUdeviceptr)(uintptr_t)memory;
    return 0;
}
int cuMemFree_v2(CUdeviceptr pointer) { free((void *)(uintptr_t)pointer); return 0; }
int cuMemAllocHost_v2(void **pointer, size_t bytes) { *pointer = malloc(bytes ? bytes : 1); return *pointer ? 0 : 2; }
int cuMemFreeHost(void *pointer) { free(pointer); return 0; }
int cuMemGetInfo_v2(size_t *free_bytes, size_t *total) { *free_bytes = (size_t)1 << 29; *total = (size_t)1 << 30; return 0; }
int cuMemcpyHtoDAsync_v2(CUdeviceptr device, const void *host, size_t bytes, void *stream) {
    (void)stream; memcpy((void *)(uintptr_t)device, host, bytes); return 0;
}
int cuMemcpyDtoHAsync_v2(void *host, CUdeviceptr device, size_t bytes, void *stream) {
    (void)stream; memcpy(host, (const void *)(uintptr_t)device, bytes); return 0;
}
int cuMemsetD32Async(CUdeviceptr device, unsigned int value, size_t count, void *stream) {
    (void)stream;
    unsigned int *words = (unsigned int *)(uintptr_t)device;
    for (size_t i = 0; i < count; i++) words[i] = value;
    return 0;
}

static int fake_stream_token, fake_event_token;
int cuStreamCreate(void **stream, unsigned int flags) { *stream = &fake_stream_token; return flags == 1 ? 0 : 1; }
int cuStreamDestroy_v2(void *stream) { (void)stream; return 0; }
int cuStreamSynchronize(void *stream) { (void)stream; return 0; }
int cuStreamQuery(void *stream) { (void)stream; return 0; }
int cuStreamWaitEvent(void *stream, void *event, unsigned int flags) { (void)stream; return (event && flags == 0) ? 0 : 1; }
int cuEventCreate(void **event, unsigned int flags) { *event = &fake_event_token; return flags == 2 ? 0 : 1; }
int cuEventRecord(void *event, void *stream) { (void)stream; return event ? 0 : 1; }
int cuEventQuery(void *event) { (void)event; return 0; }
int cuEventSynchronize(void *event) { (void)event; return 0; }
int cuEventDestroy_v2(void *event) { (void)event; return 0; }

static const char fake_cubin[] = "FAKECUBIN sm_90";
typedef struct { const char *name; } fake_function;
static fake_function fake_functions[] = {
    {"podgap_relu"}, {"podgap_relu_mask"}, {"podgap_loss_gradient"}, {"podgap_add_scaled"},
};
static int fake_module;
int cuModuleLoadData(void **module, const void *image) {
    if (strncmp((const char *)image, fake_cubin, sizeof fake_cubin - 1) != 0) return 200; /* INVALID_IMAGE */
    *module = &fake_module;
    return 0;
}
int cuModuleGetFunction(void **function, void *module, const char *name) {
    if (module != &fake_module) return 400;
    for (size_t i = 0; i < sizeof fake_functions / sizeof fake_functions[0]; i++) {
        if (strcmp(fake_functions[i].name, name) == 0) { *function = &fake_functions[i]; return 0; }
    }
    return 500; /* CUDA_ERROR_NOT_FOUND */
}

/* One launch: every thread of the grid in turn, with the kernel's own arguments read from
 * kernelParams as the real driver reads them (one pointer per argument, in order). */
#define FAKE_GRID(call) \
    for (unsigned int b = 0; b < gridX; b++) for (unsigned int t = 0; t < blockX; t++) { \
        blockIdx.x = b; threadIdx.x = t; call; }
#define ARG(type, index) (*(type *)params[index])

int cuLaunchKernel(void *function, unsigned int gridX, unsigned int gridY, unsigned int gridZ,
                   unsigned int blockX, unsigned int blockY, unsigned int blockZ, unsigned int shared,
                   void *stream, void **params, void **extra) {
    (void)stream;
    if (gridY != 1 || gridZ != 1 || blockY != 1 || blockZ != 1 || shared != 0 || extra != NULL || params == NULL) return 1;
    blockDim.x = blockX; gridDim.x = gridX;
    const char *name = ((fake_function *)function)->name;
    if (strcmp(name, "podgap_relu") == 0) {
        FAKE_GRID(podgap_relu(ARG(float *, 0), ARG(long long, 1)))
    } else if (strcmp(name, "podgap_relu_mask") == 0) {
        FAKE_GRID(podgap_relu_mask(ARG(float *, 0), ARG(const float *, 1), ARG(long long, 2)))
    } else if (strcmp(name, "podgap_loss_gradient") == 0) {
        FAKE_GRID(podgap_loss_gradient(ARG(const float *, 0), ARG(const float *, 1), ARG(float *, 2),
                                       ARG(double *, 3), ARG(float, 4), ARG(long long, 5)))
    } else if (strcmp(name, "podgap_add_scaled") == 0) {
        FAKE_GRID(podgap_add_scaled(ARG(const float *, 0), ARG(float, 1), ARG(float *, 2), ARG(long long, 3)))
    } else {
        return 500;
    }
    return 0;
}

int cuGetErrorName(int error, const char **text) {
    static char buffer[64];
    snprintf(buffer, sizeof buffer, "FAKE_CUDA_ERROR_%d", error);
    *text = buffer;
    return 0;
}
#endif /* FAKE_DRIVER */

#ifdef FAKE_CUBLAS
static int fake_handle;
int cublasCreate_v2(void **handle) { *handle = &fake_handle; return 0; }
int cublasDestroy_v2(void *handle) { return handle == &fake_handle ? 0 : 1; }
int cublasSetStream_v2(void *handle, void *stream) { return (handle == &fake_handle && stream) ? 0 : 1; }
int cublasGetVersion_v2(void *handle, int *version) { (void)handle; *version = 130002; return 0; }
const char *cublasGetStatusString(int status) { return status == 7 ? "CUBLAS_STATUS_INVALID_VALUE" : "CUBLAS_STATUS_UNKNOWN"; }

/* Column-major C = op(A) op(B), as cuBLAS defines it: op(A) is m x k, op(B) is k x n. */
static void fake_gemm(int transa, int transb, int m, int n, int k, float alpha, const float *a, int lda,
                      const float *b, int ldb, float beta, float *c, int ldc) {
    for (int j = 0; j < n; j++) for (int i = 0; i < m; i++) {
        float sum = 0;
        for (int p = 0; p < k; p++) {
            float x = transa ? a[p + (long)i * lda] : a[i + (long)p * lda];
            float y = transb ? b[j + (long)p * ldb] : b[p + (long)j * ldb];
            sum += x * y;
        }
        c[i + (long)j * ldc] = alpha * sum + (beta == 0 ? 0 : beta * c[i + (long)j * ldc]);
    }
}

static int fake_check_shape(int transa, int transb, int m, int n, int k, int lda, int ldb, int ldc) {
    if ((transa != 0 && transa != 1) || (transb != 0 && transb != 1) || m < 0 || n < 0 || k < 0) return 7;
    if (lda < (transa ? k : m) || ldb < (transb ? n : k) || ldc < m) return 7;
    return 0;
}

int cublasGemmEx(void *handle, int transa, int transb, int m, int n, int k, const void *alpha,
                 const void *a, int atype, int lda, const void *b, int btype, int ldb, const void *beta,
                 void *c, int ctype, int ldc, int compute, int algo) {
    if (handle != &fake_handle) return 1;
    /* CUDA_R_32F everywhere; CUBLAS_COMPUTE_32F, _FAST_16BF or _FAST_TF32; CUBLAS_GEMM_DEFAULT. */
    if (atype != 0 || btype != 0 || ctype != 0 || (compute != 68 && compute != 75 && compute != 77) || algo != -1) return 7;
    int shape = fake_check_shape(transa, transb, m, n, k, lda, ldb, ldc);
    if (shape) return shape;
    fake_gemm(transa, transb, m, n, k, *(const float *)alpha, a, lda, b, ldb, *(const float *)beta, c, ldc);
    return 0;
}

int cublasSgemm_v2(void *handle, int transa, int transb, int m, int n, int k, const float *alpha,
                   const float *a, int lda, const float *b, int ldb, const float *beta, float *c, int ldc) {
    if (handle != &fake_handle) return 1;
    int shape = fake_check_shape(transa, transb, m, n, k, lda, ldb, ldc);
    if (shape) return shape;
    fake_gemm(transa, transb, m, n, k, *alpha, a, lda, b, ldb, *beta, c, ldc);
    return 0;
}
#endif /* FAKE_CUBLAS */

#ifdef FAKE_NVRTC
typedef struct { char *source; int compiled; } fake_program;
int nvrtcVersion(int *major, int *minor) { *major = 13; *minor = 0; return 0; }
int nvrtcCreateProgram(fake_program **program, const char *source, const char *name, int headers,
                       const char *const *contents, const char *const *names) {
    (void)name; (void)contents; (void)names;
    if (headers != 0) return 3;
    *program = calloc(1, sizeof(fake_program));
    (*program)->source = strdup(source);
    return 0;
}
int nvrtcCompileProgram(fake_program *program, int count, const char *const *options) {
    int architecture = 0;
    for (int i = 0; i < count; i++) if (strcmp(options[i], "--gpu-architecture=sm_90") == 0) architecture = 1;
    if (!architecture || fake_env_int("FAKE_NVRTC_FAILS", 0)) return 6; /* NVRTC_ERROR_COMPILATION */
    if (!strstr(program->source, "extern \"C\" __global__ void")) return 6;
    program->compiled = 1;
    return 0;
}
static const char fake_log[] = "fake_source.cu(1): error: this is the fake NVRTC failing on purpose";
int nvrtcGetProgramLogSize(fake_program *program, size_t *size) { *size = program->compiled ? 1 : sizeof fake_log; return 0; }
int nvrtcGetProgramLog(fake_program *program, char *log) { strcpy(log, program->compiled ? "" : fake_log); return 0; }
static const char fake_cubin[] = "FAKECUBIN sm_90";
int nvrtcGetCUBINSize(fake_program *program, size_t *size) { *size = sizeof fake_cubin; return program->compiled ? 0 : 4; }
int nvrtcGetCUBIN(fake_program *program, char *cubin) { memcpy(cubin, fake_cubin, sizeof fake_cubin); return program->compiled ? 0 : 4; }
int nvrtcDestroyProgram(fake_program **program) { free((*program)->source); free(*program); *program = NULL; return 0; }
const char *nvrtcGetErrorString(int status) { return status == 6 ? "NVRTC_ERROR_COMPILATION" : "NVRTC_ERROR"; }
#endif /* FAKE_NVRTC */

#ifdef FAKE_NCCL
#include <mpi.h>
typedef struct { char internal[128]; } ncclUniqueId;
typedef struct { int ranks, rank; } fake_comm;
int ncclGetVersion(int *version) { *version = 22803; return 0; }
int ncclGetUniqueId(ncclUniqueId *id) {
    for (int i = 0; i < 128; i++) id->internal[i] = (char)((i * 7 + 3) ^ (int)getpid());
    return 0;
}
/* The id arrives by value: every rank must hold the same 128 bytes, and the ranks must be MPI's. */
int ncclCommInitRank(fake_comm **comm, int ranks, ncclUniqueId id, int rank) {
    int size = 0, me = -1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    unsigned long long sum = 0;
    for (int i = 0; i < 128; i++) sum = sum * 131 + (unsigned char)id.internal[i];
    unsigned long long low = 0, high = 0;
    MPI_Allreduce(&sum, &low, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&sum, &high, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    if (low != high || ranks != size || rank != me) return 4; /* ncclInvalidArgument */
    *comm = malloc(sizeof(fake_comm));
    (*comm)->ranks = ranks; (*comm)->rank = rank;
    return 0;
}
int ncclAllReduce(const void *send, void *receive, size_t count, int type, int op, fake_comm *comm, void *stream) {
    if (!comm || !stream || type != 7 || op != 0) return 4; /* ncclFloat32, ncclSum */
    MPI_Allreduce(send == receive ? MPI_IN_PLACE : send, receive, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    return 0;
}
int ncclCommDestroy(fake_comm *comm) { free(comm); return 0; }
int ncclCommGetAsyncError(fake_comm *comm, int *result) { (void)comm; *result = 0; return 0; }
const char *ncclGetErrorString(int result) { return result == 4 ? "invalid argument (fake NCCL)" : "fake NCCL error"; }
#endif /* FAKE_NCCL */
