import Records
import ModelFixtures
import Testing
@testable import Model

@Suite struct CalibrationTests {
    @Test func fitsEachEnvironmentAndTakesComputeFromTrainingRecords() throws {
        let records = SyntheticRecords.sweep("native-2node", alpha: 20e-6, bandwidth: 1e9)
            + SyntheticRecords.sweep("pod-overlay", alpha: 35e-6, bandwidth: 0.6e9)
            + [SyntheticRecords.train("native-2node", alpha: 20e-6, bandwidth: 1e9, batch: 8, compute: 0.05, gradientBytes: 4 << 20),
               SyntheticRecords.train("pod-overlay", alpha: 35e-6, bandwidth: 0.6e9, batch: 8, compute: 0.052, gradientBytes: 4 << 20)]
        let profile = try Calibration(records: records).profile(name: "synthetic")
        #expect(profile.baseline == "native-2node")
        #expect(profile.environments.map(\.name) == ["native-2node", "pod-overlay"])
        let pod = try profile.environment(named: "pod-overlay")
        #expect(pod.interNode.regimes.count == 1)
        #expect(abs(pod.interNode.regimes[0].alpha / 35e-6 - 1) < 0.02)
        #expect(abs(pod.interNode.regimes[0].bandwidth / 0.6e9 - 1) < 0.02)
        #expect(abs(pod.secondsPerSample! - 0.052 / 8) < 1e-12)
        #expect(pod.overlap == 0)
        #expect(profile.workload.gradientBytes == 4 << 20)
        // The calibrated model gives the training steps back: 2 GPUs, one per node.
        let points = try Projection(profile: profile, gpusPerNode: 1).run(gpus: [2])
        for (point, record) in zip(points, records.suffix(2)) {
            #expect(abs(point.stepSeconds / record.seconds.p50 - 1) < 0.02)
        }
    }

    /// The same default baseline as `podgap report` for the same records: the catalog's choice, not
    /// the first environment whose name starts with "native".
    @Test func defaultBaselineIsTheCatalogs() throws {
        let names = ["native-shm", "native-2node", "pod-overlay"]
        let records = names.flatMap { SyntheticRecords.sweep($0, alpha: 20e-6, bandwidth: 1e9) }
            + names.map { SyntheticRecords.train($0, alpha: 20e-6, bandwidth: 1e9, batch: 8, compute: 0.05, gradientBytes: 4 << 20) }
        let profile = try Calibration(records: records).profile(name: "synthetic")
        #expect(profile.baseline == EnvironmentCatalog.baseline(among: names))
        #expect(profile.baseline == "native-2node")
    }

    /// With a GPU step among the records (`run train --device cuda`), the compute is the GPU's:
    /// the CPU's slower step in the same files is not averaged in, and the profile says which device.
    @Test func computeComesFromTheGPUStepWhereThereIsOne() throws {
        var gpu = SyntheticRecords.train("native-2node", alpha: 20e-6, bandwidth: 1e9, batch: 64, compute: 0.046, gradientBytes: 27_872_824)
        gpu.params["device"] = "cuda"
        gpu.params["gpu"] = "NVIDIA H200"
        gpu.params["precision"] = "tf32"
        gpu.params["reducer"] = "nccl"
        let cpu = SyntheticRecords.train("native-2node", alpha: 20e-6, bandwidth: 1e9, batch: 64, compute: 9.0, gradientBytes: 4 << 20)
        let records = SyntheticRecords.sweep("native-2node", alpha: 20e-6, bandwidth: 1e9) + [cpu, gpu]
        let profile = try Calibration(records: records).profile(name: "h200")
        #expect(abs(profile.workload.secondsPerSample - 0.046 / 64) < 1e-12)
        #expect(profile.workload.gradientBytes == 27_872_824)
        // NCCL chooses its own algorithm: the projection's auto, not the MPI step's binomial tree.
        #expect(profile.workload.allreduce == nil)
        let notes = try profile.environment(named: "native-2node").notes.joined(separator: " ")
        #expect(notes.contains("compute from 1 training record(s) on NVIDIA H200 (tf32, nccl)"), "\(notes)")
        // Without the GPU record, the CPU's step is the compute, reduced by MPI's binomial tree.
        let cpuOnly = try Calibration(records: SyntheticRecords.sweep("native-2node", alpha: 20e-6, bandwidth: 1e9) + [cpu]).profile(name: "cpu")
        #expect(abs(cpuOnly.workload.secondsPerSample - 9.0 / 64) < 1e-12)
        #expect(cpuOnly.workload.allreduce == .binomial)
    }

