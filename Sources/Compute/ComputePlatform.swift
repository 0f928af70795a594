import Foundation

/// Every compute backend podgap has, in the one place they are registered: `--device` takes their
/// names, its help lists them, and the checks and set-up of `run train` and `run gemm` ask them.
/// A new backend is its own files (a `ComputeBackend` and a `ComputePlatform`) and a line here.
public enum ComputePlatforms {
    public static let all: [any ComputePlatform] = [
        CPUPlatform(),
        CUDAPlatform(),
    ]

    /// The platform registered under `device`'s name.
    public static func platform(for device: ComputeDevice) -> any ComputePlatform {
        // A ComputeDevice is only made from a registered name (see its initialisers).
        all.first { $0.device == device }!
    }
}

/// A device the training step can compute on, by the name users type after `--device`: always
/// one registered in `ComputePlatforms.all`.
public struct ComputeDevice: RawRepresentable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    public let rawValue: String

    /// The registered device of that name; nil for any other name.
    public init?(rawValue: String) {
        guard ComputePlatforms.all.contains(where: { $0.device.name == rawValue }) else { return nil }
        self.rawValue = rawValue
    }

    /// A platform's own name for itself, as it declares its `device` (next to its code).
    init(name: String) { rawValue = name }

    public var name: String { rawValue }
    public var description: String { rawValue }
    public static var allCases: [ComputeDevice] { ComputePlatforms.all.map(\.device) }

    /// What this device offers and how its backend is made.
    public var platform: any ComputePlatform { ComputePlatforms.platform(for: self) }
}

/// A kind of device the training step computes on: what it offers, and how a rank's backend is
/// made. One value per kind, registered in `ComputePlatforms.all`.
public protocol ComputePlatform: Sendable {
    var device: ComputeDevice { get }
    /// What `--device`'s help says of it: "OpenBLAS", "one GPU per rank, chosen by local rank".
    var summary: String { get }
    /// The GEMM precisions it multiplies in, fp32 first.
    var precisions: [Precision] { get }
    /// The gradient reductions it can use, its default first.
    var reductions: [GradientReduction] { get }
    /// True where each call runs at once on the host's cores: the backward's GEMMs are then cut in
    /// pieces so that MPI progresses between them. A device that queues work takes each GEMM whole.
    var computesOnHost: Bool { get }
    /// Settings made for the launch before MPI starts and before any backend is made (OpenBLAS's
    /// threads: the `cores` this process may use, shared by the ranks on this node).
    func prepareLaunch(ranksOnNode: Int, cores: Int)
    /// This rank's backend, made before MPI starts (device chosen, context current, kernels
    /// compiled), so that a missing device or library is said before any MPI traffic and a
    /// CUDA-aware MPI finds the device already selected. Throws `BackendUnavailable`.
    func makeBackend(_ request: BackendRequest) throws -> any ComputeBackend
}

extension ComputePlatform {
    public func prepareLaunch(ranksOnNode: Int, cores: Int) {}

    /// The default reduction: the first this platform offers.
    public var defaultReduction: GradientReduction { reductions[0] }

    /// Refuses, before anything starts, a precision or reduction this platform does not offer
    /// (`InvalidParameters`, exit 2), naming the devices that do offer it.
    public func check(precision: Precision, reduction: GradientReduction) throws {
        guard precisions.contains(precision) else {
            let offering = ComputePlatforms.all.filter { $0.precisions.contains(precision) }.map(\.device.name)
            throw InvalidParameters(description: "--precision \(precision.rawValue) needs --device \(offering.joined(separator: " or ")): --device \(device.name) multiplies in \(precisions.map(\.rawValue).joined(separator: " or ")) only")
        }
        guard reductions.contains(reduction) else {
            throw InvalidParameters(description: "--reducer \(reduction.rawValue) does not run with --device \(device.name): use \(reductions.map(\.rawValue).joined(separator: " or "))")
        }
    }
}

/// What a rank asks of a platform when it makes its backend.
public struct BackendRequest: Sendable {
    public var precision: Precision
    public var reduction: GradientReduction
    /// This rank's index among the ranks on its node, and how many there are.
    public var localRank: Int
    public var localSize: Int
    public var environment: [String: String]

    public init(precision: Precision, reduction: GradientReduction, localRank: Int, localSize: Int,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.precision = precision; self.reduction = reduction
        self.localRank = localRank; self.localSize = localSize; self.environment = environment
    }
}

/// A backend that cannot be made here, in one line. `isMissing`: the device or a library is
/// absent, the same on every rank (rank 0 speaks for all); else this rank's own device failed
/// (every rank says its own).
public struct BackendUnavailable: Error, CustomStringConvertible, Sendable {
    public let description: String
    public let isMissing: Bool

    public init(_ description: String, isMissing: Bool) {
        self.description = description
        self.isMissing = isMissing
    }
}
