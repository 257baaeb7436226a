import FacetCore
import FacetImage
import Foundation

/// The face crops of ingested photos, beside the ingest cache: `cache/faces.bin`, a header line
/// `facet-faces VERSION SIDE` and then records of the photo id (64 hex bytes) and its crop
/// (SIDE² RGB), appended as photos are decoded. Kept out of the analysis cache so that a run that
/// needs no face (every run without a learned occlusion tagger) never reads them.
enum FaceStore {
    static func path(_ workspace: String) -> String { workspace + "/cache/faces.bin" }
    static var header: [UInt8] { Array("facet-faces \(Analyzer.version) \(FaceCrop.side)\n".utf8) }
    static let recordSize = 64 + 3 * FaceCrop.side * FaceCrop.side

    /// Whether the file is there and of this version: the analysis cache is trusted only then, since a
    /// photo it holds is decoded again only when it is not.
    static func isValid(_ workspace: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path(workspace)) else { return false }
        defer { try? h.close() }
        return (try? h.read(upToCount: header.count)).map { [UInt8]($0) } == header
    }

    /// Crops by photo id (later records win; a record cut short at the end is left out); nil when
    /// the file is missing or of another version.
    static func read(_ workspace: String) -> [String: Data]? {
        guard let bytes = FileSystem.read(path(workspace)) else { return nil }
        let head = header
        guard bytes.count >= head.count, Array(bytes[..<head.count]) == head else { return nil }
        var out: [String: Data] = [:]
        var at = head.count
        while at + recordSize <= bytes.count {
            out[String(decoding: bytes[at..<(at + 64)], as: UTF8.self)] = Data(bytes[(at + 64)..<(at + recordSize)])
            at += recordSize
        }
        return out
    }

    /// Adds the crops made by an ingest: appended, or the file written afresh (with the crops of
    /// `keep` it held) when it is missing, of another version, ends in a cut-short record, holds
    /// more than twice as many records as `keep`, or `fresh` says the cache started empty.
    static func update(_ faces: [(id: String, crop: Data)], keep: Set<String>, fresh: Bool, workspace: String) throws {
        let file = path(workspace)
        func rewrite() throws {
            var all = fresh ? [:] : (read(workspace) ?? [:]).filter { keep.contains($0.key) }
            for f in faces { all[f.id] = f.crop }
            try AtomicFile.write(header + encode(all.sorted { $0.key < $1.key }.map { (id: $0.key, crop: $0.value) }), to: file)
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int
        guard !fresh, let size, size >= header.count, (size - header.count) % recordSize == 0, isValid(workspace),
              (size - header.count) / recordSize + faces.count <= 2 * max(keep.count, 1) else { return try rewrite() }
        if faces.isEmpty { return }
        guard let h = FileHandle(forWritingAtPath: file) else { return try rewrite() }
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: encode(faces))
    }

    static func encode(_ faces: [(id: String, crop: Data)]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(faces.count * recordSize)
        for f in faces where f.id.utf8.count == 64 && f.crop.count == recordSize - 64 {
            out += Array(f.id.utf8)
            out += [UInt8](f.crop)
        }
        return out
    }
}
