import Records
import Statistics
import Foundation

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
        /// E of "equivalent within ±E": a fraction (0.05 for ±5%).
        public var equivalence: Double
        /// Drop rounds whose two launches ran in different machine modes (`MachineMode`).
        public var excludeMixed: Bool
        /// Paired ratios adjusted for the machine's mode by the probes' ratios (`ModeAdjustment`).
        public var adjustForMode: Bool
        public init(baseline: String? = nil, bootstrap: Bootstrap = Bootstrap(), equivalence: Double = 0.05,
                    excludeMixed: Bool = false, adjustForMode: Bool = true) {
            self.baseline = baseline; self.bootstrap = bootstrap; self.equivalence = equivalence
            self.excludeMixed = excludeMixed; self.adjustForMode = adjustForMode
        }
    }

    /// A path up the ladder, from its lowest present environment to one with no present child,
    /// with each headline's total and rungs measured on the same rounds: the rungs' log ratios
    /// add up to the total's, up to what the medians leave over (the residual).
    public struct Chain: Sendable {
        public struct Total: Sendable {
            public var headline: Headline
            /// The rungs at the headline's point, in ladder order.
            public var rungs: [Comparison]
            /// Sum of the rungs' log gaps, and the total's log gap minus that sum.
            public var sumOfRungs: Double
            public var residual: Double
        }
        public var environments: [String]
        public var steps: [Ladder.Step]
        public var totals: [Total]
    }

    /// The machine-state probe over one environment's launches.
    public struct MachineState: Sendable {
        public var environment: String
        public var launches: Int
        /// Median, lowest and highest float-sum rate (GB/s) and GEMM rate (GFLOP/s).
        public var sum: (median: Double, min: Double, max: Double)
        public var gemm: (median: Double, min: Double, max: Double)
        /// Rounds where this environment and the baseline ran in different modes.
        public var mixedRounds: [Int]
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
    public var chains: [Chain]
    public var machineStates: [MachineState]
    public var skipped: [SkippedEnvironment]
    /// Things the reader must know before trusting the numbers (mixed hosts, unverified records ...).
    public var warnings: [String]
    public var recordCount: Int
    public var options: Options
    /// Rounds dropped from comparisons with the baseline for mixed machine modes (`--exclude-mixed`).
    public var excludedMixedRounds: Int
    /// Short names of the points for tables (see `PointKey.labels`).
    public var labels: [PointKey: String] = [:]
    /// What the counters say about each gap (`Why`); nil until `Inputs.analyse` reads them.
    public var why: Why? = nil
    /// Per environment, its network and knobs as its records say them.
    public var settings: [String: Settings] = [:]
    /// How much of a pod's gap each knob recovers (`WhatToChange`); nil until `Inputs.analyse` builds it.
    public var whatToChange: WhatToChange? = nil

    /// An environment's network (`environment.network`) and Kubernetes knobs (nil: none turned).
    public struct Settings: Sendable, Equatable {
        public var network: String?
        public var knobs: Knobs?
        public init(network: String? = nil, knobs: Knobs? = nil) { self.network = network; self.knobs = knobs.flatMap { $0.isEmpty ? nil : $0 } }

        /// Fills what is still unknown from `other` (records of one environment all say the same).
        mutating func merge(_ other: Settings) {
            network = network ?? other.network
            knobs = knobs ?? other.knobs
        }
    }
    /// The startup launches' phases per environment against the baseline's, where records have them.
    public var startupPhases: StartupPhases? = nil

    public func label(_ point: PointKey) -> String { labels[point] ?? point.label }

    public var sortedPoints: [PointKey] { points.keys.sorted(by: kernels.precedes) }

    /// The colour `environment` has in every chart of this report.
    public func colour(of environment: String) -> String { EnvironmentCatalog.colour(of: environment, among: environments) }

    /// The number of rounds the comparisons with the baseline rest on (the largest), nil when none is paired.
    public var rounds: Int? {
        comparisons.compactMap { if case .paired(let n) = $0.pairing { return n } else { return nil } }.max()
    }

    /// The widest 95% interval among the headlines (upper minus lower end, on the scale each is
    /// read on, as a fraction) and which headline it is: the precision a run reached, for a suite
    /// that runs rounds until it is narrow enough. A headline without an interval yet counts as
    /// infinitely wide. Nil when there is no headline.
    public var widestHeadline: (environment: String, headline: Headline, width: Double)? {
        var widest: (environment: String, headline: Headline, width: Double)?
        for (environment, list) in headlines {
            for headline in list {
                if widest == nil || headline.width > widest!.width { widest = (environment, headline, headline.width) }
            }
        }
        return widest
    }

    public static func build(_ facts: [RecordFacts], skipped: [SkippedEnvironment] = [],
                             options: Options = Options()) throws -> Analysis {
        try build(partitions: [facts], skipped: skipped, options: options)
    }

    /// The same from facts in parts (one per file): each part is grouped on a core of its own.
    public static func build(partitions: [[RecordFacts]], skipped: [SkippedEnvironment] = [],
                             options: Options = Options()) throws -> Analysis {
        let parts = Locked<[Int: Grouping]>([:])
        DispatchQueue.concurrentPerform(iterations: partitions.count) { index in
            let part = Grouping(partitions[index])
            parts.update { $0[index] = part }
        }
        var groupings = partitions.indices.map { parts.value[$0]! }
        parts.value = [:]
        return try build(groupings: &groupings, skipped: skipped, options: options)
    }

    /// From facts already grouped part by part (`Inputs.analyse` groups each file as it reads it,
    /// so the facts of a million records are never all held at once).
    /// The parts are taken out of `groupings` one by one as they are merged, so each part's
    /// lists are let go as soon as they are copied (a million records are never held twice).
    static func build(groupings: inout [Grouping], skipped: [SkippedEnvironment], options: Options) throws -> Analysis {
        var trace = TimingTrace("report", variable: TimingTrace.reportVariable)
        // Each part's lists, in part order, per point and environment: joined below on every
        // core; the rest of each part is merged here.
        var pieces: [PointKey: [String: [[Grouping.Launch]]]] = [:]
        var grouping = Grouping()
        groupings.reverse()
        while var part = groupings.popLast() {
            part.settle()
            for (key, environments) in part.launches {
                for (environment, list) in environments { pieces[key, default: [:]][environment, default: []].append(list) }
            }
            part.launches = [:]
            grouping.merge(part)
        }
        trace.mark("  merge")
        grouping.launches = Grouping.joined(&pieces)
        trace.mark("  join")
        let recordCount = grouping.recordCount
        guard recordCount > 0 else { throw AnalysisError.noRecords }
        let present = grouping.present
        let environments = EnvironmentCatalog.sorted(present)
        // The same default as `podgap model` for the same records: the catalog decides.
        let baseline = options.baseline ?? EnvironmentCatalog.baseline(among: present) ?? environments[0]
        guard present.contains(baseline) else { throw AnalysisError.baselineAbsent(baseline: baseline, present: environments) }
        guard environments.count > 1 else { throw AnalysisError.singleEnvironment(baseline) }
        let kernels = grouping.kernels

        let keys = Array(grouping.launches.keys)
        let perPoint = parallelMap(keys) { grouping.environmentPoints(at: $0, bootstrap: options.bootstrap) }
        let points = Dictionary(uniqueKeysWithValues: zip(keys, perPoint))
        // The launches live on in `points`: let the grouping's copy go.
        grouping.launches = [:]
        let sortedKeys = keys.sorted(by: kernels.precedes)
        trace.mark("  points")
        let pairer = Pairer(points: points, options: options, settings: grouping.settings)

        var comparisons: [Comparison] = []
        var headlines: [String: [Headline]] = [:]
        for environment in environments where environment != baseline {
            let pairs = parallelMap(sortedKeys) { pairer.compare(environment, against: baseline, at: $0) }.compactMap { $0 }
            comparisons += pairs
            headlines[environment] = Headline.select(from: pairs, kernels: kernels)
        }
        guard !comparisons.isEmpty else {
            throw AnalysisError.nothingPairs(baseline: baseline, present: environments.filter { $0 != baseline })
        }
        trace.mark("  comparisons")
        let chains = Ladder.chains(Ladder.steps(present: present)).compactMap { pairer.chain($0, keys: sortedKeys, kernels: kernels) }

        trace.mark("  chains")
        let labels = PointKey.labels(for: keys)
        var analysis = Analysis(baseline: baseline, environments: environments, kernels: kernels, points: points,
                                comparisons: comparisons, headlines: headlines, chains: chains,
                                machineStates: [], skipped: skipped, warnings: [], recordCount: recordCount,
                                options: options, excludedMixedRounds: 0, labels: labels)
        analysis.machineStates = grouping.machineStates(environments: environments, comparisons: comparisons)
        analysis.settings = grouping.settings
        analysis.excludedMixedRounds = Set(comparisons.filter { $0.excludedMixed > 0 }.flatMap { c in
            c.mixedRounds.map { "\(c.environment) \($0)" }
        }).count
        analysis.warnings = grouping.warnings(points: points, environments: environments, kernels: kernels, labels: labels)
            + Analysis.roundWarnings(comparisons, options: options)
        trace.mark("  warnings")
        return analysis
    }

    /// One line per environment for rounds that could not be paired, and for rounds in mixed
    /// machine modes: never dropped silently.
    static func roundWarnings(_ comparisons: [Comparison], options: Options) -> [String] {
        var warnings: [String] = []
        let byEnvironment = Dictionary(grouping: comparisons, by: \.environment)
        for environment in EnvironmentCatalog.sorted(byEnvironment.keys) {
            let mine = byEnvironment[environment]!
            let baseline = mine[0].baseline
            func rounds(_ list: [Int]) -> String { list.map(String.init).joined(separator: ", ") }
            let missing = Set(mine.flatMap(\.missingRounds)).sorted()
            if !missing.isEmpty {
                let at = mine.filter { !$0.missingRounds.isEmpty }.count
                warnings.append("\(environment) against \(baseline): round(s) \(rounds(missing)) lack \(baseline) at \(at) point(s); those points are paired without them")
            }
            let duplicates = Set(mine.flatMap(\.duplicateRounds)).sorted()
            if !duplicates.isEmpty {
                let at = mine.filter { !$0.duplicateRounds.isEmpty }.count
                warnings.append("\(environment) against \(baseline): round(s) \(rounds(duplicates)) were launched twice by one of the two (two positions) at \(at) point(s); analysed without them")
            }
            let mixed = Set(mine.flatMap(\.mixedRounds)).sorted()
            if !mixed.isEmpty {
                let what = options.excludeMixed ? "dropped (--exclude-mixed)" : "kept; --exclude-mixed drops them"
                warnings.append("\(environment) against \(baseline): round(s) \(rounds(mixed)) ran in different machine modes (probe rates more than \(MachineMode.factor)x apart): \(what)")
            }
        }
        return warnings
    }
}

