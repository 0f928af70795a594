import Foundation
import Testing
import Records
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

    @Test func knobsOnAPodEnvironmentAreReadAsNamedAndBadOnesRefusedAtTheirLine() throws {
        let suite = try Self.parse("""
            ranks: 2
            environments:
              - pod-overlay
              - pod-overlay: {label: pod-overlay-limit, cpu-limit: 0.9}
              - pod-overlay: {label: pod-overlay-slots, slots: 2, mtu: 9000, seccomp: unconfined}
              - pod-bridge: {label: old-name, cpus: 0.5}
            kernels: [allreduce]
            """)
        let cores = CPUSet.current().count
        #expect(suite.environments.map(\.knobs) == [Knobs(), Knobs(cpuLimit: 0.9), Knobs(slots: 2, mtu: 9000, seccomp: .unconfined),
                                                      Knobs(cpuLimit: 0.5)])
        let cases: [(String, String)] = [
            ("environments:\n  - pod-overlay:\n      turbo: 1\nkernels: [allreduce]\n", "s.yaml:3:"),
            ("environments:\n  - native-shm:\n      slots: 2\nkernels: [allreduce]\n", "s.yaml:2: environments[0]: native-shm runs on the host: knobs"),
            ("environments:\n  - native-2node:\n      mtu: 9000\nkernels: [allreduce]\n", "s.yaml:2: environments[0]: native-2node runs its ranks as host processes: knobs"),
            ("ranks: 3\nenvironments:\n  - pod-bridge:\n      slots: 2\nkernels: [allreduce]\n", "s.yaml:3: environments[0]: slots 2 do not divide the 3 ranks"),
            ("environments:\n  - pod-overlay:\n      cpu-limit: 0\nkernels: [allreduce]\n", "s.yaml:3: environments[0].pod-overlay.cpu-limit: cpu-limit '0' is not a CPU count"),
            ("environments:\n  - pod-overlay:\n      cpu-limit: 100000\nkernels: [allreduce]\n", "s.yaml:2: environments[0]: cpu-limit 100000 is more than this machine's"),
            ("environments:\n  - pod-overlay:\n      mtu: 576\nkernels: [allreduce]\n", "s.yaml:3: environments[0].pod-overlay.mtu: mtu '576' must be a whole number from 1280 to 9000"),
            ("environments:\n  - pod-overlay:\n      runtime: kata\nkernels: [allreduce]\n", "s.yaml:3: environments[0].pod-overlay.runtime: runtime 'kata' is unknown; allowed: runc, crun"),
            ("environments:\n  - pod-overlay:\n      hugepages: 2Mi\nkernels: [allreduce]\n", "s.yaml:3: environments[0].pod-overlay.hugepages: hugepages '2Mi' is not true or false"),
            ("environments:\n  - native-shm:\n      runtime: crun\nkernels: [allreduce]\n", "s.yaml:2: environments[0]: native-shm runs on the host: knobs"),
            // What pods up and the launches would refuse, refused where the suite is read (--dry-run too).
            ("ranks: 8\nenvironments:\n  - pod-overlay: {slots: 2, pods-per-node: 1}\nkernels: [allreduce]\n",
             "s.yaml:3: environments[0]: slots 2 on 2 pod(s) hold 4 ranks, fewer than the 8 ranks"),
            ("ranks: \(cores + 1)\nenvironments:\n  - pod-bridge: {guaranteed: true}\nkernels: [allreduce]\n",
             "s.yaml:3: environments[0]: guaranteed gives each pod a whole CPU of its own: \(cores + 1) pods need \(cores + 1) CPUs, and there are \(cores) here"),
            ("environments:\n  - pod-overlay: {guaranteed: true, split-cpus: true}\nkernels: [allreduce]\n",
             "s.yaml:2: environments[0]: guaranteed gives each pod CPUs of its own; drop cpuset and split-cpus"),
        ]
        for (text, start) in cases {
            let error = try #require(throws: SuiteError.self, "\(text)") { try Self.parse(text) }
            #expect(error.description.hasPrefix(start), "\(error.description)")
            #expect(!error.description.contains("\n"), "one line")
        }
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
            #expect(throws: SuiteError("s.yaml: nested deeper than podgap reads (brackets and indentation allow more than 512 levels); a suite or profile nests a handful")) {
                try SuiteFileTests.parse("environments: [native-shm]\nkernels: [allreduce]\n" + deep + "\n")
            }
        }
    }
}

