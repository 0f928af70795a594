import Records

/// One row per pair (environment against the baseline on one point), for pandas and spreadsheets.
/// Missing values are empty cells, never NaN. `rounds` is empty for an unpaired row; `verdict` is
/// slower, faster, equivalent (within `equivalence`, a fraction) or "not resolved".
public struct CSVRenderer: Sendable {
    public init() {}

    public static let header = ["kernel", "parameters", "bytes", "ranks", "environment", "baseline", "pairing", "rounds",
                                "trials", "baseline_trials", "median_s", "baseline_median_s", "gap", "ci_low", "ci_high",
                                "p_value", "resolution", "equivalence", "verdict", "mixed_rounds", "excluded_mixed_rounds",
                                "unverified"]

    public func render(_ analysis: Analysis) -> String {
        var rows: [[String]] = []
        for c in analysis.comparisons {
            var rounds = ""
            if case .paired(let n) = c.pairing { rounds = "\(n)" }
            let cells = [c.point.kernel, c.point.parameters, NumberText.number(c.point.bytes), "\(c.point.ranks)",
                         c.environment, c.baseline, c.isPaired ? "paired" : "unpaired", rounds,
                         "\(c.trials)", "\(c.baselineTrials)", NumberText.number(c.median),
                         NumberText.number(c.baselineMedian), NumberText.number(c.gap), NumberText.number(c.interval?.lowerBound),
                         NumberText.number(c.interval?.upperBound), NumberText.number(c.pValue), NumberText.number(c.resolution),
                         NumberText.number(c.equivalence), c.verdict.rawValue, c.mixedRounds.map(String.init).joined(separator: " "),
                         "\(c.excludedMixed)", "\(c.unverified)"]
            rows.append(cells)
        }
        return TextTable(headings: CSVRenderer.header, rows: rows).render(.csv)
    }
}
