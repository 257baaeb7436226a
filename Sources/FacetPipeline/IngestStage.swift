import FacetData
import FacetImage
import Foundation

extension Pipeline {
    func executeIngest(_ o: IngestOptions, _ params: StageParameters, inputs: [String: String], force: Bool,
                       memo: Memo, events: RunEvents) throws -> ([String: String], String, Int) {
        // A record follows from its photo's analysis (its id, under this analyser), its path, group
        // and size, and the dump's median photo area (its quality's odd_size): a shard's key.
        let basis = Self.shardBase(.ingest, params, inputs, leaving: ["dump"]) + "\nanalyzer \(Analyzer.version)"
        // A dump that only gained files: those alone are analysed, when that gives what a full ingest gives.
        var decodedFirst = 0
        if !force, let done = try? extendIngest(o, basis: basis, inputs: inputs, memo: memo, decoded: &decodedFirst) { return done }
        let r = try Ingest.scan(dump: manifest.source, workspace: manifest.workspace, options: o, useCache: !force,
                                listing: memo.listing, progress: events.progress("ingest"))
        // Files the attempt above decoded are in the cache now: decoded by this run all the same.
        var s = r.summary
        (s.decoded, s.reused) = (s.decoded + decodedFirst, s.reused - decodedFirst)
        let base = basis + "\nmedian area \(r.medianArea)"
        // Photos by position (a photo carries its whole analysis: not copied into the shards). Only
        // the records of the shards not found are built.
        let parts = Shards.partition(Array(r.photos.indices)) { r.photos[$0].group }
        let keys = parts.map { p in
            Self.shardKey(base: base, prefix: p.prefix, hashes: [],
                          extra: Self.members(p.items.map { (r.photos[$0].analysis.sha256, r.photos[$0].source, r.photos[$0].group, r.photos[$0].bytes) }))
        }
        let (shards, redone) = try sharded(.ingest, keys: keys, force: force) { missing in
            let built = missing.map { parts[$0].items.map { r.record(r.photos[$0]) } }
            return try memo.putShards(built).map(RecordsShard.init)
        }
        let index = try memo.putIndex(zip(parts, shards).map { ShardRef(prefix: $0.prefix, hash: $1.records) })
        let outputs = [
            "records": index, "quarantine": try store.putLines(r.quarantine),
            "duplicates": try store.putLines(r.duplicates), "summary": try store.putLines([try Self.dataOnly(s)]),
        ]
        // What the next run needs to take only the files added since (a state not written costs it a full ingest).
        var state = IngestState(basis: basis, dump: inputs["dump"] ?? "", records: index, quarantine: outputs["quarantine"]!,
                                duplicates: outputs["duplicates"]!, medianArea: r.medianArea, summary: s,
                                keys: Dictionary(zip(parts.map(\.prefix), keys)) { a, _ in a }, cacheSizes: IngestState.cacheSizes(manifest.workspace))
        if state.append(r.photos) {
            try? state.write(manifest.workspace)
            memo.thumbs = state.thumbLookup()
        } else {
            unlink(IngestState.path(manifest.workspace))
            let thumbs = r.thumbs
            memo.thumbs = { thumbs[$0] }
        }
        return (outputs, Self.ingestNote(s, redone: redone, of: parts.count), s.decoded)
    }

    static func ingestNote(_ s: IngestSummary, redone: Int, of shards: Int) -> String {
        "\(s.found) files: \(s.accepted) accepted, \(s.quarantined) quarantined, \(s.duplicates) duplicates; "
            + "\(s.decoded) decoded, \(s.reused) from the cache" + shardNote(redone, of: shards)
    }

    /// What a records shard's key holds of its photos: id, path, group and size, a line each.
    static func members(_ photos: [(id: String, source: String, group: String, bytes: Int)]) -> String {
        var extra: [UInt8] = []
        for (n, p) in photos.enumerated() {
            if n > 0 { extra.append(0x0A) }
            extra += p.id.utf8
            extra.append(0x09)
            extra += p.source.utf8
            extra.append(0x09)
            extra += p.group.utf8
            extra.append(0x09)
            extra += String(p.bytes).utf8
        }
        return String(decoding: extra, as: UTF8.self)
    }

    /// The ingest of a dump that only gained files since the last (its `IngestState`): the added
    /// files analysed alone and their shards redone, the other shards' keys and records taken from
    /// the state and the store. Nil when the dump lost or changed a file, an added file is not a new
    /// photo of its own (`Ingest.extend`), or the state does not fit this run: the caller ingests in full.
    func extendIngest(_ o: IngestOptions, basis: String, inputs: [String: String], memo: Memo, decoded: inout Int) throws -> ([String: String], String, Int)? {
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
            keys[p] = Self.shardKey(base: base, prefix: p, hashes: [], extra: Self.members(members))
        }
        let prefixes = keys.keys.sorted()
        let before = Dictionary(try memo.index(state.records).map { ($0.prefix, $0.hash) }) { a, _ in a }
        let (shards, redone) = try sharded(.ingest, keys: prefixes.map { keys[$0]! }, force: false) { missing in
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
        return (["records": index, "quarantine": state.quarantine, "duplicates": state.duplicates,
                 "summary": try store.putLines([try Self.dataOnly(s)])],
                Self.ingestNote(s, redone: redone, of: prefixes.count) + "; only the \(files.count) files added were looked at", s.decoded)
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
