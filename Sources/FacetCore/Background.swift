import Dispatch

/// Work started now on another thread and waited for later: a step that needs nothing of what
/// runs meanwhile (the records manifest written while augment runs, the last run's dataset
/// manifests read while augment renders). `wait()` returns its result or throws its error.
public final class Background<T>: @unchecked Sendable {
    private var result: Result<T, any Error>?
    private let done = DispatchSemaphore(value: 0)

    /// Starts `body` on another thread. It must not touch what the caller uses meanwhile.
    public init(_ body: @escaping () throws -> T) {
        nonisolated(unsafe) let body = body
        DispatchQueue.global().async {
            self.result = Result { try body() }
            self.done.signal()
        }
    }

    /// Waits for the work (any number of times) and returns its result.
    public func wait() throws -> T {
        done.wait()
        done.signal()
        return try result!.get()
    }
}
