import FacetCore
import FacetData
import Foundation

/// What the ingest stage's last run was made under and gave, beside FacetData's index of the
/// photos it accepted (`IngestIndex`, `cache/ingest-index.bin`): with both, a dump that only gained
/// files is ingested by analysing those alone (`IngestStage.extend`). `WORKSPACE/cache/ingest-state.bin`:
/// a header line and one checksummed record (`BinaryRecords`) naming the index's size, so that
/// an index another run left is not taken for this one's.
struct IngestState {
    static let header = Array("facet-ingest-state 3\n".utf8)

    /// What the run was made under (the stage's parameters and the analyser): used only under the same.
    var basis: String
    /// The dump's fingerprint it was made from, and its outputs (store hashes).
    var dump: String, records: String, quarantine: String, duplicates: String
    /// The shard key of each records shard, by prefix.
    var keys: [String: String]
    /// The photos it accepted.
    var index: IngestIndex

    static func path(_ workspace: String) -> String { workspace + "/cache/ingest-state.bin" }

    /// Writes the index, then the state naming its size. The old state is removed first, so a run
    /// killed midway leaves none (and the next ingest is a full one).
    func write(_ workspace: String) throws {
        unlink(Self.path(workspace))
        try index.write(workspace)
        var w = BinaryWriter()
        for s in [basis, dump, records, quarantine, duplicates] { w.string(s) }
        w.int(keys.count)
        for (p, k) in keys.sorted(by: { $0.key < $1.key }) { w.string(p); w.string(k) }
        w.int(IngestIndex.size(IngestIndex.path(workspace)))
        var out = Self.header
        BinaryRecords.append(w.bytes, to: &out)
        try CacheFile.write(out, to: Self.path(workspace))
    }

    /// The state of `workspace`; nil when missing, of another version, damaged, or when its index
    /// is missing, damaged or not the one it was written with.
    static func read(_ workspace: String) -> IngestState? {
        guard let data = FileSystem.read(path(workspace)), data.count > header.count, data[..<header.count].elementsEqual(header) else { return nil }
        let (payloads, end) = BinaryRecords.split(data, from: header.count)
        guard payloads.count == 1, end == data.count else { return nil }
        let fields = data.withUnsafeBytes { b -> (strings: [String], keys: [String: String], indexSize: Int)? in
            var r = BinaryReader(UnsafeRawBufferPointer(rebasing: b[payloads[0]]))
            do throws(BinaryReader.Malformed) {
                let strings = try (0..<5).map { _ throws(BinaryReader.Malformed) in try r.string() }
                var keys: [String: String] = [:]
                for _ in 0..<(try IngestIndex.count(&r)) { keys[try r.string()] = try r.string() }
                let size = try r.int()
                return r.atEnd ? (strings, keys, size) : nil
            } catch {
                return nil
            }
        }
        guard let fields, IngestIndex.size(IngestIndex.path(workspace)) == fields.indexSize, let index = IngestIndex.read(workspace) else { return nil }
        let s = fields.strings
        return IngestState(basis: s[0], dump: s[1], records: s[2], quarantine: s[3], duplicates: s[4], keys: fields.keys, index: index)
    }
}
