import FacetCore
import FacetData
import FacetImage
import Foundation

/// The files a run keeps in the workspace as views of the store: `manifest.jsonl` (the last
/// records stage's records), and the copies the stages' `materialize` writes.
extension Pipeline {
    /// `WORKSPACE/manifest.jsonl`: the records of index `h`, those of the last records stage
    /// (split, else label, tag, ingest).
    func materializeRecords(_ h: String, memo: Memo) throws {
        // Written from the index `h`, and not touched since (a stamp of its size and mtime): as it should be.
        let path = Workspace.manifest(manifest.workspace), stampPath = manifest.workspace + "/cache/manifest.stamp"
        /// The file's size and time, as its stamp holds them after the index's hash.
        func identity() -> String? {
            var st = stat()
            guard stat(path, &st) == 0 else { return nil }
            return "\t\(st.st_size)\t\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)\n"
        }
        let stamped = FileSystem.read(stampPath).map { String(decoding: $0, as: UTF8.self) }, now = identity()
        if let stamped, let now, stamped == h + now { return }
        // Written from an earlier index and not touched since: only the shards that changed are read.
        let was = stamped?.split(separator: "\t", maxSplits: 1).first.map(String.init)
        if let was, let now, stamped == was + now, let previous = FileSystem.read(path),
           let updated = try? updatedRecords(previous, from: was, to: h, memo: memo) {
            try writeIfChanged(updated, to: path)
        } else {
            // In order of source, as `facet ingest` writes it (the shards hold them by group).
            let shards = try store.get(try memo.index(h).map(\.hash))
            try writeIfChanged(try Shards.sortedLines(shards, by: "source").bytes, to: path)
        }
        if let written = identity() { try? CacheFile.write(Array((h + written).utf8), to: stampPath) }   // a stamp missing costs a compare
    }

    /// The records manifest `previous`, written from index `was`, brought up to index `now` from
    /// the shards that differ (nil when that cannot be vouched for; see `Shards.updatedLines`).
    func updatedRecords(_ previous: [UInt8], from was: String, to now: String, memo: Memo) throws -> [UInt8]? {
        let after = try memo.index(now).map(\.hash)
        let (gone, came) = Shards.changes(from: try memo.index(was).map(\.hash), to: after)
        return Shards.updatedLines(previous, removing: try store.get(gone), adding: try store.get(came.map { after[$0] }), by: "source")?.bytes
    }

    func copyIfChanged(_ hash: String, to path: String) throws {
        try writeIfChanged(try store.get(hash), to: path)
    }

    /// Not fsynced: these files are views of the store, compared with it (or with the stamp of
    /// what was written) on every run and written again when they differ, so a power cut that
    /// left one short costs a rewrite. An fsync each was up to a quarter of a second under load.
    func writeIfChanged(_ bytes: [UInt8], to path: String) throws {
        // Read to compare only when the sizes agree (a stat): a changed file is most often resized.
        var st = stat()
        if stat(path, &st) == 0, Int(st.st_size) == bytes.count, let old = FileSystem.read(path), old == bytes { return }
        try AtomicFile.write(bytes, to: path, durable: false)
    }
}
