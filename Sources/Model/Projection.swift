/// One environment at one GPU count.
public struct ProjectedPoint: Equatable, Sendable {
    public var environment: String
    public var gpus: Int
    public var algorithm: AllreduceAlgorithm
    public var computeSeconds: Double
    /// All buckets' allreduce time, hidden or not.
    public var communicationSeconds: Double
    public var exposedSeconds: Double
    public var stepSeconds: Double { computeSeconds + exposedSeconds }
    /// Samples per second over all GPUs.
    public var throughput: Double
    /// Throughput over `gpus` times the one-GPU throughput of the same environment.
    public var efficiency: Double
    /// How much faster the baseline is than this environment, in percent of this one's throughput.
    public var gapPercent: Double
}

/// Step time = compute + exposed communication, per environment and GPU count.
public struct Projection: Sendable {
    public var profile: Profile
    public var gpusPerNode: Int
    public var gradientBytes: Int

    /// The most GPUs a projection takes, in all and per node: 2^20, above any cluster built, and
    /// small enough that GPU counts, samples per step and the tree levels never overflow an Int.
    public static let maximumGPUs = 1 << 20
    /// The most gradient bytes (1 PiB; a trillion float32 parameters are 4 TB) and buckets per
    /// step: a step is costed bucket by bucket, so more buckets than this would not finish.
    public static let maximumGradientBytes = 1 << 50
    public static let maximumBuckets = 1 << 20

    public init(profile: Profile, gpusPerNode: Int, gradientBytes: Int? = nil) throws {
        try Projection.check(gpus: gpusPerNode, option: "--gpus-per-node")
        if let gradientBytes, gradientBytes <= 0 { throw ModelError("--gradient-bytes \(gradientBytes) must be positive") }
        self.profile = profile
        self.gpusPerNode = gpusPerNode
        self.gradientBytes = try gradientBytes ?? profile.workload.resolvedGradientBytes()
        guard self.gradientBytes <= Projection.maximumGradientBytes else {
            throw ModelError("gradient bytes \(self.gradientBytes) are more than the model takes (at most \(Projection.maximumGradientBytes), 1 PiB)")
        }
        let bucket = profile.workload.bucketBytes
        guard bucket >= 1, self.gradientBytes / bucket < Projection.maximumBuckets else {
            throw ModelError("\(self.gradientBytes) gradient bytes in buckets of \(bucket) bytes are more than \(Projection.maximumBuckets) buckets; raise bucket_bytes")
        }
    }

    /// A GPU count in 1...maximumGPUs, or an error naming `option`.
    static func check(gpus: Int, option: String) throws {
        guard gpus >= 1 else { throw ModelError("\(option) \(gpus): a GPU count must be at least 1") }
        guard gpus <= maximumGPUs else { throw ModelError("\(option) \(gpus): the model takes at most \(maximumGPUs) GPUs") }
    }

    /// The gradients as the framework reduces them: full buckets, then the remainder.
    public var buckets: [Double] {
        // Summed with overflow checked: the sizes are the profile's, which may be anything.
        if let sizes = profile.workload.bucketSizes, sizes.count <= Projection.maximumBuckets,
           sizes.reduce(0, { total, size in total.addingReportingOverflow(size).overflow ? .max : total + size }) == gradientBytes {
            return sizes.map(Double.init)
        }
        let bucket = profile.workload.bucketBytes
        var sizes = [Double](repeating: Double(bucket), count: gradientBytes / bucket)
        if gradientBytes % bucket > 0 { sizes.append(Double(gradientBytes % bucket)) }
        return sizes
    }

    /// One environment at `gpus`, without the cross-environment columns.
    public func step(_ environment: EnvironmentProfile, gpus: Int) -> (compute: Double, communication: Double, exposed: Double, algorithm: AllreduceAlgorithm) {
        let workload = profile.workload
        let compute = Double(workload.batchPerGPU) * (environment.secondsPerSample ?? workload.secondsPerSample)
        let topology = ClusterTopology(gpus: gpus, perNode: gpusPerNode, intraNode: environment.intraNode, interNode: environment.interNode,
                                       intraNodeOneWay: environment.intraNodeOneWay, interNodeOneWay: environment.interNodeOneWay,
                                       reduceBytesPerSecond: environment.reduceBytesPerSecond ?? workload.reduceBytesPerSecond)
        var communication = 0.0
        var algorithm = AllreduceAlgorithm.ring
        for bucket in buckets {
            let cost = topology.cost(profile.workload.allreduce, bytes: bucket)
            communication += cost.seconds
            algorithm = cost.algorithm
        }
        // Overlap hides a share of the communication, never more than the backward pass lasts.
        let hidden = min(environment.overlap * communication, workload.backwardFraction * compute)
        return (compute, communication, communication - hidden, algorithm)
    }

