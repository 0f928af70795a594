import Records

/// The attribution ladder, as the environment catalog draws it: each environment differs from its
/// parent by one thing, so the gap between neighbours names what that one thing costs.
public enum Ladder {
    public struct Step: Equatable, Sendable {
        public var from: String
        public var to: String
        /// What `to` adds over `from`, joined with "+" where absent rungs were skipped.
        public var adds: String
    }

    /// The steps between the present environments: an absent rung is bridged by its parent, and
    /// what it would have isolated is named with the step that spans it. Names the catalog does
    /// not know (custom labels) have no rung.
    public static func steps(present: Set<String>) -> [Step] {
        var steps: [Step] = []
        for child in EnvironmentCatalog.sorted(present) {
            guard let kind = EnvironmentCatalog.kind(named: child), var parent = kind.parent, let childAdds = kind.adds else { continue }
            var adds = [childAdds]
            while !present.contains(parent), let skipped = EnvironmentCatalog.kind(named: parent),
                  let next = skipped.parent, let skippedAdds = skipped.adds {
                adds.insert(skippedAdds, at: 0)
                parent = next
            }
            guard present.contains(parent) else { continue }
            steps.append(Step(from: parent, to: child, adds: adds.joined(separator: " + ")))
        }
        return steps
    }

    /// Paths up the ladder: from an environment with no present parent to one with no present
    /// child, through every present rung between.
    public static func chains(_ steps: [Step]) -> [[Step]] {
        let parents = Set(steps.map(\.from))
        return steps.filter { !parents.contains($0.to) }.map { top -> [Step] in
            var chain = [top]
            while let below = steps.first(where: { $0.to == chain[0].from }) { chain.insert(below, at: 0) }
            return chain
        }
    }

    /// The present environments with no place on the ladder: custom labels.
    public static func unranked(_ present: some Sequence<String>) -> [String] {
        EnvironmentCatalog.sorted(present).filter { EnvironmentCatalog.kind(named: $0) == nil }
    }
}
