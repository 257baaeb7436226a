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

    /// The stage's inputs: the files its parameters name, and what its type takes of the outputs
    /// of the stages before it (nil: some upstream output is not known, because that stage is
    /// stale and has not run).
    func inputs(_ kind: StageKind, upstream: [StageKind: [String: String]], keepDump: DumpKeeper) throws -> [String: String]? {
        let params = manifest.stages[kind]!
        guard var out = try params.stage.inputs(upstream, self, keepDump: keepDump) else { return nil }
        for (name, path) in params.files {
            guard let data = FileManager.default.contents(atPath: path) else { throw DataError("\(path): cannot be read (named by \(kind.rawValue).\(name))") }
            out["file:" + name] = Store.hash([UInt8](data))
        }
        return out
    }
}
