import FacetData
import Foundation

// Read by hand (`JSONReadable`): a records stage reads one per shard at every run, hundreds of
// small objects, which `JSONDecoder` makes the slowest part of a ten-photo run. Written by
// `JSONEncoder` (sorted keys), once, when made.

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
    /// Photos of the shard left out of the dataset (`crop: face` without a face), with why.
    var leftOut: [DatasetExport.LeftOut] = []
    var objects: [String] { [manifest, csv] }
}

extension AugmentShard: JSONReadable {
    init(_ r: inout JSONReader) throws {
        var manifest: String?, csv: String?, written: [String: Int] = [:], photos = 0, rows: [Int]?, leftOut: [DatasetExport.LeftOut] = []
        try r.object { r, key in
            switch key {
            case "manifest": manifest = try r.string()
            case "csv": csv = try r.string()
            case "written": written = try r.counts()
            case "photos": photos = try r.int()
            case "leftOut": leftOut = try r.items(DatasetExport.LeftOut.self)
            case "rows": var n: [Int] = []; try r.array { n.append(try $0.int()) }; rows = n
            default: try r.skip()
            }
        }
        self.init(manifest: try required(manifest, "manifest", r), csv: try required(csv, "csv", r), written: written, photos: photos,
                  rows: try required(rows, "rows", r), leftOut: leftOut)
    }
}
