import Foundation

/// Work that mostly waits on child processes (ip, the CNI plugins, runc) or on the kernel, run a
/// thread per item: Dispatch's concurrentPerform would run only as many at once as there are
/// cores (two here), so a third pod's start would wait for the first two.
enum Concurrently {
    /// `body` for 0 ..< count, all at once; the results in index order, or the first error by index.
    static func map<T>(_ count: Int, _ body: @escaping (Int) throws -> T) throws -> [T] {
        if count == 1 { return [try body(0)] }
        let results = ResultBox<T>(count: count)
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            Thread {
                results.set(index, Result { try body(index) })
                group.leave()
            }.start()
        }
        group.wait()
        return try results.values()
    }
}

/// One value worked out on a thread of its own while the caller goes on; `value` waits for it.
final class Pending<T>: @unchecked Sendable {
    private var result: T?
    private let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping () -> T) {
        Thread { [self] in
            result = body()
            done.signal()
        }.start()
    }

    /// The value, once it is there (the semaphore orders the write before this read).
    lazy var value: T = {
        done.wait()
        return result!
    }()
}

/// Results of concurrent work, one slot per index, guarded by a lock.
private final class ResultBox<T>: @unchecked Sendable {
    private var slots: [Result<T, Error>?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<T, Error>) {
        lock.lock()
        slots[index] = result
        lock.unlock()
    }

    func values() throws -> [T] {
        try slots.map { try $0!.get() }
    }
}
