import Statistics

/// One launch of the suite: an environment, a kernel (nil: the startup probe), in a round at a
/// place in that round's order.
public struct PlannedLaunch: Equatable, Sendable {
    public var environment: SuiteFile.EnvironmentEntry
    public var kernel: SuiteFile.Kernel?
    public var kernelIndex: Int
    public var round: Int
    /// The environment's place in the round's order, 1 first.
    public var position: Int

    /// Stable across resumes: records carry it as their run id, the journal names launches by it.
    public var id: String {
        let what = kernel.map { "k\(kernelIndex)-\($0.name)" } ?? "startup"
        return "\(environment.label)-\(what)-r\(round)"
    }

    /// What the launch runs, for progress lines and the journal.
    public var kernelName: String { kernel?.name ?? "startup" }
}

/// The order launches run in. A round runs its environments (`RoundPlan`: the baseline and
/// those beside it, laid out afresh for each round from the suite's seed) once per kernel, back
/// to back: the machine's slow drift and its fast/slow modes then fall on every environment
/// alike, and the report can pair each environment with the baseline within a round. Within a
/// round the kernels go one after the other (all environments' startup probes, then all
/// environments' first kernel ...), so paired launches of one kernel run next to each other in time.
public enum Schedule {
    /// The labels in a seeded random order for round `round`. Same seed, same round: same order,
    /// so a resumed suite repeats the interrupted round's order.
    public static func order(of labels: [String], round: Int, seed: UInt64) -> [String] {
        // One generator per round, seeded from (seed, round): a round's order does not depend on
        // how many rounds ran before it.
        var generator = SeededGenerator(seed: seed ^ (UInt64(round) &* 0x9E37_79B9_7F4A_7C15))
        return labels.shuffled(using: &generator)
    }

    /// Every launch of round `round`, in the order they run: every environment, laid out by
    /// `RoundPlan` (the plan before any interval is known).
    public static func round(_ round: Int, of suite: SuiteFile, seed: UInt64, layout: RoundPlan.Layout = .paired) -> [PlannedLaunch] {
        let plan = RoundPlan(round: round, environments: suite.environments.map(\.label), baseline: suite.baseline, seed: seed, layout: layout)
        return self.round(round, of: suite, order: plan.order)
    }

    /// Every launch of round `round` of the environments in `order` (labels; `RoundPlan` decides them).
    public static func round(_ round: Int, of suite: SuiteFile, order: [String]) -> [PlannedLaunch] {
        let entries = order.map { label in suite.environments.first { $0.label == label }! }
        var slots: [(index: Int, kernel: SuiteFile.Kernel?)] = suite.startup ? [(-1, nil)] : []
        slots += suite.kernels.enumerated().map { ($0.offset, $0.element) }
        return slots.flatMap { slot in
            entries.enumerated().map { place, entry in
                PlannedLaunch(environment: entry, kernel: slot.kernel, kernelIndex: slot.index, round: round, position: place + 1)
            }
        }
    }
}
