/// Rows of text rendered as an aligned terminal table, GitHub Markdown or CSV: the one table of
/// podgap's reports, the model's outputs and the CLI.
public struct TextTable: Equatable, Sendable {
    public enum Format: String, CaseIterable, Sendable { case table, markdown, csv }
    public enum Alignment: Sendable { case left, right }

    public var headings: [String]
    public var rows: [[String]]
    /// Per column; numbers read best right-aligned, names left. Missing entries are right-aligned.
    public var alignments: [Alignment]
    /// Put before every line of the terminal table (reports indent theirs under a section title).
    public var indent: String

    public init(headings: [String], rows: [[String]], alignments: [Alignment] = [], indent: String = "") {
        self.headings = headings; self.rows = rows; self.alignments = alignments; self.indent = indent
    }

    public func alignment(of column: Int) -> Alignment { column < alignments.count ? alignments[column] : .right }

    /// `paint(row, column, text)` may wrap a body cell of the terminal table (already padded) in
    /// terminal colours; it is not called for headings, Markdown or CSV.
    public func render(_ format: Format, paint: ((Int, Int, String) -> String)? = nil) -> String {
        switch format {
        case .csv:
            return ([headings] + rows).map { $0.map(TextTable.csvField).joined(separator: ",") + "\n" }.joined()
        case .markdown:
            func line(_ cells: [String]) -> String { "| " + cells.map(TextTable.markdownCell).joined(separator: " | ") + " |\n" }
            let rule = "|" + headings.indices.map { alignment(of: $0) == .left ? "---|" : "---:|" }.joined() + "\n"
            return line(headings) + rule + rows.map(line).joined()
        case .table:
            let widths = headings.indices.map { column in ([headings] + rows).map { $0[column].count }.max() ?? 0 }
            return line(headings, widths: widths) + "\n"
                + rows.enumerated().map { row, cells in
                    line(cells, widths: widths, paint: paint.map { paint in { paint(row, $0, $1) } }) + "\n"
                }.joined()
        }
    }

    /// One line of the terminal table: each cell padded to its column's width (a longer text widens
    /// its cell), aligned, joined by two spaces. `render(.table)` is made of these; a table printed
    /// row by row as points finish, before its widest cell is known, prints them with fixed widths.
    public func line(_ cells: [String], widths: [Int], paint: ((Int, String) -> String)? = nil) -> String {
        indent + cells.indices.map { column -> String in
            let text = cells[column]
            let space = String(repeating: " ", count: max((column < widths.count ? widths[column] : 0) - text.count, 0))
            // A left-aligned last column needs no trailing padding.
            let padded = alignment(of: column) == .right ? space + text
                : column == cells.count - 1 ? text : text + space
            return paint?(column, padded) ?? padded
        }.joined(separator: "  ")
    }

    /// RFC 4180: a field holding a comma, a quote or a line break (`\n` or `\r`) is quoted, inner
    /// quotes doubled.
    public static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A pipe would end the cell; a line break would end the row.
    static func markdownCell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\r\n", with: " ")
            .replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
    }
}
