import Records
import Statistics
import Foundation

/// The output formats of `podgap report`.
public enum ReportFormat: String, CaseIterable, Sendable {
    case table, markdown, csv, html, osu
    case ncclTests = "nccl-tests"
    case openmetrics

    /// The renderer for the format; `colour` only matters to the terminal table.
    public func render(_ analysis: Analysis, colour: Bool = false) -> String {
        switch self {
        case .table: return TableRenderer(colour: colour).render(analysis)
        case .markdown: return MarkdownRenderer().render(analysis)
        case .csv: return CSVRenderer().render(analysis)
        case .html: return HTMLRenderer().render(analysis)
        case .osu: return OSURenderer().render(analysis)
        case .ncclTests: return NCCLTestsRenderer().render(analysis)
        case .openmetrics: return OpenMetricsRenderer().render(analysis)
        }
    }

    /// Formats that show per-record rates need the records' throughput kept (`Inputs.load(details:)`).
    public var needsDetails: Bool { self == .openmetrics }

    public var fileExtension: String {
        switch self {
        case .table: return "txt"
        case .markdown: return "md"
        case .csv: return "csv"
        case .html: return "html"
        case .osu: return "osu.txt"
        case .ncclTests: return "nccl.txt"
        case .openmetrics: return "om.txt"
        }
    }
}

/// Rows shared by the table, Markdown and HTML renderers, so all say the same thing.
struct Rows {
    static let comparisonHeader = ["kernel", "point", "ranks", "environment", "basis", "median", "baseline", "gap", "95% CI", "p",
                                   "resolution", "verdict"]
    static let comparisonVerdictColumn = 11

    static func comparison(_ c: Comparison, in analysis: Analysis) -> [String] {
        [c.point.kernel, analysis.label(c.point), "\(c.point.ranks)", c.environment, c.basis,
         NumberText.duration(c.median), NumberText.duration(c.baselineMedian), NumberText.percent(c.gap),
         c.interval.map { "[\(NumberText.percent($0.lowerBound, unit: false)), \(NumberText.percent($0.upperBound, unit: false))]" }
            ?? "n/a (<2 \(c.isPaired ? "rounds" : "trials"))",
         c.pValue.map(NumberText.pValue) ?? "-", resolution(c), verdict(c, asRate: false)]
    }

    static func resolution(_ c: Comparison) -> String {
        c.resolution.map { "±" + NumberText.percent($0, unit: true).dropFirst() } ?? "-"
    }

    /// The verdict in words, with what the reader must know beside it: records kept out, rounds in
    /// mixed machine modes still counted. For a rate, slower reads as lower.
    static func verdict(_ c: Comparison, asRate: Bool) -> String {
        var flags: [String] = []
        if c.unverified > 0 { flags.append("\(c.unverified) unverified") }
        let kept = c.mixedRounds.count - c.excludedMixed
        if kept > 0 { flags.append("\(kept) mixed-mode round\(kept == 1 ? "" : "s")") }
        let flag = flags.isEmpty ? "" : " (" + flags.joined(separator: ", ") + ")"
        return words(c.verdict(asRate: asRate), asRate: asRate, equivalence: c.equivalence) + flag
    }

    static func words(_ verdict: Comparison.Verdict, asRate: Bool, equivalence: Double) -> String {
        switch verdict {
        case .slower: return asRate ? "lower" : "slower"
        case .faster: return asRate ? "higher" : "faster"
        case .equivalent: return "equivalent within ±\(NumberText.margin(equivalence))"
        case .notResolved: return "not resolved"
        }
    }

    static let headlineHeader = ["environment", "kernel", "metric", "basis", "gap [95% CI], p", "resolution", "verdict"]
    static let headlineVerdictColumn = 6

    static func headlines(_ analysis: Analysis) -> [[String]] {
        analysis.environments.filter { $0 != analysis.baseline }.flatMap { environment in
            (analysis.headlines[environment] ?? []).map { h in
                [environment, h.kernel, h.metric, h.comparison.basis, h.summary, resolution(h.comparison), verdict(h.comparison, asRate: h.isRate)]
            }
        }
    }

    static let attributionHeader = ["step", "adds", "kernel", "metric", "gap [95% CI], p"]

