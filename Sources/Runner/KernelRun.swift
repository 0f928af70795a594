import Foundation
import Kernels
import Launch
import MPI
import Probes
import Records

/// One `podgap run <kernel>` on one rank: everything between parsed arguments and exit. Checks what
/// can be checked before MPI starts (memory fit, transport, output file), turns on yield-when-idle
/// when ranks oversubscribe cores, arms the timeout, probes the machine, measures, and has rank 0
/// write each record the moment its point is done.
public struct KernelRun {
    public let settings: RunSettings
    public let context: LaunchContext

    /// What only the kernel's device knows, added to the environment on every rank once MPI runs
    /// (the GPU each rank uses); collective.
    public typealias EnvironmentAmendment = (inout Environment, Communicator) throws -> Void

    public init(settings: RunSettings, context: LaunchContext = LaunchContext()) {
        self.settings = settings
        self.context = context
    }

    /// Runs `kernel` on every rank of the launch. Throws `RunFailure`: exit 2 for input that cannot
    /// run (before any allocation or MPI traffic, and leaving no empty `--out` file), 3 for a
    /// missing device, 1 when a point failed verification.
    ///
    /// `amend` adds what only the kernel knows to the environment (the GPU each rank uses);
    /// collective: every rank calls it once MPI has started.
    public func run<K: Kernel>(_ kernel: K, table: (any ResultTable)?, amend: EnvironmentAmendment? = nil) throws {
        try KernelRun.run([KernelStep(kernel, settings: settings, table: table, amend: amend)], context: context)
    }

    /// Runs `steps` one after another in one MPI job (`podgap run sequence`): one MPI_Init, one
    /// environment probe, then each kernel measured and written exactly as when it runs alone,
    /// each after a barrier and a fresh machine probe, with its own run id, output and table.
    /// Everything that can be refused is refused for every step before MPI starts. A step that
    /// fails verification does not stop the next ones (exit 1 at the end, as alone); one that
    /// throws ends the job, and the records of the steps before it stay written. With a `gate`
    /// folder, every rank waits between two kernels until the suite has read the nodes' counters
    /// (`KernelSequence.gateOption`).
    public static func run(_ steps: [KernelStep], context: LaunchContext, gate: String? = nil) throws {
        guard let first = steps.first else { throw RunFailure.badInput("no kernel to run") }
        for step in steps { try MemoryFit.check(step.memoryPerRank(context.size), ranksOnNode: context.localSize) }
        // One MPI job has one transport and one environment: every step must say the same.
        for step in steps.dropFirst() where step.settings.transport != first.settings.transport || step.settings.label != first.settings.label {
            throw RunFailure.badInput("\(step.name): every kernel of one launch must give the same --transport and --label (they share one MPI job)")
        }
        // MPI_Init reads the transport variables, so the choice is made (and checked) first.
        let transport = try TransportSelection.apply(first.settings.transport, context: context)
        // Rank 0 alone writes; it opens every file before MPI starts so that a bad path fails fast.
        var outputs: [OutputFile?] = []
        do {
            for step in steps { outputs.append(try context.rank == 0 ? step.settings.out.map { try OutputFile(path: $0) } : nil) }
            try measure(steps, outputs: outputs.map { $0?.writer }, transport: transport, context: context, gate: gate)
        } catch {
            outputs.forEach { $0?.removeIfUnused() }
            throw error
        }
    }

    private static func measure(_ steps: [KernelStep], outputs: [RecordWriter?], transport: TransportDecision,
                                context: LaunchContext, gate: String?) throws {
        let first = steps[0]
        let yieldSetBy = KernelRun.enableYieldIfOversubscribed(context)
        // Each kernel may take its own time limit; together they may take the sum.
        Watchdog.arm(seconds: steps.map(\.settings.timeout).reduce(0, +), rank: context.rank, output: first.settings.out)

        // The highest level any step asks for: MPI is initialised once (the level granted is in every record).
        let requested = steps.map(\.threadLevel).max { $0.rawValue < $1.rawValue }!
        let threadLevel: MPI.ThreadLevel
        do {
            threadLevel = try MPI.initialize(threadLevel: requested)
        } catch {
            throw RunFailure(message: "cannot start MPI: \(error)", code: .badInput, everyRank: true)
        }
        let world = Communicator.world
        var environment = try Environment.detect(label: first.settings.label, communicator: world, context: context,
                                                 yieldSetBy: yieldSetBy)
        environment.transport.note = TransportSelection.note(transport, detected: environment.transport.note)
        environment.mpiThreadLevel = threadLevel.name
        try BLASThreads.settle(on: world)
        var unverified: [String] = []
        for (index, step) in steps.enumerated() {
            // Every rank starts the next kernel together, after the machine's state is read again,
            // as a launch of that kernel alone reads it just before it measures.
            if index > 0 { try world.barrier() }
            if index > 0, let gate {
                // Every rank has finished the kernels before: the suite reads the nodes' counters
                // now, between two kernels, and opens the gate.
                if world.rank == 0 { waitAtGate(index, folder: gate) }
                try world.barrier()
            }
            environment.probe = try MachineProbe.probe(on: world)
            unverified += try step.measure(world, environment, outputs[index])
            if steps.count > 1, world.rank == 0, let runID = step.settings.runID {
                FileHandle.standardError.write(Data((KernelSequence.finishedLine(runID: runID) + "\n").utf8))
            }
        }
        try MPI.finalize()
        if let problem = unverified.first {
            throw RunFailure(message: "\(unverified.count) point(s) failed verification: \(problem)", code: .unverified)
        }
    }

