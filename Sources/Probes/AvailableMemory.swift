import Foundation

/// The memory a job may still use on this node: the cgroup's limit where one is set, MemAvailable
/// otherwise, the smaller of the two when both are known. Kernels check their buffers against it
/// before allocating, so a size that cannot fit is refused instead of crashing or swapping.
public struct AvailableMemory: Sendable, Equatable {
    public var bytes: Int64
    /// Where the number came from, for the refusal's message: "cgroup limit" or "MemAvailable".
    public var source: String

    public init(bytes: Int64, source: String) { self.bytes = bytes; self.source = source }

    /// This node's, or nil when neither /proc/meminfo nor a cgroup limit can be read.
    public static func current() -> AvailableMemory? {
        let meminfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)).flatMap(memAvailable)
        let limit = CgroupReader().limits().memoryBytes
        switch (meminfo, limit) {
        case let (free?, limit?): return limit < free ? AvailableMemory(bytes: limit, source: "cgroup limit")
                                                      : AvailableMemory(bytes: free, source: "MemAvailable")
        case let (free?, nil): return AvailableMemory(bytes: free, source: "MemAvailable")
        case let (nil, limit?): return AvailableMemory(bytes: limit, source: "cgroup limit")
        case (nil, nil): return nil
        }
    }

    /// MemAvailable from /proc/meminfo's text, in bytes ("MemAvailable:   20480 kB").
    static func memAvailable(_ text: String) -> Int64? {
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let kibibytes = Int64(fields[1]) else { return nil }
            return kibibytes * 1024
        }
        return nil
    }
}
