import FacetCore
import FacetData
import FacetImage
import Foundation

/// What the labelling app serves and changes, apart from HTTP: the workspace's photos (its
/// manifest, and the photos `facet label` discarded), their labels (`LabelBook`), thumbnails
/// and the photos themselves, found by record id only.
public final class LabelApp: @unchecked Sendable {
    public let workspace: String
    public let dump: String
    /// The dump's path with its symbolic links resolved: photo paths must stay under it.
    let dumpRoot: String
    public let book: LabelBook
    let records: [Record]
    let byId: [String: Record]
    /// Near-duplicate group → its photos' ids (a group is labelled as one).
    let groups: [String: [String]]
    public let thumbs: ThumbnailCache
    /// The evaluated model's view of each test photo (`evaluation/metrics.jsonl`), by photo id.
    let reviews: [String: Review]
    /// The model the review shows: the evaluated one with the best test accuracy.
    public let reviewModel: String?

    /// Thumbnails are made before serving (each photo decoded once, then cached in the
    /// workspace), so a request never decodes. `progress`: (done, total).
    public init(workspace: String, classes: [String], sheet: String, conditions: String? = nil, history: String? = nil,
                progress: ((Int, Int) -> Void)? = nil) throws {
        self.workspace = workspace
        dump = try Workspace.dump(workspace)
        dumpRoot = SafePaths.resolved(dump)
        var records = try JSONLines.read(Record.self, from: Workspace.manifest(workspace))
        if FileManager.default.fileExists(atPath: Workspace.discarded(workspace)) {
            records += try JSONLines.read(Record.self, from: Workspace.discarded(workspace))
        }
        records.sort { $0.source < $1.source }
        self.records = records
        byId = Dictionary(records.map { ($0.id, $0) }) { a, _ in a }
        groups = Dictionary(grouping: records.map { ($0.group, $0.id) }, by: \.0).mapValues { $0.map(\.1) }
        book = try LabelBook(photos: records.map { ($0.id, $0.source) }, classes: classes, sheet: sheet, conditions: conditions,
                             history: history ?? LabelApp.historyPath(sheet: sheet))
        thumbs = ThumbnailCache(workspace: workspace)
        (reviews, reviewModel) = Self.reviews(workspace: workspace, classes: classes)
        try thumbs.make(records, dumpRoot: dumpRoot, progress: progress)
    }

    /// What the model says of a photo: the label it was evaluated against, its probabilities in
    /// the classes' order, the loss of that label (−ln p), and whether it predicts another class.
    public struct Review: Codable, Sendable {
        var model: String
        var given: String
        var p: [Double]
        var loss: Double
        var disputed: Bool
        /// Still to ask: the photo keeps the label the model disputes, and it was not confirmed.
        var ask: Bool? = nil
    }

    /// The lines of the evaluation's `metrics.jsonl` that the review reads (the evaluate stage's
    /// `ModelEvaluation`, whose module this one does not import).
    struct Evaluation: Decodable {
        struct Report: Decodable { var accuracy: Double }
        struct Prediction: Decodable { var file: String; var p: [Double] }
        var name: String
        var report: Report?
        var predictions: [Prediction]?
    }

    /// The reviews of the best evaluated model, read from the workspace's evaluation and dataset
    /// manifests (a workspace never evaluated has none).
    static func reviews(workspace: String, classes: [String]) -> ([String: Review], String?) {
        let metrics = workspace + "/evaluation/metrics.jsonl", dataset = DatasetExport.folder(workspace) + "/manifest.jsonl"
        guard FileManager.default.fileExists(atPath: metrics),
              let evaluations = try? JSONLines.read(Evaluation.self, from: metrics),
              let best = evaluations.filter({ $0.predictions != nil }).max(by: { ($0.report?.accuracy ?? 0) < ($1.report?.accuracy ?? 0) }),
              let images = try? JSONLines.read(DatasetRecord.self, from: dataset) else { return ([:], nil) }
        let byFile = Dictionary(images.map { ($0.file, $0) }) { a, _ in a }
        var out: [String: Review] = [:]
        for p in best.predictions! {
            guard p.p.count == classes.count, let image = byFile[p.file], let k = classes.firstIndex(of: image.label) else { continue }
            let top = p.p.indices.max { p.p[$0] < p.p[$1] }!
            out[image.derivedFrom] = Review(model: best.name, given: image.label, p: p.p, loss: -log(max(p.p[k], 1e-6)), disputed: top != k)
        }
        return (out, best.name)
    }

