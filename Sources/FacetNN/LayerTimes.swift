import Dispatch
import Synchronization

/// Where a training step's time goes, layer by layer, for `facet bench train --profile` (what
/// PyTorch's profiler shows per operator): each timed part of a forward or backward pass adds
/// its wall time to its label's total. Off unless switched on; then a step pays one clock read
/// and one lock per part.
public enum LayerTimes {
    private static let on = Atomic<Bool>(false)
    private static let table = Mutex<[String: (calls: Int, nanoseconds: UInt64)]>([:])

    /// Starts the timing afresh (the totals emptied), or stops it (the totals kept).
    public static func enable(_ enabled: Bool) {
        if enabled { table.withLock { $0 = [:] } }
        on.store(enabled, ordering: .relaxed)
    }

    /// `body`, timed under `label` when timing is on.
    @inline(__always)
    public static func measure<R>(_ label: @autoclosure () -> String, _ body: () -> R) -> R {
        guard on.load(ordering: .relaxed) else { return body() }
        let start = DispatchTime.now().uptimeNanoseconds
        let result = body()
        let took = DispatchTime.now().uptimeNanoseconds - start, name = label()
        table.withLock { t in
            let was = t[name] ?? (0, 0)
            t[name] = (was.calls + 1, was.nanoseconds + took)
        }
        return result
    }

    /// The parts timed so far: label, calls and total seconds, the costliest first.
    public static var totals: [(label: String, calls: Int, seconds: Double)] {
        table.withLock { t in
            t.map { (label: $0.key, calls: $0.value.calls, seconds: Double($0.value.nanoseconds) / 1e9) }
                .sorted { ($0.seconds, $1.label) > ($1.seconds, $0.label) }
        }
    }
}
