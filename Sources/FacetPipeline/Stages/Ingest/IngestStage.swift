import FacetCore
import FacetData
import FacetImage
import Foundation
import Yams

/// `ingest:` — every file of the dump read, checked and analysed once: accepted photos become
/// records (sharded by group), the rest go to quarantine or to the duplicates with a reason.
/// Incremental: per-file analyses in the ingest cache (FacetData's `IngestCache`), and a dump
/// that only gained files analyses those alone (`IngestState`, `extend`).
struct IngestStage: PipelineStage {
    static let kind = StageKind.ingest
    static let requires: [StageKind] = []
    static let reads: [StageKind] = []
    static let outputs = ["records", "quarantine", "duplicates", "summary"]
    static let isRecords = true
    /// The analyser's version: what an analysis computes is part of what a run's records are made
    /// under, so a new analyser makes the stage stale even when the dump and parameters are not.
    static let version = Analyzer.version
    var options: IngestOptions

    init(_ s: Section, _ c: StageContext) {
        var o = IngestOptions()
        o.maxPixels = s.int("max_pixels", default: o.maxPixels, in: 1...1_000_000_000)
        o.maxBytes = s.int("max_bytes", default: o.maxBytes, in: 1...(1 << 40))
        let dedupe = s.subsection("dedupe")
        if dedupe.node("near").map({ if case .scalar(let x) = $0 { x.string == "false" } else { false } }) == true {
            o.nearMaxDistance = nil
            dedupe.record("near", .bool(false))
        } else {
            let near = dedupe.subsection("near")
            o.nearMaxDistance = near.int("max_distance", default: NearDuplicate.maxDistance, in: 0...64)
            o.nearMaxThumbDifference = near.double("max_thumb_difference", default: o.nearMaxThumbDifference, in: 0...255)
            near.finish()
            dedupe.record("near", .object(near.canonical))
        }
        let burst = dedupe.int("burst_seconds", default: 0, in: 0...86_400)
        o.burstSeconds = burst > 0 ? burst : nil
        dedupe.finish()
        s.record("dedupe", .object(dedupe.canonical))
        o.faces = Self.faces(s)
        options = o
    }

    static func isAuto(_ n: Node) -> Bool { if case .scalar(let x) = n { x.string == "auto" } else { false } }

    /// `faces:` — absent or false: faces are not looked for (and the key is left out of the
    /// stage's parameters, so manifests without it keep their keys); true or a mapping: they are.
    static func faces(_ s: Section) -> FaceOptions? {
        guard let node = s.node("faces") else { return nil }
        let f: Section
        if case .scalar(let x) = node, let on = Bool(x.string.lowercased()) {
            guard on else { return nil }
            // `true`: every key at its default, recorded as a mapping written out would be.
            f = Section(nil, path: "ingest.faces", problems: s.problems)
        } else {
            f = s.subsection("faces")
        }
        var o = FaceOptions()
        o.side = f.int("side", default: o.side, in: 64...4096)
        if let n = f.node("upsample"), !Self.isAuto(n) {
            o.upsample = f.int("upsample", default: 0, in: 0...2)
        } else {
            f.record("upsample", .string("auto"))
        }
        o.threshold = f.double("threshold", default: o.threshold, in: -2...2)
        o.minSize = f.int("min_size", default: o.minSize, in: 0...10_000)
        f.finish()
        s.record("faces", .object(f.canonical))
        return o
    }

    func inputs(_ upstream: [StageKind: [String: String]], _ pipeline: Pipeline, keepDump: DumpKeeper) throws -> [String: String]? {
        let f = try Ingest.fingerprint(dump: pipeline.manifest.source, workspace: pipeline.manifest.workspace, maxBytes: options.maxBytes)
        Trace.mark("dump listed and fingerprinted")
        return ["dump": try keepDump(Array(f.lines.map { $0 + "\n" }.joined().utf8), f.listing)]
    }

