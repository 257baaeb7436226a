import FacetCore
import FacetData
import FacetImage
import Foundation

/// `augment:` — the dataset: each split, labelled photo resized (and its train copies
/// augmented by `ops`), written as JPEGs with `manifest.jsonl`, `manifest.csv` and
/// `augment.json`, in `WORKSPACE/dataset` (`DatasetFolder.swift`). Per-photo cache:
/// `AugmentCache`; shard by shard, the joined manifests brought up to date (`AugmentJoin.swift`).
struct AugmentStage: PipelineStage {
    static let kind = StageKind.augment
    static let requires: [StageKind] = [.split]
    static let reads: [StageKind] = [.split]
    static let outputs = ["manifest", "index", "csv", "options", "left_out"]
    var options: AugmentOptions
    /// Threads to render on (0: all cores); never part of the cache key, as it never changes a byte.
    var threads = 0

    init(options: AugmentOptions) { self.options = options }

    init(_ s: Section, _ c: StageContext) {
        var o = AugmentOptions()
        o.splits = s.strings("splits", default: o.splits, oneOf: Splitting.names)
        o.size = s.int("size", default: o.size, in: AugmentOptions.sizes)
        o.policy = ResizePolicy(rawValue: s.string("policy", default: "crop", oneOf: ["crop", "pad"]) ?? "crop") ?? .crop
        o.copies = s.int("copies", default: o.copies, in: AugmentOptions.copyCounts)
        o.keepSource = s.bool("keep_source", default: o.keepSource)
        o.seed = UInt64(s.int("seed", default: Int(c.seed), in: 0...Int.max))
        o.quality = s.int("quality", default: o.quality, in: AugmentOptions.qualities)
        o.ops = AugmentOpsReader.read(s)
        o.face = Self.face(s)
        options = o
    }

    /// `crop: face` (with `face_margin`, `eye_line`, `missing_face`) or `crop: frame`; absent:
    /// frame, and the keys left out of the parameters, so manifests without them keep their keys.
    static func face(_ s: Section) -> FaceAlignment? {
        let keys = ["face_margin", "eye_line", "missing_face"]
        guard s.node("crop") != nil else {
            for k in keys where s.node(k) != nil { s.problems.add(s.markOf(k), "augment.\(k) applies to crop: face; add crop: face") }
            return nil
        }
        guard s.string("crop", default: "frame", oneOf: ["frame", "face"]) == "face" else {
            for k in keys where s.node(k) != nil { s.problems.add(s.markOf(k), "augment.\(k) applies to crop: face, not crop: frame") }
            return nil
        }
        var f = FaceAlignment()
        f.margin = s.double("face_margin", default: f.margin, in: FaceAlignment.margins)
        f.eyeLine = s.double("eye_line", default: f.eyeLine, in: FaceAlignment.eyeLines)
        f.missing = FaceAlignment.Missing(rawValue: s.string("missing_face", default: "skip", oneOf: FaceAlignment.Missing.allCases.map(\.rawValue)) ?? "skip") ?? .skip
        return f
    }

    func problem(with stages: [StageKind: StageParameters]) -> String? {
        guard options.face != nil, let ingest = stages[.ingest]?.stage as? IngestStage else { return nil }
        return ingest.options.faces == nil ? "augment: crop: face aligns the faces ingest finds; add faces: true (or faces: {…}) to ingest" : nil
    }

    func inputs(_ upstream: [StageKind: [String: String]], _ pipeline: Pipeline, keepDump: DumpKeeper) throws -> [String: String]? {
        take(upstream, [(.split, "records")])
    }

    func materialize(_ outputs: [String: String], previous: [String: String]?, _ pipeline: Pipeline, memo: Memo) throws {
        try pipeline.materializeDataset(outputs, previous: previous, memo: memo)
    }

    /// What a build made: the stage's outputs, images per split, photos (and how many were
    /// rendered now rather than taken from the cache), shards (and how many were redone).
    struct Built {
        var outputs: [String: String]
        var written: [String: Int]
        var photos: Int
        var rendered: Int
        var shards: Int
        var redone: Int
        var leftOut: [DatasetExport.LeftOut]
    }

