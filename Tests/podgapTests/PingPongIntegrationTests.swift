import Records
import Foundation
import Testing

/// `podgap run pingpong` under mpirun: one-way times read back, bytes checked both ways.
@Suite(.serialized) struct PingPongIntegrationTests {
    @Test(arguments: [("vader,self", "native-shm"), ("tcp,self", "native-tcp")])
    func everySizeMeasuredAndVerified(btl: String, environment: String) throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("p.jsonl").path
        let finished = try Shell.mpirun(ranks: 2, mca: ["btl": btl],
                                        ["run", "pingpong", "--sizes", "1:64K", "--iterations", "20", "--warmup", "2", "--out", out])
        #expect(finished.status == 0, "\(finished.stderr)")
        let records = try RecordReader.read(out)
        #expect(records.map { Int($0.params["bytes"]?.doubleValue ?? -1) } == (0...16).map { 1 << $0 })
        for record in records {
            #expect(record.verified, "\(record.verification)")
            #expect(record.kernel == "pingpong" && record.ranks == 2 && record.iterations == 20 && record.warmup == 2)
            #expect(record.environment.name == environment)
            #expect(record.seconds.p50 > 0 && record.seconds.min <= record.seconds.p50 && record.seconds.p50 <= record.seconds.max)
            let bandwidth = record.params["bytes"]!.doubleValue! / record.seconds.p50 / 1e9
            #expect(abs(record.throughput["bandwidth_gbps"]! - bandwidth) <= bandwidth * 1e-9)
            // osu_latency's number: rank 0's half round trips averaged, in all three columns.
            let osu = try #require(record.osu)
            #expect(osu.avg == osu.min && osu.avg == osu.max)
            #expect(osu.avg >= record.seconds.min && osu.avg <= record.seconds.max)
            #expect(record.descriptor?.metrics.first?.key == "seconds")
        }
        // 64 KiB one way takes longer than 1 byte: the sweep timed the messages, not a constant.
        #expect(records.last!.seconds.p50 > records.first!.seconds.p50)
    }

    @Test func aCorruptedEchoIsUnverifiedAndExitsOne() throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("p.jsonl").path
        let finished = try Shell.mpirun(ranks: 2, ["run", "pingpong", "--sizes", "1K", "--iterations", "5", "--corrupt-rank", "1", "--out", out])
        #expect(finished.status == 1, "\(finished.stderr)")
        let record = try #require(try RecordReader.read(out).first)
        #expect(!record.verified)
        #expect(record.verification.hasPrefix("rank 1: byte 512 is "), "\(record.verification)")
    }

    /// osu_latency's layout without --out, and its counts: 10000 timed up to 8 KiB, 1000 above.
    @Test func tableWithoutOutFollowsOSULatency() throws {
        let finished = try Shell.mpirun(ranks: 2, ["run", "pingpong", "--sizes", "8K,16K", "--warmup", "0"])
        #expect(finished.status == 0, "\(finished.stderr)")
        let lines = finished.stdout.split(separator: "\n")
        #expect(lines.contains("# Size          Latency (us)"), "\(finished.stdout)")
        let rows = lines.filter { !$0.hasPrefix("#") }.map { $0.split(separator: " ") }
        #expect(rows.map { $0.first } == ["8192", "16384"])
        #expect(rows.allSatisfy { $0.count == 2 && Double($0[1])! > 0 })
    }

    @Test func defaultCountsAreOSULatencys() throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("p.jsonl").path
        let finished = try Shell.mpirun(ranks: 2, ["run", "pingpong", "--sizes", "8K,16K", "--out", out])
        #expect(finished.status == 0, "\(finished.stderr)")
        let records = try RecordReader.read(out)
        #expect(records.map { [$0.iterations, $0.warmup] } == [[10000, 100], [1000, 10]])
    }

    @Test func threeRanksAreRefusedBeforeAnyTraffic() throws {
        let finished = try Shell.mpirun(ranks: 3, ["run", "pingpong", "--sizes", "1K"])
        #expect(finished.status == 2)
        #expect(finished.stderr.contains("pingpong runs on exactly 2 ranks, as osu_latency does; this launch has 3"), "\(finished.stderr)")
    }
}
