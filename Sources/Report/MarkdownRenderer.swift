import Records

/// GitHub-flavoured Markdown: the same sections as the terminal table.
public struct MarkdownRenderer: Sendable {
    public init() {}

    public func render(_ analysis: Analysis) -> String {
        var out = "# " + Rows.title(analysis) + "\n\n" + Rows.reading(analysis) + "\n"
        out += "\n## Headlines (against \(analysis.baseline))\n\n" + table(Rows.headlineHeader, Rows.headlines(analysis))
        if !analysis.chains.isEmpty {
            out += "\n## Attribution\n\nEach environment against its neighbour in the ladder, on the same rounds.\n\n"
                + table(Rows.attributionHeader, Rows.attribution(analysis))
        }
        if let note = Rows.unrankedNote(analysis) { out += "\n" + escape(note) + "\n" }
        if !analysis.machineStates.isEmpty {
            out += "\n## Machine state\n\n\(Rows.machineNote)\n\n" + table(Rows.machineHeader, Rows.machine(analysis))
        }
        out += "\n## All points\n\n" + table(Rows.comparisonHeader, analysis.comparisons.map { Rows.comparison($0, in: analysis) })
        if let why = analysis.why { out += "\n" + markdown(why) }
        if let change = analysis.whatToChange, !change.changes.isEmpty { out += "\n" + change.markdown() }
        if !analysis.skipped.isEmpty {
            out += "\n## Skipped environments\n\n" + analysis.skipped.map { "- **\($0.environment)**: \(escape($0.reason))\n" }.joined()
        }
        if !analysis.warnings.isEmpty {
            out += "\n## Warnings\n\n" + analysis.warnings.map { "- \(escape($0))\n" }.joined()
        }
        return out
    }

    private func table(_ header: [String], _ rows: [[String]]) -> String {
        TextTable(headings: header, rows: rows, alignments: header.map { _ in .left }).render(.markdown)
    }

    /// `## Why`: one bullet per pair and point, the moved figures in bold.
    public func markdown(_ why: Why) -> String {
        var out = "## Why\n\nCounters per unit of work, each rung and each environment against the baseline, paired by round.\n\n"
        if why.entries.isEmpty { out += "No pair of environments has counters at a headline point.\n" }
        for e in why.entries {
            out += "- **\(escape(Why.heading(e)))**: " + (e.moved.isEmpty ? "no counter moved" : e.moved.map { "**\(escape(Why.text($0)))**" }.joined(separator: ", "))
            if !e.ruledOut.isEmpty { out += "; ruled out: " + escape(e.ruledOut.map(Why.ruledOutText).joined(separator: ", ")) }
            out += "\n"
        }
        if !why.lacking.isEmpty { out += "\nRuns lacking counters: " + escape(why.lacking.joined(separator: "; ")) + "\n" }
        if !why.unavailable.isEmpty {
            out += "\nUnavailable: " + escape(why.unavailable.keys.sorted().map { "\($0) (\(why.unavailable[$0]!))" }.joined(separator: "; ")) + "\n"
        }
        return out
    }

    private func escape(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
}
