// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "podgap",
    products: [
        .executable(name: "podgap", targets: ["podgap"]),
        // The modules whose parsers benchmarks/fuzz drives: a package of its own, so its
        // instrumented build never touches this one's.
        .library(name: "PodgapParsers", targets: ["Records", "Report", "Suite", "Model", "Pods"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // C, wrapped once.
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .systemLibrary(name: "CHwloc", pkgConfig: "hwloc", providers: [.apt(["libhwloc-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CVerbs", pkgConfig: "librdmacm", providers: [.apt(["libibverbs-dev", "librdmacm-dev"])]),
        // No CUDA header or library at build time: one struct and a trampoline for NCCL's by-value id.
        .systemLibrary(name: "CCUDA"),
        // perf_event_open through one inline function (syscall(2) is variadic).
        .systemLibrary(name: "CPerf"),

        // Swift over C.
        .target(name: "MPI", dependencies: ["CMPI"]),
        // RDMA devices as data (no C): what discovery reports and pods pass through.
        .target(name: "RDMADevices"),
        .target(name: "RDMA", dependencies: ["CVerbs", "RDMADevices"]),
        // CUDA driver, cuBLAS, NVRTC, NCCL and NVML, opened with dlopen where present.
        .target(name: "CUDA", dependencies: ["CCUDA"]),

        // No C below this line but through Probes, Compute and RDMA: statistics, then the record schema.
        .target(name: "Statistics"),
        .target(name: "Records", dependencies: ["Statistics"]),
        // The one process runner: children in sessions of their own, ended together, with time
        // limits and logs (Pods' tools and launches, suite launches, tests).
        .target(name: "Spawn"),
        // One launch plan: how N ranks of a command start (mpirun, srun, pods), binding, yield, transports.
        .target(name: "Launch", dependencies: ["Records", "Spawn"]),

        // What a run records about where it runs, and the workloads it measures.
        .target(name: "Probes", dependencies: ["Records", "MPI", "CHwloc", "RDMA", "CUDA", "CPerf"], plugins: ["BuildInfo"]),
        // Writes the git commit into Probes at build time (scripts/build-info), for the records.
        .plugin(name: "BuildInfo", capability: .buildTool()),
        // Where the training step computes: the backend protocol, the CPU (OpenBLAS) and CUDA
        // backends and their reducers, registered in one place (ComputePlatforms).
        .target(name: "Compute", dependencies: ["Records", "MPI", "CBLAS", "CUDA"]),
        // The MPI kernels; BLAS and CUDA only through Compute.
        .target(name: "Kernels", dependencies: ["Compute", "Records", "Statistics", "MPI"]),
        // The verbs baselines are kernels too, measured over a verbs connection instead of MPI.
        .target(name: "VerbsKernels", dependencies: ["Kernels", "Records", "RDMA"]),
        // The run loop: Job (memory fit, transport choice, watchdog, machine probe, records), verbs jobs.
        .target(name: "Runner", dependencies: ["Records", "Statistics", "Probes", "Compute", "Kernels", "VerbsKernels", "MPI", "RDMA", "Launch", "Pods", "Spawn"]),

        // Pods, suites, reports and the model: records in, records out.
        .target(name: "Pods", dependencies: ["Records", "RDMADevices", "Spawn", "Launch", .product(name: "Yams", package: "Yams")]),
        .target(name: "Report", dependencies: ["Records", "Statistics"]),
        // One reader of YAML fields for suites and model profiles, errors at FILE:LINE.
        .target(name: "Config", dependencies: [.product(name: "Yams", package: "Yams")]),
        // Suites write their reports themselves (SuiteSession), and bring pods up and launch on them
        // through Pods' library calls: Report and Pods are C-free too.
        .target(name: "Suite", dependencies: ["Records", "Statistics", "Spawn", "Config", "Report", "Launch", "Pods"]),
        .target(name: "Model", dependencies: ["Records", "Statistics", "Config"]),

        // The CLI: parses options and calls the modules.
        .executableTarget(name: "podgap", dependencies: [
            "MPI", "Records", "Statistics", "Probes", "Compute", "Kernels", "VerbsKernels", "Runner", "Pods", "Report", "Suite", "RDMA", "Model", "Spawn", "CUDA", "Launch",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Runs every MPI wrapper under mpirun and checks the arithmetic; driven by MPITests.
        .executableTarget(name: "mpi-conformance", dependencies: ["MPI"], path: "Tests/MPIConformance"),

        .testTarget(name: "MPITests", dependencies: ["MPI"]),
        .testTarget(name: "RecordsTests", dependencies: ["Records"]),
        .testTarget(name: "ProbesTests", dependencies: ["Probes", "Records", "CUDA"]),
        .testTarget(name: "StatisticsTests", dependencies: ["Statistics", "Records"]),
        .testTarget(name: "ComputeTests", dependencies: ["Compute", "Statistics", "Records"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "Compute", "VerbsKernels", "Records"]),
        .testTarget(name: "CUDATests", dependencies: ["CUDA", "Compute", "Kernels", "Records"]),
        .testTarget(name: "PodsTests", dependencies: ["Pods", "Records", "Spawn", "RDMADevices", "RDMATestSupport", .product(name: "Yams", package: "Yams")],
                    exclude: ["Fixtures"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Records"]),
        .testTarget(name: "SuiteTests", dependencies: ["Suite", "Records", "Config", "Spawn", "Launch"]),
        // Synthetic records from known links, for the model's unit tests and the CLI's.
        .target(name: "ModelFixtures", dependencies: ["Model", "Records"], path: "Tests/ModelFixtures"),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Records", "ModelFixtures"]),
        .testTarget(name: "SpawnTests", dependencies: ["Spawn"]),
        .testTarget(name: "LaunchTests", dependencies: ["Launch", "Records", "Spawn"]),
        // RDMA devices as data, for the tests of RDMA and of the transport choice.
        .target(name: "RDMATestSupport", dependencies: ["RDMADevices"], path: "Tests/RDMATestSupport"),
        .testTarget(name: "RDMATests", dependencies: ["RDMA", "RDMATestSupport", .product(name: "Yams", package: "Yams")]),
        .testTarget(name: "RunnerTests", dependencies: ["Runner", "Kernels", "Probes", "Records", "RDMA", "RDMATestSupport"]),
        .testTarget(name: "podgapTests", dependencies: ["Records", "Pods", "ModelFixtures", "Compute", "Kernels", "Launch", "Suite", "Runner"]),
    ],
    swiftLanguageModes: [.v5]
)
