import Probes
import Records
import Testing

@Suite struct LaunchContextTests {
    @Test func mpirunVariables() {
        let context = LaunchContext(environment: ["OMPI_COMM_WORLD_RANK": "3", "OMPI_COMM_WORLD_SIZE": "4",
                                                  "OMPI_COMM_WORLD_LOCAL_SIZE": "2"])
        #expect(context == LaunchContext(launcher: "mpirun", rank: 3, size: 4, localSize: 2))
    }

    @Test func podsAreMpirunInsideContainers() {
        let context = LaunchContext(environment: ["OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "2",
                                                  "K_MPI_JOB_ROLE": "worker"])
        #expect(context.launcher == "pod")
        #expect(context.localSize == 2)
    }

    @Test func srunVariablesWithCompressedTaskCounts() {
        // Node 2 of "2(x2),1" runs one task.
        let context = LaunchContext(environment: ["SLURM_PROCID": "4", "SLURM_NTASKS": "5", "SLURM_STEP_ID": "0",
                                                  "SLURM_STEP_TASKS_PER_NODE": "2(x2),1", "SLURM_NODEID": "2"])
        #expect(context == LaunchContext(launcher: "srun", rank: 4, size: 5, localSize: 1))
        let first = LaunchContext(environment: ["SLURM_PROCID": "0", "SLURM_NTASKS": "5", "SLURM_STEP_ID": "0",
                                                "SLURM_STEP_TASKS_PER_NODE": "2(x2),1", "SLURM_NODEID": "1"])
        #expect(first.localSize == 2)
    }

    /// The local rank picks a rank's GPU: mpirun's and srun's own variables.
    @Test func localRanksComeFromTheLauncher() {
        #expect(LaunchContext(environment: ["OMPI_COMM_WORLD_RANK": "5", "OMPI_COMM_WORLD_SIZE": "8",
                                            "OMPI_COMM_WORLD_LOCAL_RANK": "1", "OMPI_COMM_WORLD_LOCAL_SIZE": "4"]).localRank == 1)
        #expect(LaunchContext(environment: ["SLURM_PROCID": "6", "SLURM_NTASKS": "8", "SLURM_STEP_ID": "0",
                                            "SLURM_LOCALID": "2"]).localRank == 2)
        #expect(LaunchContext(environment: [:]).localRank == 0)
    }

    @Test func batchScriptWithoutStepIsNotARank() {
        // sbatch sets SLURM_PROCID=0 for the batch script itself; only srun steps are ranks.
        let context = LaunchContext(environment: ["SLURM_PROCID": "0", "SLURM_JOB_ID": "12"])
        #expect(context.launcher == "singleton")
    }

    @Test func cpuListsParseAndPrint() {
        #expect(CPUSet(parsing: "0-3,6")?.cpus == [0, 1, 2, 3, 6])
        #expect(CPUSet(parsing: "0-3,6")?.listDescription == "0-3,6")
        #expect(CPUSet([5, 1, 2, 3]).listDescription == "1-3,5")
        #expect(CPUSet(parsing: "3-1") == nil)
        #expect(CPUSet(parsing: "a") == nil)
        for malformed in ["", "-", "0,,1", "1-", "-1", "+1", "0-1-2"] {
            #expect(CPUSet(parsing: malformed) == nil, "'\(malformed)'")
        }
    }
}

extension LaunchContext {
    init(launcher: String, rank: Int, size: Int, localSize: Int) {
        self.init(environment: [:])
        self.launcher = launcher
        self.rank = rank
        self.size = size
        self.localSize = localSize
    }
}
