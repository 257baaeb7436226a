import FacetCore
import FacetImage
import Foundation

/// A dataset's parts that do not depend on how it is orchestrated (that is the augment stage's
/// job, for `facet run` and `facet augment` alike): the images of one record, its dataset
/// records, the CSV rows, and the replay of one image from its recorded parameters. The dataset
/// is an ImageFolder tree `split/class/name.jpg` under WORKSPACE/dataset, with `manifest.jsonl`,
/// `manifest.csv` and `augment.json` beside it.
public enum DatasetExport {
    public static func folder(_ workspace: String) -> String { workspace + "/dataset" }

    /// One image of a record: its copy index, the parameters drawn for it, its JPEG bytes.
    public struct Rendered: Sendable {
        public var copy: Int
        public var augment: [AppliedOp]
        public var bytes: [UInt8]
    }

    /// A photo left out of the dataset, and why (`dataset/left_out.jsonl`).
    public struct LeftOut: Sendable, Codable, Equatable {
        public var id: String
        public var source: String
        public var split: String
        public var label: String
        /// `no_face`, `no_landmarks` or `faces_not_searched`.
        public var reason: String

        public init(_ r: Record, reason: String) {
            self.init(id: r.id, source: r.source, split: r.split ?? "", label: r.label ?? "", reason: reason)
        }

        public init(id: String, source: String, split: String, label: String, reason: String) {
            (self.id, self.source, self.split, self.label, self.reason) = (id, source, split, label, reason)
        }
    }

    /// Why `r` is left out of the dataset under `options` (`crop: face` without a face to align
    /// and `missing_face: skip`); nil when it is rendered.
    public static func leftOut(_ r: Record, options: AugmentOptions) -> String? {
        guard let face = options.face, face.missing == .skip else { return nil }
        return FaceAlignment.problem(r)
    }

    /// The images of one record: the source resized (copy 0) and, when its split is augmented,
    /// its augmented copies. Depends only on the photo's bytes, id, whether it is augmented, and the options.
    public static func render(_ r: Record, augmented: Bool, dump: String, options: AugmentOptions) throws -> [Rendered] {
        let base = try Augmenting.base(dump + "/" + r.source, eyes: FaceAlignment.eyes(r), width: r.width, height: r.height, options: options)
        let copies = augmented ? (options.keepSource ? [0] : []) + (options.copies > 0 ? Array(1...options.copies) : []) : [0]
        return try copies.map { copy in
            let ops = copy == 0 ? [] : Augmenting.sample(options.ops, seed: options.seed, id: r.id, copy: copy)
            return Rendered(copy: copy, augment: ops, bytes: try ImageEncoder.jpeg(Augmenting.apply(ops, to: base), quality: options.quality))
        }
    }

    /// The dataset record of one rendered image of `r`, whose bytes hash to `id`.
    public static func record(_ r: Record, copy: Int, augment: [AppliedOp], id: String, options: AugmentOptions) -> DatasetRecord {
        let eyes = options.face == nil ? nil : FaceAlignment.eyes(r)
        let framed = options.face == nil || eyes != nil ? nil : FaceAlignment.problem(r)
        return DatasetRecord(file: "\(r.split!)/\(r.label!)/\(r.id.prefix(16))-\(copy).jpg", id: id, derivedFrom: r.id, source: r.source,
                      split: r.split!, label: r.label!, lighting: r.conditions?.lighting.value, background: r.conditions?.background.value,
                      occlusion: r.conditions?.occlusion.value, copy: copy, augment: augment, eyes: eyes, framed: framed)
    }

    /// Moves a finished `staging` folder to `final`, replacing what was there.
    public static func swapIn(_ staging: String, as final: String) throws {
        let fm = FileManager.default
        let old = final + ".old"
        try? fm.removeItem(atPath: old)
        if fm.fileExists(atPath: final) { try fm.moveItem(atPath: final, toPath: old) }
        try fm.moveItem(atPath: staging, toPath: final)
        try? fm.removeItem(atPath: old)
    }

    /// Recomputes one image of the dataset from its source and its recorded parameters alone,
    /// and says whether the bytes are identical to the file.
    public static func replay(workspace: String, file: String) throws -> Bool {
        let root = folder(workspace)
        let records = try JSONLines.read(DatasetRecord.self, from: root + "/manifest.jsonl")
        guard let r = records.first(where: { $0.file == file }) else { throw DataError("\(root)/manifest.jsonl: no image \(file)") }
        guard let data = FileManager.default.contents(atPath: root + "/augment.json") else { throw DataError("\(root)/augment.json: missing") }
        let options = try JSONDecoder().decode(AugmentOptions.self, from: data)
        // An aligned image needs the photo's displayed size, from its record.
        var size = (width: 0, height: 0)
        if options.face != nil, r.eyes != nil {
            guard let photo = try JSONLines.read(Record.self, from: Workspace.manifest(workspace)).first(where: { $0.id == r.derivedFrom }) else {
                throw DataError("\(Workspace.manifest(workspace)): no photo \(r.derivedFrom)")
            }
            size = (photo.width, photo.height)
        }
        let base = try Augmenting.base(try Workspace.dump(workspace) + "/" + r.source, eyes: r.eyes, width: size.width, height: size.height,
                                       options: options)
        let bytes = try ImageEncoder.jpeg(Augmenting.apply(r.augment, to: base), quality: options.quality)
        return FileSystem.read(root + "/" + file) == bytes
    }

    /// The CSV manifest's header; a row per image follows (`csvRow`).
    public static let csvHeader = Array("file,split,label,source,derived_from,copy,lighting,background,occlusion,hflip,vflip,blur_sigma,jitter_order,brightness,contrast,saturation,hue\n".utf8)

    /// The CSV row of one record (`csvHeader`'s columns).
    public static func csvRow(_ r: DatasetRecord) -> [UInt8] {
        func op(_ name: String) -> AppliedOp? { r.augment.first { $0.op == name && $0.applied } }
        func num(_ x: Double?) -> String { x.map(fixed6) ?? "" }
        let j = op("color_jitter")
        let fields = [r.file, r.split, r.label, r.source, r.derivedFrom, String(r.copy), r.lighting ?? "", r.background ?? "",
                      r.occlusion ?? "", op("hflip") != nil ? "1" : "0", op("vflip") != nil ? "1" : "0", num(op("gaussian_blur")?.sigma),
                      (j?.order ?? []).joined(separator: " "), num(j?.brightness), num(j?.contrast), num(j?.saturation), num(j?.hue)]
        var out: [UInt8] = []
        for (i, f) in fields.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            CSVField.append(f, to: &out)
        }
        out.append(0x0A)
        return out
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
