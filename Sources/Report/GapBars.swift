import Foundation

/// Horizontal bars of gaps with their intervals as whiskers, around a zero line. Each bar carries
/// `data-gap`, `data-low` and `data-high` (fractions) for tests and scripts.
///
/// The axis is the log of the ratio (1 + gap), labelled in percent: a +1162% rung and a +5% one
/// both stay readable, where a linear axis flattened every small gap into a sliver, and +100% and
/// -50% (twice and half) sit at equal distances from zero.
struct GapBars {
    struct Bar {
        var label: String
        var group: String
        var colour: String
        var gap: Double
        var interval: ClosedRange<Double>?
    }

    var kind: String
    var title: String
    var bars: [Bar]

    let width = 860.0, labelWidth = 230.0, rowHeight = 22.0, top = 40.0, bottom = 36.0

    func render() -> String {
        guard !bars.isEmpty else { return "" }
        // The axis spans the gaps with room to spare; a whisker reaching beyond it is clipped and
        // ends in an arrow, so one wild interval does not flatten every other bar.
        let largest = bars.map { abs(GapBars.logRatio($0.gap)) }.filter(\.isFinite).max() ?? 0
        let extent = max(log(1.1), largest * 1.25)
        let plotLeft = labelWidth, plotWidth = width - labelWidth - 70
        // Rows: a heading row per group, then its bars.
        var rows: [(heading: String?, bar: Bar?)] = []
        var lastGroup: String?
        for bar in bars {
            if bar.group != lastGroup { rows.append((bar.group, nil)); lastGroup = bar.group }
            rows.append((nil, bar))
        }
        let height = top + Double(rows.count) * rowHeight + bottom
        func px(_ gap: Double) -> Double {
            plotLeft + (max(-extent, min(extent, GapBars.logRatio(gap))) + extent) / (2 * extent) * plotWidth
        }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var svg = "<svg class=\"chart\" data-chart=\"\(kind)\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\">\n"
        svg += "<title>\(escapeXML(title))</title>\n<text x=\"10\" y=\"20\" class=\"chart-title\">\(escapeXML(title))</text>\n"
        for value in GapBars.ticks(extent: extent) {
            let x = px(value)
            svg += "<line x1=\"\(f(x))\" y1=\"\(f(top - 6))\" x2=\"\(f(x))\" y2=\"\(f(height - bottom))\" class=\"\(value == 0 ? "zero" : "grid")\"/>"
            svg += "<text x=\"\(f(x))\" y=\"\(f(height - bottom + 16))\" class=\"tick\" text-anchor=\"middle\">\(NumberText.percent(value))</text>\n"
        }
        for (index, row) in rows.enumerated() {
            let y = top + Double(index) * rowHeight
            if let heading = row.heading {
                svg += "<text x=\"10\" y=\"\(f(y + 16))\" class=\"group\">\(escapeXML(heading))</text>\n"
                continue
            }
            guard let bar = row.bar else { continue }
            let lowText = NumberText.number(bar.interval?.lowerBound), highText = NumberText.number(bar.interval?.upperBound)
            svg += "<g class=\"bar\" data-label=\"\(escapeXML(bar.label))\" data-group=\"\(escapeXML(bar.group))\" data-gap=\"\(NumberText.number(bar.gap))\" data-low=\"\(lowText)\" data-high=\"\(highText)\">"
            svg += "<text x=\"\(f(labelWidth - 8))\" y=\"\(f(y + 15))\" class=\"label\" text-anchor=\"end\">\(escapeXML(bar.label))</text>"
            let x0 = px(0), x1 = px(bar.gap)
            svg += "<rect x=\"\(f(min(x0, x1)))\" y=\"\(f(y + 4))\" width=\"\(f(max(abs(x1 - x0), 1)))\" height=\"\(f(rowHeight - 8))\" fill=\"\(bar.colour)\" fill-opacity=\"0.75\"/>"
            if let interval = bar.interval {
                let a = px(interval.lowerBound), b = px(interval.upperBound), mid = y + rowHeight / 2
                svg += "<line x1=\"\(f(a))\" y1=\"\(f(mid))\" x2=\"\(f(b))\" y2=\"\(f(mid))\" class=\"whisker\"/>"
                for (x, clipped, direction) in [(a, GapBars.logRatio(interval.lowerBound) < -extent, -1.0),
                                                (b, GapBars.logRatio(interval.upperBound) > extent, 1.0)] {
                    if clipped {
                        svg += "<path d=\"M\(f(x + direction * 6)) \(f(mid)) L\(f(x)) \(f(mid - 4)) L\(f(x)) \(f(mid + 4)) Z\" class=\"arrow\"/>"
                    } else {
                        svg += "<line x1=\"\(f(x))\" y1=\"\(f(mid - 5))\" x2=\"\(f(x))\" y2=\"\(f(mid + 5))\" class=\"whisker\"/>"
                    }
                }
            }
            let interval = bar.interval.map { " [\(NumberText.percent($0.lowerBound, unit: false)), \(NumberText.percent($0.upperBound, unit: false))]" } ?? ""
            svg += "<text x=\"\(f(width - 64))\" y=\"\(f(y + 15))\" class=\"tick\">\(NumberText.percent(bar.gap))<title>\(NumberText.percent(bar.gap))\(interval)</title></text></g>\n"
        }
        return svg + "</svg>\n"
    }

    /// Where a gap sits on the axis: log(1 + gap); a gap of -100% or less (a rate that fell to
    /// nothing) at the axis's far left.
    static func logRatio(_ gap: Double) -> Double { log(max(1 + gap, 1e-3)) }

    /// Gridlines at round ratios (as gaps: -50%, 0, +100% ...) inside the axis: at most three a side,
    /// the widest that fit.
    static func ticks(extent: Double) -> [Double] {
        let ratios = [1.1, 1.25, 1.5, 2, 3, 5, 10, 20, 50, 100, 1000].filter { log($0) <= extent }
        let chosen = ratios.count <= 3 ? ratios : [ratios[ratios.count / 3 - 1], ratios[2 * ratios.count / 3 - 1], ratios[ratios.count - 1]]
        return chosen.map { 1 / $0 - 1 }.reversed() + [0] + chosen.map { $0 - 1 }
    }
}
