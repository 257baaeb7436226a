import Dispatch

/// Timings for the benchmarks: one warm-up run, then `repeats` timed runs.
public enum Timing {
    /// The median seconds of `repeats` (at least one) runs of `body`, after one untimed run.
    public static func medianSeconds(repeats: Int, _ body: () -> Void) -> Double {
        var seconds: [Double] = []
        for run in 0...max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            if run > 0 { seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        }
        return seconds.sorted()[seconds.count / 2]
    }
}