/// Facts grouped by point, environment and launch, with what the warnings need. Built a chunk
/// of a file at a time on every core, then merged: each record is one `Launch` appended to its
/// point's and environment's list, so merging parts concatenates lists and the lists become the
/// report's `EnvironmentPoint`s without a copy.
struct Grouping: Sendable {
    typealias Launch = EnvironmentPoint.Launch
    struct LaunchKey: Hashable { var round: Int?; var trial: Int }
    struct ProbeKey: Hashable { var environment: String; var kernel: String; var launch: LaunchKey; var position: Int? }

    /// Point -> environment -> one entry per usable record, in the order read.
    var launches: [PointKey: [String: [Launch]]] = [:]
    var unverified: [PointKey: [String: (count: Int, implausible: String?)]] = [:]
    var hosts = Set<String>(), libraries = Set<String>(), versions = Set<String>(), present = Set<String>()
    var kernels = KernelDescriptions()
    var probes: [ProbeKey: MachineProbe] = [:]
    /// Each verified record's counters, in the order read, for the WHY section.
    var counters: [CounterFacts] = []
    /// Per environment, what its records say of their network and knobs (the first said).
    var settings: [String: Analysis.Settings] = [:]
    /// Each usable startup launch's phases, for the STARTUP PHASES section.
    var startup: [StartupPhases.Launch] = []
    var recordCount = 0

