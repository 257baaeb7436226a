import FacetCore
import FacetData
import FacetLearn
import Foundation

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
        let encoded = concurrentMap(parts.count) { i in Result { try JSONLines.encodeLines(parts[i]) } }
        return try zip(parts, encoded).map { records, bytes in
            let h = try store.put(try bytes.get())
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

