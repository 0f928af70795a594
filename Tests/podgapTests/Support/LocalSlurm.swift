import Foundation

/// A real Slurm cluster from `scripts/slurm-local`, in a temporary folder of its own, for one test.
struct LocalSlurm {
    /// The cluster's folder: config, state, logs, PID files.
    let folder: URL
    /// The submit directory: job output files and results land here.
    let work: URL
    let nodes: Int
    /// The short tag slurm-local names its namespaces and links with.
    let tag: String

    static var script: String { Shell.repositoryRoot.appendingPathComponent("scripts/slurm-local").path }
    static var jobScript: String { Shell.repositoryRoot.appendingPathComponent("scripts/podgap.sbatch").path }

    /// Network namespaces and daemons need root; nothing else stops Slurm from running here.
    static var canRun: Bool { getuid() == 0 }

    /// A finished batch job: its id, sbatch's exit status (the job's) and its output file.
    struct Job {
        var id: Int
        var status: Int32
        var output: String
        var sbatch: Finished
    }

    static func up(nodes: Int) throws -> LocalSlurm {
        let root = try Shell.temporaryFolder()
        let folder = root.appendingPathComponent("cluster"), work = root.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let started = try Shell.run(script, ["up", "--nodes", String(nodes), "--dir", folder.path], timeout: 60)
        guard started.status == 0 else {
            _ = try? Shell.run(script, ["down", "--dir", folder.path], timeout: 60)
            try? FileManager.default.removeItem(at: root)
            throw SlurmError("slurm-local up --nodes \(nodes) failed (\(started.status)): \(started.stderr)")
        }
        let state = try String(contentsOf: folder.appendingPathComponent("cluster.env"), encoding: .utf8)
        guard let tag = state.split(separator: "\n").first(where: { $0.hasPrefix("TAG=") })?.dropFirst(4) else {
            throw SlurmError("no TAG in cluster.env: \(state)")
        }
        return LocalSlurm(folder: folder, work: work, nodes: nodes, tag: String(tag))
    }

    /// What sbatch, srun and the job script need: the cluster's config and the podgap under test.
    var environment: [String: String] {
        var environment = Shell.mpiEnvironment
        environment["SLURM_CONF"] = folder.appendingPathComponent("slurm.conf").path
        environment["PODGAP"] = Shell.podgap
        return environment
    }

    /// `sbatch --wait` of the podgap job script, from the submit directory.
    func sbatch(_ options: [String], _ arguments: [String], timeout: Double = 90) throws -> Job {
        let finished = try Shell.run("/usr/bin/sbatch", ["--wait"] + options + [LocalSlurm.jobScript] + arguments,
                                     environment: environment, timeout: timeout, workingDirectory: work)
        guard let id = finished.stdout.split(separator: " ").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
            throw SlurmError("sbatch printed no job id (\(finished.status)): \(finished.stdout) \(finished.stderr)")
        }
        let output = (try? String(contentsOf: work.appendingPathComponent("slurm-\(id).out"), encoding: .utf8)) ?? ""
        return Job(id: id, status: finished.status, output: output, sbatch: finished)
    }

    /// Several `sbatch --wait` at once (options and arguments each), in the order given.
    func sbatchAll(_ jobs: [([String], [String])], timeout: Double = 90) async throws -> [Job] {
        try await withThrowingTaskGroup(of: (Int, Job).self) { group in
            for (index, (options, arguments)) in jobs.enumerated() {
                group.addTask { (index, try sbatch(options, arguments, timeout: timeout)) }
            }
            var finished: [Int: Job] = [:]
            for try await (index, job) in group { finished[index] = job }
            return jobs.indices.map { finished[$0]! }
        }
    }

    func results(_ job: Int, _ kernel: String) -> String {
        work.appendingPathComponent("results/slurm-\(job)/\(kernel).jsonl").path
    }

    func namespace(_ node: Int) -> String { "pgs\(tag)n\(node)" }
    var bridge: String { "pgs\(tag)br" }

    /// A daemon's PID from the PID file slurm-local had it write.
    func pid(_ daemon: String) -> Int32? {
        let file = daemon == "munged" ? "munge/munged.pid" : "run/\(daemon).pid"
        return (try? String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8))
            .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Alive and not a zombie: this machine's init may reap the daemons' remains a while later.
    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first != "Z"
    }

    /// The inode of each node's network namespace: how processes left inside it are found after it is gone.
    func namespaceInodes() -> Set<UInt64> {
        Set((1...nodes).compactMap { node -> UInt64? in
            var info = stat()
            return stat("/run/netns/\(namespace(node))", &info) == 0 ? UInt64(info.st_ino) : nil
        })
    }

    /// Processes that belong to this cluster: in one of its node namespaces, or naming its folder
    /// on their command line (slurmctld -f, munged --socket).
    func processes(inNamespaces inodes: Set<UInt64>) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> String? in
            guard let pid = Int32(entry), pid != getpid() else { return nil }
            let command = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")))
                .map { String(decoding: $0.map { $0 == 0 ? 32 : $0 }, as: UTF8.self) } ?? ""
            let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net")) ?? ""
            let inode = UInt64(link.filter(\.isNumber)) ?? 0
            guard inodes.contains(inode) || command.contains(folder.path) else { return nil }
            return "\(pid) \(command)"
        }
    }

    /// Kernel objects of this cluster still present: namespaces and the bridge.
    func leftoverNetwork() throws -> [String] {
        let namespaces = try Shell.run("/usr/sbin/ip", ["netns", "list"], timeout: 10).stdout
        let links = try Shell.run("/usr/sbin/ip", ["-o", "link", "show"], timeout: 10).stdout
        return (namespaces + links).split(separator: "\n").map(String.init).filter { $0.contains("pgs\(tag)") }
    }

    @discardableResult
    func down() throws -> Finished {
        try Shell.run(LocalSlurm.script, ["down", "--dir", folder.path], timeout: 60)
    }

    /// Stops the cluster if a test left it up, and removes its folders.
    func remove() {
        _ = try? down()
        try? FileManager.default.removeItem(at: folder.deletingLastPathComponent())
    }
}

struct SlurmError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
