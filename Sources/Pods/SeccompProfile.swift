import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The seccomp profile pods run under: an allow-list equivalent to Docker's default, kept as data
/// in containers/seccomp.json (which names its source and where it departs from it) and carried
/// in the image at `Image.seccompPath`. The file holds the OCI rules plus the architectures per
/// machine; `linuxSeccomp` makes the `linux.seccomp` object of a runc config for this machine.
public struct SeccompProfile: @unchecked Sendable {
    /// What records say the pods ran under (`environment.container.seccomp`).
    public let name: String
    let defaultAction: String
    let defaultErrnoRet: Int?
    /// libseccomp architectures by `uname -m` machine: the native one and those it can run.
    let architectures: [String: [String]]
    /// OCI `linux.seccomp.syscalls` rules.
    let syscalls: [[String: Any]]

    /// Parses a profile; `origin` names it in the error.
    public init(data: Data, origin: String) throws {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let name = object["name"] as? String, let defaultAction = object["defaultAction"] as? String,
              let architectures = object["architectures"] as? [String: [String]],
              let rules = object["syscalls"] as? [[String: Any]], !rules.isEmpty,
              rules.allSatisfy({ ($0["names"] as? [String])?.isEmpty == false && $0["action"] is String }) else {
            throw PodsError.failed("\(origin) is not a podgap seccomp profile (name, defaultAction, architectures by machine, syscalls with names and an action): rebuild the image from containers/seccomp.json")
        }
        self.name = name
        self.defaultAction = defaultAction
        defaultErrnoRet = object["defaultErrnoRet"] as? Int
        self.architectures = architectures
        // Comments are for readers of the file; runc gets the rule itself.
        syscalls = rules.map { $0.filter { $0.key != "comment" } }
    }

    /// The profile carried in a bundle's root filesystem.
    public static func load(bundle: String) throws -> SeccompProfile {
        let path = bundle + "/rootfs" + Image.seccompPath
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PodsError.badInput("the pod image has no seccomp profile (\(path)): rebuild it with `podgap image build` from a checkout holding containers/seccomp.json")
        }
        return try SeccompProfile(data: data, origin: path)
    }

    /// `linux.seccomp` for `machine`: refuses every call the rules do not allow with the default
    /// action (EPERM), for the machine's own architectures.
    public func linuxSeccomp(machine: String = SeccompProfile.hostMachine) throws -> [String: Any] {
        guard let arches = architectures[machine] else {
            throw PodsError.badInput("the seccomp profile \(name) names no architectures for \(machine) (it has \(architectures.keys.sorted().joined(separator: ", "))): add them to containers/seccomp.json")
        }
        var seccomp: [String: Any] = ["defaultAction": defaultAction, "architectures": arches, "syscalls": syscalls]
        if let defaultErrnoRet { seccomp["defaultErrnoRet"] = defaultErrnoRet }
        return seccomp
    }

    /// This machine as `uname -m` names it (x86_64, aarch64).
    public static var hostMachine: String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
