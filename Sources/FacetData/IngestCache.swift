import FacetImage
import Foundation

/// Per-file analyses from earlier ingests: keyed by (path, size, mtime), and also by content
/// hash, so a touched, copied or renamed file whose bytes are known is not decoded again.
struct IngestCache {
    struct Entry: Codable {
        var path: String
        var size: Int
        var mtime: Int64
        var version: Int
        var outcome: AnalysisOutcome
    }

    private var byPath: [String: Entry] = [:]
    private var byHash: [String: AnalysisOutcome] = [:]

    static func path(_ workspace: String) -> String { workspace + "/cache/ingest.jsonl" }

    /// An empty cache.
    init() {}

    /// Lines in the cache file, live or superseded (the file is appended to).
    private(set) var lines = 0

    /// The cache of `workspace`; a missing, old-version or damaged cache (or face store) is an empty one, and a
    /// damaged line (a write cut short) is skipped. Later lines win.
    init(workspace: String) {
        // Without its face crops, an analysis would be taken as complete and the crops never made.
        guard FaceStore.isValid(workspace), let data = FileSystem.read(IngestCache.path(workspace)) else { return }
        // A line per file of the dump, read on all cores.
        let entries = data.withUnsafeBufferPointer { JSONLines.readEach(Entry.self, $0).compactMap { try? $0.get() } }
        lines = entries.count
        byPath.reserveCapacity(entries.count)
        byHash.reserveCapacity(entries.count)
        for e in entries where e.version == Analyzer.version {
            byPath[e.path] = e
            if let hash = e.outcome.sha256 { byHash[hash] = e.outcome }
        }
    }

    /// Brings the cache file up to `entries` (every file of the dump now): appends the entries it
    /// lacks, or rewrites it whole when superseded lines would make up over a third of it.
    static func update(_ entries: [Entry], previous: IngestCache, workspace: String) throws {
        let fresh = entries.filter { e in
            guard let old = previous.byPath[e.path] else { return true }
            return old.size != e.size || old.mtime != e.mtime || old.outcome.sha256 != e.outcome.sha256
        }
        let total = previous.lines + fresh.count
        if fresh.isEmpty && previous.lines == entries.count { return }
        if previous.lines == 0 || total > entries.count + entries.count / 2 || !FileSystem.exists(path(workspace)) {
            return try write(entries, workspace: workspace)
        }
        let appender = JSONLines.Appender(path(workspace))
        try appender.append(try JSONLines.encodeLines(fresh))
        try appender.close()
        try writeIndex(entries, workspace: workspace)
    }

    func lookup(_ file: DumpListing.File) -> AnalysisOutcome? {
        guard let e = byPath[file.path], e.size == file.size, e.mtime == file.mtime else { return nil }
        return e.outcome
    }

    func lookup(sha256: String) -> AnalysisOutcome? { byHash[sha256] }

    /// The 16×16 thumbnails of the photos analysed, by photo id.
    var thumbs: [String: Data] {
        var out: [String: Data] = [:]
        for case (let id, .photo(let p)) in byHash { out[id] = p.thumb }
        return out
    }

    static func write(_ entries: [Entry], workspace: String) throws {
        try JSONLines.write(entries, to: path(workspace))
        try writeIndex(entries, workspace: workspace)
    }

    /// The stat index: what a no-op check needs, in a form read in milliseconds.
    static func writeIndex(_ entries: [Entry], workspace: String) throws {
        var index = "facet-files\t\(Analyzer.version)\n"
        for e in entries { index += "\(e.path)\t\(e.size)\t\(e.mtime)\t\(e.outcome.sha256 ?? "")\n" }
        // Not fsynced: a line cut short is skipped when read, and its file then hashed again.
        try AtomicFile.write(Array(index.utf8), to: indexPath(workspace), durable: false)
    }

    static func indexPath(_ workspace: String) -> String { workspace + "/cache/files.tsv" }