    init() {}

    init(_ facts: [RecordFacts]) {
        for fact in facts { add(fact) }
        settle()
    }

    /// The lists `add` fills, one per point and environment, before `settle` files them in
    /// `launches`. Records come in the same order launch after launch, so the list a record goes
    /// to is most often the one that followed the last record's list the last time: it is tried
    /// first, its key compared (interned names compare by their storage) instead of hashed.
    private struct Slot {
        var key: PointKey
        var environment: String
        var launches: [Launch]
        /// The slot that took the record after this slot's last one.
        var successor: Int
    }
    private var slots: [Slot] = []
    private var slotIndex: [PointKey: [String: Int]] = [:]
    private var lastSlot = -1

    private mutating func slot(_ key: PointKey, _ environment: String) -> Int {
        func matches(_ slot: Int) -> Bool { slots[slot].key == key && slots[slot].environment == environment }
        if lastSlot >= 0 {
            if matches(lastSlot) { return lastSlot }
            let next = slots[lastSlot].successor
            if next >= 0, matches(next) { lastSlot = next; return next }
        }
        let found: Int
        if let known = slotIndex[key]?[environment] {
            found = known
        } else {
            found = slots.count
            slots.append(Slot(key: key, environment: environment, launches: [], successor: -1))
            slotIndex[key, default: [:]][environment] = found
        }
        if lastSlot >= 0 { slots[lastSlot].successor = found }
        lastSlot = found
        return found
    }

