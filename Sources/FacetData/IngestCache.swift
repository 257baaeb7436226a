import FacetCore
import FacetImage
import Foundation

/// Per-file analyses from earlier ingests: keyed by (path, size, mtime), and also by content
/// hash, so a touched, copied or renamed file whose bytes are known is not decoded again.
///
/// `cache/ingest.bin`: a header line `facet-ingest VERSION` (the analyser's) and then one binary
/// record per file analysed (`BinaryRecords`), appended as files are decoded; later records win.
/// Binary, since a run that adds ten photos to a dump reads it whole: 3,766 analyses read in
/// 9 ms where their JSON took 34.
struct IngestCache {
    struct Entry {
        var path: String
        var size: Int
        var mtime: Int64
        var outcome: AnalysisOutcome
    }

    /// The records read, and the latest of each path and of each content hash.
    private var entries: [Entry] = []
    private var byPath: [String: Int] = [:]
    private var byHash: [String: Int] = [:]

    static func path(_ workspace: String) -> String { workspace + "/cache/ingest.bin" }
    static var header: [UInt8] { Array("facet-ingest \(Analyzer.version)\n".utf8) }

    /// An empty cache.
    init() {}

    /// Records in the cache file, live or superseded (the file is appended to).
    var lines: Int { entries.count }
    /// Whether the file ends with its last whole record (else it is written afresh, not appended to).
    private var clean = false

    /// The cache of `workspace`; a missing, old-version or damaged cache (or face store) is an empty
    /// one, and a damaged record ends what is read of it. Later records win.
    init(workspace: String) {
        // Without its face crops, an analysis would be taken as complete and the crops never made.
        guard FaceStore.isValid(workspace), let data = FileSystem.read(IngestCache.path(workspace)) else { return }
        let head = Self.header
        guard data.count >= head.count, data[..<head.count].elementsEqual(head) else { return }
        let (payloads, end) = BinaryRecords.split(data, from: head.count)
        // Parsed on all cores, then indexed in order (later records win).
        let read = data.withUnsafeBytes { b in
            nonisolated(unsafe) let b = b
            return concurrentMap(payloads.count, block: 512) { i -> Entry? in
                var r = BinaryReader(UnsafeRawBufferPointer(rebasing: b[payloads[i]]))
                guard let e = try? Entry(&r), r.atEnd else { return nil }
                return e
            }
        }
        entries = read.compactMap { $0 }
        clean = end == data.count && entries.count == read.count
        byPath.reserveCapacity(entries.count)
        byHash.reserveCapacity(entries.count)
        for (i, e) in entries.enumerated() {
            byPath[e.path] = i
            if let hash = e.outcome.sha256 { byHash[hash] = i }
        }
    }

    /// Brings the cache file up to `entries` (every file of the dump now): appends the entries it
    /// lacks, or rewrites it whole when superseded records would make up over a third of it or it
    /// ends in a damaged record.
    static func update(_ entries: [Entry], previous: IngestCache, workspace: String) throws {
        let fresh = entries.filter { e in
            guard let old = previous.byPath[e.path].map({ previous.entries[$0] }) else { return true }
            return old.size != e.size || old.mtime != e.mtime || old.outcome.sha256 != e.outcome.sha256
        }
        let total = previous.lines + fresh.count
        if fresh.isEmpty && previous.lines == entries.count && previous.clean { return }
        if previous.lines == 0 || !previous.clean || total > entries.count + entries.count / 2 || !FileSystem.exists(path(workspace)) {
            return try write(entries, workspace: workspace)
        }
        try FileSystem.append(encode(fresh), to: path(workspace))
        try appendIndex(fresh, all: entries, workspace: workspace)
    }

    static func encode(_ entries: [Entry]) -> [UInt8] {
        var out: [UInt8] = []
        for e in entries {
            var w = BinaryWriter()
            e.write(&w)
            BinaryRecords.append(w.bytes, to: &out)
        }
        return out
    }

    func lookup(_ file: DumpListing.File) -> AnalysisOutcome? {
        guard let e = byPath[file.path].map({ entries[$0] }), e.size == file.size, e.mtime == file.mtime else { return nil }
        return e.outcome
    }

    func lookup(sha256: String) -> AnalysisOutcome? { byHash[sha256].map { entries[$0].outcome } }

    /// The 16×16 thumbnails of the photos analysed, by photo id.
    var thumbs: [String: Data] {
        var out: [String: Data] = [:]
        for (id, i) in byHash { if case .photo(let p) = entries[i].outcome { out[id] = p.thumb } }
        return out
    }

    static func write(_ entries: [Entry], workspace: String) throws {
        try AtomicFile.write(header + encode(entries), to: path(workspace))
        // The JSON Lines cache of facet 0.x, superseded.
        unlink(workspace + "/cache/ingest.jsonl")
        try writeIndex(entries, workspace: workspace)
    }

