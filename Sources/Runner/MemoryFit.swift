import Foundation
import Kernels
import Probes

/// Sizes that cannot fit are refused before anything is allocated and before MPI starts: the
/// buffers every rank on this node will hold, against the memory the node has for them. Without
/// it a 64G allreduce aborted on every rank and a 16G one was killed by the OOM killer.
public enum MemoryFit {
    /// Throws exit 2 with one line when `need` on each of `ranksOnNode` ranks exceeds `available`.
    /// Nothing is refused when the available memory cannot be read.
    public static func check(_ need: MemoryNeed, ranksOnNode: Int, available: AvailableMemory? = .current()) throws {
        guard let available else { return }
        let ranks = max(ranksOnNode, 1)
        let (total, overflow) = need.bytes.multipliedReportingOverflow(by: ranks)
        let node = overflow ? Int.max : total
        guard Int64(node) > available.bytes else { return }
        let each = ranks > 1 ? " per rank, \(gibibytes(node)) for the \(ranks) ranks on this node" : ""
        throw RunFailure.badInput("\(need.setBy) needs \(gibibytes(need.bytes)) of buffers\(each); this node has \(gibibytes(available.bytes)) available (\(available.source)): use smaller values or fewer ranks per node")
    }

    static func gibibytes(_ bytes: some BinaryInteger) -> String {
        let value = Double(bytes) / Double(1 << 30)
        return String(format: value >= 1e6 ? "%.3g GiB" : "%.1f GiB", value)
    }
}
