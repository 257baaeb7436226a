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
    public init(line: @escaping @Sendable (String) -> Void = { _ in },
                progress: @escaping @Sendable (String) -> (@Sendable (Int, Int) -> Void)? = { _ in nil }) {
        self.line = line
        self.progress = progress
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
                    nonisolated(unsafe) let pipeline = self
                    records = Background { try pipeline.materializeRecords(h, memo: side) }
                }
            }
            let started = Date()
            func took() -> String { String(format: "%.2f s", Date().timeIntervalSince(started)) }
            let params = manifest.stages[kind]!
            let inputs = try inputs(kind, upstream: outputs, dumpHash: {
                let bytes = try dumpFingerprint { memo.listing = $0 }
                memo.fingerprint = bytes
                return try store.put(bytes)
            })!
            Trace.mark("\(kind.rawValue): inputs")
            let key = Pipeline.key(kind: kind, version: kind.version, params: params.canonical, inputs: inputs)
            if !force.contains(kind), let entry = lock.stages[kind.rawValue], entry.key == key,
               entry.outputs.values.allSatisfy(store.has) {
                outputs[kind] = entry.outputs
                try materialize(kind, entry.outputs, previous: nil, memo: memo)
                outcomes.append(StageOutcome(stage: kind, state: .fresh, note: "fresh"))
                events.line("\(kind.rawValue): fresh (checked in \(took()))")
                continue
            }
            events.line("\(kind.rawValue): running")
            let previous = lock.stages[kind.rawValue]?.outputs
            let (made, note, work) = try execute(kind, params, inputs: inputs, previous: previous, force: force.contains(kind),
                                                 memo: memo, events: events)
            outputs[kind] = made
            lock.stages[kind.rawValue] = LockFile.Entry(key: key, version: kind.version, params: params.canonical, inputs: inputs, outputs: made)
            Trace.mark("\(kind.rawValue): executed")
            try materialize(kind, made, previous: previous, memo: memo)
            Trace.mark("\(kind.rawValue): materialized")
            try lock.write(manifest.lock)
            outcomes.append(StageOutcome(stage: kind, state: .ran, note: note, work: work))
            events.line("\(kind.rawValue): \(note) (\(took()))")
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

    /// Runs one stage from its inputs in the store; returns its outputs' hashes and a note.
    /// `previous`: the outputs of the stage's last run, which a stage may bring up to date.
    func execute(_ kind: StageKind, _ params: StageParameters, inputs: [String: String], previous: [String: String]?,
                 force: Bool, memo: Memo, events: RunEvents) throws -> ([String: String], String, Int) {
        switch params.options {
        case .ingest(let o):
            return try executeIngest(o, params, inputs: inputs, force: force, memo: memo, events: events)
        case .tag(let thresholds, let overrides):
            return try executeTag(thresholds, overrides: overrides, params, inputs: inputs, force: force, memo: memo)
        case .label(let o):
            return try executeLabel(o, params, inputs: inputs, force: force, memo: memo, events: events)
        case .split(let o):
            return try executeSplit(o, params, inputs: inputs, force: force, memo: memo, events: events)
        case .train(let t):
            return try executeTrain(t, inputs: inputs, force: force, memo: memo, events: events)
        case .evaluate(let slices):
            return try executeEvaluate(slices: slices, inputs: inputs, memo: memo, events: events)
        case .report(let thumbnails):
            return try executeReport(thumbnails: thumbnails, inputs: inputs, memo: memo)
        case .augment(let o):
            return try executeAugment(o, params, inputs: inputs, previous: force ? nil : previous, force: force, memo: memo, events: events)
        }
    }

    /// The ingest summary without the counts of files decoded and reused: those say what the
    /// cache held, not what the dump holds, and would make a resumed run's outputs differ.
    static func dataOnly(_ s: IngestSummary) throws -> [String: Value] {
        var v = try JSONDecoder().decode([String: Value].self, from: JSONEncoder().encode(s))
        v["decoded"] = nil
        v["reused"] = nil
        return v
    }

    /// Makes the workspace show a stage's outputs where `facet audit` and people look for them.
    /// `previous`: the outputs of the stage's run before this one, when it ran now.
    func materialize(_ kind: StageKind, _ outputs: [String: String], previous: [String: String]?, memo: Memo) throws {
        let w = manifest.workspace
        switch kind {
        case .ingest:
            try copyIfChanged(outputs["quarantine"]!, to: Workspace.quarantine(w))
            try copyIfChanged(outputs["duplicates"]!, to: Workspace.duplicates(w))
            try copyIfChanged(outputs["summary"]!, to: Workspace.summary(w))
            if (try? Workspace.dump(w)) != manifest.source { try Ingest.writeInfo(dump: manifest.source, workspace: w) }
        case .label:
            try copyIfChanged(outputs["discarded"]!, to: Workspace.discarded(w))
        case .augment:
            try materializeDataset(outputs, previous: previous, memo: memo)
        case .train:
            try materializeModels(outputs)
        case .evaluate:
            try materializeEvaluation(outputs)
        case .report:
            try materializeReport(outputs)
        case .tag, .split:
            break
        }
    }

    /// `WORKSPACE/manifest.jsonl`: the records of index `h`, those of the last records stage
    /// (split, else label, tag, ingest).
    func materializeRecords(_ h: String, memo: Memo) throws {
        // Written from the index `h`, and not touched since (a stamp of its size and mtime): as it should be.
        let path = Workspace.manifest(manifest.workspace), stampPath = manifest.workspace + "/cache/manifest.stamp"
        /// The file's size and time, as its stamp holds them after the index's hash.
        func identity() -> String? {
            var st = stat()
            guard stat(path, &st) == 0 else { return nil }
            return "\t\(st.st_size)\t\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)\n"
        }
        let stamped = FileSystem.read(stampPath).map { String(decoding: $0, as: UTF8.self) }, now = identity()
        if let stamped, let now, stamped == h + now { return }
        // Written from an earlier index and not touched since: only the shards that changed are read.
        let was = stamped?.split(separator: "\t", maxSplits: 1).first.map(String.init)
        if let was, let now, stamped == was + now, let previous = FileSystem.read(path),
           let updated = try? updatedRecords(previous, from: was, to: h, memo: memo) {
            try writeIfChanged(updated, to: path)
        } else {
            // In order of source, as `facet ingest` writes it (the shards hold them by group).
            let shards = try store.get(try memo.index(h).map(\.hash))
            try writeIfChanged(try Shards.sortedLines(shards, by: "source").bytes, to: path)
        }
        if let written = identity() { try? CacheFile.write(Array((h + written).utf8), to: stampPath) }   // a stamp missing costs a compare
    }

    /// The records manifest `previous`, written from index `was`, brought up to index `now` from
    /// the shards that differ (nil when that cannot be vouched for; see `Shards.updatedLines`).
    func updatedRecords(_ previous: [UInt8], from was: String, to now: String, memo: Memo) throws -> [UInt8]? {
        let after = try memo.index(now).map(\.hash)
        let (gone, came) = Shards.changes(from: try memo.index(was).map(\.hash), to: after)
        return Shards.updatedLines(previous, removing: try store.get(gone), adding: try store.get(came.map { after[$0] }), by: "source")?.bytes
    }

    /// `WORKSPACE/dataset`: images hard-linked from the store, and the manifests. Left alone when
    /// its manifest matches and every image is there; brought up to date in place when it has a
    /// manifest (only the images that changed are touched, and when it holds the stage's previous
    /// dataset, only those of the shards that changed are read); otherwise built beside it and
    /// swapped in. Which manifest it holds: its stamp's, else the store object its manifest is a
    /// hard link of (as runs leave it), else the hash of its manifest's bytes.
    func materializeDataset(_ outputs: [String: String], previous: [String: String]?, memo: Memo) throws {
        let final = DatasetExport.folder(manifest.workspace)
        let fm = FileManager.default
        // Untouched since a run found it complete (its stamp): what it held then, it holds now.
        let stamped = DatasetStamp.read(manifest.workspace).flatMap { $0.matches(final) ? $0.manifestHash : nil }
        if stamped == outputs["manifest"] { return }
        // The last run's manifest object itself (a hard link of it, as runs leave it): its bytes, unread.
        let linked = stamped == nil ? previous?["manifest"].flatMap { sameFile(final + "/manifest.jsonl", store.path($0)) ? $0 : nil } : nil
        let current = stamped == nil && linked == nil ? FileSystem.read(final + "/manifest.jsonl") : nil
        let currentHash = stamped ?? linked ?? current.map(Store.hash)
        if currentHash == outputs["manifest"], let old = current.flatMap(Self.images(in:)),
           old.allSatisfy({ FileSystem.exists(final + "/" + $0.file) }) {
            try? DatasetStamp.take(final, manifestHash: currentHash!)?.write(manifest.workspace)
            return
        }
        unlink(DatasetStamp.path(manifest.workspace))
        if let previous, let currentHash, currentHash == previous["manifest"], let was = previous["index"], let now = outputs["index"],
           let before = try? memo.index(was), let after = try? memo.index(now) {
            // Unchanged shards hold the same images under the same names: only the others are compared.
            let (gone, came) = Shards.changes(from: before.map(\.hash), to: after.map(\.hash))
            let old = try store.get(gone).flatMap { Self.images(in: $0) ?? [] }
            let new = try store.get(came.map { after[$0].hash }).flatMap { Self.images(in: $0) ?? [] }
            return try updateDataset(final, from: old, to: new, outputs)
        }
        if let old = (current ?? FileSystem.read(final + "/manifest.jsonl")).flatMap(Self.images(in:)) {
            let made = try memo.dataset[outputs["manifest"]!]?.map { ($0.file, $0.id) } ?? Self.images(in: try store.get(outputs["manifest"]!)) ?? []
            return try updateDataset(final, from: old, to: made, outputs)
        }
        let made = try memo.dataset[outputs["manifest"]!] ?? store.lines(DatasetRecord.self, outputs["manifest"]!)
        let staging = final + ".tmp"
        try? fm.removeItem(atPath: staging)
        for folder in Set(made.map { ($0.file as NSString).deletingLastPathComponent }) {
            try fm.createDirectory(atPath: staging + "/" + folder, withIntermediateDirectories: true)
        }
        for r in made { try store.materialize(r.id, at: staging + "/" + r.file) }
        try store.materialize(outputs["manifest"]!, at: staging + "/manifest.jsonl")
        try store.materialize(outputs["csv"]!, at: staging + "/manifest.csv")
        try store.materialize(outputs["options"]!, at: staging + "/augment.json")
        try DatasetExport.swapIn(staging, as: final)
    }

    /// Whether two paths name the same file (one is a hard link of the other).
    func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    /// Updates a dataset folder in place, from the images `old` (what the folder holds, or the
    /// part of it that may change) to `new` (what that part should hold). Its manifest goes
    /// first — a folder without one is rebuilt whole by the next run, so a run killed here loses
    /// nothing — then images that changed or went, then new ones; folders left empty are removed
    /// (ImageFolder refuses an empty class); the manifests come last, each replaced by a rename.
    func updateDataset(_ final: String, from old: [(file: String, id: String)], to new: [(file: String, id: String)], _ outputs: [String: String]) throws {
        let fm = FileManager.default
        try fm.removeItem(atPath: final + "/manifest.jsonl")
        var had: [String: String] = [:]
        for e in old { had[e.file] = e.id }
        let wanted = Dictionary(new.map { ($0.file, $0.id) }) { a, _ in a }
        for (file, id) in had where wanted[file] != id { unlink(final + "/" + file) }
        var folders = Set<String>()
        for r in new where had[r.file] != r.id || !FileSystem.exists(final + "/" + r.file) {
            let folder = (r.file as NSString).deletingLastPathComponent
            if folders.insert(folder).inserted { try fm.createDirectory(atPath: final + "/" + folder, withIntermediateDirectories: true) }
            unlink(final + "/" + r.file)   // a stray file of that name would stop the link
            try store.materialize(r.id, at: final + "/" + r.file)
        }
        let emptied = Set(had.keys.filter { wanted[$0] == nil }.map { ($0 as NSString).deletingLastPathComponent })
        for folder in emptied.sorted(by: >) {
            var f = folder
            while !f.isEmpty, (try? fm.contentsOfDirectory(atPath: final + "/" + f))?.isEmpty == true {
                try fm.removeItem(atPath: final + "/" + f)
                f = (f as NSString).deletingLastPathComponent
            }
        }
        for (key, name) in [("csv", "manifest.csv"), ("options", "augment.json"), ("manifest", "manifest.jsonl")] {
            let temp = final + "/." + name + ".tmp"
            unlink(temp)
            try store.materialize(outputs[key]!, at: temp)
            guard rename(temp, final + "/" + name) == 0 else { throw DataError("\(final)/\(name): cannot replace it (errno \(errno))") }
            // A rename onto a hard link of the same file does nothing and leaves the temporary name.
            unlink(temp)
        }
    }

    /// The `file` and `id` of every line of a dataset manifest, the other members skipped (nil: a
    /// manifest that does not read).
    static func images(in manifest: [UInt8]) -> [(file: String, id: String)]? {
        (try? JSONLines.readLines(DatasetImage.self, manifest))?.map { ($0.file, $0.id) }
    }

    func copyIfChanged(_ hash: String, to path: String) throws {
        try writeIfChanged(try store.get(hash), to: path)
    }

    /// Not fsynced: these files are views of the store, compared with it (or with the stamp of
    /// what was written) on every run and written again when they differ, so a power cut that
    /// left one short costs a rewrite. An fsync each was up to a quarter of a second under load.
    func writeIfChanged(_ bytes: [UInt8], to path: String) throws {
        // Read to compare only when the sizes agree (a stat): a changed file is most often resized.
        var st = stat()
        if stat(path, &st) == 0, Int(st.st_size) == bytes.count, let old = FileSystem.read(path), old == bytes { return }
        try AtomicFile.write(bytes, to: path, durable: false)
    }
}

