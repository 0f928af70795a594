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

    private func escape(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
}
