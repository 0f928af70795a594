import Records

/// The facts of one record that a comparison uses: which point it measured, where, in which trial,
/// and its median iteration time. Small on purpose: a report may hold millions of them.
public struct RecordFacts: Equatable, Sendable {
    public var kernel: String
    /// Parameters as `key=value` pairs sorted by key, so that equal parameters compare equal.
    public var parameters: String
    /// `params.bytes` when the kernel sweeps message sizes, for the size axis of charts.
    public var bytes: Double?
    public var ranks: Int
    public var trial: Int
    /// The record's median per-iteration time in seconds.
    public var seconds: Double
    public var verified: Bool
    public var environment: String
    /// The operating system kernel the record ran on: pods have their own hostnames by design, so
    /// the machine is recognised by what containers share with their host.
    public var host: String
    public var mpiLibrary: String
    public var podgapVersion: String

    public init(kernel: String, parameters: String, bytes: Double?, ranks: Int, trial: Int, seconds: Double,
                verified: Bool, environment: String, host: String, mpiLibrary: String, podgapVersion: String) {
        self.kernel = kernel; self.parameters = parameters; self.bytes = bytes; self.ranks = ranks
        self.trial = trial; self.seconds = seconds; self.verified = verified; self.environment = environment
        self.host = host; self.mpiLibrary = mpiLibrary; self.podgapVersion = podgapVersion
    }

    public init(_ record: Record) {
        self.init(kernel: record.kernel,
                  parameters: RecordFacts.canonical(record.params),
                  bytes: record.params["bytes"]?.doubleValue,
                  ranks: record.ranks, trial: record.trial, seconds: record.seconds.p50,
                  verified: record.verified, environment: record.environment.name,
                  host: record.environment.kernel,
                  mpiLibrary: record.environment.mpiLibrary, podgapVersion: record.environment.podgapVersion)
    }

    /// `a=1,b=x`: the same text the fast reader builds from raw JSON.
    public static func canonical(_ parameters: [String: JSONValue]) -> String {
        parameters.keys.filter { !environmentDerived.contains($0) }.sorted()
            .map { "\($0)=\(parameters[$0]!.description)" }.joined(separator: ",")
    }

    /// Parameters a kernel records but the environment decides (BLAS threads follow the cores a
    /// rank gets): kept in the records, left out of pairing, else a pod and a host never pair.
    public static let environmentDerived: Set<String> = ["blas_threads"]
}
