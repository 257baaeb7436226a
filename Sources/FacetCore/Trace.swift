import Foundation
import Synchronization

/// Where a run's time goes, for people tuning facet: with `FACET_TRACE=1` in the environment each
/// `mark` prints the milliseconds since the previous mark (and since the first) to standard error.
/// Without it a mark is a load of a constant.
public enum Trace {
    public static let enabled = ProcessInfo.processInfo.environment["FACET_TRACE"].map { !$0.isEmpty && $0 != "0" } ?? false
    private static let last = Mutex<(start: Double, previous: Double)?>(nil)

    public static func mark(_ label: @autoclosure () -> String) {
        guard enabled else { return }
        let now = Date().timeIntervalSinceReferenceDate
        let (start, previous) = last.withLock { t in
            let was = t ?? (now, now)
            t = (was.start, now)
            return was
        }
        let line = String(format: "trace %8.1f ms  +%7.1f ms  ", (now - start) * 1000, (now - previous) * 1000) + label() + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
