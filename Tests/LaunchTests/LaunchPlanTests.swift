import Foundation
import Records
import Spawn
import Testing
@testable import Launch

/// The launch plan's rules, on injected machines: what every native, srun and pods launch gets.
@Suite struct LaunchPlanTests {
    static let two = Machine(cores: 2, isRoot: false)
    static let sixteen = Machine(cores: 16, isRoot: false)

    /// The value following `flag` in `arguments`, or nil.
    func value(_ flag: String, _ arguments: [String], after name: String? = nil) -> String? {
        for index in arguments.indices.dropLast() where arguments[index] == flag {
            if let name {
                if arguments[index + 1] == name, index + 2 < arguments.count { return arguments[index + 2] }
            } else {
                return arguments[index + 1]
            }
        }
        return nil
    }

    @Test func fewerRanksThanCoresBindToACoreEachAndBusyPoll() throws {
        let plan = try LaunchPlan.native(environment: EnvironmentCatalog.nativeShm, ranks: 2, machine: Self.sixteen)
        #expect(plan.binding.policy == "core")
        #expect(plan.binding.reason.contains("2 rank(s) per node on 16 cores"))
        #expect(!plan.yieldWhenIdle && !plan.oversubscribe)
        #expect(plan.arguments.prefix(4) == ["--np", "2", "--bind-to", "core"])
        #expect(value("--mca", plan.arguments, after: "btl") == "self,vader")
        #expect(value("--mca", plan.arguments, after: "mpi_yield_when_idle") == nil)
        #expect(!plan.arguments.contains("--oversubscribe"))
        // Not on a local launch: Open MPI's rsh launcher there needs ssh.
        #expect(value("--mca", plan.arguments, after: "plm") == nil)
        #expect(plan.arguments.contains("PODGAP_BINDING=core"))
        #expect(plan.arguments.contains { $0.hasPrefix("PODGAP_BINDING_REASON=2 rank(s)") })
    }

    @Test func ranksThatFillTheCoresFloatAndYield() throws {
        let full = try LaunchPlan.native(environment: EnvironmentCatalog.nativeTCP, ranks: 2, machine: Self.two)
        #expect(full.binding.policy == "none" && full.yieldWhenIdle && !full.oversubscribe)
        #expect(value("--bind-to", full.arguments) == "none")
        #expect(value("--mca", full.arguments, after: "mpi_yield_when_idle") == "1")
        #expect(value("--mca", full.arguments, after: "btl") == "tcp,self")
        let over = try LaunchPlan.native(environment: EnvironmentCatalog.nativeShm, ranks: 3, machine: Self.two)
        #expect(over.oversubscribe && over.arguments.contains("--oversubscribe") && over.binding.policy == "none")
        // 15 ranks on 16 cores still leave a core: bound, no yield.
        let almost = try LaunchPlan.native(environment: nil, ranks: 15, machine: Self.sixteen)
        #expect(almost.binding.policy == "core" && !almost.yieldWhenIdle)
        #expect(value("--mca", almost.arguments, after: "btl") == nil, "no environment: Open MPI picks the transports")
        let sixteen = try LaunchPlan.native(environment: nil, ranks: 16, machine: Self.sixteen)
        #expect(sixteen.binding.policy == "none" && sixteen.yieldWhenIdle && !sixteen.oversubscribe)
    }

    @Test func transportsComeFromTheCatalog() throws {
        for kind in EnvironmentCatalog.all {
            guard case .native(let btl, let pml) = kind.launch else {
                #expect(throws: LaunchError.self) { try LaunchPlan.native(environment: kind, ranks: 2, machine: Self.two) }
                continue
            }
            let plan = try LaunchPlan.native(environment: kind, ranks: 2, machine: Self.two)
            #expect(value("--mca", plan.arguments, after: "btl") == btl)
            #expect(value("--mca", plan.arguments, after: "pml") == pml)
        }
        #expect(throws: LaunchError.self) { try LaunchPlan.native(environment: nil, ranks: 0, machine: Self.two) }
    }

    @Test func srunDirectLaunchesWithPMIxAndBindsByTheSameRule() throws {
        let one = try LaunchPlan.native(environment: EnvironmentCatalog.nativeShm, ranks: 2, starter: .srun, machine: Self.sixteen)
        #expect(one.starter == .srun(nodes: 1))
        #expect(one.arguments == ["--mpi=pmix", "-n", "2", "-N", "1", "--cpu-bind=cores"])
        #expect(one.environment["PODGAP_BINDING"] == "core", "srun hands its environment to the tasks")
        // Emulated nodes without containers are Slurm's own nodes there, over TCP.
        let nodes = try LaunchPlan.native(environment: EnvironmentCatalog.nativeTwoNode, ranks: 2, starter: .srun, machine: Self.two)
        #expect(nodes.arguments == ["--mpi=pmix", "-n", "2", "-N", "2"], "Slurm's nodes bind as the site says")
        #expect(nodes.binding.policy == "slurm" && nodes.environment["PODGAP_BINDING"] == "slurm")
        #expect(nodes.btl == "tcp,self")
        let full = try LaunchPlan.native(environment: nil, ranks: 4, starter: .srun, machine: Self.two)
        #expect(full.arguments.last == "--cpu-bind=none" && full.yieldWhenIdle)
        #expect(throws: LaunchError.self) { try LaunchPlan.native(environment: EnvironmentCatalog.nativeTwoNode, ranks: 2, machine: Self.two) }
    }

