import Foundation
import Records
import Testing

/// `podgap env --format nfd` as NFD's local feature source reads it: `name=value` lines whose
/// names and values are Kubernetes labels (checked here against the rules, independently of the
/// formatter's own check).
@Suite struct NodeFeaturesCommandTests {
    static let name = try! NSRegularExpression(pattern: "^podgap\\.io/[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
    static let value = try! NSRegularExpression(pattern: "^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")

    static func matches(_ expression: NSRegularExpression, _ text: String) -> Bool {
        expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    @Test func thisNodeAsFeatureFileLines() throws {
        let finished = try Shell.run(Shell.podgap, ["env", "--format", "nfd"], timeout: 60)
        #expect(finished.status == 0, "\(finished.stderr)")
        var labels: [String: String] = [:]
        for line in finished.stdout.split(separator: "\n").map(String.init) {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            #expect(parts.count == 2, "\(line)")
            guard parts.count == 2 else { continue }
            #expect(Self.matches(Self.name, parts[0]) && Self.matches(Self.value, parts[1]), "\(line)")
            #expect(labels.updateValue(parts[1], forKey: parts[0]) == nil, "\(parts[0]) twice")
        }
        // Debian's Open MPI, shared memory and TCP at least, and the cores this process sees.
        #expect(labels["podgap.io/mpi.library"] == "openmpi")
        #expect(labels["podgap.io/mpi.version"]?.first?.isNumber == true)
        #expect(labels["podgap.io/mpi.transport.tcp"] == "true" && labels["podgap.io/mpi.transport.vader"] == "true")
        #expect(labels["podgap.io/cpu.cores"] == String(ProcessInfo.processInfo.activeProcessorCount))
        #expect(["true", "false"].contains(labels["podgap.io/rdma"] ?? "") && ["true", "false"].contains(labels["podgap.io/container"] ?? ""))
        #expect(Int(labels["podgap.io/gpu.count"] ?? "") != nil && Int(labels["podgap.io/numa.nodes"] ?? "") ?? 0 >= 1)
    }

    /// `env --json` says GPUs and RDMA devices the same way: a list, empty where they were looked
    /// for and none found, so a reader can tell "none" from "not probed"; it reads back as records do.
    @Test func envJSONListsGPUsAndRDMAEvenWhenNone() throws {
        let finished = try Shell.run(Shell.podgap, ["env", "--json"], timeout: 60)
        #expect(finished.status == 0, "\(finished.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(finished.stdout.utf8)) as? [String: Any])
        let gpus = try #require(object["gpus"] as? [[String: Any]], "gpus is missing or not a list: \(object["gpus"] ?? "absent")")
        #expect(object["rdma"] is [Any])
        let environment = try JSONDecoder().decode(Environment.self, from: Data(finished.stdout.utf8))
        #expect(environment.gpus?.count == gpus.count)
    }

    @Test func unknownFormatListsTheValidOnes() throws {
        let finished = try Shell.run(Shell.podgap, ["env", "--format", "yaml"], timeout: 60)
        #expect(finished.status == 2)
        #expect(finished.stderr.contains("'text', 'json' or 'nfd'"), "\(finished.stderr)")
    }
}
