import Foundation
import Statistics
import Compute
import Testing

/// The CUDA C that NVRTC compiles on a GPU host, compiled here for the host with the prelude that
/// stands in for the CUDA built-ins and run one thread at a time over a grid smaller than the
/// data (so the grid-stride loops are exercised): each kernel must do what the CPU backend's loop
/// does. On a GPU host, `NVRTCTests` runs the same comparison on the device itself.
@Suite(.enabled(if: HostCompiler.path != nil, "no C compiler (cc) to build the kernels for the host"))
struct ElementwiseKernelTests {
    static let count = 1037
    static let blocks = 3, threads = 32

    /// Runs every kernel on the same inputs and returns its outputs, in the order main() writes them.
    func runKernels(values: [Float], other: [Float], scale: Float, alpha: Float) throws -> [Float] {
        let folder = try HostCompiler.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let driver = """
        #include <stdio.h>
        static void grid(void (^body)(void)) {}
        int main(int argc, char **argv) {
            long long n = \(Self.count);
            static float a[\(Self.count)], b[\(Self.count)], relu[\(Self.count)], mask[\(Self.count)], delta[\(Self.count)], y[\(Self.count)];
            float scale = \(scale)f, alpha = \(alpha)f;
            FILE *in = fopen(argv[1], "rb");
            if (fread(a, sizeof a, 1, in) != 1 || fread(b, sizeof b, 1, in) != 1) return 2;
            fclose(in);
            for (long long i = 0; i < n; i++) { relu[i] = a[i]; mask[i] = b[i]; y[i] = b[i]; }
            double sum = 0;
            blockDim.x = \(Self.threads); gridDim.x = \(Self.blocks);
            for (unsigned int blk = 0; blk < gridDim.x; blk++) for (unsigned int t = 0; t < blockDim.x; t++) {
                blockIdx.x = blk; threadIdx.x = t;
                podgap_relu(relu, n);
                podgap_relu_mask(mask, a, n);
                podgap_loss_gradient(a, b, delta, &sum, scale, n);
                podgap_add_scaled(a, alpha, y, n);
            }
            FILE *out = fopen(argv[2], "wb");
            fwrite(relu, sizeof relu, 1, out); fwrite(mask, sizeof mask, 1, out);
            fwrite(delta, sizeof delta, 1, out); fwrite(y, sizeof y, 1, out);
            float total = (float)sum; fwrite(&total, sizeof total, 1, out);
            fclose(out);
            return 0;
        }
        """.replacingOccurrences(of: "static void grid(void (^body)(void)) {}\n", with: "")
        let source = ElementwiseKernels.hostPrelude + "\n" + ElementwiseKernels.source + "\n" + driver
        let program = try HostCompiler.compile(source, in: folder, name: "kernels")
        let input = folder.appendingPathComponent("in.bin"), output = folder.appendingPathComponent("out.bin")
        try (values + other).withUnsafeBufferPointer { try Data(buffer: $0).write(to: input) }
        let status = try HostCompiler.run(program, [input.path, output.path])
        try #require(status == 0, "the kernel driver exited \(status)")
        let data = try Data(contentsOf: output)
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    @Test func kernelsMatchTheCPUBackend() throws {
        var generator = SeededGenerator(seed: 17)
        var a = (0..<Self.count).map { _ in generator.nextSignedFloat() * 3 }
        let b = (0..<Self.count).map { _ in generator.nextSignedFloat() }
        a[5] = 0; a[6] = -0.0 // the boundary: ReLU keeps 0, the mask clips at <= 0
        let scale: Float = 2.0 / 4096, alpha: Float = -0.05
        let out = try runKernels(values: a, other: b, scale: scale, alpha: alpha)
        try #require(out.count == 4 * Self.count + 1)
        let n = Self.count
        let relu = Array(out[0..<n]), mask = Array(out[n..<2 * n]), delta = Array(out[2 * n..<3 * n])
        let y = Array(out[3 * n..<4 * n]), sum = out[4 * n]

        let cpu = CPUBackend()
        var expectedRelu = a, expectedMask = b, expectedDelta = [Float](repeating: 0, count: n), expectedY = b
        var targets = b, outputs = a
        expectedRelu.withUnsafeMutableBufferPointer { cpu.rectify($0.baseAddress!, count: n) }
        a.withUnsafeMutableBufferPointer { activation in
            expectedMask.withUnsafeMutableBufferPointer { cpu.maskRectified($0.baseAddress!, by: activation.baseAddress!, count: n) }
        }
        outputs.withUnsafeMutableBufferPointer { o in
            targets.withUnsafeMutableBufferPointer { t in
                expectedDelta.withUnsafeMutableBufferPointer { d in
                    cpu.lossGradient(outputs: o.baseAddress!, targets: t.baseAddress!, into: d.baseAddress!, count: n, scale: scale, slot: 0)
                }
            }
        }
        a.withUnsafeMutableBufferPointer { x in
            expectedY.withUnsafeMutableBufferPointer { cpu.addScaled(x.baseAddress!, times: alpha, to: $0.baseAddress!, count: n) }
        }
        // Elementwise results are exact: the same float operations, one rounding each.
        #expect(relu.map(\.bitPattern) == expectedRelu.map(\.bitPattern))
        #expect(mask.map(\.bitPattern) == expectedMask.map(\.bitPattern))
        #expect(delta.map(\.bitPattern) == expectedDelta.map(\.bitPattern))
        // saxpy may or may not fuse the multiply-add: the product's rounding and the sum's apart
        // (a result that cancels to near zero has an ulp far below the product's).
        for index in 0..<n {
            let bound = (expectedY[index].ulp + (alpha * a[index]).ulp) * 1.01
            #expect(abs(y[index] - expectedY[index]) <= bound, "element \(index)")
        }
        // The threads add their partial sums in another order than the CPU's single loop.
        let expectedSum = Float(cpu.lossSums(1)[0])
        #expect(abs(sum - expectedSum) <= 1e-5 * expectedSum)
        #expect(relu[6] == 0 && relu[5] == 0 && mask[5] == 0 && mask[6] == 0)
        #expect(relu.contains { $0 > 0 } && relu.allSatisfy { $0 >= 0 })
    }

    @Test func launchGeometryCoversAnyCountInAtMostTheBlockLimit() {
        #expect(ElementwiseKernels.blocks(for: 1) == 1)
        #expect(ElementwiseKernels.blocks(for: 256) == 1)
        #expect(ElementwiseKernels.blocks(for: 257) == 2)
        #expect(ElementwiseKernels.blocks(for: 10_000_000) == ElementwiseKernels.maximumBlocks)
    }

    @Test func everyKernelIsExternCSoNVRTCKeepsItsName() {
        for name in ElementwiseKernels.kernelNames {
            #expect(ElementwiseKernels.source.contains("PODGAP_KERNEL \(name)("), "\(name)")
        }
        #expect(ElementwiseKernels.source.contains("#define PODGAP_KERNEL extern \"C\" __global__ void"))
    }
}

/// The host's C compiler, for building what the tests run in place of a GPU.
enum HostCompiler {
    static var path: String? {
        ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-kernels-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// Compiles one C file into an executable in `folder`.
    static func compile(_ source: String, in folder: URL, name: String) throws -> URL {
        let file = folder.appendingPathComponent("\(name).c"), program = folder.appendingPathComponent(name)
        try source.write(to: file, atomically: true, encoding: .utf8)
        let status = try run(URL(fileURLWithPath: path!), ["-std=gnu11", "-O1", "-o", program.path, file.path, "-lm"])
        guard status == 0 else { throw CompileFailure(status: status) }
        return program
    }

    struct CompileFailure: Error { var status: Int32 }

    static func run(_ program: URL, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = program
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
