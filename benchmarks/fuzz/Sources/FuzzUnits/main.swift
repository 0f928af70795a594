import Foundation
import FuzzSupport
import Pods
import Records

/// The size and duration parsers. Besides not crashing or hanging:
/// - a size parses to 1 byte ... 1 TiB, and ByteCount.format gives text that parses to it again;
/// - a sweep is a non-empty list of such sizes, rising where it is LOW:HIGH;
/// - a duration is finite and positive;
/// - a pod memory limit is at least 4 MiB.
func fuzzUnits(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = text(start, count)
    if let bytes = try? ByteCount.parse(input) {
        expect((1...(1 << 40)).contains(bytes), "'\(input)' parsed to \(bytes) bytes")
        let formatted = ByteCount.format(bytes)
        expect((try? ByteCount.parse(formatted)) == bytes, "'\(input)' -> \(bytes) -> '\(formatted)' does not parse back")
    }
    if let sizes = try? ByteCount.parseSweep(input) {
        expect(!sizes.isEmpty && sizes.allSatisfy { (1...(1 << 40)).contains($0) }, "sweep '\(input)' gave \(sizes)")
        if !input.contains(",") {
            expect(zip(sizes, sizes.dropFirst()).allSatisfy { $0 < $1 }, "sweep '\(input)' does not rise: \(sizes)")
        }
    }
    if let seconds = DurationText.seconds(input) {
        expect(seconds.isFinite && seconds > 0, "duration '\(input)' gave \(seconds) s")
    }
    if let bytes = try? JobSpec.parseMemory(input) {
        expect(bytes >= 4 << 20, "memory '\(input)' gave \(bytes) bytes")
    }
    return 0
}

fuzz(fuzzUnits)
