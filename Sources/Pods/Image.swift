import Records
import Foundation
import Spawn

/// The pod image: an OCI image layout built with umoci from the host's own files (the podgap
/// binary, Open MPI's runtime, /bin/sh and the shared-library closure of all of them), and the
/// runc bundle unpacked from it. Rebuilt only when the content of an input changes (sha256 of
/// every input; files whose size, mtime and inode are all unchanged are not re-read).
public struct Image: Sendable {
    public static let tag = "latest"
    /// Paths inside the image.
    public static let podgapPath = "/usr/local/bin/podgap"
    public static let entrypointPath = "/usr/local/bin/entrypoint"
    /// The seccomp profile pods run under (containers/seccomp.json), carried in the image so that
    /// a podgap away from its checkout applies the same one.
    public static let seccompPath = "/etc/podgap/seccomp.json"

    public var store: Store
    /// The podgap binary to put in the image (default: the running one).
    public var binary: String
    /// The pod entrypoint script (containers/entrypoint).
    public var entrypoint: String
    /// The seccomp profile: `seccomp.json` next to the entrypoint.
    public var seccompProfile: String

    public init(store: Store = Store(), binary: String? = nil, entrypoint: String? = nil) throws {
        self.store = store
        self.binary = binary ?? Executable.current
        guard FileManager.default.isExecutableFile(atPath: self.binary) else {
            throw PodsError.badInput("--binary '\(self.binary)' is not an executable file")
        }
        if let entrypoint {
            self.entrypoint = entrypoint
        } else if let found = Executable.findAbove(self.binary, "containers/entrypoint") {
            self.entrypoint = found
        } else {
            throw PodsError.badInput("cannot find containers/entrypoint above \(self.binary): pass --entrypoint PATH")
        }
        guard FileManager.default.fileExists(atPath: self.entrypoint) else {
            throw PodsError.badInput("--entrypoint '\(self.entrypoint)' does not exist")
        }
        seccompProfile = URL(fileURLWithPath: self.entrypoint).deletingLastPathComponent().appendingPathComponent("seccomp.json").path
        guard FileManager.default.fileExists(atPath: seccompProfile) else {
            throw PodsError.badInput("\(seccompProfile) is missing: the pods' seccomp profile lives next to the entrypoint (containers/seccomp.json)")
        }
    }

    /// Plain programs the pods need besides podgap and Open MPI: a shell for the entrypoint and for
    /// `runc exec POD /bin/sh -c`, and the few tools the entrypoint uses.
    static let tools = ["/bin/sh", "/bin/dash", "/bin/sleep", "/bin/cat", "/bin/env", "/bin/ls", "/bin/mkdir",
                        "/bin/rm", "/bin/hostname", "/usr/bin/orterun", "/usr/bin/orted"]
    /// Open MPI's components (dlopened, so invisible to ldd of the binaries), help texts and settings.
    static let trees = ["/usr/lib/x86_64-linux-gnu/openmpi/lib/openmpi3", "/usr/lib/x86_64-linux-gnu/pmix2/lib",
                        "/usr/lib/x86_64-linux-gnu/pmix2/share",
                        "/usr/share/openmpi", "/etc/openmpi",
                        "/etc/ld.so.conf", "/etc/ld.so.conf.d"]

    public struct BuildResult: Sendable {
        public var digest: String
        public var cached: Bool
        public var files: Int
    }

    /// What the last build saw: the hash over every input file's content, and the files.
    struct BuildRecord: Codable {
        var digest: String
        var files: [String]
        /// Each file's size, modification time and inode when `digest` was taken: while none of
        /// them moved, the content cannot have been rewritten in place, and hashing is skipped.
        var stats: [String]?
    }