    /// Rank 0 says it waits at gate `index`, then waits (at most `KernelSequence.gateWait`) for
    /// its file in `folder`; it goes on without it, saying so, so that a suite that never opens
    /// it costs seconds, not the launch.
    static func waitAtGate(_ index: Int, folder: String) {
        FileHandle.standardError.write(Data((KernelSequence.gateLine(index) + "\n").utf8))
        let file = folder + "/" + KernelSequence.gateFile(index)
        let deadline = Date().addingTimeInterval(KernelSequence.gateWait)
        while access(file, F_OK) != 0 {
            guard Date() < deadline else {
                FileHandle.standardError.write(Data((KernelSequence.missedGateLine(index) + "\n").utf8))
                return
            }
            usleep(500)
        }
    }

    /// Open MPI reads `OMPI_MCA_*` at MPI_Init, so setting the variable here still takes effect.
    /// An explicit choice by the user (any value already set) is left alone.
    static func enableYieldIfOversubscribed(_ context: LaunchContext) -> String? {
        let name = "OMPI_MCA_mpi_yield_when_idle"
        if let existing = ProcessInfo.processInfo.environment[name] { return existing == "0" ? nil : "launcher" }
        guard context.isOversubscribed, context.size > 1 else { return nil }
        setenv(name, "1", 1)
        return "podgap"
    }

    /// Under the `hugepages` knob, every rank's message buffers so far as one tally (a rank that
    /// mapped none yet counts none); nil without the knob. Collective: every rank of a pod has
    /// the same environment, so all of them gather or none does.
    static func hugePageBuffers(over world: Communicator) throws -> HugePageBuffers? {
        guard let folder = MessagePages.folder.value else { return nil }
        let own = MessagePages.tally.value ?? HugePageBuffers(folder: folder)
        let ranks = try world.allgather(String(decoding: try JSONEncoder().encode(own), as: UTF8.self)).map { text in
            (try? JSONDecoder().decode(HugePageBuffers.self, from: Data(text.utf8)))
                ?? HugePageBuffers(folder: folder, ordinary: 1, reason: "a rank's tally did not decode")
        }
        return HugePageBuffers.combined(ranks)
    }

    /// A run id for records that were given none: the UTC time and a random suffix.
    public static func newRunID() -> String {
        let stamp = Record.timestamp(Date()).prefix(19).replacingOccurrences(of: ":", with: "")
        return "\(stamp)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }
}

/// One kernel of a launch, checked and ready to measure, its type erased so that a launch can run
/// several kernels one after another (`KernelRun.run(_:context:)`).
public struct KernelStep {
    public let settings: RunSettings
    public let name: String
    let threadLevel: MPI.ThreadLevel
    let memoryPerRank: (Int) -> MemoryNeed
    /// Measures every point on `world` in `environment`; rank 0 writes each record to the writer
    /// (or prints the table); returns the verification failures. Collective.
    let measure: (Communicator, Environment, RecordWriter?) throws -> [String]

    public init<K: Kernel>(_ kernel: K, settings: RunSettings, table: (any ResultTable)?, amend: KernelRun.EnvironmentAmendment? = nil) {
        self.settings = settings
        name = K.name
        threadLevel = K.threadLevel
        memoryPerRank = { kernel.memoryPerRank(ranks: $0) }
        measure = { world, environment, writer in
            var environment = environment
            try amend?(&environment, world)
            // Rank 0's id, so that a generated one is the same on every rank.
            let run = try world.broadcast(settings.runID ?? KernelRun.newRunID(), from: 0)
            if world.rank == 0, writer == nil { table?.printHeader(environment: environment, ranks: world.size) }
            var unverified: [String] = []
            let counters = CounterRegion.enabled ? CounterRegion() : nil
            try kernel.measure(on: world) { measurement in
                let pointCounters = try counters?.close(over: world)
                let hugePages = try KernelRun.hugePageBuffers(over: world)
                guard world.rank == 0 else { return }
                var record = Record(run: run, kernel: K.name, descriptor: K.descriptor, ranks: world.size,
                                    trial: settings.trial, round: settings.round, position: settings.position,
                                    measurement: measurement, keepingSamples: settings.keepSamples, environment: environment)
                record.counters = pointCounters
                record.environment.hugePages = hugePages
                if let writer { try writer.append(record) } else { table?.printRow(record) }
                if !record.verified { unverified.append(record.verification) }
            }
            if world.rank == 0, writer == nil { table?.finish() }
            return unverified
        }
    }
}

/// The `--out` file, opened before MPI starts; removed again when the run fails before writing a
/// record into a file it created, so a refused or failed run leaves no empty file behind.
struct OutputFile {
    let writer: RecordWriter
    private let existed: Bool

    init(path: String) throws {
        existed = FileManager.default.fileExists(atPath: path)
        do { writer = try RecordWriter(appendingTo: path) } catch let error as RecordError {
            throw RunFailure.badInput(error.description)
        }
    }

    func removeIfUnused() {
        guard !existed, let size = (try? FileManager.default.attributesOfItem(atPath: writer.path))?[.size] as? Int,
              size == 0 else { return }
        try? FileManager.default.removeItem(atPath: writer.path)
    }
}
