import Testing
@testable import Pods

@Suite struct CNIConfigTests {
    @Test func bridgeOnOneNodeIsNotAGateway() throws {
        let config = CNI.bridgeConfig(job: "j", network: .bridge, node: 0, dataDir: "/run/podgap/j/cni/n0")
        #expect(config["type"] as? String == "bridge")
        #expect(config["bridge"] as? String == "cni0")
        #expect(config["isGateway"] as? Bool == false)
        #expect(config["ipMasq"] as? Bool == false)
        #expect(config["mtu"] as? Int == 1500)
        let ipam = try #require(config["ipam"] as? [String: Any])
        #expect(ipam["type"] as? String == "host-local")
        #expect(ipam["dataDir"] as? String == "/run/podgap/j/cni/n0")
        let ranges = try #require(ipam["ranges"] as? [[[String: Any]]])
        #expect(ranges[0][0]["subnet"] as? String == "198.19.0.0/24")
        #expect(ipam["routes"] == nil)
    }

    @Test func overlayBridgeRoutesThroughItsGatewayWithVXLANMTU() throws {
        let config = CNI.bridgeConfig(job: "j", network: .overlay, node: 1, dataDir: "/d")
        #expect(config["isGateway"] as? Bool == true)
        // VXLAN adds 50 bytes (outer Ethernet 14 + IP 20 + UDP 8 + VXLAN 8): 1500 - 50.
        #expect(config["mtu"] as? Int == 1450)
        let ipam = try #require(config["ipam"] as? [String: Any])
        let range = try #require((ipam["ranges"] as? [[[String: Any]]])?.first?.first)
        #expect(range["subnet"] as? String == "198.19.1.0/24")
        #expect(range["gateway"] as? String == "198.19.1.1")
        #expect((ipam["routes"] as? [[String: String]])?.first?["dst"] == "0.0.0.0/0")
    }

    @Test func addressesStayInsideTheBenchmarkingRange() {
        // 198.18.0.0/15 is 198.18.0.0 - 198.19.255.255.
        for index in [0, 1, 98] {
            for address in [LinkCommands.nodeAddress(index), LinkCommands.podGateway(index), LinkCommands.vtepAddress(index)] {
                let octets = address.split(separator: ".").compactMap { Int($0) }
                #expect(octets.count == 4 && octets[0] == 198 && (octets[1] == 18 || octets[1] == 19), "\(address)")
            }
        }
        #expect(LinkCommands.vtepMAC(0) == "0e:70:67:00:00:01")
        #expect(LinkCommands.vtepMAC(1) != LinkCommands.vtepMAC(0))
    }
}
