import Foundation

/// Scans one record line for the fields of `RecordFacts` and skips the rest unbuilt. Anything
/// unusual (an escape in a string, a key given twice, a value of an odd shape) gives nil, and
/// the reader decodes that line in full instead, so odd lines get the decoder's answer and its
/// `FILE:LINE: reason`.
///
/// A new field of `RecordFacts` is read in three places that the fuzz target
/// (benchmarks/fuzz, records) holds equal: a case of `Field` below with its key, its case in
/// `facts(_:)`'s switch, and `RecordFacts.init(_ record:)` for lines the decoder reads.
final class FactScanner {
    /// The top-level fields the scanner reads; any other key is skipped unbuilt.
    private enum Field: Int, CaseIterable {
        case schema, kernel, params, ranks, trial, round, position, wrong, descriptor, osu, seconds, throughput, verified,
             environment, run, time, warmup, iterations, counters, phases

        /// The key as it is written in a record.
        var key: StaticString {
            switch self {
            case .schema: return "schema"
            case .kernel: return "kernel"
            case .params: return "params"
            case .ranks: return "ranks"
            case .trial: return "trial"
            case .round: return "round"
            case .position: return "position"
            case .wrong: return "wrong"
            case .descriptor: return "descriptor"
            case .osu: return "osu"
            case .seconds: return "seconds"
            case .throughput: return "throughput"
            case .verified: return "verified"
            case .environment: return "environment"
            case .run: return "run"
            case .time: return "time"
            case .warmup: return "warmup"
            case .iterations: return "iterations"
            case .counters: return "counters"
            case .phases: return "phases"
            }
        }

        /// Fields the full decoder requires: a line without one of them is its to refuse.
        static let required = [Field.schema, .run, .time, .kernel, .ranks, .warmup, .iterations, .seconds, .verified, .environment]
            .reduce(0) { $0 | 1 << $1.rawValue }
        /// The fields by the length of their key: a key is compared with one or two, not all.
        static let byLength: [[(field: Field, key: StaticString)]] = (0...16).map { length in
            Field.allCases.filter { $0.key.utf8CodeUnitCount == length }.map { ($0, $0.key) }
        }

        /// The field `key` names, if the scanner reads it.
        static func named(_ key: Range<Int>, in scanner: JSONScanner) -> Field? {
            guard key.count < byLength.count else { return nil }
            return byLength[key.count].first(where: { scanner.equals(key, $0.key) })?.field
        }
    }

    /// Keep each record's throughput too (the exporters' formats need it; a plain report does not).
    let details: Bool
    /// Lines this scanner declined, decoded in full by the reader.
    var decoded = 0

    // Interned by their raw bytes: millions of records share a handful of names, parameter sets,
    // descriptors and environment blocks, so each is built once and found again without making
    // a String of it. A value whose bytes repeat the last one's is not even scanned.
    private var strings = ByteKeyedCache<String>(), kernels = ByteKeyedCache<String>()
    private var parameters = ByteKeyedCache<(canonical: String, bytes: Double?, derived: String)>()
    private var descriptors = ByteKeyedCache<KernelDescriptor>()
    private var environments = ByteKeyedCache<ScannedEnvironment>()

    /// The last line's facts, kept from line to line and changed field by field: a record repeats
    /// the last one's names, parameters and environment (interned, the same storage), so no
    /// reference is retained or released for them and no fact is built, copied or destroyed per
    /// line (that was a sixth of reading a million).
    private var current = RecordFacts(kernel: "", parameters: "", bytes: nil, ranks: 0, trial: 0, seconds: 0, verified: false,
                                      environment: "", host: "", mpiLibrary: "", podgapVersion: "")
    /// Which cached kernel name, parameter set, descriptor and environment block `current` holds
    /// (-1: none).
    private var currentKernel = -1, currentParameters = -1, currentDescriptor = -1, currentEnvironment = -1

    /// The last line's top-level keys in order, as written from the opening quote to the colon,
    /// and the field each names: records write the same keys in the same order, so a key is
    /// matched with one comparison against the one at its place last time, without being
    /// scanned or looked up.
    private let trail = KeyTrail()
    /// The same for the keys of `seconds` (six a line).
    private let secondsTrail = KeyTrail()

