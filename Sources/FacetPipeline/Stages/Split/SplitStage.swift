import FacetCore
import FacetData
import FacetImage
import Foundation

/// `split:` — train, val and test by group (FacetData's `Splitting`), stratified, and the
/// leakage check of near-duplicates across splits. `stable: true` splits shard by shard, and the
/// leakage check is brought up to date from its state (`LeakageState`).
struct SplitStage: PipelineStage {
    static let kind = StageKind.split
    static let requires: [StageKind] = [.label]
    static let reads: [StageKind] = [.label, .tag]
    static let outputs = ["records", "leaks"]
    static let isRecords = true
    var options: SplitOptions

    init(_ s: Section, _ c: StageContext) {
        var o = SplitOptions()
        o.test = Self.amount(s, "test", default: o.test)
        o.val = Self.amount(s, "val", default: o.val)
        o.stratify = s.strings("stratify", default: o.stratify, oneOf: ["label", "lighting", "background", "occlusion"])
        o.seed = UInt64(s.int("seed", default: Int(c.seed), in: 0...Int.max))
        o.stable = s.bool("stable", default: false)
        if o.stable, case .count = o.test { s.problems.add(s.markOf("stable"), "split.stable assigns by fractions; give test as a fraction") }
        if o.stable, case .count = o.val { s.problems.add(s.markOf("stable"), "split.stable assigns by fractions; give val as a fraction") }
        o.groupBy = Self.groupBy(s, c)
        options = o
    }

    /// `group_by:` — `{path: REGEX}`, `{sheet: FILE, column: NAME}` or `taken_day`; absent: the
    /// near-duplicate groups alone (and the key left out of the parameters).
    static func groupBy(_ s: Section, _ c: StageContext) -> GroupBy? {
        guard let node = s.node("group_by") else { return nil }
        if case .scalar(let x) = node {
            guard x.string == "taken_day" else {
                s.problems.add(node.mark, "split.group_by must be taken_day, {path: REGEX} or {sheet: FILE, column: NAME}, not \(x.string)")
                return nil
            }
            s.record("group_by", .string("taken_day"))
            return .takenDay
        }
        let g = s.subsection("group_by")
        defer { g.finish(); s.record("group_by", .object(g.canonical)) }
        if let pattern = g.string("path", default: nil) {
            if (try? NSRegularExpression(pattern: pattern)) == nil { g.problems.add(g.markOf("path"), "split.group_by.path: not a valid regular expression") }
            return .path(pattern: pattern)
        }
        if let sheet = c.file(g, "sheet") {
            guard let column = g.string("column", default: nil) else {
                g.problems.add(g.markOf("sheet"), "split.group_by: sheet needs column: NAME (the sheet's column that names the person or group)")
                return nil
            }
            return .sheet(path: sheet, column: column)
        }
        g.problems.add(node.mark, "split.group_by needs path: REGEX or sheet: FILE with column: NAME")
        return nil
    }

    /// The near-duplicate rule of the pipeline's ingest, which the leakage check applies too.
    static func nearRule(_ pipeline: Pipeline) -> (distance: Int, thumbs: Double) {
        guard let ingest = pipeline.manifest.stages[.ingest]?.stage as? IngestStage, let d = ingest.options.nearMaxDistance else {
            return (NearDuplicate.maxDistance, NearDuplicate.maxThumbDifference)
        }
        return (d, ingest.options.nearMaxThumbDifference)
    }

    /// A count (a whole number) or a fraction (a number with a point, in [0, 1)).
    static func amount(_ s: Section, _ key: String, default d: SplitOptions.Amount) -> SplitOptions.Amount {
        guard let n = s.node(key) else {
            switch d {
            case .count(let k): s.record(key, .int(k))
            case .fraction(let f): s.record(key, .double(f))
            }
            return d
        }
        if let k = Section.int(n) {
            guard k >= 0 else { s.problems.add(n.mark, "\(s.path).\(key) must not be negative"); return d }
            s.record(key, .int(k))
            return .count(k)
        }
        guard let f = Section.double(n), f >= 0, f < 1 else {
            s.problems.add(n.mark, "\(s.path).\(key) must be a count (865) or a fraction in [0, 1) (0.2), not \(Section.show(n))")
            return d
        }
        s.record(key, .double(f))
        return .fraction(f)
    }

