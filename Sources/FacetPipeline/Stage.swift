import FacetData
import Foundation

/// The kinds of stage a pipeline can have, and what each reads.
///
/// ```
/// ingest ─┬─ tag ───┬─ split ── augment
///         └─ label ─┘
/// ```
public enum StageKind: String, CaseIterable, Sendable, Comparable, Codable {
    case ingest, tag, label, split, augment, train, evaluate, report

    /// The stages whose outputs are photo records (sharded, `WORKSPACE/manifest.jsonl` shows the last's).
    public static let records: Set<StageKind> = [.ingest, .tag, .label, .split]

    /// Stages this one needs present in the manifest.
    public var requires: [StageKind] {
        switch self {
        case .ingest: []
        case .tag, .label: [.ingest]
        case .split: [.label]
        case .augment: [.split]
        case .train: [.augment]
        case .evaluate: [.train]
        case .report: [.evaluate]
        }
    }

    /// Stages whose outputs this one reads, when present.
    public var reads: [StageKind] {
        switch self {
        case .ingest: []
        case .tag, .label: [.ingest]
        case .split: [.label, .tag]
        case .augment: [.split]
        case .train: [.augment]
        case .evaluate: [.train, .augment]
        case .report: [.evaluate, .train, .split, .augment, .ingest]
        }
    }

    /// Bumped when a stage's output for the same inputs and parameters changes, so old cache
    /// entries and lock keys stop matching.
    public var version: Int {
        switch self {
        case .ingest: 1
        case .tag, .label, .split, .augment, .evaluate, .report: 1
        case .train: 4   // 2: paths in "not run" reasons relative to the project; 3: no times in the stored logs; 4: the last checkpoint too
        }
    }

