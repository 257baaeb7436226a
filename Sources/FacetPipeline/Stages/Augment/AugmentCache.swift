import FacetCore
import FacetData
import FacetImage
import Foundation
import Synchronization

/// Per-photo cache of the augment stage: the rendered images of one photo are keyed by what
/// they depend on — the photo's bytes (its id), whether its split is augmented, and the options
/// that shape pixels — so a new photo costs one photo of work, and a photo that changes split
/// or label costs none. Images live in the store. The entries are lines of one index file,
/// `cache/augment.jsonl`, each appended once its photo's images are stored, so a line that
/// reads is complete (one cut short by a kill is skipped, and its photo rendered again); the
/// file is read once per run rather than a file per photo.
struct AugmentCache {
    struct Entry: Codable {
        var copy: Int
        var id: String
        var augment: [AppliedOp]
    }

    /// An index line: a key and its photo's entries.
    struct Line: Codable {
        var entries: [Entry]
        var key: String
    }

    static let version = 1
    let store: Store
    let index: String
    /// Per-photo files of the earlier layout (removed once the index is written).
    let legacy: String

    init(store: Store, workspace: String) {
        self.store = store
        index = workspace + "/cache/augment.jsonl"
        legacy = workspace + "/cache/augment"
    }

    /// The options that shape pixels (all but the list of augmented splits), encoded once per build.
    static func shaping(_ o: AugmentOptions) throws -> String {
        var shaping = o
        shaping.splits = []
        return try JSONLines.encode(shaping)
    }

    /// Under `crop: face` the eyes the photo is aligned by shape its pixels too.
    func key(_ r: Record, augmented: Bool, shaping: String, face: Bool) -> String {
        let eyes = face ? "\n" + (FaceAlignment.eyes(r)?.map { String($0) }.joined(separator: " ") ?? "frame") : ""
        return Store.hash(Array("augment-\(AugmentCache.version)\n\(r.id)\n\(augmented)\n\(shaping)\(eyes)".utf8))
    }