    /// Files the lists `add` filled under `launches`.
    mutating func settle() {
        for slot in slots {
            if launches[slot.key]?[slot.environment] == nil {
                launches[slot.key, default: [:]][slot.environment] = slot.launches
            } else {
                launches[slot.key]![slot.environment]!.append(contentsOf: slot.launches)
            }
        }
        slots = []; slotIndex = [:]; lastSlot = -1
    }

    /// Each point's and environment's lists joined in order, on every core; each list is let go
    /// as soon as it is copied (a million records are never held twice). Empties `pieces`.
    static func joined(_ pieces: inout [PointKey: [String: [[Launch]]]]) -> [PointKey: [String: [Launch]]] {
        var entries = pieces.flatMap { key, environments in environments.map { (key: key, environment: $0.key, lists: $0.value) } }
        pieces = [:]
        let lists = entries.withUnsafeMutableBufferPointer { buffer in
            parallelMap(Array(buffer.indices)) { index -> [Launch] in
                // Each index is one task's alone.
                let parts = buffer[index].lists
                buffer[index].lists = []
                guard parts.count > 1 else { return parts.first ?? [] }
                var list: [Launch] = []
                list.reserveCapacity(parts.reduce(0) { $0 + $1.count })
                for part in parts { list.append(contentsOf: part) }
                return list
            }
        }
        var launches: [PointKey: [String: [Launch]]] = [:]
        for (entry, list) in zip(entries, lists) { launches[entry.key, default: [:]][entry.environment] = list }
        return launches
    }

    /// Another part's facts after this one's (parts are chunks of files, in file order).
    mutating func merge(_ other: Grouping) {
        var other = other
        other.settle()
        settle()
        guard recordCount > 0 else { self = other; return }
        recordCount += other.recordCount
        counters += other.counters
        startup += other.startup
        for (key, environments) in other.launches {
            for (environment, theirs) in environments {
                launches[key, default: [:]][environment, default: []].append(contentsOf: theirs)
            }
        }
        for (key, environments) in other.unverified {
            for (environment, entry) in environments {
                var mine = unverified[key, default: [:]][environment, default: (0, nil)]
                mine.count += entry.count
                mine.implausible = mine.implausible ?? entry.implausible
                unverified[key, default: [:]][environment] = mine
            }
        }
        hosts.formUnion(other.hosts); libraries.formUnion(other.libraries); versions.formUnion(other.versions)
        present.formUnion(other.present)
        for (environment, theirs) in other.settings { settings[environment, default: theirs].merge(theirs) }
        kernels.merge(other.kernels)
        probes.merge(other.probes) { mine, _ in mine }
    }

