import Foundation
import Records
import Spawn

/// The OCI runtime pods run under (the `runtime` knob: runc or crun), driven the way a CRI runtime
/// drives it: `run -d` from a bundle, `exec`, `state`, `delete`. The one place that picks the
/// binary and says how to start it.
public struct Runtime: Sendable {
    public let kind: Knobs.ContainerRuntime
    /// The runtime's binary.
    public let path: String
    /// How every subcommand starts: the binary, or on a hybrid cgroup host crun through
    /// `hybridPrefix` (see there).
    public let command: [String]

    /// Where a cgroup v1 host in hybrid mode mounts the unified (v2) hierarchy.
    public static let unifiedHierarchy = "/sys/fs/cgroup/unified"

    /// Finds `kind`'s binary; its absence is bad input (install it), not a failure.
    /// PODGAP_RUNC (PODGAP_CRUN) names another binary: a newer build, or a missing one in tests.
    public init(_ runtime: Knobs.ContainerRuntime? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
                unifiedControllers: String = Runtime.unifiedControllers()) throws {
        let kind = runtime ?? .runc
        self.kind = kind
        let variable = "PODGAP_" + kind.rawValue.uppercased()
        if let chosen = environment[variable] {
            guard FileManager.default.isExecutableFile(atPath: chosen) else {
                throw PodsError.badInput("\(variable)=\(chosen) is not an executable \(kind.rawValue): install \(kind.rawValue) (scripts/setup) or fix the path")
            }
            path = chosen
        } else {
            do { path = try Executable.require(kind.rawValue, package: kind.rawValue) } catch let missing as MissingExecutable {
                throw PodsError.badInput("runtime \(kind.rawValue): \(missing.description)")
            }
        }
        let hidden = kind == .crun && !unifiedControllers.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        command = hidden ? Runtime.hybridPrefix + [path] : [path]
    }

    /// crun refuses a hybrid cgroup host whose unified hierarchy has any controller ("cgroups in
    /// hybrid mode not supported, drop all controllers from cgroupv2"; this VM's holds hugetlb,
    /// mounted in no v1 hierarchy). With that hierarchy unmounted in a mount namespace of crun's
    /// own, crun sees plain cgroup v1 and puts the pod in every v1 controller as runc does (the
    /// same cpu quota, cpuset, memory and pids limits); the host's mounts stay as they are.
    static let hybridPrefix = ["/usr/bin/unshare", "--mount", "--propagation", "private",
                               "/bin/sh", "-c", "umount \(unifiedHierarchy) && exec \"$0\" \"$@\""]

    /// The controllers the unified hierarchy of a hybrid host holds ("" on v1-only and v2 hosts).
    public static func unifiedControllers() -> String {
        (try? String(contentsOfFile: unifiedHierarchy + "/cgroup.controllers", encoding: .utf8)) ?? ""
    }

    /// Every runtime installed here: containers of either may be a job's, so `down` asks both.
    public static func installed() -> [Runtime] {
        Knobs.ContainerRuntime.allCases.compactMap { try? Runtime($0) }
    }

    /// `command` as one line of sh (the rsh agent runs `exec LINE exec POD ...`).
    public var shellCommand: String {
        command.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
    }

    /// "1.1.5" from `runc --version`'s first line ("runc version 1.1.5+ds1"; crun's "crun version 1.8.1").
    public func version() -> String {
        let output = (try? Subprocess.run(path, ["--version"]))?.stdout ?? ""
        let words = output.split(separator: "\n").first?.split(separator: " ") ?? []
        return words.count >= 3 ? String(words[2]) : "unknown"
    }

    /// Runs a subcommand of the runtime, as `command` starts it.
    func run(_ arguments: [String], check: Bool = true) throws -> ToolOutput {
        try Subprocess.run(command[0], Array(command.dropFirst()) + arguments, check: check)
    }

    /// Starts the container detached; its stdout and stderr (and so the pod's) go to `log`.
    public func run(id: String, bundle: String, log: String) throws {
        try tool(["run", "--detach", "--bundle", bundle, id], id: id, log: log)
    }

    /// Creates the container (its namespaces, cgroup and init, waiting before the entrypoint), as
    /// a CRI runtime's CreateContainer does; its stdout and stderr go to `log`.
    public func create(id: String, bundle: String, log: String) throws {
        try tool(["create", "--bundle", bundle, id], id: id, log: log)
    }

    /// Starts a created container's entrypoint (CRI's StartContainer).
    public func start(id: String, log: String) throws {
        try tool(["start", id], id: id, log: log)
    }

    private func tool(_ arguments: [String], id: String, log: String) throws {
        let outcome: ChildOutcome
        do {
            outcome = try Child.run(command + arguments, environment: ProcessInfo.processInfo.environment,
                                    output: .log(log), timeout: Subprocess.timeout, endingSurvivors: false,
                                    // Pods start side by side; Ctrl-C takes them down once `up` is done.
                                    ctrlC: false)
        } catch let error as SpawnError {
            throw PodsError.failed(error.description)
        }
        guard outcome.status == 0 else {
            let line = outcome.timedOut ? "did not finish in \(Int(Subprocess.timeout)) s" : outcome.lastLine.isEmpty ? "no output" : outcome.lastLine
            throw PodsError.failed("\(kind.rawValue) \(arguments[0]) \(id) failed: \(line)")
        }
    }

    /// The container's status ("running", "stopped", ...) and init PID, or nil when it does not exist.
    public func state(_ id: String) -> (status: String, pid: Int32)? {
        guard let output = try? run(["state", id], check: false), output.status == 0,
              let object = try? JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any],
              let status = object["status"] as? String else { return nil }
        return (status, Int32((object["pid"] as? Int) ?? 0))
    }

    /// Where the runtime keeps a folder per container (its `--root`, the default for root).
    var stateRoot: String { kind == .crun ? "/run/crun" : "/run/runc" }

    /// Every container id this runtime knows: the folders of its state root, which is all that
    /// `runc list --quiet` reads. `pods up` and `pods down` ask every installed runtime, and a
    /// `list` was a Go process each (crun's four, through `hybridPrefix`): 20-70 ms of each command.
    /// A folder whose container is half made or half deleted counts too, so `up` refuses the name
    /// and `down` deletes it.
    public func list() -> [String] { Runtime.containers(inStateRoot: stateRoot) }

    /// The container folders of a runtime's state root: folders, not links or files, by name.
    static func containers(inStateRoot root: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { entry in
            var info = stat()
            return lstat("\(root)/\(entry)", &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
        }.sorted()
    }

    /// Kills and removes the container, whatever state it is in; quiet when it is already gone.
    public func delete(_ id: String) {
        _ = try? run(["delete", "--force", id], check: false)
    }
}
