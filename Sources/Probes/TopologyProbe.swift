import Records
import CHwloc

extension Topology {
    /// The machine and this process's place on it, from one hwloc load (loading reads much of /sys).
    public struct Probe: Sendable {
        /// Nil if hwloc cannot load a topology.
        public var topology: Topology?
        /// This process's CPU binding as a cpu list; "unbound" when it may run anywhere.
        public var binding: String

        public init() {
            topology = nil
            binding = "unknown"
            var handle: hwloc_topology_t? = nil
            guard hwloc_topology_init(&handle) == 0 else { return }
            defer { hwloc_topology_destroy(handle) }
            hwloc_topology_set_io_types_filter(handle, HWLOC_TYPE_FILTER_KEEP_IMPORTANT)
            guard hwloc_topology_load(handle) == 0 else { return }
            topology = Topology.read(handle)
            binding = Topology.binding(handle)
        }
    }

    /// Reads the machine from a loaded hwloc topology, I/O devices included.
    private static func read(_ topology: hwloc_topology_t?) -> Topology {
        func count(_ type: hwloc_obj_type_t) -> Int { Int(max(chwloc_get_nbobjs_by_type(topology, type), 0)) }

        var caches: [String: Int64] = [:]
        let cacheTypes: [(hwloc_obj_type_t, String)] = [
            (HWLOC_OBJ_L1CACHE, "L1d"), (HWLOC_OBJ_L2CACHE, "L2"), (HWLOC_OBJ_L3CACHE, "L3"),
        ]
        for (type, name) in cacheTypes where count(type) > 0 {
            if let object = chwloc_get_obj_by_type(topology, type, 0), let attributes = object.pointee.attr {
                caches[name] = Int64(attributes.pointee.cache.size)
            }
        }

        var devices: [PCIDevice] = []
        var osDevice = chwloc_get_next_osdev(topology, nil)
        while let device = osDevice {
            let name = device.pointee.name.map { String(cString: $0) } ?? "?"
            let kind: String
            switch device.pointee.attr?.pointee.osdev.type {
            case HWLOC_OBJ_OSDEV_NETWORK: kind = "network"
            case HWLOC_OBJ_OSDEV_OPENFABRICS: kind = "openfabrics"
            case HWLOC_OBJ_OSDEV_GPU, HWLOC_OBJ_OSDEV_COPROC: kind = "gpu"
            case HWLOC_OBJ_OSDEV_BLOCK: kind = "storage"
            default: kind = "other"
            }
            var busID = ""
            if let parent = device.pointee.parent, parent.pointee.type == HWLOC_OBJ_PCI_DEVICE,
               let pci = parent.pointee.attr?.pointee.pcidev {
                busID = String(format: "%04x:%02x:%02x.%x", pci.domain, pci.bus, pci.dev, pci.func)
            }
            var numaNode: Int? = nil
            if let ancestor = chwloc_get_non_io_ancestor(topology, device), let nodeset = ancestor.pointee.nodeset {
                let first = hwloc_bitmap_first(nodeset)
                if first >= 0 { numaNode = Int(first) }
            }
            // Only devices on a PCI bus are "near" a NUMA node; virtual ones (lo, veth) are not listed.
            if !busID.isEmpty { devices.append(PCIDevice(kind: kind, name: name, busID: busID, numaNode: numaNode)) }
            osDevice = chwloc_get_next_osdev(topology, device)
        }

        return Topology(packages: count(HWLOC_OBJ_PACKAGE), numaNodes: max(count(HWLOC_OBJ_NUMANODE), 1),
                        cores: count(HWLOC_OBJ_CORE), processingUnits: count(HWLOC_OBJ_PU),
                        caches: caches, pciDevices: devices)
    }

    /// This process's CPU binding as hwloc reads it, as a cpu list; "unbound" when it may run anywhere.
    private static func binding(_ topology: hwloc_topology_t?) -> String {
        guard let set = hwloc_bitmap_alloc() else { return "unknown" }
        defer { hwloc_bitmap_free(set) }
        guard hwloc_get_cpubind(topology, set, Int32(HWLOC_CPUBIND_PROCESS.rawValue)) == 0 else { return "unknown" }
        if let all = hwloc_topology_get_complete_cpuset(topology), hwloc_bitmap_isincluded(all, set) != 0 {
            return "unbound"
        }
        var cpus: [Int] = []
        var index = hwloc_bitmap_first(set)
        while index >= 0 {
            cpus.append(Int(index))
            index = hwloc_bitmap_next(set, index)
        }
        return CPUSet(cpus).listDescription
    }
}
