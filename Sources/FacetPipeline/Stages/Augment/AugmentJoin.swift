import FacetCore
import FacetData
import FacetImage
import Foundation

extension Pipeline {
    /// The dataset manifest and CSV rows of the augment shards, joined in order of file.
    func join(_ shards: [AugmentShard]) throws -> (manifest: [UInt8], csv: [UInt8]) {
        let (lines, order) = try Shards.sortedLines(try store.get(shards.map(\.manifest)), by: "file")
        let rows = try csvRows(shards)
        var csv: [UInt8] = []
        csv.reserveCapacity(rows.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } })
        for o in order {
            guard o.line < rows[o.chunk].count else { throw DataError("augment: a shard's CSV rows and manifest lines differ in number; delete \(manifest.workspace)/cache/shards and run again") }
            csv += rows[o.chunk][o.line]
        }
        return (lines, csv)
    }

    /// The last run's join (its outputs `previous`) brought up to date from the shards that changed
    /// since; nil when it cannot be (see `Shards.updatedLines`), and the caller joins in full.
    /// `last`: the bytes of the last run's manifest and CSV (its outputs `previous`), being read.
    func updatedJoin(_ shards: [AugmentShard], previous: [String: String], last: Background<(manifest: [UInt8], csv: [UInt8])>?,
                     memo: Memo) throws -> (manifest: [UInt8], csv: [UInt8])? {
        guard let was = previous["index"], let before = try? memo.index(was).map(\.hash), let (lastManifest, oldCSV) = try? last?.wait(),
              oldCSV.starts(with: DatasetExport.csvHeader) else { return nil }
        let (gone, came) = Shards.changes(from: before, to: shards.map(\.manifest))
        let added = came.map { shards[$0] }
        guard let update = Shards.updatedLines(lastManifest, removing: try store.get(gone),
                                               adding: try store.get(added.map(\.manifest)), by: "file") else { return nil }
        let oldRows = ByteScan.csvRowRanges(oldCSV, from: DatasetExport.csvHeader.count)
        guard oldRows.count == update.previousLines else { return nil }
        let newRows = try csvRows(added)
        var csv: [UInt8] = []
        csv.reserveCapacity(oldCSV.count)
        for o in update.origins {
            switch o {
            case .previous(let i): csv += oldCSV[oldRows[i]]
            case .added(let c, let l):
                guard l < newRows[c].count else { return nil }
                csv += newRows[c][l]
            }
        }
        return (update.bytes, csv)
    }

    /// Each shard's CSV rows, split by their recorded lengths.
    func csvRows(_ shards: [AugmentShard]) throws -> [[ArraySlice<UInt8>]] {
        try zip(shards, try store.get(shards.map(\.csv))).map { s, bytes in
            guard s.rows.reduce(0, +) == bytes.count else { throw DataError("\(store.path(s.csv)): its rows do not add up; delete \(manifest.workspace)/cache/shards and run again") }
            var at = 0
            return s.rows.map { n in defer { at += n }; return bytes[at..<(at + n)] }
        }
    }
}
