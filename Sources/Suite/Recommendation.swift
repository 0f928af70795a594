import Foundation
import Records
import Report
import Launch
import Pods

/// `podgap recommend DIR --mpijob`: the job a suite measured, as Kubeflow MPIJobs
/// (kubeflow.org/v2beta1, one per kernel), with the Kubernetes knobs that helped it applied,
/// each commented with its measured effect and interval, and those that hurt left out with the
/// reason. Written as text, not through a YAML library, because the comments are the point;
/// every string is written double-quoted with JSON's escapes, which YAML reads the same.
public struct Recommendation {
    /// The folder's analysis, suite and what to change.
    public var analysis: Analysis
    public var report: WhatToChange
    public var suite: SuiteFile
    public var folder: String
    /// The pod image the manifests name (push the one `podgap image build` made; containers/README.md).
    public var image: String

    public static let defaultImage = "registry.example.com/podgap:latest"

    /// Reads a suite's results folder; one line saying what to run where it holds nothing to recommend from.
    public init(folder: String, kernels: some KernelRegistry, image: String = Recommendation.defaultImage) throws {
        let knobsSuite = "podgap suite benchmarks/suites/knobs.yaml --budget 15m"
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw SuiteError("\(folder) is not a folder: name the results folder of a suite (\(knobsSuite) writes one)")
        }
        do {
            analysis = try Inputs.analyse([folder]).analysis
        } catch let error as RecordError {
            throw SuiteError("\(folder): \(error.description): recommend reads a suite's records (\(knobsSuite))")
        } catch let error as AnalysisError {
            throw SuiteError("\(folder): \(error.description)")
        }
        report = analysis.whatToChange ?? WhatToChange.build(analysis, counters: [])
        guard !report.changes.isEmpty else {
            throw SuiteError("\(folder): no environment there ran with knobs, so nothing says what to change: run \(knobsSuite)")
        }
        let suitePath = URL(fileURLWithPath: folder).appendingPathComponent("suite.yaml").path
        guard let text = try? String(contentsOfFile: suitePath, encoding: .utf8) else {
            throw SuiteError("\(folder) has no suite.yaml: recommend writes the job a suite ran; name the folder podgap suite wrote")
        }
        suite = try SuiteFile.parse(text, file: suitePath, kernels: kernels)
        self.folder = folder
        self.image = image
    }

    /// One knob environment's standing for one kernel: what it did to that kernel's headlines
    /// (and to launch time, which every job pays).
    struct Standing {
        var change: WhatToChange.Change
        var helped: [WhatToChange.Effect]
        var hurt: [WhatToChange.Effect]
        var comments: [String]
        var applies: Bool { !helped.isEmpty && hurt.isEmpty }
    }

    func standings(for kernel: String) -> [Standing] {
        report.changes.compactMap { change in
            guard let base = change.base else { return nil }
            let mine = change.effects.filter { $0.kernel == kernel || $0.kernel == SuiteRunner.launchKernel }
            let comments = mine.map { "\(change.setting) (\(change.environment)) " + WhatToChange.effectText($0, base: base, baseline: report.baseline) }
            // Where the base had no gap to recover, the knob's own effect against the base decides.
            func direct(_ effect: WhatToChange.Effect) -> ClosedRange<Double>? { effect.verdict == .undefined ? effect.againstBaseInterval : nil }
            let helped = mine.filter { $0.verdict == .recovers || (direct($0)?.upperBound ?? 0) < 0 }
            let hurt = mine.filter { $0.verdict == .adds || (direct($0)?.lowerBound ?? 0) > 0 }
            return Standing(change: change, helped: helped, hurt: hurt, comments: comments)
        }
    }

    /// The manifests, one YAML document per kernel of the suite.
    public func mpiJobs() -> String {
        var out = """
        # podgap recommend \(folder) --mpijob
        # The job suite '\(suite.name)' measured (\(suite.ranks) ranks, \(analysis.rounds.map { "\($0) rounds" } ?? "no rounds"), baseline \(report.baseline)),
        # as Kubeflow MPIJobs with the knobs that helped applied: a knob applies to a kernel's job where it
        # recovered part of a headline gap (interval above 0) and added to none (where the pod had no gap,
        # it made the headline better than the pod's, and worse nowhere). Numbers: this folder's
        # records, on the machine that ran them; measure your own cluster before trusting them there.

        """
        out += suite.kernels.map { mpiJob($0) }.joined(separator: "---\n")
        return out
    }

    /// YAML written line by line at explicit indents: what the nesting is stays visible here.
    struct Lines {
        var text = ""
        mutating func add(_ indent: Int, _ line: String) { text += String(repeating: " ", count: indent) + line + "\n" }
        /// A comment, one line per line of `text`.
        mutating func comment(_ indent: Int, _ text: String) {
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) { add(indent, "# " + line) }
        }

        /// A container's `env:` (the launcher's and the worker's sit at the same depth).
        mutating func env(_ variables: [Variable]) {
            add(14, "env:")
            for variable in variables {
                if let why = variable.why { comment(16, why) }
                add(16, "- name: " + variable.name)
                add(18, "value: " + variable.value)
            }
        }

        /// A container's `volumeMounts:`, then its pod's `volumes:`, one entry each per volume.
        mutating func volumes(_ volumes: [Volume]) {
            add(14, "volumeMounts:")
            for volume in volumes { add(16, "- {name: \(volume.name), mountPath: \(volume.mountPath)}") }
            add(10, "volumes:")
            for volume in volumes {
                if let why = volume.why { comment(12, why) }
                add(12, "- name: " + volume.name)
                add(14, volume.source)
            }
        }
    }

    /// An environment variable of a container, its value as YAML, with why where it needs saying.
    struct Variable {
        var name: String, value: String, why: String?
        init(_ name: String, _ value: String, why: String? = nil) { self.name = name; self.value = value; self.why = why }
    }

    /// A pod volume, where its container mounts it, and its source as YAML.
    struct Volume {
        var name: String, mountPath: String, source: String, why: String?
        init(_ name: String, at mountPath: String, source: String, why: String? = nil) {
            self.name = name; self.mountPath = mountPath; self.source = source; self.why = why
        }

        /// Where the ranks write their records: the results claim, in the launcher and every worker.
        static let results = Volume("results", at: "/results", source: "persistentVolumeClaim: {claimName: podgap-results}")
    }

    /// The MPIJob for one kernel of the suite.
    func mpiJob(_ kernel: SuiteFile.Kernel) -> String {
        let standings = standings(for: kernel.name)
        var knobs = Knobs()
        var hostNetwork = false
        var y = Lines()
        let applied = standings.filter(\.applies).count
        y.comment(0, "\(kernel.name): " + (applied == 0 ? "no knob helped; the job as measured" : "\(applied) knob setting(s) applied"))
        for standing in standings {
            let effects = standing.comments.map { "  " + $0 }.joined(separator: "\n")
            guard standing.applies else {
                let why = standing.helped.isEmpty ? (standing.hurt.isEmpty ? "no resolved effect" : "it hurt") : "it helped one headline and hurt another"
                y.comment(0, "Not applied, \(standing.change.setting): \(why).\n" + effects)
                if standing.change.knobs?.cpuLimit != nil, !standing.hurt.isEmpty {
                    y.comment(0, "  Drop the CPU limit: a Burstable pod's CFS quota throttles the ranks (the workers below set no cpu limit).")
                }
                continue
            }
            y.comment(0, "Applied, \(standing.change.setting):\n" + effects)
            guard let set = standing.change.knobs else { hostNetwork = true; continue }
            // One line per knob: the first environment that helped sets it.
            knobs.cpuLimit = knobs.cpuLimit ?? set.cpuLimit
            knobs.guaranteed = knobs.guaranteed ?? set.guaranteed
            knobs.slots = knobs.slots ?? set.slots
            knobs.mtu = knobs.mtu ?? set.mtu
            knobs.seccomp = knobs.seccomp ?? set.seccomp
            knobs.runtime = knobs.runtime ?? set.runtime
            knobs.hugepages = knobs.hugepages ?? set.hugepages
            knobs.pull = knobs.pull ?? set.pull
        }
        // Guaranteed's whole CPUs replace a fractional limit (the two do not go together).
        if knobs.guaranteed == true { knobs.cpuLimit = nil }
        let slots = knobs.slots.flatMap { suite.ranks % $0 == 0 ? $0 : nil } ?? 1
        let q = Recommendation.quoted
        // mpirun hands PODGAP_KNOBS to every rank (-x): ranks started over ssh do not see a pod's env.
        // The ranks map their buffers from the pod's hugetlbfs where PODGAP_HUGEPAGES names it.
        let hugePages = knobs.hugepages == true ? ["-x", HugePageBuffers.variable] : []
        let arguments = ["--np", "\(suite.ranks)"] + (knobs.isEmpty ? [] : ["-x", "PODGAP_KNOBS"]) + hugePages + ["/usr/local/bin/podgap", "run"] + kernel.arguments
            + ["--out", "/results/\(Recommendation.resourceName(suite.name))-\(kernel.name).jsonl"]

        y.add(0, "apiVersion: kubeflow.org/v2beta1")
        y.add(0, "kind: MPIJob")
        y.add(0, "metadata:")
        y.add(2, "name: " + q(Recommendation.resourceName("podgap-\(suite.name)-\(kernel.name)")))
        y.add(0, "spec:")
        if slots > 1 { y.comment(2, "slots: \(slots) ranks per worker pod share its IPC namespace: shared memory between them, TCP between pods.") }
        y.add(2, "slotsPerWorker: \(slots)")
        y.add(2, "runPolicy:")
        y.add(4, "cleanPodPolicy: Running")
        y.add(4, "backoffLimit: 0")
        y.add(2, "sshAuthMountPath: /root/.ssh")
        y.add(2, "mpiImplementation: OpenMPI")
        y.add(2, "mpiReplicaSpecs:")
        y.add(4, "Launcher:")
        y.add(6, "replicas: 1")
        y.add(6, "template:")
        y.add(8, "spec:")
        y.add(10, "containers:")
        y.add(12, "- name: launcher")
        y.add(14, "image: " + q(image))
        y.env([Variable("K_MPI_JOB_ROLE", "launcher")]
              + (slots > 1 ? [Variable("PODGAP_BTL", q(LaunchPlan.podTransports(sharedMemory: true).btl),
                                       why: "The entrypoint's transports: shared memory (vader) within a pod, TCP between pods.")] : [])
              + (knobs.isEmpty ? [] : [Variable("PODGAP_KNOBS", q(knobs.variable),
                                                why: "The records the job writes say the knobs it ran with (environment.knobs).")])
              + (knobs.hugepages == true ? [Variable(HugePageBuffers.variable, q(HugePages.Mount.destination),
                                                     why: "hugepages: the ranks' message buffers from the workers' hugetlbfs (mounted below).")] : []))
        y.add(14, "args:")
        for argument in arguments { y.add(16, "- " + q(argument)) }
        y.add(14, "resources:")
        y.add(16, "requests: {cpu: \"500m\", memory: 512Mi}")
        y.add(16, "limits: {memory: 1Gi}")
        y.volumes([.results])
        y.add(4, "Worker:")
        y.add(6, "replicas: \(suite.ranks / slots)")
        y.add(6, "template:")
        y.add(8, "spec:")
        if hostNetwork {
            y.comment(10, "host-network: the ranks use the node's network, no pod network between them; the DNS policy\nkeeps cluster names resolving from the host network.")
            y.add(10, "hostNetwork: true")
            y.add(10, "dnsPolicy: ClusterFirstWithHostNet")
        }
        if knobs.seccomp == .unconfined {
            y.comment(10, "WARNING: seccomp unconfined lets the pod make every syscall, one less wall for a container escape.\nApply it to trusted jobs only, or write a Localhost profile that allows what the job needs.")
            y.add(10, "securityContext:")
            y.add(12, "seccompProfile:")
            y.add(14, "type: Unconfined")
        }
        if let runtime = knobs.runtime, runtime != .runc {
            y.comment(10, "runtime: \(runtime.rawValue) needs a RuntimeClass of that name whose handler is \(runtime.rawValue) in the\nnodes' containerd/CRI-O configuration (kind: RuntimeClass, apiVersion: node.k8s.io/v1).")
            y.add(10, "runtimeClassName: " + q(runtime.rawValue))
        }
        y.add(10, "containers:")
        y.add(12, "- name: worker")
        y.add(14, "image: " + q(image))
        if let pull = knobs.pull {
            y.comment(14, "pull: \(pull.rawValue) as measured (the kubelet's imagePullPolicy).")
            y.add(14, "imagePullPolicy: " + (pull == .always ? "Always" : "IfNotPresent"))
        }
        y.env([Variable("K_MPI_JOB_ROLE", "worker"), Variable("PODGAP_SSHD", "\"1\""),
               Variable("PODGAP_NETWORK", q(hostNetwork ? NetworkMode.host.rawValue : NetworkMode.overlay.rawValue))])
        resources(&y, knobs: knobs, slots: slots)
        y.volumes([.results]
                  + (slots > 1 ? [Volume("dshm", at: "/dev/shm", source: "emptyDir: {medium: Memory, sizeLimit: 1Gi}",
                                         why: "Shared memory between the ranks of a pod: more than the 64 MiB a container gets by default.")] : [])
                  + (knobs.hugepages == true ? [Volume("hugepages", at: HugePages.Mount.destination, source: "emptyDir: {medium: HugePages-2Mi}",
                                                       why: "hugepages: the message buffers come from this hugetlbfs (PODGAP_KNOBS tells the ranks); the nodes\nmust have 2 MiB pages reserved (vm.nr_hugepages) for the kubelet to advertise hugepages-2Mi.")] : []))
        if let mtu = knobs.mtu {
            y.comment(0, "mtu: \(mtu) is the CNI's setting, not the MPIJob's: the nodes' underlay at \(mtu), the pod network at \(mtu - 50)\n(VXLAN's 50 bytes less), e.g. Flannel's net-conf.json \"Backend\": {\"Type\": \"vxlan\", \"MTU\": \(mtu - 50)}.")
        }
        return y.text
    }

    /// The worker's resources: whole CPUs with requests = limits under `guaranteed`; a CPU limit
    /// only where one helped; otherwise requests alone, as the pods ran without a quota.
    func resources(_ y: inout Lines, knobs: Knobs, slots: Int) {
        y.add(14, "resources:")
        // Huge pages are requested = limited (Kubernetes refuses anything else), beside memory.
        let huge = knobs.hugepages == true ? ", hugepages-2Mi: 64Mi" : ""
        if !huge.isEmpty { y.comment(16, "hugepages: 32 pages of 2 MiB per worker for the message buffers.") }
        if knobs.guaranteed == true {
            y.comment(16, "guaranteed: requests = limits with whole CPUs (Guaranteed QoS). Exclusive cores also need the kubelet's\nstatic CPU Manager policy (--cpu-manager-policy=static); without it the pod only gets the QoS class.")
            y.add(16, "requests: {cpu: \"\(slots)\", memory: 2Gi\(huge)}")
            y.add(16, "limits: {cpu: \"\(slots)\", memory: 2Gi\(huge)}")
        } else if let limit = knobs.cpuLimit {
            let cpu = Recommendation.quoted(String(format: "%g", limit * Double(slots)))
            y.comment(16, "cpu-limit: \(String(format: "%g", limit)) per rank's pod as measured, times \(slots) rank(s) per worker.")
            y.add(16, "requests: {cpu: \(cpu), memory: 2Gi\(huge)}")
            y.add(16, "limits: {cpu: \(cpu), memory: 2Gi\(huge)}")
        } else {
            y.comment(16, "No CPU limit, as the pods ran without a quota.")
            y.add(16, "requests: {cpu: \"\(slots)\", memory: 2Gi\(huge)}")
            y.add(16, "limits: {memory: 2Gi\(huge)}")
        }
    }

    /// A Kubernetes object name (RFC 1123 label): lower case letters, digits and '-', at most 63.
    static func resourceName(_ text: String) -> String {
        var out = ""
        for character in text.lowercased() {
            out.append(character.isASCII && (character.isLetter || character.isNumber) ? character : "-")
        }
        let trimmed = String(out.prefix(63)).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        return trimmed.isEmpty ? "podgap" : trimmed
    }

    /// A YAML double-quoted scalar: JSON's escapes, which YAML 1.2 reads the same.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += String(format: "\\u%04X", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
