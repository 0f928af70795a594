import Foundation
import Records

/// The counters of one record, with what the WHY section pairs them by. Read apart from
/// `RecordFacts` on purpose: this file is the one place a report takes counters out of records,
/// so that a new records reader can take it over at one function (`read`).
public struct CounterFacts: Sendable {
    public var environment: String
    public var point: PointKey
    /// The suite round, nil outside rounds (then `trial` tells launches apart).
    public var round: Int?
    public var trial: Int
    /// Iterations in the region (warm-up and timed): the messages of a message kernel.
    public var iterations: Int
    public var counters: Counters

    public init(environment: String, point: PointKey, round: Int?, trial: Int, iterations: Int, counters: Counters) {
        self.environment = environment; self.point = point; self.round = round; self.trial = trial
        self.iterations = iterations; self.counters = counters
    }

    /// Every record with counters in `files` (verified ones only, as the gaps use). Lines without
    /// `"counters"` are passed over undecoded: most records of a large report carry none.
    public static func read(_ files: [String]) -> [CounterFacts] {
        let marker = Data("\"counters\"".utf8)
        var facts: [CounterFacts] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            for line in data.split(separator: UInt8(ascii: "\n")) where line.range(of: marker) != nil {
                guard let record = try? JSONDecoder().decode(Record.self, from: Data(line)),
                      let counters = record.counters, record.verified else { continue }
                let point = PointKey(kernel: record.kernel, parameters: RecordFacts.canonical(record.params),
                                     ranks: record.ranks, bytes: record.params["bytes"]?.doubleValue)
                facts.append(CounterFacts(environment: record.environment.name, point: point, round: record.round,
                                          trial: record.trial, iterations: record.warmup + record.iterations,
                                          counters: counters))
            }
        }
        return facts
    }
}
