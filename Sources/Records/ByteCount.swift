/// Byte sizes as users type them: `4`, `64K`, `1M`, `2G` (powers of 1024), and sweeps `4:1M`.
public enum ByteCount {
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// Parses one size. K, M and G (either case, optional trailing B) multiply by 1024 each.
    public static func parse(_ text: String) throws -> Int {
        var digits = Substring(text.trimmingCharacters(in: .whitespaces))
        if digits.last == "B" || digits.last == "b" { digits = digits.dropLast() }
        var multiplier = 1
        if let unit = digits.last, !unit.isNumber {
            switch unit {
            case "K", "k": multiplier = 1 << 10
            case "M", "m": multiplier = 1 << 20
            case "G", "g": multiplier = 1 << 30
            default: throw ParseError(description: "'\(text)' is not a size: use a number with an optional K, M or G")
            }
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isNumber), let value = Int(digits) else {
            throw ParseError(description: "'\(text)' is not a size: use a number with an optional K, M or G")
        }
        guard value > 0 else { throw ParseError(description: "size '\(text)' must be greater than zero") }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow, bytes <= 1 << 40 else { throw ParseError(description: "size '\(text)' is too large") }
        return bytes
    }

    /// `LOW:HIGH` gives the powers of two from LOW to HIGH (LOW rounded up, HIGH included when a
    /// power of two); a single size gives itself; a comma list gives exactly those sizes.
    public static func parseSweep(_ text: String) throws -> [Int] {
        if text.contains(",") {
            // Empty items are refused, not dropped: "," would otherwise be a sweep of no sizes.
            return try text.split(separator: ",", omittingEmptySubsequences: false).map { try parse(String($0)) }
        }
        let bounds = text.split(separator: ":", omittingEmptySubsequences: false)
        guard bounds.count <= 2 else {
            throw ParseError(description: "'\(text)' is not a size sweep: use LOW:HIGH, e.g. 4:1M")
        }
        let low = try parse(String(bounds[0]))
        guard bounds.count == 2 else { return [low] }
        let high = try parse(String(bounds[1]))
        guard low <= high else {
            throw ParseError(description: "size sweep '\(text)' runs backwards: \(bounds[0]) is larger than \(bounds[1])")
        }
        var size = 1
        while size < low { size <<= 1 }
        var sizes: [Int] = []
        while size <= high { sizes.append(size); size <<= 1 }
        guard !sizes.isEmpty else {
            throw ParseError(description: "size sweep '\(text)' holds no power of two")
        }
        return sizes
    }

    /// 1024 -> "1K", 1536 -> "1536", 1048576 -> "1M".
    public static func format(_ bytes: Int) -> String {
        for (shift, unit) in [(30, "G"), (20, "M"), (10, "K")] where bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(unit)"
        }
        return "\(bytes)"
    }

    /// The same for a size read back from a record (a JSON number); "-" when it is not a whole,
    /// non-negative number of bytes.
    public static func format(_ bytes: Double) -> String {
        guard bytes.isFinite, bytes >= 0, bytes < 0x1p62, bytes == bytes.rounded() else { return "-" }
        return format(Int(bytes))
    }
}
