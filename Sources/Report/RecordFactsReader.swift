import Records
import Foundation

/// Reads results files into facts, fast: each line is scanned for the dozen fields a
/// report needs and the rest is skipped unbuilt. A line the scanner does not accept goes to
/// `RecordReader.decode`, so bad lines get the same `FILE:LINE: reason` as everywhere else.
public final class RecordFactsReader {
    public private(set) var facts: [RecordFacts] = []
    /// Bad lines found while skipping them (`skippingBad`); empty otherwise.
    public private(set) var problems: [RecordError] = []
    private let skippingBad: Bool
    // Interned by their raw bytes: millions of records share a handful of names, parameter sets
    // and descriptors, so each is built once and found again without making a String of it.
    private var strings = ByteKeyedCache<String>()
    private var parameters = ByteKeyedCache<(canonical: String, bytes: Double?)>()
    private var descriptors = ByteKeyedCache<KernelDescriptor>()
    private var environments = ByteKeyedCache<ScannedEnvironment>()
    /// Lines the scanner passed to the full decoder (tests check the fast path takes every usual line).
    private(set) var decoded = 0
    /// Keep each record's throughput too (the exporters' formats need it; a plain report does not).
    private let details: Bool

    public init(skippingBad: Bool = false, details: Bool = false) {
        self.skippingBad = skippingBad; self.details = details
    }