    func execute(_ run: StageRun) throws -> StageResult {
        let b = try build(run)
        return StageResult(outputs: b.outputs, note: Splitting.names.map { "\(b.written[$0] ?? 0) \($0)" }.joined(separator: ", ") + " images; "
            + "\(b.rendered) photos rendered, \(b.photos - b.rendered) from the cache"
            + (b.leftOut.isEmpty ? "" : "; \(b.leftOut.count) photos left out (\(Self.reasons(b.leftOut)); dataset/left_out.jsonl)")
            + Pipeline.shardNote(b.redone, of: b.shards), work: b.rendered)
    }

    /// Augments shard by shard; the dataset's manifests are the shards' lines in order of file,
    /// and `index` lists the shards of the manifest.
    func build(_ run: StageRun) throws -> Built {
        let (o, manifest, memo, inputs, previous, force, events) = (options, run.manifest, run.memo, run.inputs, run.previous, run.force, run.events)
        let refs = try memo.index(inputs["split.records"]!)
        let base = run.shardBase(leaving: ["split.records"])
        let keys = refs.map { Pipeline.shardKey(base: base, prefix: $0.prefix, hashes: [$0.hash]) }
        var rendered = 0
        var fresh: [String: [DatasetRecord]] = [:]
        // The last run's joined manifest and CSV, read and checked while the shards are worked.
        let store = run.store
        let last = previous.flatMap { p in
            p["manifest"].flatMap { m in p["csv"].map { c in Background { (manifest: try store.get(m), csv: try store.get(c)) } } }
        }
        let (shards, redone) = try run.sharded(keys: keys) { missing in
            let parts = try missing.map { try memo.shard(refs[$0].hash) }
            // One build for every shard that needs one, so the rendering uses every core.
            let made = try AugmentCache(store: store, workspace: manifest.workspace)
                .build(parts.flatMap { $0 }, dump: manifest.source, options: o, useCache: !force, threads: threads,
                       progress: events.progress("augment"))
            rendered = made.rendered
            var next = made.records.makeIterator()
            let leftOut = Dictionary(grouping: made.leftOut, by: \.id)
            return try parts.map { records in
                let dataset = records.flatMap { _ in next.next()! }.sorted { $0.file < $1.file }
                let left = records.flatMap { leftOut[$0.id] ?? [] }
                let h = try store.putLines(dataset)
                fresh[h] = dataset
                var written: [String: Int] = [:]
                for r in dataset { written[r.split, default: 0] += 1 }
                let rows = dataset.map(DatasetExport.csvRow)
                return AugmentShard(manifest: h, csv: try store.put(Array(rows.joined())), written: written,
                                    photos: Set(dataset.map(\.derivedFrom)).count, rows: rows.map(\.count), leftOut: left)
            }
        }
        Trace.mark("augment: shards")
        let photos = shards.reduce(0) { $0 + $1.photos }
        let leftOut = shards.flatMap(\.leftOut).sorted { $0.source < $1.source }
        guard photos > 0 else {
            throw DataError("augment: no split, labelled photos" + (leftOut.isEmpty ? "" : " left: all \(leftOut.count) were left out (\(Self.reasons(leftOut)))"))
        }
        var written: [String: Int] = [:]
        for s in shards { for (k, n) in s.written { written[k, default: 0] += n } }
        // The manifests in order of file, as `facet augment` writes them (the shards hold them by
        // group): the last run's brought up to date when it can be, else joined from every shard.
        let (lines, csv) = try previous.flatMap { try run.pipeline.updatedJoin(shards, previous: $0, last: last, memo: memo) } ?? run.pipeline.join(shards)
        let manifestHash = try store.put(lines)
        Trace.mark("augment: manifest joined")
        if redone == shards.count { memo.dataset[manifestHash] = shards.flatMap { fresh[$0.manifest]! }.sorted { $0.file < $1.file } }
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        let index = Shards.encodeIndex(zip(refs, shards).map { ShardRef(prefix: $0.prefix, hash: $1.manifest) })
        return Built(outputs: [
            "manifest": manifestHash, "index": try store.put(index),
            "csv": try store.put(DatasetExport.csvHeader + csv),
            "options": try store.put(Array(try e.encode(o)) + [0x0A]),
            "left_out": try store.putLines(leftOut),
        ], written: written, photos: photos, rendered: rendered, shards: shards.count, redone: redone, leftOut: leftOut)
    }

    /// "12 no_face, 1 no_landmarks".
    static func reasons(_ leftOut: [DatasetExport.LeftOut]) -> String {
        Dictionary(grouping: leftOut, by: \.reason).sorted { $0.key < $1.key }.map { "\($0.value.count) \($0.key)" }.joined(separator: ", ")
    }
}
