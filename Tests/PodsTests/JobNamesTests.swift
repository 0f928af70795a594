import Testing
@testable import Pods

@Suite struct JobNamesTests {
    @Test func derivedNamesFitLinuxInterfaceNames() throws {
        let names = try JobNames("abcdefghijk") // 11 characters, the most allowed
        #expect(names.underlayPort(99).count == 15)
        #expect(names.launcherPort.count == 15)
        #expect(names.underlayBridge.count <= 15)
        #expect(names.pod(99) == "abcdefghijk-p99")
    }

    @Test func rejectsNamesThatCannotFit() {
        #expect(throws: PodsError.self) { try JobNames("abcdefghijkl") }
        #expect(throws: PodsError.self) { try JobNames("") }
        #expect(throws: PodsError.self) { try JobNames("Upper") }
        #expect(throws: PodsError.self) { try JobNames("9lives") }
        #expect(throws: PodsError.self) { try JobNames("trailing-") }
        #expect(throws: PodsError.self) { try JobNames("a_b") }
        let error = try? #require(throws: PodsError.self) { try JobNames("abcdefghijkl") }
        #expect(error?.isBadInput == true)
        #expect(error?.description.contains("abcdefghijkl") == true)
    }

    @Test func ownsOnlyItsOwnPieces() throws {
        let names = try JobNames("a")
        for own in ["a-n0", "a-n12", "a-p3", "a-ul", "a-l", "a-br", "a-u7", "a-ul0"] { #expect(names.owns(own), "\(own)") }
        // Another job's pieces that share the prefix are never claimed.
        for other in ["a-b-n0", "a-b-p1", "ab-n0", "a-p", "a-p100", "a-x1", "a-n0x", "b-n0"] { #expect(!names.owns(other), "\(other)") }
    }
}
