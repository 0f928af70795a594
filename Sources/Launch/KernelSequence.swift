/// Several kernels in one launch (`podgap run sequence`): how the suite writes their arguments
/// and how the ranks say that a kernel has finished, in one place for both sides.
public enum KernelSequence {
    /// The word between two kernels' arguments.
    public static let separator = "--then"
    /// The option before the first kernel naming the gate folder (`--gate DIR`): between two
    /// kernels rank 0 says so (`gateLine`) and waits until the file `gateFile` appears there, so
    /// that the suite reads the nodes' counters while no kernel runs.
    public static let gateOption = "--gate"
    /// How long rank 0 waits at a gate before it goes on (and says so, `missedGateLine`).
    public static let gateWait = 5.0

    /// What follows `podgap run` for `kernels`, each the arguments `podgap run` takes for one
    /// kernel: that kernel's own for one, `sequence` (with the gate folder, where given) and all
    /// of them for several.
    public static func arguments(_ kernels: [[String]], gate: String? = nil) -> [String] {
        guard kernels.count > 1 else { return kernels.first ?? [] }
        return ["sequence"] + (gate.map { [gateOption, $0] } ?? []) + Array(kernels.joined(separator: [separator]))
    }

    /// The line rank 0 writes on stderr once a kernel of a sequence has written its last record:
    /// when a later kernel ends the launch, the suite keeps the kernels that said so.
    public static func finishedLine(runID: String) -> String { "podgap run sequence: \(runID) finished" }

    /// The line rank 0 writes when every rank has finished the kernels before `index` and waits
    /// at its gate; `missedGateLine` when it went on after `gateWait` with the gate still shut.
    public static func gateLine(_ index: Int) -> String { "\(gatePrefix)\(index)\(waiting)" }
    public static func missedGateLine(_ index: Int) -> String { "\(gatePrefix)\(index)\(missed) in \(Int(gateWait)) s" }
    /// The file that opens gate `index`, in the gate folder.
    public static func gateFile(_ index: Int) -> String { "gate-\(index)" }

    /// Gate `index` in a line of the launch's output, and whether rank 0 went on without it.
    public static func gate(in line: Substring) -> (index: Int, missed: Bool)? {
        guard let found = line.range(of: gatePrefix) else { return nil }
        let rest = line[found.upperBound...]
        let digits = rest.prefix { $0.isNumber }
        guard let index = Int(digits) else { return nil }
        let word = rest.dropFirst(digits.count)
        if word.hasPrefix(waiting) { return (index, false) }
        if word.hasPrefix(missed) { return (index, true) }
        return nil
    }

    private static let gatePrefix = "podgap run sequence: gate ", waiting = " waiting", missed = " not opened"
}
