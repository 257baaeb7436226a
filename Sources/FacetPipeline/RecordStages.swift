import FacetData
import FacetImage
import Foundation

extension Pipeline {
    func executeTag(_ thresholds: TagThresholds, overrides: String?, _ params: StageParameters, inputs: [String: String],
                    force: Bool, memo: Memo) throws -> ([String: String], String, Int) {
        let tagger = try Tagging.Tagger(thresholds: thresholds, overrides: overrides)
        let refs = try memo.index(inputs["ingest.records"]!)
        let base = Self.shardBase(.tag, params, inputs, leaving: ["ingest.records"])
        let keys = refs.map { Self.shardKey(base: base, prefix: $0.prefix, hashes: [$0.hash]) }
        let (shards, redone) = try sharded(.tag, keys: keys, force: force) { missing in
            let faces = thresholds.occlusionModel == nil ? [:] : Ingest.faces(workspace: manifest.workspace)
            let done = try missing.map { tagger.apply(try memo.shard(refs[$0].hash), faces: { faces }) }
            return zip(done, try memo.putShards(done.map(\.0))).map { d, h in TagShard(records: h, counts: d.1.counts, fromSheet: d.1.fromSheet) }
        }
        var counts: [String: [String: Int]] = [:]
        for s in shards { for (c, values) in s.counts { for (v, n) in values { counts[c, default: [:]][v, default: 0] += n } } }
        let total = shards.reduce(0) { $0 + ($1.counts[Condition.lighting.rawValue]?.values.reduce(0, +) ?? 0) }
        let fromSheet = shards.reduce(0) { $0 + $1.fromSheet }
        let index = try memo.putIndex(zip(refs, shards).map { ShardRef(prefix: $0.prefix, hash: $1.records) })
        let highs = Condition.allCases.map { c in "\(counts[c.rawValue]?[c.values.high] ?? 0) \(c.values.high)" }
        return (["records": index], "\(total) photos tagged: " + highs.joined(separator: ", ")
                + (fromSheet > 0 ? "; \(fromSheet) from the sheet" : "") + Self.shardNote(redone, of: refs.count), 0)
    }

    func executeLabel(_ o: LabelOptions, _ params: StageParameters, inputs: [String: String], force: Bool,
                      memo: Memo, events: RunEvents) throws -> ([String: String], String, Int) {
        let labeler = try Labeling.Labeler(o)
        let refs = try memo.index(inputs["ingest.records"]!)
        let duplicates = try store.lines(DuplicateRecord.self, inputs["ingest.duplicates"]!)
        if case .sheet(let path) = o.source {
            let sources = try memo.records(inputs["ingest.records"]!).map(\.source) + duplicates.map(\.source)
            let unmatched = try labeler.unmatchedRows(sources: sources)
            if !unmatched.isEmpty { events.line("label: \(path): \(unmatched.count) rows match no photo: \(Labeling.describe(unmatched))") }
        }
        // The copies set aside by ingest stay in the key (through the duplicates input): they vote on labels.
        let base = Self.shardBase(.label, params, inputs, leaving: ["ingest.records"])
        let keys = refs.map { Self.shardKey(base: base, prefix: $0.prefix, hashes: [$0.hash]) }
        let shards: [LabelShard], redone: Int
        do {
            (shards, redone) = try sharded(.label, keys: keys, force: force) { missing in
                // A shard is given only the copies of its own photos (those of others vote on photos it lacks).
                let done = try missing.map { i in
                    let records = try memo.shard(refs[i].hash), ids = Set(records.map(\.id))
                    return try labeler.apply(records, duplicates: duplicates.filter { ids.contains($0.duplicateOf) })
                }
                let hashes = try memo.putShards(done.map(\.records))
                return try zip(done, hashes).map { d, h in
                    LabelShard(records: h, discarded: d.discarded.isEmpty ? nil : try store.putLines(d.discarded),
                               perClass: d.summary.perClass, discardedSources: d.summary.discarded, unlabelled: d.summary.unlabelled,
                               conflicts: d.summary.conflicts.map { LabelShard.Conflict(sources: $0.sources, labels: $0.labels) })
                }
            }
        } catch {
            // A shard names only its own unknown words: the whole dump's list comes from labelling it all.
            _ = try labeler.apply(try memo.records(inputs["ingest.records"]!), duplicates: duplicates)
            throw error
        }
        let conflicts = shards.flatMap(\.conflicts).sorted { $0.sources.lexicographicallyPrecedes($1.sources) }
        let unlabelled = shards.flatMap(\.unlabelled).sorted()
        for c in conflicts { events.line("label: conflict: \(c.sources.joined(separator: ", ")) given \(c.labels.joined(separator: " and ")); left unlabelled") }
        for u in unlabelled.prefix(10) { events.line("label: unlabelled: \(u)") }
        var perClass: [String: Int] = [:]
        for s in shards { for (c, n) in s.perClass { perClass[c, default: 0] += n } }
        let discarded = try shards.compactMap(\.discarded).flatMap { try store.get($0) }
        let index = try memo.putIndex(zip(refs, shards).map { ShardRef(prefix: $0.prefix, hash: $1.records) })
        let counts = o.classes.map { "\(perClass[$0] ?? 0) \($0)" }.joined(separator: ", ")
        return (["records": index, "discarded": try store.put(discarded)],
                "\(counts); \(shards.reduce(0) { $0 + $1.discardedSources.count }) discarded, \(unlabelled.count) unlabelled, "
                + "\(conflicts.count) conflicts" + Self.shardNote(redone, of: refs.count), 0)
    }

