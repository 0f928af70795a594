import Foundation
import Spawn

/// runc, driven the way a CRI runtime drives it: `run -d` from a bundle, `exec`, `state`, `delete`.
public struct Runtime: Sendable {
    public let path: String

    /// Finds runc; its absence is bad input (install it), not a failure.
    /// PODGAP_RUNC names another runc binary (a newer build, say).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        if let chosen = environment["PODGAP_RUNC"] {
            guard FileManager.default.isExecutableFile(atPath: chosen) else {
                throw PodsError.badInput("PODGAP_RUNC=\(chosen) is not an executable runc: install runc (scripts/setup) or fix the path")
            }
            path = chosen
        } else {
            path = try Subprocess.require("runc", package: "runc")
        }
    }

    /// "1.1.5" from `runc --version`'s first line ("runc version 1.1.5+ds1").
    public func version() -> String {
        let output = (try? Subprocess.run(path, ["--version"]))?.stdout ?? ""
        let words = output.split(separator: "\n").first?.split(separator: " ") ?? []
        return words.count >= 3 ? String(words[2]) : "unknown"
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
            outcome = try Child.run([path] + arguments, environment: ProcessInfo.processInfo.environment,
                                    output: .log(log), timeout: Subprocess.timeout, endingSurvivors: false,
                                    // Pods start side by side; Ctrl-C takes them down once `up` is done.
                                    ctrlC: false)
        } catch let error as SpawnError {
            throw PodsError.failed(error.description)
        }
        guard outcome.status == 0 else {
            let line = outcome.timedOut ? "did not finish in \(Int(Subprocess.timeout)) s" : outcome.lastLine.isEmpty ? "no output" : outcome.lastLine
            throw PodsError.failed("runc \(arguments[0]) \(id) failed: \(line)")
        }
    }

    /// The container's status ("running", "stopped", ...) and init PID, or nil when it does not exist.
    public func state(_ id: String) -> (status: String, pid: Int32)? {
        guard let output = try? Subprocess.run(path, ["state", id], check: false), output.status == 0,
              let object = try? JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any],
              let status = object["status"] as? String else { return nil }
        return (status, Int32((object["pid"] as? Int) ?? 0))
    }

    /// Every container id runc knows.
    public func list() -> [String] {
        guard let output = try? Subprocess.run(path, ["list", "--quiet"], check: false), output.status == 0 else { return [] }
        return output.stdout.split(separator: "\n").map(String.init)
    }

    /// Kills and removes the container, whatever state it is in; quiet when it is already gone.
    public func delete(_ id: String) {
        _ = try? Subprocess.run(path, ["delete", "--force", id], check: false)
    }
}
