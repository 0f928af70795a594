import Records

/// `podgap run startup`'s records: seconds from the launch command to every rank past MPI_Init,
/// container create and start included in pods. Measured by the command that launches the job,
/// not by a kernel loop, so this type only describes the records.
public enum Startup: Workload {
    public static let name = "startup"

    public static let descriptor = KernelDescriptor(
        metrics: [.init(key: "seconds", label: "time to MPI_Init", unit: "seconds", direction: .lowerIsBetter)],
        headlines: [.init(label: "startup time (to MPI_Init)", point: .heaviest, asRate: false)],
        order: 4)
}
