/// Where a training step computes. A GPU backend is made before MPI starts (its device chosen, its
/// context current, its kernels compiled), so that a missing device or library is reported
/// before any MPI traffic, and a CUDA-aware MPI finds the device already selected.
public enum ComputeTarget {
    case cpu
    case cuda(CUDABackend)

    public var device: ComputeDevice {
        switch self {
        case .cpu: return .cpu
        case .cuda: return .cuda
        }
    }
}
