import Foundation

/// A set of CPU numbers, as Linux writes them in cpu lists ("0-3,6").
public struct CPUSet: Equatable, Sendable {
    public var cpus: [Int]
    public var count: Int { cpus.count }
    public var isEmpty: Bool { cpus.isEmpty }

    public init(_ cpus: [Int]) { self.cpus = cpus.sorted() }

    /// This process's affinity mask, as the kernel reports it in /proc/self/status.
    public static func current() -> CPUSet {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") })
        else { return CPUSet([]) }
        return CPUSet(parsing: line.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces)) ?? CPUSet([])
    }

    /// Parses a Linux cpu list ("0-3,6"); nil when malformed (empty parts, signs, open ranges).
    public init?(parsing list: String) {
        guard !list.isEmpty else { return nil }
        var cpus: [Int] = []
        for part in list.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count <= 2, bounds.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
                  let low = Int(bounds[0]), let high = Int(bounds[bounds.count - 1]), high >= low else { return nil }
            cpus += Array(low...high)
        }
        self.init(cpus)
    }

    /// "0-3,6" style, runs collapsed.
    public var listDescription: String {
        var parts: [String] = []
        var index = 0
        while index < cpus.count {
            var end = index
            while end + 1 < cpus.count && cpus[end + 1] == cpus[end] + 1 { end += 1 }
            parts.append(end == index ? "\(cpus[index])" : "\(cpus[index])-\(cpus[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }
}