@Suite struct RoundsTests {
    static let suite = try! SuiteFile.parse("""
        rounds: 12
        seed: 7
        startup: true
        environments: [native-shm, native-tcp, native-2node, pod-bridge, pod-overlay]
        kernels:
          - allreduce: {sizes: 4}
          - allreduce: {sizes: 8}
        """, file: "s.yaml", kernels: FakeKernels())

    @Test func roundsAndSeedAreRead() throws {
        #expect(Self.suite.rounds == 12 && Self.suite.seed == 7)
        #expect(throws: SuiteError("s.yaml:2: trials: is now 'rounds' (every environment once per round, in a seeded order)")) {
            try SuiteFile.parse("environments: [native-shm]\ntrials: 3\nkernels: [allreduce]\n", file: "s.yaml", kernels: FakeKernels())
        }
        #expect(throws: SuiteError("s.yaml:2: rounds: '0' must be a whole number of at least 1")) {
            try SuiteFile.parse("environments: [native-shm]\nrounds: 0\nkernels: [allreduce]\n", file: "s.yaml", kernels: FakeKernels())
        }
    }

    /// Each round runs every environment once per kernel slot, all in the round's order, the
    /// startup probes first; the position is the environment's place in that order.
    @Test func aRoundIsEveryEnvironmentOncePerKernelInItsOrder() {
        let labels = Self.suite.environments.map(\.label)
        for round in 1...12 {
            let order = RoundPlan(round: round, environments: labels, baseline: Self.suite.baseline, seed: 7).order
            #expect(order.sorted() == labels.sorted())
            let launches = Schedule.round(round, of: Self.suite, seed: 7)
            #expect(launches.count == 15)
            for slot in 0..<3 {
                let group = launches[(slot * 5)..<(slot * 5 + 5)]
                #expect(group.map(\.environment.label) == order)
                #expect(group.map(\.position) == [1, 2, 3, 4, 5])
                #expect(group.allSatisfy { $0.kernels.map(\.index) == [slot - 1] })
            }
            #expect(launches.allSatisfy { $0.round == round && $0.id.hasSuffix("-r\(round)") })
        }
    }

    /// `launch:` for the suite, and per environment: a combined environment runs the startup
    /// probe and every kernel in one launch, at its place among one kernel's launches (another each round);
    /// the others keep one launch per kernel. Anything else is refused, naming what is allowed.
    @Test func combinedEnvironmentsRunEveryKernelInOneLaunch() throws {
        let suite = try SuiteFile.parse("""
            seed: 3
            launch: combined
            environments:
              - native-shm
              - native-tcp:
                  launch: per-kernel
            kernels:
              - allreduce: {sizes: 8}
              - allreduce: {sizes: 16}
            """, file: "s.yaml", kernels: FakeKernels())
        #expect(suite.launchShape == .combined)
        #expect(suite.environments.map { suite.launchShape(of: $0) } == [.combined, .perKernel])
        for round in 1...6 {
            let launches = Schedule.round(round, of: suite, seed: 3)
            let order = RoundPlan(round: round, environments: ["native-shm", "native-tcp"], baseline: suite.baseline, seed: 3).order
            #expect(launches.count == 4)
            let combined = try #require(launches.first { $0.environment.label == "native-shm" })
            #expect(launches.filter { $0.environment.label == "native-shm" }.count == 1)
            #expect(combined.kernels.map(\.index) == [-1, 0, 1] && combined.id == "native-shm-combined-r\(round)")
            #expect(combined.kernels.map { combined.id(of: $0) } == ["native-shm-startup-r\(round)", "native-shm-k0-allreduce-r\(round)", "native-shm-k1-allreduce-r\(round)"])
            #expect(combined.position == order.firstIndex(of: "native-shm")! + 1)
            #expect(launches.filter { $0.environment.label == "native-tcp" }.map(\.id)
                    == ["native-tcp-startup-r\(round)", "native-tcp-k0-allreduce-r\(round)", "native-tcp-k1-allreduce-r\(round)"])
            // Among one slot's launches, in the round's order: round 1 the startup probes', round 2
            // the first kernel's, round 3 the second's, then round 4 the probes' again.
            let slot = (round - 1) % 3
            #expect(Array(launches[slot...].prefix(2).map(\.environment.label)) == order)
        }
        #expect(throws: SuiteError("s.yaml:1: launch: 'together' is unknown; allowed: per-kernel, combined")) {
            try SuiteFile.parse("launch: together\nenvironments: [native-shm]\nkernels: [allreduce]\n", file: "s.yaml", kernels: FakeKernels())
        }
    }

    /// Same seed and round, same order (a resumed round repeats its order); over many rounds
    /// every environment takes every place, and another seed gives other orders.
    @Test func ordersAreSeededAndVaried() {
        let labels = ["a", "b", "c", "d"]
        #expect(Schedule.order(of: labels, round: 3, seed: 42) == Schedule.order(of: labels, round: 3, seed: 42))
        var places: [String: Set<Int>] = [:]
        var distinct = Set<[String]>()
        for round in 1...40 {
            let order = Schedule.order(of: labels, round: round, seed: 42)
            distinct.insert(order)
            for (index, label) in order.enumerated() { places[label, default: []].insert(index) }
        }
        #expect(places.values.allSatisfy { $0 == [0, 1, 2, 3] })
        #expect(distinct.count > 10)
        let other = (1...10).map { Schedule.order(of: labels, round: $0, seed: 43) }
        #expect(other != (1...10).map { Schedule.order(of: labels, round: $0, seed: 42) })
    }
}

