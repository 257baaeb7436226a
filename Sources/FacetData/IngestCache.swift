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
