import Foundation
import Launch
import Records
import Runner
import Testing
@testable import Suite

/// Native launches start the same way whoever starts them: the suite's command, what
/// `scripts/podgap-mpirun` execs (through `podgap plan`) and `podgap run startup`'s mpirun carry
/// the same mpirun flags for the same environment and rank count, on a small and a big machine.
@Suite(.serialized) struct LaunchEqualityTests {
    /// The kernel the suite file names; the suite checks nothing else of it here.
    struct OneKernel: KernelRegistry {
        var names: [String] { ["allreduce"] }
        func options(of kernel: String) -> [String: Bool] { [:] }
        func validate(kernel: String, arguments: [String]) throws {}
    }

    static let binary = "/opt/podgap/bin/podgap"

    /// The suite's command for `environment`, up to the podgap binary (the flags).
    func suiteFlags(_ environment: String, ranks: Int, machine: Machine) throws -> [String] {
        let suite = try SuiteFile.parse("ranks: \(ranks)\nenvironments: [\(environment)]\nkernels: [allreduce]\n",
                                        file: "s.yaml", kernels: OneKernel())
        let native = NativeLauncher(suite: suite, folder: SuiteFolder(URL(fileURLWithPath: "/tmp/podgap-equal")), podgap: Self.binary,
                                    machine: machine)
        let command = try native.command(for: try #require(suite.environments.first), application: [Self.binary, "run", "allreduce"]).argv
        let end = try #require(command.firstIndex(of: Self.binary))
        return Array(command[1..<end])
    }

    /// What `podgap plan` prints for the script to exec, without its variables and program.
    func planFlags(_ environment: String, ranks: Int, cores: Int) throws -> [String] {
        let planned = try Shell.run(Shell.podgap, ["plan", "--environment", environment, "--np", String(ranks), "--cores", String(cores),
                                                   "--format", "args"])
        try #require(planned.status == 0, "podgap plan: \(planned.stderr)")
        let words = planned.stdout.split(separator: "\n").map(String.init)
        let program = try #require(words.firstIndex { $0.hasSuffix("/mpirun") }, "\(words)")
        return Array(words[(program + 1)...])
    }

    @Test(arguments: [2, 16])
    func suiteScriptAndStartupGiveMpirunTheSameFlags(cores: Int) throws {
        let machine = Machine(cores: cores, isRoot: geteuid() == 0)
        for environment in ["native-shm", "native-tcp"] {
            for ranks in [2, 4] {
                let suite = try suiteFlags(environment, ranks: ranks, machine: machine)
                #expect(suite == (try planFlags(environment, ranks: ranks, cores: cores)), "\(environment), \(ranks) ranks, \(cores) cores")
                #expect(suite.contains("--bind-to"), "\(suite)")
                #expect(suite[suite.firstIndex(of: "--bind-to")! + 1] == (ranks < cores ? "core" : "none"))
            }
        }
        // Startup's native launch is native-shm.
        for ranks in [2, 4] {
            let startup = StartupRun(network: .loopback, containers: true, ranks: ranks, trials: 1, settings: RunSettings(),
                                     podgap: Self.binary, machine: machine, report: { _ in })
            let command = try startup.nativeCommand(start: 0, out: "/tmp/o.jsonl", runID: "r", trial: 0)
            let end = try #require(command.firstIndex(of: Self.binary))
            #expect(Array(command[1..<end]) == (try suiteFlags("native-shm", ranks: ranks, machine: machine)))
            #expect(Array(command[1..<end]) == (try planFlags("native-shm", ranks: ranks, cores: cores)))
        }
    }

    /// The script execs what the plan printed, then the user's flags: an `mpirun` on PATH that
    /// prints its arguments shows exactly what it was given.
    @Test func podgapMpirunExecsThePlanAndPassesTheUsersFlags() throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fake = folder.appendingPathComponent("mpirun")
        try "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done\n".write(to: fake, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)
        var environment = Shell.mpiEnvironment
        environment["PATH"] = folder.path + ":" + Shell.productsFolder.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        let script = Shell.repositoryRoot.appendingPathComponent("scripts/podgap-mpirun").path
        let cores = Machine.current.cores

        let plain = try Shell.run(script, ["-np", "2", "--environment", "native-shm", "podgap", "run", "allreduce"], environment: environment)
        #expect(plain.status == 0, "\(plain.stderr)")
        let words = plain.stdout.split(separator: "\n").map(String.init)
        let end = try #require(words.firstIndex(of: Shell.podgap), "\(words)")
        #expect(Array(words[..<end]) == (try suiteFlags("native-shm", ranks: 2, machine: Machine(cores: cores))))
        #expect(Array(words[end...]) == [Shell.podgap, "run", "allreduce"])

        // A user's own binding and yield win; their other flags pass through unchanged.
        let own = try Shell.run(script, ["-np", "2", "--bind-to", "socket", "--mca", "mpi_yield_when_idle", "0", "--tag-output",
                                         "podgap", "run", "allreduce"], environment: environment)
        #expect(own.status == 0, "\(own.stderr)")
        let ownWords = own.stdout.split(separator: "\n").map(String.init)
        #expect(ownWords.filter { $0 == "--bind-to" }.count == 1 && ownWords.filter { $0 == "mpi_yield_when_idle" }.count == 1)
        #expect(ownWords.contains("PODGAP_BINDING=socket") && ownWords.contains("--tag-output"))
        let bind = try #require(ownWords.firstIndex(of: "--bind-to"))
        #expect(ownWords[bind + 1] == "socket")

        let bad = try Shell.run(script, ["-np", "2", "--environment", "pod-bridge", "podgap", "run", "allreduce"], environment: environment)
        #expect(bad.status == 2 && bad.stderr.contains("pods launch"), "\(bad.stderr)")
    }
}
