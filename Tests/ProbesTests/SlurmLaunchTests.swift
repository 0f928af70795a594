@testable import Probes
import Records
import Foundation
import Testing

/// What srun tells a task, as seen on a real Slurm 22.05 (scripts/slurm-local), turned into a record's launcher.
@Suite struct SlurmLaunchTests {
    /// The variables srun set for task 1 of `srun -n 2` on one two-core node (copied from a real step).
    static let step: [String: String] = [
        "SLURM_JOB_ID": "3", "SLURM_STEP_ID": "0", "SLURM_PROCID": "1", "SLURM_NTASKS": "2", "SLURM_NODEID": "0",
        "SLURM_STEP_NODELIST": "node1", "SLURM_JOB_NODELIST": "node1", "SLURM_STEP_TASKS_PER_NODE": "2",
        "SLURM_TASKS_PER_NODE": "2", "SLURM_CPUS_ON_NODE": "2", "SLURM_CPU_BIND": "quiet,mask_cpu:0x1,0x2",
        "SLURM_CPU_BIND_TYPE": "mask_cpu:", "SLURM_CPU_BIND_LIST": "0x1,0x2", "SLURM_CPU_BIND_VERBOSE": "quiet",
    ]

    static var online: Int { max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1) }

    @Test func launcherRecordsJobStepNodesAndBinding() {
        let context = LaunchContext(environment: Self.step)
        #expect(context.launcher == "srun" && context.rank == 1 && context.size == 2 && context.localSize == 2)
        let launcher = Environment.detectLauncher(context: context, variables: Self.step)
        #expect(launcher == Environment.Launcher(kind: "srun", jobID: "3", stepID: "0", nodeList: "node1",
                                                 tasksPerNode: "2", cpuBinding: "mask_cpu:0x1,0x2"))
    }

    @Test func stepWithoutBindingVariablesRecordsNone() {
        var unbound = Self.step
        for name in ["SLURM_CPU_BIND", "SLURM_CPU_BIND_TYPE", "SLURM_CPU_BIND_LIST", "SLURM_CPU_BIND_VERBOSE"] { unbound[name] = nil }
        #expect(Environment.detectLauncher(context: LaunchContext(environment: unbound), variables: unbound).cpuBinding == "none")
        // The batch script itself is no srun step: no binding is claimed for it.
        let batch = ["SLURM_JOB_ID": "3", "SLURM_PROCID": "0"]
        #expect(Environment.detectLauncher(context: LaunchContext(environment: batch), variables: batch).cpuBinding == nil)
    }

    @Test(arguments: [("quiet,none", "none"), ("verbose,cores", "cores"), ("quiet,mask_cpu:0x1,0x2", "mask_cpu:0x1,0x2"),
                      ("map_cpu:0,1", "map_cpu:0,1")])
    func bindingLosesOnlyTheVerbosityWord(variable: String, recorded: String) {
        #expect(Environment.slurmCPUBinding(["SLURM_CPU_BIND": variable]) == recorded)
    }

    @Test func bindingFromTypeAndListWhenTheCombinedVariableIsAbsent() {
        #expect(Environment.slurmCPUBinding(["SLURM_CPU_BIND_TYPE": "mask_cpu:", "SLURM_CPU_BIND_LIST": "0x3"]) == "mask_cpu:0x3")
        #expect(Environment.slurmCPUBinding([:]) == nil)
    }

    /// A rank bound to one core of a two-core allocation still shares the node with another rank:
    /// oversubscription is judged by the allocation, not by the rank's own mask.
    @Test func coresAreTheAllocationOnTheNodeCappedByTheMachine() {
        let context = LaunchContext(environment: Self.step)
        #expect(context.nodeCores == min(2, Self.online))
        #expect(context.isOversubscribed == (2 >= min(2, Self.online)))

        var declaredMore = Self.step
        declaredMore["SLURM_CPUS_ON_NODE"] = "512" // config_overrides lets a node claim more than it has
        #expect(LaunchContext(environment: declaredMore).nodeCores == Self.online)

        var oneEach = Self.step
        oneEach["SLURM_CPUS_ON_NODE"] = "1"
        oneEach["SLURM_STEP_TASKS_PER_NODE"] = "1(x2)"
        let single = LaunchContext(environment: oneEach)
        #expect(single.localSize == 1 && single.nodeCores == 1 && single.isOversubscribed)
    }

    @Test func mpirunKeepsTheAffinityMask() {
        let context = LaunchContext(environment: ["OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "2",
                                                  "SLURM_CPUS_ON_NODE": "64"])
        #expect(context.nodeCores == LaunchContext.availableCores)
    }
}
