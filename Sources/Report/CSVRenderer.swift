import Records

/// One row per pair (environment against the baseline on one point), for pandas and spreadsheets.
/// Missing values are empty cells, never NaN.
public struct CSVRenderer: Sendable {
    public init() {}

    public static let header = ["kernel", "parameters", "bytes", "ranks", "environment", "baseline", "trials",
                                "baseline_trials", "median_s", "baseline_median_s", "gap", "ci_low", "ci_high",
                                "p_value", "verdict", "unverified"]

    public func render(_ analysis: Analysis) -> String {
        var rows: [[String]] = []
        for c in analysis.comparisons {
            let cells = [c.point.kernel, c.point.parameters, Format.number(c.point.bytes), "\(c.point.ranks)",
                         c.environment, c.baseline, "\(c.trials)", "\(c.baselineTrials)", Format.number(c.median),
                         Format.number(c.baselineMedian), Format.number(c.gap), Format.number(c.interval?.lowerBound),
                         Format.number(c.interval?.upperBound), Format.number(c.pValue), c.verdict.rawValue, "\(c.unverified)"]
            rows.append(cells)
        }
        return TextTable(headings: CSVRenderer.header, rows: rows).render(.csv)
    }
}
