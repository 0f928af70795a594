import Testing
@testable import Model

@Suite struct ProfileErrorTests {
    @Test func missingFieldIsNamed() {
        let text = ProjectionTests.yaml.replacingOccurrences(of: "  seconds_per_sample: 0.01\n", with: "")
        #expect(throws: ModelError("profile workload: missing field 'seconds_per_sample'")) { try ProfileReader.parse(text) }
    }

    @Test func negativeBandwidthIsRefused() throws {
        let text = ProjectionTests.yaml.replacingOccurrences(of: "bandwidth_gbytes_per_s: 0.5", with: "bandwidth_gbytes_per_s: -0.5")
        let error = try #require(throws: ModelError.self) { try ProfileReader.parse(text) }
        #expect(error.description.contains("bandwidth_gbytes_per_s -0.5 must be a positive number"))
        #expect(error.description.contains("'pod' inter_node"))
    }

    /// Optional sizes, when given, must be positive like the required ones, and say which field.
    @Test func nonPositiveOptionalFieldsAreRefused() throws {
        for (key, given, bad) in [("bucket_bytes", "4000000", "0"), ("gradient_bytes", "8000000", "-8")] {
            let text = ProjectionTests.yaml.replacingOccurrences(of: "\(key): \(given)", with: "\(key): \(bad)")
            let error = try #require(throws: ModelError.self) { try ProfileReader.parse(text) }
            #expect(error.description.contains("profile workload: field '\(key)'") && error.description.contains("must be positive"),
                    "\(error)")
        }
    }

    @Test func gpuCountBelowOneIsRefused() throws {
        let projection = try Projection(profile: ProfileReader.parse(ProjectionTests.yaml), gpusPerNode: 2)
        #expect(throws: ModelError("--gpus 0: a GPU count must be at least 1")) { try projection.run(gpus: [1, 0]) }
        #expect(throws: ModelError.self) { try Projection(profile: ProfileReader.parse(ProjectionTests.yaml), gpusPerNode: 0) }
    }

    @Test func unknownModelSaysWhatIsKnown() throws {
        let error = try #require(throws: ModelError.self) { try KnownModel.named("alexnet") }
        #expect(error.description.contains("densenet121, resnet50, bert-base, gpt2"))
    }
}
