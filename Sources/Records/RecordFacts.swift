/// The facts of one record that a report uses: which point it measured, where, in which round or
/// trial, its median iteration time and the machine's state. Small on purpose: a report reads
/// millions of them (`RecordReader.facts`).
///
/// A new field is read in two ways, held equal by the fuzz target (benchmarks/fuzz, records):
/// here from a decoded `Record` (`init(_ record:details:)`), and by the fast scanner from the
/// line's bytes (`FactScanner`: its `Field` list and the case of its switch).
public struct RecordFacts: Equatable, Sendable {
    public var kernel: String
    /// Parameters as `key=value` pairs sorted by key, so that equal parameters compare equal.
    public var parameters: String
    /// `params.bytes` when the kernel sweeps message sizes, for the size axis of charts.
    public var bytes: Double?
    public var ranks: Int
    /// Timed iterations of the point.
    public var iterations: Int
    public var trial: Int
    /// The suite round and the launch's place in it (1 first); nil for records run outside rounds.
    public var round: Int?
    public var position: Int?
    /// The record's median, mean and 99th percentile per-iteration time in seconds.
    public var seconds: Double
    public var mean: Double
    public var p99: Double
    public var verified: Bool
    /// Why the record's values cannot be real (`PhysicalBounds`): such a record counts as unverified.
    public var implausible: String?
    public var environment: String
    /// The operating system kernel the record ran on: pods have their own hostnames by design, so
    /// the machine is recognised by what containers share with their host.
    public var host: String
    public var mpiLibrary: String
    public var podgapVersion: String
    /// The machine-state probe the launch ran before its kernel.
    public var probe: MachineProbe?
    /// What the kernel measures; nil for records that carry none (schema 1).
    public var descriptor: KernelDescriptor?
    /// OSU's view of the point, where the kernel records one.
    public var osu: OSUStatistics?
    /// Elements that failed verification, where the kernel counts them.
    public var wrong: Int?
    /// Kernel rates (`busbw_gbps` ...): filled only when the reader is asked for details (the
    /// exporters' formats), empty otherwise to keep a million facts small.
    public var throughput: [String: Double]
    /// Warm-up iterations: with `iterations`, the iterations a point's counters cover.
    public var warmup: Int
    /// The system counters over the point (`counters`), where the record has them.
    public var counters: Counters?
    /// What the ranks talked over (`environment.network`) and the Kubernetes knobs the pods ran
    /// with (`environment.knobs`, nil where none): the report's WHAT TO CHANGE pairs a knob's
    /// environment with the same network's environment without knobs.
    public var network: String?
    public var knobs: Knobs?
    /// A startup launch's phases (`StartupPhase` names only), seconds each; empty otherwise.
    public var phases: [String: Double]
    /// The median of the descriptor's `modePhase` (the kernel's own computation, nothing in
    /// flight), where the record has one: the report's machine-mode covariate for the kernel.
    public var modeSeconds: Double?
    /// The parameters the environment decided (`blas_threads=2`; `environmentDerived`), as
    /// `canonical` writes them: two launches compute alike only where these are equal.
    public var derived: String

    public init(kernel: String, parameters: String, bytes: Double?, ranks: Int, iterations: Int = 0, trial: Int, round: Int? = nil,
                position: Int? = nil, seconds: Double, mean: Double? = nil, p99: Double? = nil, verified: Bool,
                implausible: String? = nil, environment: String, host: String, mpiLibrary: String, podgapVersion: String,
                probe: MachineProbe? = nil, descriptor: KernelDescriptor? = nil, osu: OSUStatistics? = nil,
                wrong: Int? = nil, throughput: [String: Double] = [:], warmup: Int = 0, counters: Counters? = nil,
                network: String? = nil, knobs: Knobs? = nil, phases: [String: Double] = [:],
                modeSeconds: Double? = nil, derived: String = "") {
        self.kernel = kernel; self.parameters = parameters; self.bytes = bytes; self.ranks = ranks
        self.iterations = iterations; self.trial = trial; self.round = round; self.position = position
        self.seconds = seconds; self.mean = mean ?? seconds; self.p99 = p99 ?? seconds
        self.verified = verified; self.implausible = implausible; self.environment = environment
        self.host = host; self.mpiLibrary = mpiLibrary; self.podgapVersion = podgapVersion
        self.probe = probe; self.descriptor = descriptor; self.osu = osu; self.wrong = wrong; self.throughput = throughput
        self.warmup = warmup; self.counters = counters; self.network = network; self.knobs = knobs; self.phases = phases
        self.modeSeconds = modeSeconds; self.derived = derived
    }

    public init(_ record: Record, details: Bool = false) {
        self.init(kernel: record.kernel,
                  parameters: RecordFacts.canonical(record.params),
                  bytes: record.params["bytes"]?.doubleValue,
                  ranks: record.ranks, iterations: record.iterations, trial: record.trial, round: record.round,
                  position: record.position,
                  seconds: record.seconds.p50, mean: record.seconds.mean, p99: record.seconds.p99,
                  verified: record.verified, implausible: PhysicalBounds.violation(record),
                  environment: record.environment.name, host: record.environment.kernel,
                  mpiLibrary: record.environment.mpiLibrary, podgapVersion: record.environment.podgapVersion,
                  probe: record.environment.probe, descriptor: record.descriptor, osu: record.osu, wrong: record.wrong,
                  throughput: details ? record.throughput : [:], warmup: record.warmup, counters: record.counters,
                  network: record.environment.network, knobs: record.environment.knobs,
                  phases: RecordFacts.startupPhases(record.phases.mapValues(\.p50)),
                  modeSeconds: record.descriptor?.modePhase.flatMap { record.phases[$0]?.p50 },
                  derived: RecordFacts.canonical(record.params, derived: true))
    }

    /// The phases of `phases` a startup record has: the others (halo's exchange ...) stay out, so
    /// that a million kernel facts carry nothing more.
    public static func startupPhases(_ phases: [String: Double]) -> [String: Double] {
        phases.filter { StartupPhase(rawValue: $0.key) != nil }
    }

    /// Verified by its kernel and physically possible: the only records statistics use.
    public var usable: Bool { verified && implausible == nil }

    /// The round when the record has one, else the trial: what groups a launch's records.
    public var launch: Int { round ?? trial }

    /// `a=1,b=x`: the same text the fast reader builds from raw JSON. `derived`: the
    /// environment-derived parameters instead of the others.
    public static func canonical(_ parameters: [String: JSONValue], derived: Bool = false) -> String {
        parameters.keys.filter { environmentDerived.contains($0) == derived }.sorted()
            .map { "\($0)=\(parameters[$0]!.description)" }.joined(separator: ",")
    }

    /// Parameters a kernel records but the environment decides (BLAS threads follow the cores a
    /// rank gets): kept in the records, left out of pairing, else a pod and a host never pair.
    public static let environmentDerived: Set<String> = ["blas_threads"]
}
