import Foundation
@testable import Probes
import Records
import Testing

@Suite struct NodeFeaturesTests {
    static func environment(mpi: String = "Open MPI v4.1.4", gpus: [GPUDevice]? = nil, container: Bool = false,
                            rdma: [JSONValue] = []) -> Environment {
        var environment = Environment(
            name: "native-shm", launcher: .init(kind: "singleton"), container: container ? .init(runtime: "kubernetes") : nil,
            network: nil, transport: .init(pml: "ob1", btl: "tcp,vader,self"), hostname: "node-1", hostnames: ["node-1"],
            cores: 16, cpuset: "0-15", cgroup: .init(), kernel: "Linux 6.1.0 x86_64", mpiLibrary: mpi, podgapVersion: "0.1.0",
            gitCommit: nil,
            topology: Topology(packages: 2, numaNodes: 2, cores: 16, processingUnits: 32, caches: [:], pciDevices: []),
            bindings: nil, ranksPerNode: 1, oversubscribed: false, yieldWhenIdle: false, yieldSetBy: nil, rdma: rdma)
        environment.gpus = gpus
        return environment
    }

    /// Every fact the issue names, as NFD would read the file; the odd GPU name and transport are
    /// made label text.
    @Test func labelsForAGPUNode() {
        let gpus = (0..<8).map { GPUDevice(index: $0, name: "NVIDIA H200 (SXM5) 141GB") }
        let features = NodeFeatures(environment: Self.environment(gpus: gpus, container: true, rdma: [.object(["name": "mlx5_0"])]),
                                    transports: ["vader", "tcp", "ucx", "weird name!"], cgroupVersion: "v2")
        #expect(features.text == """
            podgap.io/mpi.library=openmpi
            podgap.io/mpi.version=4.1.4
            podgap.io/mpi.transport.tcp=true
            podgap.io/mpi.transport.ucx=true
            podgap.io/mpi.transport.vader=true
            podgap.io/mpi.transport.weird-name=true
            podgap.io/rdma=true
            podgap.io/gpu.count=8
            podgap.io/gpu.model=NVIDIA-H200-SXM5-141GB
            podgap.io/cpu.cores=16
            podgap.io/numa.nodes=2
            podgap.io/cgroup.version=v2
            podgap.io/container=true
            podgap.io/version=0.1.0

            """)
        for label in features.labels {
            #expect(NodeFeatures.isLabelName(label.name) && NodeFeatures.isLabelValue(label.value), "\(label)")
        }
    }

    @Test func labelsWithoutGPUsOrVersion() {
        let features = NodeFeatures(environment: Self.environment(mpi: "unknown"), transports: [], cgroupVersion: nil)
        let names = features.labels.map(\.name)
        #expect(names.contains("podgap.io/gpu.count") && !names.contains("podgap.io/gpu.model"))
        #expect(!names.contains("podgap.io/mpi.version") && !names.contains("podgap.io/cgroup.version"))
        #expect(features.labels.first == .init(name: "podgap.io/mpi.library", value: "unknown"))
        #expect(features.labels.contains(.init(name: "podgap.io/container", value: "false")))
    }

    @Test(arguments: [("Open MPI v4.1.4", "openmpi", "4.1.4"), ("MPICH Version:\t4.0.2", "mpich", "4.0.2"),
                      ("Intel(R) MPI Library 2021.6 for Linux* OS", "intelrmpilibrary", "2021.6"),
                      ("unknown", "unknown", nil)])
    func mpiLibraryAndVersion(description: String, library: String, version: String?) {
        #expect(NodeFeatures.mpi(description) == (library, version))
    }

    /// Label text from anything: always a valid value, never longer than 63 characters.
    @Test func labelTextIsAlwaysValid() {
        #expect(NodeFeatures.labelText("NVIDIA H200") == "NVIDIA-H200")
        #expect(NodeFeatures.labelText("--a  b--") == "a-b")
        #expect(NodeFeatures.labelText("") == "unknown")
        #expect(NodeFeatures.labelText("Grüße, GPU") == "Gr-e-GPU")
        let long = NodeFeatures.labelText(String(repeating: "ab-", count: 40))
        #expect(long.count <= 63 && long.hasSuffix("b"))
        for text in ["x", "a.b_c-d", "  ", "é", "\u{0}", String(repeating: "z", count: 100), "-._", "1.2.3 (beta)"] {
            #expect(NodeFeatures.isLabelValue(NodeFeatures.labelText(text)), "\(text)")
        }
    }

    /// The syntax check itself, against Kubernetes' rules (IsQualifiedName, IsValidLabelValue).
    @Test func kubernetesLabelSyntax() {
        for good in ["podgap.io/gpu.count", "gpu", "a.b-c_d", "example.com/X9", String(repeating: "a", count: 63)] {
            #expect(NodeFeatures.isLabelName(good), "\(good)")
        }
        for bad in ["Podgap.io/x", "podgap.io/-x", "podgap.io/x-", "/x", "podgap.io/", "a/b/c", "podgap..io/x",
                    String(repeating: "a", count: 64), "podgap.io/a b", ""] {
            #expect(!NodeFeatures.isLabelName(bad), "\(bad)")
        }
        #expect(NodeFeatures.isLabelValue("") && NodeFeatures.isLabelValue("4.1.4") && NodeFeatures.isLabelValue("NVIDIA-H200"))
        #expect(!NodeFeatures.isLabelValue("a b") && !NodeFeatures.isLabelValue("-a") && !NodeFeatures.isLabelValue("a,b")
                && !NodeFeatures.isLabelValue(String(repeating: "a", count: 64)))
    }

    /// Debian's Open MPI: every BTL installed, openib, ofi and UCX excluded by its params file.
    @Test func transportsAreInstalledAndSelected() {
        let registered = ["btl_base_exclusivity", "btl_ofi_exclusivity", "btl_openib_exclusivity", "btl_tcp_exclusivity",
                          "btl_vader_exclusivity", "btl_self_exclusivity", "btl_tcp_if_include", "pml_ob1_priority", "pml_ucx_priority"]
        #expect(MPITransports.available(registered: registered, btl: "^uct,openib,ofi", pml: "^ucx") == ["tcp", "vader"])
        #expect(MPITransports.available(registered: registered, btl: "", pml: nil) == ["ofi", "openib", "tcp", "ucx", "vader"])
        #expect(MPITransports.available(registered: registered, btl: "tcp,self", pml: "ob1") == ["tcp"])
        #expect(MPITransports.available(registered: [], btl: nil, pml: nil).isEmpty)
    }

    @Test func cgroupVersionFromTheHierarchy() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cgroup-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        func make(_ path: String, file: Bool = false) throws {
            let url = root.appendingPathComponent(path)
            if file {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                FileManager.default.createFile(atPath: url.path, contents: Data())
            } else {
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            }
        }
        try make("")
        #expect(CgroupVersion.detect(root: root.path) == nil)
        try make("cpu")
        #expect(CgroupVersion.detect(root: root.path) == "v1")
        try make("unified/cgroup.controllers", file: true)
        #expect(CgroupVersion.detect(root: root.path) == "hybrid")
        try make("cgroup.controllers", file: true)
        #expect(CgroupVersion.detect(root: root.path) == "v2")
    }
}