    /// The history of a sheet's changes: beside it, `NAME.history.jsonl`.
    public static func historyPath(sheet: String) -> String {
        (sheet as NSString).deletingPathExtension + ".history.jsonl"
    }

    /// The conditions sheet beside a label sheet, when no other is named: `conditions.csv`.
    public static func conditionsPath(sheet: String) -> String {
        (sheet as NSString).deletingLastPathComponent + "/conditions.csv"
    }

    public struct Photo: Codable, Sendable {
        var id: String
        var source: String
        var group: String
        /// The group's size, when it holds other photos.
        var copies: Int?
        var label: String?
        var rev: Int
        var issues: [String]
        /// Condition → what the page shows of it.
        var tags: [String: Tag]
        var review: Review?
    }

    /// A condition as the page shows it: the value in force, what tagging measured (its value,
    /// score, and why it is unknown), and whether the value is an override made here.
    public struct Tag: Codable, Sendable {
        var value: String
        var measured: String
        var score: Double?
        var reason: String?
        /// "you" (an override made in the app), "sheet" (the overrides sheet, as tagged) or "auto".
        var source: String
    }

    public struct State: Codable, Sendable {
        var classes: [String]
        var reviewModel: String?
        var discard: String
        var photos: [Photo]
        var undo: Int
        var redo: Int
    }

    public struct ConditionRequest: Codable, Sendable {
        var id: String
        var field: String
        /// One of the condition's two values, or nil: back to the value measured.
        var value: String?
        var seen: [String: Int]
    }

    public struct LabelRequest: Codable, Sendable {
        /// The photo pressed on; its near-duplicate group is labelled with it.
        var id: String
        /// A class, the discard label, or nil to clear.
        var label: String?
        /// Revision of each photo of the group as the page showed it.
        var seen: [String: Int]
    }

    public struct Update: Codable, Sendable {
        var photos: [Photo]
        var undo: Int
        var redo: Int
        /// What was done, for the page's message ("undone: 3 photos back to unlabelled").
        var did: String
    }

    func photo(_ r: Record) -> Photo {
        let n = groups[r.group]?.count ?? 1
        var tags: [String: Tag] = [:]
        if let c = r.conditions {
            for (name, t) in [("lighting", c.lighting), ("background", c.background), ("occlusion", c.occlusion)] {
                let mine = book.override(name, r.id)
                tags[name] = Tag(value: mine ?? t.value, measured: t.value, score: t.score, reason: t.reason, source: mine != nil ? "you" : t.source)
            }
        }
        // The label in force: the one given here, else the pipeline's (folders, a sheet).
        let label = book.label(r.id) ?? r.label
        var review = reviews[r.id]
        if let given = review?.given { review!.ask = label == given && book.override(LabelBook.confirmed, r.id) != given }
        return Photo(id: r.id, source: r.source, group: r.group, copies: n > 1 ? n : nil, label: label, rev: book.revision(r.id),
                     issues: r.issues, tags: tags, review: review)
    }

    public func state() -> State {
        State(classes: book.classes, reviewModel: reviewModel, discard: book.discard, photos: records.map(photo), undo: book.canUndo, redo: book.canRedo)
    }

    func update(_ changes: [LabelBook.Change], did: String) -> Update {
        Update(photos: changes.compactMap { byId[$0.id].map(photo) }, undo: book.canUndo, redo: book.canRedo, did: did)
    }

    public func label(_ r: LabelRequest) throws -> Update {
        guard let record = byId[r.id] else { throw LabelBook.Refusal(description: "no photo \(r.id)") }
        let ids = groups[record.group] ?? [r.id]
        let changes = try book.set(ids, to: r.label, seen: r.seen)
        return update(changes, did: "\(ids.count == 1 ? "1 photo" : "\(ids.count) photos (near duplicates)") \(r.label ?? "unlabelled")")
    }

