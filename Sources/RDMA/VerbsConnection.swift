import CVerbs
import Foundation

/// Memory registered with the adapter: page-aligned, zeroed, readable and writable by the peer.
final class Region {
    let base: UnsafeMutableRawPointer
    let length: Int
    private let memory: UnsafeMutablePointer<ibv_mr>

    init(protectionDomain: UnsafeMutablePointer<ibv_pd>, length: Int) throws {
        var pointer: UnsafeMutableRawPointer?
        guard posix_memalign(&pointer, 4096, length) == 0, let pointer else {
            throw RDMAError.verbs(call: "posix_memalign(\(length))", reason: "out of memory")
        }
        memset(pointer, 0, length)
        let access = IBV_ACCESS_LOCAL_WRITE.rawValue | IBV_ACCESS_REMOTE_WRITE.rawValue | IBV_ACCESS_REMOTE_READ.rawValue
        guard let memory = cverbs_reg_mr(protectionDomain, pointer, length, Int32(access)) else {
            let reason = String(cString: strerror(errno))
            free(pointer)
            throw RDMAError.verbs(call: "ibv_reg_mr(\(length) bytes)",
                                  reason: "\(reason) (is the memlock limit too low? `ulimit -l unlimited`, or CAP_IPC_LOCK in a container)")
        }
        self.base = pointer
        self.length = length
        self.memory = memory
    }

    var localKey: UInt32 { memory.pointee.lkey }
    var remoteKey: UInt32 { memory.pointee.rkey }
    func address(_ offset: Int) -> UInt64 { UInt64(UInt(bitPattern: base + offset)) }

    deinit {
        ibv_dereg_mr(memory)
        free(base)
    }
}

/// Monotonic seconds, the clock every verbs timing uses.
enum Clock {
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }
}

/// One reliable-connected queue pair set up through librdmacm's synchronous endpoint calls
/// (rdma_getaddrinfo, rdma_create_ep, then rdma_listen + rdma_get_request + rdma_accept or
/// rdma_connect), as perftest's `-R` mode does. Completion queues are busy-polled: latency is
/// what is measured, and an interrupt per completion would be most of it.
final class VerbsConnection {
    let id: UnsafeMutablePointer<rdma_cm_id>
    private let listener: UnsafeMutablePointer<rdma_cm_id>?
    /// Largest message the send queue copies inline (no DMA read of the buffer): lower latency.
    let maxInline: UInt32
    /// Send queue depth: the bandwidth window cannot exceed it.
    static let sendDepth: UInt32 = 256
    /// When every wait gives up (monotonic seconds).
    let deadline: Double
    /// Regions are deregistered before the queue pair and id go, in deinit.
    private var regions: [Region] = []

    /// Waits for one client on `address` (all addresses when nil) and `port`, and accepts it
    /// after `beforeAccepting` has posted the first receives; `listening` runs once the port is open.
    init(listeningOn address: String?, port: Int, deadline: Double, listening: () -> Void,
         beforeAccepting: (VerbsConnection) throws -> Void) throws {
        self.deadline = deadline
        let passive = try VerbsConnection.createEndpoint(address, port: port, passive: true,
                                                         purpose: "listening on \(address ?? "*"):\(port)")
        guard rdma_listen(passive, 1) == 0 else {
            let error = VerbsConnection.failure("rdma_listen on \(address ?? "*"):\(port)")
            rdma_destroy_ep(passive)
            throw error
        }
        listening()
        var accepted: UnsafeMutablePointer<rdma_cm_id>?
        guard rdma_get_request(passive, &accepted) == 0, let accepted, accepted.pointee.qp != nil else {
            let error = VerbsConnection.failure("rdma_get_request")
            if let accepted { rdma_destroy_ep(accepted) }
            rdma_destroy_ep(passive)
            throw error
        }
        self.listener = passive
        self.id = accepted
        self.maxInline = VerbsConnection.inlineLimit(of: accepted)
        try beforeAccepting(self)
        var parameters = VerbsConnection.connectionParameters()
        guard rdma_accept(accepted, &parameters) == 0 else { throw VerbsConnection.failure("rdma_accept") }
    }