    /// The last fact's names: facts come in runs of one environment and kernel, so the sets
    /// below are touched only when a name changes.
    private var lastNames: (kernel: String, environment: String, host: String, mpi: String, version: String)?
    private var lastProbeKey: ProbeKey?

    mutating func add(_ fact: RecordFacts) {
        recordCount += 1
        if fact.verified, fact.counters != nil, let read = CounterFacts(fact) { counters.append(read) }
        if fact.usable, !fact.phases.isEmpty {
            startup.append(.init(environment: fact.environment, launch: fact.round ?? fact.trial, phases: fact.phases))
        }
        let key = PointKey(kernel: fact.kernel, parameters: fact.parameters, ranks: fact.ranks, bytes: fact.bytes)
        // Compared field by field before any tuple or key is built: a million records.
        if !(lastNames.map { $0.kernel == fact.kernel && $0.environment == fact.environment && $0.host == fact.host
                                && $0.mpi == fact.mpiLibrary && $0.version == fact.podgapVersion } ?? false) {
            lastNames = (fact.kernel, fact.environment, fact.host, fact.mpiLibrary, fact.podgapVersion)
            present.insert(fact.environment)
            settings[fact.environment, default: Analysis.Settings()].merge(Analysis.Settings(network: fact.network, knobs: fact.knobs))
            hosts.insert(fact.host); libraries.insert(fact.mpiLibrary); versions.insert(fact.podgapVersion)
        }
        kernels.note(fact)
        let launch = LaunchKey(round: fact.round, trial: fact.round == nil ? fact.trial : 0)
        // A launch's records follow each other: one entry per launch.
        if let probe = fact.probe, !(lastProbeKey.map { $0.launch == launch && $0.position == fact.position
                                                           && $0.environment == fact.environment && $0.kernel == fact.kernel } ?? false) {
            let probeKey = ProbeKey(environment: fact.environment, kernel: fact.kernel, launch: launch, position: fact.position)
            probes[probeKey] = probe
            lastProbeKey = probeKey
        }
        guard fact.usable, fact.seconds.isFinite, fact.seconds > 0 else {
            var entry = unverified[key, default: [:]][fact.environment, default: (0, nil)]
            entry.count += 1
            if entry.implausible == nil { entry.implausible = fact.implausible }
            unverified[key, default: [:]][fact.environment] = entry
            return
        }
        // In place: no copy of the list per record.
        slots[slot(key, fact.environment)].launches.append(
            Launch(round: launch.round, trial: launch.trial, position: fact.position, iterations: fact.iterations,
                   seconds: fact.seconds, mean: fact.mean, p99: fact.p99, osu: fact.osu, wrong: fact.wrong,
                   throughput: fact.throughput, probe: fact.probe, modeSeconds: fact.modeSeconds, derived: fact.derived,
                   duplicate: false))
    }

    func environmentPoints(at key: PointKey, bootstrap: Bootstrap) -> [String: EnvironmentPoint] {
        var result: [String: EnvironmentPoint] = [:]
        let measured = launches[key] ?? [:], failed = unverified[key] ?? [:]
        for environment in Set(measured.keys).union(failed.keys) {
            let list = Grouping.oneEntryPerLaunch(measured[environment] ?? [])
            let medians = list.map(\.seconds)
            result[environment] = EnvironmentPoint(
                environment: environment, launches: list, trialMedians: medians, median: Median.of(medians) ?? 0,
                bootstrap: bootstrap, unverified: failed[environment]?.count ?? 0,
                implausible: failed[environment]?.implausible)
        }
        return result
    }

