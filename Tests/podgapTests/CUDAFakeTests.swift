import Records
import Kernels
import Compute
import Foundation
import Testing

/// `podgap run train --device cuda` under real mpirun jobs, against the host-memory stand-ins for
/// the CUDA driver, cuBLAS, NVRTC and NCCL in Tests/FakeCUDA (built here from C; the driver runs
/// the real kernel source). They exercise podgap's CUDA code paths end to end — library loading,
/// device choice, argument passing to every call, the reducers' MPI and NCCL traffic, the
/// records — and the refusals. They cannot show a GPU's speed, overlap or races: on a GPU host
/// `scripts/gpu-check` runs the same steps on the real libraries.
@Suite(.serialized, .enabled(if: FakeCUDA.canBuild, "no C compiler (cc) or mpicc to build the CUDA stand-ins"))
struct CUDAFakeTests {
    static let model = ["--layers", "16,48,32,8", "--steps", "12", "--warmup", "2", "--learning-rate", "0.1",
                        "--bucket-mb", "0.004"]
    let fake: FakeCUDA

    init() throws { fake = try FakeCUDA.shared.get() }

    /// Runs a training job on the stand-ins; returns its record (if any), rank 0's weights and how it ended.
    func train(ranks: Int, device: String = "cuda", batch: Int = 4, extra: [String] = [], devices: Int = 2,
               libraries: FakeCUDA.Libraries = .all, knobs: [String: String] = [:]) throws -> (Record?, [Float], Finished) {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("t.jsonl").path, weights = folder.appendingPathComponent("w.bin").path
        var environment = Shell.mpiEnvironment
        environment["PODGAP_CUDA_LIBRARY_PATH"] = try fake.folder(with: libraries).path
        environment["FAKE_CUDA_DEVICES"] = String(devices)
        environment.merge(knobs) { $1 }
        let finished = try Shell.run("/usr/bin/mpirun",
                                     ["-np", String(ranks), "--oversubscribe", "--mca", "btl", "vader,self", Shell.podgap,
                                      "run", "train", "--device", device, "--batch", String(batch), "--out", out,
                                      "--dump-weights", weights] + Self.model + extra,
                                     environment: environment, timeout: 120)
        let records = (try? RecordReader.read(out)) ?? []
        let data = (try? Data(contentsOf: URL(fileURLWithPath: weights))) ?? Data()
        return (records.first, data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }, finished)
    }

    @Test(arguments: [("mpi-staged", true), ("mpi-staged", false), ("nccl", true)])
    func everyReducerLeavesIdenticalWeightsAndAFallingLoss(reducer: String, overlap: Bool) throws {
        let (record, weights, finished) = try train(ranks: 2, extra: ["--reducer", reducer] + (overlap ? [] : ["--no-overlap"]))
        #expect(finished.status == 0, "\(finished.stderr)")
        let point = try #require(record)
        #expect(point.verified, "\(point.verification)")
        #expect(point.verification.contains("bit-identical on all 2 ranks"))
        #expect(point.throughput["loss_last"]! < point.throughput["loss_first"]!)
        #expect(point.params["device"] == "cuda" && point.params["reducer"] == .string(reducer))
        #expect(point.params["precision"] == "fp32" && point.params["gpu"] == "Fake CUDA Device 0")
        #expect(point.params["gpu_shared"] == .bool(false))
        #expect(point.params["progress_mflop"] == .number(0))
        #expect(weights.count == 16 * 48 + 48 * 32 + 32 * 8)
        // One device per rank, chosen by local rank; the node's devices listed from the driver.
        let bindings = try #require(point.environment.gpuBindings)
        #expect(bindings.count == 2 && Set(bindings).count == 2 && bindings.allSatisfy { $0.hasPrefix("GPU-") })
        #expect(point.environment.gpus?.map(\.name) == ["Fake CUDA Device 0", "Fake CUDA Device 1"])
        #expect(point.environment.gpus?.first?.busID == "0000:65:00.0")
        #expect(point.environment.ncclVersion == (reducer == "nccl" ? "2.28.3" : nil))
        #expect((point.params["nccl"] != nil) == (reducer == "nccl"))
    }

    /// The stand-in's GEMM adds in another order than OpenBLAS: the weights after 14 steps agree to
    /// 1e-5 of the largest weight (a transposed operand or a wrong leading dimension is off by >1e-2).
    @Test func theCUDAPathComputesWhatTheCPUComputes() throws {
        let (_, gpu, gpuRun) = try train(ranks: 2, extra: ["--reducer", "mpi-staged"])
        let (_, cpu, cpuRun) = try train(ranks: 2, device: "cpu")
        #expect(gpuRun.status == 0 && cpuRun.status == 0, "\(gpuRun.stderr) \(cpuRun.stderr)")
        try #require(gpu.count == cpu.count && !cpu.isEmpty)
        let largest = cpu.map(abs).max()!
        let worst = zip(gpu, cpu).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-5 * largest, "largest difference \(worst), largest weight \(largest)")
        #expect(worst > 0 || gpu == cpu)
    }

    /// Data parallelism on the CUDA path: 2 ranks of batch 4 reach one rank's batch 8.
    @Test func splitBatchesMatchOneRankOnTheCUDAPath() throws {
        let (_, split, splitRun) = try train(ranks: 2, batch: 4, extra: ["--reducer", "nccl"])
        let (_, whole, wholeRun) = try train(ranks: 1, batch: 8, extra: ["--reducer", "nccl"])
        #expect(splitRun.status == 0 && wholeRun.status == 0, "\(splitRun.stderr) \(wholeRun.stderr)")
        try #require(split.count == whole.count && !whole.isEmpty)
        let largest = whole.map(abs).max()!
        #expect(zip(split, whole).map { abs($0 - $1) }.max()! <= 1e-5 * largest)
    }

    /// Ranks that outnumber the devices share them, and the record says so; NCCL refuses.
    @Test func ranksShareADeviceWithMPIButNotWithNCCL() throws {
        let (record, _, finished) = try train(ranks: 2, extra: ["--reducer", "mpi-staged"], devices: 1)
        #expect(finished.status == 0, "\(finished.stderr)")
        let point = try #require(record)
        #expect(point.params["gpu_shared"] == .bool(true))
        #expect(Set(point.environment.gpuBindings ?? []).count == 1)
        let (_, _, refused) = try train(ranks: 2, extra: ["--reducer", "nccl"], devices: 1)
        expectOneLine(refused, code: 3, saying: "--reducer nccl needs one GPU per rank: 2 ranks on this node share 1 GPU(s)")
        // With device masks (CUDA_VISIBLE_DEVICES, as Slurm's --gpus-per-task sets) only the
        // ranks' device UUIDs tell, once MPI runs: the same refusal, from every rank alike.
        let (_, _, masked) = try train(ranks: 2, extra: ["--reducer", "nccl"], devices: 1, knobs: ["CUDA_VISIBLE_DEVICES": "0"])
        expectOneLine(masked, code: 3, saying: "--reducer nccl needs one GPU per rank: 2 ranks run on 1 GPU(s)")
    }

    @Test(arguments: [
        (["FAKE_CUDA_DEVICES": "0"], FakeCUDA.Libraries.all, [String](), "no CUDA device: the driver (CUDA 13.0) sees no GPU"),
        (["FAKE_CUDA_INIT_FAILS": "1"], .all, [], "no CUDA device: cuInit failed: FAKE_CUDA_ERROR_3"),
        ([:], .withoutNCCL, ["--reducer", "nccl"], "cannot load NCCL (libnccl.so.2)"),
        ([:], .withoutCUBLAS, [], "cannot load cuBLAS (libcublas.so.13 or .so.12)"),
        ([:], .all, ["--reducer", "mpi-cuda"], "--reducer mpi-cuda: this MPI (Open MPI"),
    ])
    func missingPiecesAreOneLineAndExitThree(knobs: [String: String], libraries: FakeCUDA.Libraries,
                                              arguments: [String], expected: String) throws {
        let (record, _, finished) = try train(ranks: 2, extra: arguments, libraries: libraries, knobs: knobs)
        expectOneLine(finished, code: 3, saying: expected)
        #expect(record == nil)
    }

    @Test func aKernelThatWillNotCompileIsSaidByTheRank() throws {
        let (_, _, finished) = try train(ranks: 1, knobs: ["FAKE_NVRTC_FAILS": "1"])
        expectOneLine(finished, code: 3, saying: "rank 0: NVRTC could not compile podgap's kernels: NVRTC_ERROR_COMPILATION for sm_90: fake_source.cu(1): error")
    }

    func expectOneLine(_ finished: Finished, code: Int32, saying expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(finished.status == code, "\(finished.stderr)", sourceLocation: sourceLocation)
        let lines = finished.stderr.split(separator: "\n").filter { $0.hasPrefix("podgap:") }
        #expect(lines.count == 1 && lines[0].contains(expected), "\(finished.stderr)", sourceLocation: sourceLocation)
    }

    /// `run gemm` on both registered devices through the one backend set-up: every shape checked
    /// against float64; on cuda the fp32 shapes also timed through plain cublasSgemm (the backend's
    /// reference GEMM, where GEMMCheck once cast to the CUDA backend), and the records name the GPU.
    @Test(arguments: ["cpu", "cuda"])
    func gemmRunsOnEveryDeviceAndCUDAAddsTheSgemmReference(device: String) throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("g.jsonl").path
        var environment = Shell.mpiEnvironment
        environment["PODGAP_CUDA_LIBRARY_PATH"] = try fake.folder(with: .all).path
        environment["FAKE_CUDA_DEVICES"] = "1"
        let finished = try Shell.run(Shell.podgap, ["run", "gemm", "--device", device, "--shape", "48x40x24", "--shape", "16x8x64",
                                                    "--calls", "2", "--trials", "2", "--out", out],
                                     environment: environment, timeout: 120)
        #expect(finished.status == 0, "\(finished.stderr)")
        let records = try RecordReader.read(out)
        // Two shapes and the step's total.
        try #require(records.count == 3, "\(records.count) records")
        #expect(records.allSatisfy { $0.verified && $0.params["device"] == .string(device) }, "\(records.map(\.verification))")
        let shapes = records.prefix(2)
        #expect(shapes.map { $0.params["shape"] } == ["48x40x24", "16x8x64"])
        if device == "cuda" {
            #expect(shapes.allSatisfy { ($0.throughput["sgemm_tflops"] ?? 0) > 0 && ($0.throughput["of_sgemm"] ?? 0) > 0 })
            #expect(records[0].environment.gpuBindings?.count == 1)
            #expect(records[0].environment.gpus?.count == 1)
        } else {
            #expect(shapes.allSatisfy { $0.throughput["sgemm_tflops"] == nil })
            #expect(records[0].environment.gpuBindings == nil)
        }
    }
}