    /// Connects to a listening server; `beforeConnecting` posts the first receives.
    init(connectingTo address: String, port: Int, deadline: Double,
         beforeConnecting: (VerbsConnection) throws -> Void) throws {
        self.deadline = deadline
        let created = try VerbsConnection.createEndpoint(address, port: port, passive: false,
            purpose: "resolving \(address):\(port) to an RDMA port: is it an IPoIB or RoCE interface address?")
        self.listener = nil
        self.id = created
        self.maxInline = VerbsConnection.inlineLimit(of: created)
        try beforeConnecting(self)
        var parameters = VerbsConnection.connectionParameters()
        guard rdma_connect(created, &parameters) == 0 else {
            throw VerbsConnection.failure("rdma_connect to \(address):\(port) (start the server side first: the same command without --connect)")
        }
    }

    deinit {
        rdma_disconnect(id)
        regions.removeAll()
        rdma_destroy_ep(id)
        if let listener { rdma_destroy_ep(listener) }
    }

    /// The adapter and port the connection runs over.
    var deviceName: String { id.pointee.verbs.map { String(cString: ibv_get_device_name($0.pointee.device)) } ?? "unknown" }
    var portNumber: Int { Int(id.pointee.port_num) }

    func register(length: Int) throws -> Region {
        guard let domain = id.pointee.pd else { throw RDMAError.verbs(call: "rdma_cm_id.pd", reason: "no protection domain") }
        let region = try Region(protectionDomain: domain, length: length)
        regions.append(region)
        return region
    }

    // MARK: - Work requests

    func postReceive(_ region: Region, offset: Int = 0, length: Int, tag: UInt64 = 0) throws {
        var element = ibv_sge(addr: region.address(offset), length: UInt32(length), lkey: region.localKey)
        var request = ibv_recv_wr()
        request.wr_id = tag
        request.num_sge = 1
        var bad: UnsafeMutablePointer<ibv_recv_wr>?
        let status = withUnsafeMutablePointer(to: &element) { pointer -> Int32 in
            request.sg_list = pointer
            return ibv_post_recv(id.pointee.qp, &request, &bad)
        }
        guard status == 0 else { throw RDMAError.verbs(call: "ibv_post_recv", reason: String(cString: strerror(status))) }
    }

    /// Posts a signalled send (or RDMA write when `remote` is given) of `length` bytes.
    func postSend(_ region: Region, offset: Int = 0, length: Int, remote: (address: UInt64, key: UInt32)? = nil,
                  tag: UInt64 = 0) throws {
        var element = ibv_sge(addr: region.address(offset), length: UInt32(length), lkey: region.localKey)
        var request = ibv_send_wr()
        request.wr_id = tag
        request.num_sge = 1
        request.opcode = remote == nil ? IBV_WR_SEND : IBV_WR_RDMA_WRITE
        request.send_flags = IBV_SEND_SIGNALED.rawValue | (length <= Int(maxInline) ? IBV_SEND_INLINE.rawValue : 0)
        if let remote {
            request.wr.rdma.remote_addr = remote.address
            request.wr.rdma.rkey = remote.key
        }
        var bad: UnsafeMutablePointer<ibv_send_wr>?
        let status = withUnsafeMutablePointer(to: &element) { pointer -> Int32 in
            request.sg_list = pointer
            return ibv_post_send(id.pointee.qp, &request, &bad)
        }
        guard status == 0 else { throw RDMAError.verbs(call: "ibv_post_send", reason: String(cString: strerror(status))) }
    }

    /// Busy-polls the send queue's completions until one arrives; returns how many (1 ... max).
    func awaitSends(max: Int = 1) throws -> Int { try awaitCompletions(id.pointee.send_cq, max: max, what: "send") }

    /// Busy-polls for one receive completion and returns the bytes received.
    func awaitReceive() throws -> Int {
        var completion = ibv_wc()
        _ = try poll(id.pointee.recv_cq, into: &completion, count: 1, what: "receive")
        return Int(completion.byte_len)
    }

    private func awaitCompletions(_ queue: UnsafeMutablePointer<ibv_cq>?, max: Int, what: String) throws -> Int {
        var completions = [ibv_wc](repeating: ibv_wc(), count: max)
        return try completions.withUnsafeMutableBufferPointer { buffer in
            try poll(queue, into: buffer.baseAddress!, count: max, what: what)
        }
    }

    private func poll(_ queue: UnsafeMutablePointer<ibv_cq>?, into completions: UnsafeMutablePointer<ibv_wc>,
                      count: Int, what: String) throws -> Int {
        guard let queue else { throw RDMAError.verbs(call: "ibv_poll_cq", reason: "the \(what) completion queue is missing") }
        var spins = 0
        while true {
            let found = ibv_poll_cq(queue, Int32(count), completions)
            if found < 0 { throw RDMAError.verbs(call: "ibv_poll_cq (\(what))", reason: "returned \(found)") }
            if found > 0 {
                for index in 0..<Int(found) where completions[index].status != IBV_WC_SUCCESS {
                    throw RDMAError.verbs(call: "\(what) work request",
                                          reason: String(cString: ibv_wc_status_str(completions[index].status))
                                              + " (the peer may have gone away)")
                }
                return Int(found)
            }
            spins += 1
            if spins & 0xfff == 0 && Clock.now() > deadline { throw RDMAError.timedOut("waiting for a \(what) completion") }
        }
    }

