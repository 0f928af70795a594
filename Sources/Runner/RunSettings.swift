import Records

/// What every `podgap run <kernel>` is told besides its kernel's own parameters: where records go,
/// how they are labelled, the transport and the time limit. The CLI parses them; the suite passes
/// `round` and `position`, which records carry as-is.
public struct RunSettings: Sendable {
    /// Append one record per point here (rank 0); nil prints a table on stdout instead.
    public var out: String?
    /// The environment name to record; detected when nil.
    public var label: String?
    /// Shared by the records of one run; generated (by rank 0) when nil.
    public var runID: String?
    public var trial: Int
    public var round: Int?
    public var position: Int?
    /// Keep every per-iteration sample in the records.
    public var keepSamples: Bool
    public var transport: TransportRequest
    /// Seconds before the job is ended (exit 124), records written so far kept.
    public var timeout: Double

    public init(out: String? = nil, label: String? = nil, runID: String? = nil, trial: Int = 0, round: Int? = nil,
                position: Int? = nil, keepSamples: Bool = false, transport: TransportRequest = .auto, timeout: Double = 600) {
        self.out = out; self.label = label; self.runID = runID; self.trial = trial; self.round = round
        self.position = position; self.keepSamples = keepSamples; self.transport = transport; self.timeout = timeout
    }
}

/// What `podgap run` prints on stdout, point by point, when no `--out` file is given.
public protocol ResultTable {
    func printHeader(environment: Environment, ranks: Int)
    func printRow(_ record: Record)
    /// After the last point: a footer, or a row still waiting for its pair.
    func finish()
}

extension ResultTable {
    public func finish() {}

    /// The line under every table's title: what the numbers depend on beyond the kernel's options.
    public func provenanceLine(environment: Environment, ranks: Int) -> String {
        "# \(ranks) ranks, environment \(environment.name), \(environment.mpiLibrary)"
            + (environment.mpiThreadLevel.map { ", thread level \($0)" } ?? "")
    }
}
