/// SplitMix64: a small, fast, fully reproducible generator (the standard library's is not
/// seedable), so that every rank and every run builds the same synthetic data from the same seed,
/// and a report's bootstrap intervals are the same every time it is rendered from the same records.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in [-1, 1) as a Float.
    public mutating func nextSignedFloat() -> Float {
        Float(Double(next() >> 11) * 0x1.0p-52 - 1)
    }
}
