import Foundation

/// A forward-only scanner over one JSON line, just enough to pick a few fields out of a record
/// and skip the rest without building them. Every method returns nil (or false) on anything it
/// does not expect; the caller then hands the line to the full decoder, whose message names
/// what is wrong.
struct JSONScanner {
    let base: UnsafePointer<UInt8>
    var position: Int
    let end: Int

    private static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")

    mutating func skipSpace() {
        while position < end {
            switch base[position] {
            case 0x20, 0x09, 0x0D, 0x0A: position += 1
            default: return
            }
        }
    }

    mutating func consume(_ byte: UInt8) -> Bool {
        skipSpace()
        guard position < end, base[position] == byte else { return false }
        position += 1
        return true
    }

    var atEnd: Bool { mutating get { skipSpace(); return position >= end } }

    /// A string without escapes, as a range of bytes (escapes are rare in records: fall back).
    mutating func rawString() -> Range<Int>? {
        guard consume(JSONScanner.quote) else { return nil }
        let start = position
        while position < end {
            let byte = base[position]
            if byte == JSONScanner.quote { position += 1; return start..<(position - 1) }
            if byte == JSONScanner.backslash || byte < 0x20 { return nil }
            position += 1
        }
        return nil
    }

    /// The bytes of `range` (valid while the line's buffer is).
    func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    mutating func string() -> String? {
        guard let range = rawString() else { return nil }
        return String(decoding: UnsafeBufferPointer(start: base + range.lowerBound, count: range.count), as: UTF8.self)
    }

    /// True when the bytes of `range` spell `text`.
    /// Compared byte by byte in place: keys are a few bytes, where a call to memcmp cost more
    /// than the comparison (a record has some thirty keys).
    func equals(_ range: Range<Int>, _ text: StaticString) -> Bool {
        guard range.count == text.utf8CodeUnitCount else { return false }
        let bytes = base + range.lowerBound, expected = text.utf8Start
        for index in 0..<range.count where bytes[index] != expected[index] { return false }
        return true
    }

    mutating func number() -> Double? {
        // strtod alone would take what JSON does not ("01", "0x10", "inf"): the grammar first,
        // which gathers the digits as it checks them (`DecimalText.double` in the same pass).
        guard let text = numberText(gathering: true) else { return nil }
        if text.significantDigits <= 19, text.exponentDigits < 6,
           let magnitude = DecimalText.eiselLemire(text.mantissa, text.exponent - text.fractionDigits) {
            position = text.end
            return text.negative ? -magnitude : magnitude
        }
        // Lines end in a newline or a 0 byte that the reader guarantees, so strtod stops in bounds.
        var stop: UnsafeMutablePointer<CChar>?
        let value = (base + position).withMemoryRebound(to: CChar.self, capacity: 1) { strtod($0, &stop) }
        guard let stop else { return nil }
        let consumed = stop.withMemoryRebound(to: UInt8.self, capacity: 1) { UnsafePointer($0) } - (base + position)
        // Out of Double's range (1e999): the full decoder judges the line.
        guard consumed > 0, position + consumed == text.end, value.isFinite else { return nil }
        position += consumed
        return value
    }

    /// A number converted only when its text says it may reach 10^`exponent` in size: below that,
    /// it is skipped and 0 returned (the caller needs nothing below the bound). Its size is read
    /// from the text: the digits before the point, and the exponent.
    mutating func numberIfAtLeast(exponent bound: Int) -> Double? {
        guard let text = numberText(gathering: false) else { return nil }
        // The value is below 10^(integer digits + exponent) (below 10^exponent without any).
        guard max(text.integerDigits, 1) + text.exponent > bound else { position = text.end; return 0 }
        return number()
    }

