import Foundation
import Testing
@testable import Suite

/// A registry that knows one kernel and refuses values as `podgap run` would: sizes that hold
/// nothing, zero iterations, element types it does not have, and sizes above a limit with float64.
struct FakeKernels: KernelRegistry {
    struct Refusal: Error, CustomStringConvertible { var description: String }

    var names: [String] { ["allreduce"] }
    func options(of kernel: String) -> [String: Bool] {
        kernel == "allreduce" ? ["sizes": false, "iterations": false, "dtype": false, "samples": true, "out": false] : [:]
    }
    func validate(kernel: String, arguments: [String]) throws {
        var values: [String: String] = [:]
        var index = 0
        while index < arguments.count {
            let key = String(arguments[index].dropFirst(2))
            if options(of: kernel)[key] == true { values[key] = "true"; index += 1; continue }
            values[key] = arguments[index + 1]
            index += 2
        }
        if values["sizes"] == "4:0" { throw Refusal(description: "--sizes '4:0': the sweep ends below its start") }
        if values["iterations"] == "0" { throw Refusal(description: "--iterations must be at least 1") }
        if let dtype = values["dtype"], !["float32", "float64"].contains(dtype) { throw Refusal(description: "--dtype '\(dtype)' is not one of float32, float64") }
        if values["dtype"] == "float64", values["sizes"] == "1G" { throw Refusal(description: "1G of float64 does not fit in memory") }
    }
}

@Suite struct SuiteFileTests {
    static func parse(_ text: String) throws -> SuiteFile {
        try SuiteFile.parse(text, file: "s.yaml", kernels: FakeKernels())
    }

    @Test func kernelValuesAreCheckedWhenTheSuiteIsReadNamingLineAndValue() throws {
        let cases: [(String, String)] = [
            ("environments: [native-shm]\nkernels:\n  - allreduce:\n      sizes: 4:0\n",
             "s.yaml:4: kernels[0].allreduce.sizes: '4:0': --sizes '4:0': the sweep ends below its start"),
            ("environments: [native-shm]\nkernels:\n  - allreduce:\n      sizes: 4:8\n      iterations: 0\n",
             "s.yaml:5: kernels[0].allreduce.iterations: '0': --iterations must be at least 1"),
            ("environments: [native-shm]\nkernels:\n  - allreduce: {sizes: 4}\n  - allreduce:\n      dtype: float16\n",
             "s.yaml:5: kernels[1].allreduce.dtype: 'float16': --dtype 'float16' is not one of float32, float64"),
            // Values that are each fine but clash: laid at the kernel.
            ("environments: [native-shm]\nkernels:\n  - allreduce:\n      sizes: 1G\n      dtype: float64\n",
             "s.yaml:3: kernels[0]: 1G of float64 does not fit in memory"),
        ]
        for (text, message) in cases {
            #expect(throws: SuiteError(message), "\(text)") { try Self.parse(text) }
        }
        let good = try Self.parse("environments: [native-shm]\nkernels:\n  - allreduce: {sizes: 4:8, dtype: float64, samples: true}\n")
        #expect(good.kernels.first?.arguments == ["allreduce", "--sizes", "4:8", "--dtype", "float64", "--samples"])
    }

    @Test func optionsTheSuiteSetsItselfAreRefused() {
        #expect(throws: SuiteError("s.yaml:3: kernels[0].allreduce.out: is set by the suite itself; allowed: dtype, iterations, samples, sizes")) {
            try Self.parse("environments: [native-shm]\nkernels:\n  - allreduce: {out: x.jsonl}\n")
        }
    }
}

/// Found by benchmarks/fuzz (suite and profile): Yams recursed once per nesting level and a
/// suite of 10,000 `[` ended podgap on a stack overflow. Refused with one line before parsing.
@Suite struct SuiteNestingTests {
    @Test func deepNestingIsRefusedBeforeParsing() {
        for deep in ["description: " + String(repeating: "[", count: 10_000), String(repeating: "- ", count: 5_000) + "x"] {
            #expect(throws: SuiteError("s.yaml: nested deeper than podgap reads (brackets and indentation allow more than 512 levels); a suite nests a handful")) {
                try SuiteFileTests.parse("environments: [native-shm]\nkernels: [allreduce]\n" + deep + "\n")
            }
        }
    }
}
