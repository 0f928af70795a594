import Foundation
import Records
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
            // The ecosystem's layouts (OSU, nccl-tests, OpenMetrics) have no place for it.
            let humanFacing: Set<ReportFormat> = [.table, .markdown, .html]
            #expect(!humanFacing.contains(format) || text.contains("pod-rdma"), "\(format) does not name the skipped environment")
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
        #expect(small["verdict"] == "slower" && small["pairing"] == "unpaired" && small["rounds"] == "")
        let train = try #require(body.first { $0["kernel"] == "train" })
        #expect(train["ci_low"] == "" && train["p_value"] != "")
    }

    @Test func markdownAndTableShowHeadlinesAndColourOnlyWhenAsked() throws {
        let analysis = try RendererTests.analysis()
        let markdown = ReportFormat.markdown.render(analysis)
        #expect(markdown.contains("| native-tcp | allreduce | small-message latency (8 B) | 3/3 trials (unpaired) | +300.0% ["))
        #expect(markdown.contains("## Attribution"))
        let plain = TableRenderer(colour: false).render(analysis)
        #expect(!plain.contains("\u{1B}["))
        #expect(plain.contains("native-tcp -> native-2node"))
        let coloured = TableRenderer(colour: true).render(analysis)
        #expect(coloured.contains("\u{1B}[31mslower"))
    }

    @Test func osuBlocksCarryOSUsOwnNumbers() throws {
        // Records without OSU's view: the rows say "-" and the block says why.
        let plain = ReportFormat.osu.render(try RendererTests.analysis())
        let blocks = plain.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(blocks.count == 3)
        let tcp = try #require(blocks.first { $0.contains("environment native-tcp") })
        #expect(tcp.contains("# 2 of 2 sizes: records without OSU's view"))
        let rows = tcp.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: " ").map(String.init) }
        #expect(rows == [["8", "-", "-", "-", "0"], ["1024", "-", "-", "-", "0"]])
        // With the view: per size the median over launches of avg, min and max (us).
        var facts = Fixtures.twoEnvironments()
        for index in facts.indices where facts[index].environment == "native-tcp" {
            let trial = Double(facts[index].trial)
            let avg: Double = (8 + 2 * trial) * 1e-6, low: Double = (7 + trial) * 1e-6, high: Double = (20 + trial) * 1e-6
            facts[index].osu = OSUStatistics(avg: avg, min: low, max: high)
            facts[index].iterations = 1000
        }
        let text = ReportFormat.osu.render(try Analysis.build(facts, options: .init(baseline: "native-shm")))
        let block = try #require(text.components(separatedBy: "\n\n").first { $0.contains("environment native-tcp") })
        #expect(block.contains("# Size       Avg Latency(us)   Min Latency(us)   Max Latency(us)  Iterations"))
        #expect(!block.contains("without OSU's view"))
        let numbers = block.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: " ").map(String.init) }
        // Trials 1, 2, 3: avg 10, 12, 14 -> 12; min 8, 9, 10 -> 9; max 21, 22, 23 -> 22.
        #expect(numbers == [["8", "12.00", "9.00", "22.00", "1000"], ["1024", "12.00", "9.00", "22.00", "1000"]])
    }

    /// An allreduce point as nccl-tests has it: out of place and in place at 1 MiB on 4 ranks.
    static func ncclFacts() -> [RecordFacts] {
        var facts: [RecordFacts] = []
        for trial in 1...3 {
            for (environment, scale) in [("native-shm", 1.0), ("native-tcp", 2.0)] {
                for inPlace in [false, true] {
                    // Mean time per iteration 1 ms out of place, 2 ms in place (times the scale).
                    let mean = (inPlace ? 2e-3 : 1e-3) * scale
                    var fact = RecordFacts(kernel: "allreduce",
                                           parameters: "algorithm=mpi,bytes=1048576,count=262144,dtype=float32,in_place=\(inPlace),operation=sum",
                                           bytes: 1048576, ranks: 4, iterations: 20, trial: trial, seconds: mean * 0.9, mean: mean,
                                           verified: true, environment: environment, host: "h", mpiLibrary: "m", podgapVersion: "v",
                                           descriptor: Fixtures.descriptors["allreduce"], wrong: inPlace ? nil : trial - 1)
                    fact.p99 = mean * 1.5
                    facts.append(fact)
                }
            }
        }
        return facts
    }

    @Test func ncclTestsColumnsAndBusBandwidth() throws {
        let analysis = try Analysis.build(Self.ncclFacts(), options: .init(baseline: "native-shm"))
        let text = ReportFormat.ncclTests.render(analysis)
        let block = try #require(text.components(separatedBy: "\n\n").first { $0.contains("environment native-shm") })
        let lines = block.split(separator: "\n").map(String.init)
        #expect(lines.contains("#       size         count      type   redop    root     time   algbw   busbw  #wrong     time   algbw   busbw  #wrong "))
        #expect(lines[0] == "# nccl-tests layout (podgap report): allreduce, environment native-shm, 4 ranks, algorithm=mpi,dtype=float32,operation=sum")
        let row = try #require(lines.first { !$0.hasPrefix("#") })
        // No OSU view in these records: the time is the mean per iteration, median over launches.
        // algbw = 1048576 B / 1 ms = 1.05 GB/s; busbw = algbw x 2(4-1)/4 = 1.57; in place 2 ms: 0.52, 0.79.
        // #wrong: 0 + 1 + 2 out of place; the in-place records count none.
        #expect(row.split(separator: " ").map(String.init) == ["1048576", "262144", "float", "sum", "-1",
                                                                  "1000.00", "1.05", "1.57", "3", "2000.00", "0.52", "0.79", "N/A"])
        #expect(lines.contains("# Out of bounds values : 3 FAILED"))
        // Over both sides: (1.5729 + 0.7864) / 2.
        #expect(lines.contains { $0.hasPrefix("# Avg bus bandwidth    : 1.1796") })
    }

    @Test func openMetricsFamiliesLabelsAndGaps() throws {
        var facts = Self.ncclFacts()
        for index in facts.indices {
            facts[index].round = facts[index].trial
            facts[index].position = facts[index].environment == "native-shm" ? 1 : 2
            facts[index].throughput = ["busbw_gbps": 1.5]
        }
        let analysis = try Analysis.build(facts, options: .init(baseline: "native-shm"))
        let text = ReportFormat.openmetrics.render(analysis)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.suffix(2) == ["# EOF", ""])
        // The descriptor's two metrics, each with TYPE, UNIT and HELP before its samples.
        let time = "podgap_allreduce_time_per_call_seconds", bus = "podgap_allreduce_bus_bandwidth_bytes_per_second"
        #expect(lines.contains("# TYPE \(time) summary") && lines.contains("# UNIT \(time) seconds"))
        #expect(lines.contains("# TYPE \(bus) gauge") && lines.contains("# UNIT \(bus) bytes_per_second"))
        #expect(lines.contains { $0.hasPrefix("# HELP \(time) allreduce: time per call per launch") })
        let labels = "environment=\"native-tcp\",kernel=\"allreduce\",bytes=\"1048576\",ranks=\"4\",round=\"2\",parameters=\"algorithm=mpi,dtype=float32,in_place=false,operation=sum\""
        func value(_ series: String) -> Double? {
            lines.first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }
        }
        #expect(abs((value("\(time){\(labels),quantile=\"0.5\"}") ?? 0) - 0.0018) < 1e-12)
        #expect(abs((value("\(time){\(labels),quantile=\"0.99\"}") ?? 0) - 0.003) < 1e-12)
        // 1.5 GB/s in the records, in bytes per second here (Prometheus' base unit).
        #expect(value("\(bus){\(labels)}") == 1.5e9)
        // The gap and its interval, three gauges: native-tcp is exactly twice as slow.
        let gap = try #require(lines.first { $0.hasPrefix("podgap_gap_ratio{environment=\"native-tcp\",baseline=\"native-shm\",kernel=\"allreduce\",bytes=\"1048576\",ranks=\"4\",parameters=\"algorithm=mpi,dtype=float32,in_place=false,operation=sum\"} ") })
        #expect(abs(Double(gap.split(separator: " ").last!)! - 1) < 1e-9)
        for name in ["podgap_gap_ratio", "podgap_gap_lower_ratio", "podgap_gap_upper_ratio"] {
            #expect(lines.contains("# TYPE \(name) gauge") && lines.contains("# UNIT \(name) ratio"))
        }
        // Every sample belongs to the family declared last, and families do not interleave.
        var family = "", seen = Set<String>()
        for line in lines where !line.isEmpty && line != "# EOF" {
            if line.hasPrefix("# TYPE ") {
                family = String(line.split(separator: " ")[2])
                #expect(seen.insert(family).inserted, "family \(family) declared twice")
            } else if !line.hasPrefix("#") {
                #expect(line.hasPrefix(family + "{"), "\(line) outside its family \(family)")
                #expect(line.range(of: #"^[a-z_][a-z0-9_]*\{([a-z_]+="([^"\\]|\\.)*",?)+\} [-+0-9.eE]+$"#, options: .regularExpression) != nil, "\(line)")
            }
        }
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
