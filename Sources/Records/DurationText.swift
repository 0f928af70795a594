/// Durations as users type them: "90" or "90s" -> 90, "10m" -> 600, "1h" -> 3600.
public enum DurationText {
    /// Seconds, or nil when the text is not a positive duration.
    public static func seconds(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600]
        let value: Double?
        if let last = trimmed.last, let unit = units[last] {
            value = Double(trimmed.dropLast()).map { $0 * unit }
        } else {
            value = Double(trimmed)
        }
        return value.flatMap { $0 > 0 && $0.isFinite ? $0 : nil }
    }
}