    /// The stat index: what a no-op check needs, in a form read in milliseconds.
    static func writeIndex(_ entries: [Entry], workspace: String) throws {
        // Not fsynced: a line cut short is skipped when read, and its file then hashed again.
        try AtomicFile.write(indexHeader + indexLines(entries), to: indexPath(workspace), durable: false)
    }

    /// Adds the lines of `fresh` to the stat index (later lines win when it is read), or writes it
    /// whole from `all` when it is missing, of another version or empty. A line that a killed
    /// append left without its line break is ended first, so the next line stays whole.
    static func appendIndex(_ fresh: [Entry], all: [Entry], workspace: String) throws {
        let path = indexPath(workspace)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        var head = [UInt8](repeating: 0, count: indexHeader.count), last: UInt8 = 0
        var st = stat()
        let usable = fd >= 0 && fstat(fd, &st) == 0 && Int(st.st_size) > indexHeader.count
            && pread(fd, &head, head.count, 0) == head.count && head == indexHeader && pread(fd, &last, 1, off_t(st.st_size - 1)) == 1
        if fd >= 0 { close(fd) }
        guard usable else { return try writeIndex(all, workspace: workspace) }
        if fresh.isEmpty { return }
        try FileSystem.append((last == 0x0A ? [] : [0x0A]) + indexLines(fresh), to: path)
    }

    static var indexHeader: [UInt8] { Array("facet-files\t\(Analyzer.version)\n".utf8) }

    static func indexLines(_ entries: [Entry]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(entries.count * 120)
        for e in entries {
            out += e.path.utf8
            out += Array("\t\(e.size)\t\(e.mtime)\t".utf8)
            out += (e.outcome.sha256 ?? "").utf8
            out.append(0x0A)
        }
        return out
    }

    static func indexPath(_ workspace: String) -> String { workspace + "/cache/files.tsv" }

    /// Path → (size, mtime, SHA-256) from the stat index; empty when absent or of another version.
    /// Read as bytes: a no-op run reads one line per file of the dump.
    static func readIndex(_ workspace: String) -> [String: (size: Int, mtime: Int64, sha256: String)] {
        guard let data = FileSystem.read(indexPath(workspace)) else { return [:] }
        return data.withUnsafeBufferPointer { bytes in
            var lines = bytes.split(separator: 0x0A)
            guard let head = lines.first, Array(head) + [0x0A] == indexHeader else { return [:] }
            lines.removeFirst()
            var out: [String: (size: Int, mtime: Int64, sha256: String)] = [:]
            out.reserveCapacity(lines.count)
            for line in lines {
                let f = line.split(separator: 0x09, omittingEmptySubsequences: false)
                guard f.count == 4, f[3].count == 64, let size = decimal(f[1]), let mtime = decimal(f[2]) else { continue }
                out[String(decoding: f[0], as: UTF8.self)] = (Int(size), mtime, String(decoding: f[3], as: UTF8.self))
            }
            return out
        }
    }

    /// A run of ASCII digits with an optional leading minus, or nil.
    private static func decimal(_ digits: Slice<UnsafeBufferPointer<UInt8>>) -> Int64? {
        var value: Int64 = 0, negative = false, any = false
        for (i, b) in digits.enumerated() {
            if i == 0 && b == UInt8(ascii: "-") { negative = true; continue }
            guard b >= 0x30 && b <= 0x39 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10), (a, o2) = m.addingReportingOverflow(Int64(b - 0x30))
            guard !o1 && !o2 else { return nil }
            value = a
            any = true
        }
        return any ? (negative ? -value : value) : nil
    }
}

extension AnalysisOutcome {
    /// Whether the analysis holds what an ingest under face options `key` needs (a failure
    /// always does: there is nothing to search).
    func serves(faces key: String?) -> Bool {
        if case .photo(let p) = self { p.faceKey == key } else { true }
    }

    var sha256: String? {
        switch self {
        case .photo(let p): p.sha256
        case .failed(let hash, _, _): hash
        }
    }
}

extension IngestCache.Entry {
    func write(_ w: inout BinaryWriter) {
        w.string(path)
        w.int(size)
        w.int(Int(mtime))
        switch outcome {
        case .photo(let p):
            w.byte(0)
            p.write(&w)
        case .failed(let sha256, let kind, let reason):
            w.byte(1)
            w.optional(sha256) { $0.string($1) }
            w.string(kind)
            w.string(reason)
        }
    }

    init(_ r: inout BinaryReader) throws(BinaryReader.Malformed) {
        path = try r.string()
        size = try r.int()
        mtime = Int64(try r.int())
        switch try r.byte() {
        case 0: outcome = .photo(try PhotoAnalysis(&r))
        case 1: outcome = .failed(sha256: try r.optional { r throws(BinaryReader.Malformed) in try r.string() }, kind: try r.string(), reason: try r.string())
        default: throw BinaryReader.Malformed()
        }
    }
}

