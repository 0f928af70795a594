import Records
import Statistics
import Foundation

/// An environment the suite could not run here, and why; shown in every report format.
public struct SkippedEnvironment: Codable, Equatable, Sendable {
    public var environment: String
    public var reason: String
    public init(environment: String, reason: String) { self.environment = environment; self.reason = reason }
}

public enum AnalysisError: Error, CustomStringConvertible, Equatable {
    case noRecords
    case baselineAbsent(baseline: String, present: [String])
    case singleEnvironment(String)
    case nothingPairs(baseline: String, present: [String])

    public var description: String {
        switch self {
        case .noRecords:
            return "the inputs hold no records; pass results files written by podgap run or podgap suite"
        case .baselineAbsent(let baseline, let present):
            return "baseline '\(baseline)' is not in the inputs (they hold \(present.joined(separator: ", "))); pick one with --baseline"
        case .singleEnvironment(let name):
            return "every record is from environment '\(name)'; a comparison needs the baseline and at least one other environment"
        case .nothingPairs(let baseline, let present):
            return "no record pairs with baseline '\(baseline)': the other environments (\(present.joined(separator: ", "))) measured different kernels, parameters or rank counts, or only unverified points"
        }
    }
}

/// Everything a report shows, computed once from the records; every renderer reads this.
public struct Analysis: Sendable {
    public struct Options: Sendable {
        public var baseline: String?
        public var bootstrap: Bootstrap
        public init(baseline: String? = nil, bootstrap: Bootstrap = Bootstrap()) {
            self.baseline = baseline; self.bootstrap = bootstrap
        }
    }

    public struct Attribution: Sendable {
        public var step: Ladder.Step
        public var comparisons: [Comparison]
        public var headlines: [Headline]
    }

    public var baseline: String
    /// Every environment with records, in the catalog's order (custom labels last).
    public var environments: [String]
    /// What each kernel measures and the order kernels are read in.
    public var kernels: KernelDescriptions
    /// Environments with no rung on the ladder (custom labels): compared with the baseline only.
    public var unranked: [String] { Ladder.unranked(environments) }
    /// Point -> environment -> its measurements.
    public var points: [PointKey: [String: EnvironmentPoint]]
    /// Each environment against the baseline, sorted by point then environment.
    public var comparisons: [Comparison]
    /// Per environment (other than the baseline), its headlines against the baseline.
    public var headlines: [String: [Headline]]
    public var attribution: [Attribution]
    public var skipped: [SkippedEnvironment]
    /// Things the reader must know before trusting the numbers (mixed hosts, unverified records ...).
    public var warnings: [String]
    public var recordCount: Int
    /// Short names of the points for tables (see `PointKey.labels`).
    public var labels: [PointKey: String] = [:]

    public func label(_ point: PointKey) -> String { labels[point] ?? point.label }

    public var sortedPoints: [PointKey] { points.keys.sorted(by: kernels.precedes) }

    /// The colour `environment` has in every chart of this report.
    public func colour(of environment: String) -> String { EnvironmentCatalog.colour(of: environment, among: environments) }

