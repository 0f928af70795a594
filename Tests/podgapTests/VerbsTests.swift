import Records
import Foundation
import Testing

/// The RDMA side of the CLI on a machine without RDMA devices (CI): absence is a normal answer
/// for `env`, exit 3 for the verbs baselines, and `--transport` decides and records.
@Suite(.serialized) struct VerbsTests {
    static let hasRDMA = FileManager.default.fileExists(atPath: "/dev/infiniband")
        || FileManager.default.fileExists(atPath: "/sys/class/infiniband")

    @Test(.disabled(if: hasRDMA, "this machine has RDMA devices; the no-device answers cannot be seen here"),
          arguments: [["verbs-pingpong"], ["verbs-bw", "--connect", "198.18.0.1"],
                      // The device check comes before the checks of values that parsed.
                      ["verbs-pingpong", "--sizes", "4", "--port", "0"]])
    func verbsWithoutADeviceExits3AndWritesNothing(arguments: [String]) throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("sub/verbs.jsonl")
        let finished = try Shell.run(Shell.podgap, ["run"] + arguments + ["--out", out.path], timeout: 30)
        #expect(finished.status == 3, "\(finished.stderr)")
        let lines = finished.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("podgap: no RDMA device: ") == true, "\(finished.stderr)")
        #expect(finished.stderr.contains("\(arguments[0]) needs an InfiniBand or RoCE port"))
        #expect(finished.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: out.deletingLastPathComponent().path), "something was created for --out")
    }

    @Test(.disabled(if: hasRDMA, "this machine has RDMA devices"))
    func envSaysThereAreNoDevices() throws {
        let json = try Shell.run(Shell.podgap, ["env", "--json"], timeout: 30)
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let rdma = try #require(object["rdma"] as? [Any], "env --json has no rdma array")
        #expect(rdma.isEmpty)
        #expect(json.stdout.contains("\"rdma\" : [\n\n  ]") || json.stdout.contains("\"rdma\" : []"))

        let text = try Shell.run(Shell.podgap, ["env"], timeout: 30)
        #expect(text.status == 0)
        #expect(text.stdout.split(separator: "\n").contains { $0.hasPrefix("rdma ") && $0.hasSuffix(" no devices") })
    }

    /// `--transport tcp` sets ob1 + btl tcp before MPI_Init: what MPI_T reads back and the record's note prove it.
    @Test func transportTCPIsAppliedAndRecorded() throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("t.jsonl").path
        let finished = try Shell.mpirun(ranks: 2, ["run", "allreduce", "--sizes", "4:8", "--iterations", "5", "--warmup", "1",
                                                   "--transport", "tcp", "--out", out], timeout: 60)
        #expect(finished.status == 0, "\(finished.stderr)")
        let records = try RecordReader.read(out)
        #expect(records.count == 2)
        for record in records {
            #expect(record.verified)
            #expect(record.environment.transport.pml == "ob1")
            #expect(record.environment.transport.btl == "tcp,self")
            #expect(record.environment.transport.note?.contains("forced by --transport tcp") == true)
            #expect(record.environment.name == "native-tcp")
            #expect(record.environment.rdma.isEmpty || Self.hasRDMA)
        }

        let auto = folder.appendingPathComponent("a.jsonl").path
        let defaulted = try Shell.mpirun(ranks: 2, ["run", "allreduce", "--sizes", "4", "--iterations", "5", "--out", auto], timeout: 60)
        #expect(defaulted.status == 0, "\(defaulted.stderr)")
        let note = try RecordReader.read(auto).first?.environment.transport.note
        #expect(note?.hasPrefix("one node: Open MPI's default (shared memory)") == true, "\(note ?? "no note")")
    }

    @Test(.disabled(if: hasRDMA, "this machine has RDMA devices"))
    func transportUCXWithoutADeviceExits3() throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("u.jsonl").path
        let finished = try Shell.run(Shell.podgap, ["run", "allreduce", "--sizes", "4", "--transport", "ucx", "--out", out], timeout: 30)
        #expect(finished.status == 3)
        #expect(finished.stderr == "podgap: no RDMA device: --transport ucx needs an active InfiniBand or RoCE port and this machine has no RDMA device\n")
        #expect(!FileManager.default.fileExists(atPath: out))

        let bad = try Shell.run(Shell.podgap, ["run", "allreduce", "--sizes", "4", "--transport", "rdma", "--out", out], timeout: 30)
        #expect(bad.status == 2)
        #expect(bad.stderr == "podgap: The value 'rdma' is invalid for '--transport <transport>'. Please provide one of 'auto', 'ucx' or 'tcp'.\n")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
