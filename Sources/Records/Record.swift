import Foundation

/// One measured point with full provenance: one line of a results file.
public struct Record: Equatable, Sendable {
    /// 2 added `round`, `position`, `descriptor`, `osu`, `wrong`, and in `environment` the
    /// machine-state `probe`, GPUs and container confinement; version 1 records read as before.
    public static let currentSchema = "podgap.record/2"
    public static let supportedSchemas: Set<String> = ["podgap.record/1", currentSchema]

    public var schema: String
    public var run: String
    /// ISO 8601, UTC.
    public var time: String
    public var kernel: String
    public var params: [String: JSONValue]
    public var ranks: Int
    public var warmup: Int
    public var iterations: Int
    public var trial: Int
    /// The suite round this launch belonged to (every environment once per round), and the
    /// launch's place in that round's order (1 first): reports pair environments within a round.
    public var round: Int?
    public var position: Int?
    /// What the kernel measures and how to read it; nil in records written before schema 2.
    public var descriptor: KernelDescriptor?
    public var seconds: Summary
    /// OSU's own view of the point, where the kernel has one (allreduce, pingpong).
    public var osu: OSUStatistics?
    public var phases: [String: Summary]
    public var throughput: [String: Double]
    public var verified: Bool
    public var verification: String
    /// Elements that failed verification (nccl-tests' #wrong), where the kernel counts them.
    public var wrong: Int?
    public var environment: Environment
    /// System counters over the point, reduced over ranks; nil in records written without them.
    public var counters: Counters?
    /// Fields this version does not know, kept so a rewrite loses nothing.
    public var extra: [String: JSONValue]
    /// Fields inside `environment` this version does not know.
    public var environmentExtra: [String: JSONValue]

    public init(run: String, time: Date = Date(), kernel: String, descriptor: KernelDescriptor? = nil, ranks: Int,
                trial: Int, round: Int? = nil, position: Int? = nil,
                measurement: MeasuredPoint, keepingSamples: Bool, environment: Environment) {
        self.schema = Record.currentSchema
        self.run = run
        self.time = Record.timestamp(time)
        self.kernel = kernel
        self.params = measurement.parameters
        self.ranks = ranks
        self.warmup = measurement.warmup
        self.iterations = measurement.iterations
        self.trial = trial
        self.round = round
        self.position = position
        self.descriptor = descriptor
        self.seconds = Summary(of: measurement.samples, keepingSamples: keepingSamples)
        self.osu = measurement.osu
        self.phases = measurement.phases.filter { !$0.value.isEmpty }.mapValues { Summary(of: $0, keepingSamples: keepingSamples) }
        self.throughput = measurement.throughput
        self.verified = measurement.verified
        self.verification = measurement.verification
        self.wrong = measurement.wrong
        self.environment = environment
        self.counters = nil
        self.extra = [:]
        self.environmentExtra = [:]
    }

    public static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// A time `timestamp` wrote, back as a date; nil for another form.
    public static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}

