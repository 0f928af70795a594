import Records
import Foundation
import Testing

/// `podgap run allreduce` under real mpirun jobs, records read back and checked.
@Suite(.serialized) struct AllreduceIntegrationTests {
    static let sizes = [4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]

    @Test(arguments: [("mpi", "vader,self", "native-shm"), ("ring", "vader,self", "native-shm"),
                      ("mpi", "tcp,self", "native-tcp"), ("ring", "tcp,self", "native-tcp")])
    func everySizeVerified(algorithm: String, btl: String, environment: String) throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("r.jsonl").path
        let finished = try Shell.mpirun(ranks: 2, mca: ["btl": btl],
                                        ["run", "allreduce", "--sizes", "4:64K", "--algorithm", algorithm, "--chunk", "4K",
                                         "--iterations", "20", "--warmup", "2", "--out", out, "--run-id", "t1", "--trial", "2",
                                         "--round", "4", "--position", "2"])
        #expect(finished.status == 0, "\(finished.stderr)")
        let records = try RecordReader.read(out)
        #expect(records.map { Int($0.params["bytes"]?.doubleValue ?? -1) } == Self.sizes)
        for record in records {
            #expect(record.verified, "\(record.verification)")
            #expect(record.kernel == "allreduce" && record.ranks == 2 && record.iterations == 20 && record.warmup == 2)
            #expect(record.run == "t1" && record.trial == 2)
            // As the suite passed them.
            #expect(record.round == 4 && record.position == 2)
            #expect(record.params["algorithm"] == .string(algorithm))
            #expect(record.params["in_place"] == .bool(false))
            #expect(record.wrong == 0)
            #expect(record.descriptor?.busFactor == .allreduce)
            #expect(record.descriptor?.headlines.map(\.point) == [.smallest, .largest])
            // OSU's view: per-rank means, their mean between their extremes.
            let osu = try #require(record.osu)
            #expect(osu.min <= osu.avg && osu.avg <= osu.max && osu.min > 0)
            // The machine-state probe ran before the kernel, on every rank.
            let probe = try #require(record.environment.probe)
            #expect(probe.sumGBps > 0 && probe.gemmGflops > 0 && probe.seconds > 0)
            #expect(record.seconds.min <= record.seconds.p50 && record.seconds.p50 <= record.seconds.max)
            #expect(record.seconds.p50 > 0)
            #expect(record.environment.name == environment)
            // OSU's thread level (MPI_Init), which Open MPI granted and the record names.
            #expect(record.environment.mpiThreadLevel == "single")
            // Two ranks on two cores: podgap must have turned yield-when-idle on and said so.
            if record.environment.cores <= 2 {
                #expect(record.environment.oversubscribed && record.environment.yieldWhenIdle)
                #expect(record.environment.yieldSetBy == "podgap")
            }
            let bytes = record.params["bytes"]!.doubleValue!
            let algbw = bytes / record.seconds.p50 / 1e9
            #expect(abs(record.throughput["algbw_gbps"]! - algbw) <= algbw * 1e-9)
            #expect(record.throughput["busbw_gbps"] == record.throughput["algbw_gbps"]) // 2(n-1)/n = 1 at n = 2
            // Counters over the point, per rank, reduced: each rank's own getrusage counted once.
            let counters = try #require(record.counters)
            #expect(counters.values["rusage.user_usec"]?.count == 2)
            #expect((counters.values["region.wall_usec"]?.max ?? 0) > 0)
            #expect(counters.values["tcp.out_segs"]?.count == 1, "both ranks share one namespace: counted once")
            if btl.hasPrefix("tcp") {
                // Every allreduce over TCP sends segments; 22 calls at least 22.
                #expect((counters.values["tcp.out_segs"]?.sum ?? 0) >= 22)
            }
            for name in ["hw.cycles", "hw.instructions", "hw.cache_misses"] {
                #expect((counters.values[name] == nil) != (counters.unavailable[name] == nil), "\(name): a value or a reason, never both")
            }
        }
    }

    @Test(arguments: ["float64", "int32"])
    func otherTypesOnThreeRanks(dtype: String) throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("r.jsonl").path
        // Three ranks and a size that does not divide evenly into ring pieces or chunks.
        let finished = try Shell.mpirun(ranks: 3, ["run", "allreduce", "--sizes", "4,8,100,1000,40000", "--dtype", dtype,
                                                   "--algorithm", "ring", "--chunk", "1K", "--iterations", "5", "--warmup", "1", "--out", out])
        #expect(finished.status == 0, "\(finished.stderr)")
        let records = try RecordReader.read(out)
        let expected = dtype == "float64" ? [8, 100, 1000, 40000] : [4, 8, 100, 1000, 40000]
        #expect(records.map { Int($0.params["bytes"]!.doubleValue!) } == expected)
        #expect(records.allSatisfy { $0.verified && $0.ranks == 3 })
        // busbw = algbw * 2(n-1)/n = algbw * 4/3 on three ranks.
        for record in records {
            #expect(abs(record.throughput["busbw_gbps"]! - record.throughput["algbw_gbps"]! * 4 / 3) < 1e-12)
        }
    }

    @Test func tableWithoutOutFollowsOSULayout() throws {
        let finished = try Shell.mpirun(ranks: 2, ["run", "allreduce", "--sizes", "4:16", "--iterations", "5", "--warmup", "1"])
        #expect(finished.status == 0, "\(finished.stderr)")
        let lines = finished.stdout.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("# Size") && $0.contains("Avg Latency(us)") && $0.contains("busbw(GB/s)") })
        #expect(lines.contains { $0.hasPrefix("# 2 ranks") && $0.hasSuffix(", thread level single") }, "\(lines.prefix(3))")
        let rows = lines.filter { !$0.hasPrefix("#") }
        #expect(rows.map { $0.split(separator: " ").first.map(String.init) } == ["4", "8", "16"])
        for row in rows {
            let fields = row.split(separator: " ").compactMap { Double($0) }
            #expect(fields.count == 6)
            #expect(fields[2] <= fields[1] && fields[1] <= fields[3]) // min <= avg <= max
            #expect(fields[4] == 5)
        }
    }

    /// nccl-tests' columns: both placements measured per size, busbw = algbw * 2(n-1)/n from the
    /// time shown, #wrong 0, and the footer.
    @Test func ncclTableMeasuresBothPlacements() throws {
        let finished = try Shell.mpirun(ranks: 3, ["run", "allreduce", "--table", "nccl", "--sizes", "4:16", "--iterations", "5", "--warmup", "1"])
        #expect(finished.status == 0, "\(finished.stderr)")
        let lines = finished.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("#       size         count      type   redop    root     time   algbw   busbw  #wrong") })
        let rows = lines.filter { !$0.hasPrefix("#") }.map { $0.split(separator: " ").map(String.init) }
        #expect(rows.map { $0.prefix(5) } == [["4", "1", "float", "sum", "-1"], ["8", "2", "float", "sum", "-1"], ["16", "4", "float", "sum", "-1"]])
        for row in rows {
            try #require(row.count == 13, "\(row)")
            for side in [5, 9] {
                let time = try #require(Double(row[side])), algbw = try #require(Double(row[side + 1])), busbw = try #require(Double(row[side + 2]))
                #expect(time > 0)
                #expect(abs(busbw - algbw * 4 / 3) <= 0.012, "\(row)")
                #expect(row[side + 3] == "0")
            }
        }
        #expect(lines.contains("# Out of bounds values : 0 OK"))
        #expect(lines.contains { $0.hasPrefix("# Avg bus bandwidth    : ") })
    }

    @Test func wrongElementMarksThePointAndTheExitCode() throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("r.jsonl").path
        let finished = try Shell.mpirun(ranks: 2, ["run", "allreduce", "--sizes", "64,128", "--iterations", "3",
                                                   "--corrupt-rank", "1", "--out", out])
        #expect(finished.status == 1)
        #expect(finished.stderr.contains("failed verification"))
        let records = try RecordReader.read(out)
        #expect(records.count == 2)
        #expect(records.allSatisfy { !$0.verified && $0.verification.hasPrefix("rank 1: element") })
    }

    @Test(arguments: [
        (["run", "allreduce", "--sizes", "4:abc"], "'abc'"),
        (["run", "allreduce", "--sizes", "1M:4"], "runs backwards"),
        (["run", "allreduce", "--sizes", "0"], "greater than zero"),
        (["run", "allreduce", "--iterations", "0"], "--iterations 0"),
        (["run", "allreduce", "--iterations=-3"], "-3"),
        (["run", "allreduce", "--iterations", "-5"], "--iterations -5 must be at least 1"),
        (["run", "allreduce", "--timeout", "0"], "must be longer than zero"),
        (["run", "allreduce", "--position", "0"], "--position 0 must be at least 1"),
        (["run", "allreduce", "--dtype", "float16"], "one of 'float32', 'float64' or 'int32'"),
        (["run", "allreduce", "--transport", "rdma"], "one of 'auto', 'ucx' or 'tcp'"),
        (["run", "allreduce", "--dtype", "float16"], "float16"),
        (["run", "allreduce", "--algorithm", "tree"], "tree"),
        (["run", "allreduce", "--timeout", "soon"], "soon"),
        (["run", "allreduce", "--out", "/proc/podgap/x.jsonl"], "/proc/podgap/x.jsonl"),
        (["run", "allgatherz"], "allgatherz"),
    ])
    func badInputIsOneLineAndExitTwo(arguments: [String], mentions: String) throws {
        // Under mpirun, every rank sees the same bad input: only rank 0 may say so.
        let finished = try Shell.mpirun(ranks: 2, arguments, timeout: 60)
        #expect(finished.status == 2, "\(finished.stderr)")
        let ours = finished.stderr.split(separator: "\n").filter { $0.hasPrefix("podgap:") }
        #expect(ours.count == 1, "\(finished.stderr)")
        #expect(ours.first?.contains(mentions) == true, "\(ours)")
        #expect(!finished.stderr.contains("Fatal error"))
        // Outside mpirun too.
        let alone = try Shell.run(Shell.podgap, arguments, timeout: 60)
        #expect(alone.status == 2)
        #expect(alone.stderr.split(separator: "\n").count == 1, "\(alone.stderr)")
    }

    /// 64G aborted every rank with a Swift fatal error and left an empty --out file; now it is
    /// refused before any allocation, MPI traffic or file.
    @Test(arguments: [["--sizes", "64G"], ["--sizes", "16G"]])
    func sizesThatCannotFitAreRefusedWithoutAFile(arguments: [String]) throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("r.jsonl").path
        let started = Date()
        let finished = try Shell.mpirun(ranks: 2, ["run", "allreduce"] + arguments + ["--out", out], timeout: 60)
        #expect(finished.status == 2, "\(finished.stderr)")
        let ours = finished.stderr.split(separator: "\n").filter { $0.hasPrefix("podgap:") }
        #expect(ours.count == 1 && ours[0].contains("--sizes"), "\(finished.stderr)")
        #expect(!finished.stderr.contains("Fatal error"))
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(Date().timeIntervalSince(started) < 30)
    }

    /// MPI_IN_PLACE: the point says so, is verified, and a corrupted element is counted.
    @Test func inPlaceIsMeasuredAndCountsWrongElements() throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("r.jsonl").path
        for algorithm in ["mpi", "ring"] {
            let finished = try Shell.mpirun(ranks: 3, ["run", "allreduce", "--in-place", "--algorithm", algorithm, "--sizes", "4,1000,40000",
                                                       "--dtype", "int32", "--chunk", "1K", "--iterations", "5", "--warmup", "1", "--out", out])
            #expect(finished.status == 0, "\(finished.stderr)")
        }
        let records = try RecordReader.read(out)
        #expect(records.count == 6)
        #expect(records.allSatisfy { $0.verified && $0.wrong == 0 && $0.params["in_place"] == .bool(true) })

        let corrupt = folder.appendingPathComponent("c.jsonl").path
        let finished = try Shell.mpirun(ranks: 2, ["run", "allreduce", "--in-place", "--sizes", "64", "--iterations", "3",
                                                   "--corrupt-rank", "0", "--out", corrupt])
        #expect(finished.status == 1)
        let record = try #require(try RecordReader.read(corrupt).first)
        #expect(!record.verified && record.wrong == 1)
    }

    @Test func killedRankEndsTheJobAndKeepsTheRecords() throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("r.jsonl").path
        let mpirun = Process()
        mpirun.executableURL = URL(fileURLWithPath: "/usr/bin/mpirun")
        mpirun.arguments = ["-np", "2", "--oversubscribe", Shell.podgap, "run", "allreduce", "--sizes", "4:64M",
                            "--iterations", "30", "--warmup", "1", "--timeout", "40s", "--out", out]
        mpirun.environment = Shell.mpiEnvironment
        mpirun.standardInput = FileHandle.nullDevice
        mpirun.standardOutput = FileHandle.nullDevice
        mpirun.standardError = FileHandle.nullDevice
        try mpirun.run()
        defer { if mpirun.isRunning { kill(mpirun.processIdentifier, SIGKILL) } }

        // Wait until some points are written, then kill one rank (a child of the mpirun we started).
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, ((try? String(contentsOfFile: out, encoding: .utf8))?.split(separator: "\n").count ?? 0) < 3 {
            usleep(50_000)
        }
        let ranks = ProcessTree.children(of: mpirun.processIdentifier)
        try #require(ranks.count == 2, "rank processes: \(ranks)")
        let started = Date()
        kill(ranks[1], SIGKILL)
        while mpirun.isRunning && Date().timeIntervalSince(started) < 90 { usleep(50_000) }
        try #require(!mpirun.isRunning, "the job outlived its timeout")
        #expect(Date().timeIntervalSince(started) < 60)
        #expect(mpirun.terminationStatus != 0)
        // The other rank is gone as well.
        #expect(ranks.allSatisfy { !ProcessTree.isAlive($0) })

        let records = try RecordReader.read(out)
        #expect(records.count >= 3)
        #expect(records.count < 25) // the sweep did not finish
        let sizes = records.map { Int($0.params["bytes"]!.doubleValue!) }
        #expect(sizes == Array(sizes.indices.map { 4 << $0 }))
        #expect(records.allSatisfy { $0.verified })
    }

    @Test func environmentAsJSON() throws {
        let finished = try Shell.run(Shell.podgap, ["env", "--json"])
        #expect(finished.status == 0)
        let environment = try JSONDecoder().decode(Environment.self, from: Data(finished.stdout.utf8))
        #expect(environment.launcher.kind == "singleton")
        #expect(environment.cores == ProcessInfo.processInfo.activeProcessorCount)
        #expect(environment.mpiLibrary.hasPrefix("Open MPI"))
        #expect(environment.topology?.processingUnits ?? 0 >= environment.cores)
        let raw = try JSONSerialization.jsonObject(with: Data(finished.stdout.utf8)) as? [String: Any]
        #expect(raw?["rdma"] as? [Any] != nil)
        let text = try Shell.run(Shell.podgap, ["env"])
        #expect(text.stdout.contains("topology") && text.stdout.contains("btl"))
        // The counters that read here, and each that does not with its reason.
        let lines = text.stdout.split(separator: "\n")
        let counters = try #require(lines.first { $0.hasPrefix("counters ") })
        #expect(counters.contains("rusage") && counters.contains("net lo"))
        let pmu = ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/bus/event_source/devices")) ?? []).contains { $0.hasPrefix("cpu") }
        if !pmu {
            #expect(lines.contains { $0.hasPrefix("unavailable ") && $0.contains("hw.cache_misses, hw.cycles, hw.instructions: no PMU") })
        }
    }

    @Test func mpirunWrapperTurnsOnYieldWhenOversubscribed() throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("r.jsonl").path
        var environment = Shell.mpiEnvironment
        environment["PATH"] = Shell.productsFolder.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        let ranks = ProcessInfo.processInfo.activeProcessorCount
        let finished = try Shell.run(Shell.repositoryRoot.appendingPathComponent("scripts/podgap-mpirun").path,
                                     ["-np", String(ranks), "podgap", "run", "allreduce", "--sizes", "1K", "--iterations", "3", "--out", out],
                                     environment: environment)
        #expect(finished.status == 0, "\(finished.stderr)")
        let record = try #require(try RecordReader.read(out).first)
        #expect(record.environment.yieldWhenIdle)
        #expect(record.environment.yieldSetBy == "launcher")
        #expect(record.environment.bindings == Array(repeating: "unbound", count: ranks))
        // The launch plan's rule and its reason reached the ranks and the record.
        #expect(record.environment.bindingPolicy?.policy == "none")
        #expect(record.environment.bindingPolicy?.reason.hasPrefix("\(ranks) ranks per node on \(ranks) cores") == true)
    }
}

enum ProcessTree {
    /// Running or sleeping; a zombie waiting for a reaper has already ended.
    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }

    /// Direct children of `parent`, read from /proc.
    static func children(of parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && Int32(fields[1]) == parent
        }.sorted()
    }
}
