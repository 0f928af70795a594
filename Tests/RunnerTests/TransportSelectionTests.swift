import Testing
import RDMA
import RDMATestSupport
@testable import Runner

/// The choice between UCX, TCP and shared memory, from device lists given as data.
@Suite struct TransportSelectionTests {
    let infiniband = RDMAFixtures.device("mlx5_0", ports: [RDMAFixtures.port(1, netdevs: ["ib0"])])
    let roce = RDMAFixtures.device("mlx5_1", uverbs: 1, ports: [RDMAFixtures.port(1, link: .ethernet, netdevs: ["ens1f0"]),
                                                            RDMAFixtures.port(2, state: "down", link: .ethernet, netdevs: ["ens1f1"])])
    let down = RDMAFixtures.device("mlx5_2", uverbs: 2, ports: [RDMAFixtures.port(1, state: "down", netdevs: ["ib2"])])

    @Test func autoUsesUCXOverEveryActivePortBetweenNodes() throws {
        let decision = try TransportSelection.select(.auto, devices: [infiniband, roce, down], singleNode: false)
        #expect(decision.transport == "ucx")
        #expect(decision.variables == ["OMPI_MCA_pml": "ucx", "OMPI_MCA_pml_ucx_devices": "mlx5_0,mlx5_1",
                                       "UCX_NET_DEVICES": "mlx5_0:1,mlx5_1:1"])
        #expect(decision.note.contains("mlx5_0:1,mlx5_1:1"))
    }

    @Test func autoOnOneNodeLeavesSharedMemory() throws {
        let decision = try TransportSelection.select(.auto, devices: [infiniband], singleNode: true)
        #expect(decision.transport == "shared-memory")
        #expect(decision.variables.isEmpty)
    }

    @Test func autoWithoutActivePortsFallsBackToTCP() throws {
        let none = try TransportSelection.select(.auto, devices: [], singleNode: false)
        #expect(none.transport == "tcp")
        #expect(none.variables.isEmpty)
        #expect(none.note.contains("no RDMA device"))
        let allDown = try TransportSelection.select(.auto, devices: [down], singleNode: false)
        #expect(allDown.transport == "tcp")
        #expect(allDown.note.contains("no active RDMA port on mlx5_2"))
    }

    @Test func autoLeavesAnExplicitChoiceAlone() throws {
        let decision = try TransportSelection.select(.auto, devices: [infiniband], singleNode: false,
                                                     environment: ["OMPI_MCA_btl": "tcp,self", "PATH": "/usr/bin"])
        #expect(decision.transport == "environment")
        #expect(decision.variables.isEmpty)
        #expect(decision.note.contains("OMPI_MCA_btl=tcp,self"))
    }

    @Test func tcpIsForcedOverTheRDMAPortsOwnInterfaces() throws {
        let decision = try TransportSelection.select(.tcp, devices: [infiniband, roce, down], singleNode: false,
                                                     environment: ["OMPI_MCA_pml": "ucx"])
        #expect(decision.transport == "tcp")
        // Only active ports' interfaces: ib2 and ens1f1 belong to ports that are down.
        #expect(decision.variables == ["OMPI_MCA_pml": "ob1", "OMPI_MCA_btl": "tcp,self",
                                       "OMPI_MCA_btl_tcp_if_include": "ib0,ens1f0"])
        let oneNode = try TransportSelection.select(.tcp, devices: [infiniband], singleNode: true)
        #expect(oneNode.variables == ["OMPI_MCA_pml": "ob1", "OMPI_MCA_btl": "tcp,self"])
        let noDevices = try TransportSelection.select(.tcp, devices: [], singleNode: false)
        #expect(noDevices.variables == ["OMPI_MCA_pml": "ob1", "OMPI_MCA_btl": "tcp,self"])
    }

    @Test func ucxIsRefusedWithoutAnActivePort() throws {
        #expect(throws: RDMAError.noDevice("--transport ucx needs an active InfiniBand or RoCE port and this machine has no RDMA device")) {
            try TransportSelection.select(.ucx, devices: [], singleNode: false)
        }
        do {
            _ = try TransportSelection.select(.ucx, devices: [down], singleNode: true)
            Issue.record("ucx was chosen with every port down")
        } catch let error as RDMAError {
            #expect(error.description.hasPrefix("no RDMA device: "))
            #expect(error.description.contains("mlx5_2"))
        }
        // Asked for explicitly, UCX is used even on one node.
        let decision = try TransportSelection.select(.ucx, devices: [infiniband], singleNode: true)
        #expect(decision.variables["UCX_NET_DEVICES"] == "mlx5_0:1")
        // A two-port adapter is named once for Open MPI, each port once for UCX.
        let dual = RDMAFixtures.device("irdma0", ports: [RDMAFixtures.port(1, link: .ethernet), RDMAFixtures.port(2, link: .ethernet)])
        let both = try TransportSelection.select(.ucx, devices: [dual], singleNode: false)
        #expect(both.variables["OMPI_MCA_pml_ucx_devices"] == "irdma0")
        #expect(both.variables["UCX_NET_DEVICES"] == "irdma0:1,irdma0:2")
    }

    @Test func requestsParseFromTheirNames() {
        #expect(TransportRequest(rawValue: "tcp") == .tcp)
        #expect(TransportRequest(rawValue: "rdma") == nil)
        #expect(TransportRequest.allCases.map(\.rawValue) == ["auto", "ucx", "tcp"])
    }
}
