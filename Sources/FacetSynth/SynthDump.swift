import FacetCore
import FacetImage
import Foundation
import Synchronization

/// Options of `facet synth`.
public struct SynthOptions: Sendable {
    /// Distinct photos to draw (duplicates and broken files come on top).
    public var count: Int
    public var seed: UInt64
    /// Shorter side of each photo in pixels; the longer side is 4/3 of it.
    public var size: Int
    /// Exact duplicates, near duplicates and broken files; nil: one of each per 40 photos.
    public var extras: Int?
    public var overwrite: Bool

    public init(count: Int, seed: UInt64, size: Int = 256, extras: Int? = nil, overwrite: Bool = false) {
        self.count = count
        self.seed = seed
        self.size = size
        self.extras = extras
        self.overwrite = overwrite
    }

    var extrasPerKind: Int { extras ?? (count + 39) / 40 }
}

/// One line of truth.csv: what a file in the dump really is.
public struct TruthRow: Sendable, Equatable {
    public enum Kind: String, Sendable { case original, exactDuplicate = "exact_duplicate", nearDuplicate = "near_duplicate", broken }
    public var file: String
    public var label: Expression
    public var lighting: String      // bright | dim
    public var background: String    // plain | cluttered
    public var occlusion: String     // none | partial
    public var kind: Kind
    public var duplicateOf: String?
    public var orientation: Int
    public var format: String        // jpeg | png | broken

    static let header = "file,label,lighting,background,occlusion,kind,duplicate_of,orientation,format"
    var csv: String {
        [file, label.rawValue, lighting, background, occlusion, kind.rawValue, duplicateOf ?? "", String(orientation), format]
            .map(CSV.field).joined(separator: ",")
    }
}

public struct SynthSummary: Sendable {
    public var photos = 0, exactDuplicates = 0, nearDuplicates = 0, broken = 0
    public var rows: [TruthRow] = []
    public var files: Int { photos + exactDuplicates + nearDuplicates + broken }
}

public struct SynthError: Error, CustomStringConvertible {
    public let description: String
}

/// The synthetic raw photo dump: one drawn person, three expressions, varied conditions,
/// real EXIF, per-label folders, and the duplicates and broken files a real dump has.
public enum SynthDump {
    /// Folder names per class: a real dump's names, not the class names (neutral → normal).
    static let folders: [Expression: String] = [.happy: "happy", .normal: "neutral", .sad: "sad"]

    /// Writes the dump under `out` and `out/truth.csv`. Same options, same bytes.
    public static func write(to out: String, options: SynthOptions,
                             progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> SynthSummary {
        guard options.count >= 1, options.size >= 32, options.size <= 4096 else {
            throw SynthError(description: "synth: need --count ≥ 1 and --size in 32…4096")
        }
        try prepare(out, overwrite: options.overwrite)
        let plans = (0..<options.count).map { plan(index: $0, options: options) }
        let written = try parallelMap(plans.count, progress: progress) { i in
            do { return try writePhoto(plans[i], root: out) } catch {
                throw SynthError(description: "synth: could not write \(plans[i].file): \(error)")
            }
        }
        var summary = SynthSummary()
        summary.rows = written
        summary.photos = summary.rows.count
        let extra = try writeExtras(plans, options: options, root: out)
        summary.rows += extra
        summary.exactDuplicates = extra.filter { $0.kind == .exactDuplicate }.count
        summary.nearDuplicates = extra.filter { $0.kind == .nearDuplicate }.count
        summary.broken = extra.filter { $0.kind == .broken }.count
        summary.rows.sort { $0.file < $1.file }
        let csv = ([TruthRow.header] + summary.rows.map(\.csv)).joined(separator: "\n") + "\n"
        try AtomicFile.write(Array(csv.utf8), to: out + "/truth.csv")
        return summary
    }

    static func prepare(_ out: String, overwrite: Bool) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: out, isDirectory: &isDir) {
            guard isDir.boolValue else { throw SynthError(description: "synth: \(out) exists and is not a folder") }
            let entries = try fm.contentsOfDirectory(atPath: out)
            if !entries.isEmpty {
                guard entries.contains("truth.csv") else {
                    throw SynthError(description: "synth: \(out) is not empty and is not a synth dump; choose an empty folder")
                }
                guard overwrite else {
                    throw SynthError(description: "synth: \(out) already holds a synth dump; pass --overwrite to replace it")
                }
                try fm.removeItem(atPath: out)
            }
        }
        try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
    }
}
