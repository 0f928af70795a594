import Foundation
import Testing

/// `podgap plan --starter sbatch` as a user reads it: the sbatch line to submit, parsed back
/// the way a shell splits it, and the srun line the job script runs, labelled as a comment.
/// (Submitting it to a real Slurm: `NativeStartupTests.theSbatchLinePlanPrintsRunsAsPrinted`.)
@Suite struct PlanTests {
    /// The words of `line` as /bin/sh splits them (quotes removed).
    static func words(_ line: String) throws -> [String] {
        let split = try Shell.run("/bin/sh", ["-c", "set -- " + line + "; printf '%s\\n' \"$@\""], timeout: 10)
        try #require(split.status == 0, "sh -c \(line): \(split.status) \(split.stdout) \(split.stderr)")
        return split.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    static func plan(_ arguments: [String]) throws -> Finished {
        try Shell.run(Shell.podgap, ["plan"] + arguments, timeout: 30)
    }

    static func resolved(_ path: String) -> String { URL(fileURLWithPath: path).resolvingSymlinksInPath().path }

    @Test(arguments: [("native-shm", 2, 2, 1, "none"), ("native-shm", 2, 16, 1, "cores"), ("native-2node", 4, 16, 2, nil)] as [(String, Int, Int, Int, String?)])
    func sbatchLineParsesBackToTheJobScriptWithThePlansFlags(environment: String, ranks: Int, cores: Int, nodes: Int, cpuBind: String?) throws {
        let common = ["--environment", environment, "--np", String(ranks), "--cores", String(cores)]
        let shell = try Self.plan(common + ["--starter", "sbatch"])
        try #require(shell.status == 0, "\(shell.stderr)")
        let lines = shell.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 2, "\(shell.stdout)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try Self.plan(common + ["--starter", "sbatch", "--format", "json"]).stdout.utf8))
                                as? [String: Any])
        let environmentVariables = try #require(json["environment"] as? [String: String])

        // The variables first (sbatch hands them to the job, srun to the ranks), then sbatch.
        let words = try Self.words(lines[0])
        let program = try #require(words.firstIndex { $0.hasSuffix("/sbatch") }, "\(words)")
        let assignments = Dictionary(uniqueKeysWithValues: words[..<program].map { word -> (String, String) in
            let pair = word.split(separator: "=", maxSplits: 1).map(String.init)
            return (pair[0], pair.count > 1 ? pair[1] : "")
        })
        #expect(assignments == environmentVariables)
        #expect(assignments["PODGAP_BINDING"] == (json["binding"] as? [String: Any])?["policy"] as? String)
        let submission = Array(words[program...])
        #expect(submission == json["submission"] as? [String])
        // sbatch's own flags: the plan's tasks and nodes; then the job script of this checkout.
        #expect(Array(submission[1..<5]) == ["-n", String(ranks), "-N", String(nodes)])
        #expect(Self.resolved(submission[5]) == Shell.repositoryRoot.appendingPathComponent("scripts/podgap.sbatch").resolvingSymlinksInPath().path)
        // The script's own options: the PMI plugin, srun's binding, and this very podgap.
        var options = Array(submission[6...])
        #expect(Array(options.prefix(2)) == ["--mpi", "pmix"])
        options.removeFirst(2)
        if let cpuBind {
            #expect(Array(options.prefix(2)) == ["--cpu-bind", cpuBind], "\(options)")
            options.removeFirst(2)
        }
        #expect(options.count == 2 && options[0] == "--podgap" && Self.resolved(options[1]) == Self.resolved(Shell.podgap), "\(options)")
        let podgap = options.last ?? ""

        // `--format args` is the same argv, one word a line, after `env`.
        let args = try Self.plan(common + ["--starter", "sbatch", "--format", "args"]).stdout.split(separator: "\n").map(String.init)
        #expect(args == ["env"] + words[..<program] + submission)

        // The comment: srun as `--starter srun` plans it, then this podgap's run.
        let srun = try Self.plan(common + ["--starter", "srun"])
        try #require(srun.status == 0 && srun.stdout.split(separator: "\n").count == 1, "\(srun.stdout)")
        let srunWords = try Self.words(srun.stdout.trimmingCharacters(in: .newlines))
        let srunCommand = srunWords.drop { !$0.hasSuffix("/srun") }
        #expect(Array(srunWords.prefix { !$0.hasSuffix("/srun") }) == Array(words[..<program]), "srun's variables are the same")
        let label = "# append KERNEL [OPTIONS] to submit; inside the allocation the job script runs: "
        #expect(lines[1] == label + srunCommand.joined(separator: " ") + " \(podgap) run KERNEL [OPTIONS]", "\(lines[1])")
        if let cpuBind { #expect(srunCommand.contains("--cpu-bind=\(cpuBind)")) } else { #expect(!srunCommand.contains { $0.hasPrefix("--cpu-bind") }) }
    }

    /// A podgap outside any checkout has no job script to submit: one line, exit 2; mpirun and
    /// srun plans need none.
    @Test func sbatchWithoutAJobScriptIsRefusedInOneLine() throws {
        let folder = try Shell.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let binary = folder.appendingPathComponent("podgap").path
        // A hard link (same file system) runs as this path; a copy where that fails.
        if link(Shell.podgap, binary) != 0 { try FileManager.default.copyItem(atPath: Shell.podgap, toPath: binary) }
        let refused = try Shell.run(binary, ["plan", "--np", "2", "--starter", "sbatch"], timeout: 30)
        #expect(refused.status == 2 && refused.stdout.isEmpty, "\(refused.status) \(refused.stdout)")
        let lines = refused.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("scripts/podgap.sbatch") && lines[0].contains(binary), "\(refused.stderr)")
        for starter in ["mpirun", "srun"] {
            let planned = try Shell.run(binary, ["plan", "--np", "2", "--starter", starter], timeout: 30)
            #expect(planned.status == 0 && planned.stdout.split(separator: "\n").count == 1, "\(starter): \(planned.stderr)")
        }
    }
}
