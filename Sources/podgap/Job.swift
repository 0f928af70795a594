import Probes
import Records
import Foundation
import Kernels
import MPI

/// One `podgap run`: everything between parsed arguments and exit. Checks what can be checked
/// before MPI starts, turns on yield-when-idle when ranks oversubscribe cores, arms the timeout,
/// measures, and has rank 0 write each record the moment its point is done.
struct Job {
    let kernelName: String
    let options: RunOptions
    let context = LaunchContext()

    func run(_ kernel: some Kernel, table: (any ResultTable)?) throws {
        let timeout = try options.validateTimeout()
        // MPI_Init reads the transport variables, so the choice is made (and checked) first.
        let transport = try Job.applyTransport(options.transport, context: context)
        // Rank 0 alone writes; it opens the file before MPI starts so that a bad path fails fast.
        let writer: RecordWriter? = try context.rank == 0 ? options.out.map { path in
            do { return try RecordWriter(appendingTo: path) }
            catch let error as RecordError { throw Failure.badInput(error.description) }
        } : nil

        let yieldSetBy = Job.enableYieldIfOversubscribed(context)
        Watchdog.arm(seconds: timeout, rank: context.rank, output: options.out)

        do {
            try MPI.initialize(threadLevel: .funneled)
        } catch {
            throw Failure(message: "cannot start MPI: \(error)", code: .badInput, everyRank: true)
        }
        let world = Communicator.world
        var environment = try Environment.detect(label: options.label, communicator: world, context: context,
                                                 yieldSetBy: yieldSetBy)
        environment.transport.note = Job.transportNote(transport, detected: environment.transport.note)
        // Rank 0's id, so that a generated one is the same on every rank.
        let run = try world.broadcast(options.runID ?? Job.newRunID(), from: 0)

        if world.rank == 0, writer == nil { table?.printHeader(environment: environment, ranks: world.size) }
        var unverified: [String] = []
        try kernel.measure(on: world) { measurement in
            guard world.rank == 0 else { return }
            let record = Record(run: run, kernel: kernelName, ranks: world.size, trial: options.trial,
                                measurement: measurement, keepingSamples: options.samples, environment: environment)
            if let writer { try writer.append(record) } else { table?.printRow(record) }
            if !record.verified { unverified.append(record.verification) }
        }
        try MPI.finalize()
        if let problem = unverified.first {
            throw Failure(message: "\(unverified.count) point(s) failed verification: \(problem)", code: .unverified)
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

    static func newRunID() -> String {
        let stamp = Record.timestamp(Date()).prefix(19).replacingOccurrences(of: ":", with: "")
        return "\(stamp)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }
}

/// Ends the process when a job outlives its timeout: a peer that died can leave the others
/// blocked in a collective forever. Records are written whole, one write per line, so the file
/// stays parseable.
enum Watchdog {
    static func arm(seconds: Double, rank: Int, output: String?) {
        let thread = Thread {
            Thread.sleep(forTimeInterval: seconds)
            let whereTo = output.map { "; records written so far are in \($0)" } ?? ""
            FileHandle.standardError.write(Data("podgap: rank \(rank): timed out after \(Int(seconds))s\(whereTo)\n".utf8))
            _exit(Podgap.ExitCode.timedOut.rawValue)
        }
        thread.start()
    }
}
