// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for podgap's parsers. A package of its own, built by `benchmarks/fuzz/run`
// with `-sanitize=fuzzer,address` into its own .build, so neither the instrumentation nor these
// targets slow the main package's build or tests. Each target's main hands one function to
// libFuzzer's driver.
// The main package is reached through a link the run script makes, .build/podgap -> ../../..:
// a path dependency's identity is its folder's name, and a checkout folder named "fuzz" would
// otherwise clash with this package's own.
let parsers: [Target.Dependency] = ["FuzzSupport", .product(name: "PodgapParsers", package: "podgap")]

let package = Package(
    name: "podgap-fuzz",
    dependencies: [
        .package(name: "podgap", path: ".build/podgap"),
    ],
    targets: [
        .target(name: "CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"]),
        .executableTarget(name: "FuzzRecords", dependencies: parsers),
        .executableTarget(name: "FuzzSuite", dependencies: parsers),
        .executableTarget(name: "FuzzProfile", dependencies: parsers),
        .executableTarget(name: "FuzzUnits", dependencies: parsers),
    ],
    swiftLanguageModes: [.v5]
)
