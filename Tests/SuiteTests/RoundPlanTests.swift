import Foundation
import Records
import Testing
@testable import Suite

/// Which environments a round runs and in what order: the baseline once in every round, the
/// others beside it (the widest closest), mirrored every other round, and with a budget only
/// those whose intervals are still wide.
@Suite struct RoundPlanTests {
    static let base = "B"

    /// Places of each candidate away from the baseline, in `order`.
    static func distances(_ order: [String]) -> [String: Int] {
        let at = order.firstIndex(of: base)!
        return Dictionary(uniqueKeysWithValues: order.enumerated().filter { $0.element != base }.map { ($0.element, abs($0.offset - at)) })
    }

    @Test func theBaselineRunsOnceInEveryRoundNextToUpToTwoOthers() {
        for count in 1...5 {
            let environments = [Self.base] + (1...count).map { "e\($0)" }
            for round in 1...20 {
                let order = RoundPlan(round: round, environments: environments, baseline: Self.base, seed: 11).order
                #expect(order.sorted() == environments.sorted(), "every environment once")
                #expect(order.filter { $0 == Self.base }.count == 1)
                // The k-th candidate is ceil(k/2) places away: the first two right beside the baseline.
                let distances = Self.distances(order).values.sorted()
                #expect(distances == (1...count).map { ($0 + 1) / 2 }, "round \(round): \(order)")
            }
        }
        // One or two others: every environment runs right next to the baseline.
        for round in 1...10 {
            #expect(Self.distances(RoundPlan(round: round, environments: ["B", "x", "y"], baseline: "B", seed: 3).order).values.allSatisfy { $0 == 1 })
        }
    }

    /// ABBA across rounds: an environment that runs after the baseline in one round runs before
    /// it in the next, the same distance away.
    @Test func everyOtherRoundIsTheMirrorImage() {
        let environments = ["B", "x", "y", "z"]
        let widths = ["x": 50.0, "y": 40, "z": 45]
        var after: [String: Int] = [:]
        for round in 1...8 {
            let one = RoundPlan(round: round, environments: environments, baseline: "B", seed: 5, widths: widths, target: 10).order
            let next = RoundPlan(round: round + 1, environments: environments, baseline: "B", seed: 5, widths: widths, target: 10).order
            #expect(next == one.reversed())
            for label in ["x", "y", "z"] where one.firstIndex(of: label)! > one.firstIndex(of: "B")! { after[label, default: 0] += 1 }
        }
        #expect(after == ["x": 4, "y": 4, "z": 4])
    }

    @Test func aBudgetSpendsTheRoundOnTheWidestAndNeverDropsTheBaseline() {
        let environments = ["a", "B", "b", "c", "d"]
        let widths = ["a": 40.0, "b": 30, "c": 12, "d": 8]
        // The first rounds run everything whatever the widths.
        let early = RoundPlan(round: RoundPlan.roundsBeforeResting, environments: environments, baseline: "B", seed: 1, widths: widths, target: 10)
        #expect(Set(early.order) == Set(environments) && early.resting.isEmpty)
        let plan = RoundPlan(round: 4, environments: environments, baseline: "B", seed: 1, widths: widths, target: 10, fullRounds: 3)
        // b is within √2 of the widest (30 >= 28.3); c is not (12); d is under the target.
        #expect(Set(plan.order) == ["B", "a", "b"])
        #expect(plan.resting == ["c": 12, "d": 8])
        #expect(Self.distances(plan.order) == ["a": 1, "b": 1])

        // The widest sits next to the baseline, the next widest on its other side.
        let four = RoundPlan(round: 4, environments: environments, baseline: "B", seed: 1, widths: ["a": 22, "b": 30, "c": 25, "d": 29], target: 10, fullRounds: 3)
        #expect(Self.distances(four.order) == ["b": 1, "d": 1, "c": 2, "a": 2])

        // Unmeasured counts as infinitely wide: it runs, and alone.
        let unmeasured = RoundPlan(round: 4, environments: environments, baseline: "B", seed: 1, widths: ["a": 40, "b": 30], target: 10, fullRounds: 3)
        #expect(Set(unmeasured.order) == ["B", "c", "d"])

        // Everything narrow enough (the suite stops before such a round): the baseline and all run.
        let done = RoundPlan(round: 4, environments: environments, baseline: "B", seed: 1, widths: ["a": 1, "b": 2, "c": 3, "d": 4], target: 10, fullRounds: 3)
        #expect(Set(done.order) == Set(environments) && done.resting.isEmpty)
    }

    @Test func thePlanIsDeterministicAndTheSeedVariesIt() {
        let environments = ["B", "p", "q", "r", "s"]
        let widths = ["p": 20.0, "q": 20, "r": 20, "s": 20]
        for round in 1...6 {
            #expect(RoundPlan(round: round, environments: environments, baseline: "B", seed: 9, widths: widths, target: 5)
                    == RoundPlan(round: round, environments: environments, baseline: "B", seed: 9, widths: widths, target: 5))
        }
        let one = (1...10).map { RoundPlan(round: $0, environments: environments, baseline: "B", seed: 9).order }
        let other = (1...10).map { RoundPlan(round: $0, environments: environments, baseline: "B", seed: 10).order }
        #expect(one != other)
        // Equal widths keep the seeded order, so over rounds each candidate sits beside the baseline.
        var beside = Set<String>()
        for round in 1...20 {
            let order = RoundPlan(round: round, environments: environments, baseline: "B", seed: 9, widths: widths, target: 5).order
            beside.formUnion(Self.distances(order).filter { $0.value == 1 }.keys)
        }
        #expect(beside == ["p", "q", "r", "s"])
    }

    /// Without a baseline among them (skipped), or laid out `shuffled`: every environment in the
    /// seeded random order, as before.
    @Test func shuffledAndBaselineLessRoundsAreTheSeededOrder() {
        let environments = ["B", "x", "y", "z"]
        for round in 1...5 {
            #expect(RoundPlan(round: round, environments: environments, baseline: "B", seed: 2, layout: .shuffled, widths: ["x": 90], target: 1).order
                    == Schedule.order(of: environments, round: round, seed: 2))
            #expect(RoundPlan(round: round, environments: ["x", "y"], baseline: "B", seed: 2).order == Schedule.order(of: ["x", "y"], round: round, seed: 2))
        }
        // No baseline named: the catalog's, as the report picks it.
        let order = RoundPlan(round: 1, environments: ["native-shm", "native-2node", "pod-overlay"], baseline: nil, seed: 2).order
        #expect(order[1] == "native-2node")
    }
}