/// Bad combinations on the CPU, refused before MPI starts (exit 2); no stand-ins needed.
@Suite struct TrainDeviceOptionTests {
    @Test(arguments: [
        (["--precision", "bf16"], "--precision bf16 needs --device cuda"),
        (["--reducer", "nccl"], "--reducer nccl does not run with --device cpu: use mpi"),
        (["--device", "cuda", "--reducer", "mpi"], "--reducer mpi does not run with --device cuda: use mpi-staged or mpi-cuda or nccl"),
        (["--proxy", "alexnet"], "'alexnet' is invalid for '--proxy"),
        (["--proxy", "resnet50", "--layers", "8,8"], "--proxy and --layers both give the layer widths"),
    ])
    func badInputIsOneLineAndExitTwo(arguments: [String], expected: String) throws {
        let finished = try Shell.mpirun(ranks: 2, mca: ["btl_tcp_if_include": "lo", "oob_tcp_if_include": "lo"],
                                        ["run", "train"] + arguments, timeout: 60)
        #expect(finished.status == 2)
        let lines = finished.stderr.split(separator: "\n").filter { $0.hasPrefix("podgap:") }
        #expect(lines.count == 1 && lines[0].contains(expected), "\(finished.stderr)")
    }

    /// A proxy's record says what it stands in for, with the gradient bytes of that network.
    @Test func aProxyRecordSaysItIsAProxy() throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("p.jsonl").path
        // Four steps of one image (442 rows): enough for the loss to fall, a few seconds in a debug build.
        let finished = try Shell.run(Shell.podgap, ["run", "train", "--proxy", "densenet121", "--batch", "1", "--steps", "3",
                                                    "--warmup", "1", "--out", out], timeout: 120)
        #expect(finished.status == 0, "\(finished.stderr)")
        let record = try #require(try RecordReader.read(out).first)
        let shape = ProxyWorkload.densenet121.shape
        #expect(record.params["proxy"] == "densenet121")
        #expect(record.params["proxy_of"] == "DenseNet-121 (CheXNet, 14 classes)")
        #expect(record.params["rows_per_sample"] == .number(Double(shape.rows)))
        #expect(record.params["gradient_bytes"] == .number(Double(shape.gradientBytes)))
        #expect(record.params["layers"] == .string(shape.widths.map(String.init).joined(separator: ",")))
        #expect(record.params["batch"] == .number(1))
    }
}

