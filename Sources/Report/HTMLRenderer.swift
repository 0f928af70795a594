import Records
/// One self-contained HTML file: inline CSS and SVG, no script and nothing fetched, so it opens
/// anywhere, offline. Charts: latency and bandwidth against size per sweep, gap bars with
/// intervals for the headlines, and the attribution ladder.
public struct HTMLRenderer: Sendable {
    public init() {}

    public func render(_ analysis: Analysis) -> String {
        var body = "<h1>podgap report</h1>\n<p class=\"meta\">\(escapeXML(Rows.title(analysis)))</p>\n"
        body += "<p class=\"note\">\(escapeXML(Rows.reading(analysis)))</p>\n"
        if !analysis.warnings.isEmpty {
            body += "<div class=\"warnings\"><h2>Warnings</h2><ul>" + analysis.warnings.map { "<li>\(escapeXML($0))</li>" }.joined() + "</ul></div>\n"
        }
        if !analysis.skipped.isEmpty {
            body += "<div class=\"skipped\"><h2>Skipped environments</h2><ul>"
                + analysis.skipped.map { "<li><b>\(escapeXML($0.environment))</b>: \(escapeXML($0.reason))</li>" }.joined() + "</ul></div>\n"
        }
        body += "<h2>Headlines (against \(escapeXML(analysis.baseline)))</h2>\n" + table(Rows.headlineHeader, Rows.headlines(analysis), verdictColumn: Rows.headlineVerdictColumn)
        body += gapChart(analysis)
        if !analysis.chains.isEmpty {
            body += "<h2>Attribution</h2>\n<p class=\"note\">Each environment against its neighbour in the ladder, on the same rounds: what one more layer costs, and what the rungs add up to.</p>\n"
            body += attributionChart(analysis)
            body += table(Rows.attributionHeader, Rows.attribution(analysis), verdictColumn: nil)
        }
        // Beside the ladder: what moved on each rung.
        if let why = analysis.why { body += whyFigure(why) }
        if let change = analysis.whatToChange, !change.changes.isEmpty { body += whatToChange(change) }
        if let startup = analysis.startupPhases {
            let table = startup.table
            body += "<h2>Startup phases (against \(escapeXML(startup.baseline)))</h2>\n<p class=\"note\">\(escapeXML(startup.note))</p>\n"
                + startupBars(startup) + self.table(table.header, table.rows, verdictColumn: table.header.count - 1)
        }
        if let note = Rows.unrankedNote(analysis) { body += "<p class=\"note\">\(escapeXML(note))</p>\n" }
        if !analysis.machineStates.isEmpty {
            body += "<h2>Machine state</h2>\n<p class=\"note\">\(escapeXML(Rows.machineNote))</p>\n"
                + table(Rows.machineHeader, Rows.machine(analysis), verdictColumn: nil)
        }
        body += sweepCharts(analysis)
        body += "<h2>All points</h2>\n" + table(Rows.comparisonHeader, analysis.comparisons.map { Rows.comparison($0, in: analysis) }, verdictColumn: Rows.comparisonVerdictColumn)
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"/><title>podgap report</title>
        <style>
        body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px auto;max-width:1100px;color:#222;background:#fff}
        h1{font-size:26px;margin-bottom:4px}h2{font-size:19px;margin-top:30px;border-bottom:1px solid #ddd;padding-bottom:4px}
        .meta{color:#555}.note{color:#666;font-size:13px}
        table{border-collapse:collapse;font-size:13px;margin:8px 0 16px}th,td{padding:3px 9px;border-bottom:1px solid #eee;text-align:left;white-space:nowrap}
        th{background:#f4f4f4}td:nth-child(2){white-space:normal;max-width:340px;overflow-wrap:anywhere}.slower{color:#c0392b;font-weight:600}.faster{color:#1e8449;font-weight:600}
        .warnings,.skipped{background:#fff7e0;border:1px solid #f0d58c;padding:4px 14px;margin:10px 0}
        svg.chart{display:block;margin:10px 0 22px;background:#fff}
        .chart-title{font-size:14px;font-weight:600}.tick,.legend,.label{font-size:11px;fill:#333}.group{font-size:12px;font-weight:600}
        .axis{font-size:12px;fill:#333}.grid{stroke:#e6e6e6}.zero{stroke:#444;stroke-width:1.2}.frame{fill:none;stroke:#999}
        .whisker{stroke:#222;stroke-width:1.4}.arrow{fill:#222}
        </style></head>
        <body>
        \(body)</body></html>

        """
    }

    /// The WHAT TO CHANGE section: one item per knob and headline, what helps in green, what hurts in red.
    func whatToChange(_ report: WhatToChange) -> String {
        var out = "<h2>\(WhatToChange.heading)</h2>\n<p class=\"note\">\(escapeXML(WhatToChange.explanation.prefix(1).uppercased() + WhatToChange.explanation.dropFirst())).</p><ul class=\"what-to-change\">\n"
        for change in report.changes {
            let who = "<b>\(escapeXML(change.setting))</b> (\(escapeXML(change.environment)))"
            guard let base = change.base, change.note == nil else {
                out += "<li>\(who): \(escapeXML(change.note ?? "no base"))</li>\n"
                continue
            }
            for e in change.effects {
                let style = e.verdict == .recovers ? " class=\"faster\"" : e.verdict == .adds ? " class=\"slower\"" : ""
                out += "<li>\(who) <span\(style)>\(escapeXML(WhatToChange.effectText(e, base: base, baseline: report.baseline)))</span></li>\n"
            }
        }
        return out + "</ul>\n"
    }

    /// The WHY section as a figure: per rung and per environment against the baseline, the
    /// counters that moved (with intervals) and those ruled out.
    func whyFigure(_ why: Why) -> String {
        var out = "<h2>Why</h2>\n<figure class=\"why\"><figcaption class=\"note\">Counters per unit of work, paired by round like the gaps; moved figures in bold, the rest ruled out.</figcaption><ul>\n"
        if why.entries.isEmpty { out += "<li>No pair of environments has counters at a headline point.</li>\n" }
        for e in why.entries {
            out += "<li><b>\(escapeXML(Why.heading(e)))</b>: "
                + (e.moved.isEmpty ? "no counter moved" : e.moved.map { "<b class=\"slower\">\(escapeXML(Why.text($0)))</b>" }.joined(separator: ", "))
            if !e.ruledOut.isEmpty { out += "; <span class=\"note\">ruled out: \(escapeXML(e.ruledOut.map(Why.ruledOutText).joined(separator: ", ")))</span>" }
            out += "</li>\n"
        }
        out += "</ul>"
        if !why.lacking.isEmpty { out += "<p class=\"note\">Runs lacking counters: \(escapeXML(why.lacking.joined(separator: "; ")))</p>" }
        if !why.unavailable.isEmpty {
            out += "<p class=\"note\">Unavailable: \(escapeXML(why.unavailable.keys.sorted().map { "\($0) (\(why.unavailable[$0]!))" }.joined(separator: "; ")))</p>"
        }
        return out + "</figure>\n"
    }

    /// One stacked bar per environment, a segment per phase, on one scale of seconds.
    func startupBars(_ startup: StartupPhases) -> String {
        let phases = startup.phases
        let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#d37295"]
        func colour(_ phase: StartupPhase) -> String { palette[(StartupPhase.ordered.firstIndex(of: phase) ?? 0) % palette.count] }
        let longest = startup.rows.map { $0.seconds.reduce(0) { $0 + $1.seconds } }.max() ?? 0
        let labelWidth = 180.0, barWidth = 560.0, rowHeight = 22.0
        let height = Double(startup.rows.count) * rowHeight + 30
        var svg = "<figure class=\"startup\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(labelWidth + barWidth + 20))\" height=\"\(Int(height))\" role=\"img\">\n"
        for (index, row) in startup.rows.enumerated() {
            let y = Double(index) * rowHeight
            svg += "<text x=\"0\" y=\"\(y + 15)\" font-size=\"12\">\(escapeXML(row.environment))</text>\n"
            var x = labelWidth
            for part in row.seconds where longest > 0 {
                let width = part.seconds / longest * barWidth
                let box = String(format: "x=\"%.1f\" y=\"%.1f\" width=\"%.1f\"", x, y + 3, width)
                svg += "<rect \(box) height=\"16\" fill=\"\(colour(part.phase))\"><title>\(escapeXML(part.phase.label)): \(NumberText.duration(part.seconds))</title></rect>\n"
                x += width
            }
        }
        svg += "<text x=\"\(Int(labelWidth))\" y=\"\(Int(height - 4))\" font-size=\"11\">0 to \(escapeXML(NumberText.duration(longest)))</text></svg>\n"
        let legend = phases.map { "<span style=\"color:\(colour($0))\">&#9632;</span> \(escapeXML($0.label))" }.joined(separator: " ")
        return svg + "<figcaption class=\"note\">\(legend)</figcaption></figure>\n"
    }

    private func table(_ header: [String], _ rows: [[String]], verdictColumn: Int?) -> String {
        var out = "<table><thead><tr>" + header.map { "<th>\(escapeXML($0))</th>" }.joined() + "</tr></thead><tbody>\n"
        for row in rows {
            out += "<tr>" + row.enumerated().map { column, cell in
                var kind = ""
                if column == verdictColumn {
                    if cell.hasPrefix("slower") || cell.hasPrefix("lower") { kind = " class=\"slower\"" }
                    if cell.hasPrefix("faster") || cell.hasPrefix("higher") { kind = " class=\"faster\"" }
                }
                return "<td\(kind)>\(escapeXML(cell))</td>"
            }.joined() + "</tr>\n"
        }
        return out + "</tbody></table>\n"
    }

    private func gapChart(_ analysis: Analysis) -> String {
        var bars: [GapBars.Bar] = []
        // Group by kernel and metric so that environments sit together under each headline.
        var groups: [(String, [GapBars.Bar])] = []
        for environment in analysis.environments where environment != analysis.baseline {
            for h in analysis.headlines[environment] ?? [] {
                let group = "\(h.kernel): \(h.metric)"
                let bar = GapBars.Bar(label: environment, group: group,
                                      colour: analysis.colour(of: environment),
                                      gap: h.gap, interval: h.interval)
                if let index = groups.firstIndex(where: { $0.0 == group }) { groups[index].1.append(bar) } else { groups.append((group, [bar])) }
            }
        }
        bars = groups.flatMap(\.1)
        return GapBars(kind: "gaps", title: "Gap against \(analysis.baseline), 95% intervals (times: + is slower; rates: + is more)", bars: bars).render()
    }

    private func attributionChart(_ analysis: Analysis) -> String {
        var bars: [GapBars.Bar] = []
        for chain in analysis.chains {
            for total in chain.totals {
                let h = total.headline
                for (step, rung) in zip(chain.steps, total.rungs) {
                    let rate = Headline(kernel: h.kernel, metric: h.metric, isRate: h.isRate, comparison: rung)
                    // Chains share their lower rungs: draw each once.
                    let label = "\(step.from) → \(step.to)", group = "\(h.kernel): \(h.metric)"
                    if bars.contains(where: { $0.label == label && $0.group == group }) { continue }
                    bars.append(GapBars.Bar(label: label, group: group,
                                            colour: analysis.colour(of: step.to), gap: rate.gap, interval: rate.interval))
                }
            }
        }
        // Same metric together, steps in ladder order within it.
        let order = bars.map(\.group).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        bars = order.flatMap { group in bars.filter { $0.group == group } }
        return GapBars(kind: "attribution", title: "Attribution ladder: each step against its neighbour", bars: bars).render()
    }

    private func sweepCharts(_ analysis: Analysis) -> String {
        var out = ""
        for (sweep, keys) in SweepKey.sweeps(of: analysis.sortedPoints.filter { ($0.bytes ?? 0) > 0 }, kernels: analysis.kernels) {
            var latency: [LogLogChart.Series] = [], bandwidth: [LogLogChart.Series] = []
            for environment in analysis.environments {
                let colour = analysis.colour(of: environment)
                // The band is bootstrapped here, once per point.
                let points = keys.compactMap { key -> (PointKey, EnvironmentPoint, ClosedRange<Double>?)? in
                    guard let p = analysis.points[key]?[environment], !p.trialMedians.isEmpty, p.median > 0 else { return nil }
                    return (key, p, p.interval)
                }
                guard !points.isEmpty else { continue }
                latency.append(.init(environment: environment, colour: colour, points: points.map { key, p, band in
                    (key.bytes!, p.median * 1e6, band.map { ($0.lowerBound * 1e6)...($0.upperBound * 1e6) })
                }))
                // nccl-tests' bus bandwidth where the kernel declares a bus factor, else bytes / time.
                let busFactor = analysis.kernels.descriptor(of: sweep.kernel).busFactor
                let factor = busFactor?.factor(ranks: sweep.ranks) ?? 1
                func gbps(_ bytes: Double, _ seconds: Double) -> Double { bytes / seconds * factor / 1e9 }
                bandwidth.append(.init(environment: environment, colour: colour, points: points.map { key, p, band in
                    (key.bytes!, gbps(key.bytes!, p.median), band.map { gbps(key.bytes!, $0.upperBound)...gbps(key.bytes!, $0.lowerBound) })
                }))
            }
            guard !latency.isEmpty else { continue }
            let what = "\(sweep.kernel), \(sweep.ranks) ranks, \(sweep.series)"
            out += "<h2>\(escapeXML(sweep.kernel)) over message size</h2>\n"
            out += LogLogChart(kind: "latency", title: "Latency: \(what) (median of trials, 95% band)",
                               xLabel: "message size (bytes)", yLabel: "latency (us)", series: latency).render()
            let bandwidthName = analysis.kernels.descriptor(of: sweep.kernel).busFactor != nil
                ? "bus bandwidth (GB/s, nccl-tests busbw)" : "bandwidth (GB/s)"
            out += LogLogChart(kind: "bandwidth", title: "Bandwidth: \(what)",
                               xLabel: "message size (bytes)", yLabel: bandwidthName, series: bandwidth).render()
        }
        return out
    }
}
