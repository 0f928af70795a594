import Records
import Foundation
import Testing

/// `podgap run halo` under real mpirun jobs: every decomposition's gathered grid must equal the
/// serial Jacobi run bit for bit, records read back and their arithmetic checked.
@Suite(.serialized) struct HaloIntegrationTests {
    /// Loopback only: other tests may add and remove interfaces while these jobs run.
    static let loopback = ["btl_tcp_if_include": "lo", "oob_tcp_if_include": "lo"]

    struct Case: CustomStringConvertible, Sendable {
        var ranks: Int
        var dims: Int
        var local: String
        var width: Int
        var periodic: Bool
        var overlap: Bool
        var grid: String
        var global: String
        var description: String { "\(ranks) ranks \(dims)-D \(local) w\(width)\(periodic ? " periodic" : "")\(overlap ? " overlap" : "")" }
    }

    static let cases: [Case] = [
        Case(ranks: 1, dims: 2, local: "12x10", width: 1, periodic: false, overlap: false, grid: "1x1", global: "12x10"),
        Case(ranks: 1, dims: 3, local: "6x5x4", width: 2, periodic: true, overlap: true, grid: "1x1x1", global: "6x5x4"),
        Case(ranks: 2, dims: 2, local: "12x10", width: 2, periodic: true, overlap: false, grid: "2x1", global: "24x10"),
        Case(ranks: 2, dims: 3, local: "6x5x4", width: 1, periodic: false, overlap: true, grid: "2x1x1", global: "12x5x4"),
        Case(ranks: 4, dims: 2, local: "9x7", width: 3, periodic: false, overlap: true, grid: "2x2", global: "18x14"),
        Case(ranks: 4, dims: 2, local: "6x6", width: 1, periodic: true, overlap: true, grid: "2x2", global: "12x12"),
        Case(ranks: 4, dims: 3, local: "5x4x6", width: 2, periodic: true, overlap: false, grid: "2x2x1", global: "10x8x6"),
        Case(ranks: 4, dims: 3, local: "4x4x4", width: 1, periodic: false, overlap: false, grid: "2x2x1", global: "8x8x4"),
    ]

    @Test(arguments: cases)
    func decompositionsMatchTheSerialRun(_ test: Case) throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("h.jsonl").path
        var arguments = ["run", "halo", "--dims", String(test.dims), "--local", test.local, "--halo-width", String(test.width),
                         "--iterations", "6", "--warmup", "2", "--out", out]
        if test.periodic { arguments.append("--periodic") }
        if test.overlap { arguments.append("--overlap") }
        let finished = try Shell.mpirun(ranks: test.ranks, mca: Self.loopback, arguments, timeout: 120)
        #expect(finished.status == 0, "\(finished.stderr)")
        let records = try RecordReader.read(out)
        try #require(records.count == 1)
        let record = records[0]
        #expect(record.verified, "\(record.verification)")
        #expect(record.verification.contains("bit for bit") && record.verification.contains("over 8 sweeps"))
        #expect(record.kernel == "halo" && record.ranks == test.ranks && record.iterations == 6 && record.warmup == 2)
        #expect(record.params["grid"] == .string(test.grid))
        #expect(record.params["global"] == .string(test.global))
        #expect(record.params["periodic"] == .bool(test.periodic) && record.params["overlap"] == .bool(test.overlap))
        #expect(record.params["halo_width"] == .number(Double(test.width)))
        #expect(Set(record.phases.keys) == ["exchange", "compute"])
        #expect(record.seconds.p50 > 0)

        // Halo bytes: every face that has a neighbour sends width layers of its cells, 8 bytes each.
        let local = test.local.split(separator: "x").map { Int($0)! }
        let rankGrid = test.grid.split(separator: "x").map { Int($0)! }
        var bytes = 0
        for axis in 0..<test.dims {
            let faceCells = local.enumerated().filter { $0.offset != axis }.map(\.element).reduce(1, *)
            // Along a non-periodic axis of n ranks there are n-1 links, each carrying two faces.
            let sendingFaces = test.periodic ? 2 * rankGrid[axis] : 2 * (rankGrid[axis] - 1)
            bytes += sendingFaces * (test.ranks / rankGrid[axis]) * faceCells * test.width * 8
        }
        #expect(record.params["halo_bytes"] == .number(Double(bytes)))
        let cells = test.global.split(separator: "x").map { Double($0)! }.reduce(1, *)
        #expect(abs(record.throughput["cells_per_second"]! - cells / record.seconds.p50) <= 1e-6 * cells / record.seconds.p50)
        if bytes > 0, let exchange = record.phases["exchange"], exchange.p50 > 0 {
            #expect(abs(record.throughput["halo_gbps"]! - Double(bytes) / exchange.p50 / 1e9) < 1e-9 * record.throughput["halo_gbps"]!)
        }
    }

    @Test func aCorruptedCellFailsVerificationWithExitOne() throws {
        let finished = try Shell.mpirun(ranks: 2, mca: Self.loopback, ["run", "halo", "--local", "8x8", "--iterations", "3", "--warmup", "0",
                                                   "--corrupt-rank", "1"], timeout: 60)
        #expect(finished.status == 1)
        #expect(finished.stdout.contains("UNVERIFIED"))
        #expect(finished.stderr.contains("rank 1 cell (8,0,0)"), "\(finished.stderr)")
    }

    @Test(arguments: [
        (["--local", "512"], "--local '512'"),
        (["--local", "8x8x8"], "--local 8x8x8 has 3 extents"),
        (["--dims", "3", "--local", "4x4"], "--local 4x4 has 2 extents"),
        (["--dims", "4"], "--dims 4 must be 2 or 3"),
        (["--local", "8x2", "--halo-width", "3"], "cannot be split"),
        (["--halo-width", "0"], "--halo-width 0"),
        (["--iterations", "0"], "--iterations 0"),
        (["--warmup", "-2"], "--warmup -2 must not be negative"),
    ])
    func badInputIsOneLineAndExitTwo(arguments: [String], expected: String) throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("h.jsonl").path
        let finished = try Shell.mpirun(ranks: 2, mca: Self.loopback, ["run", "halo"] + arguments + ["--out", out], timeout: 60)
        #expect(finished.status == 2)
        let lines = finished.stderr.split(separator: "\n").filter { $0.hasPrefix("podgap:") }
        #expect(lines.count == 1 && lines[0].contains(expected), "\(finished.stderr)")
        // Refused before the output is opened: no empty file is left behind.
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func tableWithoutOut() throws {
        let finished = try Shell.mpirun(ranks: 2, mca: Self.loopback, ["run", "halo", "--dims", "3", "--local", "4x4x4", "--iterations", "3",
                                                   "--warmup", "1"], timeout: 60)
        #expect(finished.status == 0, "\(finished.stderr)")
        let lines = finished.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("# podgap halo (3-D, 4x4x4") == true)
        #expect(lines.count == 4)
        let row = lines.last!.split(separator: " ")
        #expect(row.first == "2x1x1" && row.dropFirst().first == "8x4x4")
    }
}