    public static func < (a: StageKind, b: StageKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// What stage parameters are read against: the project root for paths, the pipeline's seed and classes.
struct StageContext {
    var root: String
    var seed: UInt64
    var classes: [String]
}

/// A stage's typed parameters, plus their canonical form (every key, defaults filled in) and the
/// files they name, whose contents are inputs of the stage.
public struct StageParameters: Sendable {
    public enum Options: Sendable {
        case ingest(IngestOptions)
        case tag(TagThresholds, overrides: String?)
        case label(LabelOptions)
        case split(SplitOptions)
        case augment(AugmentOptions)
        case train(TrainStage)
        case evaluate(slices: [String])
        case report(thumbnails: Int)
    }
    public var options: Options
    public var canonical: Value
    /// Absolute paths of files named by the parameters (sheets), by parameter name.
    public var files: [String: String]

    static func read(_ kind: StageKind, _ s: Section, _ c: StageContext) -> StageParameters {
        var files: [String: String] = [:]
        func file(_ section: Section, _ key: String) -> String? {
            guard let p = section.string(key, default: nil) else { return nil }
            let abs = PipelineManifest.absolute(p, root: c.root)
            var dir: ObjCBool = false
            if !FileManager.default.fileExists(atPath: abs, isDirectory: &dir) || dir.boolValue {
                section.problems.add(section.markOf(key), "\(section.path).\(key): file \(abs) does not exist")
            }
            files[key] = abs
            return abs
        }
        let options: Options
        switch kind {
        case .ingest:
            var o = IngestOptions()
            o.maxPixels = s.int("max_pixels", default: o.maxPixels, in: 1...1_000_000_000)
            o.maxBytes = s.int("max_bytes", default: o.maxBytes, in: 1...(1 << 40))
            let dedupe = s.subsection("dedupe")
            if dedupe.node("near").map({ if case .scalar(let x) = $0 { x.string == "false" } else { false } }) == true {
                o.nearMaxDistance = nil
                dedupe.record("near", .bool(false))
            } else {
                let near = dedupe.subsection("near")
                o.nearMaxDistance = near.int("max_distance", default: 6, in: 0...64)
                o.nearMaxThumbDifference = near.double("max_thumb_difference", default: o.nearMaxThumbDifference, in: 0...255)
                near.finish()
                dedupe.record("near", .object(near.canonical))
            }
            let burst = dedupe.int("burst_seconds", default: 0, in: 0...86_400)
            o.burstSeconds = burst > 0 ? burst : nil
            dedupe.finish()
            s.record("dedupe", .object(dedupe.canonical))
            options = .ingest(o)
        case .tag:
            var t = TagThresholds()
            let lighting = s.subsection("lighting"), background = s.subsection("background"), occlusion = s.subsection("occlusion")
            t.dimBelow = lighting.double("dim_below", default: t.dimBelow, in: 0...1)
            t.exifMargin = lighting.double("exif_margin", default: t.exifMargin, in: 0...1)
            t.exifDimBelow = lighting.double("exif_dim_below", default: t.exifDimBelow, in: -20...20)
            t.clutteredAbove = background.double("cluttered_above", default: t.clutteredAbove, in: 0...10)
            t.occludedAbove = occlusion.double("occluded_above", default: t.occludedAbove, in: 0...10)
            t.occlusionModel = file(occlusion, "model")
            for (key, section) in [("lighting", lighting), ("background", background), ("occlusion", occlusion)] {
                section.finish()
                s.record(key, .object(section.canonical))
            }
            options = .tag(t, overrides: file(s, "overrides"))
        case .label:
            var o = LabelOptions()
            o.classes = c.classes
            let from = s.string("from", default: "folders", oneOf: ["folders", "sheet", "pattern"])
            let level = s.int("level", default: 0, in: -16...16)
            switch from {
            case "sheet":
                if let path = file(s, "sheet") { o.source = .sheet(path: path) } else {
                    s.problems.add(s.markOf("from"), "label: from: sheet needs sheet: PATH")
                }
            case "pattern":
                if let p = s.string("pattern", default: nil) {
                    if (try? NSRegularExpression(pattern: p)) == nil {
                        s.problems.add(s.markOf("pattern"), "label.pattern: not a valid regular expression")
                    }
                    o.source = .pattern(p)
                } else {
                    s.problems.add(s.markOf("from"), "label: from: pattern needs pattern: REGEX (its first group is the label)")
                }
            default:
                o.source = .folders(level: level)
            }
            _ = s.node("sheet"); _ = s.node("pattern")
            o.aliases = s.stringMap("aliases", default: o.aliases)
            for (alias, target) in o.aliases where !c.classes.contains(target) {
                s.problems.add(s.markOf("aliases"), "label.aliases: \(alias) → \(target), which is not a class (\(c.classes.joined(separator: ", ")))")
            }
            o.discard = s.strings("discard", default: o.discard)
            o.strict = s.flag("strict")
            options = .label(o)
        case .split:
            var o = SplitOptions()
            o.test = amount(s, "test", default: o.test)
            o.val = amount(s, "val", default: o.val)
            o.stratify = s.strings("stratify", default: o.stratify, oneOf: ["label", "lighting", "background", "occlusion"])
            o.seed = UInt64(s.int("seed", default: Int(c.seed), in: 0...Int.max))
            o.stable = s.bool("stable", default: false)
            if o.stable, case .count = o.test { s.problems.add(s.markOf("stable"), "split.stable assigns by fractions; give test as a fraction") }
            if o.stable, case .count = o.val { s.problems.add(s.markOf("stable"), "split.stable assigns by fractions; give val as a fraction") }
            options = .split(o)
        case .augment:
            var o = AugmentOptions()
            o.splits = s.strings("splits", default: o.splits, oneOf: Splitting.names)
            o.size = s.int("size", default: o.size, in: 8...4096)
            o.policy = ResizePolicy(rawValue: s.string("policy", default: "crop", oneOf: ["crop", "pad"]) ?? "crop") ?? .crop
            o.copies = s.int("copies", default: o.copies, in: 0...100)
            o.keepSource = s.bool("keep_source", default: o.keepSource)
            o.seed = UInt64(s.int("seed", default: Int(c.seed), in: 0...Int.max))
            o.quality = s.int("quality", default: o.quality, in: 1...100)
            o.ops = AugmentOpsReader.read(s)
            options = .augment(o)
        case .train:
            options = .train(TrainStage.read(s, c))
        case .evaluate:
            options = .evaluate(slices: s.strings("slices", default: ["lighting", "background", "occlusion"],
                                                  oneOf: ["lighting", "background", "occlusion"]))
        case .report:
            options = .report(thumbnails: s.int("thumbnails", default: 24, in: 0...10_000))
        }
        return StageParameters(options: options, canonical: .object(s.canonical), files: files)
    }

    /// A count (a whole number) or a fraction (a number with a point, in [0, 1)).
    static func amount(_ s: Section, _ key: String, default d: SplitOptions.Amount) -> SplitOptions.Amount {
        guard let n = s.node(key) else {
            switch d {
            case .count(let k): s.record(key, .int(k))
            case .fraction(let f): s.record(key, .double(f))
            }
            return d
        }
        if let k = Section.int(n) {
            guard k >= 0 else { s.problems.add(n.mark, "\(s.path).\(key) must not be negative"); return d }
            s.record(key, .int(k))
            return .count(k)
        }
        guard let f = Section.double(n), f >= 0, f < 1 else {
            s.problems.add(n.mark, "\(s.path).\(key) must be a count (865) or a fraction in [0, 1) (0.2), not \(Section.show(n))")
            return d
        }
        s.record(key, .double(f))
        return .fraction(f)
    }
}

/// `ops:` of the augment stage: a list of one-key mappings, applied in order.
enum AugmentOpsReader {
    static let names = ["hflip", "vflip", "gaussian_blur", "color_jitter"]

    static func read(_ s: Section) -> [AugmentOp] {
        guard let n = s.node("ops") else {
            let d = AugmentOptions().ops
            s.record("ops", .array(d.map(canonical)))
            return d
        }
        guard case .sequence(let items) = n else {
            s.problems.add(n.mark, "augment.ops must be a list such as [{hflip: {p: 0.5}}, {color_jitter: {brightness: 0.4}}]")
            return []
        }
        var ops: [AugmentOp] = []
        for (i, item) in items.enumerated() {
            guard case .mapping(let m) = item, m.count == 1, let (k, v) = m.first, let name = k.string else {
                s.problems.add(item.mark, "augment.ops[\(i)] must be one operation: {hflip: {p: 0.5}}")
                continue
            }
            guard names.contains(name) else {
                s.problems.add(k.mark, "augment.ops[\(i)]: unknown operation \(name)" + Suggest.hint(name, names)); continue
            }
            let p = Section(v, path: "augment.ops[\(i)].\(name)", problems: s.problems)
            let prob = p.double("p", default: name == "color_jitter" ? 1 : 0.5, in: 0...1)
            switch name {
            case "hflip": ops.append(.hflip(p: prob))
            case "vflip": ops.append(.vflip(p: prob))
            case "gaussian_blur":
                let kernel = p.int("kernel", default: 5, in: 1...99)
                if kernel % 2 == 0 { p.problems.add(p.markOf("kernel"), "\(p.path).kernel must be odd, not \(kernel)") }
                let sigma = range(p, "sigma", default: [0.1, 2.0])
                ops.append(.gaussianBlur(p: prob, kernel: kernel, sigma: sigma))
            default:
                let b = p.double("brightness", default: 0, in: 0...10), c = p.double("contrast", default: 0, in: 0...10)
                let sat = p.double("saturation", default: 0, in: 0...10), h = p.double("hue", default: 0, in: 0...0.5)
                ops.append(.colorJitter(p: prob, brightness: b, contrast: c, saturation: sat, hue: h))
            }
            p.finish()
        }
        s.record("ops", .array(ops.map(canonical)))
        return ops
    }

    /// `sigma: [min, max]` or a single number; 0 < min ≤ max.
    static func range(_ p: Section, _ key: String, default d: [Double]) -> ClosedRange<Double> {
        var values = d
        if let n = p.node(key) {
            switch n {
            case .sequence(let seq): values = seq.compactMap(Section.double)
                if values.count != seq.count || values.count != 2 { values = [] }
            default: values = Section.double(n).map { [$0, $0] } ?? []
            }
            if values.count != 2 || values[0] <= 0 || values[0] > values[1] {
                p.problems.add(n.mark, "\(p.path).\(key) must be [min, max] with 0 < min ≤ max")
                values = d
            }
        }
        p.record(key, .array(values.map(Value.double)))
        return values[0]...values[1]
    }

    static func canonical(_ op: AugmentOp) -> Value {
        switch op {
        case .hflip(let p): .object(["hflip": .object(["p": .double(p)])])
        case .vflip(let p): .object(["vflip": .object(["p": .double(p)])])
        case let .gaussianBlur(p, k, s):
            .object(["gaussian_blur": .object(["p": .double(p), "kernel": .int(k), "sigma": .array([.double(s.lowerBound), .double(s.upperBound)])])])
        case let .colorJitter(p, b, c, s, h):
            .object(["color_jitter": .object(["p": .double(p), "brightness": .double(b), "contrast": .double(c),
                                              "saturation": .double(s), "hue": .double(h)])])
        }
    }
}
