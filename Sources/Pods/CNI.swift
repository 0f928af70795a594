import Foundation

/// The real CNI plugins from containernetworking-plugins, called as a container runtime calls
/// them: the network config on stdin, CNI_* in the environment, run in the node's namespace so
/// that the bridge and the host end of each veth land on the node.
struct CNI {
    static let pluginFolders = ["/usr/lib/cni", "/opt/cni/bin"]
    let folder: String

    init() throws {
        guard let folder = CNI.pluginFolders.first(where: { FileManager.default.isExecutableFile(atPath: "\($0)/bridge") }) else {
            throw PodsError.badInput("CNI plugins are not installed: run scripts/setup (or apt-get install containernetworking-plugins)")
        }
        self.folder = folder
    }

    /// The bridge network config podgap ships for node `index`: cni0 with host-local IPAM over the
    /// node's pod subnet. Across nodes (routed, overlay) the bridge is the pods' gateway, which
    /// turns on forwarding in the node's namespace only; the MTU is the network's.
    static func bridgeConfig(job: String, network: PodNetwork, node index: Int, dataDir: String) -> [String: Any] {
        let spansNodes = network.spansNodes
        var range: [String: Any] = ["subnet": LinkCommands.podSubnet(index)]
        if spansNodes { range["gateway"] = LinkCommands.podGateway(index) }
        var ipam: [String: Any] = ["type": "host-local", "dataDir": dataDir, "ranges": [[range]]]
        if spansNodes { ipam["routes"] = [["dst": "0.0.0.0/0"]] }
        return [
            "cniVersion": "1.0.0",
            "name": "podgap-\(job)",
            "type": "bridge",
            "bridge": "cni0",
            "isGateway": spansNodes,
            "ipMasq": false,
            "hairpinMode": false,
            "mtu": network.mtu,
            "ipam": ipam,
        ]
    }

    /// ADDs `netns` to node `node`'s bridge; returns the address the IPAM gave it (no prefix).
    /// The namespace's `lo` is not the plugins' business here: `pods up` sets it up with the
    /// namespace's other `ip` work (all the `loopback` plugin would do), a Go process fewer per pod.
    func add(container: String, netns: String, node: String, config: [String: Any]) throws -> String {
        let result = try call("ADD", plugin: "bridge", container: container, netns: netns, node: node, ifname: "eth0",
                              config: config)
        guard let object = try? JSONSerialization.jsonObject(with: Data(result.utf8)) as? [String: Any],
              let ips = object["ips"] as? [[String: Any]], let address = ips.first?["address"] as? String,
              let plain = address.split(separator: "/").first else {
            throw PodsError.failed("CNI bridge ADD for \(container) returned no address: \(result.prefix(200))")
        }
        return String(plain)
    }

    /// Writes the config a job ships, so that it can be read and re-run by hand.
    static func save(_ config: [String: Any], to path: String) throws {
        let data = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: path))
    }

    private func call(_ command: String, plugin: String, container: String, netns: String, node: String,
                      ifname: String, config: [String: Any]) throws -> String {
        var environment = ProcessInfo.processInfo.environment
        environment["CNI_COMMAND"] = command
        environment["CNI_CONTAINERID"] = container
        environment["CNI_NETNS"] = LinkCommands.path(netns)
        environment["CNI_IFNAME"] = ifname
        environment["CNI_PATH"] = folder
        let input = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
        // Started from a thread inside the node's namespace, the plugin is born there (an `nsenter` fewer).
        let output = try NetworkNamespace.inside(node) {
            try Subprocess.run("\(folder)/\(plugin)", [], environment: environment, input: input, check: false)
        }
        guard output.status == 0 else {
            // CNI reports errors as JSON on stdout: {"code":..,"msg":..}
            let object = try? JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
            let message = (object?["msg"] as? String) ?? output.stderr
            throw PodsError.failed("CNI \(plugin) \(command) for \(container) failed: \(message)")
        }
        return output.stdout
    }
}
