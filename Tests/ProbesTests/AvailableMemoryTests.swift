import Testing
@testable import Probes

@Suite struct AvailableMemoryTests {
    @Test func readsMemAvailableInBytes() {
        let meminfo = """
            MemTotal:       24542116 kB
            MemFree:         1181340 kB
            MemAvailable:   20480000 kB
            Buffers:          214520 kB
            """
        #expect(AvailableMemory.memAvailable(meminfo) == Int64(20_480_000) * 1024)
        #expect(AvailableMemory.memAvailable("MemTotal: 10 kB") == nil)
    }

    /// This machine's: some memory, from a named source.
    @Test func thisNodeHasSome() throws {
        let available = try #require(AvailableMemory.current())
        #expect(available.bytes > 0)
        #expect(["MemAvailable", "cgroup limit"].contains(available.source))
    }
}
