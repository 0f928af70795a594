import Foundation
import Records

/// `launches.jsonl` in the results folder: what the suite did, one event per line, appended as
/// it happens. `--resume` reads it: the seed and settings, which rounds finished (their records
/// are kept; the round that did not finish runs again whole). It lives in the suite's own folder,
/// which no pod can see.
public struct Journal {
    public enum Kind: String, Codable, Sendable {
        /// First line: the settings a resume continues with.
        case suite
        /// A later run continues the suite (`--resume`).
        case resumed
        /// A round starts, with its plan.
        case round
        /// One launch finished and its records were kept.
        case launch
        /// A kernel failed twice in a round: its environment is given up for the later rounds.
        case failed
        /// Every launch of a round ran (or its environment was skipped).
        case finished
        /// Ctrl-C: what was under way.
        case interrupted
        /// The suite stopped adding rounds, and why.
        case stopped
    }

    public struct Event: Codable, Equatable, Sendable {
        public var event: Kind
        public var time: String = Record.timestamp(Date())
        public var seed: UInt64?
        public var rounds: Int?
        /// `--budget` in seconds and `--target-ci` in points, for a resumed budget run.
        public var budget: Double?
        public var targetCI: Double?
        /// How rounds are laid out (`RoundPlan.Layout`), for a resumed suite.
        public var layout: RoundPlan.Layout?
        public var round: Int?
        /// The round's plan: its environments in order, and each environment's widest headline
        /// interval (points) the plan was made from (budget runs, once intervals exist).
        public var order: [String]?
        public var widths: [String: Double]?
        /// A kernel's run id (`launch`, `failed`).
        public var id: String?
        /// The combined launch the kernel ran in, when it shared one with others.
        public var launch: String?
        public var environment: String?
        public var kernel: String?
        public var position: Int?
        /// Wall time of the launch, spawn to exit (a combined launch: all its kernels).
        public var seconds: Double?
        /// The suite's own time between the previous launch's exit and this one's start.
        public var overhead: Double?
        /// Records the launch added.
        public var records: Int?
        /// What Ctrl-C stopped, or why the suite stopped.
        public var during: String?
        public var reason: String?
        /// The widest headline interval (points) when the suite stopped.
        public var widest: Double?

        public init(_ event: Kind) { self.event = event }
    }

    public let path: String

    public init(path: String) { self.path = path }

    /// Every readable event; a line cut short by a crash is passed over.
    public func events() -> [Event] {
        guard let data = try? SafeFile.read(path, limit: 256 << 20) else { return [] }
        let decoder = JSONDecoder()
        return data.split(separator: 0x0A).compactMap { try? decoder.decode(Event.self, from: Data($0)) }
    }

    /// Appends one event in one `write(2)`. The file is opened without following a link, so even
    /// a journal replaced by one cannot send the append elsewhere.
    public func append(_ event: Event) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line = try encoder.encode(event)
        line.append(0x0A)
        try AppendingFile(path, followingLinks: false).write(line)
    }

    /// What a resume needs: the settings line and the rounds that finished.
    public struct State: Equatable {
        public var settings: Event?
        public var finished: Set<Int>
        public var launches: Int
        /// Runs of the suite so far: the first and every resume.
        public var sessions: Int
    }

    public func state() -> State {
        let events = events()
        return State(settings: events.first { $0.event == .suite },
                     finished: Set(events.filter { $0.event == .finished }.compactMap(\.round)),
                     launches: events.filter { $0.event == .launch }.count,
                     sessions: events.filter { $0.event == .suite || $0.event == .resumed }.count)
    }
}
