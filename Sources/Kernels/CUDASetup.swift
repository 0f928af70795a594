import CUDA
import MPI
import Foundation

/// Everything a GPU training step needs, checked and made before MPI starts: the driver and a
/// device, the libraries the reducer and the GEMMs need, the rank's device chosen by its local
/// rank, its context current, and the elementwise kernels compiled. A missing piece is a
/// `CUDAError` whose `isMissing` says the hardware or a library is absent (exit 3).
public struct CUDASetup {
    public let backend: CUDABackend
    public let choice: DeviceChoice
    /// Every device the driver sees on this node, by ordinal.
    public let devices: [DeviceProperties]
    /// The driver's CUDA version ("13.0").
    public let driverVersion: String
    public let cublasVersion: String
    public let nvrtcVersion: String
    /// Where NCCL reduces: its version ("2.28.3").
    public let ncclVersion: String?

    public static func prepare(precision: Precision, reduction: GradientReduction,
                               localRank: Int, localSize: Int,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> CUDASetup {
        let driver = try Driver.load()
        let count = try driver.deviceCount()
        guard count > 0 else { throw CUDAError.noDevice("the driver (CUDA \(try driver.version())) sees no GPU") }
        var ncclVersion: String?
        switch reduction {
        case .nccl:
            ncclVersion = try NCCL().version()
        case .mpiCUDA:
            // MPIX_Query_cuda_support's answer, read through MPI_T before MPI starts.
            guard MPI.cudaSupport() == true else {
                throw CUDAError.missingLibrary("--reducer mpi-cuda: this MPI (\(MPI.libraryVersion.split(separator: ",").first ?? "")) was built or run without CUDA support (mpi_cuda_support is off); use --reducer mpi-staged or nccl")
            }
        case .mpi, .mpiStaged:
            break
        }
        let choice = DeviceChoice(localRank: localRank, localSize: localSize, devices: count,
                                  visibleDevicesSet: environment["CUDA_VISIBLE_DEVICES"] != nil)
        // NCCL: "Using the same CUDA device multiple times as different ranks of the same NCCL
        // communicator is not supported and may lead to hangs" (NCCL user guide, Communicators).
        if reduction == .nccl, choice.shared {
            throw CUDAError.tooFewDevices("--reducer nccl needs one GPU per rank: \(localSize) ranks on this node share \(count) GPU(s); run \(count) rank(s) per node, or use --reducer mpi-staged")
        }
        let devices = try (0..<count).map { try driver.properties(ofDevice: $0) }
        let context = try DeviceContext(driver: driver, ordinal: choice.ordinal)
        let backend = try CUDABackend(context: context, precision: precision)
        return CUDASetup(backend: backend, choice: choice, devices: devices, driverVersion: try driver.version(),
                         cublasVersion: backend.blas.versionText, nvrtcVersion: backend.compiler.version(),
                         ncclVersion: ncclVersion)
    }

    /// What this rank's device is called in the records: its UUID, else its ordinal.
    public var binding: String { backend.deviceName }
}
