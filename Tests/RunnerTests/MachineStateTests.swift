import Testing
@testable import Runner

/// The probe still measures after its scratch moved to mappings of its own (PageBuffer).
@Suite struct MachineStateTests {
    @Test func theProbeMeasuresBothRates() throws {
        let probe = try MachineState.measure()
        #expect(probe.sumGBps > 0)
        #expect(probe.gemmGflops > 0)
        #expect(probe.seconds > 0)
    }
}
