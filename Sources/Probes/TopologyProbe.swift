import Records
import CHwloc

extension Topology {
    /// The machine and this process's place on it, from one hwloc load (loading reads much of /sys).
    public struct Probe: Sendable {
        /// Nil if hwloc cannot load a topology.
        public var topology: Topology?
        /// This process's CPU binding as a cpu list; "unbound" when it may run anywhere.
        public var binding: String
        /// GPUs on the PCI bus (class 0x0300 VGA or 0x0302 3D controller, as a datacentre GPU
        /// is), in bus order, each with its NUMA node and the network device nearest it. Found
        /// from the PCI class, so listed even where no GPU driver plugin of hwloc names them.
        public var gpus: [GPUDevice] = []

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
            gpus = Topology.gpus(handle)
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

    /// PCI class codes of display controllers: 0x0302 3D (a datacentre GPU, no display output),
    /// and 0x0300 VGA-compatible from GPU vendors only: a server's BMC shows as a VGA device too
    /// (ASPEED 0x1a03, Matrox 0x102b).
    static let threeDClass: UInt16 = 0x0302, vgaClass: UInt16 = 0x0300
    static let gpuVendors: [UInt16: String] = [0x10de: "NVIDIA", 0x1002: "AMD", 0x8086: "Intel"]

    public static func isGPU(classID: UInt16, vendor: UInt16) -> Bool {
        classID == threeDClass || (classID == vgaClass && gpuVendors[vendor] != nil)
    }

    /// The GPUs among the PCI devices, and for each the PCI network device (Ethernet or
    /// InfiniBand) fewest tree hops away: under the same switch before the same NUMA node.
    private static func gpus(_ topology: hwloc_topology_t?) -> [GPUDevice] {
        var networks: [(name: String, pci: hwloc_obj_t)] = []
        var osDevice = chwloc_get_next_osdev(topology, nil)
        while let device = osDevice {
            let type = device.pointee.attr?.pointee.osdev.type
            if type == HWLOC_OBJ_OSDEV_NETWORK || type == HWLOC_OBJ_OSDEV_OPENFABRICS,
               let parent = device.pointee.parent, parent.pointee.type == HWLOC_OBJ_PCI_DEVICE {
                networks.append((device.pointee.name.map { String(cString: $0) } ?? "?", parent))
            }
            osDevice = chwloc_get_next_osdev(topology, device)
        }
        var gpus: [GPUDevice] = []
        var pci = chwloc_get_next_pcidev(topology, nil)
        while let device = pci {
            pci = chwloc_get_next_pcidev(topology, device)
            guard let attributes = device.pointee.attr?.pointee.pcidev,
                  isGPU(classID: attributes.class_id, vendor: attributes.vendor_id) else { continue }
            let busID = String(format: "%04x:%02x:%02x.%x", attributes.domain, attributes.bus, attributes.dev, attributes.func)
            let vendor = gpuVendors[attributes.vendor_id] ?? String(format: "vendor %04x", attributes.vendor_id)
            let name = device.pointee.name.map { String(cString: $0) }
                ?? "\(vendor) GPU [\(String(format: "%04x:%04x", attributes.vendor_id, attributes.device_id))]"
            var numaNode: Int? = nil
            if let ancestor = chwloc_get_non_io_ancestor(topology, device), let nodeset = ancestor.pointee.nodeset {
                let first = hwloc_bitmap_first(nodeset)
                if first >= 0 { numaNode = Int(first) }
            }
            let nearest = networks.min { hops(device, $0.pci) < hops(device, $1.pci) }
            var gpu = GPUDevice(index: gpus.count, name: name, busID: busID, numaNode: numaNode)
            gpu.nearestNIC = nearest?.name
            gpus.append(gpu)
        }
        return gpus
    }

    /// Tree hops between two objects through their closest common ancestor.
    static func hops(_ a: hwloc_obj_t, _ b: hwloc_obj_t) -> Int {
        func chain(_ object: hwloc_obj_t) -> [hwloc_obj_t] {
            var chain = [object]
            while let parent = chain.last!.pointee.parent { chain.append(parent) }
            return chain
        }
        let up = chain(a), down = chain(b)
        for (distance, object) in up.enumerated() {
            if let other = down.firstIndex(of: object) { return distance + other }
        }
        return Int.max / 2
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
