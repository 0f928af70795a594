import Records
import Foundation

/// An SVG line chart with logarithmic axes: one line per environment over message size, with a
/// shaded band for each point's interval. Each series carries its numbers in `data-points`
/// (`x:y` pairs), so tests and scripts can read back exactly what is drawn.
struct LogLogChart {
    struct Series {
        var environment: String
        var colour: String
        /// (x, y, interval of y) sorted by x; every value positive.
        var points: [(x: Double, y: Double, band: ClosedRange<Double>?)]
    }

    var kind: String
    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series]

    let width = 860.0, height = 380.0
    let left = 72.0, right = 170.0, top = 34.0, bottom = 48.0

    func render() -> String {
        let all = series.flatMap(\.points)
        let ys = all.flatMap { [$0.y, $0.band?.lowerBound ?? $0.y, $0.band?.upperBound ?? $0.y] }.filter { $0 > 0 && $0.isFinite }
        let xs = all.map(\.x).filter { $0 > 0 && $0.isFinite }
        guard let xMin = xs.min(), let xMax = xs.max(), let yMin = ys.min(), let yMax = ys.max() else { return "" }
        let lx0 = log2(xMin), lx1 = max(log2(xMax), log2(xMin) + 1)
        var ly0 = floor(log10(yMin) * 4) / 4, ly1 = ceil(log10(yMax) * 4) / 4
        if ly1 - ly0 < 0.5 { ly0 -= 0.25; ly1 += 0.25 }
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        func px(_ x: Double) -> Double { left + (log2(x) - lx0) / (lx1 - lx0) * plotWidth }
        func py(_ y: Double) -> Double { top + plotHeight - (log10(y) - ly0) / (ly1 - ly0) * plotHeight }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }

        var svg = "<svg class=\"chart\" data-chart=\"\(kind)\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\">\n"
        svg += "<title>\(escapeXML(title))</title>\n"
        svg += "<text x=\"\(f(left))\" y=\"20\" class=\"chart-title\">\(escapeXML(title))</text>\n"
        // Grid and ticks: powers of two along x (thinned to at most 12 labels), 1-2-5 along y.
        let xTicks = Array(Int(ceil(lx0))...Int(floor(lx1)))
        let stride = max(1, Int(ceil(Double(xTicks.count) / 12)))
        for (index, power) in xTicks.enumerated() where index % stride == 0 {
            let x = px(pow(2, Double(power)))
            svg += "<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(top + plotHeight))\" class=\"grid\"/>"
            svg += "<text x=\"\(f(x))\" y=\"\(f(top + plotHeight + 16))\" class=\"tick\" text-anchor=\"middle\">\(ByteCount.format(pow(2, Double(power))))</text>\n"
        }
        for decade in Int(floor(ly0))...Int(ceil(ly1)) {
            for multiple in [1.0, 2.0, 5.0] {
                let value = multiple * pow(10, Double(decade))
                let l = log10(value)
                guard l >= ly0 - 1e-9, l <= ly1 + 1e-9 else { continue }
                let y = py(value)
                svg += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y))\" class=\"grid\"/>"
                svg += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" class=\"tick\" text-anchor=\"end\">\(LogLogChart.tick(value))</text>\n"
            }
        }
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" class=\"frame\"/>\n"
        svg += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 8))\" class=\"axis\" text-anchor=\"middle\">\(escapeXML(xLabel))</text>\n"
        svg += "<text x=\"16\" y=\"\(f(top + plotHeight / 2))\" class=\"axis\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(f(top + plotHeight / 2)))\">\(escapeXML(yLabel))</text>\n"
        for (index, s) in series.enumerated() {
            let data = s.points.map { "\(NumberText.number($0.x)):\(NumberText.number($0.y))" }.joined(separator: ",")
            svg += "<g class=\"series\" data-environment=\"\(escapeXML(s.environment))\" data-points=\"\(data)\">\n"
            let banded = s.points.filter { $0.band != nil }
            if banded.count >= 2 {
                let upper = banded.map { "\(f(px($0.x))),\(f(py(max($0.band!.upperBound, yMin))))" }
                let lower = banded.reversed().map { "\(f(px($0.x))),\(f(py(max($0.band!.lowerBound, yMin))))" }
                svg += "<polygon class=\"band\" points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(s.colour)\" fill-opacity=\"0.18\" stroke=\"none\"/>\n"
            }
            let line = s.points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            svg += "<polyline points=\"\(line)\" fill=\"none\" stroke=\"\(s.colour)\" stroke-width=\"2\"/>\n"
            for p in s.points {
                svg += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"2.5\" fill=\"\(s.colour)\"><title>\(escapeXML(s.environment)) \(ByteCount.format(p.x)) B: \(LogLogChart.tick(p.y))</title></circle>\n"
            }
            let legendY = top + 14 + Double(index) * 18
            svg += "<line x1=\"\(f(width - right + 14))\" y1=\"\(f(legendY - 4))\" x2=\"\(f(width - right + 34))\" y2=\"\(f(legendY - 4))\" stroke=\"\(s.colour)\" stroke-width=\"3\"/>"
            svg += "<text x=\"\(f(width - right + 40))\" y=\"\(f(legendY))\" class=\"legend\">\(escapeXML(s.environment))</text>\n</g>\n"
        }
        return svg + "</svg>\n"
    }

    static func tick(_ value: Double) -> String {
        if value >= 1000 || value < 0.01 { return String(format: "%g", value) }
        return String(format: "%g", (value * 1000).rounded() / 1000)
    }
}
