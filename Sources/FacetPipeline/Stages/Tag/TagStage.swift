import FacetData
import FacetImage
import FacetLearn
import Foundation

/// `tag:` — each photo's lighting, background and occlusion, from its measures and the
/// thresholds here (FacetData's `Tagging`), or from an overrides sheet; shard by shard.
struct TagStage: PipelineStage {
    static let kind = StageKind.tag
    static let requires: [StageKind] = [.ingest]
    static let reads: [StageKind] = [.ingest]
    static let outputs = ["records"]
    static let isRecords = true
    /// 2: tags relative to the face, and `unknown` with its reason.
    static let version = 2
    var thresholds: TagThresholds
    /// The overrides sheet, when one is named.
    var overrides: String?

    init(_ s: Section, _ c: StageContext) {
        var t = TagThresholds()
        let lighting = s.subsection("lighting"), background = s.subsection("background"), occlusion = s.subsection("occlusion")
        t.dimBelow = lighting.double("dim_below", default: t.dimBelow, in: 0...1)
        t.exifMargin = lighting.double("exif_margin", default: t.exifMargin, in: 0...1)
        t.exifDimBelow = lighting.double("exif_dim_below", default: t.exifDimBelow, in: -20...20)
        t.clutteredAbove = background.double("cluttered_above", default: t.clutteredAbove, in: 0...10)
        t.occludedAbove = occlusion.double("occluded_above", default: t.occludedAbove, in: 0...10)
        t.occlusionModel = c.file(occlusion, "model")
        for (key, section) in [("lighting", lighting), ("background", background), ("occlusion", occlusion)] {
            section.finish()
            s.record(key, .object(section.canonical))
        }
        thresholds = t
        overrides = c.file(s, "overrides")
    }

    func inputs(_ upstream: [StageKind: [String: String]], _ pipeline: Pipeline, keepDump: DumpKeeper) throws -> [String: String]? {
        guard var out = take(upstream, [(.ingest, "records")]) else { return nil }
        // A learned occlusion tagger reads ingest's face crops: a function of each photo's bytes and the analyser.
        if thresholds.occlusionModel != nil { out["face crops"] = "analyzer \(Analyzer.version)" }
        return out
    }

    func execute(_ run: StageRun) throws -> StageResult {
        let (memo, inputs, manifest) = (run.memo, run.inputs, run.manifest)
        let tagger = try Tagging.Tagger(thresholds: thresholds, overrides: overrides, learner: OcclusionTagger.learner)
        let refs = try memo.index(inputs["ingest.records"]!)
        let base = run.shardBase(leaving: ["ingest.records"])
        let keys = refs.map { Pipeline.shardKey(base: base, prefix: $0.prefix, hashes: [$0.hash]) }
        let (shards, redone) = try run.sharded(keys: keys) { missing in
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
        return StageResult(outputs: ["records": index], note: "\(total) photos tagged: " + highs.joined(separator: ", ")
                + (fromSheet > 0 ? "; \(fromSheet) from the sheet" : "") + Pipeline.shardNote(redone, of: refs.count))
    }
}
