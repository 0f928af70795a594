import Foundation
import Records
import Testing
@testable import Pods

@Suite struct JobSpecTests {
    @Test func parsesMemoryAsKubernetesBinaryUnits() throws {
        #expect(try JobSpec.parseMemory("2G") == 2 * 1024 * 1024 * 1024)
        #expect(try JobSpec.parseMemory("2Gi") == 2_147_483_648)
        #expect(try JobSpec.parseMemory("512M") == 536_870_912)
        #expect(try JobSpec.parseMemory("8388608") == 8_388_608)
        for bad in ["", "2X", "G", "-1G", "1.5G", "1K", "99999999999T"] {
            #expect(throws: PodsError.self, "\(bad)") { try JobSpec.parseMemory(bad) }
        }
    }

    @Test func everyNodeNetworkModeIsAPodNetworkAndLoopbackIsNot() throws {
        #expect(PodNetwork(.overlay) == .overlay)
        #expect(PodNetwork(.loopback) == nil, "loopback has no emulated nodes")
        #expect(Set(PodNetwork.all.map(\.mode)) == Set(NetworkMode.allCases).subtracting([.loopback]))
        // One MTU, the overlay's lowered by VXLAN's 50 bytes; only CNI modes get namespaces of their own.
        #expect(PodNetwork.all.map(\.mtu) == [1500, 1500, 1500, 1450])
        #expect(PodNetwork.all.filter(\.usesCNI) == [.bridge, .routed, .overlay])
        #expect(PodNetwork.all.filter { !$0.spansNodes } == [.bridge])
        // Saved in job state as the mode's own name.
        let data = try JSONEncoder().encode([PodNetwork.routed])
        #expect(String(decoding: data, as: UTF8.self) == "[\"routed\"]")
        #expect(try JSONDecoder().decode([PodNetwork].self, from: data) == [.routed])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([PodNetwork].self, from: Data("[\"loopback\"]".utf8)) }
    }

