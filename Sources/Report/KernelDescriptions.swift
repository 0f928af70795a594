import Records

/// Each kernel's descriptor as its records carry it. Reports read what a kernel measures and how
/// to order it from here, never from a list of kernel names; records without one (schema 1) get
/// the generic descriptor (the size sweep's when their points have sizes).
public struct KernelDescriptions: Sendable {
    public private(set) var byKernel: [String: KernelDescriptor] = [:]
    private var sweeps: Set<String> = []

    public init() {}

    /// Records what `fact` says about its kernel: the first descriptor seen wins.
    mutating func note(_ fact: RecordFacts) {
        // Runs of one kernel: look it up again only when it changes.
        // The descriptor is looked at last: reading it copies it (retains its lists), a million times.
        if fact.kernel == lastKernel && (fact.bytes == nil || lastSweeps) && (lastHadDescriptor || fact.descriptor == nil) { return }
        if byKernel[fact.kernel] == nil, let descriptor = fact.descriptor { byKernel[fact.kernel] = descriptor }
        if fact.bytes != nil { sweeps.insert(fact.kernel) }
        lastKernel = fact.kernel
        lastHadDescriptor = byKernel[fact.kernel] != nil
        lastSweeps = sweeps.contains(fact.kernel)
    }

    private var lastKernel: String?
    private var lastHadDescriptor = false
    private var lastSweeps = false

    mutating func merge(_ other: KernelDescriptions) {
        byKernel.merge(other.byKernel) { mine, _ in mine }
        sweeps.formUnion(other.sweeps)
    }

    public func descriptor(of kernel: String) -> KernelDescriptor {
        byKernel[kernel] ?? (sweeps.contains(kernel) ? .genericSweep : .generic)
    }

    /// Kernels in the order their descriptors ask for, then by name.
    public func precedes(_ a: String, _ b: String) -> Bool {
        let x = descriptor(of: a).order, y = descriptor(of: b).order
        return x != y ? x < y : a < b
    }

    /// Points in reading order: kernel, then `PointKey`'s own order.
    public func precedes(_ a: PointKey, _ b: PointKey) -> Bool {
        a.kernel != b.kernel ? precedes(a.kernel, b.kernel) : a < b
    }
}
