import Foundation
import FuzzSupport
import Model

/// Besides not crashing or hanging: a profile that parses is written back by ProfileWriter as YAML
/// that parses again to the same names, baseline and environments (numbers are written to six
/// digits, so they are not compared), and projects to 1, 2 and 8 GPUs without trapping.
func fuzzProfile(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let profile = try? ProfileReader.parse(text(start, count)) else { return 0 }
    let written = ProfileWriter.yaml(profile)
    do {
        let again = try ProfileReader.parse(written, source: "written")
        expect(again.name == profile.name && again.baseline == profile.baseline
                     && again.environments.map(\.name) == profile.environments.map(\.name),
                     "the profile changed on the way through ProfileWriter:\n\(written)")
    } catch {
        fatalError("ProfileWriter wrote a profile that does not parse (\(error)):\n\(written)")
    }
    // The buckets are the gradient bytes over the bucket size: keep the projection small.
    if let projection = try? Projection(profile: profile, gpusPerNode: 4),
       projection.gradientBytes / max(profile.workload.bucketBytes, 1) <= 10_000 {
        _ = try? projection.run(gpus: [1, 2, 8])
    }
    return 0
}

fuzz(fuzzProfile)
