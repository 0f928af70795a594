/// Several kernels in one launch (`podgap run sequence`): how the suite writes their arguments
/// and how the ranks say that a kernel has finished, in one place for both sides.
public enum KernelSequence {
    /// The word between two kernels' arguments.
    public static let separator = "--then"

    /// What follows `podgap run` for `kernels`, each the arguments `podgap run` takes for one
    /// kernel: that kernel's own for one, `sequence` and all of them for several.
    public static func arguments(_ kernels: [[String]]) -> [String] {
        guard kernels.count > 1 else { return kernels.first ?? [] }
        return ["sequence"] + Array(kernels.joined(separator: [separator]))
    }

    /// The line rank 0 writes on stderr once a kernel of a sequence has written its last record:
    /// when a later kernel ends the launch, the suite keeps the kernels that said so.
    public static func finishedLine(runID: String) -> String { "podgap run sequence: \(runID) finished" }
}
