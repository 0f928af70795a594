import Foundation
import Records
import Statistics

/// What to change in a cluster: for each environment whose pods ran with Kubernetes knobs
/// (`environment.knobs`), how much of its base pod environment's gap to the baseline the knobs
/// recover, per headline, paired by round. The base is the catalog's pod environment on the same
/// network with no knobs (pod-overlay-limit -> pod-overlay); host networking, which podgap
/// measures as the environment `pod-host`, is read as one more knob against the pod network a
/// cluster ships with (`hostNetworkBases`).
///
/// With per round the log ratio `l = log(env / baseline)` of the two launches' medians, a
/// headline's gap in its worse direction is `g(L) = e^L - 1` for times and `1 - e^-L` for rates
/// (the rate lost), L the median over rounds of l. The fraction recovered is
/// `(g(L_base) - g(L_knob)) / g(L_base)` on the rounds where the baseline, the base and the knob
/// environment all ran; its interval resamples those rounds whole (`Bootstrap.pairedInterval`).
/// It is defined only where the base's own gap is resolved as worse than the baseline.
public struct WhatToChange: Sendable {
    public enum Verdict: String, Sendable {
        /// The interval lies above zero: the knob closes part of the gap (or all, or more).
        case recovers
        /// Below zero: the knob widens the gap.
        case adds
        case notResolved = "not resolved"
        /// No fraction: the base's gap is not resolved as worse, or too few rounds pair.
        case undefined
    }

    public struct Effect: Sendable {
        public var kernel: String
        /// The base's headline, e.g. "small-message latency (4 B)".
        public var metric: String
        public var point: PointKey
        public var isRate: Bool
        /// Rounds where the baseline, the base and the knob's environment all ran.
        public var rounds: Int
        /// The base's and the knob's gaps to the baseline in the worse direction (+ is worse), on those rounds.
        public var baseGap: Double
        public var knobGap: Double
        /// The base's gap interval on those rounds (worse direction), nil below two rounds.
        public var baseInterval: ClosedRange<Double>?
        /// The fraction of the base's gap recovered (1 = all of it, negative = added), nil when undefined.
        public var recovered: Double?
        public var interval: ClosedRange<Double>?
        public var verdict: Verdict
        /// Why the fraction is undefined, in words; nil otherwise.
        public var reason: String?
        /// The knob's mechanism among the counters that moved between the base and the knob's
        /// environment at this point (WHY's figures): a cpu-limit beside its throttled periods.
        public var evidence: [Why.Movement]
        /// The knob's environment against its base directly, paired by round, in the worse
        /// direction (+ is worse), with its interval: what the knob does where the base has no
        /// gap to recover (a CPU limit that slows a step the pod ran at native speed).
        public var againstBase: Double? = nil
        public var againstBaseInterval: ClosedRange<Double>? = nil
    }

    public struct Change: Sendable {
        /// The environment the knobs ran in (pod-overlay-limit), and its base (pod-overlay); nil
        /// when the records hold no base.
        public var environment: String
        public var base: String?
        /// The knobs as set ("cpu-limit: 0.9"; "host-network" for pod-host).
        public var setting: String
        /// The knobs turned; nil for host networking.
        public var knobs: Knobs?
        public var hostNetwork: Bool { knobs == nil }
        public var effects: [Effect]
        /// Why there are no effects (no base), nil otherwise.
        public var note: String?
    }

    public var baseline: String
    public var changes: [Change]

    /// Host networking's base: the pod network a cluster ships with, the first of these present
    /// without knobs (Flannel's VXLAN overlay first).
    public static let hostNetworkBases = [EnvironmentCatalog.podOverlay, EnvironmentCatalog.podRouted, EnvironmentCatalog.podBridge].map(\.name)

    /// The counter figures that show a knob's mechanism, by the knob's name (`Knobs.names`, and
    /// "host-network"): the WHY section's figures that move when the knob does what it should.
    /// One case per knob.
    public static func mechanism(of knob: String) -> [String] {
        switch knob {
        case "cpu-limit": return ["throttled periods", "throttled ms/s"]
        case "guaranteed": return ["throttled periods", "throttled ms/s", "involuntary switches/iteration"]
        case "slots": return ["TCP segments/message", "packets/message"]
        case "mtu": return ["packets/message", "wire bytes/packet", "node underlay bytes/packet"]
        case "seccomp": return ["voluntary switches/iteration", "involuntary switches/iteration"]
        // The runtime and the image pull act before MPI_Init (the launch headline); no counter of the ranks sees it.
        case "runtime", "pull": return []
        case "hugepages": return ["major faults", "cache misses/iteration"]
        case "host-network": return ["VXLAN bytes/packet", "wire bytes/packet", "softirq us/message", "NET_RX softirqs/message"]
        default: return []
        }
    }