    init(details: Bool) { self.details = details }

    /// Hands the facts of one line to `body` and returns true, or returns false where anything is
    /// unusual (the full decoder decides). The facts are lent in place, to read during the call
    /// only (`inout` so that they are not copied; `body` must not change them).
    func read(_ line: UnsafeBufferPointer<UInt8>, _ body: (inout RecordFacts) -> Void) -> Bool {
        var scanner = JSONScanner(base: line.baseAddress!, position: 0, end: line.count)
        guard scan(&scanner) else { return false }
        body(&current)
        return true
    }

    private func intern(_ scanner: JSONScanner, _ range: Range<Int>) -> String {
        strings.value(scanner.bytes(range)) { String(decoding: $0, as: UTF8.self) }!
    }

    /// Scans one line into `current`; false (and `current` left as it may be) where the full
    /// decoder must decide.
    private func scan(_ scanner: inout JSONScanner) -> Bool {
        // The interned values by their index in their cache (-1: absent): fetched (retained)
        // only when they differ from the last line's.
        var kernel = -1, parameters = -1, descriptor = -1, environment = -1
        var ranks: Int?, trial = 0, iterations = 0
        var round: Int?, position: Int?, wrong: Int?, osu: OSUStatistics?
        var warmup = 0, counters: Counters?, phases: [String: Double] = [:]
        // Every phase's median, until the descriptor (read before or after) names its mode phase.
        var kernelPhases: [(name: String, p50: Double)] = []
        var seconds: Numbers?, verified: Bool?
        var throughput: [String: Double] = [:], rateProblem: (key: String, reason: String)?
        // A key read here given twice: JSONDecoder keeps the first, this scan would keep the
        // last (found by benchmarks/fuzz). The full decoder decides such lines.
        var seen = 0, step = 0
        guard scanner.consume(UInt8(ascii: "{")) else { return false }
        if scanner.consume(UInt8(ascii: "}")) { return false }
        repeat {
            let field: Field?
            if let tag = trail.match(step, &scanner) {
                field = Field(rawValue: tag)
            } else {
                scanner.skipSpace()
                let start = scanner.position
                guard let key = scanner.rawString(), scanner.consume(UInt8(ascii: ":")) else { return false }
                field = Field.named(key, in: scanner)
                trail.record(step, scanner.base + start, count: scanner.position - start, tag: field?.rawValue ?? -1)
            }
            step += 1
            guard let field else {
                guard scanner.skipValue() != nil else { return false }
                continue
            }
            guard seen & (1 << field.rawValue) == 0 else { return false }
            seen |= 1 << field.rawValue
            switch field {
            case .schema:
                guard let value = scanner.rawString(), scanner.equals(value, "podgap.record/2") || scanner.equals(value, "podgap.record/1") else { return false }
            case .kernel:
                guard let value = scanner.rawString(),
                      let index = kernels.index(scanner.bytes(value), make: { String(decoding: $0, as: UTF8.self) }) else { return false }
                kernel = index
            case .params:
                guard let index = self.parameters.repeated(&scanner) ?? scanner.skipValue().flatMap({ canonicalParameters(scanner, $0) }) else { return false }
                parameters = index
            case .ranks: ranks = scanner.integer()
            case .trial, .round, .position, .wrong, .warmup, .iterations:
                guard let value = scanner.integer() else { return false }
                switch field {
                case .trial: trial = value
                case .round: round = value
                case .position: position = value
                case .wrong: wrong = value
                case .iterations: iterations = value
                case .warmup: warmup = value
                default: break
                }
            case .counters:
                // Decoded whole (its own Codable, as the full decoder would): only the WHY section
                // reads it, and only records that have it pay.
                guard let range = scanner.skipValue(),
                      let read = try? JSONDecoder().decode(Counters.self, from: Data(scanner.bytes(range))) else { return false }
                counters = read
            case .phases:
                // Name -> summary; only a startup launch's phases are kept (its p50, the one sample).
                guard scanner.consume(UInt8(ascii: "{")) else { return false }
                if !scanner.consume(UInt8(ascii: "}")) {
                    repeat {
                        guard let name = scanner.rawString(), scanner.consume(UInt8(ascii: ":")),
                              let values = numbers(&scanner, FactScanner.summaryKeys, skipping: "samples") else { return false }
                        let text = intern(scanner, name)
                        if StartupPhase(rawValue: text) != nil { phases[text] = values[1] } else { kernelPhases.append((text, values[1])) }
                    } while scanner.consume(UInt8(ascii: ","))
                    guard scanner.consume(UInt8(ascii: "}")) else { return false }
                }
            case .descriptor:
                guard let index = descriptors.repeated(&scanner) ?? scanner.skipValue().flatMap({ self.descriptor(scanner, $0) }) else { return false }
                descriptor = index
            case .osu:
                guard let values = numbers(&scanner, FactScanner.osuKeys) else { return false }
                osu = OSUStatistics(avg: values[0], min: values[1], max: values[2])
            case .seconds:
                seconds = numbers(&scanner, FactScanner.summaryKeys, skipping: "samples", checks: FactScanner.summaryChecks,
                                  trail: secondsTrail)
                if seconds == nil { return false }
            case .throughput:
                guard scanner.consume(UInt8(ascii: "{")) else { return false }
                if !scanner.consume(UInt8(ascii: "}")) {
                    repeat {
                        guard let name = scanner.rawString(), scanner.consume(UInt8(ascii: ":")) else { return false }
                        // Only bandwidths have a bound (10^4 GB/s): a value written below 10^4
                        // needs no conversion unless the details are kept.
                        guard let value = details ? scanner.number() : scanner.numberIfAtLeast(exponent: 4) else { return false }
                        if value > PhysicalBounds.fastestBandwidth || details {
                            let text = intern(scanner, name)
                            if details { throughput[text] = value }
                            if let reason = PhysicalBounds.violation(throughput: text, value: value),
                               rateProblem.map({ text < $0.key }) ?? true {
                                rateProblem = (text, reason)
                            }
                        }
                    } while scanner.consume(UInt8(ascii: ","))
                    guard scanner.consume(UInt8(ascii: "}")) else { return false }
                }
            case .verified: verified = scanner.bool()
            case .environment:
                // The same block for every record of a launch: read once.
                if let index = environments.repeated(&scanner) {
                    environment = index
                    continue
                }
                guard let range = scanner.skipValue(),
                      let index = environments.index(scanner.bytes(range), make: { _ in
                          var inner = JSONScanner(base: scanner.base, position: range.lowerBound, end: range.upperBound)
                          guard let read = self.environment(&inner), inner.atEnd else { return nil }
                          return read
                      }) else { return false }
                environment = index
            case .run, .time:
                // Not needed here, but the full decoder requires them (a string, which it checks).
                guard scanner.skipValue() != nil else { return false }
            }
        } while scanner.consume(UInt8(ascii: ","))
        guard scanner.consume(UInt8(ascii: "}")), scanner.atEnd,
              seen & Field.required == Field.required,
              kernel >= 0, let ranks, let seconds, let verified, environment >= 0 else { return false }
        // Summary keys in `summaryKeys` order: min, p50, mean, p99, max, stddev.
        // Every value read is finite (`number`), so a summary inside the bounds needs no check.
        let inBounds = seconds[0] >= PhysicalBounds.shortestIteration && seconds[4] <= PhysicalBounds.longestIteration
        let implausible = (inBounds ? nil : PhysicalBounds.violation(secondsMin: seconds[0], max: seconds[4],
                                                                     others: [seconds[1], seconds[2], seconds[3], seconds[5]]))
            ?? rateProblem?.reason
        // Only what differs from the last line is stored: equal interned names are the same
        // storage, so comparing them is one word, and storing them would retain and release.
        if kernel != currentKernel { current.kernel = kernels[kernel]; currentKernel = kernel }
        if parameters != currentParameters {
            let value: (canonical: String, bytes: Double?, derived: String) = parameters < 0 ? ("", nil, "") : self.parameters[parameters]
            current.parameters = value.canonical; current.bytes = value.bytes; current.derived = value.derived
            currentParameters = parameters
        }
        if environment != currentEnvironment {
            let value = environments[environment]
            current.environment = value.name; current.host = value.host; current.mpiLibrary = value.mpi
            current.podgapVersion = value.version; current.probe = value.probe
            current.network = value.network; current.knobs = value.knobs
            currentEnvironment = environment
        }
        if descriptor != currentDescriptor { current.descriptor = descriptor < 0 ? nil : descriptors[descriptor]; currentDescriptor = descriptor }
        current.ranks = ranks; current.iterations = iterations; current.trial = trial; current.round = round
        current.position = position; current.seconds = seconds[1]; current.mean = seconds[2]; current.p99 = seconds[3]
        current.verified = verified; current.osu = osu; current.wrong = wrong; current.warmup = warmup
        if current.implausible != nil || implausible != nil { current.implausible = implausible }
        if !(current.throughput.isEmpty && throughput.isEmpty) { current.throughput = throughput }
        if current.counters != nil || counters != nil { current.counters = counters }
        if !(current.phases.isEmpty && phases.isEmpty) { current.phases = phases }
        let modePhase = current.descriptor?.modePhase
        current.modeSeconds = modePhase.flatMap { name in kernelPhases.last { $0.name == name }?.p50 }
        return true
    }

