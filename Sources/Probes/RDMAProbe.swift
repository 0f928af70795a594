import Records
import Foundation
import RDMA

extension Environment {
    /// This node's RDMA devices as records carry them; empty where there are none. A listing
    /// that fails for another reason is recorded as one entry saying why, never dropped silently.
    static func rdmaDevices(discovery: Discovery = Discovery()) -> [JSONValue] {
        do {
            let devices = try discovery.devices()
            let data = try JSONEncoder().encode(devices)
            return try JSONDecoder().decode([JSONValue].self, from: data)
        } catch {
            return [.object(["error": .string("\(error)")])]
        }
    }
}
