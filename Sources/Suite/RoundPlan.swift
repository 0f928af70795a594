import Records

/// Which environments run in a round, and in what order: the one place that decides it.
///
/// The report pairs each environment with the baseline launch of the same round, so every round
/// runs the baseline once, and a pair's two launches should run as close together in time as
/// the round allows: this machine drifts between fast and slow modes over minutes, and what the
/// two launches of a pair share cancels in their ratio. So the baseline goes in the middle of
/// the round and the others around it, alternately after and before it, the first two right
/// next to it. Every other round is the mirror image (A B C, then C B A): over two rounds each
/// environment runs once before and once after the baseline, ABBA-style, so a drift within a
/// round and the place in it fall on both sides alike. (A second baseline launch per round, to
/// put one on each side of every environment, would break the report's one-launch-per-round
/// pairing and cost a launch per environment; it is not built. How far a pair's ratio strays
/// with its distance in the round: benchmarks/README.md, "Rounds where they are needed".)
///
/// With a budget, once intervals exist (`widths`) and after `roundsBeforeResting` rounds, a round runs only the environments whose
/// widest headline interval is still above the target and within a factor `share` of the
/// widest: a launch spent where the interval is already narrow would not move the suite's
/// widest headline, which is what the stop rule and the reader wait on. The widest goes next to
/// the baseline.
///
/// Deterministic: the same round, seed and widths give the same plan, so a resumed suite
/// (whose kept records give the same widths) repeats an interrupted round's plan.
public struct RoundPlan: Equatable, Sendable {
    /// How a round is laid out: `paired` (this type's layout), or `shuffled` (every environment,
    /// in a seeded random order: the layout before, kept to compare against).
    public enum Layout: String, Sendable, CaseIterable, Codable {
        case paired, shuffled
    }

    /// The environments' labels in the order they run.
    public var order: [String]
    /// Environments left out of this round, with the width that left them out (points).
    public var resting: [String: Double]

    /// A candidate runs while its width is at least this share of the widest candidate's: one
    /// within a factor √2 of the widest would need half as many more rounds to match it, and
    /// sharing the round's baseline launch makes it one launch more, not two.
    public static let share = 0.5.squareRoot()

    /// Every environment runs in the first rounds, whatever the widths: an interval read from
    /// three rounds is itself too rough to rest an environment on (an A/A suite with a budget that
    /// rested one after round 3 gave 9.3% difference verdicts, all on the rested copy).
    public static let roundsBeforeResting = 10

    /// The plan of round `round` over `environments` (the live ones, in the suite file's order).
    /// `widths`: each environment's widest headline interval in points so far (nil before a
    /// budget run measures them; a missing entry counts as unmeasured, i.e. infinitely wide);
    /// `target`: the width at which an environment needs no more rounds; `fullRounds`: rounds
    /// that run every environment whatever the widths.
    public init(round: Int, environments: [String], baseline: String?, seed: UInt64, layout: Layout = .paired,
                widths: [String: Double]? = nil, target: Double? = nil, fullRounds: Int = RoundPlan.roundsBeforeResting) {
        let base = baseline ?? EnvironmentCatalog.baseline(among: environments)
        guard layout == .paired, let base, environments.contains(base), environments.count > 1 else {
            order = Schedule.order(of: environments, round: round, seed: seed)
            resting = [:]
            return
        }
        // Seeded first, so ties among widths (and the rounds before any width) keep a fair order.
        var candidates = Schedule.order(of: environments.filter { $0 != base }, round: round, seed: seed)
        var resting: [String: Double] = [:]
        if let widths {
            func width(_ label: String) -> Double { widths[label] ?? .infinity }
            let open = candidates.filter { target == nil || width($0) > target! }
            if round > fullRounds, let widest = open.map(width).max() {
                let chosen = open.filter { width($0) >= widest * RoundPlan.share }
                for label in candidates where !chosen.contains(label) { resting[label] = widths[label] }
                candidates = chosen
            }
            // Stable: equal widths keep the seeded order.
            candidates = candidates.enumerated().sorted { a, b in
                width(a.element) != width(b.element) ? width(a.element) > width(b.element) : a.offset < b.offset
            }.map(\.element)
        }
        // Closest to the baseline first, alternately after and before it.
        var before: [String] = [], after: [String] = []
        for (index, label) in candidates.enumerated() {
            if index % 2 == 0 { after.append(label) } else { before.insert(label, at: 0) }
        }
        let sequence = before + [base] + after
        // Mirror every other round (which ones: by the seed, so suites with other seeds start on either side).
        order = (UInt64(round) &+ seed) % 2 == 0 ? sequence.reversed() : sequence
        self.resting = resting
    }
}
