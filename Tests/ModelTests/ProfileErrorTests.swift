import Testing
@testable import Model

@Suite struct ProfileErrorTests {
    @Test func missingFieldIsNamed() {
        let text = ProjectionTests.yaml.replacingOccurrences(of: "  seconds_per_sample: 0.01\n", with: "")
        #expect(throws: ModelError("profile:5: workload: missing field 'seconds_per_sample'")) { try ProfileReader.parse(text) }
    }

    @Test func negativeBandwidthIsRefused() throws {
        let text = ProjectionTests.yaml.replacingOccurrences(of: "bandwidth_gbytes_per_s: 0.5", with: "bandwidth_gbytes_per_s: -0.5")
        let error = try #require(throws: ModelError.self) { try ProfileReader.parse(text) }
        #expect(error.description == "profile:18: environments[1].inter_node[0].bandwidth_gbytes_per_s: -0.5 must be a positive number")
    }

    /// Optional sizes, when given, must be positive like the required ones, and say which field.
    @Test func nonPositiveOptionalFieldsAreRefused() throws {
        for (key, given, bad) in [("bucket_bytes", "4000000", "0"), ("gradient_bytes", "8000000", "-8")] {
            let text = ProjectionTests.yaml.replacingOccurrences(of: "\(key): \(given)", with: "\(key): \(bad)")
            let error = try #require(throws: ModelError.self) { try ProfileReader.parse(text) }
            #expect(error.description.hasSuffix(": workload.\(key): is \(Double(bad)!); it must be positive: a count from 1 to 2^53"), "\(error)")
        }
    }

    @Test func gpuCountBelowOneIsRefused() throws {
        let projection = try Projection(profile: ProfileReader.parse(ProjectionTests.yaml), gpusPerNode: 2)
        #expect(throws: ModelError("--gpus 0: a GPU count must be at least 1")) { try projection.run(gpus: [1, 0]) }
        #expect(throws: ModelError.self) { try Projection(profile: ProfileReader.parse(ProjectionTests.yaml), gpusPerNode: 0) }
    }

    /// `--gpus 9223372036854775807` used to trap on overflow in the cost arithmetic (issue 16).
    /// Counts above Projection.maximumGPUs, in all or per node, are refused; the maximum itself
    /// projects to finite numbers.
    @Test func gpuCountsAboveTheMaximumAreRefused() throws {
        let profile = try ProfileReader.parse(ProjectionTests.yaml)
        let projection = try Projection(profile: profile, gpusPerNode: 2)
        #expect(throws: ModelError("--gpus \(Int.max): the model takes at most 1048576 GPUs")) { try projection.run(gpus: [Int.max]) }
        #expect(throws: ModelError.self) { try projection.run(gpus: [Projection.maximumGPUs + 1]) }
        #expect(throws: ModelError.self) { try projection.gap(gpus: Int.max) }
        #expect(throws: ModelError.self) { try Projection(profile: profile, gpusPerNode: Int.max) }
        let widest = try Projection(profile: profile, gpusPerNode: Projection.maximumGPUs)
            .run(gpus: [Projection.maximumGPUs])
        #expect(widest.count == 2 && widest.allSatisfy { $0.throughput.isFinite && $0.throughput > 0 && $0.gapPercent.isFinite })
    }

    /// Gradients and buckets the arithmetic cannot carry: refused with the field, never trapped.
    @Test func sizesBeyondTheModelAreRefused() throws {
        let profile = try ProfileReader.parse(ProjectionTests.yaml)
        #expect(throws: ModelError.self) { try Projection(profile: profile, gpusPerNode: 2, gradientBytes: Int.max) }
        var tiny = profile
        tiny.workload.bucketBytes = 1
        #expect(throws: ModelError.self) { try Projection(profile: tiny, gpusPerNode: 2) }
        // Summed naively these bucket sizes overflow; they just do not add up to the gradients.
        var huge = profile
        huge.workload.bucketSizes = [Int.max, Int.max]
        #expect(try Projection(profile: huge, gpusPerNode: 2).buckets == [4e6, 4e6])
        for (key, given) in [("gradient_bytes", "8000000"), ("batch_per_gpu", "10"), ("bucket_bytes", "4000000")] {
            for bad in ["1e30", "0.5"] {
                let text = ProjectionTests.yaml.replacingOccurrences(of: "\(key): \(given)", with: "\(key): \(bad)")
                let error = try #require(throws: ModelError.self) { try ProfileReader.parse(text) }
                #expect(error.description.contains("workload.\(key): is") && error.description.contains("2^53"), "\(error)")
            }
        }
        let regime = ProjectionTests.yaml.replacingOccurrences(of: "inter_node: [{latency_us: 20,", with: "inter_node: [{up_to_bytes: 1e300, latency_us: 20,")
        #expect(throws: ModelError.self) { try ProfileReader.parse(regime) }
    }