    /// Per chain and headline: each rung, then the total with what the rungs add up to and the
    /// residual, all on the scale the headline is read on.
    static func attribution(_ analysis: Analysis) -> [[String]] {
        analysis.chains.flatMap { chain in
            chain.totals.flatMap { total -> [[String]] in
                let h = total.headline
                var rows = zip(chain.steps, total.rungs).map { step, rung in
                    ["\(step.from) -> \(step.to)", step.adds, h.kernel, h.metric, rung.summary(asRate: h.isRate)]
                }
                if total.rungs.count > 1 {
                    // A rate's log ratio is the time's with the sign turned.
                    let sign = h.isRate ? -1.0 : 1.0
                    let sum = NumberText.percent(exp(sign * total.sumOfRungs) - 1), residual = NumberText.percent(exp(sign * total.residual) - 1)
                    rows.append(["\(chain.environments.first!) -> \(chain.environments.last!)",
                                 "total: rungs add up to \(sum), residual \(residual)", h.kernel, h.metric, h.summary])
                }
                return rows
            }
        }
    }

    static let machineHeader = ["environment", "launches", "float sum GB/s", "GEMM GFLOP/s", "spread", "mixed-mode rounds"]

    static func machine(_ analysis: Analysis) -> [[String]] {
        analysis.machineStates.map { state in
            func range(_ v: (median: Double, min: Double, max: Double)) -> String {
                String(format: "%.3g [%.3g, %.3g]", v.median, v.min, v.max)
            }
            let spread = [state.sum, state.gemm].map { $0.min > 0 ? $0.max / $0.min : 1 }.max() ?? 1
            let mixed = state.environment == analysis.baseline ? "(baseline)"
                : state.mixedRounds.isEmpty ? "none" : state.mixedRounds.map(String.init).joined(separator: ", ")
            return [state.environment, "\(state.launches)", range(state.sum), range(state.gemm), String(format: "%.2fx", spread), mixed]
        }
    }

    static let machineNote = "The probe every launch runs before its kernel (a float sum and a short GEMM). Spread: the largest max/min of the two rates. Mixed-mode rounds: the environment and the baseline ran with probe rates more than \(MachineMode.factor)x apart."

    /// Custom labels keep a colour but have no rung: say so, so their absence from the ladder is
    /// not read as "no cost".
    static func unrankedNote(_ analysis: Analysis) -> String? {
        let unranked = analysis.unranked
        guard !unranked.isEmpty else { return nil }
        return "\(unranked.joined(separator: ", ")): not in the environment catalog, so no rung on the attribution ladder (compared with the baseline only)"
    }

    static func title(_ analysis: Analysis) -> String {
        let rounds = analysis.rounds.map { ", \($0) rounds" } ?? ""
        return "podgap report: \(analysis.recordCount) records, \(analysis.environments.count) environments (\(analysis.environments.joined(separator: ", "))), baseline \(analysis.baseline)\(rounds), equivalence ±\(NumberText.margin(analysis.options.equivalence))"
    }

    static func reading(_ analysis: Analysis) -> String {
        let margin = NumberText.margin(analysis.options.equivalence)
        var lines = [String?]([
            "gap = environment / baseline - 1 (+ is slower; for rates + is more).",
            "Paired (basis: rounds): per suite round the log ratio of the two launches' medians; the gap is the median of those ratios, its interval a 95% expanded-percentile bootstrap over rounds, p the Wilcoxon signed-rank test.",
            analysis.options.adjustForMode
                ? "Mode adjustment (from \(ModeAdjustment.minimumRounds) rounds; not where the environment itself moves the probe): each round's log ratio less slope x the log ratio of its two launches' probe GEMM rates, as if both ran in one machine mode; least squares, re-fit per resample (--unadjusted: none)."
                : "Ratios as measured (--unadjusted): no mode adjustment.",
            analysis.options.adjustForMode
                ? "For a kernel that times its own computation with nothing in flight (the training step's compute_alone), that time's ratio instead, where both sides compute alike (same BLAS threads, no compute knob)."
                : nil,
            "Unpaired (basis: trials; records without matching rounds): the median over trials of each side, a 95% bootstrap of each side, Mann-Whitney U.",
            "Verdicts: slower/faster when the interval excludes zero; equivalent within ±\(margin) when the whole interval lies inside ±\(margin) (--equivalence); otherwise not resolved. Resolution: half the interval's width, the smallest gap this run could tell from zero.",
        ]).compactMap { $0 }
        if analysis.excludedMixedRounds > 0 {
            lines.append("\(analysis.excludedMixedRounds) round(s) in mixed machine modes dropped (--exclude-mixed).")
        }
        return lines.joined(separator: "\n")
    }
}
