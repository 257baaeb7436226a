import FacetData
import Foundation

// Read by hand (`JSONReadable`): a records stage reads one per shard at every run, hundreds of
// small objects, which `JSONDecoder` makes the slowest part of a ten-photo run. Written by
// `JSONEncoder` (sorted keys), once, when made.

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
