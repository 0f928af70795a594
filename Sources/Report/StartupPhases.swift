import Foundation
import Records
import Statistics

/// Where a launch's start goes, per environment: the median seconds of each phase
/// (`StartupPhase`, submit to the first allreduce) over its startup launches, and each phase's gap
/// against the baseline, paired by round (the median over the rounds both ran of the difference;
/// a phase the baseline does not go through counts as 0 s there, so a pull is all gap).
public struct StartupPhases: Sendable {
    /// One startup launch's phases, as the records say them.
    public struct Launch: Sendable {
        public var environment: String
        /// Its round (suites), else its trial: what pairs it with the baseline's.
        public var launch: Int
        public var phases: [String: Double]
    }

    public struct Row: Sendable {
        public var environment: String
        public var launches: Int
        /// Median seconds per phase, in `StartupPhase.ordered`'s order, only the phases it went through.
        public var seconds: [(phase: StartupPhase, seconds: Double)]
        /// Per phase, the median paired difference to the baseline; nil without a common round.
        public var gaps: [StartupPhase: Double]?
        public var pairedRounds: Int
        /// The whole start (the phases' sum, submit to first allreduce) against the baseline's,
        /// paired by round as any kernel's point is: gap, interval, p and verdict.
        public var total: Comparison?
    }

    public var baseline: String
    public var rows: [Row]

    /// nil where no record has phases.
    static func build(_ launches: [Launch], baseline: String, environments: [String],
                      options: Analysis.Options = Analysis.Options()) -> StartupPhases? {
        guard !launches.isEmpty else { return nil }
        let byEnvironment = Dictionary(grouping: launches, by: \.environment)
        let order = environments.filter { byEnvironment[$0] != nil } + byEnvironment.keys.filter { !environments.contains($0) }.sorted()
        let reference = Dictionary((byEnvironment[baseline] ?? []).map { ($0.launch, $0.phases) }) { first, _ in first }
        let rows = order.map { environment -> Row in
            let mine = byEnvironment[environment] ?? []
            let phases = StartupPhase.ordered.filter { phase in mine.contains { $0.phases[phase.rawValue] != nil } }
            let seconds = phases.map { phase in (phase, Median.of(mine.compactMap { $0.phases[phase.rawValue] }) ?? 0) }
            let paired = mine.filter { reference[$0.launch] != nil }
            var gaps: [StartupPhase: Double]?
            if !paired.isEmpty && environment != baseline {
                let theirs = Set(reference.values.flatMap(\.keys))
                let all = StartupPhase.ordered.filter { phases.contains($0) || theirs.contains($0.rawValue) }
                gaps = Dictionary(uniqueKeysWithValues: all.map { phase in
                    (phase, Median.of(paired.map { ($0.phases[phase.rawValue] ?? 0) - (reference[$0.launch]?[phase.rawValue] ?? 0) }) ?? 0)
                })
            }
            var total: Comparison?
            if gaps != nil {
                let sum = { (phases: [String: Double]) in phases.values.reduce(0, +) }
                let pairs = paired.map { (sum($0.phases), sum(reference[$0.launch]!)) }.filter { $0.0 > 0 && $0.1 > 0 }
                total = Comparison(point: PointKey(kernel: "startup", parameters: "total", ranks: 0, bytes: nil), environment: environment,
                                   baseline: baseline, ratios: pairs.map { log($0.0 / $0.1) }, candidateMedians: pairs.map(\.0),
                                   baselineMedians: pairs.map(\.1), options: options)
            }
            return Row(environment: environment, launches: mine.count, seconds: seconds, gaps: gaps, pairedRounds: paired.count, total: total)
        }
        return StartupPhases(baseline: baseline, rows: rows)
    }

    /// Every phase any environment went through, in order: the table's columns.
    public var phases: [StartupPhase] {
        StartupPhase.ordered.filter { phase in rows.contains { row in row.seconds.contains { $0.phase == phase } } }
    }

    /// The table: per environment, each phase's median seconds and its gap to the baseline.
    public var table: (header: [String], rows: [[String]]) {
        let columns = phases
        let header = ["environment", "launches"] + columns.map(\.label) + ["total", "total's gap [95% CI], p", "verdict"]
        let body = rows.map { row -> [String] in
            let cells = columns.map { phase -> String in
                let value = row.seconds.first { $0.phase == phase }.map { NumberText.duration($0.seconds) } ?? "-"
                guard let gap = row.gaps?[phase] else { return value }
                return value + " (" + (gap >= 0 ? "+" : "-") + NumberText.duration(abs(gap)) + ")"
            }
            let total = row.seconds.reduce(0) { $0 + $1.seconds }
            let paired = row.gaps == nil ? "" : ", \(row.pairedRounds) paired"
            let verdict = row.total.map { [$0.summary(), Rows.verdict($0, asRate: false)] } ?? ["-", "-"]
            return [row.environment, "\(row.launches)\(paired)"] + cells + [NumberText.duration(total)] + verdict
        }
        return (header, body)
    }

    public var note: String {
        "Median seconds per phase over each environment's startup launches; in brackets the gap to \(baseline), the median of the differences over the rounds (or trials) both ran (a phase \(baseline) lacks counts 0 s there). The total's gap and verdict pair the whole start, submit to first allreduce, by round, as ALL POINTS pairs a kernel's."
    }
}
