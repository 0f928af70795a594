import Records

/// The output formats of `podgap report`.
public enum ReportFormat: String, CaseIterable, Sendable {
    case table, markdown, csv, html, osu

    /// The renderer for the format; `colour` only matters to the terminal table.
    public func render(_ analysis: Analysis, colour: Bool = false) -> String {
        switch self {
        case .table: return TableRenderer(colour: colour).render(analysis)
        case .markdown: return MarkdownRenderer().render(analysis)
        case .csv: return CSVRenderer().render(analysis)
        case .html: return HTMLRenderer().render(analysis)
        case .osu: return OSURenderer().render(analysis)
        }
    }

    public var fileExtension: String {
        switch self {
        case .table: return "txt"
        case .markdown: return "md"
        case .csv: return "csv"
        case .html: return "html"
        case .osu: return "osu.txt"
        }
    }
}

/// Rows shared by the table and Markdown renderers, so both say the same thing.
struct Rows {
    static let comparisonHeader = ["kernel", "point", "ranks", "environment", "trials", "median", "baseline", "gap", "95% CI", "p", "verdict"]

    static func comparison(_ c: Comparison, in analysis: Analysis) -> [String] {
        [c.point.kernel, analysis.label(c.point), "\(c.point.ranks)", c.environment, "\(c.trials)/\(c.baselineTrials)",
         Format.duration(c.median), Format.duration(c.baselineMedian), Format.percent(c.gap),
         c.interval.map { "[\(Format.percent($0.lowerBound, unit: false)), \(Format.percent($0.upperBound, unit: false))]" } ?? "n/a (<2 trials)",
         c.pValue.map(Format.pValue) ?? "-", verdict(c.verdict, unverified: c.unverified)]
    }

    static func verdict(_ verdict: Comparison.Verdict, unverified: Int = 0) -> String {
        let flag = unverified > 0 ? " (\(unverified) unverified)" : ""
        switch verdict {
        case .slower: return "slower" + flag
        case .faster: return "faster" + flag
        case .unclear: return "no clear difference" + flag
        }
    }

    static let headlineHeader = ["environment", "kernel", "metric", "gap [95% CI], p", "verdict"]

    static func headlines(_ analysis: Analysis) -> [[String]] {
        analysis.environments.filter { $0 != analysis.baseline }.flatMap { environment in
            (analysis.headlines[environment] ?? []).map { h in
                [environment, h.kernel, h.metric, h.summary, rateVerdict(h)]
            }
        }
    }

    /// For a rate, "slower" reads as "lower"; the time verdict is kept underneath.
    static func rateVerdict(_ h: Headline) -> String {
        switch (h.verdict, h.isRate) {
        case (.slower, true): return "lower"
        case (.faster, true): return "higher"
        default: return verdict(h.verdict)
        }
    }

    static let attributionHeader = ["step", "adds", "kernel", "metric", "gap [95% CI], p"]

    static func attribution(_ analysis: Analysis) -> [[String]] {
        analysis.attribution.flatMap { a in
            a.headlines.map { h in ["\(a.step.from) -> \(a.step.to)", a.step.adds, h.kernel, h.metric, h.summary] }
        }
    }

    /// Custom labels keep a colour but have no rung: say so, so their absence from the ladder is
    /// not read as "no cost".
    static func unrankedNote(_ analysis: Analysis) -> String? {
        let unranked = analysis.unranked
        guard !unranked.isEmpty else { return nil }
        return "\(unranked.joined(separator: ", ")): not in the environment catalog, so no rung on the attribution ladder (compared with the baseline only)"
    }

    static func title(_ analysis: Analysis) -> String {
        "podgap report: \(analysis.recordCount) records, \(analysis.environments.count) environments (\(analysis.environments.joined(separator: ", "))), baseline \(analysis.baseline)"
    }

    static let reading = "gap = (environment - baseline) / baseline of the median over trials of each trial's median time; + is slower (for rates: + is more). Intervals: 95% bootstrap over trials; p: two-sided Mann-Whitney U over trial medians; a verdict only where the interval excludes zero."
}
