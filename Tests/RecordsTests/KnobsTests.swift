import Foundation
import Records
import Testing

@Suite struct KnobsTests {
    func problem(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch { return (error as? Knobs.Problem)?.description ?? "not a knob problem: \(error)" }
    }

    @Test func everyKnobParsesFromItsTextUnderItsOwnName() throws {
        var knobs = Knobs()
        for (name, text) in [("cpu-limit", "0.5"), ("guaranteed", "false"), ("slots", "2"), ("mtu", "9000"), ("seccomp", "unconfined"),
                             ("runtime", "crun"), ("hugepages", "true"), ("pull", "always")] {
            try knobs.set(name, to: text)
        }
        #expect(knobs == Knobs(cpuLimit: 0.5, guaranteed: false, slots: 2, mtu: 9000, seccomp: .unconfined, runtime: .crun, hugepages: true, pull: .always))
        #expect(Knobs.names == ["cpu-limit", "guaranteed", "slots", "mtu", "seccomp", "runtime", "hugepages", "pull"])
        // Records say them under the same names, and read them back.
        let json = String(decoding: try JSONEncoder().encode(Knobs(cpuLimit: 0.5, slots: 2)), as: UTF8.self)
        #expect(json.contains("\"cpu-limit\":0.5") && json.contains("\"slots\":2"))
        #expect(try JSONDecoder().decode(Knobs.self, from: Data(json.utf8)) == Knobs(cpuLimit: 0.5, slots: 2))
        // The variable pods pass to their ranks round-trips; one this build does not know is no knobs.
        #expect(knobs.variable == "cpu-limit=0.5,guaranteed=false,slots=2,mtu=9000,seccomp=unconfined,runtime=crun,hugepages=true,pull=always")
        #expect(Knobs(variable: knobs.variable) == knobs)
        #expect(Knobs(variable: "turbo=1") == nil)
        #expect(Knobs(cpuLimit: 2).variable == "cpu-limit=2")
    }