    public static func build(_ facts: [RecordFacts], skipped: [SkippedEnvironment] = [],
                             options: Options = Options()) throws -> Analysis {
        guard !facts.isEmpty else { throw AnalysisError.noRecords }
        // Group: point -> environment -> trial -> medians of that trial's records.
        var grouped: [PointKey: [String: [Int: [Double]]]] = [:]
        var unverified: [PointKey: [String: Int]] = [:]
        var hosts = Set<String>(), libraries = Set<String>(), versions = Set<String>(), present = Set<String>()
        var kernels = KernelDescriptions()
        for fact in facts {
            kernels.note(fact)
            let key = PointKey(kernel: fact.kernel, parameters: fact.parameters,
                               ranks: fact.ranks, bytes: fact.bytes)
            present.insert(fact.environment)
            hosts.insert(fact.host); libraries.insert(fact.mpiLibrary); versions.insert(fact.podgapVersion)
            guard fact.verified, fact.seconds.isFinite, fact.seconds > 0 else {
                unverified[key, default: [:]][fact.environment, default: 0] += 1
                continue
            }
            grouped[key, default: [:]][fact.environment, default: [:]][fact.trial, default: []].append(fact.seconds)
        }
        let environments = EnvironmentCatalog.sorted(present)
        // The same default as `podgap model` for the same records: the catalog decides.
        let baseline = options.baseline ?? EnvironmentCatalog.baseline(among: present) ?? environments[0]
        guard present.contains(baseline) else { throw AnalysisError.baselineAbsent(baseline: baseline, present: environments) }
        guard environments.count > 1 else { throw AnalysisError.singleEnvironment(baseline) }

        let keys = Array(Set(grouped.keys).union(unverified.keys))
        let perPoint = parallelMap(keys) { key -> [String: EnvironmentPoint] in
            var perEnvironment: [String: EnvironmentPoint] = [:]
            for environment in Set((grouped[key] ?? [:]).keys).union((unverified[key] ?? [:]).keys) {
                let trials = grouped[key]?[environment] ?? [:]
                let medians = trials.keys.sorted().map { Median.of(trials[$0]!)! }
                perEnvironment[environment] = EnvironmentPoint(
                    environment: environment, trialMedians: medians, median: Median.of(medians) ?? 0,
                    interval: options.bootstrap.medianInterval(medians),
                    unverified: unverified[key]?[environment] ?? 0)
            }
            return perEnvironment
        }
        let points = Dictionary(uniqueKeysWithValues: zip(keys, perPoint))
        let sortedKeys = keys.sorted(by: kernels.precedes)

        func compare(_ candidate: String, against reference: String) -> [Comparison] {
            parallelMap(sortedKeys) { key -> Comparison? in
                guard let a = points[key]?[candidate], let b = points[key]?[reference],
                      !a.trialMedians.isEmpty, !b.trialMedians.isEmpty else { return nil }
                return Comparison(point: key, candidate: a, baseline: b, bootstrap: options.bootstrap)
            }.compactMap { $0 }
        }

        var comparisons: [Comparison] = []
        var headlines: [String: [Headline]] = [:]
        for environment in environments where environment != baseline {
            let pairs = compare(environment, against: baseline)
            comparisons += pairs
            headlines[environment] = Headline.select(from: pairs, kernels: kernels)
        }
        guard !comparisons.isEmpty else {
            throw AnalysisError.nothingPairs(baseline: baseline, present: environments.filter { $0 != baseline })
        }
        let attribution = Ladder.steps(present: present).compactMap { step -> Attribution? in
            let pairs = compare(step.to, against: step.from)
            return pairs.isEmpty ? nil : Attribution(step: step, comparisons: pairs, headlines: Headline.select(from: pairs, kernels: kernels))
        }

        let labels = PointKey.labels(for: keys)
        var warnings: [String] = []
        func mixed(_ values: Set<String>, _ what: String) {
            if values.count > 1 { warnings.append("records come from \(values.count) different \(what) (\(values.sorted().joined(separator: "; "))): compare with care") }
        }
        mixed(hosts, "host kernels")
        mixed(libraries, "MPI libraries")
        mixed(versions, "podgap versions")
        for key in points.keys.sorted(by: kernels.precedes) {
            for environment in EnvironmentCatalog.sorted(points[key]!.keys) where points[key]![environment]!.unverified > 0 {
                warnings.append("\(environment) \(key.kernel) \(labels[key] ?? key.label) (\(key.ranks) ranks): \(points[key]![environment]!.unverified) unverified record(s) shown but kept out of the statistics")
            }
        }
        for environment in environments {
            let lonely = points.filter { $0.value[environment].map { !$0.trialMedians.isEmpty } ?? false }
                .filter { point in point.value.filter { $0.key != environment && !$0.value.trialMedians.isEmpty }.isEmpty }
            if !lonely.isEmpty {
                warnings.append("\(environment): \(lonely.count) point(s) pair with no other environment (other kernels, parameters or rank counts)")
            }
        }
        return Analysis(baseline: baseline, environments: environments, kernels: kernels, points: points, comparisons: comparisons,
                        headlines: headlines, attribution: attribution, skipped: skipped, warnings: warnings,
                        recordCount: facts.count, labels: labels)
    }
}

/// `map` over every core: the bootstrap of thousands of points is the slow part of a big report.
func parallelMap<T, R>(_ items: [T], _ transform: (T) -> R) -> [R] {
    guard items.count > 64 else { return items.map(transform) }
    var results = [R?](repeating: nil, count: items.count)
    let chunks = ProcessInfo.processInfo.activeProcessorCount * 4
    let size = (items.count + chunks - 1) / chunks
    results.withUnsafeMutableBufferPointer { buffer in
        let output = buffer
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            for index in (chunk * size)..<min(items.count, (chunk + 1) * size) { output[index] = transform(items[index]) }
        }
    }
    return results.map { $0! }
}
