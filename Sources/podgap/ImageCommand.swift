import ArgumentParser
import Foundation
import Pods

/// `podgap image`: the OCI image the pods run, and its runc bundle.
struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Build the pod image (OCI layout, umoci) and unpack its runc bundle.",
        discussion: "See docs/pods.md and containers/README.md.",
        subcommands: [ImageBuild.self, ImageBundle.self, ImagePush.self])
}

struct ImageBuild: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build the OCI image from this podgap, Open MPI's runtime, /bin/sh and their libraries; cached by content hash.")

    @Option(help: "podgap binary to put in the image (default: this one).")
    var binary: String?
    @Option(help: "Pod entrypoint script (default: containers/entrypoint of this checkout).")
    var entrypoint: String?

    func run() throws {
        let (result, layout) = try PodsFailure.map {
            guard geteuid() == 0 else { throw PodsError.badInput("image build writes /var/lib/podgap: run podgap as root") }
            let image = try Image(binary: binary, entrypoint: entrypoint)
            return (try image.build(), image.store.layout)
        }
        print("\(layout):\(Image.tag) \(result.cached ? "unchanged" : "built") inputs sha256:\(result.digest.prefix(16)) (\(result.files) files)")
    }
}

struct ImageBundle: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle", abstract: "Unpack the built image into an OCI runtime bundle for runc; prints its folder.")

    func run() throws {
        let folder = try PodsFailure.map {
            guard geteuid() == 0 else { throw PodsError.badInput("image bundle writes /var/lib/podgap: run podgap as root") }
            return try Image.bundle(store: Store())
        }
        print(folder)
    }
}
