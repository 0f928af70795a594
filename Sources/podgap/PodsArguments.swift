import ArgumentParser
import Pods
import Records

/// `--network` of `run startup`: every mode, loopback being mpirun on this host.
extension NetworkMode: ExpressibleByArgument {}

/// `--network` of `pods up`: the modes emulated nodes carry; ArgumentParser's error lists them.
extension PodNetwork: ExpressibleByArgument {
    public init?(argument: String) {
        guard let mode = NetworkMode(rawValue: argument) else { return nil }
        self.init(mode)
    }

    public static var allValueStrings: [String] { all.map(\.mode.rawValue) }

    public var defaultValueDescription: String { mode.rawValue }
}

/// `--gpus` of `pods up`: all, or a count.
extension GPURequest: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}
