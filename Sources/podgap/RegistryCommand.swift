import ArgumentParser
import Foundation
import Pods

/// `podgap registry`: an image registry on the emulated cluster's underlay, for pods that pull.
struct RegistryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry", abstract: "Start or stop an image registry (docker-registry) in a network namespace on the underlay.",
        discussion: "See docs/startup.md.",
        subcommands: [RegistryUp.self, RegistryDown.self])
}

struct RegistryUp: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up", abstract: "Start docker-registry on \(Registry.address):\(Registry.port) (plain HTTP), storage in DIR/storage; waits until /v2/ answers.")

    @Option(help: "Folder for the registry's storage and the nodes' image stores.")
    var dir = "results/registry"

    func run() throws {
        let registry = Registry()
        let state = try PodsFailure.map { try registry.up(dir: dir) }
        print("registry \(registry.endpoint) up: pid \(state.pid), netns \(state.netns), storage \(state.storage)")
    }
}

struct RegistryDown: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down", abstract: "Stop the registry by its pid and remove its namespace, links, leases and the nodes' image stores (the storage stays; a snapshot a running job uses stays until its pods down); idempotent.")

    func run() throws {
        guard geteuid() == 0 else { throw Failure.badInput("registry down removes a network namespace: run podgap as root") }
        let removed = Registry().down()
        print("registry: removed \(removed.count) item(s)")
        for item in removed { print("  \(item)") }
    }
}

struct ImagePush: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push", abstract: "Copy the pod image (rebuilt from this podgap where it changed) to the registry with skopeo.")

    @Option(help: "Tag in the registry.")
    var tag = Image.tag

    func run() throws {
        let pushed = try PodsFailure.map {
            guard geteuid() == 0 else { throw PodsError.badInput("image push writes /var/lib/podgap and enters the registry's namespace: run podgap as root") }
            let store = Store()
            _ = try Image.buildFromRunningBinary(store: store, progress: PodsFailure.progress)
            guard FileManager.default.fileExists(atPath: store.layout + "/index.json") else {
                throw PodsError.badInput("no podgap image in \(store.layout): run `podgap image build` first")
            }
            return try Registry(store: store).push(layout: store.layout, tag: Image.tag, as: tag)
        }
        print("\(pushed.reference) \(pushed.digest) in \(String(format: "%.2f", pushed.seconds)) s")
    }
}
