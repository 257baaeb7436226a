import FacetCore
import FacetData
import FacetImage
import FacetLearn
import FacetNN
import Foundation

/// What happened to one stage in a run.
public struct StageOutcome: Sendable {
    public enum State: String, Sendable { case ran, fresh }
    public var stage: StageKind
    public var state: State
    /// One line for people: counts, and how much came from caches.
    public var note: String
    /// Photos processed from scratch: decoded by ingest, rendered by augment (0 for the record stages).
    public var work = 0
}

/// How a run reports: one line per event, and a progress callback per long step.
public struct RunEvents: Sendable {
    public var line: @Sendable (String) -> Void
    public var progress: @Sendable (String) -> (@Sendable (Int, Int) -> Void)?
    /// A status that changes often and is not kept (training's batches).
    public var status: @Sendable (String) -> Void
    public init(line: @escaping @Sendable (String) -> Void = { _ in },
                progress: @escaping @Sendable (String) -> (@Sendable (Int, Int) -> Void)? = { _ in nil },
                status: @escaping @Sendable (String) -> Void = { _ in }) {
        self.line = line
        self.progress = progress
        self.status = status
    }
}

extension Pipeline {
    /// Runs the stages that are not fresh, in order, each recorded in the lock file as soon as it
    /// completes. `until`: only that stage and those it reads from. `force`: these run even when
    /// fresh, without their per-photo caches. Holds the workspace's run lock throughout.
    public func run(until: StageKind? = nil, force: Set<StageKind> = [], events: RunEvents = RunEvents()) throws -> [StageOutcome] {
        Heap.configure
        let fm = FileManager.default
        try fm.createDirectory(atPath: manifest.workspace, withIntermediateDirectories: true)
        let runLock = try RunLock(workspace: manifest.workspace)
        defer { withExtendedLifetime(runLock) {} }
        var lock = try LockFile.read(manifest.lock) ?? LockFile(pipeline: manifest.name)
        Trace.mark("run lock taken, lock file read")
        if lock.pipeline != manifest.name { lock = LockFile(pipeline: manifest.name) }
        // JSON does not tell 2.0 from 2: take the manifest's own form of parameters that are equal.
        for (kind, params) in manifest.stages where lock.stages[kind.rawValue]?.params.changes(from: params.canonical).isEmpty == true {
            lock.stages[kind.rawValue]!.params = params.canonical
        }
        let present = Set(manifest.stages.keys)
        let selected = until.map { StageGraph.ancestors(of: $0, in: present) } ?? present
        var outputs: [StageKind: [String: String]] = [:]
        var outcomes: [StageOutcome] = []
        let memo = Memo(store: store)
        // `WORKSPACE/manifest.jsonl` follows the last records stage: written on another thread
        // while the stages after it run, and waited for before the run ends (or throws).
        let lastRecords = order.last { selected.contains($0) && StageKind.records.contains($0) }
        var records: Background<Void>?
        defer { _ = try? records?.wait() }
        for kind in order where selected.contains(kind) {
            defer {
                if kind == lastRecords, let h = outputs[kind]?["records"] {
                    let side = memo.handing(index: h)
                    let pipeline = self
                    records = Background { try pipeline.materializeRecords(h, memo: side) }
                }
            }
            let started = Date()
            func took() -> String { String(format: "%.2f s", Date().timeIntervalSince(started)) }
            let params = manifest.stages[kind]!
            let inputs = try inputs(kind, upstream: outputs, keepDump: { bytes, listing in
                (memo.fingerprint, memo.listing) = (bytes, listing)
                return try store.put(bytes)
            })!
            Trace.mark("\(kind.rawValue): inputs")
            let key = Pipeline.key(kind: kind, version: kind.version, params: params.canonical, inputs: inputs)
            let forced = force.contains(kind)
            if !forced, let entry = lock.stages[kind.rawValue], entry.key == key,
               entry.outputs.values.allSatisfy(store.has) {
                outputs[kind] = entry.outputs
                try params.stage.materialize(entry.outputs, previous: nil, self, memo: memo)
                outcomes.append(StageOutcome(stage: kind, state: .fresh, note: "fresh"))
                events.line("\(kind.rawValue): fresh (checked in \(took()))")
                continue
            }
            events.line("\(kind.rawValue): running")
            let previous = lock.stages[kind.rawValue]?.outputs
            let result = try params.stage.execute(StageRun(pipeline: self, kind: kind, parameters: params, inputs: inputs,
                                                           previous: forced ? nil : previous, force: forced, memo: memo, events: events))
            let made = result.outputs
            outputs[kind] = made
            lock.stages[kind.rawValue] = LockFile.Entry(key: key, version: kind.version, params: params.canonical, inputs: inputs, outputs: made)
            Trace.mark("\(kind.rawValue): executed")
            try params.stage.materialize(made, previous: previous, self, memo: memo)
            Trace.mark("\(kind.rawValue): materialized")
            try lock.write(manifest.lock)
            outcomes.append(StageOutcome(stage: kind, state: .ran, note: result.note, work: result.work))
            events.line("\(kind.rawValue): \(result.note) (\(took()))")
        }
        // Stages no longer in the manifest leave the lock file.
        let stale = lock.stages.keys.filter { StageKind(rawValue: $0).map { !present.contains($0) } ?? true }
        if !stale.isEmpty {
            for k in stale { lock.stages[k] = nil }
            try lock.write(manifest.lock)
        }
        try records?.wait()
        Trace.mark("manifest.jsonl")
        return outcomes
    }
}