    /// Path → (size, mtime, SHA-256) from the stat index; empty when absent or of another version.
    /// Read as bytes: a no-op run reads one line per file of the dump.
    static func readIndex(_ workspace: String) -> [String: (size: Int, mtime: Int64, sha256: String)] {
        guard let data = FileSystem.read(indexPath(workspace)) else { return [:] }
        return data.withUnsafeBufferPointer { bytes in
            var lines = bytes.split(separator: 0x0A)
            guard let head = lines.first, String(decoding: head, as: UTF8.self) == "facet-files\t\(Analyzer.version)" else { return [:] }
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
    var sha256: String? {
        switch self {
        case .photo(let p): p.sha256
        case .failed(let hash, _, _): hash
        }
    }
}

extension IngestCache.Entry: JSONReadable {
    init(_ r: inout JSONReader) throws {
        var path: String?
        var size, version: Int?
        var mtime: Int64?
        var outcome: AnalysisOutcome?
        try r.object { r, key in
            switch key {
            case "path": path = try r.string()
            case "size": size = try r.int()
            case "mtime": mtime = Int64(try r.int())
            case "version": version = try r.int()
            case "outcome": outcome = try AnalysisOutcome(&r)
            default: try r.skip()
            }
        }
        self.init(path: try required(path, "path", r), size: try required(size, "size", r), mtime: try required(mtime, "mtime", r),
                  version: try required(version, "version", r), outcome: try required(outcome, "outcome", r))
    }
}

extension AnalysisOutcome: JSONReadable {
    /// Synthesized `Codable`'s form of an enum: `{"photo":{"_0":{…}}}` or `{"failed":{…}}`.
    public init(_ r: inout JSONReader) throws {
        var out: AnalysisOutcome?
        try r.object { r, key in
            switch key {
            case "photo":
                try r.object { r, key in
                    if key == "_0" { out = .photo(try PhotoAnalysis(&r)) } else { try r.skip() }
                }
            case "failed":
                var sha256, kind, reason: String?
                try r.object { r, key in
                    switch key {
                    case "sha256": sha256 = try r.optionalString()
                    case "kind": kind = try r.string()
                    case "reason": reason = try r.string()
                    default: try r.skip()
                    }
                }
                out = .failed(sha256: sha256, kind: try required(kind, "kind", r), reason: try required(reason, "reason", r))
            default: try r.skip()
            }
        }
        self = try required(out, "photo or failed", r)
    }
}

extension PhotoAnalysis: JSONReadable {
    public init(_ r: inout JSONReader) throws {
        var sha256, taken, camera: String?
        var format: ImageFormat?
        var width, height, orientation: Int?
        var warnings: [String]?
        var stats: PixelStats?
        var features: Features?
        var phash: UInt64?
        var thumb: Data?
        try r.object { r, key in
            switch key {
            case "sha256": sha256 = try r.string()
            case "format": format = try r.raw(ImageFormat.self)
            case "width": width = try r.int()
            case "height": height = try r.int()
            case "orientation": orientation = try r.int()
            case "taken": taken = try r.optionalString()
            case "camera": camera = try r.optionalString()
            case "warnings": warnings = try r.strings()
            case "stats": stats = try PixelStats(&r)
            case "features": features = try Features(&r)
            case "phash": phash = try r.uint64()
            case "thumb": thumb = try r.data()
            default: try r.skip()
            }
        }
        self.init(sha256: try required(sha256, "sha256", r), format: try required(format, "format", r), width: try required(width, "width", r),
                  height: try required(height, "height", r), orientation: try required(orientation, "orientation", r), taken: taken,
                  camera: camera, warnings: try required(warnings, "warnings", r), stats: try required(stats, "stats", r),
                  features: try required(features, "features", r), phash: try required(phash, "phash", r), thumb: try required(thumb, "thumb", r))
    }
}

extension PixelStats: JSONReadable {
    public init(_ r: inout JSONReader) throws {
        var v = [Double?](repeating: nil, count: 4)
        let names = ["brightness", "edgeVariance", "entropy", "colourSpread"]
        try r.object { r, key in
            if let k = names.firstIndex(of: key) { v[k] = try r.double() } else { try r.skip() }
        }
        for (k, x) in v.enumerated() where x == nil { throw r.missing(names[k]) }
        self.init(brightness: v[0]!, edgeVariance: v[1]!, entropy: v[2]!, colourSpread: v[3]!)
    }
}