    /// A number converted only when its text says it may be below 10^`exponent` (or is zero or
    /// negative): at or above that, it is skipped and 10^`exponent` returned (the caller needs
    /// only to know it is not below). Only values certain to be finite are skipped.
    mutating func numberIfBelow(exponent bound: Int) -> Double? {
        guard let text = numberText(gathering: false) else { return nil }
        // The power of ten of the first significant digit: 2 for 123.4, -3 for 0.0012.
        let first = text.integerDigits > 0 ? text.integerDigits - 1 + text.exponent
            : text.fractionZeros.map { text.exponent - $0 - 1 }
        guard !text.negative, let first, first >= bound, first <= 300 else { return number() }
        position = text.end
        return JSONScanner.powerOfTen(bound)
    }

    /// 10^`exponent`, as `pow` gives it (computed once per exponent: the bounds are a few).
    private static func powerOfTen(_ exponent: Int) -> Double {
        let index = exponent + 30
        return powersOfTen.indices.contains(index) ? powersOfTen[index] : pow(10, Double(exponent))
    }
    private static let powersOfTen = (-30...30).map { pow(10, Double($0)) }

    /// The parts of the number at the position that tell its size, without converting it, and
    /// where it ends; nil when the text is not a JSON number. The position does not move.
    /// The parts of a number's text: its size (`integerDigits`, `fractionZeros`, `exponent`) and,
    /// gathered in the same pass, its value as `DecimalText.double` reads it: the significant
    /// digits as an integer (`mantissa`, exact while `significantDigits` is 19 or fewer), the
    /// digits after the point, and how many digits the exponent has.
    private struct NumberText {
        var end: Int, negative: Bool, integerDigits: Int, fractionZeros: Int?, exponent: Int
        var mantissa: UInt64, significantDigits: Int, fractionDigits: Int, exponentDigits: Int
    }