    /// Eager below 64 KiB, rendezvous above with a handshake's worth more latency: two regimes.
    @Test func splitsAtTheProtocolChange() throws {
        let points = stride(from: 2, through: 22, by: 1).map { power -> FitSample in
            let bytes = 1 << power
            let (alpha, bandwidth) = bytes <= 65536 ? (10e-6, 0.5e9) : (80e-6, 2e9)
            return FitSample.pointToPoint(bytes: bytes, seconds: alpha + Double(bytes) / bandwidth)
        }
        let fit = try AlphaBetaFit.fit(points)
        #expect(fit.link.regimes.count == 2)
        #expect(fit.link.regimes[0].upToBytes == 65536)
        #expect(abs(fit.link.regimes[1].alpha / 80e-6 - 1) < 0.02)
        #expect(abs(fit.link.regimes[1].bandwidth / 2e9 - 1) < 0.02)
        #expect(fit.rmsErrorPercent < 0.1)
    }

    /// A link that is not full duplex: data both ways at once (allreduce) goes at 1 GB/s, one
    /// message one way (ping-pong) at 2 GB/s. The fits stay apart, and the binomial rounds of the
    /// training step are costed one way.
    @Test func pingPongRecordsGiveTheOneWayLink() throws {
        let pingPong = stride(from: 2, through: 22, by: 1).map { power -> Record in
            let bytes = 1 << power
            return SyntheticRecords.record("pingpong", "native-2node", ranks: 2, seconds: 10e-6 + Double(bytes) / 2e9,
                                           params: ["bytes": .number(Double(bytes))])
        }
        var train = SyntheticRecords.train("native-2node", alpha: 10e-6, bandwidth: 2e9, batch: 8, compute: 0.05, gradientBytes: 4 << 20)
        train.params["layers"] = .string("1024,1024")
        let records = SyntheticRecords.sweep("native-2node", alpha: 20e-6, bandwidth: 1e9) + pingPong + [train]
        let fit = try #require(try Calibration(records: records).fits().first)
        #expect(abs(try #require(fit.collective).link.regimes[0].bandwidth / 1e9 - 1) < 0.02)
        let oneWay = try #require(fit.oneWay).link
        #expect(oneWay.regimes.count == 1)
        #expect(abs(oneWay.regimes[0].alpha / 10e-6 - 1) < 0.02 && abs(oneWay.regimes[0].bandwidth / 2e9 - 1) < 0.02)

        let profile = try Calibration(records: records).profile(name: "duplex")
        let environment = try profile.environment(named: "native-2node")
        #expect(environment.interNodeOneWay == oneWay && environment.intraNodeOneWay == oneWay)
        // 2 ranks, 1 per node: reduce then broadcast of 4 MiB over the one-way link, not the allreduce one.
        let step = try Projection(profile: profile, gpusPerNode: 1).step(environment, gpus: 2)
        #expect(abs(step.communication / (2 * (10e-6 + Double(4 << 20) / 2e9)) - 1) < 0.02)
        #expect(abs((step.compute + step.exposed) / train.seconds.p50 - 1) < 0.02)
        // With the local sum speed measured, each reduce round adds its arithmetic: 4 MiB at 8 GB/s.
        var summing = environment
        summing.reduceBytesPerSecond = 8e9
        let slower = try Projection(profile: profile, gpusPerNode: 1).step(summing, gpus: 2)
        #expect(abs(slower.communication - step.communication - Double(4 << 20) / 8e9) < 1e-12)
        // The profile keeps both links through its YAML.
        let reread = try #require(try ProfileReader.parse(ProfileWriter.yaml(profile)).environments[0].interNodeOneWay)
        #expect(reread.regimes.count == 1 && abs(reread.regimes[0].bandwidth / oneWay.regimes[0].bandwidth - 1) < 1e-5)
    }