    func executeSplit(_ o: SplitOptions, _ params: StageParameters, inputs: [String: String], force: Bool,
                      memo: Memo, events: RunEvents) throws -> ([String: String], String, Int) {
        var tally = SplitTally()
        var candidates: [Leakage.Candidate] = []
        var perShard: [(hash: String, candidates: [Leakage.Candidate])]?, state: LeakageState?
        let index: String
        var note = ""
        func tagged(_ records: [Record], _ tags: [Record]?) -> [Record] {
            guard let tags else { return records }
            let conditions = Dictionary(tags.map { ($0.id, $0.conditions) }) { a, _ in a }
            return records.map { r in var r = r; r.conditions = conditions[r.id] ?? nil; return r }
        }
        if o.stable {
            // Each group's split follows from its id alone: shard by shard.
            let label = try memo.index(inputs["label.records"]!)
            let tag = try inputs["tag.records"].map { try memo.index($0) }
            let aligned = Shards.aligned([label] + (tag.map { [$0] } ?? []))
            let base = Self.shardBase(.split, params, inputs, leaving: ["label.records", "tag.records"])
            let keys = aligned.map { Self.shardKey(base: base, prefix: $0.prefix, hashes: $0.hashes) }
            let (shards, redone) = try sharded(.split, keys: keys, force: force) { missing in
                let done = try missing.map { i in
                    let h = aligned[i].hashes
                    let records = try h[0].map { try memo.shard($0) } ?? []
                    let tags = try h.count > 1 ? (h[1].map { try memo.shard($0) } ?? []) : nil
                    return try Splitting.applyStable(tagged(records, tags), options: o)
                }
                return try zip(done, try memo.putShards(done)).map { d, h in
                    SplitShard(records: h, candidates: try store.put(Self.encodeCandidates(d.compactMap(Leakage.Candidate.init))),
                               tally: SplitTally(d))
                }
            }
            for s in shards { tally.add(s.tally) }
            guard !tally.cells.isEmpty else { throw DataError("split: no labelled photos; run facet label first") }
            // The candidates of shards the last leakage check saw come from its state; the others are read.
            state = force ? nil : LeakageState.read(LeakageState.path(manifest.workspace))
            let unseen = shards.map(\.candidates).filter { state?.shards[$0] == nil }
            let read = try Dictionary(zip(unseen, try store.get(unseen)).map { ($0, try Self.decodeCandidates($1, name: store.path($0))) }) { a, _ in a }
            let parts = shards.map { s in (hash: s.candidates, candidates: state?.shards[s.candidates] ?? read[s.candidates]!) }
            candidates = parts.flatMap(\.candidates)
            perShard = parts
            index = try memo.putIndex(zip(aligned, shards).map { ShardRef(prefix: $0.prefix, hash: $1.records) })
            note = Self.shardNote(redone, of: aligned.count)
        } else {
            // Exact counts depend on every photo: the whole dump at once.
            let records = tagged(try memo.records(inputs["label.records"]!), try inputs["tag.records"].map { try memo.records($0) })
            let (split, _) = try Splitting.apply(records, options: o)
            tally = SplitTally(split)
            candidates = split.compactMap(Leakage.Candidate.init)
            index = try memo.put(split)
        }
        Trace.mark("split: shards")
        events.line(tally.table)
        // Thumbnails from ingest's state when ingest ran, else read from the ingest cache when a pair needs them.
        var cached: [String: Data]?
        let workspace = manifest.workspace
        let thumb = memo.thumbs ?? { id in
            if cached == nil { cached = Leakage.thumbs(workspace: workspace) }
            return cached![id]
        }
        let updated = perShard.flatMap { p in state.flatMap { Leakage.update(p, previous: $0, thumbs: thumb) } }
        let leaks = updated ?? Leakage.check(candidates, thumb: thumb)
        if let perShard {
            try LeakageState(shards: Dictionary(perShard.map { ($0.hash, $0.candidates) }) { a, _ in a }, pairs: leaks)
                .write(to: LeakageState.path(manifest.workspace))
        }
        for p in leaks.prefix(20) { events.line("split: leakage: \(p.a) (\(p.splits[0])) ~ \(p.b) (\(p.splits[1])): \(p.hashDistance) bits apart") }
        Trace.mark("split: leakage check")
        let counts = tally.counts
        let perSplit = Splitting.names.map { n in "\(counts[n]?.values.reduce(0, +) ?? 0) \(n)" }.joined(separator: ", ")
        return (["records": index, "leaks": try store.putLines(leaks)],
                "\(perSplit); leakage check: \(leaks.count) near-duplicate pairs across splits" + note, 0)
    }