    private static let summaryKeys: [StaticString] = ["min", "p50", "mean", "p99", "max", "stddev"]
    /// What the report needs of each: min only against the 1 ns bound, max against the day
    /// (`PhysicalBounds`), stddev only finite; a value clear of its bound is not converted.
    private static let summaryChecks: [NumberCheck] = [.below(-8), .exact, .exact, .exact, .atLeast(4), .atLeast(300)]

    /// How much of a number the scanner converts.
    private enum NumberCheck {
        case exact
        /// `JSONScanner.numberIfBelow`, `JSONScanner.numberIfAtLeast`.
        case below(Int), atLeast(Int)
    }
    private static let osuKeys: [StaticString] = ["avg", "min", "max"]
    private static let probeKeys: [StaticString] = ["sumGBps", "gemmGflops", "seconds"]

    /// Up to six numbers of one object, on the stack: an array per record was a heap allocation.
    private struct Numbers {
        private var values: (Double, Double, Double, Double, Double, Double) = (0, 0, 0, 0, 0, 0)
        subscript(index: Int) -> Double {
            get { withUnsafeBytes(of: values) { $0.load(fromByteOffset: index * 8, as: Double.self) } }
            set { withUnsafeMutableBytes(of: &values) { $0.storeBytes(of: newValue, toByteOffset: index * 8, as: Double.self) } }
        }
    }

