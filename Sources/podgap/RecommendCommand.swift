import ArgumentParser
import Foundation
import Suite

/// `podgap recommend DIR --mpijob [--out FILE]`: the measured job as Kubeflow MPIJobs with the
/// Kubernetes knobs that helped it (docs/knobs.md).
struct RecommendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recommend",
        abstract: "Write the measured job as a Kubeflow MPIJob with the Kubernetes knobs that helped, each commented with its effect.",
        discussion: "DIR is a results folder of a suite with knob environments (benchmarks/suites/knobs.yaml). See docs/knobs.md. Exit code 2 on bad input.")

    @Argument(help: "A results folder written by podgap suite.")
    var folder: String

    @Flag(help: "Write Kubeflow MPIJobs (kubeflow.org/v2beta1), one per kernel of the suite (the only output so far).")
    var mpijob = false

    @Option(help: "The pod image the manifests name.")
    var image = Recommendation.defaultImage

    @Option(help: "Write the manifests to this file instead of stdout.")
    var out: String?

    func run() throws {
        guard mpijob else { throw Failure.badInput("say what to write: --mpijob (a Kubeflow MPIJob)") }
        if let out { try ReportCommand.checkWritable(out) }
        let text: String
        do {
            text = try Recommendation(folder: folder, kernels: RunKernels(), image: image).mpiJobs()
        } catch let error as SuiteError {
            throw Failure.badInput(error.description)
        }
        if let out { try ReportCommand.write(text, to: out) } else { FileHandle.standardOutput.write(Data(text.utf8)) }
    }
}
