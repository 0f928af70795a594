/// The kernels `podgap run` can run, as a suite needs to know them: their names, their options,
/// and a check of a kernel's parameters by the same code `podgap run` parses them with. The CLI
/// hands one in (Suite does not link the kernels), so a suite file is refused at `--dry-run` for
/// exactly the values a launch would refuse, and a new kernel needs no change here.
public protocol KernelRegistry {
    /// Every kernel a suite may name.
    var names: [String] { get }

    /// The options of `kernel`, by long name without the dashes, each with whether it is a flag
    /// (takes no value). Empty for a kernel not in `names`.
    func options(of kernel: String) -> [String: Bool]

    /// Parses `arguments` (what follows `podgap run KERNEL`) as `podgap run KERNEL` would and runs
    /// its checks (sizes, element type, memory fit ...) without starting MPI. Throws an error
    /// whose description is one line saying what is wrong with which value.
    func validate(kernel: String, arguments: [String]) throws
}
