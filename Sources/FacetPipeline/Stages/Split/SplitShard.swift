import FacetData
import Foundation

// Read by hand (`JSONReadable`): a records stage reads one per shard at every run, hundreds of
// small objects, which `JSONDecoder` makes the slowest part of a ten-photo run. Written by
// `JSONEncoder` (sorted keys), once, when made.

/// A shard of the split stage: its records, its counts, and what the leakage check needs of it.
struct SplitShard: ShardResult {
    var records: String
    var candidates: String
    var tally: SplitTally
    var objects: [String] { [records, candidates] }
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
