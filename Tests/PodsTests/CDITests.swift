import Foundation
import Testing
@testable import Pods

/// CDI specs as `nvidia-ctk cdi generate` writes them, parsed into the OCI edits every pod gets.
/// No GPU needed: the specs are fixtures, the device numbers come from a stand-in for stat.
@Suite struct CDITests {
    /// The shape of nvidia-ctk 1.16's spec for a one-GPU host (trimmed to a few libraries).
    static let nvidiaYAML = """
    ---
    cdiVersion: 0.5.0
    kind: nvidia.com/gpu
    devices:
    - name: "0"
      containerEdits:
        deviceNodes:
        - path: /dev/nvidia0
    - name: GPU-4a2c9d1e-5b6f-7a8b-9c0d-1e2f3a4b5c6d
      containerEdits:
        deviceNodes:
        - path: /dev/nvidia0
    - name: all
      containerEdits:
        deviceNodes:
        - path: /dev/nvidia0
    containerEdits:
      env:
      - NVIDIA_VISIBLE_DEVICES=void
      deviceNodes:
      - path: /dev/nvidiactl
      - path: /dev/nvidia-uvm
      hooks:
      - hookName: createContainer
        path: /usr/bin/nvidia-ctk
        args:
        - nvidia-ctk
        - hook
        - update-ldcache
        - --folder
        - /usr/lib/x86_64-linux-gnu
      mounts:
      - hostPath: /usr/lib/x86_64-linux-gnu/libcuda.so.580.65.06
        containerPath: /usr/lib/x86_64-linux-gnu/libcuda.so.580.65.06
        options:
        - ro
        - nosuid
        - nodev
        - bind
    """

    /// Two GPUs, as JSON (`nvidia-ctk cdi generate --format json`), with numbers given.
    static let twoGPUsJSON = """
    {"cdiVersion": "0.6.0", "kind": "nvidia.com/gpu",
     "devices": [{"name": "1", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia1", "type": "c", "major": 195, "minor": 1}]}},
                 {"name": "0", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia0", "type": "c", "major": 195, "minor": 0}]}}],
     "containerEdits": {"deviceNodes": [{"path": "/dev/nvidiactl", "type": "c", "major": 195, "minor": 255}]}}
    """

