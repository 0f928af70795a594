import Testing
@testable import Pods

@Suite struct NetworkCommandsTests {
    @Test func overlayIsFlannelStyleVXLANWithOneRouteARPAndFDBEntryPerRemoteNode() throws {
        let lines = PodNetwork.overlay.nodeCommands(0, nodes: 3)
        let device = try #require(lines.first { $0.hasPrefix("link add flannel.1") })
        #expect(device.contains("type vxlan id 1 dstport 8472"))
        #expect(device.contains("local 198.18.0.1 dev eth0 nolearning"))
        #expect(lines.contains("link set flannel.1 mtu 1450 up"))
        #expect(lines.contains("addr add 198.19.0.0/32 dev flannel.1"))
        // Two remote nodes: one route and one permanent neighbour each, none for itself.
        #expect(lines.filter { $0.hasPrefix("route add") } == [
            "route add 198.19.1.0/24 via 198.19.1.0 dev flannel.1 onlink",
            "route add 198.19.2.0/24 via 198.19.2.0 dev flannel.1 onlink",
        ])
        #expect(lines.filter { $0.hasPrefix("neigh add") }.count == 2)
        #expect(lines.contains("neigh add 198.19.2.0 lladdr 0e:70:67:00:00:03 dev flannel.1 nud permanent"))
        #expect(PodNetwork.overlay.forwardingCommands(0, nodes: 3) == [
            "fdb append 0e:70:67:00:00:02 dev flannel.1 dst 198.18.0.2",
            "fdb append 0e:70:67:00:00:03 dev flannel.1 dst 198.18.0.3",
        ])
    }

    @Test func routedSendsEachRemotePodSubnetToItsNodeWithoutEncapsulation() {
        let lines = PodNetwork.routed.nodeCommands(1, nodes: 2)
        #expect(lines.contains("addr add 198.18.0.2/24 dev eth0"))
        #expect(lines.filter { $0.hasPrefix("route add") } == ["route add 198.19.0.0/24 via 198.18.0.1 dev eth0"])
        #expect(!lines.contains { $0.contains("vxlan") })
        #expect(PodNetwork.routed.forwardingCommands(1, nodes: 2).isEmpty)
        #expect(PodNetwork.bridge.nodeCommands(0, nodes: 2).count == 3)
    }

    @Test func underlayJoinsEveryNodeAndTheLauncherToOneBridge() throws {
        let names = try JobNames("j")
        let stem = names.stem
        // Made from the host, each link straight in its namespace: none of them is ever on the host.
        let links = LinkCommands.underlayLinks(names, nodes: 2, launcher: true)
        #expect(links.contains("link add \(stem)-br netns \(stem)-ul type bridge"))
        #expect(links.contains("link add \(stem)-u0 netns \(stem)-ul type veth peer name eth0 netns \(stem)-n0"))
        #expect(links.contains("link add \(stem)-u1 netns \(stem)-ul type veth peer name eth0 netns \(stem)-n1"))
        #expect(links.contains("link add \(stem)-ul0 netns \(stem)-ul type veth peer name eth0 netns \(stem)-l"))
        #expect(links.allSatisfy { $0.contains(" netns \(stem)-ul ") }, "every link is made in the underlay's namespace")
        let lines = LinkCommands.underlayCommands(names, nodes: 2, launcher: true)
        #expect(lines.filter { $0.hasSuffix("master \(stem)-br up") }.count == 3)
        #expect(lines.contains("link set \(stem)-br up") && lines.contains("link set lo up"))
        #expect(!LinkCommands.underlayLinks(names, nodes: 2, launcher: false).contains { $0.contains("\(stem)-ul0") })
        #expect(!LinkCommands.underlayCommands(names, nodes: 2, launcher: false).contains { $0.contains("\(stem)-ul0") })
    }

    @Test func theMTUKnobSetsTheUnderlayAndTheOverlayFiftyBytesLess() throws {
        let jumbo = PodNetwork.overlay.withUnderlayMTU(9000)
        #expect(jumbo.underlayMTU == 9000 && jumbo.mtu == 8950)
        #expect(PodNetwork.routed.withUnderlayMTU(9000).mtu == 9000, "no encapsulation, the pods' MTU is the underlay's")
        #expect(PodNetwork.overlay.withUnderlayMTU(nil) == .overlay)
        let lines = jumbo.nodeCommands(0, nodes: 2)
        #expect(lines.contains("link set eth0 mtu 9000 up"))
        #expect(lines.contains("link set flannel.1 mtu 8950 up"))
        let names = try JobNames("j")
        let underlay = LinkCommands.underlayLinks(names, nodes: 2, launcher: false, network: jumbo)
        let (stem, ul) = (names.stem, names.underlay)
        #expect(underlay.contains("link add \(stem)-br netns \(ul) mtu 9000 type bridge"))
        #expect(underlay.contains("link add \(stem)-u0 netns \(ul) mtu 9000 type veth peer name eth0 mtu 9000 netns \(stem)-n0"))
        #expect(CNI.bridgeConfig(job: "j", network: jumbo, node: 0, dataDir: "/d")["mtu"] as? Int == 8950)
    }
}
