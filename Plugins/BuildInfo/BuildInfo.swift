import Foundation
import PackagePlugin

/// Embeds the git commit podgap is built from (scripts/build-info writes `BuildInfo.swift`), so a
/// record names the build that measured it wherever the binary was copied. A prebuild command:
/// it runs before every build, as a commit can change without any source file changing.
@main
struct BuildInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let package = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("generated")
        return [.prebuildCommand(
            displayName: "Embedding the git commit of \(package.lastPathComponent)",
            executable: URL(fileURLWithPath: "/bin/sh"),
            arguments: [package.appendingPathComponent("scripts/build-info").path, package.path, output.path],
            outputFilesDirectory: output)]
    }
}
