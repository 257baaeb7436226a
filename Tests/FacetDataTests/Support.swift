import FacetLearn
import Foundation
@testable import FacetData
@testable import FacetSynth

/// Temporary folders and synth dumps for the data tests.
enum Support {
    /// FacetLearn's occlusion tagger, as the tag stage and `facet tag` hand it to tagging.
    static let learner = OcclusionTagger.learner

    static func temp(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("facet-data-\(name)-\(UUID())").path
    }

    static func synth(_ name: String, count: Int, seed: UInt64 = 5, size: Int = 64, extras: Int? = nil) throws -> String {
        let dir = temp(name)
        _ = try SynthDump.write(to: dir, options: SynthOptions(count: count, seed: seed, size: size, extras: extras))
        return dir
    }

    struct TruthRow { var file, label, lighting, background, occlusion, kind, duplicateOf: String }

    static func truth(_ dump: String) throws -> [String: TruthRow] {
        let lines = try String(contentsOfFile: dump + "/truth.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        var out: [String: TruthRow] = [:]
        for line in lines {
            // Synth file names hold no commas, so the rows split plainly.
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            out[f[0]] = TruthRow(file: f[0], label: f[1], lighting: f[2], background: f[3], occlusion: f[4], kind: f[5], duplicateOf: f[6])
        }
        return out
    }

    /// (bytes, mtime) of every file below `root`.
    static func fingerprint(_ root: String) throws -> [String: [Int64]] {
        var out: [String: [Int64]] = [:]
        let walker = FileManager.default.enumerator(atPath: root)!
        while let rel = walker.nextObject() as? String {
            var st = stat()
            lstat(root + "/" + rel, &st)
            guard (st.st_mode & S_IFMT) == S_IFREG else { continue }
            let bytes = try Data(contentsOf: URL(fileURLWithPath: root + "/" + rel))
            out[rel] = [Int64(st.st_mtim.tv_sec), Int64(st.st_mtim.tv_nsec), Int64(bytes.hashValue), Int64(bytes.count)]
        }
        return out
    }

    static func remove(_ paths: String...) { for p in paths { try? FileManager.default.removeItem(atPath: p) } }
}
