import Dispatch
import Synchronization

/// `body(i)` for i in 0..<count on all cores, in blocks of `block` indices (one task per block),
/// the results in index order. For independent items whose results are gathered: parses,
/// store reads, per-shard scans.
public func concurrentMap<T>(_ count: Int, block: Int = 1, _ body: (Int) -> T) -> [T] {
    var out = [T?](repeating: nil, count: count)
    withoutActuallyEscaping(body) { body in
        out.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let (out, body) = (out, body)
            DispatchQueue.concurrentPerform(iterations: (count + block - 1) / block) { b in
                for i in (b * block)..<min(count, (b + 1) * block) { out[i] = body(i) }
            }
        }
    }
    return out.map { $0! }
}

/// `body(i)` for every i in 0..<count on all cores (on the calling thread alone when `threads`
/// is 1), the results in index order; `progress` sees (done, count) after each item. Every item
/// runs even when one throws; then the first error thrown is rethrown. For items of real work
/// (a photo decoded, rendered, drawn), whose progress a person watches.
public func parallelMap<T, E: Error>(_ count: Int, threads: Int = 0, progress: ((Int, Int) -> Void)? = nil,
                                     _ body: (Int) throws(E) -> T) throws(E) -> [T] {
    let failure = Mutex<E?>(nil), done = Atomic<Int>(0)
    let out = withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let (body, progress) = (body, progress)
        let work = { (i: Int) -> T? in
            defer { progress?(done.add(1, ordering: .relaxed).newValue, count) }
            do throws(E) { return try body(i) } catch {
                failure.withLock { if $0 == nil { $0 = error } }
                return nil
            }
        }
        return threads == 1 ? (0..<count).map(work) : concurrentMap(count, work)
    }
    if let error = failure.withLock({ $0.take() }) { throw error }
    return out.map { $0! }
}
