import Foundation
import Testing
@testable import Pods
import Launch

@Suite struct LauncherTests {
    @Test func writesTheOperatorHostfile() {
        #expect(JobLauncher.hostfile(hosts: ["j-p0", "j-p1"], slots: 1) == "j-p0 slots=1\nj-p1 slots=1\n")
        #expect(JobLauncher.slots(ranks: 2, hosts: 2) == 1)
        #expect(JobLauncher.slots(ranks: 3, hosts: 2) == 2)
        #expect(JobLauncher.slots(ranks: 1, hosts: 4) == 1)
        #expect(JobLauncher.hostsFile([(name: "j-p0", address: "198.19.0.2")]) == "127.0.0.1 localhost\n198.19.0.2 j-p0\n")
    }

    @Test func resolvesPodgapToTheImageBinaryInPods() {
        let command = ["podgap", "run", "allreduce", "--out", "/results/x.jsonl"]
        #expect(JobLauncher.application(command, containers: true, hostBinary: "/h/podgap", results: "/r")
            == ["/usr/local/bin/podgap", "run", "allreduce", "--out", "/results/x.jsonl"])
        // Ranks without containers are host processes: the host binary, and /results is the job's folder.
        #expect(JobLauncher.application(command, containers: false, hostBinary: "/h/podgap", results: "/r")
            == ["/h/podgap", "run", "allreduce", "--out", "/r/x.jsonl"])
        #expect(JobLauncher.application(["podgap", "--out=/results/y"], containers: false, hostBinary: "/h/podgap", results: "/r")
            == ["/h/podgap", "--out=/r/y"])
        #expect(JobLauncher.application(["/bin/true", "/resultsx"], containers: false, hostBinary: "/h", results: "/r")
            == ["/bin/true", "/resultsx"])
    }

    @Test func keepsPodsOffSharedMemoryAndUsesTheAgent() throws {
        let pods = try JobLauncher.plan(ranks: 2, containers: true, slots: 1, hosts: 2, machine: Machine(cores: 2)).arguments
        #expect(pods.joined(separator: " ").contains("--mca btl tcp,self"))
        #expect(pods.joined(separator: " ").contains("--mca plm rsh --mca plm_rsh_agent /etc/mpi/kubexec.sh"))
        #expect(pods.joined(separator: " ").contains("--mca plm_rsh_no_tree_spawn 1"))
        #expect(pods.joined(separator: " ").contains("--mca mpi_yield_when_idle 1"))
        #expect(!pods.contains("--oversubscribe"))
        let hostProcesses = try JobLauncher.plan(ranks: 4, containers: false, slots: 1, hosts: 2, machine: Machine(cores: 8)).arguments
        #expect(!hostProcesses.joined(separator: " ").contains("btl"))
        #expect(hostProcesses.joined(separator: " ").contains("--mca plm rsh"))
        #expect(hostProcesses.contains("--oversubscribe"))
        #expect(!hostProcesses.contains("mpi_yield_when_idle"))
        #expect(throws: PodsError.self) { try JobLauncher.plan(ranks: 0, containers: true, slots: 1, hosts: 2) }
    }

    @Test func agentExecsIntoThePod() {
        let pods = JobLauncher.agentScript(runtime: "/usr/sbin/runc")
        #expect(pods.hasPrefix("#!/bin/sh\n"))
        #expect(pods.contains("exec /usr/sbin/runc exec \"$pod\" /bin/sh -c \"$*\""))
        let nodes = [JobLauncher.Node(name: "j-n0", netns: "pg0000abcd-n0")]
        let hostProcesses = JobLauncher.agentScript(nodes: nodes, nsenter: "/usr/bin/nsenter", taskset: nil)
        #expect(hostProcesses.contains("    j-n0) netns=pg0000abcd-n0 ;;\n"))
        #expect(hostProcesses.contains("exec /usr/bin/nsenter --net=/var/run/netns/\"$netns\" unshare --uts"))
        #expect(!hostProcesses.contains("taskset"))
    }

    @Test func agentPinsEachNodeWithoutContainersToItsCPUs() throws {
        let nodes = [JobLauncher.Node(name: "j-n0", netns: "pg0000abcd-n0", cpus: "0-1"),
                     JobLauncher.Node(name: "j-n1", netns: "pg0000abcd-n1", cpus: "2-3")]
        let script = JobLauncher.agentScript(nodes: nodes, nsenter: "/usr/bin/nsenter", taskset: "/usr/bin/taskset")
        #expect(script.contains("    j-n0) netns=pg0000abcd-n0; cpus=0-1 ;;\n    j-n1) netns=pg0000abcd-n1; cpus=2-3 ;;\n"))
        #expect(script.contains("exec /usr/bin/taskset -c \"$cpus\" \\\n    /usr/bin/nsenter --net="))
        // A node the job does not have ends the agent with an error instead of running unpinned.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("agent-\(getpid()).sh").path
        try script.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [file, "j-n7", "true"]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
    }
}
