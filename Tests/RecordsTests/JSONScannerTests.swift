import Foundation
import Testing
@testable import Records

@Suite struct ScannerNumberTests {
    /// Converts `text` with `numberIfAtLeast`; nil for text that is not a JSON number.
    static func scan(_ text: String, _ bound: Int) -> Double? {
        var bytes = Array(text.utf8) + [0]
        return bytes.withUnsafeMutableBufferPointer { buffer in
            var scanner = JSONScanner(base: UnsafePointer(buffer.baseAddress!), position: 0, end: text.utf8.count)
            guard let value = scanner.numberIfAtLeast(exponent: bound), scanner.atEnd else { return nil }
            return value
        }
    }

    @Test func numbersBelowTheBoundAreSkippedAndOthersConverted() {
        // Below 10^4: skipped (0); at or above: the value.
        #expect(Self.scan("9999.9", 4) == 0 && Self.scan("9.9e3", 4) == 0 && Self.scan("0.00012", 4) == 0 && Self.scan("-5", 4) == 0)
        #expect(Self.scan("10001.0", 4) == 10001 && Self.scan("1.5e4", 4) == 15000 && Self.scan("1E+5", 4) == 100_000)
        #expect(Self.scan("1e308", 300) == 1e308 && Self.scan("2.5", 300) == 0)
        // Out of Double's range: not a value the fast reader takes (the full decoder judges).
        #expect(Self.scan("1e999", 300) == nil)
        // Not JSON numbers.
        for bad in ["", "-", "01", "1.", ".5", "1e", "1e+", "1-2", "+1", "0x10"] {
            #expect(Self.scan(bad, 4) == nil, "\(bad) was taken for a number")
        }
    }
}
