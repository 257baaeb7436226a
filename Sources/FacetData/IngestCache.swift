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

    /// The cache of `workspace`; a missing, old-version or damaged cache is an empty one.
    init(workspace: String) {
        guard let entries = try? JSONLines.read(Entry.self, from: IngestCache.path(workspace)) else { return }
        for e in entries where e.version == Analyzer.version {
            byPath[e.path] = e
            if let hash = e.outcome.sha256 { byHash[hash] = e.outcome }
        }
    }

    func lookup(_ file: DumpListing.File) -> AnalysisOutcome? {
        guard let e = byPath[file.path], e.size == file.size, e.mtime == file.mtime else { return nil }
        return e.outcome
    }

    func lookup(sha256: String) -> AnalysisOutcome? { byHash[sha256] }

    static func write(_ entries: [Entry], workspace: String) throws {
        try JSONLines.write(entries, to: path(workspace))
        // The stat index: what a no-op check needs, in a form read in milliseconds.
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
