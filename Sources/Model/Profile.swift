import Foundation
import Records
import Yams

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
        if let problem = YAMLNesting.problem(in: text) { throw ModelError("\(source): \(problem); a profile nests a handful") }
        let composed: Node?
        do { composed = try Yams.compose(yaml: text) } catch {
            throw ModelError("\(source): not YAML: \(String(describing: error).split(separator: "\n").first ?? "")")
        }
        guard let composed else { throw ModelError("\(source): not a YAML mapping") }
        try checkShape(composed, source: source)
        guard let root = composed.any as? [String: Any] else { throw ModelError("\(source): not a YAML mapping") }
        let fields = Fields(root, at: source)
        let schema = try fields.string("schema")
        guard schema == Profile.schema else {
            throw ModelError("\(source): schema '\(schema)' is not \(Profile.schema)")
        }
        let workload = try fields.mapping("workload")
        let model = try workload.optionalString("model")
        let gradientBytes = try workload.optionalCount("gradient_bytes")
        if model == nil && gradientBytes == nil {
            throw ModelError("\(source): workload needs 'model' or 'gradient_bytes'")
        }
        if let model { _ = try KnownModel.named(model) }
        var parsedWorkload = Profile.Workload(
            model: model, gradientBytes: gradientBytes,
            batchPerGPU: try workload.count("batch_per_gpu"),
            secondsPerSample: try workload.positive("seconds_per_sample"),
            backwardFraction: try workload.fraction("backward_fraction", default: 2.0 / 3.0),
            bucketBytes: try workload.optionalCount("bucket_bytes") ?? 64 << 20)
        if let name = try workload.optionalString("allreduce"), name != "auto" {
            guard let algorithm = AllreduceAlgorithm(rawValue: name) else {
                throw ModelError("\(source): workload.allreduce '\(name)' is not one of auto, \(AllreduceAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            parsedWorkload.allreduce = algorithm
        }
        if let rate = try workload.optionalPositive("reduce_gbytes_per_s") { parsedWorkload.reduceBytesPerSecond = rate * 1e9 }
        if let sizes = workload.values["bucket_sizes"] {
            guard let list = sizes as? [Int], !list.isEmpty, list.allSatisfy({ $0 > 0 }) else {
                throw ModelError("\(source): workload.bucket_sizes must be a list of positive byte counts")
            }
            parsedWorkload.bucketSizes = list
        }
        let list = try fields.list("environments")
        guard !list.isEmpty else { throw ModelError("\(source): environments is empty") }
        var environments: [EnvironmentProfile] = []
        for (index, item) in list.enumerated() {
            guard let mapping = item as? [String: Any] else { throw ModelError("\(source): environments[\(index)] is not a mapping") }
            let entry = Fields(mapping, at: "\(source): environments[\(index)]")
            let name = try entry.string("name")
            let named = Fields(mapping, at: "\(source): environment '\(name)'")
            let inter = try link(named.list("inter_node"), at: "\(source): environment '\(name)' inter_node")
            let intra = mapping["intra_node"] == nil ? inter
                : try link(named.list("intra_node"), at: "\(source): environment '\(name)' intra_node")
            var environment = EnvironmentProfile(
                name: name, intraNode: intra, interNode: inter,
                overlap: try named.fraction("overlap", default: nil),
                secondsPerSample: try named.optionalPositive("seconds_per_sample"))
            func optionalLink(_ key: String) throws -> Link? {
                mapping[key] == nil ? nil : try link(named.list(key), at: "\(source): environment '\(name)' \(key)")
            }
            environment.interNodeOneWay = try optionalLink("inter_node_one_way")
            environment.intraNodeOneWay = try optionalLink("intra_node_one_way")
            if let rate = try named.optionalPositive("reduce_gbytes_per_s") { environment.reduceBytesPerSecond = rate * 1e9 }
            environments.append(environment)
        }
        let baseline = try fields.optionalString("baseline") ?? environments[0].name
        let profile = Profile(name: try fields.optionalString("name") ?? "profile", baseline: baseline,
                              workload: parsedWorkload, environments: environments)
        _ = try profile.environment(named: baseline)
        return profile
    }

    /// A profile is a few hundred nodes. Yams traps on a key that is a list or mapping (`? [a]: 1`)
    /// and on base-60 integers too large (both found by benchmarks/fuzz), and aliases of aliases
    /// ("billion laughs", found by hand beside them) unfold into more nodes than memory holds. All
    /// are refused here, before Yams builds values.
    static let maximumNodes = 100_000

    private static func checkShape(_ root: Node, source: String) throws {
        var pending = [root], visited = 0
        while let node = pending.popLast() {
            visited += 1
            guard visited <= maximumNodes else {
                throw ModelError("\(source): more than \(maximumNodes) YAML values (aliases of aliases?); a profile has a few hundred")
            }
            switch node {
            case .scalar(let scalar):
                // YAML 1.1's base-60 integers ("1:30") Yams reads with arithmetic that traps on
                // overflow (found by benchmarks/fuzz); no profile writes one.
                if node.tag.description == Tag.Name.int.rawValue && scalar.string.contains(":") {
                    throw ModelError("\(source):\(node.mark.map { "\($0.line):" } ?? "") '\(scalar.string.prefix(40))' is a base-60 number, which podgap does not read; write it in decimal")
                }
            case .sequence(let items): pending += items
            case .mapping(let pairs):
                for (key, value) in pairs {
                    guard key.scalar != nil else {
                        throw ModelError("\(source):\(key.mark.map { "\($0.line):" } ?? "") a key must be a plain name, not a list or mapping")
                    }
                    pending.append(value)
                }
            }
        }
    }

    private static func link(_ list: [Any], at place: String) throws -> Link {
        guard !list.isEmpty else { throw ModelError("\(place): needs at least one regime") }
        var regimes: [Regime] = []
        for (index, item) in list.enumerated() {
            guard let mapping = item as? [String: Any] else { throw ModelError("\(place)[\(index)] is not a mapping") }
            let fields = Fields(mapping, at: "\(place)[\(index)]")
            let alpha = try fields.number("latency_us")
            guard alpha >= 0 else { throw ModelError("\(place)[\(index)].latency_us \(alpha) must not be negative") }
            let bandwidth = try fields.number("bandwidth_gbytes_per_s")
            guard bandwidth > 0, bandwidth.isFinite else {
                throw ModelError("\(place)[\(index)].bandwidth_gbytes_per_s \(bandwidth) must be a positive number")
            }
            let upTo = try fields.optionalCount("up_to_bytes")
            if upTo == nil && index != list.count - 1 { throw ModelError("\(place)[\(index)]: every regime but the last needs up_to_bytes") }
            if let upTo, let previous = regimes.last?.upToBytes, upTo <= previous {
                throw ModelError("\(place)[\(index)].up_to_bytes \(upTo) must be above the previous regime's \(previous)")
            }
            regimes.append(Regime(alpha: alpha * 1e-6, beta: 1 / (bandwidth * 1e9), upToBytes: upTo))
        }
        return Link(regimes: regimes)
    }

    /// Typed access to a YAML mapping with errors that name the field.
    private struct Fields {
        let values: [String: Any]
        let place: String
        init(_ values: [String: Any], at place: String) { self.values = values; self.place = place }

        func string(_ key: String) throws -> String {
            guard let value = try optionalString(key) else { throw ModelError("\(place): missing field '\(key)'") }
            return value
        }
        func optionalString(_ key: String) throws -> String? {
            guard let value = values[key], !(value is NSNull) else { return nil }
            if let text = value as? String { return text }
            throw ModelError("\(place): field '\(key)' is not text")
        }
        func number(_ key: String) throws -> Double {
            guard let value = try optionalNumber(key) else { throw ModelError("\(place): missing field '\(key)'") }
            return value
        }
        func optionalNumber(_ key: String) throws -> Double? {
            guard let value = values[key], !(value is NSNull) else { return nil }
            if let number = value as? Int { return Double(number) }
            if let number = value as? Double, number.isFinite { return number }
            throw ModelError("\(place): field '\(key)' is not a number")
        }
        func positive(_ key: String) throws -> Double {
            guard let value = try optionalPositive(key) else { throw ModelError("\(place): missing field '\(key)'") }
            return value
        }
        func optionalPositive(_ key: String) throws -> Double? {
            guard let value = try optionalNumber(key) else { return nil }
            guard value > 0 else { throw ModelError("\(place): field '\(key)' is \(value); it must be positive") }
            return value
        }
        func count(_ key: String) throws -> Int {
            guard let value = try optionalCount(key) else { throw ModelError("\(place): missing field '\(key)'") }
            return value
        }
        /// A whole count (bytes, samples): at least 1 and at most 2^53, where doubles stop
        /// counting by ones, so that converting it can never trap and sums of a few cannot overflow.
        func optionalCount(_ key: String) throws -> Int? {
            guard let value = try optionalNumber(key) else { return nil }
            guard value >= 1, value <= 0x1p53 else {
                throw ModelError("\(place): field '\(key)' is \(value); it must be positive: a count from 1 to 2^53")
            }
            return Int(value)
        }
        func fraction(_ key: String, default fallback: Double?) throws -> Double {
            guard let value = try optionalNumber(key) ?? fallback else { throw ModelError("\(place): missing field '\(key)'") }
            guard (0...1).contains(value) else { throw ModelError("\(place): field '\(key)' is \(value); it must be between 0 and 1") }
            return value
        }
        func mapping(_ key: String) throws -> Fields {
            guard let value = values[key] else { throw ModelError("\(place): missing field '\(key)'") }
            guard let mapping = value as? [String: Any] else { throw ModelError("\(place): field '\(key)' is not a mapping") }
            return Fields(mapping, at: "\(place) \(key)")
        }
        func list(_ key: String) throws -> [Any] {
            guard let value = values[key] else { throw ModelError("\(place): missing field '\(key)'") }
            guard let list = value as? [Any] else { throw ModelError("\(place): field '\(key)' is not a list") }
            return list
        }
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