    public func condition(_ r: ConditionRequest) throws -> Update {
        let changes = try book.set([r.id], to: r.value, field: r.field, seen: r.seen)
        if r.field == LabelBook.confirmed { return update(changes, did: "confirmed: \(r.value ?? "no longer")") }
        return update(changes, did: "\(r.field) \(r.value ?? "as measured")")
    }

    public func undo() throws -> Update {
        guard let changes = try book.undo() else { return update([], did: "nothing to undo") }
        return update(changes, did: "undone: " + Self.describe(changes, back: true))
    }

    public func redo() throws -> Update {
        guard let changes = try book.redo() else { return update([], did: "nothing to redo") }
        return update(changes, did: "redone: " + Self.describe(changes, back: false))
    }

    /// "3 photos back to unlabelled", "1 photo lighting dim".
    static func describe(_ changes: [LabelBook.Change], back: Bool) -> String {
        let c = changes[0]
        return "\(changes.count) photo\(changes.count == 1 ? "" : "s") \(back ? "back to " : "")\(c.field.map { "\($0) " } ?? "")"
            + (c.new ?? (c.field == nil ? "unlabelled" : "as measured"))
    }

    /// The thumbnail of photo `id`, from the cache.
    public func thumbnail(_ id: String) -> [UInt8]? {
        guard byId[id] != nil else { return nil }
        return thumbs.read(id)
    }

    /// The file of record `r` in the dump, refused (nil) unless its path resolves inside the dump.
    static func file(_ r: Record, dumpRoot root: String) -> String? {
        guard SafePaths.relativePathProblem(r.source) == nil else { return nil }
        let path = SafePaths.resolved(root + "/" + r.source)
        return path.hasPrefix(root + "/") ? path : nil
    }

    /// The bytes of photo `id` and their media type: its file in the dump, found by the record's
    /// path only (`file`).
    public func photo(_ id: String) -> ([UInt8], String)? {
        guard let r = byId[id], let path = Self.file(r, dumpRoot: dumpRoot),
              let data = FileManager.default.contents(atPath: path), data.count <= 256 << 20 else { return nil }
        let type = switch r.format {
        case .png: "image/png"
        default: "image/jpeg"
        }
        return ([UInt8](data), type)
    }
}

/// Thumbnails of a workspace's photos: 192 px on the longer side, JPEG, in
/// `WORKSPACE/cache/thumbs/ID.jpg`; made once per photo, before the app serves.
public struct ThumbnailCache: Sendable {
    public static let side = 192
    let folder: String

    init(workspace: String) { folder = workspace + "/cache/thumbs" }

    func path(_ id: String) -> String { folder + "/" + id + ".jpg" }

    func read(_ id: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path(id)).map { [UInt8]($0) }
    }

    /// Makes the missing ones; a photo that cannot be decoded gets none (the page shows its name).
    func make(_ records: [Record], dumpRoot: String, progress: ((Int, Int) -> Void)?) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let missing = records.filter { !FileManager.default.fileExists(atPath: path($0.id)) }
        guard !missing.isEmpty else { return }
        _ = concurrentMap(missing.count) { i -> Bool in
            let r = missing[i]
            guard let file = LabelApp.file(r, dumpRoot: dumpRoot),
                  let decoded = try? ImageDecoder.decode(file: file, options: DecodeOptions(minimumSide: Self.side)) else { return false }
            let im = decoded.image
            let scale = Double(Self.side) / Double(max(im.width, im.height))
            let small = scale < 1 ? im.resized(width: max(1, Int(Double(im.width) * scale)), height: max(1, Int(Double(im.height) * scale))) : im
            guard let bytes = try? ImageEncoder.jpeg(small.rgb(), quality: 82) else { return false }
            try? AtomicFile.write(bytes, to: path(r.id), durable: false)
            return true
        }
        progress?(missing.count, missing.count)
    }
}
