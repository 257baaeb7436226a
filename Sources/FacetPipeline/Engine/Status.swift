import FacetData
import Foundation

/// Whether a stage would run, and why.
public struct StageStatus: Codable, Sendable, Equatable {
    public var stage: String
    /// `fresh`, `stale` or `never_run`.
    public var state: String
    public var reasons: [String]
}

extension Pipeline {
    /// Each stage's state without running anything, cheapest checks first: the lock entry, the
    /// format version, the parameters, the inputs (the dump by one `stat` per known file), and
    /// the outputs in the store.
    public func status() throws -> [StageStatus] {
        let lock = try LockFile.read(manifest.lock) ?? LockFile(pipeline: manifest.name)
        var outputs: [StageKind: [String: String]] = [:]
        var result: [StageStatus] = []
        // Status only reads: the dump's fingerprint is hashed, not stored.
        var fingerprint: [UInt8] = []
        let keepDump: DumpKeeper = { bytes, _ in fingerprint = bytes; return Store.hash(bytes) }
        for kind in order {
            let params = manifest.stages[kind]!
            guard let entry = lock.stages[kind.rawValue] else {
                result.append(StageStatus(stage: kind.rawValue, state: "never_run", reasons: ["no record of a run in \(manifest.lock)"]))
                continue
            }
            var reasons: [String] = []
            if entry.version != kind.version { reasons.append("facet's \(kind.rawValue) format changed (version \(entry.version) → \(kind.version))") }
            reasons += params.canonical.changes(from: entry.params).map { "parameter \($0)" }
            if let inputs = try inputs(kind, upstream: outputs, keepDump: keepDump) {
                for name in Set(inputs.keys).union(entry.inputs.keys).sorted() where inputs[name] != entry.inputs[name] {
                    reasons.append(explain(input: name, old: entry.inputs[name], new: inputs[name], fingerprint: fingerprint))
                }
                if reasons.isEmpty, Pipeline.key(kind: kind, version: kind.version, params: params.canonical, inputs: inputs) != entry.key {
                    reasons.append("its cache key changed (a facet upgrade changed the key encoding)")
                }
            } else {
                let upstream = kind.reads.filter { manifest.stages[$0] != nil && outputs[$0] == nil }.map(\.rawValue)
                reasons.append("upstream \(upstream.joined(separator: ", ")) will run first")
            }
            let missing = entry.outputs.keys.sorted().filter { !store.has(entry.outputs[$0]!) }
            if !missing.isEmpty { reasons.append("output \(missing.joined(separator: ", ")) missing from the store") }
            if reasons.isEmpty { outputs[kind] = entry.outputs }
            result.append(StageStatus(stage: kind.rawValue, state: reasons.isEmpty ? "fresh" : "stale", reasons: reasons))
        }
        return result
    }

    func explain(input name: String, old: String?, new: String?, fingerprint: [UInt8]) -> String {
        guard let old, new != nil else { return old == nil ? "new input \(name)" : "input \(name) is no longer read" }
        if name.hasPrefix("file:") {
            let param = String(name.dropFirst(5))
            return "file \(manifest.stages.values.compactMap { $0.files[param] }.first ?? param) changed"
        }
        if name == "dump", let before = try? store.get(old) {
            let after = fingerprint
            func table(_ bytes: [UInt8]) -> [Substring: Substring] {
                var out: [Substring: Substring] = [:]
                for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                    let parts = line.split(separator: "\t", maxSplits: 1)
                    out[parts[0]] = parts.count > 1 ? parts[1] : ""
                }
                return out
            }
            let a = table(before), b = table(after)
            let added = b.keys.filter { a[$0] == nil }.count, removed = a.keys.filter { b[$0] == nil }.count
            let changed = b.keys.filter { a[$0] != nil && a[$0] != b[$0] }.count
            return "the dump changed: \(added) files added, \(removed) removed, \(changed) changed"
        }
        return "input \(name) changed"
    }
}
