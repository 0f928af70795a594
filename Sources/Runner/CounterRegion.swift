import Foundation
import MPI
import Probes
import Records

/// The system counters of one launch, read per point: every rank reads them once before the first
/// point and again as each point's record is made, outside the kernel's clock (the kernel hands the
/// point over only after its timed loop), so a record's region is its own point. The deltas are
/// gathered to every rank and reduced (`CounterSnapshot.reduce`); the region restarts after the
/// gather, so its own messages are counted in no point.
final class CounterRegion {
    /// `PODGAP_COUNTERS=off` leaves them out: only to measure what reading them costs (an A/A of
    /// launches with and without, benchmarks/README.md "Counters").
    static var enabled: Bool { ProcessInfo.processInfo.environment["PODGAP_COUNTERS"] != "off" }

    private let reader: SystemCounters
    private var last: CounterSnapshot

    init(reader: SystemCounters = SystemCounters()) {
        self.reader = reader
        last = reader.snapshot()
    }

    /// The region since the last call (or since the start), reduced over ranks. Collective.
    func close(over communicator: Communicator) throws -> Counters {
        let now = reader.snapshot()
        let delta = now.since(last)
        let encoded = String(decoding: try JSONEncoder().encode(delta), as: UTF8.self)
        let ranks = try communicator.allgather(encoded).map { text in
            (try? JSONDecoder().decode(CounterSnapshot.self, from: Data(text.utf8)))
                ?? CounterSnapshot(unavailable: ["counters": "a rank's counters did not decode"])
        }
        // Restart the region after the gather, so that its messages fall in neither point.
        last = reader.snapshot()
        return CounterSnapshot.reduce(ranks)
    }
}
