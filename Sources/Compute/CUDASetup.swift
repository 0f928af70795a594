import CUDA
import MPI
import Records
import Foundation

extension ComputeDevice {
    public static let cuda = ComputeDevice(name: "cuda")
}

/// NVIDIA GPUs through the CUDA driver, cuBLAS, NVRTC and NCCL, opened with dlopen where present.
struct CUDAPlatform: ComputePlatform {
    var device: ComputeDevice { .cuda }
    var summary: String { "one GPU per rank, chosen by local rank (cuBLAS, NVRTC, NCCL)" }
    var precisions: [Precision] { [.fp32, .tf32, .bf16] }
    var reductions: [GradientReduction] { [.mpiStaged, .mpiCUDA, .nccl] }
    var computesOnHost: Bool { false }

    func makeBackend(_ request: BackendRequest) throws -> any ComputeBackend {
        do {
            return try CUDASetup.prepare(precision: request.precision, reduction: request.reduction,
                                         localRank: request.localRank, localSize: request.localSize,
                                         environment: request.environment)
        } catch let error as CUDAError {
            throw BackendUnavailable(error.description, isMissing: error.isMissing)
        } catch let error as LibraryError {
            throw BackendUnavailable(error.description, isMissing: true)
        }
    }
}

/// What a GPU training step found when it was set up before MPI started: the driver and the
/// node's devices, the libraries the reducer and the GEMMs need, and the rank's device chosen by
/// its local rank. `prepare` makes the backend (context current, kernels compiled) and leaves
/// these facts on it, for the records.
public struct CUDASetup {
    public let choice: DeviceChoice
    /// Every device the driver sees on this node, by ordinal.
    public let devices: [DeviceProperties]
    /// The driver's CUDA version ("13.0").
    public let driverVersion: String
    public let cublasVersion: String
    public let nvrtcVersion: String
    /// Where NCCL reduces: its version ("2.28.3").
    public let ncclVersion: String?

    /// The rank's backend, or a `CUDAError` whose `isMissing` says the hardware or a library is
    /// absent (exit 3).
    public static func prepare(precision: Precision, reduction: GradientReduction,
                               localRank: Int, localSize: Int,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> CUDABackend {
        let driver = try Driver.load(environment: environment)
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
        backend.setup = CUDASetup(choice: choice, devices: devices, driverVersion: try driver.version(),
                                  cublasVersion: backend.blas.versionText, nvrtcVersion: backend.compiler.version(),
                                  ncclVersion: ncclVersion)
        return backend
    }
}

extension CUDABackend {
    /// The GPU each rank uses and, from rank 0, the node's GPUs: NVML's list where it answered,
    /// else the driver's devices placed by hwloc.
    public func describe(_ environment: inout Environment, world: Communicator,
                         survey: ([GPUDevice]) -> [GPUDevice]) throws {
        environment.gpuBindings = try world.allgather(deviceName)
        guard let setup else { return }
        environment.ncclVersion = setup.ncclVersion
        guard world.rank == 0 else { return }
        let surveyed = survey(environment.gpus ?? [])
        // NVML answered (it knows UUIDs): its list. Else the driver's devices, placed by hwloc.
        if surveyed.contains(where: { $0.uuid != nil }) {
            environment.gpus = surveyed
            return
        }
        environment.gpus = setup.devices.map { device in
            let address = device.busID.flatMap(PCIAddress.init)
            let placed = surveyed.first { $0.busID.flatMap(PCIAddress.init) == address }
            return GPUDevice(index: device.ordinal, name: device.name, uuid: device.uuid, memoryBytes: device.memoryBytes,
                             busID: address?.text ?? device.busID, numaNode: placed?.numaNode,
                             cudaVersion: setup.driverVersion, nearestNIC: placed?.nearestNIC)
        }
    }
}
