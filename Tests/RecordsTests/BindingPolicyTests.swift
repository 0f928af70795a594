import Records
import Foundation
import Testing

/// `environment.bindingPolicy`: kept through a record file, carried to ranks in two variables,
/// and absent (nil) in records written before it existed.
@Suite struct BindingPolicyTests {
    @Test func travelsThroughVariablesAndRecordFiles() throws {
        let policy = BindingPolicy(policy: "core", reason: "2 rank(s) per node on 16 cores: each rank on a core of its own")
        #expect(BindingPolicy(variables: policy.variables) == policy)
        #expect(BindingPolicy(variables: ["PODGAP_BINDING": ""]) == nil && BindingPolicy(variables: [:]) == nil)
        #expect(BindingPolicy.unplanned(launcher: "srun").policy == "unplanned")

        var record = sampleRecord()
        record.environment.bindingPolicy = policy
        let line = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
        #expect(line.contains("\"bindingPolicy\":{"))
        let back = try JSONDecoder().decode(Record.self, from: Data(line.utf8))
        #expect(back.environment.bindingPolicy == policy)
        #expect(back.environmentExtra.isEmpty, "a known field, not an unknown one kept aside")

        let older = try JSONDecoder().decode(Record.self, from: try JSONEncoder().encode(sampleRecord()))
        #expect(older.environment.bindingPolicy == nil)
    }
}
