import ArgumentParser
import Foundation
import Records

/// An option's value parsed by `transform:`, with the text the user typed, which errors quote and
/// help shows as the default. One type for sizes, size sweeps and durations.
struct Typed<Value: Sendable>: CustomStringConvertible, Sendable {
    var value: Value
    var text: String

    var description: String { text }
}

extension Typed where Value == Int {
    /// A byte count: "1M", "4096", "64K".
    static func bytes(_ text: String) throws -> Typed {
        do { return Typed(value: try ByteCount.parse(text), text: text) } catch let error as ByteCount.ParseError {
            throw ValidationError(error.description)
        }
    }
}

extension Typed where Value == [Int] {
    /// A size sweep: "LOW:HIGH" powers of two, one size, or a list.
    static func sizes(_ text: String) throws -> Typed {
        do { return Typed(value: try ByteCount.parseSweep(text), text: text) } catch let error as ByteCount.ParseError {
            throw ValidationError(error.description)
        }
    }
}

extension Typed where Value == Double {
    /// A time limit in seconds: "90", "90s", "10m", "1h"; the error says what is wrong with it.
    static func seconds(_ text: String) throws -> Typed {
        if let seconds = DurationText.seconds(text) { return Typed(value: seconds, text: text) }
        let number = Double(text.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "smh")))
        if let number, number.isFinite {
            throw ValidationError("a time limit must be longer than zero; \(text) would end the job before it starts")
        }
        throw ValidationError("not a duration: use seconds, or a number with s, m or h (90, 90s, 10m, 1h)")
    }
}
