import FacetCore
import FacetImage
import Foundation

/// The thresholds that turn feature scores into condition tags.
///
/// | tag | score | value |
/// |---|---|---|
/// | lighting | brightness (cleanvision's perceived brightness, 0…1) | `dim` below `dim_below`; within `exif_margin` of it, EXIF Bv below `exif_dim_below` decides |
/// | background | border_edges + 2 × border_chroma | `cluttered` at `cluttered_above` or more |
/// | occlusion | asymmetry + 2 × foreign (left–right differences of the upper face: skin in shade, object colours) | `partial` at `occluded_above` or more |
/// | occlusion, with `occlusion_model` | P(partly covered) from the learned tagger (`OcclusionTagger`) on the face crop | `partial` at 0.5 or more; a photo without a face crop falls back to the row above |
public struct TagThresholds: Codable, Sendable, Equatable {
    public var dimBelow = 0.35
    public var exifMargin = 0.05
    public var exifDimBelow = 3.0
    public var clutteredAbove = 0.2
    public var occludedAbove = 0.28
    /// A learned occlusion tagger (safetensors written by `facet tag --calibrate`). In a thresholds
    /// file, relative to the file's folder; in memory, as the file system finds it.
    public var occlusionModel: String?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case dimBelow = "dim_below", exifMargin = "exif_margin", exifDimBelow = "exif_dim_below"
        case clutteredAbove = "cluttered_above", occludedAbove = "occluded_above", occlusionModel = "occlusion_model"
    }

    public static func load(_ path: String) throws -> TagThresholds {
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError("\(path): cannot be read") }
        var t: TagThresholds
        do { t = try JSONDecoder().decode(TagThresholds.self, from: data) } catch {
            throw DataError("\(path): not a thresholds file: \(JSONLines.describe(error))")
        }
        if let m = t.occlusionModel, !m.hasPrefix("/") { t.occlusionModel = Self.folder(of: path) + "/" + m }
        return t
    }

    public func save(_ path: String) throws {
        var t = self
        if let m = occlusionModel, Self.folder(of: m) == Self.folder(of: path) { t.occlusionModel = (m as NSString).lastPathComponent }
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        try AtomicFile.write(Array(try e.encode(t)) + [0x0A], to: path)
    }

    static func folder(of path: String) -> String {
        let f = (path as NSString).deletingLastPathComponent
        return f.isEmpty ? "." : f
    }

    /// Where a calibration saving its thresholds to `path` saves its occlusion tagger.
    public static func modelPath(besides path: String) -> String {
        ((path as NSString).deletingPathExtension) + ".occlusion.safetensors"
    }
}

/// The three conditions and how each is scored and decided.
public enum Condition: String, CaseIterable, Sendable {
    case lighting, background, occlusion

    public var values: (low: String, high: String) {
        switch self {
        case .lighting: ("dim", "bright")
        case .background: ("plain", "cluttered")
        case .occlusion: ("none", "partial")
        }
    }

    /// The score of record `r`, or why this condition cannot be measured on it. With faces
    /// searched at ingest: lighting is the mean of the face's and the frame's brightness, background is measured outside the
    /// person (unknown when the face fills the frame), occlusion is unknown without a face. On a
    /// photo without colour, occlusion is unknown: its cues are skin colours.
    public func measure(_ r: Record) -> (score: Double?, reason: String?) {
        let f = r.features
        switch self {
        case .lighting:
            // The face's light and the frame's, equally: a dim room darkens both, a dark-skinned
            // face or sunglasses in a bright room only one.
            return (f.faceBrightness.map { ($0 + f.brightness) / 2 } ?? f.brightness, nil)
        case .background:
            if f.backgroundShare != nil {
                guard let edges = f.backgroundEdges, let chroma = f.backgroundChroma else { return (nil, "the face fills the frame") }
                return (edges + 2 * chroma, nil)
            }
            return (f.borderEdges + 2 * f.borderChroma, nil)
        case .occlusion:
            if let face = r.face, face.box == nil { return (nil, "no face found") }
            if r.quality.grayscale >= Quality.thresholds["grayscale"]! {
                return (nil, "no colour: the occlusion cues are skin colours")
            }
            return (f.asymmetry + 2 * f.foreign, nil)
        }
    }

    /// The tag value for a score under thresholds `t` (`f`: the record's features, for EXIF).
    public func value(_ s: Double, _ f: Features, _ t: TagThresholds) -> String {
        switch self {
        case .lighting:
            if f.faceBrightness == nil, let bv = f.exifBrightness, abs(s - t.dimBelow) < t.exifMargin { return bv < t.exifDimBelow ? "dim" : "bright" }
            return s < t.dimBelow ? "dim" : "bright"
        case .background: return s >= t.clutteredAbove ? "cluttered" : "plain"
        case .occlusion: return s >= t.occludedAbove ? "partial" : "none"
        }
    }

