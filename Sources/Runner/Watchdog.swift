import Foundation

/// Ends the process when a job outlives its timeout: a peer that died can leave the others
/// blocked in a collective forever. Records are written whole, one write per line, so the file
/// stays parseable.
public enum Watchdog {
    public static func arm(seconds: Double, rank: Int, output: String?) {
        let thread = Thread {
            Thread.sleep(forTimeInterval: seconds)
            let whereTo = output.map { "; records written so far are in \($0)" } ?? ""
            FileHandle.standardError.write(Data("podgap: rank \(rank): timed out after \(String(format: "%gs", seconds))\(whereTo)\n".utf8))
            _exit(ExitStatus.timedOut.rawValue)
        }
        thread.start()
    }
}