/// The stand-in libraries, built from Tests/FakeCUDA/fake_cuda.c into a folder of their own.
struct FakeCUDA {
    enum Libraries: Sendable { case all, withoutNCCL, withoutCUBLAS }

    let root: URL

    /// Built once per test process (four compiles), removed when the process exits.
    static let shared: Result<FakeCUDA, Error> = {
        let built = Result { try FakeCUDA() }
        if case .success(let fake) = built {
            FakeCUDA.builtRoot = fake.root.path
            atexit { if let root = FakeCUDA.builtRoot { try? FileManager.default.removeItem(atPath: root) } }
        }
        return built
    }()
    nonisolated(unsafe) static var builtRoot: String?

    static var canBuild: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/cc") && FileManager.default.isExecutableFile(atPath: "/usr/bin/mpicc")
    }

    static let names = ["libcuda.so.1": "FAKE_DRIVER", "libcublas.so.13": "FAKE_CUBLAS",
                        "libnvrtc.so.13": "FAKE_NVRTC", "libnccl.so.2": "FAKE_NCCL"]

    init() throws {
        root = try Shell.temporaryFolder()
        let source = Shell.repositoryRoot.appendingPathComponent("Tests/FakeCUDA/fake_cuda.c").path
        let kernels = root.appendingPathComponent("kernels.c")
        try (ElementwiseKernels.hostPrelude + "\n" + ElementwiseKernels.source + "\n").write(to: kernels, atomically: true, encoding: .utf8)
        let all = root.appendingPathComponent("all")
        try FileManager.default.createDirectory(at: all, withIntermediateDirectories: true)
        for (name, define) in FakeCUDA.names {
            let compiler = define == "FAKE_NCCL" ? "/usr/bin/mpicc" : "/usr/bin/cc"
            var arguments = ["-shared", "-fPIC", "-O1", "-std=gnu11", "-D\(define)", "-Wl,-soname,\(name)",
                             "-o", all.appendingPathComponent(name).path]
            if define == "FAKE_DRIVER" { arguments += ["-include", kernels.path] }
            let built = try Shell.run(compiler, arguments + [source, "-lm"], timeout: 60)
            guard built.status == 0 else { throw BuildFailure(library: name, output: built.stderr) }
        }
    }

    struct BuildFailure: Error { var library: String; var output: String }

    /// A folder holding the libraries `set` names (links into the full set).
    func folder(with set: Libraries) throws -> URL {
        let all = root.appendingPathComponent("all")
        let left: String
        switch set {
        case .all: return all
        case .withoutNCCL: left = "libnccl.so.2"
        case .withoutCUBLAS: left = "libcublas.so.13"
        }
        let folder = root.appendingPathComponent("without-\(left)")
        if !FileManager.default.fileExists(atPath: folder.path) {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for name in FakeCUDA.names.keys where name != left {
                try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent(name), withDestinationURL: all.appendingPathComponent(name))
            }
        }
        return folder
    }
}