    func problem(with stages: [StageKind: StageParameters]) -> String? {
        options.stratify.contains { $0 != "label" } && stages[.tag] == nil ? "split stratifies by conditions, which needs a tag stage" : nil
    }

    func inputs(_ upstream: [StageKind: [String: String]], _ pipeline: Pipeline, keepDump: DumpKeeper) throws -> [String: String]? {
        pipeline.manifest.stages[.tag] == nil ? take(upstream, [(.label, "records")]) : take(upstream, [(.label, "records"), (.tag, "records")])
    }

    func execute(_ run: StageRun) throws -> StageResult {
        let (o, store, manifest, memo, inputs, force, events) = (options, run.store, run.manifest, run.memo, run.inputs, run.force, run.events)
        var tally = SplitTally()
        var candidates: [Leakage.Candidate] = []
        var perShard: [(hash: String, candidates: [Leakage.Candidate])]?, state: LeakageState?
        let index: String
        var note = "", table: String
        let near = Self.nearRule(run.pipeline)
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
            let base = run.shardBase(leaving: ["label.records", "tag.records"])
            let keys = aligned.map { Pipeline.shardKey(base: base, prefix: $0.prefix, hashes: $0.hashes) }
            let (shards, redone) = try run.sharded(keys: keys) { missing in
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
            state = force ? nil : LeakageState.read(LeakageState.path(manifest.workspace), maxDistance: near.distance, maxThumbDifference: near.thumbs)
            let unseen = shards.map(\.candidates).filter { state?.shards[$0] == nil }
            let read = try Dictionary(zip(unseen, try store.get(unseen)).map { ($0, try Self.decodeCandidates($1, name: store.path($0))) }) { a, _ in a }
            let parts = shards.map { s in (hash: s.candidates, candidates: state?.shards[s.candidates] ?? read[s.candidates]!) }
            candidates = parts.flatMap(\.candidates)
            perShard = parts
            index = try memo.putIndex(zip(aligned, shards).map { ShardRef(prefix: $0.prefix, hash: $1.records) })
            note = Pipeline.shardNote(redone, of: aligned.count)
            table = tally.table
        } else {
            // Exact counts depend on every photo: the whole dump at once.
            let records = tagged(try memo.records(inputs["label.records"]!), try inputs["tag.records"].map { try memo.records($0) })
            let (split, summary) = try Splitting.apply(records, options: o)
            tally = SplitTally(split)
            table = summary.table
            candidates = split.compactMap(Leakage.Candidate.init)
            index = try memo.put(split)
        }
        Trace.mark("split: shards")
        events.line(table)
        // Thumbnails from ingest's state when ingest ran, else read from the ingest cache when a pair needs them.
        var cached: [String: Data]?
        let workspace = manifest.workspace
        let thumb = memo.thumbs ?? { id in
            if cached == nil { cached = Leakage.thumbs(workspace: workspace) }
            return cached![id]
        }
        let updated = perShard.flatMap { p in
            state.flatMap { Leakage.update(p, previous: ($0.shards, $0.pairs), thumbs: thumb, maxDistance: near.distance, maxThumbDifference: near.thumbs) }
        }
        let leaks = updated ?? Leakage.check(candidates, thumb: thumb, maxDistance: near.distance, maxThumbDifference: near.thumbs)
        if let perShard {
            try LeakageState(shards: Dictionary(perShard.map { ($0.hash, $0.candidates) }) { a, _ in a }, pairs: leaks)
                .write(to: LeakageState.path(manifest.workspace), maxDistance: near.distance, maxThumbDifference: near.thumbs)
        }
        for p in leaks.prefix(20) { events.line("split: leakage: \(p.a) (\(p.splits[0])) ~ \(p.b) (\(p.splits[1])): \(p.hashDistance) bits apart") }
        Trace.mark("split: leakage check")
        let counts = tally.counts
        let perSplit = Splitting.names.map { n in "\(counts[n]?.values.reduce(0, +) ?? 0) \(n)" }.joined(separator: ", ")
        return StageResult(outputs: ["records": index, "leaks": try store.putLines(leaks)],
                           note: "\(perSplit); leakage check: \(leaks.count) near-duplicate pairs across splits" + note)
    }
}
