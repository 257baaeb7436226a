import FacetData
import Foundation

// Read by hand (`JSONReadable`): a records stage reads one per shard at every run, hundreds of
// small objects, which `JSONDecoder` makes the slowest part of a ten-photo run. Written by
// `JSONEncoder` (sorted keys), once, when made.

/// A shard of ingest's records.
struct RecordsShard: ShardResult {
    var records: String
    var objects: [String] { [records] }
}

extension RecordsShard: JSONReadable {
    init(_ r: inout JSONReader) throws {
        var records: String?
        try r.object { r, key in if key == "records" { records = try r.string() } else { try r.skip() } }
        self.init(records: try required(records, "records", r))
    }
}