    @Test func recordsWithoutTrainingStepsAreRefused() {
        #expect(throws: ModelError.self) {
            try Calibration(records: SyntheticRecords.sweep("native-2node", alpha: 1e-5, bandwidth: 1e9)).profile(name: "x")
        }
    }

    /// Eager up to 64 KiB, rendezvous up to 8 MiB, then a slower regime once messages outgrow the
    /// caches: three regimes, each line given back.
    @Test func findsThreeRegimes() throws {
        let points = stride(from: 2, through: 26, by: 1).map { power -> FitSample in
            let bytes = 1 << power
            let (alpha, bandwidth) = bytes <= 65536 ? (10e-6, 0.5e9) : bytes <= 8 << 20 ? (80e-6, 2e9) : (2e-3, 0.4e9)
            return FitSample.pointToPoint(bytes: bytes, seconds: alpha + Double(bytes) / bandwidth)
        }
        let fit = try AlphaBetaFit.fit(points)
        #expect(fit.link.regimes.map(\.upToBytes) == [65536, 8 << 20, nil])
        #expect(abs(fit.link.regimes[2].bandwidth / 0.4e9 - 1) < 0.02)
        #expect(fit.rmsErrorPercent < 0.1)
    }

    /// The buckets `run train` forms for 1024,4096,4096,1024 with a 25 MiB cap, last layer first:
    /// 4096x1024x4 = 16 MiB, then 4096x4096x4 = 64 MiB (alone: it passes the cap), then 16 MiB.
    @Test func bucketLayoutFollowsTheTrainingStep() throws {
        var record = SyntheticRecords.train("native-2node", alpha: 1e-5, bandwidth: 1e9, batch: 8, compute: 0.05, gradientBytes: 96 << 20)
        record.params["layers"] = .string("1024,4096,4096,1024")
        #expect(Calibration.bucketSizes(record, capBytes: 25 << 20) == [16 << 20, 64 << 20, 16 << 20])
        let profile = try Calibration(records: SyntheticRecords.sweep("native-2node", alpha: 1e-5, bandwidth: 1e9) + [record]).profile(name: "b")
        #expect(try Projection(profile: profile, gpusPerNode: 1).buckets == [16 << 20, 64 << 20, 16 << 20].map(Double.init))
    }
}

/// The model reads what each record says it measured (its descriptor's role), not kernel names.
@Suite struct CalibrationRoleTests {
    static func describing(_ records: [Record], as kernel: String, role: KernelDescriptor.Role?) -> [Record] {
        records.map { record in
            var record = record
            record.kernel = kernel
            record.descriptor = KernelDescriptor(metrics: [], headlines: [], order: 0, role: role)
            return record
        }
    }

    @Test func aKernelOfAnyNameCalibratesThroughItsRole() throws {
        let sweep = SyntheticRecords.sweep("native-2node", alpha: 20e-6, bandwidth: 1e9)
        let step = [SyntheticRecords.train("native-2node", alpha: 20e-6, bandwidth: 1e9, batch: 8, compute: 0.05, gradientBytes: 4 << 20)]
        // Old records (no descriptor, the fixtures' own) against the same records renamed, their
        // descriptors carrying the roles.
        let byName = try Calibration(records: sweep + step).profile(name: "p")
        let byRole = try Calibration(records: Self.describing(sweep, as: "allreduce-ring", role: .allreduce)
                                     + Self.describing(step, as: "step", role: .trainingStep)).profile(name: "p")
        #expect(byRole == byName)
        // One-way records of a new name fit the one-way link.
        let oneWay = Self.describing(SyntheticRecords.sweep("native-2node", alpha: 10e-6, bandwidth: 2e9), as: "pingpong-v2", role: .pointToPoint)
        let fits = try Calibration(records: sweep + oneWay + step).fits()
        #expect(fits.count == 1 && fits[0].oneWay != nil && fits[0].collective != nil)
    }

    @Test func aKernelWithoutARoleIsLeftOut() throws {
        let sweep = SyntheticRecords.sweep("native-2node", alpha: 20e-6, bandwidth: 1e9)
        let step = [SyntheticRecords.train("native-2node", alpha: 20e-6, bandwidth: 1e9, batch: 8, compute: 0.05, gradientBytes: 4 << 20)]
        // A kernel that declares no role (a barrier), even with bytes in its parameters, is not
        // fitted: not as a second link, and not as the only one.
        let noise = Self.describing(SyntheticRecords.sweep("native-2node", alpha: 90e-6, bandwidth: 1e8), as: "barrier", role: nil)
        let fits = try Calibration(records: sweep + noise + step).fits()
        #expect(fits[0].oneWay == nil)
        #expect(try Calibration(records: sweep + noise + step).profile(name: "p") == Calibration(records: sweep + step).profile(name: "p"))
        #expect(throws: ModelError.self) {
            try Calibration(records: Self.describing(sweep, as: "barrier", role: nil) + step).profile(name: "p")
        }
    }
}
