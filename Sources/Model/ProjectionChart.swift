import Foundation

/// A self-contained HTML page: throughput against GPUs, one line per environment (inline SVG, no
/// scripts), then the projection table.
public enum ProjectionChart {
    static let colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]

    public static func html(_ points: [ProjectedPoint], title: String) -> String {
        let width = 640.0, height = 360.0, left = 70.0, right = 170.0, top = 20.0, bottom = 50.0
        let gpus = Array(Set(points.map(\.gpus))).sorted()
        let environments = points.reduce(into: [String]()) { if !$0.contains($1.environment) { $0.append($1.environment) } }
        let highest = max(points.map(\.throughput).max() ?? 1, 1e-9) * 1.1
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        func x(_ count: Int) -> Double {
            guard let first = gpus.first, let last = gpus.last, last > first else { return left + plotWidth / 2 }
            return left + Double(count - first) / Double(last - first) * plotWidth
        }
        func y(_ value: Double) -> Double { top + plotHeight - value / highest * plotHeight }
        var svg = ["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">"]
        svg.append(line(left, top + plotHeight, left + plotWidth, top + plotHeight, "#000"))
        svg.append(line(left, top, left, top + plotHeight, "#000"))
        for count in gpus {
            svg.append("<text x=\"\(fmt(x(count)))\" y=\"\(fmt(top + plotHeight + 16))\" text-anchor=\"middle\">\(count)</text>")
        }
        for step in 0...4 {
            let value = highest * Double(step) / 4
            svg.append(line(left - 4, y(value), left, y(value), "#000"))
            svg.append("<text x=\"\(fmt(left - 6))\" y=\"\(fmt(y(value) + 4))\" text-anchor=\"end\">\(String(format: "%.0f", value))</text>")
        }
        svg.append("<text x=\"\(fmt(left + plotWidth / 2))\" y=\"\(fmt(height - 12))\" text-anchor=\"middle\">GPUs</text>")
        svg.append("<text x=\"14\" y=\"\(fmt(top + plotHeight / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(fmt(top + plotHeight / 2)))\">samples/s</text>")
        for (index, environment) in environments.enumerated() {
            let colour = colours[index % colours.count]
            let mine = points.filter { $0.environment == environment }.sorted { $0.gpus < $1.gpus }
            let path = mine.map { "\(fmt(x($0.gpus))),\(fmt(y($0.throughput)))" }.joined(separator: " ")
            svg.append("<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(path)\"><title>\(escape(environment))</title></polyline>")
            for point in mine { svg.append("<circle cx=\"\(fmt(x(point.gpus)))\" cy=\"\(fmt(y(point.throughput)))\" r=\"3\" fill=\"\(colour)\"/>") }
            let legendY = top + 10 + Double(index) * 18
            svg.append(line(left + plotWidth + 12, legendY, left + plotWidth + 32, legendY, colour))
            svg.append("<text x=\"\(fmt(left + plotWidth + 36))\" y=\"\(fmt(legendY + 4))\">\(escape(environment))</text>")
        }
        svg.append("</svg>")
        let table = Projection.table(points, format: .markdown)
        let rows = table.rows.map { "<tr>" + $0.map { "<td>\(escape($0))</td>" }.joined() + "</tr>" }.joined(separator: "\n")
        return """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}</style>
            </head><body>
            <h1>\(escape(title))</h1>
            \(svg.joined(separator: "\n"))
            <table><tr>\(table.headings.map { "<th>\(escape($0))</th>" }.joined())</tr>
            \(rows)
            </table>
            </body></html>

            """
    }

    private static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ colour: String) -> String {
        "<line x1=\"\(fmt(x1))\" y1=\"\(fmt(y1))\" x2=\"\(fmt(x2))\" y2=\"\(fmt(y2))\" stroke=\"\(colour)\" stroke-width=\"2\"/>"
    }

    private static func fmt(_ value: Double) -> String { String(format: "%.1f", value) }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
