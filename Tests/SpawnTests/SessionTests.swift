import Foundation
import Spawn
import Testing

@Suite struct SessionTests {
    /// Members of the session still alive (a killed orphan stays a zombie until init reaps it).
    static func living(_ session: pid_t) -> [pid_t] {
        Session.members(of: session).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
        }
    }

    @Test func endStopsEverythingTheChildStarted() throws {
        let child = try Session(["/bin/sh", "-c", "sleep 60 & sleep 60"], environment: [:])
        let deadline = Date().addingTimeInterval(10)
        while Self.living(child.pid).count < 3 && Date() < deadline { usleep(10_000) }
        #expect(Self.living(child.pid).count == 3, "the shell and both sleeps")
        #expect(child.poll() == nil)
        #expect(child.end(grace: 2) == 128 + SIGTERM)
        let gone = Date().addingTimeInterval(10)
        while !Self.living(child.pid).isEmpty && Date() < gone { usleep(10_000) }
        #expect(Self.living(child.pid).isEmpty, "left running: \(Self.living(child.pid))")
    }

    @Test func writesOutputWhereToldAndRunsInTheFolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("podgap-spawn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out").path, err = folder.appendingPathComponent("err").path
        let child = try Session(["/bin/sh", "-c", "pwd; echo \"$GREETING\" >&2; exit 3"], environment: ["GREETING": "hello"],
                                output: .files(stdout: out, stderr: err), directory: folder.path)
        #expect(child.wait(seconds: 30) == 3)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == folder.path + "\n")
        #expect(try String(contentsOfFile: err, encoding: .utf8) == "hello\n")

        let log = folder.appendingPathComponent("log").path
        let both = try Session(["/bin/sh", "-c", "echo one; echo two >&2"], environment: [:], output: .log(log))
        #expect(both.wait(seconds: 30) == 0)
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "one\ntwo\n")
    }

    @Test func waitReturnsNothingWhileTheChildRuns() throws {
        let child = try Session(["/bin/sleep", "60"], environment: [:])
        #expect(child.wait(seconds: 0.2) == nil)
        #expect(child.end(grace: 2) == 128 + SIGTERM)
    }

    /// Voluntary context switches of the calling thread so far (getrusage RUSAGE_THREAD).
    static func threadSwitches() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(1), &usage)
        return usage.ru_nvcsw
    }

    @Test func waitSleepsUntilTheChildEndsInsteadOfPolling() throws {
        // Waiting half a second on a running child: polling every 2 ms wakes ~250 times; a
        // pidfd wakes once, at the deadline.
        let running = try Session(["/bin/sleep", "60"], environment: [:])
        let before = Self.threadSwitches()
        #expect(running.wait(seconds: 0.5) == nil)
        let switches = Self.threadSwitches() - before
        #expect(switches < 20, "the waiting thread woke \(switches) times in 0.5 s")
        #expect(running.end(grace: 2) == 128 + SIGTERM)
        // And it answers as soon as the child ends, with its status.
        let short = try Session(["/bin/sh", "-c", "sleep 0.3; exit 7"], environment: [:])
        let started = Date()
        #expect(short.wait(seconds: 30) == 7)
        let waited = Date().timeIntervalSince(started)
        #expect(waited >= 0.25 && waited < 5, "waited \(waited) s")
    }

    @Test func aMissingProgramIsAnErrorThatNamesIt() {
        #expect { try Session(["/nonexistent/podgap-spawn-test"], environment: [:]) } throws: { error in
            (error as? SpawnError)?.description.contains("/nonexistent/podgap-spawn-test") == true
        }
    }
}