extension Record: Codable {
    private static let knownFields: Set<String> = [
        "schema", "run", "time", "kernel", "params", "ranks", "warmup", "iterations", "trial", "round", "position",
        "descriptor", "seconds", "osu", "phases", "throughput", "verified", "verification", "wrong", "environment",
        "counters",
    ]
    private static let knownEnvironmentFields: Set<String> = [
        "name", "launcher", "container", "network", "transport", "hostname", "hostnames", "cores", "cpuset",
        "cgroup", "kernel", "mpiLibrary", "podgapVersion", "gitCommit", "topology", "bindings", "bindingPolicy", "ranksPerNode",
        "oversubscribed", "yieldWhenIdle", "yieldSetBy", "rdma", "probe", "gpus", "gpuBindings", "ncclVersion",
        "mpiThreadLevel", "knobs", "hugePages",
    ]

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        func key(_ name: String) -> AnyCodingKey { AnyCodingKey(name) }
        schema = try container.decode(String.self, forKey: key("schema"))
        guard Record.supportedSchemas.contains(schema) else {
            throw RecordError.unsupportedSchema(schema)
        }
        run = try container.decode(String.self, forKey: key("run"))
        time = try container.decode(String.self, forKey: key("time"))
        kernel = try container.decode(String.self, forKey: key("kernel"))
        params = try container.decodeIfPresent([String: JSONValue].self, forKey: key("params")) ?? [:]
        ranks = try container.decode(Int.self, forKey: key("ranks"))
        warmup = try container.decode(Int.self, forKey: key("warmup"))
        iterations = try container.decode(Int.self, forKey: key("iterations"))
        trial = try container.decodeIfPresent(Int.self, forKey: key("trial")) ?? 0
        round = try container.decodeIfPresent(Int.self, forKey: key("round"))
        position = try container.decodeIfPresent(Int.self, forKey: key("position"))
        descriptor = try container.decodeIfPresent(KernelDescriptor.self, forKey: key("descriptor"))
        seconds = try container.decode(Summary.self, forKey: key("seconds"))
        osu = try container.decodeIfPresent(OSUStatistics.self, forKey: key("osu"))
        phases = try container.decodeIfPresent([String: Summary].self, forKey: key("phases")) ?? [:]
        throughput = try container.decodeIfPresent([String: Double].self, forKey: key("throughput")) ?? [:]
        verified = try container.decode(Bool.self, forKey: key("verified"))
        verification = try container.decodeIfPresent(String.self, forKey: key("verification")) ?? ""
        wrong = try container.decodeIfPresent(Int.self, forKey: key("wrong"))
        environment = try container.decode(Environment.self, forKey: key("environment"))
        counters = try container.decodeIfPresent(Counters.self, forKey: key("counters"))
        let rawEnvironment = try container.decode([String: JSONValue].self, forKey: key("environment"))
        environmentExtra = rawEnvironment.filter { !Record.knownEnvironmentFields.contains($0.key) }
        extra = try container.unknownFields(excluding: Record.knownFields)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: AnyCodingKey.self)
        func key(_ name: String) -> AnyCodingKey { AnyCodingKey(name) }
        try container.encode(schema, forKey: key("schema"))
        try container.encode(run, forKey: key("run"))
        try container.encode(time, forKey: key("time"))
        try container.encode(kernel, forKey: key("kernel"))
        try container.encode(params, forKey: key("params"))
        try container.encode(ranks, forKey: key("ranks"))
        try container.encode(warmup, forKey: key("warmup"))
        try container.encode(iterations, forKey: key("iterations"))
        try container.encode(trial, forKey: key("trial"))
        try container.encodeIfPresent(round, forKey: key("round"))
        try container.encodeIfPresent(position, forKey: key("position"))
        try container.encodeIfPresent(descriptor, forKey: key("descriptor"))
        try container.encode(seconds, forKey: key("seconds"))
        try container.encodeIfPresent(osu, forKey: key("osu"))
        if !phases.isEmpty { try container.encode(phases, forKey: key("phases")) }
        try container.encode(throughput, forKey: key("throughput"))
        try container.encode(verified, forKey: key("verified"))
        try container.encode(verification, forKey: key("verification"))
        try container.encodeIfPresent(wrong, forKey: key("wrong"))
        if environmentExtra.isEmpty {
            try container.encode(environment, forKey: key("environment"))
        } else {
            // Merge the unknown environment fields back beside the known ones.
            let known = try JSONDecoder().decode([String: JSONValue].self, from: JSONEncoder().encode(environment))
            try container.encode(known.merging(environmentExtra) { current, _ in current }, forKey: key("environment"))
        }
        try container.encodeIfPresent(counters, forKey: key("counters"))
        for (name, value) in extra { try container.encode(value, forKey: key(name)) }
    }
}

public enum RecordError: Error, CustomStringConvertible, Equatable {
    case unsupportedSchema(String)
    case malformed(file: String, line: Int, reason: String)
    case unwritable(path: String, reason: String)
    case empty(file: String)

    public var description: String {
        switch self {
        case .unsupportedSchema(let schema):
            return "schema '\(schema)' is not one this podgap reads (it reads \(Record.supportedSchemas.sorted().joined(separator: ", ")))"
        case .malformed(let file, let line, let reason):
            return "\(file):\(line): \(reason)"
        case .unwritable(let path, let reason):
            return "cannot write results to \(path): \(reason)"
        case .empty(let file):
            return "\(file): holds no records"
        }
    }
}

extension Record {
    /// What the model may calibrate from this record: its descriptor's role; for a record written
    /// before descriptors carried roles (no descriptor, or one without `role`), the role its
    /// kernel's name had then (`KernelDescriptor.Role(legacyKernel:)`).
    public var role: KernelDescriptor.Role? {
        descriptor?.role ?? KernelDescriptor.Role(legacyKernel: kernel)
    }
}
