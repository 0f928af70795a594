import Testing
@testable import Model

@Suite struct ProjectionTests {
    /// Two environments, 4 GPUs on 2 nodes of 2, 8 MB of gradients in two 4 MB buckets.
    static let yaml = """
        schema: podgap.profile/1
        name: hand-worked
        baseline: bare
        workload:
          gradient_bytes: 8000000
          batch_per_gpu: 10
          seconds_per_sample: 0.01
          backward_fraction: 0.5
          bucket_bytes: 4000000
        environments:
          - name: bare
            overlap: 0
            intra_node: [{latency_us: 1, bandwidth_gbytes_per_s: 10}]
            inter_node: [{latency_us: 10, bandwidth_gbytes_per_s: 1}]
          - name: pod
            overlap: 0.25
            intra_node: [{latency_us: 1, bandwidth_gbytes_per_s: 10}]
            inter_node: [{latency_us: 20, bandwidth_gbytes_per_s: 0.5}]
        """

    /// Hand arithmetic, bucket m = 4e6 bytes, n = 4 GPUs, g = 2 per node, N = 2 nodes:
    /// bare  ring:  2(n-1) = 6 steps x (10us + 1e6 B / 1 GB/s = 1000us)           = 6.060 ms
    ///       hier:  intra 2 x (1us + 2e6 B / 10 GB/s = 200us) = 0.402 ms
    ///              inter 2(N-1) = 2 x (10us + 2e6 B / 1 GB/s = 2000us) = 4.020 ms  = 4.422 ms
    ///       tree:  2 x (log2(2) x 10us + (g-1) x 1us) = 22us; + 4e6 B / 1 GB/s = 4000us = 4.022 ms  <- cheapest
    ///       2 buckets: 8.044 ms, overlap 0: exposed 8.044 ms; compute 10 x 0.01 s = 100 ms
    ///       step 108.044 ms; throughput 4 x 10 / 0.108044 = 370.220 samples/s
    ///       one GPU: 100 ms, 100 samples/s; efficiency 370.220 / 400 = 92.555%
    /// pod   tree:  2 x (20us + 1us) = 42us + 4e6 B / 0.5 GB/s = 8000us = 8.042 ms (hier 8.442, ring 12.120)
    ///       2 buckets: 16.084 ms; hidden min(0.25 x 16.084, 0.5 x 100) = 4.021 ms; exposed 12.063 ms
    ///       step 112.063 ms; gap = 112.063 / 108.044 - 1 = 3.7198%
    @Test func handWorkedCaseMatchesArithmetic() throws {
        let profile = try ProfileReader.parse(ProjectionTests.yaml)
        let projection = try Projection(profile: profile, gpusPerNode: 2)
        #expect(projection.buckets == [4e6, 4e6])
        let points = try projection.run(gpus: [1, 4])
        let bare = try #require(points.first { $0.environment == "bare" && $0.gpus == 4 })
        let pod = try #require(points.first { $0.environment == "pod" && $0.gpus == 4 })
        #expect(bare.algorithm == .tree)
        #expect(abs(bare.communicationSeconds - 8.044e-3) < 1e-9)
        #expect(abs(bare.stepSeconds - 0.108044) < 1e-9)
        #expect(abs(bare.throughput - 40 / 0.108044) < 1e-6)
        #expect(abs(bare.efficiency - (40 / 0.108044) / 400) < 1e-9)
        #expect(bare.gapPercent == 0)
        #expect(abs(pod.exposedSeconds - 12.063e-3) < 1e-9)
        #expect(abs(pod.gapPercent - (0.112063 / 0.108044 - 1) * 100) < 1e-6)
        // One GPU: no traffic, compute alone, no gap.
        let single = points.filter { $0.gpus == 1 }
        #expect(single.allSatisfy { $0.exposedSeconds == 0 && abs($0.stepSeconds - 0.1) < 1e-12 && $0.gapPercent == 0 })
    }

    /// Overlap never hides more than the backward pass lasts: with overlap 1 and a 50 ms backward,
    /// 16.084 ms of allreduce hides completely; at a tenth of the compute it cannot.
    @Test func overlapIsCappedByTheBackwardWindow() throws {
        var profile = try ProfileReader.parse(ProjectionTests.yaml)
        profile.environments[1].overlap = 1
        var step = try Projection(profile: profile, gpusPerNode: 2).step(profile.environments[1], gpus: 4)
        #expect(step.exposed == 0)
        profile.workload.secondsPerSample = 0.001   // compute 10 ms, backward window 5 ms
        step = try Projection(profile: profile, gpusPerNode: 2).step(profile.environments[1], gpus: 4)
        #expect(abs(step.exposed - (16.084e-3 - 5e-3)) < 1e-9)
    }

    @Test func profileRoundTripsThroughItsYAML() throws {
        let profile = try ProfileReader.parse(ProjectionTests.yaml)
        let again = try ProfileReader.parse(ProfileWriter.yaml(profile, header: ["written by a test"]))
        #expect(again.environments.map(\.name) == ["bare", "pod"])
        #expect(again.workload.gradientBytes == 8_000_000)
        let before = try Projection(profile: profile, gpusPerNode: 2).run(gpus: [4])
        let after = try Projection(profile: again, gpusPerNode: 2).run(gpus: [4])
        for (one, two) in zip(before, after) { #expect(abs(one.gapPercent - two.gapPercent) < 1e-4) }
    }

    @Test func sensitivityMovesTheGapTheRightWay() throws {
        let profile = try ProfileReader.parse(ProjectionTests.yaml)
        let rows = try Sensitivity.run(profile: profile, gpusPerNode: 2, gradientBytes: nil, gpus: 4)
        func gap(_ input: String, _ factor: Double) -> Double { rows.first { $0.input == input && $0.factor == factor }!.gapPercent }
        #expect(abs(gap("bandwidth", 1) - 3.7198) < 1e-3)
        // Less bandwidth or a bigger model: more traffic, a bigger gap.
        #expect(gap("bandwidth", 0.5) > gap("bandwidth", 1.5))
        #expect(gap("model size", 1.5) > gap("model size", 0.5))
        // More overlap hides more of the pod's extra traffic.
        #expect(gap("overlap", 1.5) < gap("overlap", 0.5))
    }

    @Test func chartHasOneLinePerEnvironment() throws {
        let profile = try ProfileReader.parse(ProjectionTests.yaml)
        let points = try Projection(profile: profile, gpusPerNode: 2).run(gpus: [1, 2, 4])
        let page = ProjectionChart.html(points, title: "t")
        #expect(page.components(separatedBy: "<polyline").count - 1 == 2)
        #expect(page.components(separatedBy: "<circle").count - 1 == 6)
        #expect(page.contains("<title>pod</title>"))
    }

    /// Binomial (libnbc's in-place iallreduce), 4 GPUs on 2 nodes: 2 rounds, the top one across
    /// nodes. One way: (1us + 4e6 B / 10 GB/s = 401us) + (10us + 4e6 B / 1 GB/s = 4010us) = 4.411 ms;
    /// reduce then broadcast: 8.822 ms per 4 MB bucket.
    @Test func binomialIsCostedAsReduceThenBroadcast() throws {
        var profile = try ProfileReader.parse(ProjectionTests.yaml)
        profile.workload.allreduce = .binomial
        let step = try Projection(profile: profile, gpusPerNode: 2).step(profile.environments[0], gpus: 4)
        #expect(step.algorithm == .binomial)
        #expect(abs(step.communication - 2 * 8.822e-3) < 1e-9)
    }
}
