import FacetCore
import FacetImage
import Foundation
import Synchronization

public struct AugmentSummary: Sendable {
    /// split → images written
    public var written: [String: Int] = [:]
    public var folder = ""
}

/// Writes the dataset: an ImageFolder tree `split/class/name.jpg` under WORKSPACE/dataset, with
/// `manifest.jsonl` and `manifest.csv` beside it. The tree is built in a temporary folder and
/// moved into place whole, so a crash leaves the previous dataset intact.
public enum DatasetExport {
    public static func folder(_ workspace: String) -> String { workspace + "/dataset" }

    public static func run(workspace: String, options: AugmentOptions, threads: Int? = nil,
                           progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> AugmentSummary {
        if let problem = options.problem { throw DataError("augment: \(problem)") }
        let dump = try Workspace.dump(workspace)
        let records = try JSONLines.read(Record.self, from: Workspace.manifest(workspace)).filter { $0.split != nil && $0.label != nil }
        guard !records.isEmpty else { throw DataError("augment: no split, labelled photos; run facet split first") }
        // The manifest is outside bytes too: a label or split that is not one plain name, or a source
        // that climbs out of the dump, would send reads or writes outside their folders.
        for r in records {
            for (what, name) in [("label", r.label!), ("split", r.split!)] {
                if let problem = SafePaths.nameProblem(name) { throw DataError("\(Workspace.manifest(workspace)): \(r.source): \(what) \(problem)") }
            }
            if let problem = SafePaths.relativePathProblem(r.source) { throw DataError("\(Workspace.manifest(workspace)): source \(problem)") }
        }
        let final = folder(workspace), staging = final + ".tmp"
        let fm = FileManager.default
        let pool = FilePool(folder: recycled(workspace))
        pool.absorb(staging, keep: records.count * (1 + options.copies) + 3)   // what a killed run left
        try fm.createDirectory(atPath: staging, withIntermediateDirectories: true)
        for r in records { try fm.createDirectory(atPath: "\(staging)/\(r.split!)/\(r.label!)", withIntermediateDirectories: true) }

        let made: [[DatasetRecord]]
        do {
            made = try parallelMap(records.count, threads: threads ?? 0, progress: progress) { i in
                do { return try export(records[i], dump: dump, into: staging, options: options, pool: pool) } catch {
                    throw DataError("augment: \(records[i].source): \(error) (has the dump changed since ingest? run facet ingest again)")
                }
            }
        } catch {
            try? fm.removeItem(atPath: staging)
            throw error
        }
        let all = made.flatMap { $0 }.sorted { $0.file < $1.file }
        try writeManifests(all, options: options, into: staging)
        try swapIn(staging, as: final, pool: pool, keep: all.count + 3)   // the images and the three manifests
        var summary = AugmentSummary()
        summary.folder = final
        for r in all { summary.written[r.split, default: 0] += 1 }
        return summary
    }

    /// One image of a record: its copy index, the parameters drawn for it, its JPEG bytes.
    public struct Rendered: Sendable {
        public var copy: Int
        public var augment: [AppliedOp]
        public var bytes: [UInt8]
    }

    /// The images of one record: the source resized (copy 0) and, when its split is augmented,
    /// its augmented copies. Depends only on the photo's bytes, id, whether it is augmented, and the options.
    public static func render(_ r: Record, augmented: Bool, dump: String, options: AugmentOptions) throws -> [Rendered] {
        let base = try Augmenting.load(dump + "/" + r.source, size: options.size, policy: options.policy)
        let copies = augmented ? (options.keepSource ? [0] : []) + (options.copies > 0 ? Array(1...options.copies) : []) : [0]
        return try copies.map { copy in
            let ops = copy == 0 ? [] : Augmenting.sample(options.ops, seed: options.seed, id: r.id, copy: copy)
            return Rendered(copy: copy, augment: ops, bytes: try ImageEncoder.jpeg(Augmenting.apply(ops, to: base), quality: options.quality))
        }
    }

    /// The dataset record of one rendered image of `r`, whose bytes hash to `id`.
    public static func record(_ r: Record, copy: Int, augment: [AppliedOp], id: String) -> DatasetRecord {
        DatasetRecord(file: "\(r.split!)/\(r.label!)/\(r.id.prefix(16))-\(copy).jpg", id: id, derivedFrom: r.id, source: r.source,
                      split: r.split!, label: r.label!, lighting: r.conditions?.lighting.value, background: r.conditions?.background.value,
                      occlusion: r.conditions?.occlusion.value, copy: copy, augment: augment)
    }

    /// The images of one record, written under `root`.
    static func export(_ r: Record, dump: String, into root: String, options: AugmentOptions, pool: FilePool) throws -> [DatasetRecord] {
        try render(r, augmented: options.splits.contains(r.split!), dump: dump, options: options).map { image in
            let made = record(r, copy: image.copy, augment: image.augment, id: Analyzer.sha256(image.bytes))
            // The staging folder is swapped in whole, so its files need no rename or fsync of their own.
            try pool.create(root + "/" + made.file, image.bytes)
            return made
        }
    }

    /// `manifest.jsonl`, `manifest.csv` and `augment.json` of a dataset folder.
    public static func writeManifests(_ all: [DatasetRecord], options: AugmentOptions, into folder: String) throws {
        try JSONLines.write(all, to: folder + "/manifest.jsonl")
        try AtomicFile.write(csv(all), to: folder + "/manifest.csv")
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        try AtomicFile.write(Array(try e.encode(options)) + [0x0A], to: folder + "/augment.json")
    }

    /// Where `facet augment` keeps the emptied files of the dataset it replaced, to write the next
    /// one into (see `FilePool`).
    public static func recycled(_ workspace: String) -> String { workspace + "/cache/recycled" }

    /// Moves a finished `staging` folder to `final`, replacing what was there; the old folder's
    /// files go to `pool` (up to `keep`) when one is given.
    public static func swapIn(_ staging: String, as final: String, pool: FilePool? = nil, keep: Int = 0) throws {
        let fm = FileManager.default
        let old = final + ".old"
        try? fm.removeItem(atPath: old)
        if fm.fileExists(atPath: final) { try fm.moveItem(atPath: final, toPath: old) }
        try fm.moveItem(atPath: staging, toPath: final)
        if let pool { pool.absorb(old, keep: keep) } else { try? fm.removeItem(atPath: old) }
    }

    /// Recomputes one image of the dataset from its source and its recorded parameters alone,
    /// and says whether the bytes are identical to the file.
    public static func replay(workspace: String, file: String) throws -> Bool {
        let root = folder(workspace)
        let records = try JSONLines.read(DatasetRecord.self, from: root + "/manifest.jsonl")
        guard let r = records.first(where: { $0.file == file }) else { throw DataError("\(root)/manifest.jsonl: no image \(file)") }
        guard let data = FileManager.default.contents(atPath: root + "/augment.json") else { throw DataError("\(root)/augment.json: missing") }
        let options = try JSONDecoder().decode(AugmentOptions.self, from: data)
        let base = try Augmenting.load(try Workspace.dump(workspace) + "/" + r.source, size: options.size, policy: options.policy)
        let bytes = try ImageEncoder.jpeg(Augmenting.apply(r.augment, to: base), quality: options.quality)
        return FileSystem.read(root + "/" + file) == bytes
    }

    /// The manifest as CSV bytes: one row per image, the sampled parameters in columns; rows made
    /// in blocks on all cores (every row is rewritten whenever a photo is added).
    public static let csvHeader = Array("file,split,label,source,derived_from,copy,lighting,background,occlusion,hflip,vflip,blur_sigma,jitter_order,brightness,contrast,saturation,hue\n".utf8)

    /// The CSV manifest: `csvHeader`, then `csvRows`.
    public static func csv(_ records: [DatasetRecord]) -> [UInt8] { csvHeader + csvRows(records) }

    /// A CSV row per record, made on all cores.
    public static func csvRows(_ records: [DatasetRecord]) -> [UInt8] {
        let block = 512
        return Array(concurrentMap((records.count + block - 1) / block) { b in
            var out: [UInt8] = []
            out.reserveCapacity(block * 192)
            for r in records[b * block..<min(records.count, (b + 1) * block)] { row(r, &out) }
            return out
        }.joined())
    }

    /// The CSV row of one record, made on the calling thread (a shard's rows, one by one).
    public static func csvRow(_ r: DatasetRecord) -> [UInt8] {
        var out: [UInt8] = []
        row(r, &out)
        return out
    }

    private static func row(_ r: DatasetRecord, _ out: inout [UInt8]) {
        func op(_ name: String) -> AppliedOp? { r.augment.first { $0.op == name && $0.applied } }
        func num(_ x: Double?) -> String { x.map(fixed6) ?? "" }
        let j = op("color_jitter")
        let fields = [r.file, r.split, r.label, r.source, r.derivedFrom, String(r.copy), r.lighting ?? "", r.background ?? "",
                      r.occlusion ?? "", op("hflip") != nil ? "1" : "0", op("vflip") != nil ? "1" : "0", num(op("gaussian_blur")?.sigma),
                      (j?.order ?? []).joined(separator: " "), num(j?.brightness), num(j?.contrast), num(j?.saturation), num(j?.hue)]
        for (i, f) in fields.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            CSVField.append(f, to: &out)
        }
        out.append(0x0A)
    }

    /// `x` as C's `%.6f` writes it (Foundation's `String(format:)` is slow enough to show in a run).
    static func fixed6(_ x: Double) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 352) { buffer in
            let n = withVaList([x]) { vsnprintf(buffer.baseAddress!, buffer.count, "%.6f", $0) }
            return String(decoding: UnsafeRawBufferPointer(start: buffer.baseAddress!, count: Int(max(0, min(n, Int32(buffer.count - 1))))), as: UTF8.self)
        }
    }
}

enum CSVField {
    /// `s`, quoted (inner quotes doubled) when it holds a comma, a quote or a line break.
    static func append(_ s: String, to out: inout [UInt8]) {
        let utf8 = s.utf8
        guard utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }) else {
            out.append(contentsOf: utf8)
            return
        }
        out.append(UInt8(ascii: "\""))
        for b in utf8 {
            if b == UInt8(ascii: "\"") { out.append(b) }
            out.append(b)
        }
        out.append(UInt8(ascii: "\""))
    }
}
