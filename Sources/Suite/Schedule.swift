/// One launch of the suite: an environment, a kernel (nil: the startup probe) and a trial.
public struct PlannedLaunch: Equatable, Sendable {
    public var environment: SuiteFile.EnvironmentEntry
    public var kernel: SuiteFile.Kernel?
    public var kernelIndex: Int
    public var trial: Int

    /// Stable across resumes: records carry it as their run id, the journal by it marks launches done.
    public var id: String {
        let what = kernel.map { "k\(kernelIndex)-\($0.name)" } ?? "startup"
        return "\(environment.label)-\(what)-t\(trial)"
    }
}

/// The order launches run in: trial by trial, every environment once per round, the order of
/// environments rotated each round (A B C, B C A, C A B ...), so slow drift of the machine
/// falls on all environments alike rather than on whichever runs last.
public enum Schedule {
    public static func plan(_ suite: SuiteFile) -> [PlannedLaunch] {
        var launches: [PlannedLaunch] = []
        let environments = suite.environments
        for trial in 1...suite.trials {
            let shift = (trial - 1) % environments.count
            let order = Array(environments[shift...] + environments[..<shift])
            for environment in order {
                if suite.startup {
                    launches.append(PlannedLaunch(environment: environment, kernel: nil, kernelIndex: -1, trial: trial))
                }
                for (index, kernel) in suite.kernels.enumerated() {
                    launches.append(PlannedLaunch(environment: environment, kernel: kernel, kernelIndex: index, trial: trial))
                }
            }
        }
        return launches
    }
}
