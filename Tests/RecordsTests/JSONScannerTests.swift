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

    /// Converts `text` with `numberIfBelow`; nil for text that is not a JSON number.
    static func scanBelow(_ text: String, _ bound: Int) -> Double? {
        var bytes = Array(text.utf8) + [0]
        return bytes.withUnsafeMutableBufferPointer { buffer in
            var scanner = JSONScanner(base: UnsafePointer(buffer.baseAddress!), position: 0, end: text.utf8.count)
            guard let value = scanner.numberIfBelow(exponent: bound), scanner.atEnd else { return nil }
            return value
        }
    }

    @Test func numbersAboveTheLowerBoundAreSkippedAndOthersConverted() {
        // At or above 10^-8: skipped (10^-8 returned); below it, zero or negative: the value.
        for clear in ["1e-8", "0.00000001", "0.000000012", "2.5e-6", "1", "86400.5", "1e300", "0.5e-7"] {
            #expect(Self.scanBelow(clear, -8) == 1e-8, "\(clear)")
        }
        #expect(Self.scanBelow("9.9e-9", -8) == 9.9e-9 && Self.scanBelow("0.0000000099", -8) == 0.0000000099)
        #expect(Self.scanBelow("1e-12", -8) == 1e-12 && Self.scanBelow("0", -8) == 0 && Self.scanBelow("0.000", -8) == 0)
        #expect(Self.scanBelow("-5", -8) == -5 && Self.scanBelow("-0.0", -8) == 0)
        // Out of Double's range: converted, so refused as before.
        #expect(Self.scanBelow("1e999", -8) == nil && Self.scanBelow("12e308", -8) == nil)
        for bad in ["", "-", "01", "1.", ".5", "1e", "1e+", "1-2", "+1", "0x10"] {
            #expect(Self.scanBelow(bad, -8) == nil, "\(bad) was taken for a number")
        }
    }

    /// strtod takes "01" and "0x10", JSONDecoder does not: the scanner must not either, or a line
    /// the full decoder refuses would be read by the report.
    @Test func onlyJSONNumbersAreTaken() {
        func read(_ text: String, _ body: (inout JSONScanner) -> Double?) -> Double? {
            var bytes = Array(text.utf8) + [0]
            return bytes.withUnsafeMutableBufferPointer { buffer in
                var scanner = JSONScanner(base: UnsafePointer(buffer.baseAddress!), position: 0, end: text.utf8.count)
                guard let value = body(&scanner), scanner.atEnd else { return nil }
                return value
            }
        }
        for bad in ["01", "-01", "0x10", "inf", "nan", "1.", "+1", "00"] {
            #expect(read(bad) { $0.number() } == nil && read(bad) { $0.integer().map(Double.init) } == nil, "\(bad)")
        }
        #expect(read("-0") { $0.integer().map(Double.init) } == 0 && read("120") { $0.integer().map(Double.init) } == 120)
        #expect(read("2.5e-6") { $0.number() } == 2.5e-6 && read("-0.5") { $0.number() } == -0.5)
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