    /// Records in launch order (round, else trial), one entry per launch: a launch writes one
    /// record per point, so a list read in order is returned as it is (no copy); records that
    /// share a launch (hand-merged files) become one entry of their medians.
    static func oneEntryPerLaunch(_ records: [Launch]) -> [Launch] {
        func order(_ launch: Launch) -> (Int, Int, Int) { (launch.round ?? 0, launch.trial, launch.round == nil ? 0 : 1) }
        func same(_ a: Launch, _ b: Launch) -> Bool { a.round == b.round && a.trial == b.trial }
        var inOrder = true
        for index in records.indices.dropFirst() where !(order(records[index - 1]) < order(records[index])) {
            inOrder = false
            break
        }
        if inOrder { return records }
        // The first record read stays first among its launch's (its iterations and position count).
        let sorted = records.indices.sorted { order(records[$0]) < order(records[$1]) || (order(records[$0]) == order(records[$1]) && $0 < $1) }
        var result: [Launch] = []
        var start = 0
        while start < sorted.count {
            var end = start + 1
            while end < sorted.count, same(records[sorted[start]], records[sorted[end]]) { end += 1 }
            result.append(combined(sorted[start..<end].map { records[$0] }))
            start = end
        }
        return result
    }

    /// One launch's records as one: medians of the times, OSU's view and the rates, the sum of
    /// the wrong elements, the first probe and position; two positions mark the round duplicate.
    static func combined(_ records: [Launch]) -> Launch {
        var launch = records[0]
        guard records.count > 1 else { return launch }
        func median(_ values: [Double]) -> Double { Median.of(values) ?? 0 }
        launch.seconds = median(records.map(\.seconds))
        launch.mean = median(records.map(\.mean))
        launch.p99 = median(records.map(\.p99))
        let osus = records.compactMap(\.osu)
        launch.osu = osus.isEmpty ? nil : OSUStatistics(avg: median(osus.map(\.avg)), min: median(osus.map(\.min)), max: median(osus.map(\.max)))
        let wrongs = records.compactMap(\.wrong)
        launch.wrong = wrongs.isEmpty ? nil : wrongs.reduce(0, +)
        var rates: [String: [Double]] = [:]
        for record in records { for (name, value) in record.throughput { rates[name, default: []].append(value) } }
        launch.throughput = rates.mapValues(median)
        launch.probe = records.lazy.compactMap(\.probe).first
        let modes = records.compactMap(\.modeSeconds)
        launch.modeSeconds = modes.isEmpty ? nil : median(modes)
        let positions = records.compactMap(\.position)
        launch.position = positions.first
        launch.duplicate = Set(positions).count > 1 || records.contains(where: \.duplicate)
        return launch
    }

    func machineStates(environments: [String], comparisons: [Comparison]) -> [Analysis.MachineState] {
        let byEnvironment = Dictionary(grouping: probes, by: \.key.environment)
        return environments.compactMap { environment in
            guard let mine = byEnvironment[environment]?.map(\.value), !mine.isEmpty else { return nil }
            func spread(_ values: [Double]) -> (median: Double, min: Double, max: Double) {
                (Median.of(values) ?? 0, values.min() ?? 0, values.max() ?? 0)
            }
            let mixed = Set(comparisons.filter { $0.environment == environment }.flatMap(\.mixedRounds)).sorted()
            return Analysis.MachineState(environment: environment, launches: mine.count, sum: spread(mine.map(\.sumGBps)),
                                         gemm: spread(mine.map(\.gemmGflops)), mixedRounds: mixed)
        }
    }

