import Records
import ModelFixtures
import Testing
@testable import Model

@Suite struct ValidationTests {
    /// Compute 10 x 10 ms; 100 MB of gradients in one bucket, reduced binomially at 2 ranks on 2
    /// nodes: reduce then broadcast, each the whole message over the link.
    static func profile() -> Profile {
        var workload = Profile.Workload(model: nil, gradientBytes: 100_000_000, batchPerGPU: 10, secondsPerSample: 0.01,
                                        bucketBytes: 200_000_000)
        workload.allreduce = .binomial
        let native = Link(alpha: 0, bandwidth: 1e9), pod = Link(alpha: 0, bandwidth: 0.5e9)
        return Profile(name: "hand", baseline: "native-2node", workload: workload, environments: [
            EnvironmentProfile(name: "native-2node", intraNode: native, interNode: native, overlap: 0),
            EnvironmentProfile(name: "pod-overlay", intraNode: pod, interNode: pod, overlap: 0),
        ])
    }

    static func step(_ environment: String, trial: Int, seconds: Double) -> Record {
        var record = SyntheticRecords.record("train", environment, ranks: 2, seconds: seconds, params: ["batch": 10])
        record.trial = trial
        return record
    }

    @Test func predictsEachStepAndPairsTheGapTrialByTrial() throws {
        // The machine drifts: trial 1 slow for the pod, trials 2 and 3 not.
        let records = [
            Self.step("native-2node", trial: 1, seconds: 0.30), Self.step("pod-overlay", trial: 1, seconds: 0.60),
            Self.step("native-2node", trial: 2, seconds: 0.40), Self.step("pod-overlay", trial: 2, seconds: 0.44),
            Self.step("native-2node", trial: 3, seconds: 0.35), Self.step("pod-overlay", trial: 3, seconds: 0.42),
        ]
        let rows = try Validation.run(profile: Self.profile(), records: records, gpusPerNode: 1)
        #expect(rows.map(\.environment) == ["native-2node", "pod-overlay"])
        let native = rows[0], pod = rows[1]
        // 0.1 s compute + 2 x 100 MB / 1 GB/s; the pod's link is half as fast: 0.1 + 2 x 0.2.
        #expect(abs(native.predictedSeconds - 0.3) < 1e-12)
        #expect(abs(pod.predictedSeconds - 0.5) < 1e-12)
        #expect(native.measuredSeconds == 0.35)
        #expect(pod.measuredSeconds == 0.44)
        #expect(abs(native.errorPercent - (0.3 / 0.35 - 1) * 100) < 1e-9)
        #expect(native.measuredGapPercent == nil)
        // Trial by trial +100%, +10%, +20%: the median pair, not the ratio of medians (+25.7%).
        #expect(pod.trialGapsPercent.map { ($0 * 1e6).rounded() / 1e6 } == [10, 20, 100])
        #expect(abs(try #require(pod.measuredGapPercent) - 20) < 1e-9)
        #expect(abs(try #require(pod.predictedGapPercent) - 200.0 / 3) < 1e-9)
        // Three trials: the bootstrap's medians are among the three gaps, and the interval spans them.
        let interval = try #require(pod.measuredGapInterval)
        #expect(abs(interval.lowerBound - 10) < 1e-9 && abs(interval.upperBound - 100) < 1e-9)
        #expect(Validation.summary(rows) == [
            "step predicted within 15% of the measured median: 2 of 2",
            "gap predicted within 3 points of the measured gap: 0 of 1",
            "gap predicted inside the measured gap's 95% interval: 1 of 1",
        ])
        let csv = Validation.table(rows, format: .csv).render(.csv).split(separator: "\n")
        #expect(csv[2] == "2,pod-overlay,3,440.0,420.0;600.0,500.0,+13.6,+20.0,10.0;100.0,+66.7,+46.7")
    }

    @Test func unpairedTrialsFallBackToTheMedians() throws {
        let records = [Self.step("native-2node", trial: 1, seconds: 0.40), Self.step("pod-overlay", trial: 2, seconds: 0.50)]
        let pod = try Validation.run(profile: Self.profile(), records: records, gpusPerNode: 1)[1]
        #expect(pod.trialGapsPercent.isEmpty)
        #expect(pod.measuredGapInterval == nil)
        #expect(abs(try #require(pod.measuredGapPercent) - 25) < 1e-9)
    }

    @Test func refusesRecordsWithoutTrainingSteps() {
        #expect(throws: ModelError.self) {
            try Validation.run(profile: Self.profile(), records: SyntheticRecords.sweep("native-2node", alpha: 1e-5, bandwidth: 1e9),
                               gpusPerNode: 1)
        }
    }
}
