import Foundation
import Records

/// The OpenMetrics text exposition format (what Prometheus scrapes and a Pushgateway accepts):
/// one metric family per kernel metric, as the kernels' descriptors name them, with one sample
/// per launch labelled environment, kernel, bytes, ranks and round (the trial for records run
/// outside rounds), plus `parameters` where a kernel has other parameters (algorithm, dtype ...).
/// Time metrics are summaries with the launch's median and 99th percentile as quantiles 0.5 and
/// 0.99; rates and OSU's average are gauges, in base units (bytes, not gigabytes). Then the
/// comparison with the baseline as three gauges: the gap, and its interval's lower and upper ends
/// (ratios, + is slower). `# EOF` ends the exposition.
public struct OpenMetricsRenderer: Sendable {
    public init() {}

    public func render(_ analysis: Analysis) -> String {
        var out = ""
        var used = Set<String>()
        let kernels = Set(analysis.points.keys.map(\.kernel)).sorted(by: analysis.kernels.precedes)
        for kernel in kernels {
            let keys = analysis.sortedPoints.filter { $0.kernel == kernel }
            for metric in analysis.kernels.descriptor(of: kernel).metrics {
                let (unit, scale) = Self.baseUnit(metric.unit)
                var name = Self.name("podgap_\(kernel)_\(metric.label)")
                if !name.hasSuffix("_" + unit) { name += "_" + Self.name(unit) }
                // Two metrics with one label would collide: keep the first.
                guard used.insert(name).inserted else { continue }
                let summary = metric.key == "seconds"
                var samples = ""
                for environment in analysis.environments {
                    for key in keys {
                        guard let point = analysis.points[key]?[environment] else { continue }
                        for launch in point.launches {
                            let labels = Self.labels(environment: environment, key: key, launch: launch)
                            if summary {
                                samples += "\(name){\(labels),quantile=\"0.5\"} \(Self.number(launch.seconds))\n"
                                samples += "\(name){\(labels),quantile=\"0.99\"} \(Self.number(launch.p99))\n"
                            } else if let value = metric.key == "osu.avg" ? launch.osu?.avg : launch.throughput[metric.key] {
                                samples += "\(name){\(labels)} \(Self.number(value * scale))\n"
                            }
                        }
                    }
                }
                guard !samples.isEmpty else { continue }
                out += "# TYPE \(name) \(summary ? "summary" : "gauge")\n"
                out += "# UNIT \(name) \(Self.name(unit))\n"
                out += "# HELP \(name) \(Self.help("\(kernel): \(metric.label) per launch (\(metric.direction == .lowerIsBetter ? "lower" : "higher") is better)"))\n"
                out += samples
            }
        }
        let gauges: [(String, String, (Comparison) -> Double?)] = [
            ("podgap_gap_ratio", "environment against the baseline: the gap (median time ratio - 1; + is slower)", { $0.gap }),
            ("podgap_gap_lower_ratio", "lower end of the gap's 95% interval", { $0.interval?.lowerBound }),
            ("podgap_gap_upper_ratio", "upper end of the gap's 95% interval", { $0.interval?.upperBound }),
        ]
        for (name, help, value) in gauges {
            let samples = analysis.comparisons.compactMap { c -> String? in
                guard let v = value(c), v.isFinite else { return nil }
                var labels = "environment=\"\(Self.escape(c.environment))\",baseline=\"\(Self.escape(c.baseline))\",kernel=\"\(Self.escape(c.point.kernel))\""
                if let bytes = c.point.bytes { labels += ",bytes=\"\(String(format: "%.0f", bytes))\"" }
                labels += ",ranks=\"\(c.point.ranks)\""
                if !c.point.series.isEmpty { labels += ",parameters=\"\(Self.escape(c.point.series))\"" }
                return "\(name){\(labels)} \(Self.number(v))\n"
            }
            guard !samples.isEmpty else { continue }
            out += "# TYPE \(name) gauge\n# UNIT \(name) ratio\n# HELP \(name) \(Self.help(help))\n" + samples.joined()
        }
        return out + why(analysis) + whatToChange(analysis) + "# EOF\n"
    }

