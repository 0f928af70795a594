import Records

/// What makes two records comparable: the same kernel with the same parameters on the same
/// number of ranks.
public struct PointKey: Hashable, Comparable, Sendable {
    public var kernel: String
    public var parameters: String
    public var ranks: Int
    /// Message size, when the kernel sweeps sizes (sorting and chart axes use it).
    public var bytes: Double?

    public init(kernel: String, parameters: String, ranks: Int, bytes: Double?) {
        self.kernel = kernel; self.parameters = parameters; self.ranks = ranks; self.bytes = bytes
    }

    /// The parameters without the size: points of one sweep share it and form one curve.
    public var series: String {
        parameters.split(separator: ",").filter { !$0.hasPrefix("bytes=") && !$0.hasPrefix("count=") }
            .joined(separator: ",")
    }

    /// Short text for tables: the size when there is one, else the parameters.
    public var label: String {
        if let bytes { return ByteCount.format(bytes) }
        return parameters.isEmpty ? "-" : parameters
    }

    /// The `key=value` pairs of `parameters`; a value may hold commas (layer widths), so a piece
    /// without "=" belongs to the value before it.
    var pairs: [(key: String, value: String)] {
        var pairs: [(key: String, value: String)] = []
        for piece in parameters.split(separator: ",") {
            if let equals = piece.firstIndex(of: "=") {
                pairs.append((String(piece[..<equals]), String(piece[piece.index(after: equals)...])))
            } else if !pairs.isEmpty {
                pairs[pairs.count - 1].value += "," + piece
            }
        }
        return pairs
    }

    /// Labels that name only what differs between the points of each kernel: "4K" for a size
    /// sweep, "local=64x64" for two halo grids, "-" for a kernel measured in one configuration.
    static func labels(for keys: some Collection<PointKey>) -> [PointKey: String] {
        var labels: [PointKey: String] = [:]
        for (_, points) in Dictionary(grouping: keys, by: \.kernel) {
            let sweepSeries = Set(points.filter { $0.bytes != nil }.map(\.series))
            var values: [String: Set<String>] = [:]
            for point in points { for pair in point.pairs { values[pair.key, default: []].insert(pair.value) } }
            let varying = Set(values.filter { $0.value.count > 1 }.keys).subtracting(["bytes", "count"])
            for point in points {
                var parts = point.pairs.filter { varying.contains($0.key) }.map { "\($0.key)=\($0.value)" }
                if let bytes = point.bytes { parts = (sweepSeries.count > 1 ? parts : []) + [ByteCount.format(bytes)] }
                labels[point] = parts.isEmpty ? "-" : parts.joined(separator: " ")
            }
        }
        return labels
    }

    /// Within a kernel: ranks, series, size. Across kernels by name only; reports order kernels by
    /// their descriptors (`KernelDescriptions.precedes`).
    public static func < (a: PointKey, b: PointKey) -> Bool {
        if a.kernel != b.kernel { return a.kernel < b.kernel }
        if a.ranks != b.ranks { return a.ranks < b.ranks }
        if a.series != b.series { return a.series < b.series }
        if let x = a.bytes, let y = b.bytes, x != y { return x < y }
        return a.parameters < b.parameters
    }
}
