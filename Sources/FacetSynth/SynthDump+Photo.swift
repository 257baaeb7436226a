import FacetCore
import FacetImage
import Foundation

/// Everything decided about one original photo before it is drawn.
struct PhotoPlan: Sendable {
    var index: Int
    var scene: SceneSpec
    var orientation: Orientation
    var png: Bool
    var quality: Int
    var exif: ExifInfo?
    var file: String
}

extension SynthDump {
    static let cameras: [(String, String)] = [("Apple", "iPhone 12"), ("Google", "Pixel 6"), ("Canon", "Canon EOS 80D"),
                                              ("samsung", "SM-G991B")]
    /// Orientation as a phone stores it: mostly upright, often turned, rarely mirrored.
    static let orientations: [(Orientation, Float)] = [(.up, 0.66), (.right, 0.16), (.left, 0.06), (.down, 0.06),
                                                       (.upMirrored, 0.015), (.downMirrored, 0.015),
                                                       (.leftMirrored, 0.015), (.rightMirrored, 0.015)]

    static func plan(index i: Int, options: SynthOptions) -> PhotoPlan {
        var r = SplitMix64(keys: options.seed, UInt64(i), 0)
        let label = Expression.allCases[i % 3]
        let dim = r.chance(0.4), cluttered = r.chance(0.5), occluded = r.chance(0.25)
        let portrait = r.chance(0.75)
        let long = options.size * 4 / 3
        let scene = SceneSpec(label: label, dim: dim, cluttered: cluttered, occluded: occluded,
                              width: portrait ? options.size : long, height: portrait ? long : options.size,
                              key: SplitMix64.mix(options.seed ^ SplitMix64.mix(UInt64(i) &+ 1)))
        let png = r.chance(0.1)
        var orientation = Orientation.up
        var roll = r.uniform(0, 1)
        for (o, p) in orientations { if roll < p { orientation = o; break }; roll -= p }
        let seconds = 9 * 3600 + i * 420 + r.int(0...300)
        let stamp = timestamp(secondsSince20240301: seconds)
        var exif: ExifInfo?
        if png {
            orientation = .up  // facet writes no eXIf chunk, so a PNG is stored upright
        } else if r.chance(0.93) {
            let (make, model) = r.pick(cameras)
            exif = ExifInfo(orientation: orientation.rawValue, dateTimeOriginal: stamp.exif, make: make, model: model,
                            exposureTime: dim ? 1 / Double(r.pick([15, 20, 25, 30])) : 1 / Double(r.pick([250, 500, 1000])),
                            fNumber: Double(r.pick([1.8, 2.0, 2.2, 2.8])),
                            iso: dim ? r.pick([800, 1600, 3200]) : r.pick([50, 100, 200]),
                            brightnessValue: Double(dim ? r.uniform(-2.5, 1) : r.uniform(5, 9)), flash: 0)
        } else {
            orientation = .up  // no EXIF: stored upright
        }
        let folder = folders[label]! + "/" + stamp.day
        let ext = png ? "png" : (r.chance(0.3) ? "JPG" : "jpg")
        return PhotoPlan(index: i, scene: scene, orientation: orientation, png: png, quality: r.int(85...95),
                         exif: exif, file: String(format: "%@/IMG_%04d.%@", folder, i + 1, ext))
    }

    /// The photo's stored pixels (turned so that its EXIF orientation displays it upright) and bytes.
    static func encode(_ plan: PhotoPlan) throws -> (Image, [UInt8]) {
        let stored = Scene.render(plan.scene).applying(plan.orientation.inverse)
        let bytes = plan.png ? try ImageEncoder.png(stored) : try ImageEncoder.jpeg(stored, quality: plan.quality, exif: plan.exif)
        return (stored, bytes)
    }

    static func writePhoto(_ plan: PhotoPlan, root: String) throws -> TruthRow {
        let (_, bytes) = try encode(plan)
        try AtomicFile.write(bytes, to: root + "/" + plan.file, durable: false)   // a drawn dump is drawn again, not recovered
        return row(plan, file: plan.file, kind: .original)
    }

