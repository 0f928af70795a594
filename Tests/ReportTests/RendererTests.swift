import Foundation
import Testing
@testable import Report

@Suite struct RendererTests {
    /// Three environments, three trials, two sizes, plus a train kernel measured in one trial only
    /// (no interval possible: every format must still print no NaN).
    static func analysis() throws -> Analysis {
        var facts = Fixtures.twoEnvironments()
        for trial in 1...3 {
            facts.append(Fixtures.fact("native-2node", bytes: 8, trial: trial, seconds: Double(trial) * 5e-6))
            facts.append(Fixtures.fact("native-2node", bytes: 1024, trial: trial, seconds: Double(trial) * 50e-6))
        }
        facts.append(Fixtures.fact("native-shm", bytes: nil, trial: 1, seconds: 0.5, kernel: "train"))
        facts.append(Fixtures.fact("native-tcp", bytes: nil, trial: 1, seconds: 0.6, kernel: "train"))
        return try Analysis.build(facts, skipped: [SkippedEnvironment(environment: "pod-rdma", reason: "no RDMA devices here")],
                                  options: .init(baseline: "native-shm"))
    }

    @Test func noFormatPrintsNaNOrInfinity() throws {
        let analysis = try RendererTests.analysis()
        for format in ReportFormat.allCases {
            let text = format.render(analysis)
            #expect(text.range(of: #"(?i)\bnan\b|\binf\b|infinity"#, options: .regularExpression) == nil, "\(format) printed NaN or infinity")
            // CSV is one row per pair, for pandas; every human-facing format names what was skipped.
            #expect(format == .osu || format == .csv || text.contains("pod-rdma"), "\(format) does not name the skipped environment")
        }
    }

    @Test func csvParsesBackOneRowPerPair() throws {
        let analysis = try RendererTests.analysis()
        let rows = CSV.parse(ReportFormat.csv.render(analysis))
        #expect(rows.first == CSVRenderer.header)
        let body = rows.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(CSVRenderer.header, $0)) }
        #expect(body.count == analysis.comparisons.count)
        // Parameters hold commas: quoting must keep them in one cell.
        let small = try #require(body.first { $0["environment"] == "native-tcp" && $0["bytes"] == "8.0" })
        #expect(small["parameters"] == "bytes=8,dtype=float32")
        #expect(abs(Double(small["gap"]!)! - 3) < 1e-9)
        #expect(small["verdict"] == "slower")
        let train = try #require(body.first { $0["kernel"] == "train" })
        #expect(train["ci_low"] == "" && train["p_value"] != "")
    }

    @Test func markdownAndTableShowHeadlinesAndColourOnlyWhenAsked() throws {
        let analysis = try RendererTests.analysis()
        let markdown = ReportFormat.markdown.render(analysis)
        #expect(markdown.contains("| native-tcp | allreduce | small-message latency (8 B) | +300.0% ["))
        #expect(markdown.contains("## Attribution"))
        let plain = TableRenderer(colour: false).render(analysis)
        #expect(!plain.contains("\u{1B}["))
        #expect(plain.contains("native-tcp -> native-2node"))
        let coloured = TableRenderer(colour: true).render(analysis)
        #expect(coloured.contains("\u{1B}[31mslower"))
    }

    @Test func osuBlocksCarryTheMedians() throws {
        let analysis = try RendererTests.analysis()
        let text = ReportFormat.osu.render(analysis)
        let blocks = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(blocks.count == 3)
        let tcp = try #require(blocks.first { $0.contains("environment native-tcp") })
        let rows = tcp.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: " ").map(String.init) }
        // native-tcp medians: 8 us at 8 B, 80 us at 1 KiB.
        #expect(rows == [["8", "8.00"], ["1024", "80.00"]])
    }

    @Test func htmlIsSelfContainedWithEveryChartAndItsData() throws {
        let analysis = try RendererTests.analysis()
        let html = ReportFormat.html.render(analysis)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(!html.contains("<script") && !html.contains("<link") && !html.contains("src=\""))
        for chart in ["latency", "bandwidth", "gaps", "attribution"] {
            #expect(html.contains("data-chart=\"\(chart)\""), "chart \(chart) is missing")
        }
        // Latency series: one per environment, points are (bytes, median in us).
        let latency = try #require(HTML.chart("latency", in: html))
        let series = HTML.attributes("data-environment", in: latency)
        #expect(series == ["native-shm", "native-tcp", "native-2node"])
        let points = HTML.attributes("data-points", in: latency)
        let tcp = HTML.pairs(points[1])
        #expect(tcp.count == 2 && tcp[0][0] == 8 && tcp[1][0] == 1024)
        #expect(abs(tcp[0][1] - 8) < 1e-9 && abs(tcp[1][1] - 80) < 1e-9)
        // Bandwidth: bytes / median * 2(n-1)/n / 1e9 for allreduce on 2 ranks: 8 B / 8 us = 0.001 GB/s.
        let bandwidth = try #require(HTML.chart("bandwidth", in: html))
        let tcpBandwidth = HTML.pairs(HTML.attributes("data-points", in: bandwidth)[1])
        #expect(abs(tcpBandwidth[0][1] - 0.001) < 1e-12)
        // Gap bars: one per headline, the gap and interval of the comparison behind it.
        let gaps = try #require(HTML.chart("gaps", in: html))
        let values = HTML.attributes("data-gap", in: gaps).compactMap(Double.init).sorted()
        let expected = analysis.environments.filter { $0 != analysis.baseline }.flatMap { analysis.headlines[$0]! }.map(\.gap).sorted()
        #expect(values.count == expected.count)
        for (value, want) in zip(values, expected) { #expect(abs(value - want) < 1e-9) }
        // The latency headline of native-tcp: +300% with its interval as whiskers.
        #expect(HTML.attributes("data-gap", in: gaps).contains { abs((Double($0) ?? 0) - 3) < 1e-9 })
        let attribution = try #require(HTML.chart("attribution", in: html))
        #expect(HTML.attributes("data-label", in: attribution).contains("native-tcp → native-2node"))
    }
}

/// Just enough CSV (RFC 4180) to read back what the renderer wrote.
enum CSV {
    static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        var characters = Array(text)[...]
        while let c = characters.popFirst() {
            if quoted {
                if c == "\"" {
                    if characters.first == "\"" { field.append("\""); characters.removeFirst() } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == "," { row.append(field); field = "" }
            else if c == "\n" { row.append(field); rows.append(row); row = []; field = "" }
            else { field.append(c) }
        }
        return rows
    }
}

/// Reads the `data-` attributes the charts carry.
enum HTML {
    static func chart(_ kind: String, in html: String) -> String? {
        guard let start = html.range(of: "data-chart=\"\(kind)\"") else { return nil }
        guard let end = html.range(of: "</svg>", range: start.upperBound..<html.endIndex) else { return nil }
        return String(html[start.lowerBound..<end.upperBound])
    }

    static func attributes(_ name: String, in text: String) -> [String] {
        let regex = try! NSRegularExpression(pattern: "\(name)=\"([^\"]*)\"")
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).map {
            String(text[Range($0.range(at: 1), in: text)!])
        }
    }

    static func pairs(_ text: String) -> [[Double]] {
        text.split(separator: ",").map { $0.split(separator: ":").map { Double($0) ?? .nan } }
    }
}
