import Foundation

/// OSU micro-benchmarks' text layout, exactly as a built OMB 7.2 prints it (configure.ac's
/// FIELD_WIDTH 18, FLOAT_PRECISION 2; `%-10s`/`%-10d` for the size), so that scripts that parse
/// OSU output read podgap's: osu_allreduce with -f (Avg, Min and Max Latency, Iterations) and
/// osu_latency (one Latency column). The one OSU formatter, for `run allreduce`/`run pingpong`
/// without `--out` and `report --format osu`. Values in microseconds.
public enum OSULayout {
    public static let fieldWidth = 18

    /// `# Size`, then Avg, Min, Max Latency(us) and Iterations, then any `extra` headings.
    public static func collectiveHeader(extra: [(heading: String, width: Int)] = []) -> String {
        size("# Size") + field("Avg Latency(us)") + field("Min Latency(us)") + field("Max Latency(us)")
            + field("Iterations", width: 12) + extra.map { field($0.heading, width: $0.width) }.joined()
    }

    public static func collectiveRow(bytes: Int, avg: Double, min: Double, max: Double, iterations: Int,
                                     extra: [(value: String, width: Int)] = []) -> String {
        size(String(bytes)) + number(avg) + number(min) + number(max) + field(String(iterations), width: 12)
            + extra.map { field($0.value, width: $0.width) }.joined()
    }

    public static func latencyHeader() -> String { size("# Size") + field("Latency (us)") }

    public static func latencyRow(bytes: Int, latency: Double) -> String { size(String(bytes)) + number(latency) }

    /// `%*.*f` with FIELD_WIDTH and FLOAT_PRECISION.
    public static func number(_ value: Double) -> String { field(String(format: "%.2f", value)) }

    /// `%-*s` with 10: left-aligned, never cut.
    static func size(_ text: String) -> String { text.padding(toLength: Swift.max(10, text.count), withPad: " ", startingAt: 0) }

    /// `%*s`: right-aligned in `width`, never cut.
    static func field(_ text: String, width: Int = fieldWidth) -> String {
        String(repeating: " ", count: Swift.max(width - text.count, 0)) + text
    }
}