    @Test func runtimeAndHugepagesAreRecordedUnderTheirNamesAndReadBack() throws {
        // A record's environment says both knobs, and whether the buffers really were huge pages.
        var record = sampleRecord()
        record.environment.knobs = Knobs(runtime: .crun, hugepages: true)
        record.environment.hugePages = HugePageBuffers(folder: "/dev/hugepages", huge: 4, pageBytes: 2 << 20)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(record), as: UTF8.self)
        #expect(json.contains("\"knobs\":{\"hugepages\":true,\"runtime\":\"crun\"}"), "\(json)")
        #expect(json.contains("\"hugePages\":{\"folder\":\"\\/dev\\/hugepages\",\"huge\":4,\"ordinary\":0,\"pageBytes\":2097152}"), "\(json)")
        let back = try JSONDecoder().decode(Record.self, from: Data(json.utf8))
        #expect(back.environment.knobs == Knobs(runtime: .crun, hugepages: true))
        #expect(back.environment.hugePages?.allHuge == true && back.environment.hugePages?.huge == 4)
        // The ranks' tallies as one: a rank that fell back makes the record say so, with why.
        let ranks = [HugePageBuffers(folder: "/dev/hugepages", huge: 2, pageBytes: 2 << 20),
                     HugePageBuffers(folder: "/dev/hugepages", huge: 1, ordinary: 1, reason: "cannot map")]
        let combined = try #require(HugePageBuffers.combined(ranks))
        #expect(combined.huge == 3 && combined.ordinary == 1 && combined.reason == "cannot map" && !combined.allHuge)
    }

    @Test func badValuesAreRefusedInOneLineThatSaysWhatToWrite() {
        var knobs = Knobs()
        #expect(problem { try knobs.set("turbo", to: "1") } == "unknown knob 'turbo'; knobs: cpu-limit, guaranteed, slots, mtu, seccomp, runtime, hugepages, pull")
        #expect(problem { try knobs.set("runtime", to: "kata") } == "runtime 'kata' is unknown; allowed: runc, crun")
        #expect(problem { try knobs.set("hugepages", to: "2Mi") } == "hugepages '2Mi' is not true or false")
        #expect(problem { try knobs.set("cpu-limit", to: "0") }?.hasPrefix("cpu-limit '0' is not a CPU count") == true)
        #expect(problem { try knobs.set("cpu-limit", to: "nan") } != nil)
        #expect(problem { try knobs.set("mtu", to: "1279") }?.hasPrefix("mtu '1279' must be a whole number from 1280 to 9000") == true)
        #expect(problem { try knobs.set("mtu", to: "9001") } != nil)
        #expect(problem { try knobs.set("slots", to: "0") } != nil)
        #expect(problem { try knobs.set("pull", to: "sometimes") } == "pull 'sometimes' is unknown; allowed: always, if-not-present, never")
        #expect(problem { try knobs.set("seccomp", to: "strict") } == "seccomp 'strict' is unknown; allowed: default, unconfined")
        #expect(problem { try knobs.set("guaranteed", to: "maybe") } != nil)
        #expect(knobs.isEmpty, "a refused value sets nothing")
        #expect(problem { try knobs.set("mtu", to: "1280") } == nil)
    }

    @Test func knobsAreCheckedTogetherAgainstTheMachineAndTheRanks() {
        #expect(problem { try Knobs(cpuLimit: 2).validate(cores: 2) } == nil)
        #expect(problem { try Knobs(cpuLimit: 2.5).validate(cores: 2) }?.hasPrefix("cpu-limit 2.5 is more than this machine's 2 CPU(s)") == true)
        #expect(problem { try Knobs(slots: 2).validate(cores: 2, ranks: 3) } == "slots 2 do not divide the 3 ranks: every pod runs the same number of ranks")
        #expect(problem { try Knobs(slots: 2).validate(cores: 2, ranks: 4) } == nil)
        #expect(problem { try Knobs(cpuLimit: 1, guaranteed: true).validate(cores: 2) } != nil)
        // Against the job's pods, as a suite file plans them and `pods up` makes them.
        #expect(problem { try Knobs(slots: 2).validate(cores: 2, ranks: 8, pods: 2) }
                == "slots 2 on 2 pod(s) hold 4 ranks, fewer than the 8 ranks: add pods (pods-per-node) or slots")
        #expect(problem { try Knobs(slots: 2).validate(cores: 2, ranks: 8, pods: 4) } == nil)
        #expect(problem { try Knobs(guaranteed: true).validate(cores: 2, ranks: 3, pods: 3) }
                == "guaranteed gives each pod a whole CPU of its own: 3 pods need 3 CPUs, and there are 2 here; use fewer pods (slots) or drop guaranteed")
        #expect(problem { try Knobs(guaranteed: true).validate(cores: 2, ranks: 2, pods: 2) } == nil)
        #expect(problem { try Knobs(guaranteed: true).validate(cores: 2, pods: 1, pinned: true) }
                == "guaranteed gives each pod CPUs of its own; drop cpuset and split-cpus (--cpuset, --split-cpus)")
        #expect(problem { try Knobs(cpuLimit: 1).validate(cores: 2, pods: 8, pinned: true) } == nil, "only guaranteed claims whole CPUs")
    }
}

extension KnobsTests {
    /// `pull: never` is today's behaviour: no knob at all, so its records pair with the unset ones.
    @Test func pullNeverIsNoKnob() throws {
        var knobs = Knobs()
        try knobs.set("pull", to: "never")
        #expect(knobs.isEmpty && knobs.pull == nil)
        try knobs.set("pull", to: "if-not-present")
        #expect(knobs.variable == "pull=if-not-present" && Knobs(variable: knobs.variable) == knobs)
        #expect(Knobs(pull: .never).isEmpty)
    }
}
