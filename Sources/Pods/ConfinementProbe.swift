import Foundation
import Spawn
#if canImport(Glibc)
import Glibc
#endif

/// What a pod must be refused, tried from inside one (`podgap pods probe`): the escapes a
/// skeptical engineer tries first, each in a child of its own so that a call that succeeds by
/// mistake changes nothing of the probe itself.
public enum ConfinementProbe {
    public struct Check: Codable, Sendable, Equatable {
        public var name: String
        /// The pod was refused, as it must be.
        public var refused: Bool
        /// How: the errno, or what was seen.
        public var detail: String
    }

    /// Runs every check. The fork bomb forks until the kernel refuses, at most `forkCap`
    /// children and `seconds` long, then ends them all.
    public static func run(forkCap: Int = 100_000, seconds: Double = 20) -> [Check] {
        // Looked up before forking: the dynamic loader's locks may be held by another thread then.
        let unshare = libc("unshare", as: (@convention(c) (Int32) -> Int32).self)
        let syscall = libc("syscall", as: (@convention(c) (Int, Int, Int, Int, Int, Int) -> Int).self)
        let ptrace = libc("ptrace", as: (@convention(c) (Int32, pid_t, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int).self)
        return [
            inChild("user namespace: unshare(CLONE_NEWUSER)") { unshare.map { $0(cloneNewUser) } },
            inChild("user namespace: clone(CLONE_NEWUSER)") { syscall.flatMap { clone(cloneNewUser | SIGCHLD, through: $0) } },
            inChild("mount a tmpfs on /tmp") { mount("podgap-probe", "/tmp", "tmpfs", 0, nil) },
            inChild("ptrace(PTRACE_ATTACH) of PID 1") { ptrace.map { $0(ptraceAttach, 1, nil, nil) == 0 ? 0 : -1 } },
            inChild("write /proc/sys/kernel/hostname") {
                let descriptor = open("/proc/sys/kernel/hostname", O_WRONLY)
                guard descriptor >= 0 else { return -1 }
                return write(descriptor, "escaped\n", 8) == 8 ? 0 : -1
            },
            masked("/proc/keys"),
            masked("/proc/acpi"),
            forkBomb(cap: forkCap, seconds: seconds),
        ]
    }

    /// Runs the probe inside `pod` (`runc exec POD podgap pods probe --inside`, or crun's), its output into
    /// `log` (in the job's own folder, which no pod can write); at most `timeout` seconds.
    public static func run(inside pod: String, runtime: Runtime, log: String, timeout: Double = 60) throws -> [Check] {
        try? FileManager.default.removeItem(atPath: log)
        let session: Session
        do {
            session = try Session(runtime.command + ["exec", pod, Image.podgapPath, "pods", "probe", "--inside"],
                                  environment: ["PATH": "/usr/bin:/bin"], output: .files(stdout: log, stderr: log + ".err"))
        } catch let error as SpawnError {
            throw PodsError.failed(error.description)
        }
        guard let status = session.wait(seconds: timeout) else {
            _ = session.end()
            throw PodsError.failed("the probe in \(pod) did not finish within \(Int(timeout)) s")
        }
        // The pod wrote this output: read at most a bounded amount, and trust only what decodes.
        let text = FileManager.default.contents(atPath: log).map { String(decoding: $0.prefix(1 << 20), as: UTF8.self) } ?? ""
        let checks = text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Check.self, from: Data($0.utf8)) }
        guard status == 0, !checks.isEmpty else {
            let reason = (try? String(contentsOfFile: log + ".err", encoding: .utf8))?.split(separator: "\n").last.map(String.init)
            throw PodsError.failed("the probe in \(pod) failed (exit \(status)): \(reason ?? "no output")")
        }
        return checks
    }

    static let cloneNewUser: Int32 = 0x1000_0000

    /// Runs `attempt` in a forked child: its result 0 means the call went through, -1 (errno
    /// set) that it was refused. The child only makes raw calls and leaves with `_exit`.
    static func inChild(_ name: String, _ attempt: () -> Int32?) -> Check {
        let child = fork()
        if child == 0 {
            guard let result = attempt() else { _exit(120) }
            _exit(result == 0 ? 0 : Int32(min(max(errno, 1), 119)))
        }
        guard child > 0 else { return Check(name: name, refused: false, detail: "could not fork to try it: \(describe(errno))") }
        var status: Int32 = 0
        waitpid(child, &status, 0)
        let code = (status >> 8) & 0xff
        switch code {
        case 0: return Check(name: name, refused: false, detail: "allowed")
        case 120: return Check(name: name, refused: false, detail: "could not be tried (no such call in this libc)")
        default: return Check(name: name, refused: true, detail: describe(code))
        }
    }

    /// A path runc's default spec masks reads as nothing: an empty file or an empty folder.
    static func masked(_ path: String) -> Check {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            return Check(name: "read \(path)", refused: true, detail: "absent")
        }
        let seen = isFolder.boolValue ? ((try? FileManager.default.contentsOfDirectory(atPath: path))?.count ?? 0)
            : (FileManager.default.contents(atPath: path)?.count ?? 0)
        return Check(name: "read \(path)", refused: seen == 0, detail: seen == 0 ? "masked (empty)" : "\(seen) \(isFolder.boolValue ? "entries" : "bytes") visible")
    }

    /// Starts processes that wait (`/bin/sleep`, spawned as vfork spawns: a fork of this large
    /// process would cost milliseconds each) until the kernel refuses, `cap` of them live or
    /// `seconds` pass; then kills and reaps them all. Refused when the kernel said EAGAIN (the
    /// pids limit) first.
    static func forkBomb(cap: Int, seconds: Double) -> Check {
        let name = "fork bomb"
        let started = Date()
        var children: [pid_t] = []
        var failure: Int32 = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("600"), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = [nil]
        defer { argv.forEach { free($0) } }
        while children.count < cap && Date().timeIntervalSince(started) < seconds {
            var child: pid_t = 0
            let result = posix_spawn(&child, "/bin/sleep", nil, nil, argv, envp)
            if result != 0 { failure = result; break }
            children.append(child)
        }
        let elapsed = Date().timeIntervalSince(started)
        for child in children { kill(child, SIGKILL) }
        for child in children { var status: Int32 = 0; waitpid(child, &status, 0) }
        let detail = String(format: "%d processes in %.2f s, then ", children.count, elapsed)
        if failure == EAGAIN { return Check(name: name, refused: true, detail: detail + describe(failure)) }
        return Check(name: name, refused: false, detail: detail + (failure != 0 ? describe(failure) : "stopped by the probe's own bound"))
    }

    static func describe(_ code: Int32) -> String {
        let names: [Int32: String] = [EPERM: "EPERM", EACCES: "EACCES", EROFS: "EROFS", EAGAIN: "EAGAIN", ENOSYS: "ENOSYS",
                                      EINVAL: "EINVAL", ENOENT: "ENOENT"]
        return "\(names[code] ?? "errno \(code)"): \(String(cString: strerror(code)))"
    }

    // Calls Swift does not import (variadic in C, or behind _GNU_SOURCE), looked up in libc.

    static let ptraceAttach: Int32 = 16

    static func libc<Function>(_ symbol: String, as type: Function.Type) -> Function? {
        guard let address = dlsym(dlopen(nil, RTLD_NOW), symbol) else { return nil }
        return unsafeBitCast(address, to: type)
    }

    /// clone's system call number on this machine; nil where podgap does not know it.
    static var cloneNumber: Int? {
        #if arch(x86_64)
        return 56
        #elseif arch(arm64)
        return 220
        #else
        return nil
        #endif
    }

    /// The raw clone system call with `flags` and no new stack: a child, if the call is allowed
    /// by mistake, returns as from fork and leaves at once.
    static func clone(_ flags: Int32, through syscall: @convention(c) (Int, Int, Int, Int, Int, Int) -> Int) -> Int32? {
        guard let number = cloneNumber else { return nil }
        let result = syscall(number, Int(flags), 0, 0, 0, 0)
        if result == 0 { _exit(0) }
        if result > 0 { var status: Int32 = 0; waitpid(pid_t(result), &status, 0); return 0 }
        return -1
    }
}