    public static func build(_ analysis: Analysis, counters facts: [CounterFacts]) -> WhatToChange {
        let byPoint = Dictionary(grouping: facts) { Why.PointSide(point: $0.point, environment: $0.environment) }
        let changes = pairs(analysis).map { pair -> Change in
            var change = Change(environment: pair.environment, base: pair.base, setting: pair.setting, knobs: pair.knobs,
                                effects: [], note: nil)
            guard let base = pair.base else {
                let network = analysis.settings[pair.environment]?.network
                change.note = "no base: the records hold no pod environment on the \(network ?? "same") network without knobs"
                    + (network.flatMap(baseName(network:)).map { " (add \($0) to the suite)" } ?? "")
                return change
            }
            let knobNames = pair.knobs.map(names(of:)) ?? ["host-network"]
            for headline in analysis.headlines[base] ?? [] {
                guard var effect = effect(headline, base: base, knob: pair.environment, analysis: analysis) else { continue }
                let sides = (byPoint[.init(point: effect.point, environment: base)], byPoint[.init(point: effect.point, environment: pair.environment)])
                if let from = sides.0, let to = sides.1 {
                    let entry = Why.entry((base, pair.environment, nil), point: effect.point, label: analysis.label(effect.point),
                                          from: from, to: to, bootstrap: analysis.options.bootstrap)
                    let wanted = Set(knobNames.flatMap(mechanism(of:)).flatMap { [$0, $0.replacingOccurrences(of: "/message", with: "/iteration")] })
                    effect.evidence = entry.moved.filter { wanted.contains($0.figure) }
                }
                change.effects.append(effect)
            }
            if change.effects.isEmpty { change.note = "no headline of \(base) pairs with \(pair.environment)" }
            return change
        }
        return WhatToChange(baseline: analysis.baseline, changes: changes)
    }

    /// The knobs' names as set ("cpu-limit", "slots").
    static func names(of knobs: Knobs) -> [String] {
        knobs.variable.split(separator: ",").map { String($0.split(separator: "=", maxSplits: 1)[0]) }
    }

    /// "cpu-limit: 0.9, slots: 2".
    public static func setting(_ knobs: Knobs) -> String {
        knobs.variable.split(separator: ",").map { $0.replacingOccurrences(of: "=", with: ": ") }.joined(separator: ", ")
    }

    /// The catalog's pod environment on `network`, the base a knob on that network is read against.
    static func baseName(network: String) -> String? {
        EnvironmentCatalog.all.first { $0.usesContainers && !$0.needsRDMA && $0.network.rawValue == network }?.name
    }

    /// Each knob environment with its base, then host networking where pod-host and a base ran.
    private static func pairs(_ analysis: Analysis) -> [(environment: String, base: String?, setting: String, knobs: Knobs?)] {
        let plain = Set(analysis.environments.filter { analysis.settings[$0]?.knobs == nil })
        var result: [(environment: String, base: String?, setting: String, knobs: Knobs?)] = []
        for environment in analysis.environments where environment != analysis.baseline {
            guard let knobs = analysis.settings[environment]?.knobs else { continue }
            let base = analysis.settings[environment]?.network.flatMap(baseName(network:)).flatMap { plain.contains($0) ? $0 : nil }
            result.append((environment, base, setting(knobs), knobs))
        }
        let host = EnvironmentCatalog.podHost.name
        if plain.contains(host), host != analysis.baseline, let base = hostNetworkBases.first(where: plain.contains), base != analysis.baseline {
            result.append((host, base, "host-network", nil))
        }
        return result
    }

