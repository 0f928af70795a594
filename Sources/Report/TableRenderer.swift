import Records

/// The terminal table: aligned columns, the verdict coloured only when writing to a terminal.
public struct TableRenderer: Sendable {
    public var colour: Bool
    public init(colour: Bool) { self.colour = colour }

    public func render(_ analysis: Analysis) -> String {
        var out = Rows.title(analysis) + "\n" + Rows.reading(analysis) + "\n"
        out += "\nHEADLINES (against \(analysis.baseline))\n"
            + table(Rows.headlineHeader, Rows.headlines(analysis), verdictColumn: Rows.headlineVerdictColumn)
        if !analysis.chains.isEmpty {
            out += "\nATTRIBUTION (each environment against its neighbour in the ladder, on the same rounds)\n"
                + table(Rows.attributionHeader, Rows.attribution(analysis), verdictColumn: nil)
        }
        if let note = Rows.unrankedNote(analysis) { out += "  \(note)\n" }
        if !analysis.machineStates.isEmpty {
            out += "\nMACHINE STATE\n  \(Rows.machineNote)\n" + table(Rows.machineHeader, Rows.machine(analysis), verdictColumn: nil)
        }
        out += "\nALL POINTS\n" + table(Rows.comparisonHeader, analysis.comparisons.map { Rows.comparison($0, in: analysis) },
                                       verdictColumn: Rows.comparisonVerdictColumn)
        if let why = analysis.why { out += "\n" + why.section() }
        if let change = analysis.whatToChange, !change.changes.isEmpty { out += "\n" + change.section() }
        if let startup = analysis.startupPhases {
            let table = startup.table
            out += "\nSTARTUP PHASES (against \(startup.baseline))\n  \(startup.note)\n" + self.table(table.header, table.rows, verdictColumn: table.header.count - 1)
        }
        if !analysis.skipped.isEmpty {
            out += "\nSKIPPED\n" + analysis.skipped.map { "  \($0.environment): \($0.reason)\n" }.joined()
        }
        if !analysis.warnings.isEmpty {
            out += "\nWARNINGS\n" + analysis.warnings.map { "  \($0)\n" }.joined()
        }
        return out
    }

    private func table(_ header: [String], _ rows: [[String]], verdictColumn: Int?) -> String {
        let table = TextTable(headings: header, rows: rows, alignments: header.map { _ in .left }, indent: "  ")
        guard colour, let verdictColumn else { return table.render(.table) }
        return table.render(.table) { _, column, text in column == verdictColumn ? painted(text) : text }
    }

    private func painted(_ text: String) -> String {
        if text.hasPrefix("slower") || text.hasPrefix("lower") { return "\u{1B}[31m\(text)\u{1B}[0m" }
        if text.hasPrefix("faster") || text.hasPrefix("higher") { return "\u{1B}[32m\(text)\u{1B}[0m" }
        return text
    }
}
