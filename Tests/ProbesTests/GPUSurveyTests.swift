import CUDA
import Probes
import Records
import Testing

/// NVML's account of the GPUs placed on hwloc's tree by PCI address, and hwloc's alone without NVML.
@Suite struct GPUSurveyTests {
    static let pci = [
        GPUDevice(index: 0, name: "NVIDIA GPU [10de:2335]", busID: "0000:65:00.0", numaNode: 0, nearestNIC: "ibp1s0"),
        GPUDevice(index: 1, name: "NVIDIA GPU [10de:2335]", busID: "0000:ca:00.0", numaNode: 1, nearestNIC: "ibp2s0"),
    ]

    @Test func nvmlNamesThemAndHwlocPlacesThem() {
        let nvml: (driverVersion: String?, cudaVersion: String?, gpus: [ManagementLibrary.GPU]) = (
            "580.65.06", "13.0",
            [ManagementLibrary.GPU(index: 0, name: "NVIDIA H200", uuid: "GPU-aa", memoryBytes: 150_754_820_096, busID: "00000000:CA:00.0"),
             ManagementLibrary.GPU(index: 1, name: "NVIDIA H200", uuid: "GPU-bb", memoryBytes: 150_754_820_096, busID: "00000000:65:00.0")])
        let merged = GPUSurvey.merge(pci: Self.pci, nvml: nvml)
        #expect(merged.map(\.uuid) == ["GPU-aa", "GPU-bb"])
        #expect(merged.map(\.busID) == ["0000:ca:00.0", "0000:65:00.0"])
        #expect(merged.map(\.numaNode) == [1, 0])
        #expect(merged.map(\.nearestNIC) == ["ibp2s0", "ibp1s0"])
        #expect(merged.allSatisfy { $0.driverVersion == "580.65.06" && $0.cudaVersion == "13.0" && $0.name == "NVIDIA H200" })
    }

    @Test func withoutNVMLHwlocsListStands() {
        #expect(GPUSurvey.merge(pci: Self.pci, nvml: nil) == Self.pci)
        #expect(GPUSurvey.merge(pci: Self.pci, nvml: (nil, nil, [])) == Self.pci)
        #expect(GPUSurvey.merge(pci: [], nvml: nil).isEmpty)
    }

    /// A datacentre GPU is a 3D controller; a VGA device counts only from a GPU vendor, not a BMC's.
    @Test func pciClassesThatAreGPUs() {
        #expect(Topology.isGPU(classID: 0x0302, vendor: 0x10de))
        #expect(Topology.isGPU(classID: 0x0300, vendor: 0x10de))
        #expect(!Topology.isGPU(classID: 0x0300, vendor: 0x1a03)) // ASPEED BMC
        #expect(!Topology.isGPU(classID: 0x0200, vendor: 0x15b3)) // a Mellanox NIC
    }

    /// This machine's hwloc listing (none on a VM without a GPU): every GPU on the PCI bus, its
    /// nearest NIC one of the network devices hwloc lists. (Environment.local is not called here:
    /// it reads MPI_T, which the MPI tests' singleton has finalized in this process.)
    @Test func hwlocListsGPUsWithTheirPlace() {
        let probe = Topology.Probe()
        let networks = Set((probe.topology?.pciDevices ?? []).filter { $0.kind == "network" || $0.kind == "openfabrics" }.map(\.name))
        for gpu in probe.gpus {
            #expect(gpu.busID.flatMap(PCIAddress.init) != nil, "\(gpu)")
            if let nic = gpu.nearestNIC { #expect(networks.contains(nic), "\(nic) is not among \(networks)") }
        }
        #expect(probe.gpus.map(\.index) == Array(probe.gpus.indices))
    }
}
