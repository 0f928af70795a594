import Testing
import Records

@Suite struct TextTableTests {
    static let table = TextTable(headings: ["environment", "gap"], rows: [["native-shm", "+1.0%"], ["pod-overlay", "-12.5%"]],
                                 alignments: [.left, .right])

    @Test func terminalTableAlignsEachColumnItsWay() {
        #expect(Self.table.render(.table) == """
            environment     gap
            native-shm    +1.0%
            pod-overlay  -12.5%

            """)
        // A left-aligned last column carries no trailing spaces; the indent starts every line.
        let left = TextTable(headings: ["a", "verdict"], rows: [["x", "slower"], ["yy", "not resolved"]], alignments: [.left, .left], indent: "  ")
        #expect(left.render(.table) == "  a   verdict\n  x   slower\n  yy  not resolved\n")
        // Painting wraps body cells only, after padding.
        let painted = left.render(.table) { row, column, text in column == 1 && row == 0 ? "<\(text)>" : text }
        #expect(painted == "  a   verdict\n  x   <slower>\n  yy  not resolved\n")
    }

    @Test func markdownAlignsAndEscapes() {
        let table = TextTable(headings: ["name", "value"], rows: [["a|b", "1"], ["two\nlines", "2"]], alignments: [.left, .right])
        #expect(table.render(.markdown) == "| name | value |\n|---|---:|\n| a\\|b | 1 |\n| two lines | 2 |\n")
    }

    @Test func csvQuotesCommasQuotesAndBothLineBreaks() {
        let table = TextTable(headings: ["a", "b"], rows: [["x,y", "say \"hi\""], ["carriage\rreturn", "line\nfeed"], ["crlf\r\nend", "plain"]])
        #expect(table.render(.csv) == "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n\"carriage\rreturn\",\"line\nfeed\"\n\"crlf\r\nend\",plain\n")
    }
}

@Suite struct ByteCountFormatTests {
    @Test func sizesReadBackFromRecordsFormatLikeTypedOnes() {
        #expect(ByteCount.format(4096.0) == "4K" && ByteCount.format(1536.0) == "1536" && ByteCount.format(1048576.0) == "1M")
        #expect(ByteCount.format(2.5) == "-" && ByteCount.format(Double.nan) == "-" && ByteCount.format(-8.0) == "-")
    }
}
