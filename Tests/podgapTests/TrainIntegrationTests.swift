import Records
import Foundation
import Testing

/// `podgap run train` under real mpirun jobs: identical weights on every rank, N ranks of batch B
/// equal to one rank of batch N*B within a stated tolerance, a falling loss.
@Suite(.serialized) struct TrainIntegrationTests {
    static let model = ["--layers", "16,48,32,8", "--steps", "12", "--warmup", "2", "--learning-rate", "0.1",
                        "--bucket-mb", "0.004"]

    /// Runs a training job and returns its record and rank 0's final weights.
    func train(ranks: Int, batch: Int, overlap: Bool = true, btl: String = "vader,self") throws -> (Record, [Float]) {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("t.jsonl").path, weights = folder.appendingPathComponent("w.bin").path
        // Loopback only: other tests may add and remove interfaces while this job runs.
        let finished = try Shell.mpirun(ranks: ranks, mca: ["btl": btl, "btl_tcp_if_include": "lo", "oob_tcp_if_include": "lo"],
                                        ["run", "train", "--batch", String(batch), "--out", out, "--dump-weights", weights]
                                            + Self.model + (overlap ? [] : ["--no-overlap"]), timeout: 120)
        #expect(finished.status == 0, "\(finished.stderr)")
        let records = try RecordReader.read(out)
        try #require(records.count == 1)
        let data = try Data(contentsOf: URL(fileURLWithPath: weights))
        let values = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        return (records[0], values)
    }

    @Test(arguments: [(2, true, "vader,self"), (2, false, "tcp,self"), (4, true, "vader,self")])
    func weightsAreIdenticalOnEveryRankAndTheLossFalls(ranks: Int, overlap: Bool, btl: String) throws {
        let (record, weights) = try train(ranks: ranks, batch: 8, overlap: overlap, btl: btl)
        #expect(record.verified, "\(record.verification)")
        #expect(record.verification.contains("bit-identical on all \(ranks) ranks"))
        #expect(record.kernel == "train" && record.ranks == ranks && record.iterations == 12 && record.warmup == 2)
        #expect(record.params["global_batch"] == .number(Double(8 * ranks)))
        #expect(record.params["overlap"] == .bool(overlap))
        // 16*48 + 48*32 + 32*8 weights of 4 bytes; buckets of at most 4 KiB hold one layer each here.
        let parameters = 16 * 48 + 48 * 32 + 32 * 8
        #expect(weights.count == parameters)
        #expect(record.params["gradient_bytes"] == .number(Double(parameters * 4)))
        #expect(record.params["buckets"] == .number(3))
        #expect(record.throughput["loss_last"]! < record.throughput["loss_first"]!)
        #expect(Set(record.phases.keys) == ["compute", "exposed_communication", "compute_alone"])
        // The computation with nothing in flight is part of the computation: all of it without
        // overlap; with overlap, up to the first bucket's start (three buckets here), so less.
        let compute = try #require(record.phases["compute"]?.p50), alone = try #require(record.phases["compute_alone"]?.p50)
        #expect(alone > 0 && alone <= compute * 1.02 + 1e-5, "compute \(compute) s, alone \(alone) s")
        if !overlap { #expect(alone >= compute * 0.98 - 1e-5, "compute \(compute) s, alone \(alone) s") }
        #expect(record.descriptor?.modePhase == "compute_alone")
        // OpenBLAS's threads compute beside the gradient allreduce: FUNNELED, as the standard asks.
        #expect(record.environment.mpiThreadLevel == "funneled")
        let samples = Double(8 * ranks) / record.seconds.p50
        #expect(abs(record.throughput["samples_per_second"]! - samples) <= 1e-9 * samples)
        #expect(record.throughput["gemm_gflops"]! > 0)
        // The local sum speed the model adds to reduce rounds costed on ping-pong links.
        #expect(record.throughput["reduce_gbps"]! > 0)
    }

    /// Data parallelism changes only the order of float additions: N ranks with batch B must
    /// reach the weights of one rank with batch N*B within 1e-5 of the largest weight
    /// (float32 rounding over 14 steps; a wrong scale or a missing rank's gradient is off by >1e-2).
    @Test(arguments: [2, 4])
    func splitBatchesMatchOneRankWithTheWholeBatch(ranks: Int) throws {
        let (_, split) = try train(ranks: ranks, batch: 8 / ranks)
        let (_, whole) = try train(ranks: 1, batch: 8)
        try #require(split.count == whole.count)
        let largest = whole.map(abs).max()!
        let worst = zip(split, whole).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-5 * largest, "largest difference \(worst), largest weight \(largest)")
        // And the runs trained: the weights moved away from where a different batch split leads.
        let (_, other) = try train(ranks: 1, batch: 4)
        #expect(zip(other, whole).map { abs($0 - $1) }.max()! > 1e-3 * largest)
    }

    @Test func overlapDoesNotChangeTheArithmetic() throws {
        let (_, overlapped) = try train(ranks: 2, batch: 4, overlap: true)
        let (_, waited) = try train(ranks: 2, batch: 4, overlap: false)
        #expect(overlapped.map(\.bitPattern) == waited.map(\.bitPattern))
    }

    @Test(arguments: [
        (["--layers", "1024"], "--layers '1024'"),
        (["--layers", "64,x,8"], "--layers '64,x,8'"),
        (["--batch", "0"], "--batch 0"),
        (["--dtype", "float64"], "--dtype 'float64'"),
        (["--bucket-mb", "0"], "--bucket-mb 0"),
        (["--steps", "0"], "--steps 0"),
        (["--batch", "-5"], "--batch -5 must be at least 1"),
        // 50 TB of activations: refused before anything is allocated, on any machine.
        (["--layers", "32768,32768", "--batch", "100000000"], "--layers 32768,32768 --batch 100000000 needs"),
    ])
    func badInputIsOneLineAndExitTwo(arguments: [String], expected: String) throws {
        let finished = try Shell.mpirun(ranks: 2, mca: ["btl_tcp_if_include": "lo", "oob_tcp_if_include": "lo"], ["run", "train", "--layers", "8,8"] + arguments, timeout: 60)
        #expect(finished.status == 2)
        let lines = finished.stderr.split(separator: "\n").filter { $0.hasPrefix("podgap:") }
        #expect(lines.count == 1 && lines[0].contains(expected), "\(finished.stderr)")
        #expect(finished.stdout.isEmpty)
        #expect(!finished.stderr.contains("Fatal error"))
    }

    @Test func tableWithoutOut() throws {
        let finished = try Shell.mpirun(ranks: 2, mca: ["btl_tcp_if_include": "lo", "oob_tcp_if_include": "lo"], ["run", "train", "--batch", "4"] + Self.model, timeout: 60)
        #expect(finished.status == 0, "\(finished.stderr)")
        let lines = finished.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("# podgap train (layers 16,48,32,8, batch 4 per rank, overlap") == true)
        #expect(lines.count == 4)
        let columns = lines.last!.split(separator: " ").compactMap { Double($0) }
        #expect(columns.count == 7)
        // The last two columns are the first and last loss: it fell.
        #expect(columns[6] < columns[5])
    }
}
