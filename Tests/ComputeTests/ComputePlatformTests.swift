import Foundation
import Compute
import Testing

/// The one registry of compute backends: what `--device` takes, what each offers, and the
/// refusals made from it before anything starts.
@Suite struct ComputePlatformTests {
    @Test func everyRegisteredDeviceIsFoundByItsNameAndNoOtherNameIs() {
        let names = ComputePlatforms.all.map(\.device.name)
        #expect(names == ["cpu", "cuda"])
        #expect(Set(names).count == names.count)
        #expect(ComputeDevice.allCases.map(\.rawValue) == names)
        for name in names {
            let device = ComputeDevice(rawValue: name)
            #expect(device?.platform.device == device)
        }
        #expect(ComputeDevice(rawValue: "rocm") == nil && ComputeDevice(rawValue: "CPU") == nil)
        #expect(ComputeDevice.cpu.platform.computesOnHost && !ComputeDevice.cuda.platform.computesOnHost)
    }

    /// Every platform multiplies in fp32 and offers a default reduction; the CPU's is mpi, CUDA's
    /// the staged copy through host memory.
    @Test func everyPlatformOffersFP32AndADefaultReduction() {
        for platform in ComputePlatforms.all {
            #expect(platform.precisions.first == .fp32, "\(platform.device)")
            #expect(!platform.reductions.isEmpty, "\(platform.device)")
            #expect(!platform.summary.isEmpty, "\(platform.device)")
        }
        #expect(ComputeDevice.cpu.platform.defaultReduction == .mpi)
        #expect(ComputeDevice.cuda.platform.defaultReduction == .mpiStaged)
    }

    @Test func combinationsAPlatformLacksAreRefusedNamingWhatWorks() throws {
        #expect(throws: InvalidParameters(description: "--precision bf16 needs --device cuda: --device cpu multiplies in fp32 only")) {
            try ComputeDevice.cpu.platform.check(precision: .bf16, reduction: .mpi)
        }
        #expect(throws: InvalidParameters(description: "--reducer nccl does not run with --device cpu: use mpi")) {
            try ComputeDevice.cpu.platform.check(precision: .fp32, reduction: .nccl)
        }
        #expect(throws: InvalidParameters(description: "--reducer mpi does not run with --device cuda: use mpi-staged or mpi-cuda or nccl")) {
            try ComputeDevice.cuda.platform.check(precision: .tf32, reduction: .mpi)
        }
        try ComputeDevice.cuda.platform.check(precision: .bf16, reduction: .nccl)
        try ComputeDevice.cpu.platform.check(precision: .fp32, reduction: .mpi)
    }

    /// The CPU's backend is made from a request alone, and its records give its BLAS threads.
    @Test func theCPUPlatformMakesAHostBackendAndSetsItsThreads() throws {
        let platform = ComputeDevice.cpu.platform
        platform.prepareLaunch(ranksOnNode: 2, cores: 6)
        #expect(Matrix.threads == 3)
        platform.prepareLaunch(ranksOnNode: 8, cores: 2)
        #expect(Matrix.threads == 1)
        let backend = try platform.makeBackend(BackendRequest(precision: .fp32, reduction: .mpi, localRank: 0, localSize: 1))
        #expect(backend is CPUBackend && backend.device == .cpu && backend.precision == .fp32)
        #expect(!backend.hasReferenceMultiply)
    }

    /// Where no CUDA driver can be loaded, making the backend is one line saying what is missing
    /// (exit 3 in the CLI), not a crash.
    @Test func withoutADriverTheCUDAPlatformSaysWhatIsMissing() throws {
        // The only folder looked in, and an empty one: no driver, whatever this host has.
        var environment = ProcessInfo.processInfo.environment
        environment["PODGAP_CUDA_LIBRARY_PATH"] = FileManager.default.temporaryDirectory.appendingPathComponent("no-cuda-\(UUID().uuidString)").path
        do {
            _ = try ComputeDevice.cuda.platform.makeBackend(BackendRequest(precision: .fp32, reduction: .mpiStaged, localRank: 0,
                                                                            localSize: 1, environment: environment))
            Issue.record("a CUDA backend was made from an empty library folder")
        } catch let error as BackendUnavailable {
            #expect(error.isMissing, "\(error)")
            #expect(!error.description.isEmpty && !error.description.contains("\n"))
        }
    }
}