/// The records a run has in memory, by the hash of their shard in the store, and the shard
/// indexes it read or made, so a stage reads its upstream's records without decoding them again;
/// and the ingest thumbnails when ingest ran.
final class Memo {
    let store: Store
    private var shards: [String: [Record]] = [:]
    private var indexes: [String: [ShardRef]] = [:]
    /// The ingest thumbnail of a photo by its id, when ingest ran.
    var thumbs: ((String) -> Data?)?
    /// The dump's listing made for its fingerprint, which ingest reads rather than walk the dump again.
    var listing: DumpListing?
    /// The dump's fingerprint made in this run (the bytes of ingest's `dump` input).
    var fingerprint: [UInt8]?
    /// The dataset records the augment stage made in this run, by the hash of their manifest.
    var dataset: [String: [DatasetRecord]] = [:]
    /// The decoded dataset images, with the hash of the manifest they were read for.
    var images: (String, ImageDataset)?

    init(store: Store) { self.store = store }

    /// Stores `records` as shards and their index; returns the index's hash.
    func put(_ records: [Record]) throws -> String {
        let parts = Shards.partition(records) { $0.group }
        let hashes = try putShards(parts.map(\.items))
        return try putIndex(zip(parts, hashes).map { ShardRef(prefix: $0.prefix, hash: $1) })
    }