    func warnings(points: [PointKey: [String: EnvironmentPoint]], environments: [String], kernels: KernelDescriptions,
                  labels: [PointKey: String]) -> [String] {
        var warnings: [String] = []
        func mixed(_ values: Set<String>, _ what: String) {
            if values.count > 1 { warnings.append("records come from \(values.count) different \(what) (\(values.sorted().joined(separator: "; "))): compare with care") }
        }
        mixed(hosts, "host kernels")
        mixed(libraries, "MPI libraries")
        mixed(versions, "podgap versions")
        for key in points.keys.sorted(by: kernels.precedes) {
            for environment in EnvironmentCatalog.sorted(points[key]!.keys) where points[key]![environment]!.unverified > 0 {
                let point = points[key]![environment]!
                let bounds = point.implausible.map { " (outside physical bounds: \($0))" } ?? ""
                warnings.append("\(environment) \(key.kernel) \(labels[key] ?? key.label) (\(key.ranks) ranks): \(point.unverified) unverified record(s)\(bounds) shown but kept out of the statistics")
            }
        }
        for environment in environments {
            let lonely = points.filter { $0.value[environment].map { !$0.trialMedians.isEmpty } ?? false }
                .filter { point in point.value.filter { $0.key != environment && !$0.value.trialMedians.isEmpty }.isEmpty }
            if !lonely.isEmpty {
                warnings.append("\(environment): \(lonely.count) point(s) pair with no other environment (other kernels, parameters or rank counts)")
            }
        }
        return warnings
    }
}

/// Compares two environments at a point: paired by round where both ran in rounds, else unpaired.
private struct Pairer {
    var points: [PointKey: [String: EnvironmentPoint]]
    var options: Analysis.Options
    var settings: [String: Analysis.Settings]

    /// Whether two environments' pods compute alike, so that a kernel's own computation time can
    /// stand for the machine's mode: no knob of either changes how a pod computes.
    func computeAlike(_ a: String, _ b: String) -> Bool {
        !(settings[a]?.knobs?.changesCompute ?? false) && !(settings[b]?.knobs?.changesCompute ?? false)
    }

    func compare(_ candidate: String, against reference: String, at key: PointKey, rounds only: Set<Int>? = nil,
                 estimateOnly: Bool = false) -> Comparison? {
        guard let a = points[key]?[candidate], let b = points[key]?[reference],
              !a.trialMedians.isEmpty, !b.trialMedians.isEmpty else { return nil }
        guard a.inRounds && b.inRounds else {
            var comparison = Comparison(point: key, candidate: a, baseline: b, options: options, estimateOnly: estimateOnly)
            comparison.unverified = a.unverified + b.unverified
            return comparison
        }
        // Both sides' launches are sorted by round, one per round: walk them together.
        var ratios: [Double] = [], mineMatched: [Double] = [], theirsMatched: [Double] = []
        // Per round, log(baseline's probe GEMM rate / this side's): the machine-mode covariate.
        var covariates: [Double] = [], everyRoundProbed = true
        // Better, where the kernel times its own computation with nothing in flight (its
        // descriptor's `modePhase`) and both sides computed alike: log(this side's / baseline's).
        var modeCovariates: [Double] = [], everyRoundTimed = computeAlike(candidate, reference)
        var missing: [Int] = [], duplicates: [Int] = [], mixed: [Int] = []
        ratios.reserveCapacity(min(a.launches.count, b.launches.count))
        // Fields are read in place: a copy of each launch retained and released its rates.
        a.launches.withUnsafeBufferPointer { mineList in
            b.launches.withUnsafeBufferPointer { theirsList in
                var i = 0, j = 0
                while i < mineList.count || j < theirsList.count {
                    let round = min(i < mineList.count ? mineList[i].round ?? .max : .max,
                                    j < theirsList.count ? theirsList[j].round ?? .max : .max)
                    let mineHere = i < mineList.count && mineList[i].round == round
                    let theirsHere = j < theirsList.count && theirsList[j].round == round
                    let mine = i, theirs = j
                    if mineHere { i += 1 }
                    if theirsHere { j += 1 }
                    if (mineHere && mineList[mine].duplicate) || (theirsHere && theirsList[theirs].duplicate) {
                        duplicates.append(round)
                        continue
                    }
                    guard mineHere, theirsHere else {
                        // A round the candidate sat out is no fault: a budget suite spends its rounds
                        // where intervals are still wide (the suite's RoundPlan). A round without the
                        // reference is: every round that runs an environment runs the baseline.
                        if !theirsHere { missing.append(round) }
                        continue
                    }
                    if let only, !only.contains(round) { continue }
                    if let p = mineList[mine].probe, let q = theirsList[theirs].probe, MachineMode.differ(p, q) {
                        mixed.append(round)
                        if options.excludeMixed { continue }
                    }
                    let x = mineList[mine].seconds, y = theirsList[theirs].seconds
                    ratios.append(log(x / y))
                    if let p = mineList[mine].probe, let q = theirsList[theirs].probe, p.gemmGflops > 0, q.gemmGflops > 0 {
                        covariates.append(log(q.gemmGflops / p.gemmGflops))
                    } else {
                        everyRoundProbed = false
                    }
                    if everyRoundTimed, let p = mineList[mine].modeSeconds, let q = theirsList[theirs].modeSeconds, p > 0, q > 0,
                       mineList[mine].derived == theirsList[theirs].derived {
                        modeCovariates.append(log(p / q))
                    } else {
                        everyRoundTimed = false
                    }
                    mineMatched.append(x)
                    theirsMatched.append(y)
                }
            }
        }
        var comparison = Comparison(point: key, environment: candidate, baseline: reference, ratios: ratios,
                                    covariates: !options.adjustForMode ? nil
                                        : everyRoundTimed && !ratios.isEmpty ? modeCovariates : everyRoundProbed ? covariates : nil,
                                    covariateSource: everyRoundTimed && !ratios.isEmpty ? .kernelPhase : .probe,
                                    candidateMedians: mineMatched, baselineMedians: theirsMatched, options: options,
                                    estimateOnly: estimateOnly)
        comparison.unverified = a.unverified + b.unverified
        // Restricted to a chain's common rounds, the rest are not "missing": the chain chose them.
        if only == nil {
            comparison.missingRounds = missing
            comparison.duplicateRounds = duplicates
        }
        comparison.mixedRounds = mixed
        comparison.excludedMixed = options.excludeMixed ? mixed.count : 0
        return comparison
    }

