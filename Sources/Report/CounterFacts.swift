import Foundation
import Records

/// The counters of one record, with what the WHY section pairs them by, taken from the facts the
/// one records reader gives (`RecordFacts.counters`) as the report groups them.
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

    /// The counters of a record the one reader read (`RecordReader.facts`), nil when it has none.
    init?(_ fact: RecordFacts) {
        guard let counters = fact.counters else { return nil }
        self.init(environment: fact.environment,
                  point: PointKey(kernel: fact.kernel, parameters: fact.parameters, ranks: fact.ranks, bytes: fact.bytes),
                  round: fact.round, trial: fact.trial, iterations: fact.warmup + fact.iterations, counters: counters)
    }
}
