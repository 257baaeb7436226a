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
        guard let added = Ingest.addedFiles(from: try store.get(state.dump), to: now) else { return nil }
        let files = try added.map { path in
            guard let f = listing.file(path) else { throw DataError("ingest: \(path) is in the fingerprint but not the listing") }
            return f
        }
        guard let ext = try Ingest.extend(state.index, adding: files, dump: manifest.source, workspace: w, options: o, decoded: &decoded) else { return nil }
        let base = basis + "\nmedian area \(state.index.medianArea)"
        var keys = state.keys
        let byShard = Dictionary(grouping: ext.photos) { String($0.group.prefix(Shards.prefixLength)) }
        let earlier = state.index.members(ofShards: Set(byShard.keys))
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
                return (old + new.map { Ingest.record($0, medianArea: state.index.medianArea) }).sorted { $0.source < $1.source }
            }
            return try memo.putShards(built).map(RecordsShard.init)
        }
        let index = try memo.putIndex(zip(prefixes, shards).map { ShardRef(prefix: $0, hash: $1.records) })
        Trace.mark("ingest: shards of the added files")
        var next = state
        (next.dump, next.records, next.keys, next.index) = (dumpHash, index, keys, ext.index)
        try? next.write(w)
        memo.thumbs = ext.index.thumbLookup()
        let s = ext.summary
        return StageResult(outputs: ["records": index, "quarantine": state.quarantine, "duplicates": state.duplicates,
                                     "summary": try store.putLines([try Self.dataOnly(s)])],
                           note: Self.ingestNote(s, redone: redone, of: prefixes.count) + "; only the \(files.count) files added were looked at",
                           work: s.decoded)
    }
}
