import Foundation
import Config
import Testing

@Suite struct YAMLNestingTests {
    @Test func boundCountsBracketsAndIndentation() {
        #expect(YAMLNesting.bound(of: "a: 1\nb: [1, 2]\n") == 1 + 2)
        #expect(YAMLNesting.bound(of: "a:\n  b:\n    - c: {d: [1]}\n") == 2 + 2 * 6 + 2)
        // Brackets in quotes count too: a bound, never fooled by quotes that hide a closing bracket.
        #expect(YAMLNesting.bound(of: "a: '[[['\n") == 3 + 2)
        #expect(YAMLNesting.bound(of: String(repeating: "- ", count: 300) + "x") == 4 * 300 + 2)
        #expect(YAMLNesting.problem(in: String(repeating: "[", count: YAMLNesting.maximum)) != nil)
        #expect(YAMLNesting.problem(in: "a: [1]\n") == nil)
    }

    /// Every YAML file the repository ships (suites, profiles, manifests) is far inside the bound.
    @Test func theRepositorysOwnFilesAreWellInside() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var checked = 0
        for folder in ["benchmarks", "containers"] {
            let files = FileManager.default.enumerator(atPath: root.appendingPathComponent(folder).path)?.compactMap { $0 as? String } ?? []
            for file in files where file.hasSuffix(".yaml") && !file.contains(".build") && !file.contains("fuzz/seeds") {
                let text = try String(contentsOf: root.appendingPathComponent(folder).appendingPathComponent(file), encoding: .utf8)
                #expect(YAMLNesting.bound(of: text) < YAMLNesting.maximum / 4, "\(file): \(YAMLNesting.bound(of: text))")
                checked += 1
            }
        }
        #expect(checked >= 8)
    }
}