    /// The chain's totals per headline: the top against the bottom, and each rung, on the rounds
    /// where every environment of the chain ran (all launches when unpaired).
    func chain(_ steps: [Ladder.Step], keys: [PointKey], kernels: KernelDescriptions) -> Analysis.Chain? {
        guard let bottom = steps.first?.from, let top = steps.last?.to else { return nil }
        let environments = [bottom] + steps.map(\.to)
        func common(_ key: PointKey) -> Set<Int>? {
            let sides = environments.compactMap { points[key]?[$0] }
            guard sides.count == environments.count, sides.allSatisfy(\.inRounds) else { return nil }
            let rounds = sides.map { Set($0.launches.map { $0.round! }) }
            return rounds.dropFirst().reduce(rounds[0]) { $0.intersection($1) }
        }
        // Headline points are chosen on the estimates; intervals are computed for those alone.
        let estimates = parallelMap(keys) { compare(top, against: bottom, at: $0, rounds: common($0), estimateOnly: true) }.compactMap { $0 }
        guard !estimates.isEmpty else { return nil }
        let headlines = Headline.select(from: estimates, kernels: kernels).compactMap { estimate -> Headline? in
            var headline = estimate
            guard let full = compare(top, against: bottom, at: estimate.comparison.point, rounds: common(estimate.comparison.point)) else { return nil }
            headline.comparison = full
            return headline
        }
        let chainTotals = headlines.compactMap { headline -> Analysis.Chain.Total? in
            let key = headline.comparison.point, rounds = common(key)
            // One rung is the total itself.
            let rungs = steps.count == 1 ? [headline.comparison]
                : steps.compactMap { compare($0.to, against: $0.from, at: key, rounds: rounds) }
            guard rungs.count == steps.count else { return nil }
            let sum = rungs.map(\.logGap).reduce(0, +)
            return Analysis.Chain.Total(headline: headline, rungs: rungs, sumOfRungs: sum, residual: headline.comparison.logGap - sum)
        }
        return chainTotals.isEmpty ? nil : Analysis.Chain(environments: environments, steps: steps, totals: chainTotals)
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
