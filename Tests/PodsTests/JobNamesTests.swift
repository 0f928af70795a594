import Testing
@testable import Pods

@Suite struct JobNamesTests {
    @Test func anyDNS1123LabelIsAJobNameAndItsLinksFitLinuxInterfaceNames() throws {
        let longest = String(repeating: "a", count: 62) + "z"
        for job in ["a", "9lives", "abcdefghijk", "job-with-a-name-of-exactly-forty-chars-x", longest] {
            let names = try JobNames(job)
            for link in [names.underlayBridge, names.underlayPort(99), names.launcherPort] {
                #expect(link.count <= 15, "\(link) of \(job)")
            }
            // Hostnames hold at most 63 characters.
            #expect(names.pod(99).count <= 63 && names.node(99).count <= 63, "\(names.pod(99))")
            #expect(names.nodeNetns(0).hasPrefix("pg" + names.key) && names.key.count == 8)
        }
        // Names that fit stay as they are; a name too long for a hostname's suffix is cut and keeps the hash.
        #expect(try JobNames("demo").pod(3) == "demo-p3")
        let cut = try JobNames(longest)
        #expect(cut.pod(0) == String(repeating: "a", count: 50) + "-" + cut.key + "-p0")
        #expect(cut.key != (try JobNames(String(repeating: "a", count: 63))).key, "the hash tells cut names apart")
        // Stable across runs and builds: down finds a crashed job's pieces by recomputing it.
        #expect(JobNames.hash("demo") == JobNames.hash("demo") && JobNames.hash("demo") != JobNames.hash("demo2"))
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (the published test vector), folded: af63dc4c ^ 8601ec8c.
        #expect(JobNames.hash("a") == "296230c0")
    }

    @Test func rejectsNamesThatAreNotDNS1123Labels() {
        for bad in ["", String(repeating: "a", count: 64), "Upper", "-lead", "trailing-", "a_b", "a.b", "ä"] {
            let error = try? #require(throws: PodsError.self, "\(bad)") { try JobNames(bad) }
            #expect(error?.isBadInput == true)
            if !bad.isEmpty { #expect(error?.description.contains(bad) == true) }
        }
    }

    @Test func ownsOnlyItsOwnPieces() throws {
        let names = try JobNames("a")
        let stem = names.stem
        for own in ["\(stem)-n0", "\(stem)-n12", "\(stem)-p3", "\(stem)-ul", "\(stem)-l"] { #expect(names.ownsNamespace(own), "\(own)") }
        for own in ["a-p0", "a-p12"] { #expect(names.ownsPod(own), "\(own)") }
        // Another job's pieces that share the prefix are never claimed.
        let other = try JobNames("a-b")
        for name in ["\(other.stem)-n0", "\(stem)-p", "\(stem)-p100", "\(stem)-x1", "\(stem)-n0x", "a-n0"] {
            #expect(!names.ownsNamespace(name), "\(name)")
        }
        for name in ["a-b-p0", "ab-p0", "a-p", "a-p100", "a-n0", "b-p0"] { #expect(!names.ownsPod(name), "\(name)") }
    }
}
