import Foundation
import Testing
import Yams

/// The files under containers/ that real clusters use: parsed, and the fields that matter checked.
@Suite struct ManifestTests {
    static let containers = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("containers")

    func documents(_ name: String) throws -> [[String: Any]] {
        let text = try String(contentsOf: Self.containers.appendingPathComponent("k8s/\(name)"), encoding: .utf8)
        return try Yams.load_all(yaml: text).compactMap { $0 as? [String: Any] }
    }

    func containers(_ replica: [String: Any]?) -> [[String: Any]] {
        (((replica?["template"] as? [String: Any])?["spec"] as? [String: Any])?["containers"] as? [[String: Any]]) ?? []
    }

    func env(_ container: [String: Any]) -> [String: String] {
        var result: [String: String] = [:]
        for entry in (container["env"] as? [[String: Any]]) ?? [] {
            if let name = entry["name"] as? String { result[name] = "\(entry["value"] ?? "")" }
        }
        return result
    }

    @Test func mpiJobHasLauncherAndWorkersWithRequestsAndLimits() throws {
        let job = try #require(try documents("mpijob.yaml").first)
        #expect(job["apiVersion"] as? String == "kubeflow.org/v2beta1")
        #expect(job["kind"] as? String == "MPIJob")
        let spec = try #require(job["spec"] as? [String: Any])
        #expect(spec["slotsPerWorker"] as? Int == 1)
        let replicas = try #require(spec["mpiReplicaSpecs"] as? [String: Any])
        let launcher = replicas["Launcher"] as? [String: Any]
        let worker = replicas["Worker"] as? [String: Any]
        #expect(launcher?["replicas"] as? Int == 1)
        #expect(worker?["replicas"] as? Int == 2)
        let workerContainer = try #require(containers(worker).first)
        #expect(env(workerContainer)["K_MPI_JOB_ROLE"] == "worker")
        #expect(env(try #require(containers(launcher).first))["K_MPI_JOB_ROLE"] == "launcher")
        let resources = try #require(workerContainer["resources"] as? [String: [String: Any]])
        // Guaranteed QoS (requests == limits, whole CPUs): what the CPU Manager's static policy needs.
        #expect("\(resources["requests"]?["cpu"] ?? "")" == "\(resources["limits"]?["cpu"] ?? "-")")
        #expect(resources["limits"]?["memory"] as? String == "2Gi")
        let launcherArgs = try #require(containers(launcher).first?["args"] as? [String])
        #expect(launcherArgs.contains("/usr/local/bin/podgap"))
    }

    @Test func gpuVariantAsksForGPUsAndRDMA() throws {
        let job = try #require(try documents("mpijob-gpu-rdma.yaml").first)
        let replicas = try #require((job["spec"] as? [String: Any])?["mpiReplicaSpecs"] as? [String: Any])
        let worker = try #require(containers(replicas["Worker"] as? [String: Any]).first)
        let limits = try #require((worker["resources"] as? [String: [String: Any]])?["limits"])
        #expect(limits["nvidia.com/gpu"] as? Int == 8)
        #expect(limits["rdma/rdma_shared_device_a"] as? Int == 1)
        let caps = ((worker["securityContext"] as? [String: Any])?["capabilities"] as? [String: [String]])?["add"]
        #expect(caps?.contains("IPC_LOCK") == true)
    }

    /// GPUs the device-plugin way: an extended resource in limits only (a request must equal it),
    /// a rank per GPU, the GPU nodes' taint tolerated, the launcher without a GPU, NCCL's /dev/shm.
    @Test func gpuTrainingJobFollowsTheDevicePluginConventions() throws {
        let job = try #require(try documents("mpijob-gpu.yaml").first)
        let spec = try #require(job["spec"] as? [String: Any])
        let replicas = try #require(spec["mpiReplicaSpecs"] as? [String: Any])
        let workerReplica = try #require(replicas["Worker"] as? [String: Any])
        let worker = try #require(containers(workerReplica).first)
        let resources = try #require(worker["resources"] as? [String: [String: Any]])
        let gpus = try #require(resources["limits"]?["nvidia.com/gpu"] as? Int)
        #expect(resources["requests"]?["nvidia.com/gpu"] == nil)
        #expect(spec["slotsPerWorker"] as? Int == gpus)
        let podSpec = try #require((workerReplica["template"] as? [String: Any])?["spec"] as? [String: Any])
        #expect(podSpec["runtimeClassName"] as? String == "nvidia")
        let tolerations = (podSpec["tolerations"] as? [[String: Any]]) ?? []
        #expect(tolerations.contains { $0["key"] as? String == "nvidia.com/gpu" && $0["effect"] as? String == "NoSchedule" })
        #expect((podSpec["nodeSelector"] as? [String: Any])?["nvidia.com/gpu.present"] as? String == "true")
        let mounts = (worker["volumeMounts"] as? [[String: Any]]) ?? []
        #expect(mounts.contains { $0["mountPath"] as? String == "/dev/shm" })
        let launcher = try #require(containers(replicas["Launcher"] as? [String: Any]).first)
        #expect((launcher["resources"] as? [String: [String: Any]])?["limits"]?["nvidia.com/gpu"] == nil)
        let args = try #require(launcher["args"] as? [String])
        let ranks = try #require(args.firstIndex(of: "--np").flatMap { Int(args[$0 + 1]) })
        #expect(ranks == gpus * (workerReplica["replicas"] as? Int ?? 0))
        for expected in ["--device", "cuda", "--reducer", "nccl", "--proxy", "densenet121"] { #expect(args.contains(expected)) }
    }

    @Test func indexedJobRunsOnePodPerIndexBehindAHeadlessService() throws {
        let documents = try documents("indexed-job.yaml")
        let service = try #require(documents.first { $0["kind"] as? String == "Service" })
        #expect((service["spec"] as? [String: Any])?["clusterIP"] as? String == "None")
        let job = try #require(documents.first { $0["kind"] as? String == "Job" })
        let spec = try #require(job["spec"] as? [String: Any])
        #expect(spec["completionMode"] as? String == "Indexed")
        let completions = try #require(spec["completions"] as? Int, "an indexed Job names its completions")
        #expect(spec["parallelism"] as? Int == completions)
        let template = try #require((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        #expect(template["subdomain"] as? String == (service["metadata"] as? [String: Any])?["name"] as? String)
    }

    @Test func containerfileAndEntrypointAgreeOnPaths() throws {
        let containerfile = try String(contentsOf: Self.containers.appendingPathComponent("Containerfile"), encoding: .utf8)
        #expect(containerfile.contains("FROM docker.io/library/debian:bookworm"))
        #expect(containerfile.contains("openmpi-bin"))
        #expect(containerfile.contains("/usr/local/bin/podgap"))
        #expect(containerfile.contains("ENTRYPOINT [\"/usr/local/bin/entrypoint\"]"))
        let entrypoint = try String(contentsOf: Self.containers.appendingPathComponent("entrypoint"), encoding: .utf8)
        for expected in ["K_MPI_JOB_ROLE", "JOB_COMPLETION_INDEX", "/etc/mpi/hostfile", "sshd", "--mca btl \"${PODGAP_BTL:-tcp,self}\""] {
            #expect(entrypoint.contains(expected), "\(expected)")
        }
    }
}
