import ArgumentParser
import Foundation
import Suite

/// The suite's view of `podgap run`, in-process: the kernel commands themselves. `validate` parses
/// the arguments with the very command type `podgap run KERNEL` parses them with, and its
/// `validate()` builds the kernel and runs the same checks (values, memory fit), without MPI; the
/// options come from the command's own help dump (ArgumentParser's `_dumpHelp`), not a child.
struct RunKernels: KernelRegistry {
    /// The kernels a suite launches. startup and the verbs baselines launch themselves (the suite
    /// times each launch itself, as kernel "launch").
    static let commands: [any KernelCommand.Type] = [AllreduceCommand.self, PingPongCommand.self, HaloCommand.self, TrainCommand.self, GEMMCommand.self]

    var names: [String] { Self.commands.map { $0.kernelName } }

    func options(of kernel: String) -> [String: Bool] {
        guard let command = Self.command(kernel),
              let root = try? JSONSerialization.jsonObject(with: Data(command._dumpHelp().utf8)) as? [String: Any],
              let arguments = (root["command"] as? [String: Any])?["arguments"] as? [[String: Any]] else { return [:] }
        var options: [String: Bool] = [:]
        for argument in arguments where (argument["shouldDisplay"] as? Bool) != false {
            guard let names = argument["names"] as? [[String: Any]],
                  let long = names.first(where: { $0["kind"] as? String == "long" })?["name"] as? String,
                  long != "help" else { continue }
            options[long] = (argument["kind"] as? String) == "flag"
        }
        return options
    }

    func validate(kernel: String, arguments: [String]) throws {
        guard let command = Self.command(kernel) else {
            throw Failure.badInput("'\(kernel)' is not a kernel of podgap run (one of \(names.joined(separator: ", ")))")
        }
        do { _ = try command.parse(arguments) } catch {
            throw Failure.badInput(command.message(for: error))
        }
    }

    static func command(_ kernel: String) -> (any KernelCommand.Type)? { commands.first { $0.kernelName == kernel } }
}

extension KernelCommand {
    /// The name users type after `podgap run`: the kernel's own.
    static var kernelName: String { Measured.name }
}
