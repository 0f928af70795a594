import Records
import Model

// Shared by ModelTests (calibration, validation) and podgapTests (`podgap model` end to end).

/// Records as `podgap run allreduce` and `podgap run train` write them, made from known links.
public enum SyntheticRecords {
    public static func environment(_ name: String) -> Records.Environment {
        Records.Environment(name: name, launcher: .init(kind: "mpirun"), container: nil, network: "underlay",
                              transport: .init(pml: "ob1", btl: "tcp"), hostname: "h", hostnames: ["n1", "n2"], cores: 2,
                              cpuset: "0-1", cgroup: .init(), kernel: "Linux test", mpiLibrary: "Open MPI v4.1.4",
                              podgapVersion: "0.1.0", gitCommit: nil, topology: nil, bindings: nil, ranksPerNode: 1,
                              oversubscribed: false, yieldWhenIdle: true, yieldSetBy: "podgap")
    }

    public static func record(_ kernel: String, _ environment: String, ranks: Int, seconds: Double, params: [String: JSONValue],
                              phases: [String: [Double]] = [:]) -> Record {
        let measurement = MeasuredPoint(parameters: params, warmup: 1, iterations: 3, samples: [seconds, seconds, seconds],
                                      phases: phases, verified: true, verification: "synthetic")
        return Record(run: "synthetic", kernel: kernel, ranks: ranks, trial: 1, measurement: measurement,
                      keepingSamples: false, environment: SyntheticRecords.environment(environment))
    }

    /// An allreduce sweep 4 B ... 4 MiB over `ranks` ranks from alpha (s) and bandwidth (B/s).
    public static func sweep(_ environment: String, alpha: Double, bandwidth: Double, ranks: Int = 2) -> [Record] {
        stride(from: 2, through: 22, by: 1).map { power in
            let bytes = 1 << power
            let cost = FitSample.allreduce(bytes: bytes, ranks: ranks, seconds: 1)
            let seconds = cost.latencies * alpha + cost.bytesPerLink / bandwidth
            return record("allreduce", environment, ranks: ranks, seconds: seconds, params: ["bytes": .number(Double(bytes))])
        }
    }

    /// A training step without overlap: compute plus one in-place allreduce of `gradientBytes`,
    /// binomial as libnbc runs it: 2 rounds (reduce, broadcast) of the whole message at 2 ranks.
    public static func train(_ environment: String, alpha: Double, bandwidth: Double, batch: Int, compute: Double,
                             gradientBytes: Int, ranks: Int = 2) -> Record {
        let exposed = 2 * (alpha + Double(gradientBytes) / bandwidth)
        return record("train", environment, ranks: ranks, seconds: compute + exposed,
                      params: ["batch": .number(Double(batch)), "gradient_bytes": .number(Double(gradientBytes)),
                               "buckets": 1, "bucket_mb": 25, "overlap": false],
                      phases: ["compute": [compute, compute, compute], "exposed_communication": [exposed, exposed, exposed]])
    }
}