    /// `gathering` false leaves the value's parts at zero: a number only compared with a bound
    /// (most of a record's) is not worth them.
    @inline(__always)
    private mutating func numberText(gathering: Bool) -> NumberText? {
        skipSpace()
        // JSON's number grammar, strictly: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
        func isDigit(_ index: Int) -> Bool { index < end && base[index] >= UInt8(ascii: "0") && base[index] <= UInt8(ascii: "9") }
        var index = position
        let negative = index < end && base[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard isDigit(index) else { return nil }
        var integerDigits = 0, mantissa: UInt64 = 0, significantDigits = 0, fractionDigits = 0
        // Leading zeros are not significant; past 19 digits the mantissa is not exact (counted only).
        func gather(_ digit: UInt8) {
            if gathering, mantissa != 0 || digit != 0 {
                if significantDigits < 19 { mantissa = mantissa &* 10 &+ UInt64(digit) }
                significantDigits += 1
            }
        }
        if base[index] == UInt8(ascii: "0") { index += 1 } else {
            while isDigit(index) { gather(base[index] - UInt8(ascii: "0")); integerDigits += 1; index += 1 }
        }
        // Zeros after the point before its first other digit (nil when there is none).
        var fractionZeros: Int?
        if index < end, base[index] == UInt8(ascii: ".") {
            index += 1
            guard isDigit(index) else { return nil }
            var zeros = 0
            while isDigit(index) {
                if fractionZeros == nil { if base[index] == UInt8(ascii: "0") { zeros += 1 } else { fractionZeros = zeros } }
                gather(base[index] - UInt8(ascii: "0")); if gathering { fractionDigits += 1 }
                index += 1
            }
        }
        var exponent = 0, exponentDigits = 0
        if index < end, base[index] == UInt8(ascii: "e") || base[index] == UInt8(ascii: "E") {
            index += 1
            var negative = false
            if index < end, base[index] == UInt8(ascii: "-") || base[index] == UInt8(ascii: "+") {
                negative = base[index] == UInt8(ascii: "-"); index += 1
            }
            guard isDigit(index) else { return nil }
            var digits = 0
            while isDigit(index) {
                if digits < 6 { exponent = exponent * 10 + Int(base[index] - UInt8(ascii: "0")) }
                digits += 1; index += 1
            }
            if digits >= 6 { exponent = 100_000 }
            if negative { exponent = -exponent }
            exponentDigits = digits
        }
        return NumberText(end: index, negative: negative, integerDigits: integerDigits, fractionZeros: fractionZeros,
                          exponent: exponent, mantissa: mantissa, significantDigits: significantDigits,
                          fractionDigits: fractionDigits, exponentDigits: exponentDigits)
    }

    mutating func integer() -> Int? {
        skipSpace()
        let start = position
        var negative = false, value = 0, digits = 0
        if position < end && base[position] == UInt8(ascii: "-") { negative = true; position += 1 }
        while position < end, base[position] >= UInt8(ascii: "0"), base[position] <= UInt8(ascii: "9"), digits < 16 {
            value = value * 10 + Int(base[position] - UInt8(ascii: "0"))
            position += 1; digits += 1
        }
        // JSON allows no leading zero ("01"); `number` refuses it.
        let leadingZero = digits > 1 && base[start + (negative ? 1 : 0)] == UInt8(ascii: "0")
        if digits > 0, !leadingZero, position < end, !JSONScanner.continuesNumber(base[position]) { return negative ? -value : value }
        // A fraction, an exponent or a very long number: let strtod judge it.
        position = start
        guard let number = number(), number == number.rounded(), abs(number) < 1e15 else { return nil }
        return Int(number)
    }

    /// Skips a number without converting it: only its characters are checked.
    mutating func skipNumber() -> Bool {
        skipSpace()
        let start = position
        while position < end, JSONScanner.continuesNumber(base[position]) || base[position] == UInt8(ascii: "-") { position += 1 }
        guard position > start else { return false }
        let first = base[start]
        return first == UInt8(ascii: "-") || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"))
    }

    private static func continuesNumber(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e")
            || byte == UInt8(ascii: "E") || byte == UInt8(ascii: "+")
    }

    mutating func bool() -> Bool? {
        skipSpace()
        if literal("true") { return true }
        if literal("false") { return false }
        return nil
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard position + count <= end, memcmp(base + position, word.utf8Start, count) == 0 else { return false }
        position += count
        return true
    }

    /// Arrays and objects deeper than this are left to the full decoder (which refuses them too).
    /// Skipping recurses once per level: a pod-written line of 2 million `[` overflowed the stack.
    static let maximumDepth = 512

    /// Skips one value of any shape; the range it spanned, or nil when it is not valid JSON.
    mutating func skipValue(depth: Int = 0) -> Range<Int>? {
        skipSpace()
        guard position < end else { return nil }
        let start = position
        switch base[position] {
        case JSONScanner.quote:
            position += 1
            while position < end {
                // Jump to the next quote; it closes the string unless an odd run of backslashes
                // escapes it.
                guard let found = memchr(base + position, Int32(JSONScanner.quote), end - position) else { return nil }
                let quoteAt = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                var slashes = 0
                while quoteAt - slashes - 1 >= position && base[quoteAt - slashes - 1] == JSONScanner.backslash { slashes += 1 }
                position = quoteAt + 1
                if slashes % 2 == 0 { return start..<position }
            }
            return nil
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            guard depth < JSONScanner.maximumDepth else { return nil }
            let isObject = base[position] == UInt8(ascii: "{")
            position += 1
            if consume(isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) { return start..<position }
            while true {
                if isObject {
                    guard rawStringOrEscaped(), consume(UInt8(ascii: ":")) else { return nil }
                }
                guard skipValue(depth: depth + 1) != nil else { return nil }
                if consume(UInt8(ascii: ",")) { continue }
                guard consume(isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) else { return nil }
                return start..<position
            }
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            return bool() != nil ? start..<position : nil
        case UInt8(ascii: "n"):
            return literal("null") ? start..<position : nil
        default:
            return skipNumber() ? start..<position : nil
        }
    }

    private mutating func rawStringOrEscaped() -> Bool {
        skipSpace()
        guard position < end, base[position] == JSONScanner.quote else { return false }
        return skipValue() != nil
    }
}
