import Foundation
import FuzzSupport
import Records
import Suite

/// Kernels and their options (name -> is a flag) as `podgap suite` would hand them over: enough
/// for the parser's every branch (values, flags, options the suite reserves for itself). The
/// CLI's registry runs `podgap run`'s own checks; this one checks sizes, as they do.
private struct Kernels: KernelRegistry {
    static let options: [String: [String: Bool]] = [
        "allreduce": ["sizes": false, "iterations": false, "warmup": false, "dtype": false, "samples": true,
                      "in-place": true, "out": false, "timeout": false],
        "halo": ["local": false, "iterations": false, "warmup": false],
        "train": ["layers": false, "batch": false, "steps": false, "warmup": false, "device": false],
    ]
    var names: [String] { Array(Kernels.options.keys) }
    func options(of kernel: String) -> [String: Bool] { Kernels.options[kernel] ?? [:] }
    func validate(kernel: String, arguments: [String]) throws {
        if let flag = arguments.firstIndex(of: "--sizes"), flag + 1 < arguments.count {
            _ = try ByteCount.parseSweep(arguments[flag + 1])
        }
    }
}
private let kernels = Kernels()

/// Besides not crashing or hanging: a suite that parses has environments and kernels, labels
/// that differ, at least one round and rank, a duration for its timeout, and rounds of launches
/// (each round every environment once per kernel slot, each in its place).
func fuzzSuite(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let suite = try? SuiteFile.parse(text(start, count), file: "fuzz.yaml", kernels: kernels) else { return 0 }
    expect(!suite.environments.isEmpty && !suite.kernels.isEmpty, "a suite without environments or kernels parsed")
    expect(Set(suite.environments.map(\.label)).count == suite.environments.count, "two environments share a label")
    expect(suite.rounds >= 1 && suite.ranks >= 1, "rounds \(suite.rounds) or ranks \(suite.ranks) below 1")
    expect(DurationText.seconds(suite.timeout) != nil, "timeout '\(suite.timeout)' parsed but is not a duration")
    if suite.environments.count * suite.kernels.count <= 10_000 {
        let round = Schedule.round(min(suite.rounds, 3), of: suite, seed: suite.seed ?? 1)
        let slots = suite.kernels.count + (suite.startup ? 1 : 0)
        expect(round.count == suite.environments.count * slots, "a round has \(round.count) launches")
        expect(round.allSatisfy { (1...suite.environments.count).contains($0.position) }, "a position outside the round")
    }
    return 0
}

fuzz(fuzzSuite)
