import Dispatch

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