    /// Reads one file; throws its first bad line unless skipping, and an empty file always.
    public func read(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw RecordError.malformed(file: path, line: 0, reason: "cannot read the file: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let before = facts.count, problemsBefore = problems.count
        var fileSize = 0
        var status = stat()
        if fstat(descriptor, &status) == 0 { fileSize = Int(status.st_size) }
        var reserved = false
        var capacity = 8 << 20
        var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity + 1)
        defer { buffer.deallocate() }
        var filled = 0, lineNumber = 0, sawEnd = false
        while !sawEnd {
            if filled == capacity {
                // One line longer than the buffer: grow it.
                let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2 + 1)
                larger.update(from: buffer, count: filled)
                buffer.deallocate()
                buffer = larger
                capacity *= 2
            }
            let count = Foundation.read(descriptor, buffer + filled, capacity - filled)
            if count < 0 {
                throw RecordError.malformed(file: path, line: lineNumber, reason: "read failed: \(String(cString: strerror(errno)))")
            }
            if count == 0 { sawEnd = true }
            filled += count
            buffer[filled] = 0
            var start = 0
            while start < filled {
                let remaining = filled - start
                guard let newline = memchr(buffer + start, 0x0A, remaining) else {
                    if !sawEnd { break }
                    lineNumber += 1
                    try line(buffer, start, filled, number: lineNumber, path: path)
                    start = filled
                    break
                }
                let stop = buffer.distance(to: newline.assumingMemoryBound(to: UInt8.self))
                lineNumber += 1
                try line(buffer, start, stop, number: lineNumber, path: path)
                start = stop + 1
            }
            // A million facts appended one by one would be copied again at every doubling: after
            // the first read, reserve what the file will hold at this read's bytes per line.
            if !reserved, facts.count > before, filled > 0 {
                reserved = true
                let perLine = Double(start) / Double(facts.count - before)
                facts.reserveCapacity(facts.count + Int(Double(fileSize) / max(perLine, 1) * 1.05))
            }
            // Keep the unfinished line for the next read.
            if start > 0 {
                buffer.update(from: buffer + start, count: filled - start)
                filled -= start
            }
        }
        if facts.count == before && problems.count == problemsBefore {
            throw RecordError.empty(file: path)
        }
    }

    private func line(_ buffer: UnsafeMutablePointer<UInt8>, _ start: Int, _ stop: Int, number: Int, path: String) throws {
        var scanner = JSONScanner(base: buffer, position: start, end: stop)
        if scanner.atEnd { return }
        if let fact = scan(&scanner) {
            facts.append(fact)
            return
        }
        let text = String(decoding: UnsafeBufferPointer(start: buffer + start, count: stop - start), as: UTF8.self)
        decoded += 1
        do {
            facts.append(RecordFacts(try RecordReader.decode(Substring(text), file: path, line: number), details: details))
        } catch let error as RecordError {
            guard skippingBad else { throw error }
            problems.append(error)
        }
    }

    private func intern(_ scanner: JSONScanner, _ range: Range<Int>) -> String {
        strings.value(scanner.bytes(range)) { String(decoding: $0, as: UTF8.self) }!
    }

    /// The fields of one record line, or nil where anything is unusual (the full decoder decides).
    private func scan(_ scanner: inout JSONScanner) -> RecordFacts? {
        var kernel: String?, params: (canonical: String, bytes: Double?)?, ranks: Int?, trial = 0, iterations = 0
        var round: Int?, position: Int?, wrong: Int?, descriptor: KernelDescriptor?, osu: OSUStatistics?
        var seconds: [Double]?, verified: Bool?, environment: ScannedEnvironment?
        var throughput: [String: Double] = [:], rateProblem: (key: String, reason: String)?
        var required = 0
        // A key read here given twice: JSONDecoder keeps the first, this scan would keep the
        // last (found by benchmarks/fuzz). The full decoder decides such lines.
        var seen = 0
        guard scanner.consume(UInt8(ascii: "{")) else { return nil }
        if scanner.consume(UInt8(ascii: "}")) { return nil }
        repeat {
            guard let key = scanner.rawString(), scanner.consume(UInt8(ascii: ":")) else { return nil }
            // One lookup per key, then a switch on where it sits in `recordKeys`.
            guard let index = RecordFactsReader.recordKeys.firstIndex(where: { scanner.equals(key, $0) }) else {
                guard scanner.skipValue() != nil else { return nil }
                continue
            }
            guard seen & (1 << index) == 0 else { return nil }
            seen |= 1 << index
            switch index {
            case 0: // schema
                guard let value = scanner.rawString(), scanner.equals(value, "podgap.record/2") || scanner.equals(value, "podgap.record/1") else { return nil }
                required |= 1
            case 1: // kernel
                guard let value = scanner.rawString() else { return nil }
                kernel = intern(scanner, value)
            case 2: // params
                guard let value = scanner.skipValue() else { return nil }
                params = canonicalParameters(scanner, value)
                if params == nil { return nil }
            case 3: ranks = scanner.integer()
            case 4, 5, 6, 7, 16, 17: // trial, round, position, wrong, warmup, iterations
                guard let value = scanner.integer() else { return nil }
                switch index {
                case 4: trial = value
                case 5: round = value
                case 6: position = value
                case 7: wrong = value
                case 16: required |= 8
                default: iterations = value; required |= 16
                }
            case 8: // descriptor
                guard let value = scanner.skipValue(), let known = self.descriptor(scanner, value) else { return nil }
                descriptor = known
            case 9: // osu
                guard let values = numbers(&scanner, RecordFactsReader.osuKeys) else { return nil }
                osu = OSUStatistics(avg: values[0], min: values[1], max: values[2])
            case 10: // seconds
                // stddev (index 5) is only checked for being finite.
                seconds = numbers(&scanner, RecordFactsReader.summaryKeys, skipping: "samples", finiteOnly: [5])
                if seconds == nil { return nil }
            case 11: // throughput
                guard scanner.consume(UInt8(ascii: "{")) else { return nil }
                if !scanner.consume(UInt8(ascii: "}")) {
                    repeat {
                        guard let name = scanner.rawString(), scanner.consume(UInt8(ascii: ":")) else { return nil }
                        // Only bandwidths have a bound (10^4 GB/s): a value written below 10^4
                        // needs no conversion unless the details are kept.
                        guard let value = details ? scanner.number() : scanner.numberIfAtLeast(exponent: 4) else { return nil }
                        if value > PhysicalBounds.fastestBandwidth || details {
                            let text = intern(scanner, name)
                            if details { throughput[text] = value }
                            if let reason = PhysicalBounds.violation(throughput: text, value: value),
                               rateProblem.map({ text < $0.key }) ?? true {
                                rateProblem = (text, reason)
                            }
                        }
                    } while scanner.consume(UInt8(ascii: ","))
                    guard scanner.consume(UInt8(ascii: "}")) else { return nil }
                }
            case 12: verified = scanner.bool()
            case 13: // environment: the same block for every record of a launch, read once
                guard let range = scanner.skipValue(),
                      let known = environments.value(scanner.bytes(range), make: { _ in
                          var inner = JSONScanner(base: scanner.base, position: range.lowerBound, end: range.upperBound)
                          guard let read = self.environment(&inner), inner.atEnd else { return nil }
                          return read
                      }) else { return nil }
                environment = known
            default: // run, time: not needed here, but the full decoder requires them
                required |= index == 14 ? 2 : 4
                guard scanner.skipValue() != nil else { return nil }
            }
        } while scanner.consume(UInt8(ascii: ","))
        guard scanner.consume(UInt8(ascii: "}")), scanner.atEnd, required == 31,
              let kernel, let ranks, let seconds, let verified, let environment else { return nil }
        let parameters = params ?? ("", nil)
        // Summary keys in `summaryKeys` order: min, p50, mean, p99, max, stddev.
        let implausible = PhysicalBounds.violation(secondsMin: seconds[0], max: seconds[4],
                                                   others: [seconds[1], seconds[2], seconds[3], seconds[5]]) ?? rateProblem?.reason
        return RecordFacts(kernel: kernel, parameters: parameters.canonical, bytes: parameters.bytes, ranks: ranks,
                           iterations: iterations, trial: trial, round: round, position: position, seconds: seconds[1], mean: seconds[2],
                           p99: seconds[3], verified: verified, implausible: implausible, environment: environment.name,
                           host: environment.host, mpiLibrary: environment.mpi, podgapVersion: environment.version,
                           probe: environment.probe, descriptor: descriptor, osu: osu, wrong: wrong, throughput: throughput)
    }

    private static let summaryKeys: [StaticString] = ["min", "p50", "mean", "p99", "max", "stddev"]
    private static let osuKeys: [StaticString] = ["avg", "min", "max"]
    private static let probeKeys: [StaticString] = ["sumGBps", "gemmGflops", "seconds"]

    /// An object whose fields are all numbers: the values of `keys` in their order, nil when one is
    /// missing or anything else is there (but `skipping`, a field of any shape).
    private func numbers(_ scanner: inout JSONScanner, _ keys: [StaticString], skipping: StaticString? = nil,
                         finiteOnly: Set<Int> = []) -> [Double]? {
        guard scanner.consume(UInt8(ascii: "{")) else { return nil }
        var values = [Double](repeating: 0, count: keys.count), seen = 0
        repeat {
            guard let key = scanner.rawString(), scanner.consume(UInt8(ascii: ":")) else { return nil }
            if let skipping, scanner.equals(key, skipping) { guard scanner.skipValue() != nil else { return nil }; continue }
            guard let index = keys.firstIndex(where: { scanner.equals(key, $0) }), seen & (1 << index) == 0 else { return nil }
            // A value the caller only checks for being finite is converted only when it is huge.
            guard let value = finiteOnly.contains(index) ? scanner.numberIfAtLeast(exponent: 300) : scanner.number() else { return nil }
            values[index] = value
            seen |= 1 << index
        } while scanner.consume(UInt8(ascii: ","))
        guard scanner.consume(UInt8(ascii: "}")), seen == (1 << keys.count) - 1 else { return nil }
        return values
    }

    private static let recordKeys: [StaticString] = ["schema", "kernel", "params", "ranks", "trial", "round", "position", "wrong",
                                                     "descriptor", "osu", "seconds", "throughput", "verified", "environment",
                                                     "run", "time", "warmup", "iterations"]

    private struct ScannedEnvironment {
        var name: String, host: String, mpi: String, version: String
        var probe: MachineProbe?
    }

    private static let environmentKeys: [StaticString] = [
        "name", "launcher", "transport", "hostname", "hostnames", "cores", "cpuset", "cgroup", "kernel",
        "mpiLibrary", "podgapVersion", "ranksPerNode", "oversubscribed", "yieldWhenIdle", "rdma",
    ]

    private func environment(_ scanner: inout JSONScanner) -> ScannedEnvironment? {
        guard scanner.consume(UInt8(ascii: "{")) else { return nil }
        var name: String?, host: String?, mpi: String?, version: String?, probe: MachineProbe?, seen = 0
        repeat {
            guard let key = scanner.rawString(), scanner.consume(UInt8(ascii: ":")) else { return nil }
            if let index = RecordFactsReader.environmentKeys.firstIndex(where: { scanner.equals(key, $0) }) {
                guard seen & (1 << index) == 0 else { return nil }
                seen |= 1 << index
                switch index {
                case 0: guard let value = scanner.rawString() else { return nil }; name = intern(scanner, value); continue
                case 8: guard let value = scanner.rawString() else { return nil }; host = intern(scanner, value); continue
                case 9: guard let value = scanner.rawString() else { return nil }; mpi = intern(scanner, value); continue
                case 10: guard let value = scanner.rawString() else { return nil }; version = intern(scanner, value); continue
                default: break
                }
            } else if scanner.equals(key, "probe") {
                guard probe == nil, let values = numbers(&scanner, RecordFactsReader.probeKeys) else { return nil }
                probe = MachineProbe(sumGBps: values[0], gemmGflops: values[1], seconds: values[2])
                continue
            }
            guard scanner.skipValue() != nil else { return nil }
        } while scanner.consume(UInt8(ascii: ","))
        guard scanner.consume(UInt8(ascii: "}")), seen == (1 << RecordFactsReader.environmentKeys.count) - 1,
              let name, let host, let mpi, let version else { return nil }
        return ScannedEnvironment(name: name, host: host, mpi: mpi, version: version, probe: probe)
    }

    /// The same `key=value` text as `RecordFacts.canonical`, cached by the object's raw bytes.
    private func canonicalParameters(_ outer: JSONScanner, _ range: Range<Int>) -> (canonical: String, bytes: Double?)? {
        // Rare path (once per distinct parameter set): decode it properly.
        parameters.value(outer.bytes(range)) { raw in
            guard let object = try? JSONDecoder().decode([String: JSONValue].self, from: Data(raw)) else { return nil }
            return (RecordFacts.canonical(object), object["bytes"]?.doubleValue)
        }
    }

    /// A kernel's descriptor, decoded once per distinct text.
    private func descriptor(_ outer: JSONScanner, _ range: Range<Int>) -> KernelDescriptor? {
        descriptors.value(outer.bytes(range)) { try? JSONDecoder().decode(KernelDescriptor.self, from: Data($0)) }
    }
}

/// Values found by the raw bytes they were made from: a hash of the bytes, then a byte compare,
/// so a hit costs no allocation. The last hit is checked first (records come in runs).
struct ByteKeyedCache<Value> {
    private var entries: [Int: [(key: [UInt8], value: Value)]] = [:]
    private var last: (key: [UInt8], value: Value)?

    /// The value for `bytes`, made by `make` (nil when it cannot be) the first time.
    mutating func value(_ bytes: UnsafeRawBufferPointer, make: (UnsafeRawBufferPointer) -> Value?) -> Value? {
        func same(_ key: [UInt8]) -> Bool {
            key.count == bytes.count && key.withUnsafeBytes { memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }
        }
        if let last, same(last.key) { return last.value }
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        let hash = hasher.finalize()
        if let found = entries[hash]?.first(where: { same($0.key) }) {
            last = found
            return found.value
        }
        guard let made = make(bytes) else { return nil }
        let entry = (key: Array(bytes), value: made)
        entries[hash, default: []].append(entry)
        last = entry
        return made
    }
}