    /// The tag of record `r` under thresholds `t`: its value and score, or `unknown` and why.
    public func tag(_ r: Record, _ t: TagThresholds) -> Conditions.Tag {
        let (score, reason) = measure(r)
        guard let score else { return Conditions.Tag(value: Condition.unknown, score: nil, reason: reason) }
        return Conditions.Tag(value: value(score, r.features, t), score: (score * 10000).rounded() / 10000)
    }

    /// The value of a condition that cannot be measured on a photo.
    public static let unknown = "unknown"

    var threshold: WritableKeyPath<TagThresholds, Double> {
        switch self {
        case .lighting: \.dimBelow
        case .background: \.clutteredAbove
        case .occlusion: \.occludedAbove
        }
    }
}

/// Condition values from a sheet, by relative path, file name or photo id.
struct ConditionSheet {
    var byKey: [String: [Condition: String]] = [:]

    init(path: String) throws {
        let sheet = try Sheet(path: path)
        guard let key = ["file", "path", "source", "id"].first(where: { sheet.columns.contains($0) }) else {
            throw DataError("\(path): a condition sheet needs a \"file\" or \"id\" column; found \(sheet.columnsDescribed)")
        }
        let present = Condition.allCases.filter { sheet.columns.contains($0.rawValue) }
        guard !present.isEmpty else { throw DataError("\(path): no lighting, background or occlusion column") }
        for row in sheet.rows {
            var values: [Condition: String] = [:]
            for c in present {
                let v = row[c.rawValue]!.lowercased()
                if v.isEmpty { continue }
                guard v == c.values.low || v == c.values.high else {
                    throw DataError("\(path):\(row.line): \(c.rawValue) must be \(c.values.low) or \(c.values.high), not \"\(v)\"")
                }
                values[c] = v
            }
            byKey[row[key]!] = values
        }
    }

    func values(for r: Record) -> [Condition: String]? {
        byKey[r.source] ?? byKey[r.id] ?? byKey[(r.source as NSString).lastPathComponent]
    }
}

public struct TagSummary: Sendable {
    /// Per condition: records with the high value (bright, cluttered, partial) and the total.
    public var counts: [String: [String: Int]] = [:]
    public var fromSheet = 0
    /// Per condition, when calibrating.
    public var calibration: [String: Calibration] = [:]
    public var thresholds = TagThresholds()
    /// Photos whose occlusion came from the learned tagger, and those without a face crop that fell back to the score.
    public var learned = 0, fallback = 0
}

/// What calibrating one condition found: accuracy on the hand-tagged rows with the thresholds
/// given and with the fitted ones. For occlusion, when the sheet tags enough faces, a learned
/// tagger is trained on about four fifths of them and both accuracies are measured on the rest,
/// which it never saw (`heldOut` rows); the tagger saved is then trained on all of them.
public struct Calibration: Sendable {
    public var before: Double
    public var after: Double
    public var threshold: Double
    public var rows: Int
    public var heldOut: Int?
    /// The learned tagger saved, and the hand-tagged faces it was trained on.
    public var model: String?
    public var faces: Int?
    /// Why no tagger was trained, when the sheet tags occlusion.
    public var note: String?
}

public enum Tagging {
    public static func thresholdsPath(_ workspace: String) -> String { workspace + "/tag-thresholds.json" }
    /// Hand-tagged faces needed (of each value) before calibration trains an occlusion tagger.
    public static let minimumPerValue = 20

    /// Tags every record of `workspace`: computed values, then sheet overrides. When `calibrate`
    /// names a hand-tagged sheet, thresholds (and the occlusion tagger) are first fitted to it and saved.
    /// `learner`: trains and loads the learned occlusion tagger (needed when `calibrate` may train
    /// one or the thresholds name one).
    public static func run(workspace: String, thresholds: TagThresholds, overrides: String? = nil,
                           calibrate: String? = nil, saveThresholds: String? = nil, learner: OcclusionLearner? = nil,
                           progress: ((Int, Int) -> Void)? = nil) throws -> TagSummary {
        let records = try JSONLines.read(Record.self, from: Workspace.manifest(workspace))
        var t = thresholds
        var calibration: [String: Calibration] = [:]
        // The face crops (cache/faces.bin) are read only when a tagger is trained or used.
        let faces = calibrate != nil || thresholds.occlusionModel != nil ? Ingest.faces(workspace: workspace) : [:]
        if let calibrate {
            let path = saveThresholds ?? thresholdsPath(workspace)
            (t, calibration) = try fitThresholds(records, sheet: calibrate, start: thresholds, faces: faces,
                                                 modelPath: TagThresholds.modelPath(besides: path), learner: learner, progress: progress)
            try t.save(path)
        }
        var (tagged, summary) = try apply(records, thresholds: t, overrides: overrides, faces: faces, learner: learner)
        summary.calibration = calibration
        try JSONLines.write(tagged, to: Workspace.manifest(workspace))
        return summary
    }

