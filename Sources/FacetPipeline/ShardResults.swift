import FacetData
import Foundation

// The shard results read by hand (`JSONReadable`): a records stage reads one per shard at
// every run, hundreds of small objects, which `JSONDecoder` makes the slowest part of a
// ten-photo run. They are written by `JSONEncoder` (sorted keys), once, when made.

/// A shard of ingest's records.
struct RecordsShard: ShardResult {
    var records: String
    var objects: [String] { [records] }
}

/// A shard of the tag stage: its records and its counts.
struct TagShard: ShardResult {
    var records: String
    var counts: [String: [String: Int]]
    var fromSheet: Int
    var objects: [String] { [records] }
}

/// A shard of the label stage.
struct LabelShard: ShardResult {
    struct Conflict: Codable {
        var sources: [String]
        var labels: [String]
    }
    var records: String
    /// The discarded records' JSON Lines, when there are any.
    var discarded: String?
    var perClass: [String: Int]
    var discardedSources: [String]
    var unlabelled: [String]
    var conflicts: [Conflict]
    var objects: [String] { [records] + (discarded.map { [$0] } ?? []) }
}

/// A shard of the split stage: its records, its counts, and what the leakage check needs of it.
struct SplitShard: ShardResult {
    var records: String
    var candidates: String
    var tally: SplitTally
    var objects: [String] { [records, candidates] }
}

/// A shard of the augment stage: its dataset records and their CSV rows.
struct AugmentShard: ShardResult {
    var manifest: String
    var csv: String
    /// Images per split.
    var written: [String: Int]
    /// Photos the images come from.
    var photos: Int
    /// The length in bytes of each CSV row, in the order of the manifest's lines.
    var rows: [Int]
    var objects: [String] { [manifest, csv] }
}

extension JSONReader {
    /// `{"key": Int, …}`
    mutating func counts() throws -> [String: Int] {
        var out: [String: Int] = [:]
        try object { r, key in out[key] = try r.int() }
        return out
    }
}

extension RecordsShard: JSONReadable {
    init(_ r: inout JSONReader) throws {
        var records: String?
        try r.object { r, key in if key == "records" { records = try r.string() } else { try r.skip() } }
        self.init(records: try required(records, "records", r))
    }
}

extension TagShard: JSONReadable {
    init(_ r: inout JSONReader) throws {
        var records: String?, counts: [String: [String: Int]] = [:], fromSheet = 0
        try r.object { r, key in
            switch key {
            case "records": records = try r.string()
            case "counts": try r.object { r, c in counts[c] = try r.counts() }
            case "fromSheet": fromSheet = try r.int()
            default: try r.skip()
            }
        }
        self.init(records: try required(records, "records", r), counts: counts, fromSheet: fromSheet)
    }
}

extension LabelShard.Conflict: JSONReadable {
    init(_ r: inout JSONReader) throws {
        var sources: [String] = [], labels: [String] = []
        try r.object { r, key in
            switch key {
            case "sources": sources = try r.strings()
            case "labels": labels = try r.strings()
            default: try r.skip()
            }
        }
        self.init(sources: sources, labels: labels)
    }
}

extension LabelShard: JSONReadable {
    init(_ r: inout JSONReader) throws {
        var records: String?, discarded: String?, perClass: [String: Int] = [:]
        var discardedSources: [String] = [], unlabelled: [String] = [], conflicts: [Conflict] = []
        try r.object { r, key in
            switch key {
            case "records": records = try r.string()
            case "discarded": discarded = try r.optionalString()
            case "perClass": perClass = try r.counts()
            case "discardedSources": discardedSources = try r.strings()
            case "unlabelled": unlabelled = try r.strings()
            case "conflicts": conflicts = try r.items(Conflict.self)
            default: try r.skip()
            }
        }
        self.init(records: try required(records, "records", r), discarded: discarded, perClass: perClass,
                  discardedSources: discardedSources, unlabelled: unlabelled, conflicts: conflicts)
    }
}

extension SplitShard: JSONReadable {
    init(_ r: inout JSONReader) throws {
        var records: String?, candidates: String?, tally = SplitTally()
        try r.object { r, key in
            switch key {
            case "records": records = try r.string()
            case "candidates": candidates = try r.string()
            case "tally":
                try r.object { r, k in
                    if k == "cells" {
                        try r.object { r, cell in
                            var row: [Int] = []
                            try r.array { row.append(try $0.int()) }
                            tally.cells[cell] = row
                        }
                    } else {
                        try r.skip()
                    }
                }
            default: try r.skip()
            }
        }
        self.init(records: try required(records, "records", r), candidates: try required(candidates, "candidates", r), tally: tally)
    }
}

extension AugmentShard: JSONReadable {
    init(_ r: inout JSONReader) throws {
        var manifest: String?, csv: String?, written: [String: Int] = [:], photos = 0, rows: [Int]?
        try r.object { r, key in
            switch key {
            case "manifest": manifest = try r.string()
            case "csv": csv = try r.string()
            case "written": written = try r.counts()
            case "photos": photos = try r.int()
            case "rows": var n: [Int] = []; try r.array { n.append(try $0.int()) }; rows = n
            default: try r.skip()
            }
        }
        self.init(manifest: try required(manifest, "manifest", r), csv: try required(csv, "csv", r), written: written, photos: photos,
                  rows: try required(rows, "rows", r))
    }
}
