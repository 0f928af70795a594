import Foundation
import Testing
@testable import Records

/// What the model may fit from a record: its descriptor's role, and for records written before
/// descriptors carried one, the role its kernel's name had then.
@Suite struct KernelRoleTests {
    static let descriptor = KernelDescriptor(metrics: [], headlines: [], order: 0)

    static func decode(_ record: Record, editing edit: (inout [String: Any]) -> Void) throws -> Record {
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(record)) as! [String: Any]
        edit(&object)
        return try JSONDecoder().decode(Record.self, from: JSONSerialization.data(withJSONObject: object))
    }

    @Test func theDescriptorsRoleIsWrittenAndReadBack() throws {
        var record = sampleRecord()
        record.kernel = "osu-allreduce-v9"
        record.descriptor = Self.descriptor
        record.descriptor?.role = .pointToPoint
        let text = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
        #expect(text.contains("\"role\":\"point-to-point\""))
        let back = try JSONDecoder().decode(Record.self, from: Data(text.utf8))
        #expect(back == record)
        // The descriptor says it, whatever the kernel is called.
        #expect(back.role == .pointToPoint)
    }

    /// Schema 1 (no descriptor) and schema 2 before roles (a descriptor without `role`): the
    /// kernels of then keep their roles; a kernel without one has none.
    @Test func recordsWithoutARoleFallBackToTheNamesOfThen() throws {
        let cases: [(String, KernelDescriptor.Role?)] = [
            ("allreduce", .allreduce), ("pingpong", .pointToPoint), ("verbs-pingpong", .pointToPoint),
            ("latency", .pointToPoint), ("osu-latency", .pointToPoint), ("train", .trainingStep),
            ("halo", nil), ("gemm", nil), ("barrier", nil),
        ]
        for (kernel, role) in cases {
            var record = sampleRecord()
            record.kernel = kernel
            let schema1 = try Self.decode(record) { $0["schema"] = "podgap.record/1"; $0["descriptor"] = nil }
            #expect(schema1.descriptor == nil && schema1.role == role, "\(kernel)")
            record.descriptor = Self.descriptor
            let beforeRoles = try Self.decode(record) { _ in }
            #expect(beforeRoles.descriptor?.role == nil && beforeRoles.role == role, "\(kernel)")
        }
    }
}
