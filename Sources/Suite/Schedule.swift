import Statistics

/// One launch of the suite: an environment running one or more kernels (the startup probe among
/// them) one after another in one MPI job, in a round at a place in that round's order.
public struct PlannedLaunch: Equatable, Sendable {
    /// One thing a launch measures: a kernel of the suite, or the startup probe (kernel nil).
    public struct PlannedKernel: Equatable, Sendable {
        public var kernel: SuiteFile.Kernel?
        /// The kernel's place in the suite's list; -1 for the startup probe.
        public var index: Int
        public var name: String { kernel?.name ?? "startup" }

        public init(kernel: SuiteFile.Kernel?, index: Int) { self.kernel = kernel; self.index = index }
    }

    public var environment: SuiteFile.EnvironmentEntry
    /// What the launch runs, in order: one kernel (`launch: per-kernel`), or the startup probe and
    /// every kernel (`launch: combined`).
    public var kernels: [PlannedKernel]
    public var round: Int
    /// The environment's place in the round's order, 1 first.
    public var position: Int

    public init(environment: SuiteFile.EnvironmentEntry, kernels: [PlannedKernel], round: Int, position: Int) {
        self.environment = environment; self.kernels = kernels; self.round = round; self.position = position
    }

    /// A launch of one kernel (nil: the startup probe).
    public init(environment: SuiteFile.EnvironmentEntry, kernel: SuiteFile.Kernel?, kernelIndex: Int, round: Int, position: Int) {
        self.init(environment: environment, kernels: [PlannedKernel(kernel: kernel, index: kernelIndex)], round: round, position: position)
    }

    /// Stable across resumes, whatever the launch shape: records carry it as their run id, the
    /// journal names kernels by it.
    public func id(of kernel: PlannedKernel) -> String {
        let what = kernel.kernel.map { "k\(kernel.index)-\($0.name)" } ?? "startup"
        return "\(environment.label)-\(what)-r\(round)"
    }

    /// The launch's own name (its log, its output file): its kernel's id when it runs one.
    public var id: String {
        kernels.count == 1 ? id(of: kernels[0]) : "\(environment.label)-combined-r\(round)"
    }

    /// What the launch runs, for progress lines and the journal.
    public var kernelName: String { kernels.map(\.name).joined(separator: "+") }
}

/// The order launches run in. A round runs its environments (`RoundPlan`: the baseline and
/// those beside it, laid out afresh for each round from the suite's seed) once per kernel, back
/// to back: the machine's slow drift and its fast/slow modes then fall on every environment
/// alike, and the report can pair each environment with the baseline within a round. Within a
/// round the kernels go one after the other (all environments' startup probes, then all
/// environments' first kernel ...), so paired launches of one kernel run next to each other in time. An environment whose
/// launches are combined runs all its kernels in one launch, at its place in the round's order
/// among one kernel's launches (the first kernel's in round 1, the next one's in round 2 ...).
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
        var slots: [PlannedLaunch.PlannedKernel] = suite.startup ? [.init(kernel: nil, index: -1)] : []
        slots += suite.kernels.enumerated().map { .init(kernel: $0.element, index: $0.offset) }
        // Beside per-kernel environments a combined launch moves from slot to slot round by round,
        // so that their kernels run after it in some rounds and before it in others.
        let combinedSlot = (round - 1) % max(slots.count, 1)
        return slots.enumerated().flatMap { number, slot in
            entries.enumerated().compactMap { place, entry in
                let kernels = suite.launchShape(of: entry) == .combined ? (number == combinedSlot ? slots : []) : [slot]
                return kernels.isEmpty ? nil : PlannedLaunch(environment: entry, kernels: kernels, round: round, position: place + 1)
            }
        }
    }
}
