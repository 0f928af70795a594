import Foundation
import Spawn
import Testing

/// Spawn's one runner: time limits, interruption, logs and captured output.
@Suite final class ChildTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    /// A fresh instance per test: what it made goes with it.
    deinit { try? FileManager.default.removeItem(at: folder) }

    @Test func aChildPastItsTimeIsEndedWithEverythingItStarted() throws {
        let log = folder.appendingPathComponent("log").path
        let marker = folder.appendingPathComponent("late").path
        let outcome = try Child.run(["/bin/sh", "-c", "echo starting; (sleep 3; touch \(marker)) & sleep 60"], environment: [:],
                                    output: .log(log), timeout: 0.5, grace: 1)
        #expect(outcome.timedOut && !outcome.interrupted)
        #expect(outcome.status == 128 + SIGTERM)
        #expect(outcome.seconds < 5)
        #expect(outcome.lastLine == "starting")
        sleep(4)
        #expect(!FileManager.default.fileExists(atPath: marker), "the background child was ended with the session")
    }

    @Test func aChildIsEndedOnceAskedToStop() throws {
        let started = Date()
        let outcome = try Child.run(["/bin/sleep", "60"], environment: [:], output: .log(folder.appendingPathComponent("log").path),
                                    timeout: 30, interrupted: { Date().timeIntervalSince(started) > 0.3 })
        #expect(outcome.interrupted && !outcome.timedOut)
        #expect(outcome.seconds < 5)
    }

    @Test func aFinishedChildReportsItsStatusAndLastLine() throws {
        let outcome = try Child.run(["/bin/sh", "-c", "echo one; echo 'the reason' >&2; echo; exit 3"], environment: [:],
                                    output: .log(folder.appendingPathComponent("log").path), timeout: 10)
        #expect(outcome == ChildOutcome(status: 3, seconds: outcome.seconds, lastLine: "the reason"))
    }

    @Test func captureFeedsInputAndReadsBothStreams() throws {
        let captured = try Child.capture(["/bin/sh", "-c", "tr a-z A-Z; echo warn >&2"], input: "hello\n", timeout: 10)
        #expect(captured.status == 0 && !captured.timedOut)
        #expect(captured.stdout == "HELLO\n" && captured.stderr == "warn\n")
        let late = try Child.capture(["/bin/sleep", "30"], timeout: 0.3)
        #expect(late.timedOut)
    }

    @Test func aMissingProgramNamesItsPackage() throws {
        #expect(throws: MissingExecutable.self) { try Executable.require("podgap-no-such-tool", package: "podgap-tools") }
        let missing = MissingExecutable(name: "runc", package: "runc")
        #expect(missing.description == "runc is not installed: run scripts/setup (or apt-get install runc)")
        #expect(try Executable.require("sh", package: "dash").hasSuffix("/sh"))
        #expect(throws: SpawnError.self) { try Child.run(["/nonexistent/tool"], environment: [:], output: .inherited, timeout: 1) }
    }
}
