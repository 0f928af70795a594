/// Hockney's model of one message: `time = alpha + bytes * beta`, latency `alpha` in seconds and
/// inverse bandwidth `beta` in seconds per byte, valid for sizes up to `upToBytes` (nil: any size
/// above the previous regime). Open MPI changes protocol at its eager limit (vader 4 KiB, tcp
/// 64 KiB): eager sends copy once and go, rendezvous sends handshake first, so a link is a list
/// of regimes, each its own line.
public struct Regime: Equatable, Sendable {
    public var alpha: Double
    public var beta: Double
    public var upToBytes: Int?

    public init(alpha: Double, beta: Double, upToBytes: Int? = nil) {
        self.alpha = alpha; self.beta = beta; self.upToBytes = upToBytes
    }

    /// Bandwidth in bytes per second (infinite when beta is zero).
    public var bandwidth: Double { beta > 0 ? 1 / beta : .infinity }

    public func time(bytes: Double) -> Double { alpha + bytes * beta }
}

/// A link between two ranks: the regimes in increasing size order.
public struct Link: Equatable, Sendable {
    public var regimes: [Regime]

    public init(regimes: [Regime]) { self.regimes = regimes }
    public init(alpha: Double, bandwidth: Double) { self.regimes = [Regime(alpha: alpha, beta: 1 / bandwidth)] }

    /// The regime a message of `bytes` falls in.
    public func regime(bytes: Double) -> Regime {
        regimes.first { $0.upToBytes.map { bytes <= Double($0) } ?? true } ?? regimes[regimes.count - 1]
    }

    /// One point-to-point message.
    public func time(bytes: Double) -> Double { regime(bytes: bytes).time(bytes: bytes) }

    /// `steps` messages of `bytes` each, one after another (a ring's phases).
    public func time(steps: Int, bytes: Double) -> Double { Double(steps) * time(bytes: bytes) }

    /// The same link with latency and bandwidth scaled, for sensitivity runs.
    public func scaled(latency: Double = 1, bandwidth: Double = 1) -> Link {
        Link(regimes: regimes.map { Regime(alpha: $0.alpha * latency, beta: $0.beta / bandwidth, upToBytes: $0.upToBytes) })
    }
}
