import Records
import Foundation
import Testing
@testable import Report

@Suite struct AnalysisTests {
    @Test func pairsByPointAndComputesTheGapOfTrialMedians() throws {
        let analysis = try Analysis.build(Fixtures.twoEnvironments(), options: .init(baseline: "native-shm"))
        #expect(analysis.baseline == "native-shm")
        #expect(analysis.environments == ["native-shm", "native-tcp"])
        #expect(analysis.comparisons.count == 2)
        let small = try #require(analysis.comparisons.first { $0.point.bytes == 8 })
        // Trial medians 1, 2, 3 us against 4, 8, 12 us: medians 2 and 8, gap 8/2 - 1 = +300%.
        #expect(abs(small.baselineMedian - 2e-6) < 1e-15)
        #expect(abs(small.median - 8e-6) < 1e-15)
        #expect(abs(small.gap - 3) < 1e-9)
        #expect(small.trials == 3 && small.baselineTrials == 3)
        // 3 vs 3 fully separated: exact p = 0.1.
        #expect(abs((small.pValue ?? 0) - 0.1) < 1e-12)
        // Every resample ratio is one of {4,8,12}/{1,2,3} - 1 > 0, so the interval lies above 0.
        let interval = try #require(small.interval)
        #expect(interval.lowerBound >= 4.0 / 3 - 1 && interval.upperBound <= 11)
        #expect(small.verdict == .slower)
        #expect(small.summary().hasPrefix("+300.0% ["))
    }

    @Test func aTrialsRecordsAreReducedToTheirMedianFirst() throws {
        var facts = Fixtures.twoEnvironments()
        // Two more records in trial 1 of native-tcp at 8 B (4, 6, 7 us): that trial's median
        // becomes 6 us, so the trial medians are 6, 8, 12 and their median 8: the gap stays +300%.
        facts.append(Fixtures.fact("native-tcp", bytes: 8, trial: 1, seconds: 6e-6))
        facts.append(Fixtures.fact("native-tcp", bytes: 8, trial: 1, seconds: 7e-6))
        let analysis = try Analysis.build(facts, options: .init(baseline: "native-shm"))
        let point = try #require(analysis.points.first { $0.key.bytes == 8 }?.value["native-tcp"])
        #expect(point.trialMedians == [6e-6, 8e-6, 12e-6])
        #expect(abs(try #require(analysis.comparisons.first { $0.point.bytes == 8 }).gap - 3) < 1e-9)
    }

    @Test func unverifiedRecordsAreFlaggedAndKeptOut() throws {
        var facts = Fixtures.twoEnvironments()
        facts.append(Fixtures.fact("native-tcp", bytes: 8, trial: 4, seconds: 1, verified: false))
        let analysis = try Analysis.build(facts)
        let small = try #require(analysis.comparisons.first { $0.point.bytes == 8 })
        #expect(small.trials == 3)
        #expect(small.unverified == 1)
        #expect(analysis.warnings.contains { $0.contains("1 unverified record(s)") && $0.contains("native-tcp") })
    }

    @Test func warnsAboutMixedHostsAndUnpairedPoints() throws {
        var facts = Fixtures.twoEnvironments()
        facts.append(Fixtures.fact("native-tcp", bytes: 4096, trial: 1, seconds: 1e-4, host: "Linux 5.10 aarch64"))
        let analysis = try Analysis.build(facts)
        #expect(analysis.warnings.contains { $0.contains("2 different host kernels") })
        #expect(analysis.warnings.contains { $0.hasPrefix("native-tcp: 1 point(s) pair with no other environment") })
    }

