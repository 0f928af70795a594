import Foundation
import Testing

/// The rooms Package.swift draws, as issue 23 asks for them: BLAS and CUDA come to the kernels
/// only through Compute, verbs only through RDMA, and Pods takes RDMA devices as data.
@Suite struct LayeringTests {
    /// Each target's direct dependencies, read from Package.swift's `.target(name:dependencies:)`.
    static let dependencies: [String: Set<String>] = {
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Package.swift")
        let text = (try? String(contentsOf: package, encoding: .utf8)) ?? ""
        let target = try! NSRegularExpression(pattern: #"\.target\(name: "(\w+)"(?:, dependencies: \[([^\]]*)\])?"#)
        let quoted = try! NSRegularExpression(pattern: #""(\w+)""#)
        var found: [String: Set<String>] = [:]
        for match in target.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            let name = String(text[Range(match.range(at: 1), in: text)!])
            let list = Range(match.range(at: 2), in: text).map { String(text[$0]) } ?? ""
            found[name] = Set(quoted.matches(in: list, range: NSRange(list.startIndex..., in: list))
                .map { String(list[Range($0.range(at: 1), in: list)!]) })
        }
        return found
    }()

    @Test func kernelsLinkNoBLASCUDAOrVerbsThemselves() throws {
        let kernels = try #require(Self.dependencies["Kernels"], "no Kernels target found in Package.swift")
        #expect(kernels.isDisjoint(with: ["CBLAS", "CCUDA", "CUDA", "CVerbs", "RDMA"]), "\(kernels)")
        #expect(kernels.contains("Compute"))
        let compute = try #require(Self.dependencies["Compute"])
        #expect(compute.isSuperset(of: ["CBLAS", "CUDA"]) && !compute.contains("RDMA"), "\(compute)")
    }

    @Test func podsAndTheDeviceModelLinkNoVerbs() throws {
        let pods = try #require(Self.dependencies["Pods"], "no Pods target found in Package.swift")
        #expect(pods.isDisjoint(with: ["RDMA", "CVerbs"]), "\(pods)")
        #expect(try #require(Self.dependencies["RDMADevices"]).isEmpty)
    }
}