extension PhotoAnalysis {
    func write(_ w: inout BinaryWriter) {
        w.string(sha256)
        w.string(format.rawValue)
        w.int(width)
        w.int(height)
        w.int(orientation)
        w.optional(taken) { $0.string($1) }
        w.optional(camera) { $0.string($1) }
        w.int(warnings.count)
        for s in warnings { w.string(s) }
        for v in [stats.brightness, stats.edgeVariance, stats.entropy, stats.colourSpread] { w.double(v) }
        w.double(features.brightness)
        w.optional(features.exifBrightness) { $0.double($1) }
        for v in [features.borderEdges, features.borderChroma, features.asymmetry, features.foreign] { w.double(v) }
        for v in [features.faceBrightness, features.backgroundShare, features.backgroundEdges, features.backgroundChroma] {
            w.optional(v) { $0.double($1) }
        }
        w.uint64(phash)
        w.raw(thumb)
        w.optional(faceKey) { $0.string($1) }
        w.optional(finding) { $1.write(&$0) }
        w.int(faceIssues.count)
        for s in faceIssues { w.string(s) }
    }

    init(_ r: inout BinaryReader) throws(BinaryReader.Malformed) {
        sha256 = try r.string()
        guard let f = ImageFormat(rawValue: try r.string()) else { throw BinaryReader.Malformed() }
        format = f
        (width, height, orientation) = (try r.int(), try r.int(), try r.int())
        taken = try r.optional { r throws(BinaryReader.Malformed) in try r.string() }
        camera = try r.optional { r throws(BinaryReader.Malformed) in try r.string() }
        let n = try r.int()
        guard n >= 0 && n <= 1000 else { throw BinaryReader.Malformed() }
        warnings = []
        for _ in 0..<n { warnings.append(try r.string()) }
        stats = PixelStats(brightness: try r.double(), edgeVariance: try r.double(), entropy: try r.double(), colourSpread: try r.double())
        let brightness = try r.double(), exif = try r.optional { r throws(BinaryReader.Malformed) in try r.double() }
        features = Features(brightness: brightness, exifBrightness: exif, borderEdges: try r.double(), borderChroma: try r.double(),
                            asymmetry: try r.double(), foreign: try r.double())
        let face = try (0..<4).map { _ throws(BinaryReader.Malformed) in try r.optional { r throws(BinaryReader.Malformed) in try r.double() } }
        (features.faceBrightness, features.backgroundShare, features.backgroundEdges, features.backgroundChroma) = (face[0], face[1], face[2], face[3])
        phash = try r.uint64()
        thumb = Data(try r.raw())
        faceKey = try r.optional { r throws(BinaryReader.Malformed) in try r.string() }
        finding = try r.optional { r throws(BinaryReader.Malformed) in try FaceFinding(&r) }
        let issues = try r.int()
        guard issues >= 0 && issues <= 100 else { throw BinaryReader.Malformed() }
        for _ in 0..<issues { faceIssues.append(try r.string()) }
    }
}

extension FaceFinding {
    func write(_ w: inout BinaryWriter) {
        w.int(faces)
        w.optional(box) { $1.write(&$0) }
        w.int(landmarks.count)
        for p in landmarks { w.double(p.x); w.double(p.y) }
        w.int(others.count)
        for b in others { b.write(&w) }
        for v in [searchedWidth, searchedHeight, upsample] { w.int(v) }
    }

    init(_ r: inout BinaryReader) throws(BinaryReader.Malformed) {
        let faces = try r.int()
        let box = try r.optional { r throws(BinaryReader.Malformed) in try FaceBox(&r) }
        let n = try r.int()
        guard n >= 0 && n <= 1000 else { throw BinaryReader.Malformed() }
        var points: [FacePoint] = []
        for _ in 0..<n { points.append(FacePoint(x: try r.double(), y: try r.double())) }
        let m = try r.int()
        guard m >= 0 && m <= 1000 else { throw BinaryReader.Malformed() }
        var others: [FaceBox] = []
        for _ in 0..<m { others.append(try FaceBox(&r)) }
        self.init(faces: faces, box: box, landmarks: points, others: others, searchedWidth: try r.int(), searchedHeight: try r.int(),
                  upsample: try r.int())
    }
}

extension FaceBox {
    func write(_ w: inout BinaryWriter) { for v in [left, top, right, bottom, score] { w.double(v) } }

    init(_ r: inout BinaryReader) throws(BinaryReader.Malformed) {
        self.init(left: try r.double(), top: try r.double(), right: try r.double(), bottom: try r.double(), score: try r.double())
    }
}
