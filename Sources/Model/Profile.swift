import Foundation
import Config

/// Everything a projection needs: what one step computes, how the gradients travel, per
/// environment. Written as YAML a person can read and edit (see `ProfileWriter`).
public struct Profile: Equatable, Sendable {
    public static let schema = "podgap.profile/1"

    public var name: String
    /// The environment the gap is measured against (bare metal).
    public var baseline: String
    public var workload: Workload
    public var environments: [EnvironmentProfile]

    public init(name: String, baseline: String, workload: Workload, environments: [EnvironmentProfile]) {
        self.name = name; self.baseline = baseline; self.workload = workload; self.environments = environments
    }

    public struct Workload: Equatable, Sendable {
        /// Named model from the model table, or nil when `gradientBytes` is given.
        public var model: String?
        public var gradientBytes: Int?
        /// Samples per GPU (rank) per step.
        public var batchPerGPU: Int
        /// Forward + backward time per sample on one GPU (rank), seconds.
        public var secondsPerSample: Double
        /// Share of the compute that is the backward pass: the window gradients can overlap with.
        public var backwardFraction: Double
        /// Gradient bucket (Horovod fusion buffer, DDP bucket_cap_mb), bytes.
        public var bucketBytes: Int
        /// The buckets as the measured framework formed them (last layers first), when known; used
        /// while they add up to the gradient size.
        public var bucketSizes: [Int]?
        /// The allreduce the framework runs; nil (`auto`): the cheapest of ring, hierarchical and
        /// tree, as NCCL's tuner picks.
        public var allreduce: AllreduceAlgorithm?
        /// How fast a rank sums two float32 arrays, bytes per second (`run train` measures it):
        /// the arithmetic of each binomial reduce round, which one-way links leave out.
        public var reduceBytesPerSecond: Double?

        public init(model: String?, gradientBytes: Int?, batchPerGPU: Int, secondsPerSample: Double,
                    backwardFraction: Double = 2.0 / 3.0, bucketBytes: Int = 64 << 20, bucketSizes: [Int]? = nil) {
            self.model = model; self.gradientBytes = gradientBytes; self.batchPerGPU = batchPerGPU
            self.secondsPerSample = secondsPerSample; self.backwardFraction = backwardFraction; self.bucketBytes = bucketBytes
            self.bucketSizes = bucketSizes
        }

        /// The gradient size: explicit bytes win over the model name.
        public func resolvedGradientBytes() throws -> Int {
            if let gradientBytes { return gradientBytes }
            if let model { return try KnownModel.named(model).gradientBytes }
            throw ModelError("profile workload: give 'model' or 'gradient_bytes'")
        }
    }

    /// The environment called `name`.
    public func environment(named name: String) throws -> EnvironmentProfile {
        guard let found = environments.first(where: { $0.name == name }) else {
            throw ModelError("profile has no environment '\(name)' (it has \(environments.map(\.name).joined(separator: ", ")))")
        }
        return found
    }
}

public struct EnvironmentProfile: Equatable, Sendable {
    public var name: String
    public var intraNode: Link
    public var interNode: Link
    /// One message in one direction at a time (ping-pong), where measured: what each round of a
    /// binomial tree costs. Nil: the links above stand in for it.
    public var intraNodeOneWay: Link?
    public var interNodeOneWay: Link?
    /// The local sum speed here, when it differs from the workload's (measured per environment).
    public var reduceBytesPerSecond: Double?
    /// Fraction (0...1) of the allreduce time that runs hidden behind the backward pass.
    public var overlap: Double
    /// Compute per sample here, when it differs from the workload's (measured per environment).
    public var secondsPerSample: Double?
    /// Free-form provenance kept as a comment (fit error, record counts).
    public var notes: [String]

    public init(name: String, intraNode: Link, interNode: Link, overlap: Double, secondsPerSample: Double? = nil, notes: [String] = []) {
        self.name = name; self.intraNode = intraNode; self.interNode = interNode; self.overlap = overlap
        self.secondsPerSample = secondsPerSample; self.notes = notes
    }
}

extension EnvironmentProfile {
    /// Every link of this environment with latency and bandwidth scaled, for sensitivity runs.
    public func scaled(latency: Double = 1, bandwidth: Double = 1) -> EnvironmentProfile {
        var copy = self
        copy.intraNode = intraNode.scaled(latency: latency, bandwidth: bandwidth)
        copy.interNode = interNode.scaled(latency: latency, bandwidth: bandwidth)
        copy.intraNodeOneWay = intraNodeOneWay?.scaled(latency: latency, bandwidth: bandwidth)
        copy.interNodeOneWay = interNodeOneWay?.scaled(latency: latency, bandwidth: bandwidth)
        return copy
    }
}