@Suite struct JournalTests {
    @Test func stateCountsFinishedRoundsAndPassesOverACutLine() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let journal = Journal(path: folder.appendingPathComponent("launches.jsonl").path)
        var header = Journal.Event(.suite)
        header.seed = 9; header.rounds = 4
        try journal.append(header)
        for round in 1...2 {
            var start = Journal.Event(.round); start.round = round; start.order = ["a", "b"]
            try journal.append(start)
            var launch = Journal.Event(.launch); launch.round = round; launch.id = "a-k0-x-r\(round)"
            try journal.append(launch)
            if round == 1 { var done = Journal.Event(.finished); done.round = 1; try journal.append(done) }
        }
        // A crash mid-append leaves half a line.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: journal.path))
        try handle.seekToEnd(); try handle.write(contentsOf: Data("{\"event\":\"fin".utf8)); try handle.close()
        let state = journal.state()
        #expect(state.settings?.seed == 9 && state.settings?.rounds == 4)
        #expect(state.finished == [1] && state.launches == 2)
    }

    @Test func anAppendNeverFollowsALink() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let victim = folder.appendingPathComponent("victim").path
        try "untouched\n".write(toFile: victim, atomically: true, encoding: .utf8)
        let path = folder.appendingPathComponent("launches.jsonl").path
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: victim)
        #expect(throws: (any Error).self) { try Journal(path: path).append(Journal.Event(.suite)) }
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "untouched\n")
    }
}

@Suite struct ConfigShapeTests {
    /// Found by fuzzing the profile reader, refused for suites too: a key that is a list, and
    /// aliases of aliases that unfold into more values than memory holds.
    @Test func complexKeysAndAliasBombsAreRefused() throws {
        #expect(throws: SuiteError("s.yaml:2: a key must be a plain name, not a list or mapping")) {
            try SuiteFile.parse("environments: [native-shm]\n? [kernels]\n: [allreduce]\n", file: "s.yaml", kernels: FakeKernels())
        }
        var text = "x0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
        for level in 1...8 { text += "x\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ") + "]\n" }
        let started = Date()
        #expect(throws: SuiteError("s.yaml: more than 100000 YAML values (aliases of aliases?); a suite or profile has a few hundred")) {
            try SuiteFile.parse(text + "environments: [native-shm]\nkernels: [allreduce]\n", file: "s.yaml", kernels: FakeKernels())
        }
        #expect(Date().timeIntervalSince(started) < 5)
    }
}
