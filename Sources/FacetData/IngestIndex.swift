import FacetCore
import FacetImage
import Foundation
import Synchronization

/// The photos an ingest accepted, kept so that a dump that only gained files is ingested by
/// analysing those alone (`Ingest.extend`): per photo its id, group, size in bytes, pixel size,
/// perceptual hash and path, as columns, with the ingest's median area and summary.
/// `WORKSPACE/cache/ingest-index.bin`: a header line and one checksummed record (`BinaryRecords`),
/// 0.5 MB for 3,766 photos, read without making a string per photo. Their thumbnails, needed only
/// for the few photos an added one could be a near duplicate of, are in `ingest-thumbs.bin` (a
/// header line, then one per photo, of one size, in order), appended to. The pipeline's ingest
/// stage keeps it beside what its own run was made under (FacetPipeline's `IngestState`).
public struct IngestIndex: Sendable {
    static let header = Array("facet-ingest-index 1\n".utf8)

    public var medianArea: Double
    public var summary: IngestSummary
    /// The sizes of the analysis cache, its stat index and the face store after that ingest: an index
    /// whose caches changed since (another ingest, a damaged file) is not used.
    public var cacheSizes: [Int]

    // The accepted photos, by position: ids as 64 hex bytes each, each group as the position of the
    // photo whose id names it, and the sources as one buffer with every photo's end offset.
    var ids: [UInt8] = []
    var groups: [Int] = [], phashes: [UInt64] = [], widths: [Int] = [], heights: [Int] = [], sizes: [Int] = []
    var sourceEnds: [Int] = [], sources: [UInt8] = []
    /// The thumbnails not yet in the thumbnail file (this run's), and the file's thumbnail size.
    var newThumbs: [UInt8] = [], thumbSize = 0
    /// Where the thumbnails of the photos before `newThumbs` are (nil: an index being made whole),
    /// and the file's bytes once read.
    var thumbFile: String?
    private let thumbBytes = ReadOnce()

    /// A file's bytes, read at the first ask and shared by the copies of the index holding it.
    final class ReadOnce: Sendable {
        let bytes = Mutex<[UInt8]?>(nil)
    }
    /// A checksum of each thumbnail, against which the file's are read.
    var thumbSums: [UInt64] = []

    public init(medianArea: Double, summary: IngestSummary, cacheSizes: [Int]) {
        (self.medianArea, self.summary, self.cacheSizes) = (medianArea, summary, cacheSizes)
    }

    public static func path(_ workspace: String) -> String { workspace + "/cache/ingest-index.bin" }
    static func thumbsPath(_ workspace: String) -> String { workspace + "/cache/ingest-thumbs.bin" }
    static let thumbsHeader = Array("facet-ingest-thumbs 1\n".utf8)

    /// The sizes of a workspace's ingest caches now (-1 for one missing).
    public static func cacheSizes(_ workspace: String) -> [Int] {
        [IngestCache.path(workspace), IngestCache.indexPath(workspace), FaceStore.path(workspace)].map(Self.size)
    }

    public static func size(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : -1
    }

    public var count: Int { phashes.count }

    /// Adds accepted photos, sorted by source as a scan gives them (a group is named by the id of
    /// one of its photos, given here or before); false when a thumbnail's size differs from the others'.
    public mutating func append(_ photos: [Ingest.Result.Photo]) -> Bool {
        var position: [String: Int] = [:]
        for (k, p) in photos.enumerated() { position[p.analysis.sha256] = count + k }
        // The groups named by earlier photos, looked up only when one is joined.
        if photos.contains(where: { position[$0.group] == nil }) {
            for i in 0..<count where groups[i] == i { position[String(decoding: id(i), as: UTF8.self)] = i }
        }
        for p in photos {
            guard let g = position[p.group], p.analysis.sha256.utf8.count == 64 else { return false }
            if thumbSize == 0 { thumbSize = p.analysis.thumb.count }
            guard p.analysis.thumb.count == thumbSize, thumbSize > 0 else { return false }
            ids += p.analysis.sha256.utf8
            groups.append(g)
            phashes.append(p.analysis.phash)
            widths.append(p.analysis.width)
            heights.append(p.analysis.height)
            sizes.append(p.bytes)
            sources += p.source.utf8
            sourceEnds.append(sources.count)
            newThumbs += p.analysis.thumb
            thumbSums.append(Self.checksum(p.analysis.thumb))
        }
        return true
    }

