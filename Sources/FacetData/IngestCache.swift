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

    /// The cache of `workspace`; a missing, old-version or damaged cache is an empty one, and a
    /// damaged line (a write cut short) is skipped. Later lines win.
    init(workspace: String) {
        guard let data = FileManager.default.contents(atPath: IngestCache.path(workspace)) else { return }
        let entries: [Entry]
        if let all = try? JSONLines.read(Entry.self, from: IngestCache.path(workspace)) {
            entries = all
        } else {
            let decoder = JSONDecoder()
            entries = [UInt8](data).split(separator: 0x0A).compactMap { try? decoder.decode(Entry.self, from: Data($0)) }
        }
        lines = entries.count
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
        if previous.lines == 0 || total > entries.count + entries.count / 2 || !FileManager.default.fileExists(atPath: path(workspace)) {
            return try write(entries, workspace: workspace)
        }
        let encoder = JSONLines.encoder()
        var out = Data()
        for e in fresh { out.append(try encoder.encode(e)); out.append(0x0A) }
        guard let handle = FileHandle(forWritingAtPath: path(workspace)) else { return try write(entries, workspace: workspace) }
        defer { try? handle.close() }
        try handle.seekToEnd()
        // A cut-short earlier write would leave a line without its newline: start on a fresh line.
        try handle.write(contentsOf: Data([0x0A]) + out)
        try writeIndex(entries, workspace: workspace)
    }

    func lookup(_ file: DumpListing.File) -> AnalysisOutcome? {
        guard let e = byPath[file.path], e.size == file.size, e.mtime == file.mtime else { return nil }
        return e.outcome
    }

    func lookup(sha256: String) -> AnalysisOutcome? { byHash[sha256] }

    static func write(_ entries: [Entry], workspace: String) throws {
        try JSONLines.write(entries, to: path(workspace))
        try writeIndex(entries, workspace: workspace)
    }

    /// The stat index: what a no-op check needs, in a form read in milliseconds.
    static func writeIndex(_ entries: [Entry], workspace: String) throws {
        var index = "facet-files\t\(Analyzer.version)\n"
        for e in entries { index += "\(e.path)\t\(e.size)\t\(e.mtime)\t\(e.outcome.sha256 ?? "")\n" }
        try AtomicFile.write(Array(index.utf8), to: indexPath(workspace))
    }

    static func indexPath(_ workspace: String) -> String { workspace + "/cache/files.tsv" }

    /// Path → (size, mtime, SHA-256) from the stat index; empty when absent or of another version.
    static func readIndex(_ workspace: String) -> [Substring: (size: Int, mtime: Int64, sha256: Substring)] {
        guard let data = FileManager.default.contents(atPath: indexPath(workspace)) else { return [:] }
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.split(separator: "\n")
        guard let head = lines.first, head == "facet-files\t\(Analyzer.version)" else { return [:] }
        lines.removeFirst()
        var out: [Substring: (size: Int, mtime: Int64, sha256: Substring)] = [:]
        out.reserveCapacity(lines.count)
        for line in lines {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count == 4, let size = Int(f[1]), let mtime = Int64(f[2]), !f[3].isEmpty else { continue }
            out[f[0]] = (size, mtime, f[3])
        }
        return out
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