    /// The WHAT TO CHANGE section: per knob environment and headline, the fraction of its base's
    /// gap recovered (negative: added) and its interval's ends.
    func whatToChange(_ analysis: Analysis) -> String {
        let gauges: [(String, String, (WhatToChange.Effect) -> Double?)] = [
            ("podgap_knob_recovered_ratio", "fraction of the base pod environment's gap to the baseline the knobs recover (negative: add), paired by round", { $0.recovered }),
            ("podgap_knob_recovered_lower_ratio", "lower end of that fraction's 95% interval", { $0.interval?.lowerBound }),
            ("podgap_knob_recovered_upper_ratio", "upper end of that fraction's 95% interval", { $0.interval?.upperBound }),
        ]
        guard let report = analysis.whatToChange else { return "" }
        var out = ""
        for (name, help, value) in gauges {
            var samples = ""
            for change in report.changes {
                guard let base = change.base else { continue }
                for e in change.effects {
                    guard let v = value(e), v.isFinite else { continue }
                    var labels = "setting=\"\(Self.escape(change.setting))\",environment=\"\(Self.escape(change.environment))\",base=\"\(Self.escape(base))\""
                    labels += ",baseline=\"\(Self.escape(report.baseline))\",kernel=\"\(Self.escape(e.kernel))\",metric=\"\(Self.escape(e.metric))\""
                    samples += "\(name){\(labels)} \(Self.number(v))\n"
                }
            }
            guard !samples.isEmpty else { continue }
            out += "# TYPE \(name) gauge\n# UNIT \(name) ratio\n# HELP \(name) \(Self.help(help))\n" + samples
        }
        return out
    }

    /// The WHY section: each counter figure's paired difference per rung and environment, with its
    /// interval, and whether it moved (1) or is ruled out (0).
    func why(_ analysis: Analysis) -> String {
        let gauges: [(String, String, (Why.Movement, Bool) -> Double?)] = [
            ("podgap_why_difference", "counter figure per unit of work, to minus from, median over rounds", { m, _ in m.difference }),
            ("podgap_why_lower", "lower end of that difference's 95% interval", { m, _ in m.interval?.lowerBound }),
            ("podgap_why_upper", "upper end of that difference's 95% interval", { m, _ in m.interval?.upperBound }),
            ("podgap_why_moved", "1 when the figure moved (interval clear of 0), 0 when ruled out", { _, moved in moved ? 1 : 0 }),
        ]
        var out = ""
        for (name, help, value) in gauges {
            var samples = ""
            for e in analysis.why?.entries ?? [] {
                for (m, moved) in e.moved.map({ ($0, true) }) + e.ruledOut.map({ ($0, false) }) {
                    guard let v = value(m, moved), v.isFinite else { continue }
                    var labels = "from=\"\(Self.escape(e.from))\",to=\"\(Self.escape(e.to))\",kernel=\"\(Self.escape(e.point.kernel))\""
                    if let bytes = e.point.bytes { labels += ",bytes=\"\(String(format: "%.0f", bytes))\"" }
                    labels += ",ranks=\"\(e.point.ranks)\",figure=\"\(Self.escape(m.figure))\""
                    samples += "\(name){\(labels)} \(Self.number(v))\n"
                }
            }
            guard !samples.isEmpty else { continue }
            out += "# TYPE \(name) gauge\n# HELP \(name) \(Self.help(help))\n" + samples
        }
        return out
    }

    static func labels(environment: String, key: PointKey, launch: EnvironmentPoint.Launch) -> String {
        var labels = "environment=\"\(escape(environment))\",kernel=\"\(escape(key.kernel))\""
        if let bytes = key.bytes { labels += ",bytes=\"\(String(format: "%.0f", bytes))\"" }
        labels += ",ranks=\"\(key.ranks)\",round=\"\(launch.round ?? launch.trial)\""
        if !key.series.isEmpty { labels += ",parameters=\"\(escape(key.series))\"" }
        return labels
    }

    /// Prometheus names carry base units (promtool's lint says "use base unit bytes instead of
    /// gigabytes"), so a descriptor's decimal-prefixed bytes become bytes and the values are
    /// scaled to match: 1.5 GB/s is exported as 1.5e9 bytes per second.
    static func baseUnit(_ unit: String) -> (unit: String, scale: Double) {
        for (prefix, scale) in [("kilo", 1e3), ("mega", 1e6), ("giga", 1e9), ("tera", 1e12)] where unit.hasPrefix(prefix + "bytes") {
            return (String(unit.dropFirst(prefix.count)), scale)
        }
        return (unit, 1)
    }

    /// A metric name: lower case letters, digits and underscores, runs of anything else one underscore.
    static func name(_ text: String) -> String {
        var out = ""
        for character in text.lowercased() {
            if character.isASCII && (character.isLetter || character.isNumber) { out.append(character) }
            else if !out.hasSuffix("_") { out.append("_") }
        }
        while out.hasSuffix("_") { out.removeLast() }
        return out
    }

    /// Label values escape backslash, double quote and line feed.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    /// HELP text escapes backslash and line feed.
    static func help(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "+Inf" : "-Inf") }
        return "\(value)"
    }
}
