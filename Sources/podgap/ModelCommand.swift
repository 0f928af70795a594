import ArgumentParser
import Records
import Foundation
import Model

/// `podgap model`: fit alpha-beta per environment, project step time to N GPUs, show what the gap hangs on.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Calibrate a performance model from records and project the bare-metal/pod gap to N GPUs.",
        discussion: "See docs/model.md.",
        subcommands: [ModelCalibrate.self, ModelProject.self, ModelSensitivity.self, ModelValidate.self])

    /// Model errors are the user's input (a profile, a record file, a flag): exit 2, one line.
    static func mapping<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as ModelError {
            throw Failure.badInput(error.description)
        } catch let error as RecordError {
            throw Failure.badInput(error.description)
        }
    }

    /// Every record in `paths`, in order.
    static func readRecords(_ paths: [String]) throws -> [Record] {
        try paths.flatMap { try RecordReader.read($0) }
    }

    static func format(_ text: String, also extra: [String] = []) throws -> TextTable.Format {
        guard let format = TextTable.Format(rawValue: text) else {
            let known = TextTable.Format.allCases.map(\.rawValue) + extra
            throw Failure.badInput("--format '\(text)' is not one of \(known.joined(separator: ", "))")
        }
        return format
    }
}

struct ModelCalibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Fit a Hockney alpha-beta model per environment (allreduce, ping-pong records) and compute/overlap (train records); write a profile.")

    @Argument(help: "Results files (JSON Lines) with allreduce and train records.")
    var records: [String] = []
    @Option(help: "Where to write the profile (YAML).")
    var out: String
    @Option(help: "Profile name.")
    var name = "calibrated"
    @Option(help: "Environment the gap is measured against (default: the one podgap report picks from the same records).")
    var baseline: String?
    @Option(help: "ENV=SOURCE: use SOURCE's fit as ENV's intra-node link (e.g. native-2node=native-shm). Repeatable.")
    var intraNode: [String] = []

    func run() throws {
        guard !records.isEmpty else { throw Failure.badInput("give one or more results files to calibrate from") }
        var sources: [String: String] = [:]
        for pair in intraNode {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw Failure.badInput("--intra-node '\(pair)' is not ENV=SOURCE")
            }
            sources[parts[0]] = parts[1]
        }
        let profile = try ModelCommand.mapping {
            try Calibration(records: ModelCommand.readRecords(records), intraNodeSources: sources, baseline: baseline).profile(name: name)
        }
        let header = ["podgap model profile, calibrated by `podgap model calibrate` from: \(records.joined(separator: " "))",
                      "Times: latency_us in microseconds, bandwidth in GB/s (10^9 bytes/s) per link, compute in seconds."]
        do {
            try ProfileWriter.yaml(profile, header: header).write(toFile: out, atomically: true, encoding: .utf8)
        } catch {
            throw Failure.badInput("cannot write the profile to \(out): \(error.localizedDescription)")
        }
        func describe(_ link: Link?) -> String {
            guard let link else { return "-" }
            return link.regimes.map { regime in
                (regime.beta > 0 ? String(format: "%.1fus + %.3fGB/s", regime.alpha * 1e6, regime.bandwidth / 1e9)
                                 : String(format: "%.1fus flat", regime.alpha * 1e6))
                    + (regime.upToBytes.map { " (<=\($0)B)" } ?? "")
            }.joined(separator: "; ")
        }
        let oneWay = profile.environments.contains { $0.interNodeOneWay != nil }
        let rows = profile.environments.map { environment -> [String] in
            [environment.name, describe(environment.interNode)] + (oneWay ? [describe(environment.interNodeOneWay)] : [])
                + [environment.notes.first ?? "",
                   String(format: "%.3g", (environment.secondsPerSample ?? profile.workload.secondsPerSample) * 1e3),
                   String(format: "%.2f", environment.overlap)]
        }
        let headings = ["environment", "link (alpha + bandwidth)"] + (oneWay ? ["one-way link (ping-pong)"] : [])
            + ["fit", "compute ms/sample", "overlap"]
        print(TextTable(headings: headings, rows: rows).render(.table), terminator: "")
        print("profile written to \(out)")
    }
}