    /// One headline's effect: the three environments' launches matched by round.
    private static func effect(_ headline: Headline, base: String, knob: String, analysis: Analysis) -> Effect? {
        let key = headline.comparison.point
        guard let sides = analysis.points[key], let b = sides[analysis.baseline], let x = sides[base], let k = sides[knob],
              !b.launches.isEmpty, !x.launches.isEmpty, !k.launches.isEmpty else { return nil }
        var effect = Effect(kernel: headline.kernel, metric: headline.metric, point: key, isRate: headline.isRate, rounds: 0,
                            baseGap: 0, knobGap: 0, baseInterval: nil, recovered: nil, interval: nil, verdict: .undefined,
                            reason: nil, evidence: [])
        guard b.inRounds, x.inRounds, k.inRounds else {
            effect.reason = "records without rounds: nothing to pair"
            return effect
        }
        func byRound(_ point: EnvironmentPoint) -> [Int: EnvironmentPoint.Launch] {
            // A round a side launched twice cannot be paired; the comparison with the baseline drops it too.
            Dictionary(grouping: point.launches, by: { $0.round! }).compactMapValues { $0.count == 1 && !$0[0].duplicate ? $0[0] : nil }
        }
        let rb = byRound(b), rx = byRound(x), rk = byRound(k)
        var lb: [Double] = [], lk: [Double] = []
        for round in rb.keys.sorted() {
            guard let t = rb[round], let u = rx[round], let v = rk[round] else { continue }
            if analysis.options.excludeMixed, let p = t.probe,
               [u.probe, v.probe].contains(where: { $0.map { MachineMode.differ(p, $0) } ?? false }) { continue }
            lb.append(log(u.seconds / t.seconds))
            lk.append(log(v.seconds / t.seconds))
        }
        effect.rounds = lb.count
        guard !lb.isEmpty else {
            effect.reason = "no round where \(analysis.baseline), \(base) and \(knob) all ran"
            return effect
        }
        let worse: (Double) -> Double = headline.isRate ? { 1 - exp(-$0) } : { exp($0) - 1 }
        let direct = zip(lk, lb).map { $0 - $1 }
        effect.againstBase = worse(Median.of(direct)!)
        effect.againstBaseInterval = analysis.options.bootstrap.pairedMedianInterval(direct).map { worse($0.lowerBound)...worse($0.upperBound) }
        let gapBase = worse(Median.of(lb)!), gapKnob = worse(Median.of(lk)!)
        effect.baseGap = gapBase
        effect.knobGap = gapKnob
        let logInterval = analysis.options.bootstrap.pairedMedianInterval(lb)
        effect.baseInterval = logInterval.map { worse($0.lowerBound)...worse($0.upperBound) }
        guard let logInterval, logInterval.lowerBound > 0 else {
            let shown = shown(gapBase, isRate: headline.isRate, interval: effect.baseInterval)
            if lb.count < 2 { effect.reason = "\(lb.count) round pairs the three: no interval" }
            else if logInterval!.upperBound < 0 { effect.reason = "\(base) is better than \(analysis.baseline) here (\(shown)): no gap to recover" }
            else { effect.reason = "\(base)'s gap to \(analysis.baseline) is not resolved (\(shown)): the fraction is undefined" }
            return effect
        }
        effect.recovered = (gapBase - gapKnob) / gapBase
        effect.interval = analysis.options.bootstrap.pairedInterval(rounds: lb.count) { drawn in
            let base = worse(Median.of(drawn.map { lb[$0] })!), knob = worse(Median.of(drawn.map { lk[$0] })!)
            return base == 0 ? nil : (base - knob) / base
        }
        if let interval = effect.interval {
            effect.verdict = interval.lowerBound > 0 ? .recovers : interval.upperBound < 0 ? .adds : .notResolved
        } else {
            effect.verdict = .notResolved
        }
        return effect
    }
}

extension WhatToChange {
    /// "allreduce small-message latency (4 B)".
    public static func what(_ e: Effect) -> String { "\(e.kernel) \(e.metric)" }

    /// A fraction as a whole percentage, "96%"; an interval's ends as "[91, 99]".
    static func percent(_ fraction: Double) -> String { fraction.isFinite ? String(format: "%.0f%%", fraction * 100) : "-" }
    static func ends(_ range: ClosedRange<Double>, sign: Double = 1) -> String {
        let (a, b) = sign > 0 ? (range.lowerBound, range.upperBound) : (-range.upperBound, -range.lowerBound)
        return String(format: "[%.0f, %.0f]", a * 100, b * 100)
    }

    /// A gap in the worse direction as the report's headlines show it: a rate's as the rate's
    /// change (-20.5%: 20.5% of the baseline's rate lost), with its interval when given.
    static func shown(_ gap: Double, isRate: Bool, interval: ClosedRange<Double>? = nil) -> String {
        let sign = isRate ? -1.0 : 1.0
        var text = NumberText.percent(sign * gap)
        if let interval {
            let (a, b) = isRate ? (-interval.upperBound, -interval.lowerBound) : (interval.lowerBound, interval.upperBound)
            text += " [\(NumberText.percent(a, unit: false)), \(NumberText.percent(b, unit: false))]"
        }
        return text
    }