    /// "; 3 of 212 shards redone", when some were found.
    static func shardNote(_ redone: Int, of total: Int) -> String {
        redone == total ? "" : "; \(redone) of \(total) shards redone"
    }

    /// Leakage candidates as lines of phash, split, id and source (`%`, tab and line breaks in
    /// a source escaped as `%25`, `%09`, `%0A`, `%0D`).
    static func encodeCandidates(_ items: [Leakage.Candidate]) -> [UInt8] {
        Array(items.map { c in
            let plain = !c.source.utf8.contains { $0 == UInt8(ascii: "%") || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
            let source = plain ? c.source : c.source.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\t", with: "%09")
                .replacingOccurrences(of: "\n", with: "%0A").replacingOccurrences(of: "\r", with: "%0D")
            return String(c.phash, radix: 16) + "\t" + c.split + "\t" + c.id + "\t" + source + "\n"
        }.joined().utf8)
    }

    static func decodeCandidates(_ bytes: [UInt8], name: String) throws -> [Leakage.Candidate] {
        var out: [Leakage.Candidate] = []
        for line in bytes.split(separator: 0x0A) {
            let f = line.split(separator: 0x09, maxSplits: 3, omittingEmptySubsequences: false)
            guard f.count == 4, let phash = UInt64(String(decoding: f[0], as: UTF8.self), radix: 16) else {
                throw DataError("\(name): not a list of leakage candidates")
            }
            var source = String(decoding: f[3], as: UTF8.self)
            if f[3].contains(UInt8(ascii: "%")) {
                source = source.replacingOccurrences(of: "%0D", with: "\r").replacingOccurrences(of: "%0A", with: "\n")
                    .replacingOccurrences(of: "%09", with: "\t").replacingOccurrences(of: "%25", with: "%")
            }
            out.append(Leakage.Candidate(id: String(decoding: f[2], as: UTF8.self), source: source,
                                         split: String(decoding: f[1], as: UTF8.self), phash: phash))
        }
        return out
    }
}

extension Pipeline {
    /// Augments shard by shard; the dataset's manifests are the shards' lines in order of file,
    /// and `index` lists the shards of the manifest.
    func executeAugment(_ o: AugmentOptions, _ params: StageParameters, inputs: [String: String], previous: [String: String]?,
                        force: Bool, memo: Memo, events: RunEvents) throws -> ([String: String], String, Int) {
        let refs = try memo.index(inputs["split.records"]!)
        let base = Self.shardBase(.augment, params, inputs, leaving: ["split.records"])
        let keys = refs.map { Self.shardKey(base: base, prefix: $0.prefix, hashes: [$0.hash]) }
        var rendered = 0
        var fresh: [String: [DatasetRecord]] = [:]
        // The last run's joined manifest and CSV, read and checked while the shards are worked.
        let store = store
        let last = previous.flatMap { p in
            p["manifest"].flatMap { m in p["csv"].map { c in Background { (manifest: try store.get(m), csv: try store.get(c)) } } }
        }
        let (shards, redone) = try sharded(.augment, keys: keys, force: force) { missing in
            let parts = try missing.map { try memo.shard(refs[$0].hash) }
            // One build for every shard that needs one, so the rendering uses every core.
            let (made, n) = try AugmentCache(store: store, workspace: manifest.workspace)
                .build(parts.flatMap { $0 }, dump: manifest.source, options: o, useCache: !force, progress: events.progress("augment"))
            rendered = n
            var next = made.makeIterator()
            return try parts.map { records in
                let dataset = records.flatMap { _ in next.next()! }.sorted { $0.file < $1.file }
                let h = try store.putLines(dataset)
                fresh[h] = dataset
                var written: [String: Int] = [:]
                for r in dataset { written[r.split, default: 0] += 1 }
                let rows = dataset.map(DatasetExport.csvRow)
                return AugmentShard(manifest: h, csv: try store.put(Array(rows.joined())), written: written,
                                    photos: Set(dataset.map(\.derivedFrom)).count, rows: rows.map(\.count))
            }
        }
        Trace.mark("augment: shards")
        let photos = shards.reduce(0) { $0 + $1.photos }
        guard photos > 0 else { throw DataError("augment: no split, labelled photos") }
        var written: [String: Int] = [:]
        for s in shards { for (k, n) in s.written { written[k, default: 0] += n } }
        // The manifests in order of file, as `facet augment` writes them (the shards hold them by
        // group): the last run's brought up to date when it can be, else joined from every shard.
        let (lines, csv) = try previous.flatMap { try updatedJoin(shards, previous: $0, last: last, memo: memo) } ?? join(shards)
        let manifestHash = try store.put(lines)
        Trace.mark("augment: manifest joined")
        if redone == shards.count { memo.dataset[manifestHash] = shards.flatMap { fresh[$0.manifest]! }.sorted { $0.file < $1.file } }
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        let index = Shards.encodeIndex(zip(refs, shards).map { ShardRef(prefix: $0.prefix, hash: $1.manifest) })
        return ([
            "manifest": manifestHash, "index": try store.put(index),
            "csv": try store.put(DatasetExport.csvHeader + csv),
            "options": try store.put(Array(try e.encode(o)) + [0x0A]),
        ], Splitting.names.map { "\(written[$0] ?? 0) \($0)" }.joined(separator: ", ") + " images; "
            + "\(rendered) photos rendered, \(photos - rendered) from the cache" + Self.shardNote(redone, of: shards.count), rendered)
    }

