/// Where a launch's message buffers came from under the `hugepages` knob (records'
/// `environment.hugePages`): how many every rank mapped from the pod's hugetlbfs, how many fell
/// back to ordinary pages, and the first reason one did. Said per record, so that a point whose
/// buffers were not huge pages is never taken for one whose were.
public struct HugePageBuffers: Codable, Equatable, Sendable {
    /// What a `hugepages` pod tells its ranks: the hugetlbfs folder their buffers come from.
    public static let variable = "PODGAP_HUGEPAGES"

    /// The hugetlbfs folder the buffers were asked of (the pod's /dev/hugepages).
    public var folder: String
    /// Buffers mapped from that hugetlbfs (checked to be hugetlbfs, with its page size).
    public var huge: Int
    /// Buffers that could not be, and came from ordinary pages instead.
    public var ordinary: Int
    /// The huge page size in bytes, where a buffer got one.
    public var pageBytes: Int?
    /// Why the first buffer that fell back did.
    public var reason: String?

    public init(folder: String, huge: Int = 0, ordinary: Int = 0, pageBytes: Int? = nil, reason: String? = nil) {
        self.folder = folder; self.huge = huge; self.ordinary = ordinary; self.pageBytes = pageBytes; self.reason = reason
    }

    /// True when every buffer of every rank came from huge pages.
    public var allHuge: Bool { huge > 0 && ordinary == 0 }

    /// The ranks' tallies as one: counts summed, the first reason kept.
    public static func combined(_ ranks: [HugePageBuffers]) -> HugePageBuffers? {
        guard var total = ranks.first else { return nil }
        for rank in ranks.dropFirst() {
            total.huge += rank.huge
            total.ordinary += rank.ordinary
            total.pageBytes = total.pageBytes ?? rank.pageBytes
            total.reason = total.reason ?? rank.reason
        }
        return total
    }
}
