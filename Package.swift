// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "podgap",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "podgap", targets: ["podgap"]),
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

        // Swift everywhere else.
        .target(name: "MPI", dependencies: ["CMPI"]),
        .target(name: "RDMA", dependencies: ["CVerbs"]),
        .target(name: "Collector", dependencies: ["MPI", "CHwloc", "RDMA"]),
        .target(name: "Kernels", dependencies: ["MPI", "Collector", "CBLAS"]),
        // Children in sessions of their own, ended together: pods launches, suite steps, tests.
        .target(name: "Spawn"),
        .target(name: "Pods", dependencies: ["Collector", "RDMA", "Spawn"]),
        .target(name: "Report", dependencies: ["Collector"]),
        .target(name: "Suite", dependencies: ["Collector", "Kernels", "Report", "Spawn", .product(name: "Yams", package: "Yams")]),
        .target(name: "Model", dependencies: ["Collector", "Report", .product(name: "Yams", package: "Yams")]),
        .executableTarget(name: "podgap", dependencies: [
            "MPI", "Collector", "Kernels", "Pods", "Report", "Suite", "RDMA", "Model", "Spawn",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Yams", package: "Yams"),
        ]),

        // Runs every MPI wrapper under mpirun and checks the arithmetic; driven by MPITests.
        .executableTarget(name: "mpi-conformance", dependencies: ["MPI"], path: "Tests/MPIConformance"),

        .testTarget(name: "MPITests", dependencies: ["MPI"]),
        .testTarget(name: "CollectorTests", dependencies: ["Collector"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "Collector"]),
        .testTarget(name: "PodsTests", dependencies: ["Pods", "Collector", .product(name: "Yams", package: "Yams")]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Collector"]),
        // Synthetic records from known links, for the model's unit tests and the CLI's.
        .target(name: "ModelFixtures", dependencies: ["Model", "Collector"], path: "Tests/ModelFixtures"),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Collector", "ModelFixtures"]),
        .testTarget(name: "SpawnTests", dependencies: ["Spawn"]),
        .testTarget(name: "RDMATests", dependencies: ["RDMA", .product(name: "Yams", package: "Yams")]),
        .testTarget(name: "podgapTests", dependencies: ["Collector", "Pods", "ModelFixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