    /// An object whose fields are all numbers: the values of `keys` in their order, nil when one is
    /// missing or anything else is there (but `skipping`, a field of any shape).
    /// `trail` matches the keys against the last object's at their places (`KeyTrail`).
    private func numbers(_ scanner: inout JSONScanner, _ keys: [StaticString], skipping: StaticString? = nil,
                         checks: [NumberCheck]? = nil, trail: KeyTrail? = nil) -> Numbers? {
        guard scanner.consume(UInt8(ascii: "{")) else { return nil }
        var values = Numbers(), seen = 0, step = 0
        repeat {
            // The key's index in `keys`, -1 for the one skipped.
            let tag: Int
            if let known = trail?.match(step, &scanner) {
                tag = known
            } else {
                scanner.skipSpace()
                let start = scanner.position
                guard let key = scanner.rawString(), scanner.consume(UInt8(ascii: ":")) else { return nil }
                if let skipping, scanner.equals(key, skipping) {
                    tag = -1
                } else {
                    guard let index = keys.firstIndex(where: { scanner.equals(key, $0) }) else { return nil }
                    tag = index
                }
                trail?.record(step, scanner.base + start, count: scanner.position - start, tag: tag)
            }
            step += 1
            guard tag >= 0 else { guard scanner.skipValue() != nil else { return nil }; continue }
            let index = tag
            guard seen & (1 << index) == 0 else { return nil }
            let value: Double?
            switch checks?[index] ?? .exact {
            case .exact: value = scanner.number()
            case .below(let bound): value = scanner.numberIfBelow(exponent: bound)
            case .atLeast(let bound): value = scanner.numberIfAtLeast(exponent: bound)
            }
            guard let value else { return nil }
            values[index] = value
            seen |= 1 << index
        } while scanner.consume(UInt8(ascii: ","))
        guard scanner.consume(UInt8(ascii: "}")), seen == (1 << keys.count) - 1 else { return nil }
        return values
    }

