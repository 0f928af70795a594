import Records
import Testing
@testable import Report

/// nccl-tests' columns from records, with numbers worked out by hand: 1 MiB of float32 on 4 ranks in
/// 100 us (OSU average) is 10.49 GB/s of algorithm bandwidth and 2(4-1)/4 = 1.5 times that on the bus.
@Suite struct NCCLTestsTableTests {
    static let allreduce = KernelDescriptor(metrics: [], headlines: [], busFactor: .allreduce, order: 0)

    static func point(inPlace: Bool, microseconds: Double, wrong: Int = 0) -> Record {
        let measurement = MeasuredPoint(
            parameters: ["bytes": .number(1_048_576), "count": .number(262_144), "dtype": "float32", "operation": "sum",
                         "in_place": .bool(inPlace)],
            warmup: 10, iterations: 100, samples: [microseconds * 2e-6],
            verified: wrong == 0, verification: "", osu: OSUStatistics(avg: microseconds * 1e-6, min: 0, max: 0), wrong: wrong)
        return Record(run: "r", kernel: "allreduce", descriptor: allreduce, ranks: 4, trial: 0, measurement: measurement,
                      keepingSamples: false, environment: Fixtures.environment("native-shm"))
    }

    @Test func aRowHasNCCLTestsColumnsAndArithmetic() {
        let row = NCCLTestsTable.row(outOfPlace: Self.point(inPlace: false, microseconds: 100),
                                     inPlace: Self.point(inPlace: true, microseconds: 200, wrong: 3))
        //              size         count      type   redop    root     time   algbw   busbw #wrong     time   algbw   busbw #wrong
        #expect(row == "     1048576        262144     float     sum      -1   100.00   10.49   15.73       0   200.00    5.24    7.86       3")
    }

    @Test func theHeadingIsNCCLTestsOwn() {
        let lines = NCCLTestsTable.headerLines()
        #expect(lines.count == 4 && lines[0] == "#")
        #expect(lines[2] == "#       size         count      type   redop    root     time   algbw   busbw  #wrong     time   algbw   busbw  #wrong ")
        #expect(lines[3].hasPrefix("#        (B)    (elements)"))
        // Every row lines up under the heading.
        let row = NCCLTestsTable.row(outOfPlace: Self.point(inPlace: false, microseconds: 1), inPlace: nil)
        #expect(row.count == lines[2].count - 1)
    }

    @Test func aMissingSideIsNotApplicableAndWideNumbersShrink() {
        let row = NCCLTestsTable.row(outOfPlace: nil, inPlace: Self.point(inPlace: true, microseconds: 123_456.7))
        #expect(row.hasSuffix("      N/A     N/A     N/A     N/A   123457    0.01    0.01       0"))
        #expect(NCCLTestsTable.number(12345.678, width: 7) == "12345.7")
        #expect(NCCLTestsTable.number(0.5, width: 6) == "  0.50")
        #expect(NCCLTestsTable.number(123_456_789, width: 6) == " 1e+08")
    }

    @Test func footerCountsWrongElementsAndAveragesBusBandwidth() {
        let footer = NCCLTestsTable.footerLines([Self.point(inPlace: false, microseconds: 100),
                                                 Self.point(inPlace: true, microseconds: 200, wrong: 3)])
        #expect(footer[0] == "# Out of bounds values : 3 FAILED")
        // (15.7286 + 7.8643) / 2 GB/s.
        #expect(footer[1] == "# Avg bus bandwidth    : 11.7965 ")
    }
}