    /// Builds the image unless the last build's inputs hash the same now.
    public func build() throws -> BuildResult {
        let umoci = try Subprocess.require("umoci", package: "umoci")
        let fileManager = FileManager.default
        let lock = try FolderLock(store: store)
        defer { lock.release() }
        if let data = fileManager.contents(atPath: store.buildRecord),
           let last = try? JSONDecoder().decode(BuildRecord.self, from: data),
           fileManager.fileExists(atPath: store.layout + "/index.json"),
           last.files.prefix(3) == [binary, entrypoint, seccompProfile] {
            let stats = Image.stats(last.files)
            if stats == last.stats { return BuildResult(digest: last.digest, cached: true, files: last.files.count) }
            if let digest = try? Image.contentHash(last.files), digest == last.digest {
                // Touched but unchanged (a rebuild that wrote the same bytes): remember the new stats.
                let record = BuildRecord(digest: digest, files: last.files, stats: stats)
                try? JSONEncoder().encode(record).write(to: URL(fileURLWithPath: store.buildRecord))
                return BuildResult(digest: digest, cached: true, files: last.files.count)
            }
        }
        let files = try closure()
        let digest = try Image.contentHash(files)
        let stage = store.imageRoot + "/stage-\(getpid())"
        try? fileManager.removeItem(atPath: stage)
        defer { try? fileManager.removeItem(atPath: stage) }
        try stageRootfs(files: files, at: stage)

        // A fresh layout each build: the old image is replaced whole, and gc keeps the disk in check.
        let layout = store.layout
        let temporary = layout + ".new-\(getpid())"
        try? fileManager.removeItem(atPath: temporary)
        let image = "\(temporary):\(Image.tag)"
        do {
            try Subprocess.run(umoci, ["init", "--layout", temporary])
            try Subprocess.run(umoci, ["new", "--image", image])
            try Subprocess.run(umoci, ["insert", "--image", image, stage, "/"])
            try Subprocess.run(umoci, ["config", "--image", image,
                                       "--config.entrypoint", Image.entrypointPath,
                                       "--config.workingdir", "/",
                                       "--config.env", "PATH=/usr/local/bin:/usr/bin:/bin",
                                       "--config.env", "OMPI_ALLOW_RUN_AS_ROOT=1",
                                       "--config.env", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1",
                                       "--config.label", "org.opencontainers.image.title=podgap",
                                       "--config.label", "io.podgap.inputs=\(digest)"])
        } catch {
            try? fileManager.removeItem(atPath: temporary)
            throw error
        }
        try? fileManager.removeItem(atPath: layout)
        try fileManager.moveItem(atPath: temporary, toPath: layout)
        let record = try JSONEncoder().encode(BuildRecord(digest: digest, files: files, stats: Image.stats(files)))
        try record.write(to: URL(fileURLWithPath: store.buildRecord))
        return BuildResult(digest: digest, cached: false, files: files.count)
    }

    /// The bundle of an image that holds this very podgap: a pod/native comparison means nothing
    /// when the pods run another build (a debug binary's image under a release run, say). Builds
    /// the image from the running binary where the checkout's entrypoint is at hand (a no-op
    /// while nothing changed: the content-hash cache); otherwise checks the image's copy.
    public static func bundleOfRunningBinary(store: Store, progress: (String) -> Void = { _ in }) throws -> String {
        let running = Executable.current
        if try buildFromRunningBinary(store: store, progress: progress) { return try bundle(store: store) }
        let folder = try bundle(store: store)
        let sums = try Subprocess.run("/usr/bin/sha256sum", [folder + "/rootfs" + podgapPath, running]).stdout
            .split(separator: "\n").map { $0.prefix(64) }
        guard sums.count == 2, sums[0] == sums[1] else {
            throw PodsError.badInput("the pod image holds another podgap than \(running): run `podgap image build --entrypoint PATH/containers/entrypoint` with this binary")
        }
        return folder
    }