    @Test func defaultBaselineIsTheCatalogs() throws {
        let facts = Fixtures.twoEnvironments() + (1...3).map { Fixtures.fact("native-2node", bytes: 8, trial: $0, seconds: 1e-5) }
        #expect(try Analysis.build(facts).baseline == "native-2node")
        // The same choice `podgap model` makes from the same names (both ask the catalog).
        #expect(try Analysis.build(Fixtures.twoEnvironments()).baseline == EnvironmentCatalog.baseline(among: ["native-shm", "native-tcp"]))
        // Custom labels only: the first by name.
        let custom = Fixtures.twoEnvironments().map { fact -> RecordFacts in
            var renamed = fact
            renamed.environment = fact.environment == "native-shm" ? "zeta" : "alpha"
            return renamed
        }
        #expect(try Analysis.build(custom).baseline == "alpha")
        #expect(try Analysis.build(facts, options: .init(baseline: "native-tcp")).baseline == "native-tcp")
    }

    @Test func badInputsSayWhatIsMissing() {
        #expect(throws: AnalysisError.noRecords) { try Analysis.build([]) }
        #expect(throws: AnalysisError.baselineAbsent(baseline: "pod-overlay", present: ["native-shm", "native-tcp"])) {
            try Analysis.build(Fixtures.twoEnvironments(), options: .init(baseline: "pod-overlay"))
        }
        #expect(throws: AnalysisError.singleEnvironment("native-shm")) {
            try Analysis.build(Fixtures.twoEnvironments().filter { $0.environment == "native-shm" })
        }
        let disjoint = Fixtures.twoEnvironments().map { fact -> RecordFacts in
            var changed = fact
            if changed.environment == "native-tcp" { changed.ranks = 4 }
            return changed
        }
        #expect(throws: AnalysisError.nothingPairs(baseline: "native-shm", present: ["native-tcp"])) {
            try Analysis.build(disjoint, options: .init(baseline: "native-shm"))
        }
        // Messages are one line and name the missing thing.
        let message = AnalysisError.baselineAbsent(baseline: "pod-overlay", present: ["native-shm"]).description
        #expect(message.contains("pod-overlay") && !message.contains("\n"))
    }

    @Test func ladderBridgesAbsentRungs() {
        let steps = Ladder.steps(present: ["native-shm", "native-2node", "pod-overlay", "pod-bridge"])
        #expect(steps == [
            Ladder.Step(from: "native-shm", to: "native-2node", adds: "TCP instead of shared memory + the wire between nodes"),
            Ladder.Step(from: "native-2node", to: "pod-overlay", adds: "pod network namespaces and routing + VXLAN encapsulation"),
            Ladder.Step(from: "native-shm", to: "pod-bridge", adds: "TCP instead of shared memory + container isolation and cgroup limits + veth and a Linux bridge"),
        ])
    }

    @Test func aCustomLabelKeepsAColourAndHasNoRung() throws {
        var facts = Fixtures.twoEnvironments()
        facts += (1...3).map { Fixtures.fact("my-cluster", bytes: 8, trial: $0, seconds: Double($0) * 3e-6) }
        let analysis = try Analysis.build(facts, options: .init(baseline: "native-shm"))
        #expect(analysis.environments == ["native-shm", "native-tcp", "my-cluster"])
        #expect(analysis.unranked == ["my-cluster"])
        #expect(!analysis.chains.contains { $0.environments.contains("my-cluster") })
        // A spare colour, not the first catalog colour and not another environment's.
        let colour = analysis.colour(of: "my-cluster")
        #expect(EnvironmentCatalog.spareColours.contains(colour))
        #expect(colour != analysis.colour(of: "native-shm") && colour != analysis.colour(of: "native-tcp"))
        let table = TableRenderer(colour: false).render(analysis)
        #expect(table.contains("my-cluster: not in the environment catalog, so no rung on the attribution ladder"))
        let html = ReportFormat.html.render(analysis)
        #expect(html.contains("stroke=\"\(colour)\""))
    }

    @Test func attributionComparesNeighbours() throws {
        // native-2node at 5x native-shm; native-tcp at 4x: the step tcp -> 2node is 5/4 - 1.
        let facts = Fixtures.twoEnvironments() + (1...3).flatMap { trial in
            [Fixtures.fact("native-2node", bytes: 8, trial: trial, seconds: Double(trial) * 5e-6),
             Fixtures.fact("native-2node", bytes: 1024, trial: trial, seconds: Double(trial) * 50e-6)]
        }
        let analysis = try Analysis.build(facts, options: .init(baseline: "native-shm"))
        let chain = try #require(analysis.chains.first)
        #expect(chain.environments == ["native-shm", "native-tcp", "native-2node"])
        let latency = try #require(chain.totals.first { $0.headline.metric.hasPrefix("small-message latency") })
        #expect(abs(latency.rungs[1].gap - 0.25) < 1e-9)
        // Unpaired: the rungs' log ratios of medians telescope to the total's (4 x 1.25 = 5).
        #expect(abs(latency.headline.comparison.gap - 4) < 1e-9 && abs(latency.residual) < 1e-12)
        let bandwidth = try #require(chain.totals.first { $0.headline.metric.hasPrefix("large-message bandwidth") })
        // A rate: 1 / (1 + gap) - 1 = 4/5 - 1 = -20%.
        let rung = Headline(kernel: "allreduce", metric: bandwidth.headline.metric, isRate: true, comparison: bandwidth.rungs[1])
        #expect(bandwidth.headline.isRate && abs(rung.gap + 0.2) < 1e-9)
    }

    @Test func headlinesForUnsizedKernelsUseTheHeaviestPoint() throws {
        var facts: [RecordFacts] = []
        for trial in 1...3 {
            facts.append(Fixtures.fact("native-shm", bytes: nil, trial: trial, seconds: 0.1, kernel: "train"))
            facts.append(Fixtures.fact("pod-overlay", bytes: nil, trial: trial, seconds: 0.125, kernel: "train"))
        }
        let analysis = try Analysis.build(facts)
        let headline = try #require(analysis.headlines["pod-overlay"]?.first)
        #expect(headline.metric == "training step (samples/s)")
        // Step time +25% means samples/s at 1/1.25 = 80%: -20%.
        #expect(abs(headline.gap + 0.2) < 1e-9)
    }

    @Test func headlinesComeFromTheRecordsDescriptorsOrTheGenericOnes() throws {
        // A kernel this podgap has never heard of, described by its records: its own headline
        // and its place before allreduce.
        let custom = KernelDescriptor(
            metrics: [.init(key: "seconds", label: "exchange time", unit: "seconds", direction: .lowerIsBetter)],
            headlines: [.init(label: "largest exchange", point: .largest, asRate: false)], order: -1)
        var facts = Fixtures.twoEnvironments()
        for trial in 1...3 {
            for (environment, seconds) in [("native-shm", 1e-3), ("native-tcp", 2e-3)] {
                for bytes in [64.0, 4096] {
                    var fact = Fixtures.fact(environment, bytes: bytes, trial: trial, seconds: seconds * bytes / 64, kernel: "alltoallw")
                    fact.descriptor = custom
                    facts.append(fact)
                }
            }
        }
        let analysis = try Analysis.build(facts, options: .init(baseline: "native-shm"))
        let headlines = try #require(analysis.headlines["native-tcp"])
        #expect(headlines.map(\.metric) == ["largest exchange (4K B)", "small-message latency (8 B)", "large-message bandwidth (1K B)"])
        #expect(analysis.sortedPoints.first?.kernel == "alltoallw")
        // Schema-1 records (no descriptor): a sweep reads as latency and bandwidth, anything else
        // as its heaviest configuration's time.
        let old = Fixtures.twoEnvironments().map { fact -> RecordFacts in
            var bare = fact
            bare.descriptor = nil
            return bare
        } + (1...3).flatMap { trial in
            [Fixtures.fact("native-shm", bytes: nil, trial: trial, seconds: 0.1, kernel: "stencil"),
             Fixtures.fact("native-tcp", bytes: nil, trial: trial, seconds: 0.2, kernel: "stencil")]
        }
        let generic = try Analysis.build(old, options: .init(baseline: "native-shm"))
        #expect(generic.headlines["native-tcp"]?.map(\.metric) == ["small-message latency (8 B)", "large-message bandwidth (1K B)", "time per iteration"])
    }
}
