import Records
import Foundation
import Testing

/// `podgap export --pushgateway` and the OpenMetrics text it pushes, checked by Prometheus' own
/// tools: promtool's parser and linter, and a real Pushgateway on loopback that the test starts,
/// reads back and stops.
@Suite(.serialized) struct ExportCommandTests {
    static let promtool = "/usr/bin/promtool"
    static let pushgateway = "/usr/bin/prometheus-pushgateway"
    static let missing = "not installed (scripts/setup installs Debian's prometheus and prometheus-pushgateway)"

    /// Records of two real allreduce jobs per environment (shared memory and TCP), in rounds 1
    /// and 2 as a suite writes them: every metric family a report exports, from real launches.
    static func realRecords(in folder: URL) throws -> String {
        let path = folder.appendingPathComponent("records.jsonl").path
        for round in 1...2 {
            for (position, btl) in ["vader,self", "tcp,self"].enumerated() {
                let run = try Shell.mpirun(ranks: 2, mca: ["btl": btl],
                                           ["run", "allreduce", "--sizes", "8,4K", "--iterations", "20", "--warmup", "2",
                                            "--out", path, "--round", String(round), "--position", String(position + 1)],
                                           timeout: 60)
                guard run.status == 0 else { throw LoopbackError("allreduce over \(btl) failed: \(run.stderr)") }
            }
        }
        return path
    }