    func folder(_ files: [String: String]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-cdi-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: "\(path)/\(name)", atomically: true, encoding: .utf8) }
        return path
    }

    /// Stand-in for stat: NVIDIA's character devices (major 195; nvidia-uvm has a dynamic major).
    static func devices(_ path: String) -> (type: String, major: Int, minor: Int)? {
        ["/dev/nvidia0": ("c", 195, 0), "/dev/nvidiactl": ("c", 195, 255), "/dev/nvidia-uvm": ("c", 508, 0)][path]
    }

    @Test func anNvidiaCtkSpecBecomesDeviceNodesMountsHooksAndEnvironment() throws {
        let specs = try folder(["nvidia.yaml": Self.nvidiaYAML, "other.json": #"{"cdiVersion":"0.5.0","kind":"vendor.com/fpga","devices":[]}"#])
        defer { try? FileManager.default.removeItem(atPath: specs) }
        let injection = try GPUInjection.resolve(.count(1), specFolders: ["/nonexistent", specs], deviceFolder: "/nonexistent")
        #expect(injection.source == "\(specs)/nvidia.yaml")
        #expect(injection.devices == ["nvidia.com/gpu=0"])
        let edits = try injection.edits.resolvingDevices(stat: Self.devices)
        #expect(edits.deviceNodes.map(\.path) == ["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia0"])
        #expect(edits.deviceNodes.map { "\($0.type!) \($0.major!):\($0.minor!)" } == ["c 195:255", "c 508:0", "c 195:0"])

        var config: [String: Any] = [
            "process": ["env": ["PATH=/usr/bin", "NVIDIA_VISIBLE_DEVICES=all"]],
            "mounts": [["destination": "/proc", "type": "proc", "source": "proc"]],
            "linux": ["resources": ["devices": [["allow": false, "access": "rwm"]]]],
        ]
        try edits.apply(to: &config)
        let data = try JSONSerialization.data(withJSONObject: config)
        let oci = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let env = try #require((oci["process"] as? [String: Any])?["env"] as? [String])
        #expect(env == ["PATH=/usr/bin", "NVIDIA_VISIBLE_DEVICES=void"], "the spec's value replaces the image's")
        let linux = try #require(oci["linux"] as? [String: Any])
        let devices = try #require(linux["devices"] as? [[String: Any]])
        #expect(devices.map { $0["path"] as? String } == ["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia0"])
        #expect(devices.allSatisfy { $0["type"] as? String == "c" && $0["fileMode"] as? Int == 0o666 })
        let rules = try #require((linux["resources"] as? [String: Any])?["devices"] as? [[String: Any]])
        #expect(rules.first?["allow"] as? Bool == false, "deny-all stays first")
        #expect(rules.dropFirst().map { "\($0["major"] as? Int ?? -1):\($0["minor"] as? Int ?? -1) \($0["access"] as? String ?? "")" }
                == ["195:255 rwm", "508:0 rwm", "195:0 rwm"])
        let mounts = try #require(oci["mounts"] as? [[String: Any]])
        let library = try #require(mounts.first { $0["destination"] as? String == "/usr/lib/x86_64-linux-gnu/libcuda.so.580.65.06" })
        #expect(library["type"] as? String == "bind" && (library["options"] as? [String])?.contains("ro") == true)
        let hooks = try #require((oci["hooks"] as? [String: Any])?["createContainer"] as? [[String: Any]])
        #expect(hooks.first?["path"] as? String == "/usr/bin/nvidia-ctk")
        #expect((hooks.first?["args"] as? [String])?.contains("update-ldcache") == true)
        // Applying twice adds nothing twice but hooks, which a runtime runs in order.
        var again = config
        try edits.apply(to: &again)
        #expect((again["mounts"] as? [[String: Any]])?.count == mounts.count)
    }

    @Test func allTakesTheSpecsAllDeviceAndCountsTakeGPUsByIndex() throws {
        let specs = try folder(["nvidia.yaml": Self.nvidiaYAML])
        defer { try? FileManager.default.removeItem(atPath: specs) }
        #expect(try GPUInjection.resolve(.all, specFolders: [specs]).devices == ["nvidia.com/gpu=all"])
        let json = try folder(["nvidia.json": Self.twoGPUsJSON])
        defer { try? FileManager.default.removeItem(atPath: json) }
        let two = try GPUInjection.resolve(.count(2), specFolders: [json])
        #expect(two.devices == ["nvidia.com/gpu=0", "nvidia.com/gpu=1"])
        #expect(two.edits.deviceNodes.map(\.path) == ["/dev/nvidiactl", "/dev/nvidia1", "/dev/nvidia0"])
        #expect(try GPUInjection.resolve(.all, specFolders: [json]).devices == ["nvidia.com/gpu=0", "nvidia.com/gpu=1"])
        // More GPUs than the host has: something the machine lacks (exit 3), named.
        let tooMany = try #require(throws: PodsError.self) { try GPUInjection.resolve(.count(3), specFolders: [specs]) }
        #expect(tooMany == .unavailable("--gpus 3: this host has 1 GPU(s) (\(specs)/nvidia.yaml); ask for at most 1, or all"))
    }

    @Test func withoutSpecsTheHostsDevicesAndDriverLibrariesMakeTheSameEdits() throws {
        let dev = try folder(["nvidia0": "", "nvidia1": "", "nvidiactl": "", "nvidia-uvm": "", "null": ""])
        defer { try? FileManager.default.removeItem(atPath: dev) }
        let ldconfig = """
        1234 libs found in cache `/etc/ld.so.cache'
        \tlibnvidia-ml.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1
        \tlibnvidia-ml.so.1 (libc6) => /usr/lib/i386-linux-gnu/libnvidia-ml.so.1
        \tlibnvidia-gpucomp.so.580.65.06 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libnvidia-gpucomp.so.580.65.06
        \tlibcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1
        \tlibcudart.so.13 (libc6,x86-64) => /usr/local/cuda/lib64/libcudart.so.13
        \tlibc.so.6 (libc6,x86-64, OS ABI: Linux 3.2.0) => /lib/x86_64-linux-gnu/libc.so.6
        """
        let libraries = GPUInjection.parseLdconfig(ldconfig, machine: "x86_64")
        #expect(libraries["libnvidia-ml.so.1"] == "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1", "the 64-bit copy")
        let injection = try GPUInjection.resolve(.count(1), specFolders: ["/nonexistent"], deviceFolder: dev, libraries: { libraries })
        #expect(injection.source == GPUInjection.hostDevicesSource)
        #expect(injection.devices == ["nvidia.com/gpu=0"])
        #expect(injection.edits.deviceNodes.map(\.path) == ["/dev/nvidia0", "/dev/nvidiactl", "/dev/nvidia-uvm"])
        #expect(injection.edits.deviceNodes.first?.hostPath == "\(dev)/nvidia0")
        // The driver's libraries, not the CUDA toolkit's (the image or the job brings those).
        #expect(injection.edits.mounts.map(\.containerPath) == ["/usr/lib/x86_64-linux-gnu/libcuda.so.1",
                                                                "/usr/lib/x86_64-linux-gnu/libnvidia-gpucomp.so.580.65.06",
                                                                "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1"])
        #expect(injection.edits.mounts.allSatisfy { $0.options == ["ro", "nosuid", "nodev", "bind"] })
        // A regular file where a device node should be: refused when resolved, naming it.
        #expect(throws: PodsError.self) { try injection.edits.resolvingDevices() }
    }

    @Test func noGPUIsAClearRefusalAndABadSpecNamesItsFile() throws {
        let empty = try folder([:])
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let none = try #require(throws: PodsError.self) { try GPUInjection.resolve(.all, specFolders: [empty], deviceFolder: empty) }
        #expect(none.description.hasPrefix("no GPU: no CDI spec for nvidia.com/gpu in \(empty)"))
        if case .unavailable = none {} else { Issue.record("no GPU is something the machine lacks: \(none)") }
        let broken = try folder(["nvidia.yaml": "cdiVersion: 0.5.0\ndevices: []\n"])
        defer { try? FileManager.default.removeItem(atPath: broken) }
        let error = try #require(throws: PodsError.self) { try GPUInjection.resolve(.all, specFolders: [broken]) }
        #expect(error.isBadInput && error.description.contains("\(broken)/nvidia.yaml") && error.description.contains("'kind'"))
        // A hook the OCI spec does not know.
        var config: [String: Any] = [:]
        #expect(throws: PodsError.self) { try ContainerEdits(hooks: [.init(hookName: "whenever", path: "/bin/true")]).apply(to: &config) }
        #expect(GPURequest(parsing: "all") == .all && GPURequest(parsing: "2") == .count(2) && GPURequest(parsing: "0") == nil && GPURequest(parsing: "x") == nil)
    }
}