    /// What the knob does to one headline, in words: "recovers 96% [91, 99] of pod-overlay's
    /// allreduce small-message latency (4 B) gap (+59.4% against native-2node, 10 rounds)".
    public static func effectText(_ e: Effect, base: String, baseline: String) -> String {
        let gap = "\(base)'s \(what(e)) gap"
        let context = "(\(shown(e.baseGap, isRate: e.isRate)) against \(baseline), \(e.rounds) round\(e.rounds == 1 ? "" : "s"))"
        var text: String
        switch e.verdict {
        case .recovers:
            text = "recovers \(percent(e.recovered!)) \(ends(e.interval!)) of \(gap) \(context)"
        case .adds:
            text = "adds \(percent(-e.recovered!)) \(ends(e.interval!, sign: -1)) to \(gap) \(context)"
        case .notResolved:
            let interval = e.interval.map { " \(ends($0))" } ?? " (no interval)"
            text = "not resolved: \(percent(e.recovered ?? 0))\(interval) of \(gap) \(context)"
        case .undefined:
            text = "undefined for \(what(e)): \(e.reason ?? "no fraction")"
            // What the knob does all the same, against its base itself.
            if let direct = e.againstBase, let interval = e.againstBaseInterval {
                let says = interval.lowerBound > 0 ? "worse" : interval.upperBound < 0 ? "better" : "not resolved"
                text += "; against \(base) itself: \(shown(direct, isRate: e.isRate, interval: interval)), \(says)"
            }
        }
        if !e.evidence.isEmpty { text += "; counters: " + e.evidence.map(Why.text).joined(separator: ", ") }
        return text
    }

    /// The lines of the section, without its heading: "slots: 2 (pod-overlay-slots) recovers ...".
    public var lines: [String] {
        if changes.isEmpty {
            return ["no environment ran with knobs: run benchmarks/suites/knobs.yaml (podgap suite benchmarks/suites/knobs.yaml --budget 15m)"]
        }
        return changes.flatMap { change -> [String] in
            let who = "\(change.setting) (\(change.environment))"
            guard let base = change.base, change.note == nil else { return ["\(who): \(change.note ?? "no base")"] }
            return change.effects.map { "\(who) \(WhatToChange.effectText($0, base: base, baseline: baseline))" }
        }
    }

    public static let heading = "WHAT TO CHANGE"
    static let explanation = "each knob's environment against its base pod environment without knobs: the fraction of the base's gap to the baseline it recovers (or adds), paired by round, 95% interval"

    /// The plain-text section, as the table report and `podgap report --what-to-change` print it.
    public func section() -> String {
        "\(WhatToChange.heading) (\(WhatToChange.explanation))\n" + lines.map { "  \($0)\n" }.joined()
    }

    /// The section in Markdown.
    public func markdown() -> String {
        "## \(WhatToChange.heading)\n\nEach knob's environment against its base pod environment without knobs: the fraction of the base's gap to \(baseline) it recovers (or adds), paired by round, with a 95% interval.\n\n"
            + lines.map { "- " + $0.replacingOccurrences(of: "|", with: "\\|") + "\n" }.joined()
    }
}

/// The WHAT TO CHANGE section as CSV (`podgap report --format csv --what-to-change`): one row per
/// knob environment and headline, `section` always `what-to-change`.
public struct WhatToChangeCSVRenderer: Sendable {
    public init() {}

    public static let header = ["section", "setting", "environment", "base", "baseline", "kernel", "metric", "parameters", "bytes",
                                "ranks", "rounds", "base_gap", "base_ci_low", "base_ci_high", "knob_gap", "recovered",
                                "ci_low", "ci_high", "verdict", "reason", "evidence"]

    public func render(_ analysis: Analysis) -> String {
        var rows: [[String]] = []
        let report = analysis.whatToChange ?? WhatToChange(baseline: analysis.baseline, changes: [])
        for change in report.changes {
            if change.effects.isEmpty {
                rows.append(["what-to-change", change.setting, change.environment, change.base ?? "", report.baseline] + Array(repeating: "", count: 13)
                            + [WhatToChange.Verdict.undefined.rawValue, change.note ?? "", ""])
            }
            for e in change.effects {
                rows.append(["what-to-change", change.setting, change.environment, change.base ?? "", report.baseline, e.kernel, e.metric,
                             e.point.parameters, NumberText.number(e.point.bytes), "\(e.point.ranks)", "\(e.rounds)",
                             NumberText.number(e.baseGap), NumberText.number(e.baseInterval?.lowerBound), NumberText.number(e.baseInterval?.upperBound),
                             NumberText.number(e.knobGap), NumberText.number(e.recovered), NumberText.number(e.interval?.lowerBound),
                             NumberText.number(e.interval?.upperBound), e.verdict.rawValue, e.reason ?? "",
                             e.evidence.map(Why.text).joined(separator: "; ")])
            }
        }
        return TextTable(headings: WhatToChangeCSVRenderer.header, rows: rows).render(.csv)
    }
}