    func materialize(_ outputs: [String: String], previous: [String: String]?, _ pipeline: Pipeline, memo: Memo) throws {
        let w = pipeline.manifest.workspace
        try pipeline.copyIfChanged(outputs["quarantine"]!, to: Workspace.quarantine(w))
        try pipeline.copyIfChanged(outputs["duplicates"]!, to: Workspace.duplicates(w))
        try pipeline.copyIfChanged(outputs["summary"]!, to: Workspace.summary(w))
        if (try? Workspace.dump(w)) != pipeline.manifest.source { try Ingest.writeInfo(dump: pipeline.manifest.source, workspace: w) }
    }

    func execute(_ run: StageRun) throws -> StageResult {
        let (o, store, manifest, memo, inputs, force, events) = (options, run.store, run.manifest, run.memo, run.inputs, run.force, run.events)
        // A record follows from its photo's analysis (its id, under this analyser), its path, group
        // and size, and the dump's median photo area (its quality's odd_size): a shard's key.
        let basis = run.shardBase(leaving: ["dump"]) + "\nanalyzer \(Analyzer.version)"
        if let problem = o.faces.flatMap(FaceFinder.setupProblem) { throw DataError("ingest: faces: " + problem) }
        // A dump that only gained files: those alone are analysed, when that gives what a full ingest gives.
        var decodedFirst = 0
        if !force, let done = try? extend(run, basis: basis, decoded: &decodedFirst) { return done }
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
            Pipeline.shardKey(base: base, prefix: p.prefix, hashes: [],
                          extra: Self.members(p.items.map { (r.photos[$0].analysis.sha256, r.photos[$0].source, r.photos[$0].group, r.photos[$0].bytes) }))
        }
        let (shards, redone) = try run.sharded(keys: keys) { missing in
            let built = missing.map { parts[$0].items.map { r.record(r.photos[$0]) } }
            return try memo.putShards(built).map(RecordsShard.init)
        }
        let index = try memo.putIndex(zip(parts, shards).map { ShardRef(prefix: $0.prefix, hash: $1.records) })
        let outputs = [
            "records": index, "quarantine": try store.putLines(r.quarantine),
            "duplicates": try store.putLines(r.duplicates), "summary": try store.putLines([try Self.dataOnly(s)]),
        ]
        // What the next run needs to take only the files added since (a state not written costs it a full ingest).
        var photos = IngestIndex(medianArea: r.medianArea, summary: s, cacheSizes: IngestIndex.cacheSizes(manifest.workspace))
        if photos.append(r.photos) {
            let state = IngestState(basis: basis, dump: inputs["dump"] ?? "", records: index, quarantine: outputs["quarantine"]!,
                                    duplicates: outputs["duplicates"]!, keys: Dictionary(zip(parts.map(\.prefix), keys)) { a, _ in a }, index: photos)
            try? state.write(manifest.workspace)
            memo.thumbs = photos.thumbLookup()
        } else {
            unlink(IngestState.path(manifest.workspace))
            let thumbs = r.thumbs
            memo.thumbs = { thumbs[$0] }
        }
        return StageResult(outputs: outputs, note: Self.ingestNote(s, redone: redone, of: parts.count), work: s.decoded)
    }

    static func ingestNote(_ s: IngestSummary, redone: Int, of shards: Int) -> String {
        "\(s.found) files: \(s.accepted) accepted, \(s.quarantined) quarantined, \(s.duplicates) duplicates; "
            + "\(s.decoded) decoded, \(s.reused) from the cache" + Pipeline.shardNote(redone, of: shards)
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
}

extension IngestStage {
    /// The ingest summary without the counts of files decoded and reused: those say what the
    /// cache held, not what the dump holds, and would make a resumed run's outputs differ.
    static func dataOnly(_ s: IngestSummary) throws -> [String: Value] {
        var v = try JSONDecoder().decode([String: Value].self, from: JSONEncoder().encode(s))
        v["decoded"] = nil
        v["reused"] = nil
        return v
    }
}
