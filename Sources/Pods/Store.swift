import Records
import Foundation

/// Where podgap keeps what outlives a command: the image (OCI layout and unpacked bundles) under
/// `/var/lib/podgap`, and each job's runtime state under `/run/podgap/<job>` (tmpfs: a reboot
/// cleans it, as it cleans the namespaces and containers it describes).
public struct Store: Sendable {
    public var imageRoot: String
    public var runRoot: String

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        imageRoot = environment["PODGAP_IMAGE_STORE"] ?? "/var/lib/podgap"
        runRoot = environment["PODGAP_RUN_ROOT"] ?? "/run/podgap"
    }

    public var layout: String { imageRoot + "/oci" }
    public var bundles: String { imageRoot + "/bundles" }
    /// The content hash and file list of the last build, so that a rebuild can be skipped in < 1 s.
    public var buildRecord: String { imageRoot + "/build.json" }

    public func jobFolder(_ job: String) -> String { "\(runRoot)/\(job)" }
}
