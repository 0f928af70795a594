// The writer of legacy-state.json: run with `swiftc JobNames.swift legacy-state-writer.swift`, where
// JobNames.swift is `git show 97d55fc^:Sources/Pods/JobNames.swift`. Not compiled with the tests.
// Writes the job state an older podgap (97d55fc^, before knobs: `spec.cpus`) saved for
// `pods up --name legacy --nodes 2 --network overlay --cpus 0.5`, with a launch in progress.
// The structs' stored properties are copied from `git show 97d55fc^:Sources/Pods/JobSpec.swift`
// and `JobState.swift`; the encoder is the one `JobState.save` used.
import Foundation
enum PodsError: Error { case badInput(String) }
struct PodNetwork: Codable { var mode: String
    init(_ mode: String) { self.mode = mode }
    func encode(to encoder: Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(mode) } }
struct GPUInjection: Codable {}
struct JobSpec: Codable {
    var name: String
    var nodes: Int
    var podsPerNode: Int
    var network: PodNetwork
    var containers: Bool
    var cpus: Double?
    var cpuset: String?
    var nodeCPUs: [String]?
    var memoryBytes: Int64?
    var results: String
    var pidsLimit: Int
    var userNamespace: Bool
}
struct JobState: Codable {
    struct Pod: Codable {
        var name: String
        var node: Int
        var address: String
        var netns: String
        var results: String
    }
    var spec: JobSpec
    var pods: [Pod]
    var nodes: [String]
    var nodeNetns: [String]
    var underlayNetns: String
    var underlayLinks: [String]
    var launcherNetns: String
    var launcherAddress: String
    var bundle: String?
    var runtimeVersion: String?
    var results: String
    var created: String
    var launchPID: Int32?
    var gpus: GPUInjection?
}
let names = try JobNames("legacy")
let results = "/root/podgap/results/legacy"
let spec = JobSpec(name: "legacy", nodes: 2, podsPerNode: 1, network: PodNetwork("overlay"), containers: true, cpus: 0.5,
                   cpuset: nil, nodeCPUs: nil, memoryBytes: nil, results: results, pidsLimit: 4096, userNamespace: false)
let pods = (0..<2).map { JobState.Pod(name: names.pod($0), node: $0, address: "198.19.\($0).2", netns: names.podNetns($0), results: "\(results)/\(names.pod($0))") }
let state = JobState(spec: spec, pods: pods, nodes: (0..<2).map(names.node), nodeNetns: (0..<2).map(names.nodeNetns),
                     underlayNetns: names.underlay, underlayLinks: [names.underlayBridge] + (0..<2).map(names.underlayPort),
                     launcherNetns: names.launcher, launcherAddress: "198.19.0.3", bundle: "/var/lib/podgap/bundles/0f3c9a1e",
                     runtimeVersion: "runc version 1.1.5+ds1", results: results, created: "2026-12-07T17:40:12Z", launchPID: 4242, gpus: nil)
let encoder = JSONEncoder()
encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
FileHandle.standardOutput.write(try encoder.encode(state))