    static func export(_ arguments: [String], timeout: Double = 30) throws -> Finished {
        try Shell.run(Shell.podgap, ["export"] + arguments, timeout: timeout)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: promtool), "promtool \(missing)"),
          .enabled(if: FileManager.default.isExecutableFile(atPath: pushgateway), "prometheus-pushgateway \(missing)"))
    func realReportPassesPromtoolAndReachesAPushgateway() throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let records = try Self.realRecords(in: folder)
        let before = try Data(contentsOf: URL(fileURLWithPath: records))

        // promtool parses and lints the exposition: exit 0 and not a word means clean.
        let body = folder.appendingPathComponent("report.om.txt").path
        let report = try Shell.run(Shell.podgap, ["report", records, "--baseline", "native-shm", "--format", "openmetrics", "--out", body], timeout: 60)
        #expect(report.status == 0, "\(report.stderr)")
        let text = try String(contentsOfFile: body, encoding: .utf8)
        let families = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) }
        #expect(families.contains("podgap_allreduce_time_per_call_slowest_rank_seconds"))
        #expect(families.contains("podgap_allreduce_bus_bandwidth_bytes_per_second"))
        #expect(families.contains("podgap_gap_ratio"))
        let check = try Shell.run("/bin/sh", ["-c", "exec \(Self.promtool) check metrics < \"$0\"", body], timeout: 30)
        #expect(check.status == 0 && check.stdout.isEmpty && check.stderr.isEmpty, "\(check.stdout)\(check.stderr)")

        let gateway = try LocalPushgateway(folder: folder)
        defer { gateway.stop() }
        let base = "http://127.0.0.1:\(gateway.port)"
        for job in ["podgap-test", "nightly/shm"] {
            let pushed = try Self.export(["--pushgateway", base, "--job", job, "--baseline", "native-shm", records])
            #expect(pushed.status == 0, "\(pushed.stderr)")
            #expect(pushed.stdout.hasPrefix("pushed \(text.utf8.count) bytes of OpenMetrics to \(base)/metrics/job"), "\(pushed.stdout)")
        }
        let metrics = try #require(Loopback.get(base + "/metrics", timeout: 5))
        #expect(metrics.status == 200)
        // Every family, under both jobs (a slash in a job name travels in the base64 form).
        for family in families {
            #expect(metrics.body.contains("# TYPE \(family) "), "\(family) not in the gateway")
        }
        let lines = metrics.body.split(separator: "\n").filter { $0.hasPrefix("podgap_allreduce_time_per_call_slowest_rank_seconds{") }
        for job in ["podgap-test", "nightly/shm"] {
            for environment in ["native-shm", "native-tcp"] {
                #expect(lines.contains { $0.contains("environment=\"\(environment)\"") && $0.contains("job=\"\(job)\"")
                    && $0.contains("kernel=\"allreduce\"") && $0.contains("quantile=\"0.99\"") }, "\(job) \(environment)")
            }
        }
        #expect(metrics.body.split(separator: "\n").contains {
            $0.hasPrefix("podgap_gap_ratio{") && $0.contains("baseline=\"native-shm\"") && $0.contains("environment=\"native-tcp\"")
        })

        // The gateway's own refusal (a path it does not serve) is one line with its status, exit 2.
        let refused = try Self.export(["--pushgateway", base + "/elsewhere", records])
        #expect(refused.status == 2 && refused.stdout.isEmpty)
        #expect(refused.stderr == "podgap: pushgateway \(base)/elsewhere/metrics/job/podgap: HTTP 404 Not Found: 404 page not found; nothing was pushed\n")

        gateway.stop()
        #expect(kill(gateway.pid, 0) != 0, "the gateway outlived its stop")
        #expect(try Data(contentsOf: URL(fileURLWithPath: records)) == before)
    }

    /// Bad addresses and silent gateways: one line naming the URL and what happened, exit 2,
    /// within the timeout, and the records as they were.
    @Test func badGatewaysAreOneLineAndExitTwo() throws {
        let (folder, shm, tcp) = try ReportCommandTests.twoEnvironments(tcpFactor: 2)
        defer { try? FileManager.default.removeItem(at: folder) }
        let before = try [shm, tcp].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        let unparsable: [(String, String)] = [
            ("not a url", "podgap: pushgateway URL 'not a url' does not parse: give http://HOST:PORT, e.g. http://127.0.0.1:9091\n"),
            ("127.0.0.1:9091", "podgap: pushgateway URL '127.0.0.1:9091' does not parse: give http://HOST:PORT, e.g. http://127.0.0.1:9091\n"),
            ("localhost:9091", "podgap: pushgateway URL 'localhost:9091' does not parse: give http://HOST:PORT, e.g. http://127.0.0.1:9091\n"),
            ("https://127.0.0.1:9091", "podgap: pushgateway URL 'https://127.0.0.1:9091': scheme 'https' is not supported (podgap pushes plain HTTP): give http://HOST:PORT, e.g. http://127.0.0.1:9091\n"),
            ("http://:9091", "podgap: pushgateway URL 'http://:9091' names no host: give http://HOST:PORT, e.g. http://127.0.0.1:9091\n"),
            ("http://127.0.0.1:70000", "podgap: pushgateway URL 'http://127.0.0.1:70000': port 70000 is not a TCP port (1-65535): give http://HOST:PORT, e.g. http://127.0.0.1:9091\n"),
        ]
        for (url, message) in unparsable {
            let result = try Self.export(["--pushgateway", url, shm, tcp])
            #expect(result.status == 2 && result.stdout.isEmpty, "\(url)")
            #expect(result.stderr == message)
        }
        let badTimeout = try Self.export(["--pushgateway", "http://127.0.0.1:9", "--timeout", "soon", shm, tcp])
        #expect(badTimeout.status == 2 && badTimeout.stderr.split(separator: "\n").count == 1 && badTimeout.stderr.contains("'soon'"))

        // Nothing listens: refused at once.
        let closed = try Loopback.freePort()
        let started = Date()
        let refused = try Self.export(["--pushgateway", "http://127.0.0.1:\(closed)", "--timeout", "2s", shm, tcp])
        #expect(refused.status == 2 && refused.stdout.isEmpty)
        #expect(refused.stderr == "podgap: pushgateway http://127.0.0.1:\(closed)/metrics/job/podgap: cannot connect: Connection refused; nothing was pushed\n")
        #expect(Date().timeIntervalSince(started) < 10)

        // Something accepts the connection and never answers: given up at --timeout.
        let (silent, port) = try Loopback.bind(listening: true)
        defer { close(silent) }
        let waited = Date()
        let mute = try Self.export(["--pushgateway", "http://127.0.0.1:\(port)", "--timeout", "2s", "--job", "mute", shm, tcp])
        let seconds = Date().timeIntervalSince(waited)
        #expect(mute.status == 2 && mute.stdout.isEmpty)
        #expect(mute.stderr == "podgap: pushgateway http://127.0.0.1:\(port)/metrics/job/mute: no answer within 2s; nothing was pushed\n")
        #expect(seconds >= 1.9 && seconds < 10, "\(seconds) s")
        #expect(try [shm, tcp].map { try Data(contentsOf: URL(fileURLWithPath: $0)) } == before)
    }
}

/// Debian's prometheus-pushgateway on a free loopback port, in memory only, stopped by its PID.
final class LocalPushgateway {
    let process = Process()
    let port: UInt16
    var pid: Int32 { process.processIdentifier }

    init(folder: URL) throws {
        port = try Loopback.freePort()
        process.executableURL = URL(fileURLWithPath: ExportCommandTests.pushgateway)
        process.arguments = ["--web.listen-address=127.0.0.1:\(port)", "--persistence.file="]
        let log = folder.appendingPathComponent("pushgateway.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Ready when it answers; bounded, and its log says why when it never does.
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline && process.isRunning {
            if Loopback.get("http://127.0.0.1:\(port)/-/ready", timeout: 1)?.status == 200 { return }
            usleep(100_000)
        }
        stop()
        throw LoopbackError("the Pushgateway on 127.0.0.1:\(port) did not answer within 15 s: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
    }

    /// SIGTERM, then SIGKILL after 5 s; waits for it, so its PID is gone after.
    func stop() {
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }
}
