import Foundation

/// The steps of one bucket's trip through host memory, as `StagedSchedule` drives them.
protocol StagingSteps: AnyObject {
    /// Queues the copy of bucket `index` from the device to host memory, behind the work that
    /// writes its gradients.
    func copyOut(_ index: Int) throws
    /// True once that copy has landed.
    func hasCopiedOut(_ index: Int) throws -> Bool
    /// Starts summing the bucket in host memory over every rank (non-blocking).
    func startReduction(_ index: Int) throws
    /// Drives the reductions in flight; true once bucket `index`'s has completed.
    func hasReduced(_ index: Int) throws -> Bool
    /// Queues the copy of the summed bucket back to the device.
    func copyIn(_ index: Int) throws
    /// Blocks until every copy back has landed.
    func waitForCopiesIn() throws
}

/// The schedule of the staged reduction: per bucket, copy out, allreduce in host memory, copy
/// in; buckets in flight at once, each at its own stage, so that one bucket's copy overlaps
/// another's reduction and the backward pass still running on the device. Written apart from CUDA
/// and MPI so that its ordering can be tested without either.
///
/// Collectives must be started in the same order on every rank, whatever order the copies finish
/// in: a bucket's reduction starts only after those of every bucket started before it.
final class StagedSchedule {
    enum Stage: Equatable { case copyingOut, reducing, copyingIn }

    private let steps: any StagingSteps
    /// Buckets started this step, in order, with their stage.
    private(set) var started: [(bucket: Int, stage: Stage)] = []
    /// How many of `started` have had their reduction started: a prefix.
    private var reductionsStarted = 0
    /// The longest a step may wait for its reductions before giving up.
    let deadline: Double

    init(steps: any StagingSteps, deadline: Double = 600) {
        self.steps = steps
        self.deadline = deadline
    }

    func start(_ bucket: Int) throws {
        try steps.copyOut(bucket)
        started.append((bucket, .copyingOut))
        try advance()
    }

    /// Moves every bucket on as far as it can go without blocking.
    func advance() throws {
        // Reductions start in start order, each once its copy has landed.
        while reductionsStarted < started.count, try steps.hasCopiedOut(started[reductionsStarted].bucket) {
            try steps.startReduction(started[reductionsStarted].bucket)
            started[reductionsStarted].stage = .reducing
            reductionsStarted += 1
        }
        for index in 0..<reductionsStarted where started[index].stage == .reducing {
            if try steps.hasReduced(started[index].bucket) {
                try steps.copyIn(started[index].bucket)
                started[index].stage = .copyingIn
            }
        }
    }

    /// Blocks until every started bucket is back on the device, then starts afresh.
    func finish() throws {
        let giveUp = Date().addingTimeInterval(deadline)
        while started.contains(where: { $0.stage != .copyingIn }) {
            try advance()
            if Date() > giveUp {
                throw StepFailure("the staged gradient reduction did not complete in \(Int(deadline)) s: a peer rank may have stopped")
            }
        }
        try steps.waitForCopiesIn()
        started.removeAll(keepingCapacity: true)
        reductionsStarted = 0
    }
}