    /// The index's entries for `wanted` keys (later lines win), its number of lines and of
    /// distinct keys. Only the wanted lines are parsed: the others are looked at for their key,
    /// the last member of a line (keys sorted), so a run that adds ten photos reads ten entries.
    func read(_ wanted: Set<String>) -> (entries: [String: [Entry]], lines: Int, keys: Int) {
        guard let data = FileSystem.read(index) else { return ([:], 0, 0) }
        let marker = Array("\"key\":\"".utf8)
        var out: [String: [Entry]] = [:]
        // Keys (SHA-256 in hex, never escaped) are told apart by their first 16 hex digits, 64
        // random bits read as two words, and made strings only when those match a wanted one's:
        // 3,766 lines are skimmed per run.
        func digest(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
            guard bytes.count >= 16 else { return 0 }
            let raw = UnsafeRawBufferPointer(bytes)
            return raw.loadUnaligned(as: UInt64.self) ^ (raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self) &* 0x9E37_79B9_7F4A_7C15)
        }
        let sought = Set(wanted.map { k in Array(k.utf8).withUnsafeBufferPointer(digest) })
        var keys = Set<UInt64>(), lines = 0
        data.withUnsafeBufferPointer { all in
            for line in ByteScan.lineRanges(all).map({ UnsafeBufferPointer(rebasing: all[$0]) }) {
                // …,"key":"<hash>"}: a line cut short has no closing brace.
                guard line.last == UInt8(ascii: "}"), let (range, plain) = Shards.lastStringRange(line, marker: marker), plain else { continue }
                let d = digest(UnsafeBufferPointer(rebasing: line[range]))
                lines += 1
                keys.insert(d)
                guard sought.contains(d), wanted.contains(String(decoding: UnsafeBufferPointer(rebasing: line[range]), as: UTF8.self)),
                      let l = try? JSONReader.read(Line.self, line) else { continue }
                out[l.key] = l.entries
            }
        }
        return (out, lines, keys.count)
    }

    /// Every entry of the index, by key (later lines win).
    func readAll() -> [String: [Entry]] {
        guard let data = FileSystem.read(index) else { return [:] }
        let lines = data.withUnsafeBufferPointer { JSONLines.readEach(Line.self, $0).compactMap { try? $0.get() } }
        var out: [String: [Entry]] = [:]
        for l in lines { out[l.key] = l.entries }
        return out
    }

    /// What a build made: the dataset records of each record given (empty for one without a
    /// split or a label, or left out), the photos left out (`crop: face` without a face), and
    /// how many photos were rendered now.
    struct Made {
        var records: [[DatasetRecord]]
        var leftOut: [DatasetExport.LeftOut]
        var rendered: Int
    }

    /// Renders only what the cache lacks.
    func build(_ all: [Record], dump: String, options: AugmentOptions, useCache: Bool, threads: Int = 0,
               progress: (@Sendable (Int, Int) -> Void)?) throws -> Made {
        let given = all.filter { $0.split != nil && $0.label != nil }
        let leftOut = given.compactMap { r in DatasetExport.leftOut(r, options: options).map { DatasetExport.LeftOut(r, reason: $0) } }
        let out = Set(leftOut.map(\.id))
        let records = given.filter { !out.contains($0.id) }
        guard !records.isEmpty else { return Made(records: all.map { _ in [] }, leftOut: leftOut, rendered: 0) }
        let rendered = Atomic<Int>(0), newKeys = Atomic<Int>(0)
        let shaping = try AugmentCache.shaping(options)
        let augmented = records.map { options.splits.contains($0.split!) }
        let keys = records.indices.map { key(records[$0], augmented: augmented[$0], shaping: shaping, face: options.face != nil) }
        let (known, lines, distinct) = read(Set(keys))
        let appender = JSONLines.Appender(index)
        let outcome = Result {
            try parallelMap(records.count, threads: threads, progress: progress) { i in
                let r = records[i], k = keys[i]
                do {
                    var entries = useCache ? known[k].flatMap { e in e.allSatisfy { store.has($0.id) } ? e : nil } : nil
                    if entries == nil {
                        let images = try DatasetExport.render(r, augmented: augmented[i], dump: dump, options: options)
                        entries = try images.map { Entry(copy: $0.copy, id: try store.put($0.bytes), augment: $0.augment) }
                        try appender.append(Line(entries: entries!, key: k))
                        rendered.add(1, ordering: .relaxed)
                        if known[k] == nil { newKeys.add(1, ordering: .relaxed) }
                    }
                    return entries!.map { DatasetExport.record(r, copy: $0.copy, augment: $0.augment, id: $0.id, options: options) }
                } catch {
                    throw DataError("augment: \(r.source): \(error) (has the dump changed since ingest?)")
                }
            }
        }
        try appender.close()
        let results = try outcome.get()
        try compact(lines: lines + rendered.load(ordering: .relaxed), keys: distinct + newKeys.load(ordering: .relaxed))
        var made = results.makeIterator()
        return Made(records: all.map { $0.split != nil && $0.label != nil && !out.contains($0.id) ? made.next()! : [] }, leftOut: leftOut,
                    rendered: rendered.load(ordering: .relaxed))
    }

    /// Rewrites the index with one line per key when lines for keys seen before (photos rendered
    /// again) make up over a third of it; removes the per-photo files of the earlier layout.
    func compact(lines: Int, keys: Int) throws {
        if FileSystem.exists(legacy) { try FileManager.default.removeItem(atPath: legacy) }
        guard lines > keys + keys / 2 else { return }
        try JSONLines.write(readAll().sorted { $0.key < $1.key }.map { Line(entries: $0.value, key: $0.key) }, to: index)
    }
}

extension AugmentCache.Entry: JSONReadable {
    init(_ r: inout JSONReader) throws {
        var copy: Int?
        var id: String?
        var augment: [AppliedOp]?
        try r.object { r, key in
            switch key {
            case "copy": copy = try r.int()
            case "id": id = try r.string()
            case "augment": augment = try r.items(AppliedOp.self)
            default: try r.skip()
            }
        }
        self.init(copy: try required(copy, "copy", r), id: try required(id, "id", r), augment: try required(augment, "augment", r))
    }
}

extension AugmentCache.Line: JSONReadable {
    init(_ r: inout JSONReader) throws {
        var entries: [AugmentCache.Entry]?
        var key: String?
        try r.object { r, k in
            switch k {
            case "entries": entries = try r.items(AugmentCache.Entry.self)
            case "key": key = try r.string()
            default: try r.skip()
            }
        }
        self.init(entries: try required(entries, "entries", r), key: try required(key, "key", r))
    }
}
