import FacetData
import FacetImage
import Foundation

/// A loaded pipeline and its workspace: the stage graph, cache keys, freshness, and the runs.
public struct Pipeline: Sendable {
    public let manifest: PipelineManifest
    public let store: Store

    /// Format of the key encoding; changing it changes every key (a test pins one).
    public static let keyFormat = "facet-stage-key-1"

    public init(_ manifest: PipelineManifest) {
        self.manifest = manifest
        store = Store(workspace: manifest.workspace)
    }

    /// The stages present, in a deterministic topological order (ties in declaration order of `StageKind`).
    public var order: [StageKind] { StageGraph.order(Set(manifest.stages.keys)) }

    /// A stage's cache key: SHA-256 of the canonical encoding of its kind, format version,
    /// parameters and input hashes.
    public static func key(kind: StageKind, version: Int, params: Value, inputs: [String: String]) -> String {
        let text = keyFormat + "\n" + Value.object([
            "kind": .string(kind.rawValue), "version": .int(version), "params": params,
            "inputs": .object(inputs.mapValues(Value.string)),
        ]).canonical
        return Store.hash(Array(text.utf8))
    }

    /// The stage's inputs, given the outputs of the stages before it (nil: some upstream output
    /// is not known, because that stage is stale and has not run).
    func inputs(_ kind: StageKind, upstream: [StageKind: [String: String]], dumpHash: () throws -> String) throws -> [String: String]? {
        var out: [String: String] = [:]
        let params = manifest.stages[kind]!
        for (name, path) in params.files {
            guard let data = FileManager.default.contents(atPath: path) else { throw DataError("\(path): cannot be read (named by \(kind.rawValue).\(name))") }
            out["file:" + name] = Store.hash([UInt8](data))
        }
        switch kind {
        case .ingest:
            out["dump"] = try dumpHash()
        case .tag:
            guard let i = upstream[.ingest] else { return nil }
            out["ingest.records"] = i["records"]
            // A learned occlusion tagger reads ingest's face crops: a function of each photo's bytes and the analyser.
            if case .tag(let t, _) = params.options, t.occlusionModel != nil { out["face crops"] = "analyzer \(Analyzer.version)" }
        case .label:
            guard let i = upstream[.ingest] else { return nil }
            out["ingest.records"] = i["records"]
            out["ingest.duplicates"] = i["duplicates"]
        case .split:
            guard let l = upstream[.label] else { return nil }
            out["label.records"] = l["records"]
            if manifest.stages[.tag] != nil {
                guard let t = upstream[.tag] else { return nil }
                out["tag.records"] = t["records"]
            }
        case .augment:
            guard let s = upstream[.split] else { return nil }
            out["split.records"] = s["records"]
        case .train:
            guard let a = upstream[.augment] else { return nil }
            out["augment.manifest"] = a["manifest"]
            if case .train(let t) = params.options {
                for m in t.models { if let w = m.weights { out["weights:" + m.name] = weightsHash(w) } }
            }
        case .evaluate:
            guard let t = upstream[.train], let a = upstream[.augment] else { return nil }
            out["train.models"] = t["models"]
            out["augment.manifest"] = a["manifest"]
        case .report:
            guard let e = upstream[.evaluate], let t = upstream[.train], let s = upstream[.split], let a = upstream[.augment],
                  let i = upstream[.ingest] else { return nil }
            out["evaluate.metrics"] = e["metrics"]
            out["train.models"] = t["models"]
            out["split.records"] = s["records"]
            out["split.leaks"] = s["leaks"]
            out["augment.manifest"] = a["manifest"]
            out["augment.options"] = a["options"]
            out["ingest.summary"] = i["summary"]
        }
        return out
    }

    /// SHA-256 of a weights file, or "missing"; remembered by (path, size, mtime) in
    /// WORKSPACE/cache/weights.tsv so a 500 MB file is hashed once.
    func weightsHash(_ path: String) -> String {
        var st = stat()
        guard stat(path, &st) == 0 else { return "missing" }
        let stamp = "\(path)\t\(st.st_size)\t\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
        let cache = manifest.workspace + "/cache/weights.tsv"
        let lines = (try? String(contentsOfFile: cache, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        if let hit = lines.first(where: { $0.hasPrefix(stamp + "\t") }) { return String(hit.dropFirst(stamp.count + 1)) }
        guard let data = FileManager.default.contents(atPath: path) else { return "missing" }
        let hash = Store.hash([UInt8](data))
        let kept = lines.filter { !$0.hasPrefix(path + "\t") } + [stamp + "\t" + hash]
        try? AtomicFile.write(Array((kept.joined(separator: "\n") + "\n").utf8), to: cache)
        return hash
    }

    /// The dump's fingerprint (a line per file: path, tab, SHA-256): the `dump` input of ingest.
    /// `listing`: given the dump's listing, for the ingest that may follow.
    func dumpFingerprint(listing: ((DumpListing) -> Void)? = nil) throws -> [UInt8] {
        guard case .ingest(let o) = manifest.stages[.ingest]!.options else { return [] }
        let f = try Ingest.fingerprint(dump: manifest.source, workspace: manifest.workspace, maxBytes: o.maxBytes)
        Trace.mark("dump listed and fingerprinted")
        listing?(f.listing)
        return Array(f.lines.map { $0 + "\n" }.joined().utf8)
    }
}

/// The stage graph: which stages read which, in a deterministic order.
public enum StageGraph {
    /// Topological order of `present` by `reads`, ties broken by `StageKind` order (Kahn's algorithm).
    public static func order(_ present: Set<StageKind>) -> [StageKind] {
        var indegree = Dictionary(uniqueKeysWithValues: present.map { k in (k, k.reads.filter(present.contains).count) })
        var ready = present.filter { indegree[$0] == 0 }.sorted()
        var out: [StageKind] = []
        while !ready.isEmpty {
            let k = ready.removeFirst()
            out.append(k)
            for next in present.sorted() where next.reads.contains(k) {
                indegree[next]! -= 1
                if indegree[next] == 0 { ready.append(next); ready.sort() }
            }
        }
        precondition(out.count == present.count, "the stage graph has a cycle")  // fixed kinds: a programming error
        return out
    }

    /// `stage` and every stage it reads from, directly or not.
    public static func ancestors(of stage: StageKind, in present: Set<StageKind>) -> Set<StageKind> {
        var seen: Set<StageKind> = [stage]
        var stack = [stage]
        while let k = stack.popLast() {
            for r in k.reads where present.contains(r) && seen.insert(r).inserted { stack.append(r) }
        }
        return seen
    }

    /// Text for `facet dag`: each stage, what it reads, and what it writes.
    public static func describe(_ p: PipelineManifest) -> String {
        let present = Set(p.stages.keys)
        var lines: [String] = []
        for k in order(present) {
            let reads = k.reads.filter(present.contains).map(\.rawValue)
            let from = k == .ingest ? "the dump \(p.source)" : reads.joined(separator: " + ")
            lines.append("\(k.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) ← \(from)   → \(k.outputs.joined(separator: ", "))")
        }
        return lines.joined(separator: "\n")
    }
}

extension StageKind {
    /// The names of the outputs a stage stores.
    public var outputs: [String] {
        switch self {
        case .ingest: ["records", "quarantine", "duplicates", "summary"]
        case .tag: ["records"]
        case .label: ["records", "discarded"]
        case .split: ["records", "leaks"]
        case .augment: ["manifest", "index", "csv", "options"]
        case .train: ["models"]
        case .evaluate: ["metrics"]
        case .report: ["html", "metrics", "figures"]
        }
    }
}
