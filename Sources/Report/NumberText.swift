import Foundation

/// Numbers as the report prints them; never NaN or infinity (those print as "-").
public enum NumberText {
    public static func percent(_ fraction: Double, unit: Bool = true) -> String {
        guard fraction.isFinite else { return "-" }
        let text = String(format: "%+.1f", fraction * 100)
        return unit ? text + "%" : text
    }

    public static func pValue(_ p: Double) -> String {
        guard p.isFinite else { return "p = -" }
        if p < 0.001 { return "p < 0.001" }
        if p < 0.01 { return "p < 0.01" }
        return String(format: "p = %.2f", p)
    }

    /// An equivalence margin: 0.05 -> "5%", 0.025 -> "2.5%".
    public static func margin(_ fraction: Double) -> String {
        guard fraction.isFinite else { return "-" }
        return String(format: "%g%%", (fraction * 1000).rounded() / 10)
    }

    /// Seconds in the unit that keeps three or four significant digits.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "-" }
        let magnitude = abs(seconds)
        if magnitude < 1e-3 { return String(format: "%.2f us", seconds * 1e6) }
        if magnitude < 1 { return String(format: "%.3f ms", seconds * 1e3) }
        return String(format: "%.3f s", seconds)
    }

    /// Plain decimal for machine-readable outputs (CSV, data attributes); empty for a missing value.
    public static func number(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "" }
        return "\(value)"
    }
}