    /// The environment's fields a report uses. A descriptor stays generic: every other field
    /// (new ones included) is skipped, but the fields the full decoder requires must be there.
    private struct ScannedEnvironment {
        var name: String, host: String, mpi: String, version: String
        var probe: MachineProbe?
        var network: String?, knobs: Knobs?
    }

    private static let environmentKeys: [StaticString] = [
        "name", "launcher", "transport", "hostname", "hostnames", "cores", "cpuset", "cgroup", "kernel",
        "mpiLibrary", "podgapVersion", "ranksPerNode", "oversubscribed", "yieldWhenIdle", "rdma",
    ]

    private func environment(_ scanner: inout JSONScanner) -> ScannedEnvironment? {
        guard scanner.consume(UInt8(ascii: "{")) else { return nil }
        var name: String?, host: String?, mpi: String?, version: String?, probe: MachineProbe?, seen = 0
        var network: String?, knobs: Knobs?, seenOptional = (network: false, knobs: false)
        repeat {
            guard let key = scanner.rawString(), scanner.consume(UInt8(ascii: ":")) else { return nil }
            if let index = FactScanner.environmentKeys.firstIndex(where: { scanner.equals(key, $0) }) {
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
                guard probe == nil, let values = numbers(&scanner, FactScanner.probeKeys) else { return nil }
                probe = MachineProbe(sumGBps: values[0], gemmGflops: values[1], seconds: values[2])
                continue
            } else if scanner.equals(key, "network") || scanner.equals(key, "knobs") {
                // Once per distinct environment block (they are cached): decoded as the full decoder would.
                let isNetwork = scanner.equals(key, "network")
                guard !(isNetwork ? seenOptional.network : seenOptional.knobs), let range = scanner.skipValue() else { return nil }
                let data = Data(scanner.bytes(range))
                if isNetwork {
                    guard let value = try? JSONDecoder().decode(String?.self, from: data) else { return nil }
                    network = value; seenOptional.network = true
                } else {
                    guard let value = try? JSONDecoder().decode(Knobs?.self, from: data) else { return nil }
                    knobs = value; seenOptional.knobs = true
                }
                continue
            }
            guard scanner.skipValue() != nil else { return nil }
        } while scanner.consume(UInt8(ascii: ","))
        guard scanner.consume(UInt8(ascii: "}")), seen == (1 << FactScanner.environmentKeys.count) - 1,
              let name, let host, let mpi, let version else { return nil }
        return ScannedEnvironment(name: name, host: host, mpi: mpi, version: version, probe: probe, network: network, knobs: knobs)
    }

    /// The same `key=value` text as `RecordFacts.canonical`, cached by the object's raw bytes.
    private func canonicalParameters(_ outer: JSONScanner, _ range: Range<Int>) -> Int? {
        // Rare path (once per distinct parameter set): decode it properly.
        parameters.index(outer.bytes(range)) { raw in
            guard let object = try? JSONDecoder().decode([String: JSONValue].self, from: Data(raw)) else { return nil }
            return (RecordFacts.canonical(object), object["bytes"]?.doubleValue, RecordFacts.canonical(object, derived: true))
        }
    }

    /// A kernel's descriptor, decoded once per distinct text (the decoder keeps it generic: a
    /// field a newer kernel adds is its to judge).
    private func descriptor(_ outer: JSONScanner, _ range: Range<Int>) -> Int? {
        descriptors.index(outer.bytes(range)) { try? JSONDecoder().decode(KernelDescriptor.self, from: Data($0)) }
    }
}