    /// sbatch: a batch job of the plan's tasks and nodes whose script stamps its start and execs
    /// the same srun line, as a shell reads it back (the application's words quoted whole).
    @Test func sbatchWrapsTheSameSrunInABatchScriptThatStampsItsStart() throws {
        let plan = try LaunchPlan.native(environment: EnvironmentCatalog.nativeTwoNode, ranks: 2, starter: .sbatch, machine: Self.two)
        let srun = try LaunchPlan.native(environment: EnvironmentCatalog.nativeTwoNode, ranks: 2, starter: .srun, machine: Self.two)
        #expect(plan.starterName == "sbatch" && plan.command == srun.command && plan.environment == srun.environment)
        let application = ["/bin/podgap", "run", "x", "--label", "it's two words"]
        let argv = plan.argv(running: application, job: "j1", output: "/tmp/o.log")
        #expect(argv.first?.hasSuffix("sbatch") == true)
        #expect(Array(argv[1..<argv.count - 1]) == ["--wait", "--quiet", "--job-name=j1", "--output=/tmp/o.log", "--open-mode=append",
                                                    "-n", "2", "-N", "2", "--wrap"])
        let script = try #require(argv.last)
        #expect(script.hasPrefix("export PODGAP_ALLOCATED=$(date +%s.%N); exec "))
        // The script's words after `exec`, as sh splits them: srun's line, then the application, unchanged.
        let words = try Child.capture(["/bin/sh", "-c", "for w in " + script.components(separatedBy: "; exec ")[1] + "; do printf '%s\\n' \"$w\"; done"],
                                      timeout: 10).stdout.split(separator: "\n").map(String.init)
        #expect(words == srun.command + application)
        // srun alone takes the job's name; mpirun knows none.
        #expect(srun.argv(running: ["a"], job: "j2") == [srun.program, "--job-name=j2"] + srun.arguments + ["a"])
        let mpirun = try LaunchPlan.native(environment: EnvironmentCatalog.nativeShm, ranks: 2, machine: Self.two)
        #expect(mpirun.argv(running: ["a"], job: "j3") == mpirun.command + ["a"])
        #expect(LaunchPlan.NativeStarter.allCases.map(\.usesSlurm) == [false, true, true])
    }

    /// What a user submits: sbatch of the job script with the plan's tasks, nodes, PMI plugin and
    /// binding, naming the podgap to run; only under sbatch. The shell text's first line is that
    /// argv after the variables, its second a comment naming the srun the script runs.
    @Test func sbatchSubmitsTheJobScriptWithThePlansTasksNodesAndBinding() throws {
        let one = try LaunchPlan.native(environment: EnvironmentCatalog.nativeShm, ranks: 2, starter: .sbatch, machine: Self.two)
        let submission = try #require(one.submission(script: "/c/scripts/podgap.sbatch", podgap: "/c/podgap"))
        #expect(submission.first?.hasSuffix("sbatch") == true)
        #expect(Array(submission.dropFirst()) == ["-n", "2", "-N", "1", "/c/scripts/podgap.sbatch", "--mpi", "pmix", "--cpu-bind", "none",
                                                   "--podgap", "/c/podgap"])
        #expect(one.arguments.contains("--cpu-bind=none"), "the srun inside binds as the submission says")
        // Slurm's own nodes: Slurm binds, so the script is given no --cpu-bind.
        let two = try LaunchPlan.native(environment: EnvironmentCatalog.nativeTwoNode, ranks: 4, starter: .sbatch, machine: Self.sixteen)
        #expect(Array(try #require(two.submission(script: "s", podgap: "p")).dropFirst()) == ["-n", "4", "-N", "2", "s", "--mpi", "pmix", "--podgap", "p"])
        let lines = try #require(one.batchShellText(script: "/c/scripts/podgap.sbatch", podgap: "/c/podgap")).split(separator: "\n").map(String.init)
        #expect(lines.count == 2 && lines[0] == one.shellLine(submission))
        #expect(lines[1] == "# append KERNEL [OPTIONS] to submit; inside the allocation the job script runs: "
                + one.command.joined(separator: " ") + " /c/podgap run KERNEL [OPTIONS]")
        for starter in [LaunchPlan.NativeStarter.mpirun, .srun] {
            let plan = try LaunchPlan.native(environment: EnvironmentCatalog.nativeShm, ranks: 2, starter: starter, machine: Self.two)
            #expect(plan.submission(script: "s", podgap: "p") == nil && plan.batchShellText(script: "s", podgap: "p") == nil)
        }
    }

    @Test func slotsLetRanksOfOnePodShareMemoryAndTCPStaysBetweenPods() throws {
        // The `slots` knob: two ranks in one pod (slotsPerWorker 2), vader between them.
        let shared = try LaunchPlan.pods(containers: true, ranks: 2, hosts: 1, slots: 2, agent: "/a", sharedMemoryInPods: true, machine: Self.two)
        #expect(value("--mca", shared.arguments, after: "btl") == "self,vader,tcp")
        #expect(!shared.oversubscribe, "two ranks fit the pod's two slots")
        #expect(LaunchPlan.podTransports(sharedMemory: true).note.contains("tcp between pods"))
        #expect(LaunchPlan.podTransports(sharedMemory: false).btl == "tcp,self")
    }

    @Test func podsForceTheRshLauncherAndLeavePlacementToTheirCpusets() throws {
        let pods = try LaunchPlan.pods(containers: true, ranks: 2, hosts: 2, slots: 1, agent: "/etc/mpi/kubexec.sh", machine: Self.two)
        #expect(value("--mca", pods.arguments, after: "plm") == "rsh", "no ssh client: Open MPI would pick its local-only launcher")
        #expect(value("--mca", pods.arguments, after: "plm_rsh_agent") == "/etc/mpi/kubexec.sh")
        #expect(value("--mca", pods.arguments, after: "plm_rsh_no_tree_spawn") == "1")
        #expect(value("--wdir", pods.arguments) == "/")
        #expect(value("--mca", pods.arguments, after: "btl") == "tcp,self", "pods share no memory")
        #expect(value("--bind-to", pods.arguments) == "none" && pods.binding.reason.contains("cpuset"))
        #expect(value("--mca", pods.arguments, after: "mpi_yield_when_idle") == "1")
        #expect(!pods.arguments.contains("--oversubscribe") && !pods.arguments.contains("PODGAP_NETWORK"))
        // Without containers: host processes, Open MPI's own transports, the job's variables passed on.
        let nodes = try LaunchPlan.pods(containers: false, ranks: 4, hosts: 2, slots: 1, agent: "/a", machine: Self.sixteen)
        #expect(value("--mca", nodes.arguments, after: "plm") == "rsh")
        #expect(nodes.btl == nil && nodes.oversubscribe && !nodes.yieldWhenIdle)
        #expect(value("-x", nodes.arguments) == "PODGAP_NETWORK" && nodes.arguments.contains("PODGAP_JOB"))
        #expect(nodes.starterName == "nodes" && pods.starterName == "pods")
        #expect(throws: LaunchError.self) { try LaunchPlan.pods(containers: true, ranks: 2, hosts: 0, slots: 1, agent: "/a") }
    }

    @Test func aUsersOwnFlagsWinAndTheRecordsSaySo() throws {
        let plan = try LaunchPlan.native(environment: EnvironmentCatalog.nativeShm, ranks: 2, machine: Self.two)
            .deferring(to: ["--bind-to", "socket", "--mca", "mpi_yield_when_idle", "0", "--mca", "btl", "self,tcp"])
        #expect(value("--bind-to", plan.arguments) == nil && value("--mca", plan.arguments, after: "btl") == nil)
        #expect(value("--mca", plan.arguments, after: "mpi_yield_when_idle") == nil)
        #expect(plan.binding == BindingPolicy(policy: "socket", reason: "--bind-to socket given on the command line"))
        #expect(plan.arguments.contains("PODGAP_BINDING=socket"))
        #expect(!plan.yieldWhenIdle)
        // Flags it does not know change nothing.
        let plain = try LaunchPlan.native(environment: nil, ranks: 2, machine: Self.two)
        #expect(plain.deferring(to: ["--mca", "btl_tcp_if_include", "lo", "--tag-output"]).arguments == plain.arguments)
    }

    @Test func rootNeedsOpenMPIsConsentAndTheShellLineQuotes() throws {
        let root = try LaunchPlan.native(environment: nil, ranks: 2, machine: Machine(cores: 4, isRoot: true))
        #expect(root.environment == ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"])
        #expect(try LaunchPlan.native(environment: nil, ranks: 2, machine: Self.two).environment.isEmpty)
        #expect(root.shellLine.hasPrefix("OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 /"))
        #expect(root.shellLine.contains(" 'PODGAP_BINDING_REASON=2 rank(s) per node on 4 cores: "))
        #expect(LaunchPlan.quoted("it's") == "'it'\\''s'")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(root.json().utf8)) as? [String: Any])
        #expect(json["starter"] as? String == "mpirun" && json["cores"] as? Int == 4)
        #expect((json["binding"] as? [String: Any])?["policy"] as? String == "core")
    }
}
