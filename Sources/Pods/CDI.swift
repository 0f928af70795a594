import Foundation
import Spawn
import Yams

/// A Container Device Interface spec, as `nvidia-ctk cdi generate` writes it to /etc/cdi or
/// /var/run/cdi (YAML or JSON): a device kind, its devices with their edits, and edits common
/// to all of them.
public struct CDISpec: Decodable, Equatable, Sendable {
    public var cdiVersion: String
    /// `vendor/class`, e.g. nvidia.com/gpu.
    public var kind: String
    public var devices: [Device]
    public var containerEdits: ContainerEdits

    public struct Device: Decodable, Equatable, Sendable {
        public var name: String
        public var containerEdits: ContainerEdits
    }

    enum CodingKeys: String, CodingKey { case cdiVersion, kind, devices, containerEdits }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        cdiVersion = try container.decode(String.self, forKey: .cdiVersion)
        kind = try container.decode(String.self, forKey: .kind)
        devices = try container.decode([Device].self, forKey: .devices)
        containerEdits = try container.decodeIfPresent(ContainerEdits.self, forKey: .containerEdits) ?? ContainerEdits()
    }

    /// Parses a spec's text (JSON is YAML too); `origin` names it in the error.
    public init(text: String, origin: String) throws {
        do { self = try YAMLDecoder().decode(CDISpec.self, from: text) } catch {
            throw PodsError.badInput("\(origin) is not a CDI spec (\(CDISpec.reason(error))): fix or remove it, or regenerate it with nvidia-ctk cdi generate")
        }
    }

    /// The specs in `folders` (`*.yaml`, `*.yml`, `*.json`), by file path, in the order CDI
    /// gives them: folder by folder, files by name.
    public static func load(from folders: [String]) throws -> [(path: String, spec: CDISpec)] {
        var found: [(path: String, spec: CDISpec)] = []
        for folder in folders {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
            for name in names where [".yaml", ".yml", ".json"].contains(where: name.hasSuffix) {
                let path = "\(folder)/\(name)"
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
                found.append((path, try CDISpec(text: text, origin: path)))
            }
        }
        return found
    }

    private static func reason(_ error: Error) -> String {
        if case DecodingError.keyNotFound(let key, _) = error { return "no '\(key.stringValue)'" }
        if case DecodingError.typeMismatch(_, let context) = error { return context.debugDescription }
        return String(describing: error).split(separator: "\n").first.map(String.init) ?? "unreadable"
    }
}

/// How many GPUs `pods up --gpus` gives every pod.
public enum GPURequest: Equatable, Sendable {
    case all
    case count(Int)

    /// "all" or a positive count; nil otherwise.
    public init?(parsing text: String) {
        if text == "all" { self = .all; return }
        guard let count = Int(text), count >= 1 else { return nil }
        self = .count(count)
    }
}

/// The GPUs a job's pods get, the Container Device Interface way: the edits of CDI devices of
/// kind `nvidia.com/gpu` from the specs in /etc/cdi and /var/run/cdi, or, where there are none,
/// the same edits built from the host's /dev/nvidia* nodes and the driver libraries ldconfig
/// knows. Saved in job state: what was injected, and from where.
public struct GPUInjection: Codable, Equatable, Sendable {
    /// The spec file the edits came from, or `hostDevicesSource` where none was found.
    public var source: String
    /// The CDI devices injected (`nvidia.com/gpu=0` ...).
    public var devices: [String]
    public var edits: ContainerEdits

    public static let kind = "nvidia.com/gpu"
    public static let specFolders = ["/etc/cdi", "/var/run/cdi"]
    public static let hostDevicesSource = "host devices (/dev/nvidia*, ldconfig)"