/// Keys as the last line wrote them, in order (`FactScanner.trail`), each with a tag (what the
/// scanner made of it): a fixed space of their own, outside any Swift array or stored variable,
/// so matching one retains nothing and needs no exclusivity check (it runs some thirty times a
/// line).
private final class KeyTrail {
    private static let capacity = 48, byteCapacity = 1024
    private let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: byteCapacity)
    private let entries = UnsafeMutablePointer<(start: Int, count: Int, tag: Int)>.allocate(capacity: capacity)
    /// Entries that hold the last line's keys (a key that differed cut the trail there).
    private let validCount = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    private var valid: Int {
        get { validCount.pointee }
        set { validCount.pointee = newValue }
    }

    init() { validCount.initialize(to: 0) }
    deinit { bytes.deallocate(); entries.deallocate(); validCount.deallocate() }

    /// The tag of the key at `step` when the scanner's next bytes repeat it, moved past its colon;
    /// nil when they do not.
    func match(_ step: Int, _ scanner: inout JSONScanner) -> Int? {
        guard step < valid else { return nil }
        scanner.skipSpace()
        let entry = entries[step]
        guard scanner.position + entry.count <= scanner.end else { return nil }
        let text = scanner.base + scanner.position, expected = bytes + entry.start
        for index in 0..<entry.count where text[index] != expected[index] { return nil }
        scanner.position += entry.count
        return entry.tag
    }

    /// Keeps the key at `step` (its `count` bytes from the quote to the colon) for the next line.
    func record(_ step: Int, _ key: UnsafePointer<UInt8>, count: Int, tag: Int) {
        valid = min(valid, step)
        let start = step == 0 ? 0 : entries[step - 1].start + entries[step - 1].count
        guard step == valid, step < KeyTrail.capacity, start + count <= KeyTrail.byteCapacity else { return }
        (bytes + start).update(from: key, count: count)
        entries[step] = (start, count, tag)
        valid = step + 1
    }
}

/// Values found by the raw bytes they were made from: a hash of the bytes, then a byte compare,
/// so a hit costs no allocation. Records come in runs and in the same order launch after launch,
/// so the last entry, and the one that followed it last time, are tried first with no hash.
struct ByteKeyedCache<Value> {
    private var keys: [[UInt8]] = [], values: [Value] = []
    private var byHash: [Int: [Int]] = [:]
    /// For each entry, the entry asked for right after it the last time.
    private var successors: [Int] = []
    private var last = -1

    /// The value for `bytes`, made by `make` (nil when it cannot be) the first time.
    mutating func value(_ bytes: UnsafeRawBufferPointer, make: (UnsafeRawBufferPointer) -> Value?) -> Value? {
        index(bytes, make: make).map { values[$0] }
    }

    /// The value at an index `index` or `repeated` gave.
    subscript(index: Int) -> Value { values[index] }

    /// Where the value for `bytes` is, made by `make` (nil when it cannot be) the first time:
    /// the same index for the same bytes, so a caller compares indices, not values.
    mutating func index(_ bytes: UnsafeRawBufferPointer, make: (UnsafeRawBufferPointer) -> Value?) -> Int? {
        if let guessed = guess(where: { key in key.count == bytes.count && ByteKeyedCache.same(key, bytes.baseAddress!) }) { return guessed }
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        let hash = hasher.finalize()
        if let found = byHash[hash]?.first(where: { keys[$0].count == bytes.count && ByteKeyedCache.same(keys[$0], bytes.baseAddress!) }) {
            return use(found)
        }
        guard let made = make(bytes) else { return nil }
        keys.append(Array(bytes)); values.append(made); successors.append(-1)
        byHash[hash, default: []].append(keys.count - 1)
        return use(keys.count - 1)
    }

    /// A value's index again when the scanner's next bytes repeat its text (the last value's, or
    /// the one that followed it last time), skipped without being scanned: the text was a whole
    /// JSON object, which ends where its bytes end, and the same bytes read the same.
    mutating func repeated(_ scanner: inout JSONScanner) -> Int? {
        scanner.skipSpace()
        let start = scanner.base + scanner.position, available = scanner.end - scanner.position
        guard let index = guess(where: { $0.count <= available && ByteKeyedCache.same($0, start) }) else { return nil }
        scanner.position += keys[index].count
        return index
    }

    private mutating func guess(where matches: ([UInt8]) -> Bool) -> Int? {
        guard last >= 0 else { return nil }
        if matches(keys[last]) { return last }
        let next = successors[last]
        guard next >= 0, matches(keys[next]) else { return nil }
        return use(next)
    }

    private mutating func use(_ index: Int) -> Int {
        if last >= 0 { successors[last] = index }
        last = index
        return index
    }

    private static func same(_ key: [UInt8], _ bytes: UnsafeRawPointer) -> Bool {
        key.withUnsafeBytes { memcmp($0.baseAddress!, bytes, $0.count) == 0 }
    }
}