    // MARK: - Control messages

    /// Sends a control message from the control region's send slot and waits until it is out.
    func send(_ message: ControlMessage, through control: Region) throws {
        message.write(to: control.base + ControlMessage.sendOffset)
        try postSend(control, offset: ControlMessage.sendOffset, length: ControlMessage.size)
        _ = try awaitSends()
    }

    /// Posts the receive for the next control message.
    func expectControl(into control: Region) throws {
        try postReceive(control, offset: ControlMessage.receiveOffset, length: ControlMessage.size)
    }

    /// Waits for the control message whose receive was posted last.
    func receiveControl(from control: Region) throws -> ControlMessage {
        let length = try awaitReceive()
        guard length == ControlMessage.size else {
            throw RDMAError.protocolViolation("expected a \(ControlMessage.size)-byte control message, got \(length) bytes")
        }
        return try ControlMessage(reading: control.base + ControlMessage.receiveOffset)
    }

    // MARK: - Setup helpers

    private static func queuePairAttributes() -> ibv_qp_init_attr {
        var attributes = ibv_qp_init_attr()
        attributes.qp_type = IBV_QPT_RC
        attributes.sq_sig_all = 0
        attributes.cap.max_send_wr = sendDepth
        attributes.cap.max_recv_wr = 16
        attributes.cap.max_send_sge = 1
        attributes.cap.max_recv_sge = 1
        attributes.cap.max_inline_data = 64
        return attributes
    }

    /// Retries without limit on receiver-not-ready and 7 times on transport errors, as perftest does.
    private static func connectionParameters() -> rdma_conn_param {
        var parameters = rdma_conn_param()
        parameters.responder_resources = 1
        parameters.initiator_depth = 1
        parameters.retry_count = 7
        parameters.rnr_retry_count = 7
        return parameters
    }

    private static func inlineLimit(of id: UnsafeMutablePointer<rdma_cm_id>) -> UInt32 {
        var attributes = ibv_qp_attr()
        var initial = ibv_qp_init_attr()
        guard let queuePair = id.pointee.qp,
              ibv_query_qp(queuePair, &attributes, Int32(IBV_QP_CAP.rawValue), &initial) == 0 else { return 0 }
        return attributes.cap.max_inline_data
    }

    /// Resolves `address` and creates the endpoint with its queue pair; `purpose` completes the
    /// "rdma_create_ep (...)" failure.
    private static func createEndpoint(_ address: String?, port: Int, passive: Bool,
                                       purpose: @autoclosure () -> String) throws -> UnsafeMutablePointer<rdma_cm_id> {
        var attributes = queuePairAttributes()
        let info = try resolve(address, port: port, passive: passive)
        defer { rdma_freeaddrinfo(info) }
        var endpoint: UnsafeMutablePointer<rdma_cm_id>?
        guard rdma_create_ep(&endpoint, info, nil, &attributes) == 0, let endpoint else {
            throw failure("rdma_create_ep (\(purpose()))")
        }
        return endpoint
    }

    private static func resolve(_ address: String?, port: Int, passive: Bool) throws -> UnsafeMutablePointer<rdma_addrinfo> {
        var hints = rdma_addrinfo()
        hints.ai_port_space = Int32(RDMA_PS_TCP.rawValue)
        if passive { hints.ai_flags = RAI_PASSIVE }
        // Without an address the wildcard is IPv4's, as IPoIB and RoCE interfaces are addressed.
        if address == nil { hints.ai_family = AF_INET }
        var info: UnsafeMutablePointer<rdma_addrinfo>?
        let status = rdma_getaddrinfo(address, String(port), &hints, &info)
        guard status == 0, let info else {
            throw RDMAError.verbs(call: "rdma_getaddrinfo(\(address ?? "*"), \(port))",
                                  reason: "\(String(cString: strerror(errno))): the address must belong to an RDMA interface (IPoIB or RoCE)")
        }
        return info
    }

    private static func failure(_ call: String) -> RDMAError {
        .verbs(call: call, reason: String(cString: strerror(errno)))
    }
}
