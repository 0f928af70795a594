import Testing
import Records
@testable import Runner

/// The probe still measures after its scratch moved to mappings of its own (PageBuffer).
@Suite struct MachineProbeTests {
    @Test func theProbeMeasuresBothRates() throws {
        let probe = try MachineProbe.measure()
        #expect(probe.sumGBps > 0)
        #expect(probe.gemmGflops > 0)
        #expect(probe.seconds > 0)
    }
}