    /// Chooses the devices for `request` and their edits, before anything is created:
    /// `PodsError.unavailable` (exit 3) where there is no GPU, or fewer than asked for.
    public static func resolve(_ request: GPURequest, specFolders: [String] = specFolders, deviceFolder: String = "/dev",
                               libraries: () -> [String: String] = GPUInjection.driverLibraries) throws -> GPUInjection {
        let specs = try CDISpec.load(from: specFolders).filter { $0.spec.kind == kind }
        if let (path, spec) = specs.first {
            let chosen = try choose(request, from: spec.devices.map(\.name), source: path)
            let edits = spec.devices.filter { chosen.contains($0.name) }.reduce(spec.containerEdits) { $0.adding($1.containerEdits) }
            return GPUInjection(source: path, devices: chosen.map { "\(kind)=\($0)" }, edits: edits)
        }
        let indexes = ((try? FileManager.default.contentsOfDirectory(atPath: deviceFolder)) ?? [])
            .compactMap { name -> Int? in name.hasPrefix("nvidia") ? Int(name.dropFirst("nvidia".count)) : nil }.sorted()
        guard !indexes.isEmpty else {
            throw PodsError.unavailable("no GPU: no CDI spec for \(kind) in \(specFolders.joined(separator: " or ")) and no \(deviceFolder)/nvidiaN device here; run without --gpus")
        }
        let chosen = try choose(request, from: indexes.map(String.init), source: "\(deviceFolder)/nvidia*")
        let edits = hostEdits(gpus: chosen.compactMap(Int.init), deviceFolder: deviceFolder, libraries: libraries())
        return GPUInjection(source: hostDevicesSource, devices: chosen.map { "\(kind)=\($0)" }, edits: edits)
    }

    /// The device names `request` takes: "all" where the spec has it (else every device), or
    /// the first N GPUs by index (CDI names them 0, 1, ... besides their UUIDs).
    static func choose(_ request: GPURequest, from names: [String], source: String) throws -> [String] {
        let indexed = names.compactMap(Int.init).sorted().map(String.init)
        let gpus = indexed.isEmpty ? names.filter { $0 != "all" }.sorted() : indexed
        switch request {
        case .all:
            return names.contains("all") ? ["all"] : gpus
        case .count(let count):
            guard count <= gpus.count else {
                throw PodsError.unavailable("--gpus \(count): this host has \(gpus.count) GPU(s) (\(source)); ask for at most \(gpus.count), or all")
            }
            return Array(gpus.prefix(count))
        }
    }

    /// The control nodes every CUDA process opens, besides /dev/nvidiaN.
    static let controlNodes = ["nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset"]
    /// The driver's user-space libraries for compute and utility (nvidia-container-cli's
    /// `compute,utility` sets): every name ldconfig lists that is one of these and a version.
    static let driverLibraryStems = ["libcuda.so", "libcudadebugger.so", "libnvidia-ml.so", "libnvidia-ptxjitcompiler.so",
                                     "libnvidia-nvvm.so", "libnvidia-gpucomp.so", "libnvidia-allocator.so",
                                     "libnvidia-cfg.so", "libnvidia-opencl.so"]

    /// What `nvidia-ctk cdi generate` would write, from what this host shows: the GPUs' and the
    /// control device nodes, and each driver library mounted read-only where ldconfig has it.
    static func hostEdits(gpus: [Int], deviceFolder: String, libraries: [String: String]) -> ContainerEdits {
        let nodes = gpus.map { "nvidia\($0)" } + controlNodes
        let present = nodes.filter { FileManager.default.fileExists(atPath: "\(deviceFolder)/\($0)") }
        let names = libraries.keys.filter { name in driverLibraryStems.contains { name == $0 || name.hasPrefix($0 + ".") } }
        let mounts = names.sorted().compactMap { libraries[$0] }.map { path in
            ContainerEdits.Mount(hostPath: path, containerPath: path, type: "bind", options: ["ro", "nosuid", "nodev", "bind"])
        }
        return ContainerEdits(deviceNodes: present.map { .init(path: "/dev/\($0)", hostPath: "\(deviceFolder)/\($0)") }, mounts: mounts)
    }

    /// Driver libraries by name, from `ldconfig -p`, for this machine's own architecture.
    public static func driverLibraries() -> [String: String] {
        guard let ldconfig = Executable.find("ldconfig"),
              let output = try? Subprocess.run(ldconfig, ["-p"], check: false).stdout else { return [:] }
        return parseLdconfig(output, machine: SeccompProfile.hostMachine)
    }

    /// How ldconfig marks a library of `uname -m` machine's native ABI.
    static let ldconfigABI = ["x86_64": "x86-64", "aarch64": "AArch64"]

    /// `\tlibcuda.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libcuda.so.1` lines of `machine`'s
    /// ABI (32-bit copies are left out), the first path per name.
    static func parseLdconfig(_ output: String, machine: String) -> [String: String] {
        let abi = ldconfigABI[machine]
        var found: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.components(separatedBy: " => ")
            guard parts.count == 2 else { continue }
            let described = parts[0].trimmingCharacters(in: .whitespaces)
            guard let name = described.split(separator: " ").first, abi.map({ described.contains($0) }) ?? true else { continue }
            if found[String(name)] == nil { found[String(name)] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return found
    }
}
