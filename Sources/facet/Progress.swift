import FacetCore
import Foundation
import Synchronization

/// Progress on standard error: a live "count/total, rate, ETA" line on a terminal, and
/// a plain line per tenth of the work elsewhere (logs, CI). Safe to call from any thread.
final class Progress: Sendable {
    private struct State { var lastDraw: Double = 0; var lastTenth = -1; var done = 0; var total = 0 }
    private let label: String
    private let unit: String
    private let start = Date()
    private let terminal = isatty(STDERR_FILENO) == 1
    private let state = Mutex(State())

    init(label: String, unit: String) {
        self.label = label
        self.unit = unit
    }

    func update(_ done: Int, of total: Int) {
        let elapsed = Date().timeIntervalSince(start)
        let line: String? = state.withLock { s in
            s.done = max(s.done, done)
            s.total = total
            if terminal {
                guard elapsed - s.lastDraw >= 0.1 || done == total else { return nil }
                s.lastDraw = elapsed
                return "\r" + describe(s.done, total, elapsed) + "\u{1B}[K"
            }
            let tenth = total > 0 ? s.done * 10 / total : 10
            guard tenth > s.lastTenth else { return nil }
            s.lastTenth = tenth
            return describe(s.done, total, elapsed) + "\n"
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }

    func finish() {
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    private func describe(_ done: Int, _ total: Int, _ elapsed: Double) -> String {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        return String(format: "%@: %d/%d %@, %.1f/s, ETA %@", label, done, total, unit, rate, clockText(eta))
    }
}

/// One status line that changes often (training's batches): live on standard error when it is a
/// terminal, redrawn at most ten times a second; elsewhere a plain line every `every` seconds, so
/// a log or `| tee` gets one now and then, never a flood. `clear()` before printing other lines.
final class LiveLine: Sendable {
    private struct State { var lastDraw = -1e9; var drawn = false }
    private let terminal = isatty(STDERR_FILENO) == 1
    private let start = Date()
    private let every: Double
    private let state = Mutex(State())

    init(every: Double = 10) { self.every = every }

    func show(_ text: String) {
        let now = Date().timeIntervalSince(start)
        let out: String? = state.withLock { s in
            guard now - s.lastDraw >= (terminal ? 0.1 : every) else { return nil }
            s.lastDraw = now
            s.drawn = terminal
            return terminal ? "\r" + text + "\u{1B}[K" : text + "\n"
        }
        if let out { FileHandle.standardError.write(Data(out.utf8)) }
    }

    func clear() {
        let wasDrawn = state.withLock { s in defer { s.drawn = false }; return s.drawn }
        if wasDrawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
