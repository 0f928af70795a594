import Records
import Statistics
import Foundation

/// Builds a profile from measured records: a Hockney fit per environment from its allreduce and
/// point-to-point records, compute and overlap from its training-step records.
public struct Calibration {
    public var records: [Record]
    /// Environments whose intra-node link is another environment's fit (a two-node environment
    /// borrowing a one-node one's shared-memory fit).
    public var intraNodeSources: [String: String]
    public var baseline: String?

    public init(records: [Record], intraNodeSources: [String: String] = [:], baseline: String? = nil) {
        self.records = records; self.intraNodeSources = intraNodeSources; self.baseline = baseline
    }

    /// One environment's fits: allreduce records (data moving both ways at once) and ping-pong
    /// records (one message, one way) are fitted apart, since a link or a CPU that is not full
    /// duplex makes them disagree, and each algorithm is costed on the one that moves data as it does.
    public struct EnvironmentFit {
        public var environment: String
        public var collective: LinkFit?
        public var oneWay: LinkFit?
        /// What the collective algorithms are costed on: the allreduce fit, or the ping-pong one alone.
        public var link: LinkFit { collective ?? oneWay! }
    }

    /// Per-environment fits, in the order environments first appear in the records.
    public func fits() throws -> [EnvironmentFit] {
        var order: [String] = []
        var observations: [String: (collective: [FitSample], oneWay: [FitSample])] = [:]
        for record in records {
            // An unverified point (a wrong sum) timed something else: it does not calibrate anything.
            guard record.verified, let bytes = record.params["bytes"]?.doubleValue, bytes > 0,
                  record.seconds.p50 > 0 else { continue }
            // Each record says what it measured (its descriptor's role), not its kernel's name.
            let collective = record.role == .allreduce
            guard collective ? record.ranks >= 2 : record.role == .pointToPoint else { continue }
            let name = record.environment.name
            if observations[name] == nil { order.append(name) }
            if collective {
                observations[name, default: ([], [])].collective.append(.allreduce(bytes: Int(bytes), ranks: record.ranks, seconds: record.seconds.p50))
            } else {
                observations[name, default: ([], [])].oneWay.append(.pointToPoint(bytes: Int(bytes), seconds: record.seconds.p50))
            }
        }
        func fit(_ name: String, _ points: [FitSample], _ kind: String) throws -> LinkFit? {
            guard !points.isEmpty else { return nil }
            // Trials of the same point are folded into their median first: the machine drifts
            // between levels, and one line through every trial's scatter hides the regimes.
            let folded = Dictionary(grouping: points) { "\($0.bytes) \($0.latencies)" }.values.map { trials in
                var point = trials[0]
                point.seconds = Calibration.median(trials.map(\.seconds))
                return point
            }
            do { return try AlphaBetaFit.fit(folded) } catch let error as ModelError {
                throw ModelError("environment '\(name)' (\(kind) records): \(error.description)")
            }
        }
        return try order.map { name in
            EnvironmentFit(environment: name, collective: try fit(name, observations[name]!.collective, "allreduce"),
                           oneWay: try fit(name, observations[name]!.oneWay, "point-to-point"))
        }
    }

