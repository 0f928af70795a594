import Foundation
import Records
import Pods
import Testing

/// A host without an ssh client (the GPU host had none): Open MPI then picks its local-only
/// `isolated` launcher even with an rsh agent set, unless a launch asks for `plm rsh` by name.
/// Each test hides ssh from `pods launch` in a mount namespace of its own (/dev/null bound over
/// the client), ranks rsh as 4.1.6 does there, and checks that the job ran and its records verified.
@Suite(.serialized, .enabled(if: PodsHarness.canRunPods, "needs root and runc"))
struct PodsWithoutSSHTests {
    /// `podgap ARGUMENTS` where no ssh client can be run: every ssh on PATH (and the usual
    /// folders) masked by /dev/null in a private mount namespace; the host's stays as it is.
    func podgapWithoutSSH(_ arguments: [String], timeout: Double = 120) throws -> Finished {
        let clients = ["ssh", "rsh"].compactMap { name in
            ([ProcessInfo.processInfo.environment["PATH"] ?? ""].joined().split(separator: ":").map(String.init) + ["/usr/bin", "/bin", "/usr/local/bin"])
                .map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
        }
        let masks = clients.map { "mount --bind /dev/null \($0) && " }.joined()
        // Proof inside the namespace that no client runs, before the launch.
        let check = clients.map { "! \($0) -V 2>/dev/null && " }.joined()
        // Open MPI 4.1.6 (the GPU host's) then prefers its `isolated` launcher to rsh; 4.1.4 (this
        // Debian's) keeps rsh while an agent is set. Ranking rsh below isolated (priority 0)
        // makes every version choose as 4.1.6 does, so that only asking for rsh by name launches.
        var environment = Shell.mpiEnvironment
        environment["OMPI_MCA_plm_rsh_priority"] = "-1"
        return try Shell.run("/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/sh", "-c",
                                                  masks + check + "exec \"$@\"", "without-ssh", Shell.podgap] + arguments,
                             environment: environment, timeout: timeout)
    }

    /// Brings up job `job` (`pods up` with `up`), launches a 2-rank allreduce on it with ssh
    /// hidden, checks it ran and every record verified, hands the records (read from `records`,
    /// inside the results folder) to `check`, and takes the job down, checking nothing is left.
    func launchWithoutSSH(job: String, up: [String], records: String, check: ([Record]) -> Void) throws {
        let results = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: results) }
        let upped = try PodsHarness.podgap(["pods", "up", "--name", job, "--network", "host", "--nodes", "2"] + up
                                           + ["--results", results.path])
        defer { _ = try? PodsHarness.podgap(["pods", "down", "--name", job]) }
        try #require(upped.status == 0, "pods up: \(upped.stderr)")
        let launch = try podgapWithoutSSH(["pods", "launch", "--name", job, "--np", "2", "--timeout", "60s", "--",
                                           "podgap", "run", "allreduce", "--sizes", "4:64", "--iterations", "5", "--warmup", "1",
                                           "--out", "/results/no-ssh.jsonl"])
        #expect(launch.status == 0, "launch without ssh: \(launch.stderr)")
        let read = try RecordReader.read(results.appendingPathComponent(records).path)
        #expect(read.count == 5)
        for record in read { #expect(record.verified && record.ranks == 2) }
        check(read)
        try PodsHarness.downAndCheck(job)
    }

    @Test func podsLaunchWithoutAnSSHClient() throws {
        try PodsHarness.requireImage()
        let job = PodsHarness.uniqueName("ts")
        try launchWithoutSSH(job: job, up: ["--pods-per-node", "1"], records: "\(job)-p0/no-ssh.jsonl") { records in
            for record in records {
                #expect(record.environment.hostnames == ["\(job)-p0", "\(job)-p1"], "ranks in both pods")
                #expect(record.environment.bindingPolicy?.policy == "none")
                #expect(record.environment.bindingPolicy?.reason.contains("cpuset") == true)
            }
        }
    }

    @Test func bareNodesLaunchWithoutAnSSHClient() throws {
        let job = PodsHarness.uniqueName("tt")
        try launchWithoutSSH(job: job, up: ["--no-containers"], records: "no-ssh.jsonl") { records in
            for record in records {
                #expect(record.environment.name == "native-2node")
                #expect(record.environment.hostnames == ["\(job)-n0", "\(job)-n1"], "ranks on both nodes")
                #expect(record.environment.bindingPolicy?.policy == "none")
            }
        }
    }
}