    /// Stores shards (encoded on all cores); returns their hashes.
    func putShards(_ parts: [[Record]]) throws -> [String] {
        var encoded = [Result<[UInt8], any Error>?](repeating: nil, count: parts.count)
        encoded.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            DispatchQueue.concurrentPerform(iterations: parts.count) { i in out[i] = Result { try JSONLines.encodeLines(parts[i]) } }
        }
        return try zip(parts, encoded).map { records, bytes in
            let h = try store.put(try bytes!.get())
            shards[h] = records
            return h
        }
    }

    func putIndex(_ refs: [ShardRef]) throws -> String {
        let h = try store.put(Shards.encodeIndex(refs))
        indexes[h] = refs
        return h
    }

    /// A new memo for another thread (a memo is not shared across threads), given the index `hash` when this one has it.
    func handing(index hash: String) -> Memo {
        let other = Memo(store: store)
        other.indexes[hash] = indexes[hash]
        return other
    }

    func index(_ hash: String) throws -> [ShardRef] {
        if let r = indexes[hash] { return r }
        let r = try Shards.decodeIndex(try store.get(hash), name: store.path(hash))
        indexes[hash] = r
        return r
    }

    func shard(_ hash: String) throws -> [Record] {
        if let r = shards[hash] { return r }
        let r = try store.lines(Record.self, hash)
        shards[hash] = r
        return r
    }

    /// Every record of an index, shard after shard.
    func records(_ hash: String) throws -> [Record] {
        try index(hash).flatMap { try shard($0.hash) }
    }
}

/// A dataset manifest line read for its image only.
struct DatasetImage: JSONReadable {
    var file: String
    var id: String

    init(_ r: inout JSONReader) throws {
        var file, id: String?
        try r.object { r, key in
            switch key {
            case "file": file = try r.string()
            case "id": id = try r.string()
            default: try r.skip()
            }
        }
        (self.file, self.id) = (try required(file, "file", r), try required(id, "id", r))
    }
}
