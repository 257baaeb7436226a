import FacetData
import FacetImage
import Foundation
import Synchronization

/// Per-photo cache of the augment stage: the rendered images of one photo are keyed by what
/// they depend on — the photo's bytes (its id), whether its split is augmented, and the options
/// that shape pixels — so a new photo costs one photo of work, and a photo that changes split
/// or label costs none. Images live in the store; an entry (a small JSON file) is written after
/// them, so an entry that exists is complete.
struct AugmentCache {
    struct Entry: Codable {
        var copy: Int
        var id: String
        var augment: [AppliedOp]
    }

    static let version = 1
    let store: Store
    let folder: String

    init(store: Store, workspace: String) {
        self.store = store
        folder = workspace + "/cache/augment"
    }

    /// The options that shape pixels (all but the list of augmented splits), encoded once per build.
    static func shaping(_ o: AugmentOptions) throws -> String {
        var shaping = o
        shaping.splits = []
        return try JSONLines.encode(shaping)
    }

    func key(_ r: Record, augmented: Bool, shaping: String) -> String {
        Store.hash(Array("augment-\(AugmentCache.version)\n\(r.id)\n\(augmented)\n\(shaping)".utf8))
    }

    func path(_ key: String) -> String { "\(folder)/\(key.prefix(2))/\(key).json" }

    func lookup(_ key: String) -> [Entry]? {
        guard let data = FileManager.default.contents(atPath: path(key)),
              let entries = try? [UInt8](data).withUnsafeBufferPointer({ try JSONReader.readItems(Entry.self, $0) }),
              entries.allSatisfy({ store.has($0.id) }) else { return nil }
        return entries
    }

    /// The dataset records of every split, labelled record, rendering only what the cache lacks.
    /// Returns them sorted by file, and how many photos were rendered now.
    func build(_ all: [Record], dump: String, options: AugmentOptions, useCache: Bool,
               progress: (@Sendable (Int, Int) -> Void)?) throws -> ([DatasetRecord], Int) {
        let records = all.filter { $0.split != nil && $0.label != nil }
        guard !records.isEmpty else { throw DataError("augment: no split, labelled photos") }
        let results = Mutex([[DatasetRecord]?](repeating: nil, count: records.count))
        let failure = Mutex<String?>(nil)
        let done = Atomic<Int>(0), rendered = Atomic<Int>(0)
        let shaping = try AugmentCache.shaping(options)
        DispatchQueue.concurrentPerform(iterations: records.count) { i in
            let r = records[i]
            let augmented = options.splits.contains(r.split!)
            let k = key(r, augmented: augmented, shaping: shaping)
            do {
                var entries = useCache ? lookup(k) : nil
                if entries == nil {
                    let images = try DatasetExport.render(r, augmented: augmented, dump: dump, options: options)
                    entries = try images.map { Entry(copy: $0.copy, id: try store.put($0.bytes), augment: $0.augment) }
                    let e = JSONEncoder()
                    e.outputFormatting = [.sortedKeys]
                    try AtomicFile.write(Array(try e.encode(entries!)), to: path(k))
                    rendered.add(1, ordering: .relaxed)
                }
                let made = entries!.map { DatasetExport.record(r, copy: $0.copy, augment: $0.augment, id: $0.id) }
                results.withLock { $0[i] = made }
            } catch {
                failure.withLock { $0 = $0 ?? "\(r.source): \(error)" }
            }
            progress?(done.add(1, ordering: .relaxed).newValue, records.count)
        }
        if let message = failure.withLock({ $0 }) {
            throw DataError("augment: \(message) (has the dump changed since ingest?)")
        }
        let made = results.withLock { $0.flatMap { $0! } }.sorted { $0.file < $1.file }
        return (made, rendered.load(ordering: .relaxed))
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