    static func row(_ plan: PhotoPlan, file: String, kind: TruthRow.Kind, duplicateOf: String? = nil,
                    format: String? = nil) -> TruthRow {
        TruthRow(file: file, label: plan.scene.label, lighting: plan.scene.dim ? "dim" : "bright",
                 background: plan.scene.cluttered ? "cluttered" : "plain",
                 occlusion: plan.scene.occluded ? "partial" : "none", kind: kind, duplicateOf: duplicateOf,
                 orientation: plan.orientation.rawValue, format: format ?? (plan.png ? "png" : "jpeg"))
    }

    /// Exact copies, near copies (re-encoded or resized) and broken files, in the label folders.
    static func writeExtras(_ plans: [PhotoPlan], options: SynthOptions, root: String) throws -> [TruthRow] {
        var r = SplitMix64(keys: options.seed, 0xE7_7A5)
        var rows: [TruthRow] = []
        let n = options.extrasPerKind
        for j in 0..<n {
            let source = plans[r.int(0...(plans.count - 1))]
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: root + "/" + source.file)))
            let file = stem(source.file) + " (\(j + 1))." + ext(source.file)
            try AtomicFile.write(bytes, to: root + "/" + file, durable: false)
            rows.append(row(source, file: file, kind: .exactDuplicate, duplicateOf: source.file))
        }
        for j in 0..<n {
            let source = plans[r.int(0...(plans.count - 1))]
            let (stored, _) = try encode(source)
            let resize = j % 2 == 1
            let image = resize ? stored.resized(width: stored.width * 3 / 4, height: stored.height * 3 / 4) : stored
            let bytes = try ImageEncoder.jpeg(image, quality: resize ? 90 : r.int(60...75), exif: source.exif)
            let file = stem(source.file) + (resize ? "-small" : "-edited") + "-\(j + 1).jpg"
            try AtomicFile.write(bytes, to: root + "/" + file, durable: false)
            rows.append(row(source, file: file, kind: .nearDuplicate, duplicateOf: source.file, format: "jpeg"))
        }
        for j in 0..<n {
            let source = plans[r.int(0...(plans.count - 1))]
            let folder = (source.file as NSString).deletingLastPathComponent
            let file = String(format: "%@/IMG_%04d.jpg", folder, 9000 + j)
            let bytes: [UInt8]
            switch j % 4 {
            case 0:  // a transfer cut short
                let (_, full) = try encode(PhotoPlan(index: source.index, scene: source.scene, orientation: source.orientation,
                                                     png: false, quality: source.quality, exif: source.exif, file: file))
                bytes = Array(full.prefix(full.count * r.int(40...70) / 100))
            case 1: bytes = []  // an empty file
            case 2: bytes = Array("This is not a photo: the upload failed.\n".utf8)
            default: bytes = [0xFF, 0xD8, 0xFF, 0xE0] + (0..<2000).map { _ in UInt8(truncatingIfNeeded: r.next()) }
            }
            try AtomicFile.write(bytes, to: root + "/" + file, durable: false)
            rows.append(row(source, file: file, kind: .broken, format: "broken"))
        }
        return rows
    }

    static func stem(_ path: String) -> String { (path as NSString).deletingPathExtension }
    static func ext(_ path: String) -> String { (path as NSString).pathExtension }

    /// "2024:03:01 09:00:00" and "2024-03-01" for seconds after 2024-03-01 00:00:00.
    static func timestamp(secondsSince20240301 s: Int) -> (exif: String, day: String) {
        let days = s / 86400, rest = s % 86400
        // Days since 1970-01-01 of 2024-03-01 is 19783; civil date by Howard Hinnant's algorithm.
        let z = 19783 + days + 719_468
        let era = z / 146_097, doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        let day = String(format: "%04d-%02d-%02d", y, m, d)
        let time = String(format: "%02d:%02d:%02d", rest / 3600, rest % 3600 / 60, rest % 60)
        return (day.replacingOccurrences(of: "-", with: ":") + " " + time, day)
    }
}

/// RFC 4180 fields.
enum CSV {
    static func field(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}