    func id(_ i: Int) -> ArraySlice<UInt8> { ids[(i * 64)..<(i * 64 + 64)] }
    func source(_ i: Int) -> String { String(decoding: sources[(i == 0 ? 0 : sourceEnds[i - 1])..<sourceEnds[i]], as: UTF8.self) }

    /// The photos whose group's shard is one of `prefixes` (the group id's first two hex digits),
    /// as (id, source, group, bytes), by prefix, each in the order given.
    public func members(ofShards prefixes: Set<String>) -> [String: [(id: String, source: String, group: String, bytes: Int)]] {
        var out: [String: [(id: String, source: String, group: String, bytes: Int)]] = [:]
        for i in 0..<count {
            let group = id(groups[i]), prefix = String(decoding: group.prefix(2), as: UTF8.self)
            guard prefixes.contains(prefix) else { continue }
            out[prefix, default: []].append((String(decoding: id(i), as: UTF8.self), source(i), String(decoding: group, as: UTF8.self), sizes[i]))
        }
        return out
    }

    /// The same for one shard.
    public func members(ofShard prefix: String) -> [(id: String, source: String, group: String, bytes: Int)] {
        members(ofShards: [prefix])[prefix] ?? []
    }

    static func checksum(_ d: Data) -> UInt64 { d.withUnsafeBytes { BinaryRecords.checksum($0) } }

    /// Photos before this position have their thumbnails in the file; the others in `newThumbs`.
    var written: Int { count - newThumbs.count / max(thumbSize, 1) }

    /// Thumbnail `i`, from this run's or the thumbnail file (read whole at the first ask, once for
    /// this index and its copies), when it matches its checksum.
    func thumb(_ i: Int) -> Data? {
        let before = written
        if i >= before { return Data(newThumbs[((i - before) * thumbSize)..<((i - before + 1) * thumbSize)]) }
        let file = thumbBytes.bytes.withLock { bytes in
            if bytes == nil { bytes = thumbFile.flatMap { FileSystem.read($0) } ?? [] }
            return bytes!
        }
        let at = Self.thumbsHeader.count + i * thumbSize
        guard at + thumbSize <= file.count else { return nil }
        let t = Data(file[at..<(at + thumbSize)])
        return Self.checksum(t) == thumbSums[i] ? t : nil
    }

    /// A lookup of thumbnails by photo id, for the leakage check (the ids indexed at its first call).
    public func thumbLookup() -> (String) -> Data? {
        final class Index { var positions: [String: Int]? }
        let lookup = Index(), photos = self
        return { id in
            if lookup.positions == nil {
                var positions: [String: Int] = [:]
                positions.reserveCapacity(photos.count)
                for i in 0..<photos.count { positions[String(decoding: photos.id(i), as: UTF8.self)] = i }
                lookup.positions = positions
            }
            return lookup.positions![id].flatMap(photos.thumb)
        }
    }

    /// The 16×16 thumbnails by photo id (a thumbnail that does not match its checksum left out).
    public var thumbsByID: [String: Data] {
        var out: [String: Data] = [:]
        out.reserveCapacity(count)
        for i in 0..<count { if let t = thumb(i) { out[String(decoding: id(i), as: UTF8.self)] = t } }
        return out
    }

