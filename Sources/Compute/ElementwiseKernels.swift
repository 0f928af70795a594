/// The training step's elementwise work as CUDA C, compiled at run time by NVRTC for the device at
/// hand (as CuPy compiles its elementwise kernels), so podgap needs no nvcc and no CUDA at build
/// time. Each kernel mirrors a CPUBackend loop; `kernelNames` lists them in launch-argument order.
///
/// Every kernel walks its elements with a grid-stride loop, so any grid covers any count; counts
/// are `long long` so that layers past 2^31 elements stay exact. The source is also valid C once
/// `hostPrelude` defines the CUDA built-ins, which is how the tests run it on a machine with no GPU.
public enum ElementwiseKernels {
    public static let source = #"""
    // podgap's elementwise kernels (see Sources/Compute/ElementwiseKernels.swift).
    #ifndef PODGAP_HOST
    #define PODGAP_KERNEL extern "C" __global__ void
    #endif

    // ReLU in place: negative values become 0 (CPUBackend.rectify).
    PODGAP_KERNEL podgap_relu(float *values, long long count) {
        for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count;
             i += (long long)blockDim.x * gridDim.x) {
            if (values[i] < 0.0f) values[i] = 0.0f;
        }
    }

    // The gradient through a ReLU: 0 where the activation was clipped (CPUBackend.maskRectified).
    PODGAP_KERNEL podgap_relu_mask(float *gradient, const float *activation, long long count) {
        for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count;
             i += (long long)blockDim.x * gridDim.x) {
            if (activation[i] <= 0.0f) gradient[i] = 0.0f;
        }
    }

    // delta = scale (output - target); the squared error summed into *sum, in double as on the
    // host (CPUBackend.lossGradient). The caller zeroes *sum first. One atomic per thread: the
    // output layer is batch x width elements, small next to the GEMMs.
    PODGAP_KERNEL podgap_loss_gradient(const float *outputs, const float *targets, float *delta,
                                       double *sum, float scale, long long count) {
        double local = 0.0;
        for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count;
             i += (long long)blockDim.x * gridDim.x) {
            float difference = outputs[i] - targets[i];
            float squared = difference * difference;
            local += (double)squared;
            delta[i] = difference * scale;
        }
        if (local != 0.0) atomicAdd(sum, local);
    }

    // y += alpha x (the SGD step with alpha = -rate), one rounding as saxpy's FMA has.
    PODGAP_KERNEL podgap_add_scaled(const float *x, float alpha, float *y, long long count) {
        for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count;
             i += (long long)blockDim.x * gridDim.x) {
            y[i] = fmaf(alpha, x[i], y[i]);
        }
    }
    """#

    /// The kernels' names, as `extern "C"` keeps them in the compiled module.
    public static let relu = "podgap_relu"
    public static let reluMask = "podgap_relu_mask"
    public static let lossGradient = "podgap_loss_gradient"
    public static let addScaled = "podgap_add_scaled"
    public static let kernelNames = [relu, reluMask, lossGradient, addScaled]

    /// Threads per block, and the most blocks a launch uses (grid-stride loops cover the rest):
    /// 256 x 1024 threads keep every SM of an H200 (132) busy for elementwise work.
    public static let threadsPerBlock = 256
    public static let maximumBlocks = 1024

    public static func blocks(for count: Int) -> Int {
        max(1, min(maximumBlocks, (count + threadsPerBlock - 1) / threadsPerBlock))
    }

    /// What a C compiler needs to compile `source` for the host: the CUDA built-ins a kernel uses,
    /// with one thread's indices set by the caller's loop over the grid.
    public static let hostPrelude = #"""
    #define PODGAP_HOST 1
    #include <math.h>
    typedef struct { unsigned int x, y, z; } podgap_dim3;
    static podgap_dim3 threadIdx, blockIdx, blockDim, gridDim;
    #define PODGAP_KERNEL void
    static void atomicAdd(double *address, double value) { *address += value; }
    """#
}
