@testable import Probes
import Records
import Testing

@Suite struct ContainerDetectionTests {
    @Test func podsTellTheirRanksTheConfinementThatApplied() {
        let container = Environment.detectContainer([
            "PODGAP_CONTAINER_RUNTIME": "runc", "PODGAP_CONTAINER_RUNTIME_VERSION": "1.1.5", "PODGAP_CONTAINER_ID": "demo-p0",
            "PODGAP_CONTAINER_SECCOMP": "podgap-default", "PODGAP_CONTAINER_USERNS": "1", "PODGAP_CONTAINER_PIDS_LIMIT": "4096",
        ])
        #expect(container == Environment.Container(runtime: "runc", version: "1.1.5", id: "demo-p0", seccomp: "podgap-default",
                                                   userNamespace: true, pidsLimit: 4096))
        // A runtime that says nothing of its confinement records nothing of it.
        let plain = Environment.detectContainer(["PODGAP_CONTAINER_RUNTIME": "runc", "PODGAP_CONTAINER_USERNS": "0"])
        #expect(plain?.seccomp == nil && plain?.userNamespace == false && plain?.pidsLimit == nil)
    }
}
