import Foundation
import MPI
import Probes
import Records

/// The system counters of one launch, read per point: every rank reads them once before the first
/// point and again as each point's record is made, outside the kernel's clock (the kernel hands the
/// point over only after its timed loop), so a record's region is its own point. The deltas are
/// gathered to every rank and reduced (`CounterSnapshot.reduce`); the gather's own traffic falls
/// before the next reading and so into the next point's region, a few packets among thousands.
final class CounterRegion {
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
        // Read after the gather, so that its messages are not the next point's either... but
        // they are past now: restart the region here.
        last = reader.snapshot()
        return CounterSnapshot.reduce(ranks)
    }
}