    /// Thresholds fitted to a hand-tagged sheet, and per condition the accuracy before and after.
    /// With `faces` (crops by photo id) and enough hand-tagged faces of each occlusion value, an
    /// occlusion tagger is trained and saved to `modelPath`.
    public static func fitThresholds(_ records: [Record], sheet path: String, start: TagThresholds, faces: [String: Data] = [:],
                                     modelPath: String? = nil, learner: OcclusionLearner? = nil, progress: ((Int, Int) -> Void)? = nil) throws
        -> (TagThresholds, [String: Calibration]) {
        var t = start
        var calibration: [String: Calibration] = [:]
        let sheet = try ConditionSheet(path: path)
        for c in Condition.allCases {
            // Rows whose condition cannot be measured (unknown) take no part in the fit.
            let pairs = records.compactMap { r in
                c.measure(r).score.flatMap { s in sheet.values(for: r)?[c].map { (s, $0 == c.values.high, r) } }
            }
            // The learned tagger takes every hand-tagged face with a crop, measurable by the score or not
            // (a gray photo's occlusion is unknown to the score; the tagger learns from its crop).
            if c == .occlusion, let modelPath, let learner {
                let rows = records.compactMap { r in sheet.values(for: r)?[c].map { (partial: $0 == c.values.high, record: r) } }
                var learning = Calibration(before: 0, after: 0, threshold: t.occludedAbove, rows: rows.count)
                if try learnOcclusion(rows, faces: faces, start: start, modelPath: modelPath, learner: learner,
                                      calibration: &learning, progress: progress) {
                    t.occlusionModel = modelPath
                }
                calibration[c.rawValue] = learning
            }
            guard !pairs.isEmpty else { continue }
            func accuracy(_ t: TagThresholds) -> Double {
                Double(pairs.filter { (c.value($0.0, $0.2.features, t) == c.values.high) == $0.1 }.count) / Double(pairs.count)
            }
            let before = accuracy(t)
            t[keyPath: c.threshold] = fit(pairs.map { ($0.0, $0.1) }, current: t[keyPath: c.threshold])
            if calibration[c.rawValue]?.model != nil {
                // The learned tagger's figures stand, with the threshold fitted beside it (for faces without a crop).
                calibration[c.rawValue]!.threshold = t[keyPath: c.threshold]
            } else {
                calibration[c.rawValue] = Calibration(before: before, after: accuracy(t), threshold: t[keyPath: c.threshold], rows: pairs.count,
                                                      note: calibration[c.rawValue]?.note)
            }
        }
        return (t, calibration)
    }

    /// Trains the occlusion tagger on the hand-tagged faces of `rows` and saves it to `modelPath`;
    /// `calibration` gets the score's and the tagger's accuracy on the rows held out, or why none
    /// was trained (then false).
    static func learnOcclusion(_ rows: [(partial: Bool, record: Record)], faces: [String: Data], start: TagThresholds, modelPath: String,
                               learner: OcclusionLearner, calibration: inout Calibration, progress: ((Int, Int) -> Void)?) throws -> Bool {
        let tagged = rows.compactMap { r in faces[r.record.id].map { (partial: r.partial, record: r.record, crop: $0) } }
        let partial = tagged.filter(\.partial).count, clear = tagged.count - partial
        guard partial >= minimumPerValue, clear >= minimumPerValue else {
            calibration.note = faces.isEmpty
                ? "no occlusion tagger trained: the workspace has no face crops (ingested by an older facet?): run facet ingest again"
                : "no occlusion tagger trained: the sheet tags \(partial) partial and \(clear) clear faces with crops; \(minimumPerValue) of each are needed"
            return false
        }
        // Held out: the rows whose id's first hex digit (uniform in a SHA-256) is 0, 1 or 2 (3/16 ≈ 19%).
        let isHeld = { (r: Record) in r.id.first.map { "012".contains($0) } ?? false }
        let held = tagged.filter { isHeld($0.record) }, train = tagged.filter { !isHeld($0.record) }
        let estimate = try learner.train(train.map(\.crop), train.map(\.partial), progress)
        let right = zip(held, estimate.scores(held.map(\.crop))).filter { ($1 >= 0.5) == $0.partial }.count
        let scoreRight = held.filter { (Condition.occlusion.tag($0.record, start).value == "partial") == $0.partial }.count
        // The tagger kept is trained on every row; the held-out accuracy estimates it (from less data).
        try learner.train(tagged.map(\.crop), tagged.map(\.partial), progress).save(modelPath)
        if !held.isEmpty {
            calibration.before = Double(scoreRight) / Double(held.count)
            calibration.after = Double(right) / Double(held.count)
        }
        (calibration.heldOut, calibration.model, calibration.faces) = (held.count, modelPath, tagged.count)
        return true
    }

