import Foundation
import Testing
@testable import Records

/// The scanner's own conversion of decimal text (`DecimalText`, Eisel-Lemire) against strtod, bit
/// for bit: on the values records hold (Python's and Swift's shortest texts, printf's 15-17 digits),
/// on random digit strings over the whole exponent range, and on the cases that are hard to round.
struct DecimalTextTests {
    static func strtodValue(_ text: String) -> Double { text.withCString { strtod($0, nil) } }

    /// What the scanner reads (its own conversion, or strtod where it declines), and whether its
    /// own conversion answered.
    static func scanned(_ text: String) -> (value: Double?, own: Bool) {
        let bytes = Array(text.utf8) + [0]
        return bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(base: buffer.baseAddress!, position: 0, end: buffer.count - 1)
            let own = DecimalText.double(buffer.baseAddress!, 0, buffer.count - 1) != nil
            let value = scanner.number()
            return (scanner.position == buffer.count - 1 ? value : nil, own)
        }
    }

    /// A fixed sequence (splitmix64): the same cases on every run.
    struct Sequence {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
    }

    static func check(_ text: String, _ failures: inout [String]) {
        let (value, _) = scanned(text)
        // The scanner refuses what strtod takes out of range (1e999): the full decoder judges it.
        let expected = strtodValue(text)
        if value?.bitPattern != (expected.isFinite ? expected.bitPattern : nil) { failures.append("\(text): scanned \(value.map { "\($0)" } ?? "nil"), strtod \(strtodValue(text))") }
    }

    @Test func randomDoublesPrintedEveryWayReadAsStrtodReadsThem() {
        var sequence = Sequence(state: 27), failures: [String] = [], own = 0, total = 0
        for _ in 0..<40_000 {
            let value = Double(bitPattern: sequence.next() & 0x7FFF_FFFF_FFFF_FFFF)
            guard value.isFinite, value.isNormal else { continue }
            for text in ["\(value)", String(format: "%.17g", value), String(format: "%.16g", value), String(format: "%.15g", value),
                         String(format: "%.6e", -value), String(format: "%.20f", value / 1e300)] {
                Self.check(text, &failures)
                total += 1
                if Self.scanned(text).own { own += 1 }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        // The conversion is the scanner's own for nearly every such text, not strtod's.
        #expect(Double(own) > 0.9 * Double(total), "own \(own) of \(total)")
    }

    @Test func randomDigitStringsOverTheExponentRangeReadAsStrtodReadsThem() {
        var sequence = Sequence(state: 4), failures: [String] = []
        for _ in 0..<100_000 {
            let count = Int(sequence.next() % 22) + 1
            // JSON's grammar: no leading zero but "0." itself.
            let digits = String(sequence.next() % 9 + 1) + (1..<count).map { _ in String(sequence.next() % 10) }.joined()
            let point = Int(sequence.next() % UInt64(digits.count))
            var text = point == 0 ? digits : String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
            if sequence.next() % 4 == 0 { text = "0." + String(repeating: "0", count: Int(sequence.next() % 5)) + digits }
            Self.check(text, &failures)
            Self.check(text + "e\(Int(sequence.next() % 700) - 360)", &failures)
            Self.check("-" + text + "E+\(Int(sequence.next() % 320))", &failures)
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test func hardCasesReadAsStrtodReadsThem() {
        var failures: [String] = []
        let cases = ["0", "-0", "0.0", "1", "-1", "0.1", "0.3", "1e23", "8.98846567431158e307", "1.7976931348623157e308",
                     "1.7976931348623158e308", "1.8e308", "2.2250738585072011e-308", "2.2250738585072014e-308",
                     "4.9406564584124654e-324", "1e-400", "9007199254740993", "9007199254740995", "9007199254740992.5",
                     "18014398509481985", "123456789012345678901234567890", "0.000000000000000000000000000001234",
                     "7.2057594037927933e16", "3.0517578125e-05", "1.00000000000000011102230246251565404236316680908203125",
                     "2.4703282292062327e-324", "1e22", "1e-22", "4.35679e-06", "1.9999999999999999", "5e-324"]
        for text in cases { Self.check(text, &failures) }
        #expect(failures.isEmpty, "\(failures)")
    }
}