    /// Builds the image from the running binary where the checkout's entrypoint is at hand (a
    /// no-op while nothing changed); false where it is not, and the image stays as built.
    public static func buildFromRunningBinary(store: Store, progress: (String) -> Void = { _ in }) throws -> Bool {
        let running = Executable.current
        guard let image = try? Image(store: store, binary: running) else { return false }
        let built: BuildResult
        do { built = try image.build() } catch {
            let reason = String(describing: error).split(separator: "\n").first ?? ""
            throw PodsError.badInput("cannot build the pod image in \(store.imageRoot) from \(running): \(reason)")
        }
        if !built.cached { progress("image rebuilt from \(running)") }
        return true
    }

    /// Unpacks the built image into a runc bundle (rootfs + config.json) named by the image's
    /// manifest digest, once; returns the bundle folder.
    public static func bundle(store: Store) throws -> String {
        guard let index = FileManager.default.contents(atPath: store.layout + "/index.json"),
              let object = try? JSONSerialization.jsonObject(with: index) as? [String: Any],
              let manifests = object["manifests"] as? [[String: Any]],
              let digest = manifests.first?["digest"] as? String else {
            throw PodsError.badInput("no podgap image in \(store.layout): run `podgap image build` first")
        }
        let name = digest.replacingOccurrences(of: "sha256:", with: "").prefix(16)
        let folder = "\(store.bundles)/\(name)"
        // Marks the bundle as just used, so that a prune by another process keeps it.
        if utimes(folder, nil) == 0, FileManager.default.fileExists(atPath: folder + "/config.json") {
            searchable(folder)
            return folder
        }
        let lock = try FolderLock(store: store)
        defer { lock.release() }
        if FileManager.default.fileExists(atPath: folder + "/config.json") { return folder }
        let umoci = try Subprocess.require("umoci", package: "umoci")
        try FileManager.default.createDirectory(atPath: store.bundles, withIntermediateDirectories: true)
        let temporary = folder + ".new-\(getpid())"
        try? FileManager.default.removeItem(atPath: temporary)
        do {
            try Subprocess.run(umoci, ["unpack", "--image", "\(store.layout):\(tag)", temporary])
            try FileManager.default.moveItem(atPath: temporary, toPath: folder)
            searchable(folder)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        pruneBundles(store: store, keeping: folder)
        return folder
    }

    /// umoci makes the bundle folder 0700; pods in user namespaces (`--userns`) set up their
    /// root as an unprivileged host user, who must be able to pass through it to the rootfs.
    static func searchable(_ folder: String) {
        chmod(folder, 0o711)
    }

    /// Removes bundles of older images that no job's pods still run from (each is ~150 MB).
    static func pruneBundles(store: Store, keeping current: String) {
        let inUse = Set(PodJob.jobs(store: store).compactMap { try? JobState.load(store, job: $0).bundle })
        for name in (try? FileManager.default.contentsOfDirectory(atPath: store.bundles)) ?? [] {
            let folder = "\(store.bundles)/\(name)"
            // A bundle used in the last 10 minutes may be on its way into a job that has not saved its state yet.
            let modified = (try? FileManager.default.attributesOfItem(atPath: folder)[.modificationDate] as? Date) ?? Date()
            guard folder != current, !inUse.contains(folder), !name.contains(".new-"),
                  Date().timeIntervalSince(modified) > 600 else { continue }
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    /// Every file the image holds, the podgap binary, the entrypoint and the seccomp profile
    /// first: the tools, Open MPI's trees, and the shared-library closure of every ELF file among them.
    func closure() throws -> [String] {
        var roots = [binary, entrypoint, seccompProfile] + Image.tools.filter { FileManager.default.fileExists(atPath: $0) }
        var treeFiles: [String] = []
        for tree in Image.trees { treeFiles += Image.filesUnder(tree) }
        roots += treeFiles
        let elfs = roots.filter(Image.isELF)
        let ldd = try Subprocess.run("/usr/bin/ldd", elfs, check: false)
        var libraries = Set<String>()
        for line in ldd.stdout.split(separator: "\n") {
            // "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "\t/lib64/ld-linux-x86-64.so.2 (0x...)"
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let arrow = fields.firstIndex(of: "=>"), arrow + 1 < fields.count, fields[arrow + 1].hasPrefix("/") {
                libraries.insert(String(fields[arrow + 1]))
            } else if let first = fields.first?.trimmingCharacters(in: .whitespaces), first.hasPrefix("/"), fields.count == 2 {
                libraries.insert(first)
            }
        }
        var seen = Set<String>()
        var files: [String] = []
        for file in roots + libraries.sorted() where seen.insert(file).inserted { files.append(file) }
        return files
    }

    /// Copies `files` (dereferenced, at the paths the loader and Open MPI ask for) into `stage`,
    /// adds the pod entrypoint and podgap at their image paths, and a loader cache.
    func stageRootfs(files: [String], at stage: String) throws {
        let fileManager = FileManager.default
        try fileManager.createDirectory(atPath: stage, withIntermediateDirectories: true)
        let rest = Array(files.dropFirst(3))
        try Subprocess.run("/bin/cp", ["-L", "--parents"] + rest + [stage])
        for folder in ["usr/local/bin", "etc/mpi", "etc/podgap", "results", "tmp", "proc", "sys", "dev", "run", "root"] {
            try fileManager.createDirectory(atPath: "\(stage)/\(folder)", withIntermediateDirectories: true)
        }
        try Subprocess.run("/bin/cp", ["-L", binary, stage + Image.podgapPath])
        try Subprocess.run("/bin/cp", ["-L", entrypoint, stage + Image.entrypointPath])
        try Subprocess.run("/bin/cp", ["-L", seccompProfile, stage + Image.seccompPath])
        try Subprocess.run("/bin/chmod", ["0755", stage + Image.podgapPath, stage + Image.entrypointPath])
        try Subprocess.run("/bin/chmod", ["1777", stage + "/tmp"])
        for (link, target) in [("usr/bin/mpirun", "orterun"), ("usr/bin/mpiexec", "orterun")] {
            try? fileManager.createSymbolicLink(atPath: "\(stage)/\(link)", withDestinationPath: target)
        }
        // Minimal identity files: Open MPI and glibc look the user and host names up.
        let etc: [String: String] = [
            "passwd": "root:x:0:0:root:/root:/bin/sh\n",
            "group": "root:x:0:\n",
            "nsswitch.conf": "passwd: files\ngroup: files\nhosts: files\n",
            "hosts": "127.0.0.1 localhost\n",
        ]
        for (name, text) in etc { try text.write(toFile: "\(stage)/etc/\(name)", atomically: true, encoding: .utf8) }
        if let ldconfig = Executable.find("ldconfig") { try Subprocess.run(ldconfig, ["-r", stage]) }
    }

    /// sha256 over the inputs' content, in order, with their paths: any changed byte rebuilds.
    static func contentHash(_ files: [String]) throws -> String {
        let sums = try Subprocess.run("/usr/bin/sha256sum", files)
        let all = try Subprocess.run("/usr/bin/sha256sum", ["-"], input: sums.stdout)
        return String(all.stdout.prefix(64))
    }

    /// "size mtime(ns) inode" per file, "missing" where it cannot be read.
    static func stats(_ files: [String]) -> [String] {
        files.map { path in
            var info = stat()
            guard stat(path, &info) == 0 else { return "missing" }
            return "\(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) \(info.st_ino)"
        }
    }

    static func filesUnder(_ path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else { return [path] }
        let names = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String]) ?? []
        return names.sorted().map { "\(path)/\($0)" }.filter {
            var directory: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0, isDirectory: &directory) && !directory.boolValue
        }
    }

    static func isELF(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return handle.readData(ofLength: 4) == Data([0x7f, 0x45, 0x4c, 0x46])
    }
}

/// The image store's lock, so that builds and unpacks by concurrent podgap processes (tests,
/// suites) do not replace the layout under each other.
extension FolderLock {
    init(store: Store) throws {
        try FileManager.default.createDirectory(atPath: store.imageRoot, withIntermediateDirectories: true)
        try self.init(store.imageRoot)
    }
}