    /// Tags `records` under thresholds `t`, then applies a sheet's overrides. `faces`: the face
    /// crops by photo id, read when `t` names an occlusion tagger.
    public static func apply(_ records: [Record], thresholds t: TagThresholds, overrides: String? = nil,
                             faces: [String: Data] = [:], learner: OcclusionLearner? = nil) throws -> ([Record], TagSummary) {
        try Tagger(thresholds: t, overrides: overrides, learner: learner).apply(records, faces: { faces })
    }

    /// Thresholds with their sheet and learned tagger loaded once, for tagging records a part at
    /// a time (the pipeline tags by shard). A record's tags depend on the record alone.
    public struct Tagger {
        public let thresholds: TagThresholds
        let sheet: ConditionSheet?
        let model: OcclusionModel?

        /// `learner` loads the learned occlusion tagger the thresholds name, when they name one.
        public init(thresholds t: TagThresholds, overrides: String?, learner: OcclusionLearner? = nil) throws {
            thresholds = t
            sheet = try overrides.map { try ConditionSheet(path: $0) }
            if let m = t.occlusionModel {
                guard let learner else { throw DataError("\(m): a learned occlusion tagger, which this caller of tagging cannot load") }
                do { model = try learner.load(m) } catch { throw DataError("\(error)") }
            } else {
                model = nil
            }
        }

        /// `faces`: the face crops by photo id, asked for only when a learned tagger is set.
        public func apply(_ records: [Record], faces: () -> [String: Data]) -> ([Record], TagSummary) {
            var records = records
            var summary = TagSummary()
            let t = thresholds
            summary.thresholds = t
            var learned: [String: Double] = [:]
            if let model {
                let crops = faces()
                // One crop at a time: a photo's score never depends on which others share its batch.
                for id in Set(records.map(\.id)) { if let c = crops[id] { learned[id] = model.scores([c])[0] } }
            }
            for i in records.indices {
                var tags: [Condition: Conditions.Tag] = [:]
                for c in Condition.allCases { tags[c] = c.tag(records[i], t) }
                if model != nil {
                    if let p = learned[records[i].id] {
                        tags[.occlusion] = Conditions.Tag(value: p >= 0.5 ? "partial" : "none", score: (p * 10000).rounded() / 10000)
                        summary.learned += 1
                    } else {
                        summary.fallback += 1
                    }
                }
                var source = "auto"
                if let given = sheet?.values(for: records[i]), !given.isEmpty {
                    for (c, v) in given { tags[c]!.value = v; tags[c]!.source = "sheet"; tags[c]!.reason = nil }
                    source = "sheet"
                    summary.fromSheet += 1
                }
                records[i].conditions = Conditions(lighting: tags[.lighting]!, background: tags[.background]!,
                                                   occlusion: tags[.occlusion]!, source: source)
                for c in Condition.allCases { summary.counts[c.rawValue, default: [:]][tags[c]!.value, default: 0] += 1 }
            }
            return (records, summary)
        }
    }

    /// The threshold that tags the most scores right (high at or above it), placed midway
    /// between neighbouring scores; among equals, the one nearest `current`.
    static func fit(_ pairs: [(score: Double, high: Bool)], current: Double) -> Double {
        let sorted = pairs.sorted { $0.score < $1.score }
        var candidates = [sorted.first!.score - 1e-6]
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.score < b.score { candidates.append((a.score + b.score) / 2) }
        candidates.append(sorted.last!.score + 1e-6)
        func correct(_ t: Double) -> Int { sorted.filter { ($0.score >= t) == $0.high }.count }
        let best = candidates.map { (t: $0, n: correct($0)) }
        let top = best.map(\.n).max()!
        return best.filter { $0.n == top }.min { abs($0.t - current) < abs($1.t - current) }!.t
    }
}