    /// Found by benchmarks/fuzz (profile): a key that is a list trapped inside Yams.
    @Test func complexKeyIsRefusedWithItsLine() throws {
        let text = ProjectionTests.yaml.replacingOccurrences(of: "  backward_fraction: 0.5\n", with: "  ? [backward_fraction]\n  : 0.5\n")
        let error = try #require(throws: ModelError.self) { try ProfileReader.parse(text) }
        #expect(error.description.contains("profile:8: a key must be a plain name"), "\(error)")
    }

    /// Found by benchmarks/fuzz (profile): a base-60 integer (YAML 1.1, "1:30" is 90) too large
    /// for an Int trapped inside Yams. podgap reads it as text, which is not a number.
    @Test func baseSixtyNumbersAreRefused() throws {
        for number in ["999999999520095200:0", "1:1:1:1:1:1:1:1:1:1:1:1"] {
            let text = ProjectionTests.yaml.replacingOccurrences(of: "batch_per_gpu: 10", with: "batch_per_gpu: \(number)")
            let error = try #require(throws: ModelError.self) { try ProfileReader.parse(text) }
            #expect(error.description.contains("profile:6:") && error.description.contains("'\(number)' is not a number"), "\(error)")
        }
    }

    /// Aliases of aliases, nine deep and nine wide (600 bytes, 9^9 values unfolded): refused at
    /// once where they used to hang `podgap model` and fill memory.
    @Test func aliasesOfAliasesAreRefused() throws {
        var text = "x0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
        for level in 1...8 { text += "x\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ") + "]\n" }
        let error = try #require(throws: ModelError.self) { try ProfileReader.parse(text + ProjectionTests.yaml) }
        #expect(error.description.contains("more than 100000 YAML values"), "\(error)")
    }

    /// Found by benchmarks/fuzz (profile): 10,000 nested brackets overflowed the stack in Yams.
    @Test func deepNestingIsRefusedBeforeParsing() throws {
        let error = try #require(throws: ModelError.self) {
            try ProfileReader.parse(ProjectionTests.yaml + "x: " + String(repeating: "[", count: 10_000) + "\n")
        }
        #expect(error.description.contains("profile: nested deeper than podgap reads"), "\(error)")
    }

    @Test func unknownModelSaysWhatIsKnown() throws {
        let error = try #require(throws: ModelError.self) { try KnownModel.named("alexnet") }
        #expect(error.description.contains("densenet121, resnet50, bert-base, gpt2"))
    }
}

/// Profiles read through the shared field reader (Config) accept and refuse what they did before.
@Suite struct ProfileReadingTests {
    @Test func valuesAreReadAsBefore() throws {
        let profile = try ProfileReader.parse(ProjectionTests.yaml)
        #expect(profile.environments.map(\.name) == ["bare", "pod"])
        #expect(profile.workload.bucketBytes == 4_000_000)
        // Optional fields written without a value are absent; quoted numbers are not numbers.
        let nulls = ProjectionTests.yaml.replacingOccurrences(of: "bucket_bytes: 4000000", with: "bucket_bytes: ~")
        #expect(try ProfileReader.parse(nulls).workload.bucketBytes == 64 << 20)
        let quoted = ProjectionTests.yaml.replacingOccurrences(of: "bucket_bytes: 4000000", with: "bucket_bytes: \"4000000\"")
        #expect(throws: ModelError.self) { try ProfileReader.parse(quoted) }
        // A count too large for an integer is refused, not a crash.
        let huge = ProjectionTests.yaml.replacingOccurrences(of: "bucket_bytes: 4000000", with: "bucket_bytes: 1.0e300")
        #expect(throws: ModelError.self) { try ProfileReader.parse(huge) }
        #expect(throws: ModelError("profile: not a YAML mapping")) { try ProfileReader.parse("") }
        #expect(throws: ModelError("profile: not a YAML mapping")) { try ProfileReader.parse("- a\n- b\n") }
    }
}