    public func run(gpus counts: [Int]) throws -> [ProjectedPoint] {
        for count in counts { try Projection.check(gpus: count, option: "--gpus") }
        let baseline = try profile.environment(named: profile.baseline)
        func samplesPerSecond(_ environment: EnvironmentProfile, gpus: Int) -> Double {
            let timed = step(environment, gpus: gpus)
            return Double(gpus) * Double(profile.workload.batchPerGPU) / (timed.compute + timed.exposed)
        }
        // One GPU has no allreduce to vary: each environment's single-GPU throughput once, for every count.
        let singleThroughputs = profile.environments.map { samplesPerSecond($0, gpus: 1) }
        var points: [ProjectedPoint] = []
        for gpus in counts {
            let baseThroughput = samplesPerSecond(baseline, gpus: gpus)
            for (environment, singleThroughput) in zip(profile.environments, singleThroughputs) {
                let here = step(environment, gpus: gpus)
                let throughput = Double(gpus) * Double(profile.workload.batchPerGPU) / (here.compute + here.exposed)
                points.append(ProjectedPoint(
                    environment: environment.name, gpus: gpus, algorithm: here.algorithm, computeSeconds: here.compute,
                    communicationSeconds: here.communication, exposedSeconds: here.exposed, throughput: throughput,
                    efficiency: throughput / (Double(gpus) * singleThroughput),
                    gapPercent: (baseThroughput / throughput - 1) * 100))
            }
        }
        return points
    }

    /// The largest gap at `gpus` over the non-baseline environments (the headline number).
    public func gap(gpus: Int) throws -> Double {
        try run(gpus: [gpus]).filter { $0.environment != profile.baseline }.map(\.gapPercent).max() ?? 0
    }
}

/// How the headline gap moves when one input moves.
public struct SensitivityRow: Equatable, Sendable {
    public var input: String
    public var factor: Double
    public var gapPercent: Double
}

public enum Sensitivity {
    /// The gap at `gpus` with bandwidth, latency, overlap and model size each scaled by every
    /// factor in turn (all environments alike, so the ratio between them is what remains).
    public static func run(profile: Profile, gpusPerNode: Int, gradientBytes: Int?, gpus: Int,
                           factors: [Double] = [0.5, 1, 1.5]) throws -> [SensitivityRow] {
        let base = try Projection(profile: profile, gpusPerNode: gpusPerNode, gradientBytes: gradientBytes)
        var rows: [SensitivityRow] = []
        func gap(_ changed: Profile, bytes: Int) throws -> Double {
            try Projection(profile: changed, gpusPerNode: gpusPerNode, gradientBytes: bytes).gap(gpus: gpus)
        }
        for factor in factors {
            var bandwidth = profile, latency = profile, overlap = profile
            for index in profile.environments.indices {
                bandwidth.environments[index] = profile.environments[index].scaled(bandwidth: factor)
                latency.environments[index] = profile.environments[index].scaled(latency: factor)
                overlap.environments[index].overlap = min(1, profile.environments[index].overlap * factor)
            }
            rows.append(SensitivityRow(input: "bandwidth", factor: factor, gapPercent: try gap(bandwidth, bytes: base.gradientBytes)))
            rows.append(SensitivityRow(input: "latency", factor: factor, gapPercent: try gap(latency, bytes: base.gradientBytes)))
            rows.append(SensitivityRow(input: "overlap", factor: factor, gapPercent: try gap(overlap, bytes: base.gradientBytes)))
            rows.append(SensitivityRow(input: "model size", factor: factor,
                                       gapPercent: try gap(profile, bytes: max(1, Int(Double(base.gradientBytes) * factor)))))
        }
        return rows.sorted { ($0.input, $0.factor) < ($1.input, $1.factor) }
    }
}