    public func profile(name: String) throws -> Profile {
        let fits = try fits()
        guard !fits.isEmpty else {
            throw ModelError("no allreduce or point-to-point records with 2 or more ranks among the inputs: nothing to fit a network from")
        }
        let byName = Dictionary(uniqueKeysWithValues: fits.map { ($0.environment, $0) })
        for (environment, source) in intraNodeSources {
            guard byName[source] != nil else { throw ModelError("--intra-node \(environment)=\(source): no network records for '\(source)'") }
        }
        let allTraining = records.filter { $0.role == .trainingStep }
        // A step measured on a GPU (`run train --device cuda`) supplies the compute where there is
        // one: a GPU profile's compute is then measured on the device, not assumed from the CPU's.
        let onGPU = allTraining.filter { $0.params["device"] == "cuda" }
        let training = onGPU.isEmpty ? allTraining : onGPU
        // Compute per sample, per environment, median over its training records.
        var perSample: [String: [Double]] = [:]
        var workloads: [Record] = []
        for record in training {
            guard let batch = record.params["batch"]?.doubleValue, batch > 0,
                  let compute = record.phases["compute"]?.p50, compute > 0 else { continue }
            perSample[record.environment.name, default: []].append(compute / batch)
            workloads.append(record)
        }
        guard let first = workloads.first else {
            throw ModelError("no training-step records (podgap run train) among the inputs: compute cannot be calibrated")
        }
        guard let gradientBytes = first.params["gradient_bytes"]?.doubleValue.map({ Int($0) }), gradientBytes > 0 else {
            throw ModelError("the training records carry no 'gradient_bytes' parameter: record them with this podgap's `run train`")
        }
        let bucketBytes = first.params["bucket_mb"]?.doubleValue.map { Int($0 * 1_048_576) } ?? (25 << 20)
        let allSamples = perSample.values.flatMap { $0 }
        var workload = Profile.Workload(model: nil, gradientBytes: gradientBytes,
                                        batchPerGPU: Int(first.params["batch"]?.doubleValue ?? 1),
                                        secondsPerSample: Calibration.median(allSamples),
                                        // An MLP's backward is two GEMMs per layer to the forward's one.
                                        backwardFraction: 2.0 / 3.0, bucketBytes: bucketBytes,
                                        bucketSizes: Calibration.bucketSizes(first, capBytes: bucketBytes))
        // `podgap run train` reduces each bucket with an in-place MPI_Iallreduce: Open MPI's libnbc
        // always runs that as a binomial reduce + broadcast (nbc_iallreduce.c), whatever the size.
        // NCCL picks ring or tree itself: the projection's `auto` does as its tuner does.
        workload.allreduce = first.params["reducer"] == "nccl" ? nil : .binomial
        let rates = workloads.compactMap { $0.throughput["reduce_gbps"] }.filter { $0 > 0 }
        if !rates.isEmpty { workload.reduceBytesPerSecond = Calibration.median(rates) * 1e9 }

        var environments: [EnvironmentProfile] = []
        // An environment measured only to lend its fit as another's intra-node link is not projected itself.
        let lendersOnly = Set(intraNodeSources.values).subtracting(perSample.keys)
        for measured in fits where !lendersOnly.contains(measured.environment) || fits.count == 1 {
            let environment = measured.environment, fit = measured.link
            let lender = intraNodeSources[environment].flatMap { byName[$0] }
            let intra = lender?.link.link ?? fit.link
            // A lender without ping-pong records lends no one-way link: its allreduce fit stands in.
            let intraOneWay = lender.map { $0.oneWay?.link } ?? measured.oneWay?.link
            var notes = [String(format: "fit: %d points, rms error %.1f%%, worst %.1f%%", fit.points, fit.rmsErrorPercent, fit.maxErrorPercent)]
            if fit.link.regimes.count > 1, let limit = fit.link.regimes[0].upToBytes {
                notes.append("eager/rendezvous split at \(limit) bytes improved the fit")
            }
            if let oneWay = measured.oneWay, measured.collective != nil {
                notes.append(String(format: "one-way (ping-pong) fit: %d points, rms error %.1f%%, worst %.1f%%",
                                    oneWay.points, oneWay.rmsErrorPercent, oneWay.maxErrorPercent))
            }
            if let source = intraNodeSources[environment] { notes.append("intra_node from the fit of '\(source)'") }
            let mine = training.filter { $0.environment.name == environment }
            let rates = mine.compactMap { $0.throughput["reduce_gbps"] }.filter { $0 > 0 }
            let reduceRate = rates.isEmpty ? nil : Calibration.median(rates) * 1e9
            let overlap = overlapAchieved(mine, link: fit.link, oneWay: measured.oneWay?.link, reduceRate: reduceRate, bucketBytes: bucketBytes)
            if let samples = perSample[environment] {
                let exposed = mine.compactMap { $0.phases["exposed_communication"]?.p50 }
                let steps = mine.map(\.seconds.p50)
                notes.append(String(format: "compute from %d training record(s)%@; exposed communication %.1f%% of the step",
                                    samples.count, Calibration.deviceNote(mine) as NSString,
                                    steps.isEmpty ? 0 : Calibration.median(exposed) / Calibration.median(steps) * 100))
            }
            var profiled = EnvironmentProfile(name: environment, intraNode: intra, interNode: fit.link, overlap: overlap,
                                              secondsPerSample: perSample[environment].map(Calibration.median), notes: notes)
            profiled.intraNodeOneWay = intraOneWay
            profiled.interNodeOneWay = measured.oneWay?.link
            profiled.reduceBytesPerSecond = reduceRate
            environments.append(profiled)
        }
        // The same default as `podgap report` for the same records (the catalog decides).
        let baselineName = baseline ?? EnvironmentCatalog.baseline(among: environments.map(\.name)) ?? environments[0].name
        let profile = Profile(name: name, baseline: baselineName, workload: workload, environments: environments)
        _ = try profile.environment(named: baselineName)
        return profile
    }

