import FacetSynth
import Foundation
@testable import FacetPipeline

enum Support {
    static func temp(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("facet-pipeline-\(name)-\(UUID())").path
    }

    static func remove(_ paths: String...) { for p in paths { try? FileManager.default.removeItem(atPath: p) } }

    static func synth(_ dir: String, count: Int, seed: UInt64, extras: Int? = 1) throws {
        _ = try SynthDump.write(to: dir, options: SynthOptions(count: count, seed: seed, size: 64, extras: extras))
    }

    /// A pipeline folder with a synth dump and a small manifest; `stages` replaces the default stages.
    static func project(count: Int = 18, stages: String? = nil) throws -> String {
        let root = temp("project")
        try synth(root + "/raw", count: count, seed: 31)
        try write(root, stages: stages)
        return root
    }

    static let defaultStages = """
      ingest: {}
      tag: {}
      label: {from: folders}
      split: {test: 0.25, val: 0.25, stable: true}
      augment: {size: 32, copies: 2, quality: 90}
    """

    static func write(_ root: String, stages: String? = nil) throws {
        let text = """
        name: t
        seed: 7
        source: raw
        workspace: ws
        stages:
        \(stages ?? defaultStages)
        """
        try text.write(toFile: root + "/p.yaml", atomically: true, encoding: .utf8)
    }

    static func pipeline(_ root: String, _ overrides: [String] = []) throws -> Pipeline {
        Pipeline(try PipelineManifest.load(root + "/p.yaml", overrides: overrides))
    }

    /// Relative path → SHA-256 of every file under `folder`.
    static func hashes(_ folder: String) throws -> [String: String] {
        var out: [String: String] = [:]
        let walker = FileManager.default.enumerator(atPath: folder)!
        while let rel = walker.nextObject() as? String {
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: folder + "/" + rel, isDirectory: &isDir)
            if !isDir.boolValue { out[rel] = Store.hash([UInt8](FileManager.default.contents(atPath: folder + "/" + rel)!)) }
        }
        return out
    }
}
