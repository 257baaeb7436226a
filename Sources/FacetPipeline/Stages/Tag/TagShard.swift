import FacetData
import Foundation

// Read by hand (`JSONReadable`): a records stage reads one per shard at every run, hundreds of
// small objects, which `JSONDecoder` makes the slowest part of a ten-photo run. Written by
// `JSONEncoder` (sorted keys), once, when made.

/// A shard of the tag stage: its records and its counts.
struct TagShard: ShardResult {
    var records: String
    var counts: [String: [String: Int]]
    var fromSheet: Int
    var objects: [String] { [records] }
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
