import Foundation
import Testing
@testable import FacetImage
@testable import FacetSynth

@Suite struct SynthTests {
    static func temp(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("facet-synth-\(name)-\(UUID())").path
    }

    /// Every file under `root` with its bytes, keyed by relative path.
    static func snapshot(_ root: String) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        let walker = FileManager.default.enumerator(atPath: root)!
        while let rel = walker.nextObject() as? String {
            var isDir: ObjCBool = false
            FileManager.default.fileExists(atPath: root + "/" + rel, isDirectory: &isDir)
            if !isDir.boolValue { out[rel] = Array(try Data(contentsOf: URL(fileURLWithPath: root + "/" + rel))) }
        }
        return out
    }

    static func truth(_ root: String) throws -> [[String: String]] {
        let lines = try String(contentsOfFile: root + "/truth.csv", encoding: .utf8).split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        #expect(header.starts(with: ["file", "label", "lighting", "background", "occlusion"]))
        return lines.dropFirst().map { line in
            Dictionary(uniqueKeysWithValues: zip(header, line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)))
        }
    }

    @Test func sameSeedSameBytesOtherSeedOtherBytes() throws {
        let a = Self.temp("a"), b = Self.temp("b"), c = Self.temp("c")
        defer { for d in [a, b, c] { try? FileManager.default.removeItem(atPath: d) } }
        _ = try SynthDump.write(to: a, options: SynthOptions(count: 9, seed: 7, size: 64))
        _ = try SynthDump.write(to: b, options: SynthOptions(count: 9, seed: 7, size: 64))
        _ = try SynthDump.write(to: c, options: SynthOptions(count: 9, seed: 8, size: 64))
        let sa = try Self.snapshot(a), sb = try Self.snapshot(b), sc = try Self.snapshot(c)
        #expect(sa.count == 13)  // 9 photos, 1 exact, 1 near, 1 broken, truth.csv
        #expect(sa == sb)
        #expect(sa["truth.csv"] != sc["truth.csv"])
        let shared = Set(sa.keys).intersection(sc.keys).filter { $0.hasSuffix("IMG_0001.jpg") || $0.hasSuffix("IMG_0001.JPG") }
        for key in shared { #expect(sa[key] != sc[key]) }
    }

    @Test func truthDescribesEveryFile() throws {
        let root = Self.temp("truth")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let summary = try SynthDump.write(to: root, options: SynthOptions(count: 30, seed: 3, size: 64, extras: 4))
        let rows = try Self.truth(root)
        let files = try Self.snapshot(root)
        #expect(rows.count == summary.files && summary.files == 30 + 3 * 4)
        #expect(Set(rows.map { $0["file"]! }) == Set(files.keys).subtracting(["truth.csv"]))
        #expect(Set(rows.map { $0["file"]! }).count == rows.count, "a file name was written twice")
        let originals = rows.filter { $0["kind"] == "original" }
        #expect(originals.count == 30)
        for label in ["happy", "normal", "sad"] { #expect(originals.filter { $0["label"] == label }.count == 10) }
        #expect(Set(originals.map { $0["lighting"]! }) == ["bright", "dim"])
        #expect(Set(originals.map { $0["background"]! }) == ["plain", "cluttered"])
        #expect(Set(rows.flatMap { [$0["lighting"]!, $0["background"]!, $0["occlusion"]!] })
            .isSubset(of: ["bright", "dim", "plain", "cluttered", "none", "partial"]))
        let folder = ["happy": "happy/", "normal": "neutral/", "sad": "sad/"]
        for row in rows { #expect(row["file"]!.hasPrefix(folder[row["label"]!]!)) }

        for row in rows {
            let path = root + "/" + row["file"]!
            switch row["kind"]! {
            case "broken":
                #expect(throws: ImageError.self) { try ImageDecoder.decode(file: path) }
            case "exact_duplicate":
                #expect(files[row["file"]!] == files[row["duplicate_of"]!])
            default:
                let decoded = try ImageDecoder.decode(file: path)
                #expect(decoded.orientation.rawValue == Int(row["orientation"]!))
                #expect(decoded.format.rawValue == row["format"])
            }
        }
    }

    /// Photos are stored turned by their EXIF orientation, and display upright: a portrait
    /// shape after orientation, a landscape one as stored for 90° orientations.
    @Test func storedPixelsAreTurnedForTheirOrientation() throws {
        var turned = 0
        for i in 0..<60 {
            let plan = SynthDump.plan(index: i, options: SynthOptions(count: 60, seed: 11, size: 48))
            guard !plan.png, plan.orientation != .up else { continue }
            turned += 1
            let (stored, bytes) = try SynthDump.encode(plan)
            let decoded = try ImageDecoder.decode(bytes)
            #expect(decoded.image.width == plan.scene.width && decoded.image.height == plan.scene.height)
            #expect(decoded.exif?.orientation == plan.orientation.rawValue)
            #expect(stored.width == (plan.orientation.swapsAxes ? plan.scene.height : plan.scene.width))
            // JPEG noise on a 48 px photo is several levels; a wrong turn is many more.
            let upright = Scene.render(plan.scene)
            let right = decoded.image.meanAbsoluteDifference(upright)
            let wrong = decoded.image.meanAbsoluteDifference(upright.applying(.down))
            #expect(right < 9 && right < wrong / 2, "orientation \(plan.orientation): \(right) vs \(wrong)")
        }
        #expect(turned > 5)
    }

    @Test func dimPhotosAreDarkerAndLabelsAreNotInThePixelStatistics() throws {
        var brightness: [String: [Double]] = [:]
        for i in 0..<45 {
            let spec = SynthDump.plan(index: i, options: SynthOptions(count: 45, seed: 5, size: 48)).scene
            let image = Scene.render(spec)
            let mean = Double(image.pixels.reduce(0) { $0 + Int($1) }) / Double(image.pixels.count)
            brightness[spec.dim ? "dim" : "bright", default: []].append(mean)
            brightness[spec.label.rawValue, default: []].append(mean)
        }
        func avg(_ k: String) -> Double { brightness[k]!.reduce(0, +) / Double(brightness[k]!.count) }
        #expect(avg("dim") < avg("bright") * 0.6)
        // The expression changes a few strokes, not the exposure: class means stay close.
        let classes = ["happy", "normal", "sad"].map(avg)
        #expect(classes.max()! - classes.min()! < 25)
    }

    @Test func refusesToWriteIntoAFolderThatIsNotADump() throws {
        let root = Self.temp("busy")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: root + "/notes.txt"))
        #expect(throws: SynthError.self) { try SynthDump.write(to: root, options: SynthOptions(count: 3, seed: 1, size: 48)) }
        #expect(FileManager.default.fileExists(atPath: root + "/notes.txt"))
        let dump = Self.temp("again")
        defer { try? FileManager.default.removeItem(atPath: dump) }
        _ = try SynthDump.write(to: dump, options: SynthOptions(count: 3, seed: 1, size: 48))
        #expect(throws: SynthError.self) { try SynthDump.write(to: dump, options: SynthOptions(count: 3, seed: 1, size: 48)) }
        _ = try SynthDump.write(to: dump, options: SynthOptions(count: 3, seed: 1, size: 48, overwrite: true))
    }

    @Test func timestamps() {
        #expect(SynthDump.timestamp(secondsSince20240301: 0) == ("2024:03:01 00:00:00", "2024-03-01"))
        #expect(SynthDump.timestamp(secondsSince20240301: 31 * 86400 + 3661) == ("2024:04:01 01:01:01", "2024-04-01"))
    }
}
