import ArgumentParser
import Foundation
import Kernels
import Suite

/// The suite's view of `podgap run`, in-process: the kernel commands themselves. `validate` parses
/// the arguments with the very command type `podgap run KERNEL` parses them with, and its
/// `validate()` builds the kernel and runs the same checks (values, memory fit), without MPI; the
/// options are the ones the command declares (`DeclaredOptions`), not a child's help.
struct RunKernels: KernelRegistry {
    /// Every kernel `podgap run` measures over MPI and a suite may name: the one list, which
    /// `podgap run`'s subcommands are made from too. A new kernel is one line here; one whose only
    /// parameters are its iteration counts (`RepeatingKernel`) needs no command of its own.
    static let commands: [any KernelCommand.Type] = [
        AllreduceCommand.self, PingPongCommand.self, HaloCommand.self, TrainCommand.self, GEMMCommand.self,
        RepeatingKernelCommand<Barrier>.self,
    ]

    var names: [String] { Self.commands.map { $0.kernelName } }

    func options(of kernel: String) -> [String: Bool] {
        Self.command(kernel).map { DeclaredOptions.of($0) } ?? [:]
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
