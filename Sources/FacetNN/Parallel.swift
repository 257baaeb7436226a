import Dispatch

/// Runs `body(i)` for i in 0..<n on all cores (the calling thread included), for loops whose
/// iterations write disjoint memory. BLAS is idle while these run, so cores are not oversubscribed.
@inline(__always)
func parallelFor(_ n: Int, _ body: (Int) -> Void) {
    if n <= 1 { for i in 0..<n { body(i) }; return }
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let body = body
        DispatchQueue.concurrentPerform(iterations: n) { body($0) }
    }
}

/// A raw pointer that may cross into `parallelFor`'s iterations (each touches its own part).
struct Shared<T>: @unchecked Sendable {
    let p: UnsafeMutablePointer<T>
    init(_ p: UnsafeMutablePointer<T>) { self.p = p }
    init(_ p: UnsafePointer<T>) { self.p = UnsafeMutablePointer(mutating: p) }
}