    @Test func withoutContainersTheNodesAreTheHostsOnTheHostNetwork() throws {
        let spec = try JobSpec(name: "j", nodes: 2, podsPerNode: 1, network: .host, containers: false)
        #expect(spec.podCount == 0)
        #expect(!spec.containers)
        let overlay = try #require(throws: PodsError.self) {
            try JobSpec(name: "j", nodes: 2, podsPerNode: 1, network: .overlay, containers: false)
        }
        #expect(overlay.isBadInput && overlay.description.contains("--network host"))
        #expect(throws: PodsError.self) { try JobSpec(name: "j", nodes: 2, podsPerNode: 1, network: .host, containers: false, memory: "1G") }
    }

    @Test func checksLimitsAndPlacement() throws {
        let spec = try JobSpec(name: "j", nodes: 2, podsPerNode: 1, network: .overlay, knobs: Knobs(cpuLimit: 1.5), cpuset: "0-1", memory: "2G",
                               hostCPUs: CPUSet([0, 1]))
        #expect(spec.knobs.cpuLimit == 1.5)
        #expect(spec.cpuset == "0-1")
        #expect(spec.memoryBytes == 2 << 30)
        #expect(spec.results == "results/j")
        #expect(spec.pidsLimit == 4096 && !spec.userNamespace, "Docker-like defaults: a pids limit, no user namespace")
        #expect(spec.podCount == 2)
        // Too many pods for two-digit names, bridge across nodes, bad cpu values, limits without containers.
        #expect(throws: PodsError.self) { try JobSpec(name: "j", nodes: 11, podsPerNode: 10, network: .host) }
        #expect(throws: PodsError.self) { try JobSpec(name: "j", nodes: 2, podsPerNode: 1, network: .bridge) }
        #expect(throws: PodsError.self) { try JobSpec(name: "j", nodes: 1, podsPerNode: 2, network: .bridge, cpuset: "1-0") }
        // CPUs the machine does not have: one line naming the ones it has.
        let missing = try #require(throws: PodsError.self) {
            try JobSpec(name: "j", nodes: 1, podsPerNode: 2, network: .bridge, cpuset: "1,7", hostCPUs: CPUSet([0, 1]))
        }
        #expect(missing.isBadInput && missing.description == "--cpuset '1,7' names CPU 7, which this machine does not have: its CPUs are 0-1")
        #expect(throws: PodsError.self) { try JobSpec(name: "j", nodes: 0, podsPerNode: 1, network: .host) }
    }

    @Test func boundsThePidsLimitAndKeepsConfinementForPods() throws {
        #expect(try JobSpec(name: "j", nodes: 1, podsPerNode: 1, network: .bridge, pids: 64, userNamespace: true).pidsLimit == 64)
        for pids in [0, 15, 5_000_000] {
            let error = try #require(throws: PodsError.self) { try JobSpec(name: "j", nodes: 1, podsPerNode: 1, network: .bridge, pids: pids) }
            #expect(error.description.hasPrefix("--pids \(pids) must be between 16"))
        }
        #expect(throws: PodsError.self) { try JobSpec(name: "j", nodes: 2, podsPerNode: 1, network: .host, containers: false, userNamespace: true) }
        #expect(throws: PodsError.self) { try JobSpec(name: "j", nodes: 2, podsPerNode: 1, network: .host, containers: false, pids: 64) }
        // As in Kubernetes (hostUsers: false needs hostNetwork: false): no user namespace on the host network.
        let host = try #require(throws: PodsError.self) { try JobSpec(name: "j", nodes: 1, podsPerNode: 1, network: .host, userNamespace: true) }
        #expect(host.description.contains("bridge, routed, overlay"))
    }

    @Test func splitsTheHostCPUsIntoEqualNodeShares() throws {
        #expect(try JobSpec.shares(of: CPUSet([0, 1, 2, 3]), nodes: 2).map(\.listDescription) == ["0-1", "2-3"])
        // Five CPUs for two nodes: two each, the fifth left idle so that the nodes are alike.
        #expect(try JobSpec.shares(of: CPUSet([0, 1, 2, 3, 4]), nodes: 2).map(\.listDescription) == ["0-1", "2-3"])
        #expect(try JobSpec.shares(of: CPUSet([2, 5, 7]), nodes: 3).map(\.listDescription) == ["2", "5", "7"])
        let tooFew = try #require(throws: PodsError.self) { try JobSpec.shares(of: CPUSet([0]), nodes: 2) }
        #expect(tooFew.description == "--split-cpus: 2 nodes need at least 2 CPUs; this process may use 1 (0)")

        let spec = try JobSpec(name: "j", nodes: 2, podsPerNode: 1, network: .host, containers: false, splitCPUs: true, hostCPUs: CPUSet([0, 1]))
        #expect(spec.nodeCPUs == ["0", "1"])
        #expect(try JobSpec(name: "j", nodes: 2, podsPerNode: 1, network: .overlay).nodeCPUs == nil)
        #expect(throws: PodsError.self) {
            try JobSpec(name: "j", nodes: 2, podsPerNode: 1, network: .overlay, cpuset: "0", splitCPUs: true, hostCPUs: CPUSet([0, 1]))
        }
    }

    // MARK: knobs

    @Test func knobsAreCheckedAgainstTheMachineAndNeedContainers() throws {
        func refusal(_ make: () throws -> JobSpec) throws -> String {
            let error = try #require(throws: PodsError.self) { _ = try make() }
            #expect(error.isBadInput)
            return error.description
        }
        let two = CPUSet([0, 1])
        let above = try refusal { try JobSpec(name: "j", nodes: 1, podsPerNode: 2, network: .bridge, knobs: Knobs(cpuLimit: 3), hostCPUs: two) }
        #expect(above.contains("cpu-limit 3 is more than this machine's 2 CPU(s)"))
        let native = try refusal { try JobSpec(name: "j", nodes: 2, podsPerNode: 1, network: .host, containers: false, knobs: Knobs(slots: 2)) }
        #expect(native.contains("--no-containers makes no containers, so knobs"))
        let both = try refusal { try JobSpec(name: "j", nodes: 1, podsPerNode: 2, network: .bridge, knobs: Knobs(cpuLimit: 1, guaranteed: true), hostCPUs: two) }
        #expect(both.contains("drop cpu-limit"))
        // Three Guaranteed pods cannot each have a whole CPU of two.
        let three = try refusal { try JobSpec(name: "j", nodes: 1, podsPerNode: 3, network: .bridge, knobs: Knobs(guaranteed: true), hostCPUs: two) }
        #expect(three.contains("3 pods need 3 CPUs"))
        let pinned = try refusal { try JobSpec(name: "j", nodes: 1, podsPerNode: 2, network: .bridge, knobs: Knobs(guaranteed: true), cpuset: "0", hostCPUs: two) }
        #expect(pinned.contains("drop cpuset and split-cpus (--cpuset, --split-cpus)"))
    }

    @Test func guaranteedPodsGetExclusiveWholeCPUsWithoutAQuota() throws {
        let spec = try JobSpec(name: "j", nodes: 2, podsPerNode: 1, network: .overlay, knobs: Knobs(guaranteed: true), hostCPUs: CPUSet([0, 1, 2, 3, 4]))
        #expect(spec.podCPUs == ["0-1", "2-3"], "each pod the same whole CPUs, none shared, the remainder left to the host")
        #expect(spec.knobs.cpuLimit == nil)
        let burstable = try JobSpec(name: "j", nodes: 2, podsPerNode: 1, network: .overlay, knobs: Knobs(cpuLimit: 0.5), hostCPUs: CPUSet([0, 1]))
        #expect(burstable.podCPUs == nil)
        // The job state keeps the knobs.
        let decoded = try JSONDecoder().decode(JobSpec.self, from: JSONEncoder().encode(spec))
        #expect(decoded == spec)
    }
}
