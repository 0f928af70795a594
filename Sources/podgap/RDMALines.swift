import Records
import Foundation
import RDMA

/// `podgap env`'s lines for the RDMA devices a record carries: one per port.
enum RDMALines {
    static func lines(_ values: [JSONValue]) -> [(String, String)] {
        values.flatMap { value -> [(String, String)] in
            guard let data = try? JSONEncoder().encode(value), let device = try? JSONDecoder().decode(Device.self, from: data) else {
                return [("rdma", value.description)]
            }
            return device.summaryLines.map { ("rdma \(device.name)", $0) }
        }
    }
}