    /// " on NVIDIA H200 (tf32, nccl)" for records of GPU steps; "" for the CPU's.
    static func deviceNote(_ records: [Record]) -> String {
        guard let first = records.first, first.params["device"] == "cuda" else { return "" }
        func text(_ key: String) -> String? { if case .string(let value)? = first.params[key] { return value }; return nil }
        let detail = [text("precision"), text("reducer")].compactMap { $0 }.joined(separator: ", ")
        var note = " on \(text("gpu") ?? "a GPU")" + (detail.isEmpty ? "" : " (\(detail))")
        if let proxy = text("proxy_of") { note += ", a proxy of \(proxy)" }
        return note
    }

    /// Share of the predicted allreduce time that did not show as exposed: 1 - exposed / predicted.
    /// Records run without overlap count as 0.
    func overlapAchieved(_ records: [Record], link: Link, oneWay: Link?, reduceRate: Double?, bucketBytes: Int) -> Double {
        var shares: [Double] = []
        for record in records {
            guard case .bool(true)? = record.params["overlap"] else { shares.append(0); continue }
            guard let bytes = record.params["gradient_bytes"]?.doubleValue,
                  let exposed = record.phases["exposed_communication"]?.p50 else { continue }
            let buckets = max(1, Int(record.params["buckets"]?.doubleValue ?? 1))
            let topology = ClusterTopology(gpus: record.ranks, perNode: record.ranks, intraNode: link, interNode: link,
                                           intraNodeOneWay: oneWay, interNodeOneWay: oneWay, reduceBytesPerSecond: reduceRate)
            let predicted = Double(buckets) * topology.cost(.binomial, bytes: bytes / Double(buckets)).seconds
            guard predicted > 0 else { continue }
            shares.append(min(1, max(0, 1 - exposed / predicted)))
        }
        return shares.isEmpty ? 0 : Calibration.median(shares)
    }

    /// The buckets `podgap run train` formed: consecutive layers from the last, a layer joining the
    /// open bucket unless that takes it past the cap (the rule of Kernels' TrainingStep.buckets).
    static func bucketSizes(_ record: Record, capBytes: Int) -> [Int]? {
        guard case .string(let text)? = record.params["layers"] else { return nil }
        let widths = text.split(separator: ",").compactMap { Int($0) }
        guard widths.count >= 2 else { return nil }
        var sizes: [Int] = [], open = 0
        for layer in stride(from: widths.count - 2, through: 0, by: -1) {
            let bytes = widths[layer] * widths[layer + 1] * 4
            if open > 0, open + bytes > capBytes { sizes.append(open); open = 0 }
            open += bytes
        }
        sizes.append(open)
        return sizes
    }

    static func median(_ values: [Double]) -> Double {
        Median.of(values) ?? 0
    }
}
