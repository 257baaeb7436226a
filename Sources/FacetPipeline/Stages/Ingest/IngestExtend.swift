import FacetCore
import FacetData
import FacetImage
import Foundation

extension IngestStage {
    /// The ingest of a dump that only gained files since the last (its `IngestState`): the added
    /// files analysed alone and their shards redone, the other shards' keys and records taken from
    /// the state and the store. Nil when the dump lost or changed a file, an added file is not a new
    /// photo of its own (`Ingest.extend`), or the state does not fit this run: the caller ingests in full.
    func extend(_ run: StageRun, basis: String, decoded: inout Int) throws -> StageResult? {
        let (o, store, manifest, memo, inputs) = (options, run.store, run.manifest, run.memo, run.inputs)
        let w = manifest.workspace
        guard let state = IngestState.read(w), state.basis == basis, let dumpHash = inputs["dump"], let listing = memo.listing,
              [state.quarantine, state.duplicates].allSatisfy(store.has) else { return nil }
        Trace.mark("ingest: state read")
        let now = try memo.fingerprint ?? store.get(dumpHash)
        guard let added = Self.addedFiles(from: try store.get(state.dump), to: now) else { return nil }
        let files = try added.map { path in
            guard let f = listing.file(path) else { throw DataError("ingest: \(path) is in the fingerprint but not the listing") }
            return f
        }
        guard let ext = try Ingest.extend(state, adding: files, dump: manifest.source, workspace: w, options: o, decoded: &decoded) else { return nil }
        let base = basis + "\nmedian area \(state.medianArea)"
        var keys = state.keys
        let byShard = Dictionary(grouping: ext.photos) { String($0.group.prefix(Shards.prefixLength)) }
        let earlier = state.members(ofShards: Set(byShard.keys))
        for (p, new) in byShard {
            let members = ((earlier[p] ?? []) + new.map { ($0.analysis.sha256, $0.source, $0.group, $0.bytes) }).sorted { $0.source < $1.source }
            keys[p] = Pipeline.shardKey(base: base, prefix: p, hashes: [], extra: Self.members(members))
        }
        let prefixes = keys.keys.sorted()
        let before = Dictionary(try memo.index(state.records).map { ($0.prefix, $0.hash) }) { a, _ in a }
        let (shards, redone) = try run.sharded(keys: prefixes.map { keys[$0]! }) { missing in
            let built = try missing.map { i -> [Record] in
                // A shard the photos added fall in: its records before, and theirs. (Another shard's
                // records gone from the store cannot be made without every analysis: a full ingest.)
                guard let new = byShard[prefixes[i]] else { throw DataError("ingest: a shard's records are missing from the store") }
                let old = try before[prefixes[i]].map { try memo.shard($0) } ?? []
                return (old + new.map { Ingest.record($0, medianArea: state.medianArea) }).sorted { $0.source < $1.source }
            }
            return try memo.putShards(built).map(RecordsShard.init)
        }
        let index = try memo.putIndex(zip(prefixes, shards).map { ShardRef(prefix: $0, hash: $1.records) })
        Trace.mark("ingest: shards of the added files")
        var next = ext.state
        (next.dump, next.records, next.keys) = (dumpHash, index, keys)
        try? next.write(w)
        memo.thumbs = next.thumbLookup()
        let s = ext.summary
        return StageResult(outputs: ["records": index, "quarantine": state.quarantine, "duplicates": state.duplicates,
                                     "summary": try store.putLines([try Self.dataOnly(s)])],
                           note: Self.ingestNote(s, redone: redone, of: prefixes.count) + "; only the \(files.count) files added were looked at",
                           work: s.decoded)
    }

    /// The paths of the files added between two fingerprints of a dump, when the later holds every
    /// line of the earlier, in order, and each other line is a file's path and content hash, the
    /// hash found nowhere else in either; nil otherwise (a file gone, changed or unreadable, a copy added).
    static func addedFiles(from before: [UInt8], to now: [UInt8]) -> [String]? {
        before.withUnsafeBufferPointer { old in
            now.withUnsafeBufferPointer { new -> [String]? in
                let oldLines = Shards.lineRanges(old), newLines = Shards.lineRanges(new)
                var j = 0
                var added: [(path: Range<Int>, hash: Range<Int>)] = []
                for r in newLines {
                    if j < oldLines.count, oldLines[j].count == r.count,
                       memcmp(old.baseAddress! + oldLines[j].lowerBound, new.baseAddress! + r.lowerBound, r.count) == 0 {
                        j += 1
                        continue
                    }
                    guard r.count > 65, new[r.upperBound - 65] == 0x09,
                          new[(r.upperBound - 64)..<r.upperBound].allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
                    added.append((r.lowerBound..<(r.upperBound - 65), (r.upperBound - 64)..<r.upperBound))
                }
                guard j == oldLines.count, !added.isEmpty else { return nil }
                // A hash already in the dump, or twice among those added: a copy, which a full ingest sets aside.
                let hashes = Set(added.map { String(decoding: UnsafeBufferPointer(rebasing: new[$0.hash]), as: UTF8.self) })
                guard hashes.count == added.count, !oldLines.contains(where: { r in
                    r.count > 65 && old[r.upperBound - 65] == 0x09
                        && hashes.contains(String(decoding: UnsafeBufferPointer(rebasing: old[(r.upperBound - 64)..<r.upperBound]), as: UTF8.self))
                }) else { return nil }
                return added.map { String(decoding: UnsafeBufferPointer(rebasing: new[$0.path]), as: UTF8.self) }
            }
        }
    }
}
