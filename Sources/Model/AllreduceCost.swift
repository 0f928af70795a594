/// How an allreduce of one bucket is carried out across `gpus` ranks placed `perNode` to a node.
public enum AllreduceAlgorithm: String, CaseIterable, Sendable {
    /// One ring through every rank (NCCL's ring, Horovod over MPI): 2(n-1) steps of m/n bytes,
    /// each step as slow as the slowest link in the ring, which is inter-node once nodes > 1.
    case ring
    /// Reduce-scatter inside the node, allreduce of the node's 1/g share across nodes (the g
    /// local ranks in parallel, sharing the node's link), allgather inside the node
    /// (HOROVOD_HIERARCHICAL_ALLREDUCE; NCCL's intra-node rings feeding the network).
    case hierarchical
    /// NCCL's double binary tree (2.4 and later): chain inside the node, trees across nodes,
    /// pipelined, so latency grows with log2(nodes) and every link carries m bytes once each way.
    case tree
    /// Reduce to rank 0 up a binomial tree, then broadcast back down: 2 ceil(log2 n) rounds, each
    /// carrying the whole message. Open MPI's libnbc runs every in-place MPI_Iallreduce this way
    /// (and any under 4 ranks or 64 KiB), which is what `podgap run train` calls. Never picked by
    /// `auto`: only when the profile names it.
    case binomial
}

/// The cost of one allreduce on a topology.
public struct AllreduceCost: Equatable, Sendable {
    public var algorithm: AllreduceAlgorithm
    public var seconds: Double
}

/// Allreduce costs from the intra- and inter-node links.
public struct ClusterTopology: Equatable, Sendable {
    public var gpus: Int
    public var perNode: Int
    public var intraNode: Link
    public var interNode: Link
    /// One-way links (ping-pong) for the binomial tree's rounds, where measured.
    public var intraNodeOneWay: Link?
    public var interNodeOneWay: Link?
    /// Local float32 sum speed, bytes per second: added to the reduce rounds costed on one-way links.
    public var reduceBytesPerSecond: Double?

    public init(gpus: Int, perNode: Int, intraNode: Link, interNode: Link, intraNodeOneWay: Link? = nil, interNodeOneWay: Link? = nil,
                reduceBytesPerSecond: Double? = nil) {
        self.gpus = gpus; self.perNode = perNode; self.intraNode = intraNode; self.interNode = interNode
        self.intraNodeOneWay = intraNodeOneWay; self.interNodeOneWay = interNodeOneWay
        self.reduceBytesPerSecond = reduceBytesPerSecond
    }

    public var nodes: Int { (gpus + perNode - 1) / perNode }
    /// Ranks per node on the busiest node (the last node may be partly filled; the full ones set the pace).
    public var local: Int { min(gpus, perNode) }

    /// The algorithms that make sense here and what each costs.
    public func costs(bytes m: Double) -> [AllreduceCost] {
        let n = gpus, g = local, N = nodes
        guard n > 1 else { return [AllreduceCost(algorithm: .ring, seconds: 0)] }
        if N == 1 {
            return [AllreduceCost(algorithm: .ring, seconds: intraNode.time(steps: 2 * (n - 1), bytes: m / Double(n)))]
        }
        var costs: [AllreduceCost] = []
        // Flat ring: each of its 2(n-1) steps waits for the inter-node hop.
        costs.append(AllreduceCost(algorithm: .ring, seconds: interNode.time(steps: 2 * (n - 1), bytes: m / Double(n))))
        // Hierarchical: the g local ranks each run an N-rank ring on m/g bytes at once through the
        // same node link, so each step moves g pieces of m/(g N) bytes: time per step as one
        // message of m/N bytes.
        let intra = g > 1 ? intraNode.time(steps: 2 * (g - 1), bytes: m / Double(g)) : 0
        costs.append(AllreduceCost(algorithm: .hierarchical, seconds: intra + interNode.time(steps: 2 * (N - 1), bytes: m / Double(N))))
        // Tree: reduce up and broadcast down, pipelined; the latency is paid per level, the bytes
        // once per direction on the slowest stage.
        let levels = ceilLog2(N)
        let latency = 2 * (Double(levels) * interNode.regime(bytes: m).alpha + Double(g - 1) * intraNode.regime(bytes: m).alpha)
        let slowest = max(interNode.regime(bytes: m).beta, g > 1 ? intraNode.regime(bytes: m).beta : 0)
        costs.append(AllreduceCost(algorithm: .tree, seconds: latency + m * slowest))
        return costs
    }

    /// What NCCL's tuner and Horovod would pick: the cheapest predicted algorithm.
    public func best(bytes: Double) -> AllreduceCost {
        costs(bytes: bytes).min { $0.seconds < $1.seconds }!
    }

    /// The cost of `algorithm`, or of the cheapest when nil; binomial is costed on its own.
    public func cost(_ algorithm: AllreduceAlgorithm?, bytes m: Double) -> AllreduceCost {
        guard let algorithm else { return best(bytes: m) }
        if algorithm == .binomial {
            guard gpus > 1 else { return AllreduceCost(algorithm: .binomial, seconds: 0) }
            // The rounds that pair ranks on different nodes are the top ceil(log2 N) of the tree
            // when ranks fill nodes in order; the rest stay inside a node.
            // Each round is one message one way while its partner only receives: a ping-pong's
            // half round trip where one was measured.
            let rounds = ceilLog2(gpus), crossing = min(rounds, ceilLog2(nodes))
            let intra = intraNodeOneWay ?? intraNode, inter = interNodeOneWay ?? interNode
            let oneWay = Double(rounds - crossing) * intra.time(bytes: m) + Double(crossing) * inter.time(bytes: m)
            // A ping-pong carries no arithmetic: each reduce round's receiver still sums the m
            // bytes it got (an allreduce fit has that inside its bandwidth already).
            let summing = (intraNodeOneWay == nil ? 0 : Double(rounds - crossing)) + (interNodeOneWay == nil ? 0 : Double(crossing))
            let arithmetic = reduceBytesPerSecond.map { summing * m / $0 } ?? 0
            return AllreduceCost(algorithm: .binomial, seconds: 2 * oneWay + arithmetic)
        }
        return costs(bytes: m).first { $0.algorithm == algorithm } ?? best(bytes: m)
    }

    private func ceilLog2(_ value: Int) -> Int {
        var levels = 0, reach = 1
        while reach < value { reach *= 2; levels += 1 }
        return levels
    }
}