/// Reads a profile, naming the missing or bad field on failure.
public enum ProfileReader {
    public static func read(path: String) throws -> Profile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError("cannot read profile \(path) (missing or unreadable)")
        }
        return try parse(String(decoding: data, as: UTF8.self), source: path)
    }

    public static func parse(_ text: String, source: String = "profile") throws -> Profile {
        do { return try read(text, source: source) } catch let error as ConfigError {
            throw ModelError(error.description)
        }
    }

    private static func read(_ text: String, source: String) throws -> Profile {
        guard let root = try ConfigValue.document(text, file: source), root.isMapping else {
            throw ModelError("\(source): not a YAML mapping")
        }
        let schemaValue = try root.required("schema")
        let schema = try schemaValue.string()
        guard schema == Profile.schema else { throw schemaValue.problem("'\(schema)' is not \(Profile.schema)") }
        let workload = try root.required("workload")
        guard workload.isMapping else { throw workload.problem("must be a mapping") }
        let model = try workload.present("model")?.string()
        let gradientBytes = try workload.present("gradient_bytes").map { try count($0) }
        if model == nil && gradientBytes == nil { throw workload.problem("needs 'model' or 'gradient_bytes'") }
        if let model { _ = try KnownModel.named(model) }
        var parsedWorkload = Profile.Workload(
            model: model, gradientBytes: gradientBytes,
            batchPerGPU: try count(workload.required("batch_per_gpu")),
            secondsPerSample: try workload.required("seconds_per_sample").positive(),
            backwardFraction: try workload.present("backward_fraction")?.number(in: 0...1) ?? 2.0 / 3.0,
            bucketBytes: try workload.present("bucket_bytes").map { try count($0) } ?? 64 << 20)
        if let value = workload.present("allreduce") {
            let name = try value.string()
            if name != "auto" {
                guard let algorithm = AllreduceAlgorithm(rawValue: name) else {
                    throw value.problem("'\(name)' is not one of auto, \(AllreduceAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                parsedWorkload.allreduce = algorithm
            }
        }
        if let rate = try workload.present("reduce_gbytes_per_s")?.positive() { parsedWorkload.reduceBytesPerSecond = rate * 1e9 }
        if let sizes = workload.field("bucket_sizes") {
            let list = (try? sizes.list()) ?? []
            let counts = list.compactMap { $0.typed as? Int }
            guard !list.isEmpty, counts.count == list.count, counts.allSatisfy({ $0 > 0 }) else {
                throw sizes.problem("must be a list of positive byte counts")
            }
            parsedWorkload.bucketSizes = counts
        }
        let list = try root.required("environments").list()
        guard !list.isEmpty else { throw try root.required("environments").problem("is empty") }
        var environments: [EnvironmentProfile] = []
        for item in list {
            guard item.isMapping else { throw item.problem("is not a mapping") }
            let name = try item.required("name").string()
            let inter = try link(item.required("inter_node"))
            var environment = EnvironmentProfile(
                name: name, intraNode: try item.field("intra_node").map(link) ?? inter, interNode: inter,
                overlap: try item.required("overlap").number(in: 0...1),
                secondsPerSample: try item.present("seconds_per_sample")?.positive())
            environment.interNodeOneWay = try item.field("inter_node_one_way").map(link)
            environment.intraNodeOneWay = try item.field("intra_node_one_way").map(link)
            if let rate = try item.present("reduce_gbytes_per_s")?.positive() { environment.reduceBytesPerSecond = rate * 1e9 }
            environments.append(environment)
        }
        let baseline = try root.present("baseline")?.string() ?? environments[0].name
        let profile = Profile(name: try root.present("name")?.string() ?? "profile", baseline: baseline,
                              workload: parsedWorkload, environments: environments)
        _ = try profile.environment(named: baseline)
        return profile
    }

    /// A whole count (bytes, samples): at least 1 and at most 2^53, where doubles stop counting
    /// by ones, so that converting it can never trap and sums of a few cannot overflow.
    private static func count(_ value: ConfigValue) throws -> Int {
        let number = try value.number()
        guard number >= 1, number <= 0x1p53 else { throw value.problem("is \(number); it must be positive: a count from 1 to 2^53") }
        return Int(number)
    }

    private static func link(_ value: ConfigValue) throws -> Link {
        let list = try value.list()
        guard !list.isEmpty else { throw value.problem("needs at least one regime") }
        var regimes: [Regime] = []
        for (index, item) in list.enumerated() {
            guard item.isMapping else { throw item.problem("is not a mapping") }
            let alphaValue = try item.required("latency_us")
            let alpha = try alphaValue.number()
            guard alpha >= 0 else { throw alphaValue.problem("\(alpha) must not be negative") }
            let bandwidthValue = try item.required("bandwidth_gbytes_per_s")
            let bandwidth = try bandwidthValue.number()
            guard bandwidth > 0 else { throw bandwidthValue.problem("\(bandwidth) must be a positive number") }
            let upToValue = item.present("up_to_bytes")
            let upTo = try upToValue.map { try count($0) }
            if upTo == nil && index != list.count - 1 { throw item.problem("every regime but the last needs up_to_bytes") }
            if let upTo, let upToValue, let previous = regimes.last?.upToBytes, upTo <= previous {
                throw upToValue.problem("\(upTo) must be above the previous regime's \(previous)")
            }
            regimes.append(Regime(alpha: alpha * 1e-6, beta: 1 / (bandwidth * 1e9), upToBytes: upTo))
        }
        return Link(regimes: regimes)
    }
}

private extension ConfigValue {
    /// An optional field: nil when absent or written without a value (`~`).
    func present(_ name: String) -> ConfigValue? {
        guard let value = field(name), !(value.typed is NSNull) else { return nil }
        return value
    }
}

/// Writes a profile as commented YAML.
public enum ProfileWriter {
    public static func yaml(_ profile: Profile, header: [String] = []) -> String {
        var lines = header.map { "# \($0)" }
        lines.append("schema: \(Profile.schema)")
        lines.append("name: \(quoted(profile.name))")
        lines.append("baseline: \(quoted(profile.baseline))   # the gap is measured against this environment")
        let workload = profile.workload
        lines.append("workload:")
        if let model = workload.model { lines.append("  model: \(model)") }
        if let bytes = workload.gradientBytes { lines.append("  gradient_bytes: \(bytes)   # float32 gradients per step") }
        lines.append("  batch_per_gpu: \(workload.batchPerGPU)")
        lines.append("  seconds_per_sample: \(number(workload.secondsPerSample))   # forward + backward per sample per GPU")
        lines.append("  backward_fraction: \(number(workload.backwardFraction))   # backward share of compute: the overlap window")
        lines.append("  bucket_bytes: \(workload.bucketBytes)   # gradient bucket / fusion buffer")
        if let algorithm = workload.allreduce {
            let why = algorithm == .binomial
                ? "   # podgap run train: in-place MPI_Iallreduce, which Open MPI's libnbc runs as binomial reduce + broadcast; auto = as NCCL would"
                : "   # pinned; auto = the cheapest, as NCCL would"
            lines.append("  allreduce: \(algorithm.rawValue)\(why)")
        } else {
            lines.append("  allreduce: auto   # the cheapest of ring, hierarchical, tree, as NCCL's tuner picks")
        }
        if let rate = workload.reduceBytesPerSecond {
            lines.append("  reduce_gbytes_per_s: \(number(rate / 1e9))   # local float32 sum per rank: the arithmetic of a reduce round")
        }
        if let sizes = workload.bucketSizes {
            lines.append("  bucket_sizes: [\(sizes.map(String.init).joined(separator: ", "))]   # as the measured run formed them")
        }
        lines.append("environments:")
        for environment in profile.environments {
            lines.append("  - name: \(quoted(environment.name))")
            for note in environment.notes { lines.append("    # \(note)") }
            lines.append("    overlap: \(number(environment.overlap))   # share of allreduce time hidden behind backward")
            if let seconds = environment.secondsPerSample {
                lines.append("    seconds_per_sample: \(number(seconds))   # compute per sample measured here")
            }
            if let rate = environment.reduceBytesPerSecond {
                lines.append("    reduce_gbytes_per_s: \(number(rate / 1e9))   # local float32 sum, the arithmetic of a reduce round")
            }
            lines.append("    intra_node:")
            lines += regimes(environment.intraNode)
            lines.append("    inter_node:")
            lines += regimes(environment.interNode)
            if let link = environment.intraNodeOneWay {
                lines.append("    intra_node_one_way:   # ping-pong: one message, one direction (binomial rounds)")
                lines += regimes(link)
            }
            if let link = environment.interNodeOneWay {
                lines.append("    inter_node_one_way:   # ping-pong: one message, one direction (binomial rounds)")
                lines += regimes(link)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func regimes(_ link: Link) -> [String] {
        link.regimes.flatMap { regime -> [String] in
            var lines = ["      - latency_us: \(number(regime.alpha * 1e6))",
                         "        bandwidth_gbytes_per_s: \(number(regime.beta > 0 ? 1 / regime.beta / 1e9 : 1e6))"]
            if let upTo = regime.upToBytes { lines.append("        up_to_bytes: \(upTo)") }
            return lines
        }
    }

    static func number(_ value: Double) -> String { String(format: "%.6g", value) }

    private static func quoted(_ text: String) -> String {
        text.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) } ? text : "\"\(text.replacingOccurrences(of: "\"", with: "\\\""))\""
    }
}