/// Options shared by project and sensitivity.
struct ProjectionOptions: ParsableArguments {
    @Option(help: "Profile (YAML) from `podgap model calibrate` or written by hand.")
    var profile: String
    @Option(help: "GPUs (ranks) per node (at most \(Projection.maximumGPUs)).")
    var gpusPerNode = 4
    @Option(help: "Model from the table (densenet121, resnet50, bert-base, gpt2); overrides the profile's.")
    var model: String?
    @Option(help: "Gradient bytes per step; overrides --model and the profile.")
    var gradientBytes: Int?
    @Option(help: "table, markdown or csv (project also takes html: a chart of throughput against GPUs).")
    var format = "table"

    func projection() throws -> (Profile, Projection) {
        try ModelCommand.mapping {
            let profile = try ProfileReader.read(path: self.profile)
            var bytes = gradientBytes
            if bytes == nil, let model { bytes = try KnownModel.named(model).gradientBytes }
            return (profile, try Projection(profile: profile, gpusPerNode: gpusPerNode, gradientBytes: bytes))
        }
    }
}

struct ModelProject: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Step time = compute + exposed allreduce, per environment and GPU count; throughput, efficiency and gap.")

    @OptionGroup var options: ProjectionOptions
    @Option(help: "GPU counts, comma-separated, e.g. 1,2,4,8,16 (each at most \(Projection.maximumGPUs)).")
    var gpus = "1,2,4,8"

    func run() throws {
        let html = options.format == "html"
        let format = html ? .table : try ModelCommand.format(options.format, also: ["html"])
        let counts = try gpus.split(separator: ",", omittingEmptySubsequences: false).map { text -> Int in
            guard let count = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw Failure.badInput("--gpus '\(gpus)' is not a list of whole numbers, e.g. 1,2,4,8")
            }
            guard count >= 1 else { throw Failure.badInput("--gpus \(count): a GPU count must be at least 1") }
            return count
        }
        let (profile, projection) = try options.projection()
        let points = try ModelCommand.mapping { try projection.run(gpus: counts) }
        if html {
            print(ProjectionChart.html(points, title: "\(profile.name): throughput against GPUs (\(options.gpusPerNode) per node)"), terminator: "")
            return
        }
        if format == .table {
            print("# \(profile.name): \(projection.gradientBytes) gradient bytes, batch \(profile.workload.batchPerGPU)/GPU, \(options.gpusPerNode) GPUs/node; gap = how much faster \(profile.baseline) is")
        }
        print(Projection.table(points, format: format).render(format), terminator: "")
    }
}

struct ModelSensitivity: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sensitivity",
        abstract: "How the gap at one GPU count moves when bandwidth, latency, overlap and model size move by +/-50%.")

    @OptionGroup var options: ProjectionOptions
    @Option(help: "GPU count the gap is read at (at most \(Projection.maximumGPUs)).")
    var gpus = 8

    func run() throws {
        let format = try ModelCommand.format(options.format)
        guard gpus >= 1 else { throw Failure.badInput("--gpus \(gpus): a GPU count must be at least 1") }
        let (profile, projection) = try options.projection()
        let rows = try ModelCommand.mapping {
            try Sensitivity.run(profile: profile, gpusPerNode: options.gpusPerNode, gradientBytes: projection.gradientBytes, gpus: gpus)
        }
        let base = try ModelCommand.mapping { try projection.gap(gpus: gpus) }
        if format == .table {
            print(String(format: "# %@: gap at %d GPUs is %+.1f%% as profiled; each input scaled alone (all environments alike)", profile.name, gpus, base))
        }
        print(Sensitivity.table(rows, baselineGap: base, format: format).render(format), terminator: "")
    }
}

struct ModelValidate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Predict every training-step record with a profile and show the error and the gap, measured against predicted.")

    @Argument(help: "Results files holding train records.")
    var records: [String] = []
    @Option(help: "Profile (YAML).")
    var profile: String
    @Option(help: "Ranks per node in the measured runs.")
    var gpusPerNode = 1
    @Option(help: "table, markdown or csv.")
    var format = "table"

    func run() throws {
        let format = try ModelCommand.format(format)
        guard !records.isEmpty else { throw Failure.badInput("give one or more results files with train records") }
        let rows = try ModelCommand.mapping {
            try Validation.run(profile: ProfileReader.read(path: profile), records: ModelCommand.readRecords(records), gpusPerNode: gpusPerNode)
        }
        print(Validation.table(rows, format: format).render(format), terminator: "")
        // CSV stays one table; the targets go to stderr there, where a pipe does not mix them in.
        for line in Validation.summary(rows) {
            if format == .csv { FileHandle.standardError.write(Data("# \(line)\n".utf8)) } else { print(format == .markdown ? "\n\(line)" : "# \(line)") }
        }
    }
}
