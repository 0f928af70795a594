/// How deeply a YAML text can nest, bounded before a parser sees it. Yams composes recursively,
/// a few stack frames per level, and overflows the stack at some thousands of levels: a 20 KB
/// profile of `[[[[...` ended podgap with a segmentation fault (found by benchmarks/fuzz). Suites
/// and profiles nest a handful of levels, so the readers refuse texts whose bound passes `maximum`.
public enum YAMLNesting {
    public static let maximum = 512

    /// An upper bound on the nesting: every flow level needs a `[` or `{` of its own, so all of
    /// them together (quoted or not: counting is safe where skipping quotes could be fooled), plus
    /// the block levels one line can reach, at most two per column of its leading spaces and
    /// `-`, `?`, `:` indicators (a block sequence may sit at its parent mapping's indentation).
    public static func bound(of text: String) -> Int {
        var openers = 0, widest = 0, leading = 0, atLineStart = true
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\n"):
                atLineStart = true; leading = 0
                continue
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                openers += 1
            default:
                break
            }
            if atLineStart {
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"):
                    leading += 1
                    widest = max(widest, leading)
                default:
                    atLineStart = false
                }
            }
        }
        return openers + 2 * widest + 2
    }

    /// Nil when `text` is shallow enough to parse, else why not, in words.
    public static func problem(in text: String) -> String? {
        bound(of: text) > maximum
            ? "nested deeper than podgap reads (brackets and indentation allow more than \(maximum) levels)"
            : nil
    }
}