    /// Writes the index: its thumbnails first (appended to the file when it holds those before them,
    /// else the file written whole), then the rest, renamed into place. The old index is removed
    /// first, so a run killed midway leaves none (and the next ingest is a full one).
    public func write(_ workspace: String) throws {
        let indexPath = Self.path(workspace), thumbsPath = Self.thumbsPath(workspace)
        unlink(indexPath)
        let before = written
        if thumbFile == thumbsPath, before > 0 {
            // Cut back to the photos before (a killed run may have appended more), then append.
            guard truncate(thumbsPath, off_t(Self.thumbsHeader.count + before * thumbSize)) == 0 else { return }
            try FileSystem.append(newThumbs, to: thumbsPath)
        } else {
            guard before == 0 else { return }
            try CacheFile.write(Self.thumbsHeader + newThumbs, to: thumbsPath)
        }
        var w = BinaryWriter()
        w.double(medianArea)
        for n in [summary.found, summary.accepted, summary.quarantined, summary.duplicates, summary.groups, summary.decoded, summary.reused] { w.int(n) }
        w.int(summary.quarantineReasons.count)
        for (k, n) in summary.quarantineReasons.sorted(by: { $0.key < $1.key }) { w.string(k); w.int(n) }
        w.int(cacheSizes.count)
        for n in cacheSizes { w.int(n) }
        w.int(count)
        w.int(thumbSize)
        w.raw(ids)
        for column in [groups, phashes.map { Int(bitPattern: UInt($0)) }, thumbSums.map { Int(bitPattern: UInt($0)) }, widths, heights, sizes, sourceEnds] {
            column.map { Int64($0).littleEndian }.withUnsafeBytes { w.raw($0) }
        }
        w.raw(sources)
        var out = Self.header
        BinaryRecords.append(w.bytes, to: &out)
        try CacheFile.write(out, to: indexPath)
    }

    /// The index of `workspace`; nil when missing, of another version, damaged, or its thumbnail
    /// file holds fewer thumbnails than its photos.
    public static func read(_ workspace: String) -> IngestIndex? {
        guard let data = FileSystem.read(path(workspace)), data.count > header.count, data[..<header.count].elementsEqual(header) else { return nil }
        let (payloads, end) = BinaryRecords.split(data, from: header.count)
        guard payloads.count == 1, end == data.count,
              var index = data.withUnsafeBytes({ b in try? IngestIndex(reading: UnsafeRawBufferPointer(rebasing: b[payloads[0]])) }),
              size(thumbsPath(workspace)) >= thumbsHeader.count + index.count * index.thumbSize else { return nil }
        index.thumbFile = thumbsPath(workspace)
        return index
    }

    init(reading bytes: UnsafeRawBufferPointer) throws(BinaryReader.Malformed) {
        var r = BinaryReader(bytes)
        medianArea = try r.double()
        summary = IngestSummary()
        (summary.found, summary.accepted, summary.quarantined, summary.duplicates) = (try r.int(), try r.int(), try r.int(), try r.int())
        (summary.groups, summary.decoded, summary.reused) = (try r.int(), try r.int(), try r.int())
        for _ in 0..<(try Self.count(&r)) { summary.quarantineReasons[try r.string()] = try r.int() }
        cacheSizes = []
        for _ in 0..<(try Self.count(&r)) { cacheSizes.append(try r.int()) }
        let n = try Self.count(&r)
        thumbSize = try Self.count(&r)
        ids = Array(try r.raw())
        func column() throws(BinaryReader.Malformed) -> [Int] {
            let raw = try r.raw()
            guard raw.count == n * 8 else { throw BinaryReader.Malformed() }
            return (0..<n).map { Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))) }
        }
        groups = try column()
        phashes = try column().map { UInt64(UInt(bitPattern: $0)) }
        thumbSums = try column().map { UInt64(UInt(bitPattern: $0)) }
        (widths, heights, sizes, sourceEnds) = (try column(), try column(), try column(), try column())
        sources = Array(try r.raw())
        // Positions out of range or ends running backwards would read out of bounds: a damaged index.
        guard r.atEnd, ids.count == n * 64, thumbSize > 0 || n == 0, groups.allSatisfy({ $0 >= 0 && $0 < n }),
              zip([0] + sourceEnds, sourceEnds).allSatisfy({ $0 <= $1 }), (sourceEnds.last ?? 0) == sources.count else {
            throw BinaryReader.Malformed()
        }
    }

    public static func count(_ r: inout BinaryReader) throws(BinaryReader.Malformed) -> Int {
        let n = try r.int()
        guard n >= 0 && n < 1 << 28 else { throw BinaryReader.Malformed() }
        return n
    }
}
