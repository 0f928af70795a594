import Records
import CUDA

/// The GPUs a node has, as `podgap env` and the records of GPU runs list them: NVML's account
/// (name, UUID, memory, driver and CUDA versions) where the NVIDIA driver is installed, each
/// placed by its PCI address on hwloc's tree (NUMA node, nearest network device); hwloc's PCI
/// listing alone where NVML is absent.
public enum GPUSurvey {
    /// Asks NVML, and merges its answer with hwloc's `pci` GPUs.
    public static func devices(pci: [GPUDevice]) -> [GPUDevice] {
        merge(pci: pci, nvml: ManagementLibrary.survey())
    }

    /// NVML's GPUs with hwloc's placement matched by PCI address; hwloc's list when NVML saw none.
    public static func merge(pci: [GPUDevice],
                             nvml: (driverVersion: String?, cudaVersion: String?, gpus: [ManagementLibrary.GPU])?) -> [GPUDevice] {
        guard let nvml, !nvml.gpus.isEmpty else { return pci }
        let placed = Dictionary(pci.compactMap { gpu in gpu.busID.flatMap(PCIAddress.init).map { ($0, gpu) } },
                                uniquingKeysWith: { first, _ in first })
        return nvml.gpus.map { gpu in
            let address = gpu.busID.flatMap(PCIAddress.init)
            let place = address.flatMap { placed[$0] }
            return GPUDevice(index: gpu.index, name: gpu.name, uuid: gpu.uuid, memoryBytes: gpu.memoryBytes,
                             busID: address?.text ?? gpu.busID, numaNode: place?.numaNode,
                             driverVersion: nvml.driverVersion, cudaVersion: nvml.cudaVersion,
                             nearestNIC: place?.nearestNIC)
        }
    }
}