    /// The dataset manifest and CSV rows of the augment shards, joined in order of file.
    func join(_ shards: [AugmentShard]) throws -> (manifest: [UInt8], csv: [UInt8]) {
        let (lines, order) = try Shards.sortedLines(try store.get(shards.map(\.manifest)), by: "file")
        let rows = try csvRows(shards)
        var csv: [UInt8] = []
        csv.reserveCapacity(rows.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } })
        for o in order {
            guard o.line < rows[o.chunk].count else { throw DataError("augment: a shard's CSV rows and manifest lines differ in number; delete \(manifest.workspace)/cache/shards and run again") }
            csv += rows[o.chunk][o.line]
        }
        return (lines, csv)
    }

    /// The last run's join (its outputs `previous`) brought up to date from the shards that changed
    /// since; nil when it cannot be (see `Shards.updatedLines`), and the caller joins in full.
    /// `last`: the bytes of the last run's manifest and CSV (its outputs `previous`), being read.
    func updatedJoin(_ shards: [AugmentShard], previous: [String: String], last: Background<(manifest: [UInt8], csv: [UInt8])>?,
                     memo: Memo) throws -> (manifest: [UInt8], csv: [UInt8])? {
        guard let was = previous["index"], let before = try? memo.index(was).map(\.hash), let (lastManifest, oldCSV) = try? last?.wait(),
              oldCSV.starts(with: DatasetExport.csvHeader) else { return nil }
        let (gone, came) = Shards.changes(from: before, to: shards.map(\.manifest))
        let added = came.map { shards[$0] }
        guard let update = Shards.updatedLines(lastManifest, removing: try store.get(gone),
                                               adding: try store.get(added.map(\.manifest)), by: "file") else { return nil }
        let oldRows = Shards.csvRowRanges(oldCSV, from: DatasetExport.csvHeader.count)
        guard oldRows.count == update.previousLines else { return nil }
        let newRows = try csvRows(added)
        var csv: [UInt8] = []
        csv.reserveCapacity(oldCSV.count)
        for o in update.origins {
            switch o {
            case .previous(let i): csv += oldCSV[oldRows[i]]
            case .added(let c, let l):
                guard l < newRows[c].count else { return nil }
                csv += newRows[c][l]
            }
        }
        return (update.bytes, csv)
    }

    /// Each shard's CSV rows, split by their recorded lengths.
    func csvRows(_ shards: [AugmentShard]) throws -> [[ArraySlice<UInt8>]] {
        try zip(shards, try store.get(shards.map(\.csv))).map { s, bytes in
            guard s.rows.reduce(0, +) == bytes.count else { throw DataError("\(store.path(s.csv)): its rows do not add up; delete \(manifest.workspace)/cache/shards and run again") }
            var at = 0
            return s.rows.map { n in defer { at += n }; return bytes[at..<(at + n)] }
        }
    }
}
