import FacetData
import FacetImage
import Foundation

/// `label:` — each photo's class, from its folders, a sheet or a pattern of its path
/// (FacetData's `Labeling`); copies set aside by ingest vote too. Shard by shard.
struct LabelStage: PipelineStage {
    static let kind = StageKind.label
    static let requires: [StageKind] = [.ingest]
    static let reads: [StageKind] = [.ingest]
    static let outputs = ["records", "discarded"]
    static let isRecords = true
    var options: LabelOptions

    init(_ s: Section, _ c: StageContext) {
        var o = LabelOptions()
        o.classes = c.classes
        let from = s.string("from", default: "folders", oneOf: ["folders", "sheet", "pattern"])
        let level = s.int("level", default: 0, in: -16...16)
        switch from {
        case "sheet":
            if let path = c.file(s, "sheet") { o.source = .sheet(path: path) } else {
                s.problems.add(s.markOf("from"), "label: from: sheet needs sheet: PATH")
            }
        case "pattern":
            if let p = s.string("pattern", default: nil) {
                if (try? NSRegularExpression(pattern: p)) == nil {
                    s.problems.add(s.markOf("pattern"), "label.pattern: not a valid regular expression")
                }
                o.source = .pattern(p)
            } else {
                s.problems.add(s.markOf("from"), "label: from: pattern needs pattern: REGEX (its first group is the label)")
            }
        default:
            o.source = .folders(level: level)
        }
        _ = s.node("sheet"); _ = s.node("pattern")
        // The sheet's column names, when they are not file and label: {file: image, label: emotion}.
        let columns = s.subsection("columns")
        o.fileColumn = columns.string("file", default: nil)
        o.labelColumn = columns.string("label", default: nil) ?? o.labelColumn
        columns.finish()
        if o.fileColumn != nil || o.labelColumn != "label" { s.record("columns", .object(columns.canonical)) }
        o.aliases = s.stringMap("aliases", default: o.aliases)
        for (alias, target) in o.aliases where !c.classes.contains(target) {
            s.problems.add(s.markOf("aliases"), "label.aliases: \(alias) → \(target), which is not a class (\(c.classes.joined(separator: ", ")))")
        }
        o.discard = s.strings("discard", default: o.discard)
        o.strict = s.flag("strict")
        options = o
    }

    func inputs(_ upstream: [StageKind: [String: String]], _ pipeline: Pipeline, keepDump: DumpKeeper) throws -> [String: String]? {
        take(upstream, [(.ingest, "records"), (.ingest, "duplicates")])
    }

    func materialize(_ outputs: [String: String], previous: [String: String]?, _ pipeline: Pipeline, memo: Memo) throws {
        try pipeline.copyIfChanged(outputs["discarded"]!, to: Workspace.discarded(pipeline.manifest.workspace))
    }

    func execute(_ run: StageRun) throws -> StageResult {
        let (o, store, memo, inputs, events) = (options, run.store, run.memo, run.inputs, run.events)
        let labeler = try Labeling.Labeler(o)
        let refs = try memo.index(inputs["ingest.records"]!)
        let duplicates = try store.lines(DuplicateRecord.self, inputs["ingest.duplicates"]!)
        if case .sheet(let path) = o.source {
            let sources = try memo.records(inputs["ingest.records"]!).map(\.source) + duplicates.map(\.source)
            let unmatched = try labeler.unmatchedRows(sources: sources)
            if !unmatched.isEmpty { events.line("label: \(path): \(unmatched.count) rows match no photo: \(Labeling.describe(unmatched))") }
        }
        // The copies set aside by ingest stay in the key (through the duplicates input): they vote on labels.
        let base = run.shardBase(leaving: ["ingest.records"])
        let keys = refs.map { Pipeline.shardKey(base: base, prefix: $0.prefix, hashes: [$0.hash]) }
        let shards: [LabelShard], redone: Int
        do {
            (shards, redone) = try run.sharded(keys: keys) { missing in
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
        return StageResult(outputs: ["records": index, "discarded": try store.put(discarded)],
                           note: "\(counts); \(shards.reduce(0) { $0 + $1.discardedSources.count }) discarded, \(unlabelled.count) unlabelled, "
                               + "\(conflicts.count) conflicts" + Pipeline.shardNote(redone, of: refs.count))
    }
}
