import FacetImage
import Foundation
import Testing
@testable import FacetData

/// Face detection and landmarks (dlib, through CFace) on real photos: Tests/Fixtures/faces,
/// CC0 photos and files made from them (tools/make_face_fixtures.py). truth.csv gives each
/// photo's kind and, where a face is found, its eye centres (checked by eye on drawn photos).
@Suite struct FaceTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/faces").path

    struct Truth {
        var file: String
        var kind: String
        var eyes: (left: FacePoint, right: FacePoint)?
    }

    static func truth() throws -> [Truth] {
        try String(contentsOfFile: folder + "/truth.csv", encoding: .utf8).split(separator: "\n").dropFirst().map { line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let n = f[2...5].compactMap { Double($0) }
            return Truth(file: f[0], kind: f[1],
                         eyes: n.count == 4 ? (FacePoint(x: n[0], y: n[1]), FacePoint(x: n[2], y: n[3])) : nil)
        }
    }

    /// The photo decoded as ingest decodes it, and what the default options find.
    static func find(_ file: String, _ options: FaceOptions = FaceOptions()) throws -> (FaceFinding, width: Int, height: Int) {
        let d = try ImageDecoder.decode(file: folder + "/" + file, options: DecodeOptions(minimumSide: options.side))
        return (try FaceFinder.find(d.image, width: d.displayedWidth, height: d.displayedHeight, options: options), d.displayedWidth, d.displayedHeight)
    }

    static func distance(_ a: FacePoint, _ b: FacePoint) -> Double { ((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y)).squareRoot() }

    /// Every uncovered face is found with its eyes where they are; three of the four covered
    /// ones; the landscape has none; the two faces are counted.
    @Test func facesAreFoundWithTheirEyesOnRealPhotos() throws {
        var found: [String: (Int, Int)] = [:]
        for t in try Self.truth() {
            let (f, w, h) = try Self.find(t.file)
            found[t.kind, default: (0, 0)].1 += 1
            if f.box != nil { found[t.kind, default: (0, 0)].0 += 1 }
            let issues = f.issues(width: w, height: h, options: FaceOptions())
            switch t.kind {
            case "none": #expect(f.box == nil && issues == ["no_face"], "\(t.file)")
            case "two": #expect(f.faces == 2 && issues.contains("several_faces"), "\(t.file): \(f.faces)")
            case "turned": continue
            default: #expect(!issues.contains("several_faces"), "\(t.file): \(issues)")
            }
            guard let want = t.eyes else { continue }
            guard let box = f.box, let eyes = f.eyes else { Issue.record("\(t.file): no face found"); continue }
            let apart = Self.distance(want.left, want.right)
            #expect(Self.distance(eyes.left, want.left) < 0.15 * apart && Self.distance(eyes.right, want.right) < 0.15 * apart, "\(t.file): \(eyes)")
            for e in [want.left, want.right] {
                #expect(e.x > box.left && e.x < box.right && e.y > box.top && e.y < box.bottom, "\(t.file): eye outside the box")
            }
            #expect(f.landmarks.count == 68)
        }
        let uncovered = ["frontal", "sunglasses", "small", "two"].reduce((0, 0)) { ($0.0 + (found[$1]?.0 ?? 0), $0.1 + (found[$1]?.1 ?? 0)) }
        #expect(uncovered.1 == 32 && uncovered.0 == uncovered.1, "uncovered faces found: \(uncovered)")
        let covered = found["covered"] ?? (0, 0)
        #expect(covered.1 == 4 && Double(covered.0) >= 0.7 * Double(covered.1), "covered faces found: \(covered)")
    }

    /// Boxes and landmarks are in the displayed photo's pixels: a photo stored turned with EXIF
    /// orientation 6 gives what the upright photo gives.
    @Test func coordinatesAreThoseOfTheDisplayedPhoto() throws {
        let (upright, _, _) = try Self.find("011.jpg")
        let (turned, w, h) = try Self.find("exif6-011.jpg")
        #expect(w == 256 && h == 256)
        guard let a = upright.eyes, let b = turned.eyes else { Issue.record("no face"); return }
        #expect(Self.distance(a.left, b.left) < 3 && Self.distance(a.right, b.right) < 3, "\(a) \(b)")
    }

    /// A small face in a larger scene is found after enlarging, not without; below min_size it is small_face.
    @Test func smallFacesNeedTheEnlargement() throws {
        var none = FaceOptions()
        none.upsample = 0
        none.side = 256
        #expect(try Self.find("small-005.jpg", none).0.box == nil)
        var once = none
        once.upsample = 1
        let (f, w, h) = try Self.find("small-005.jpg", once)
        #expect(f.box != nil && f.upsample == 1)
        var strict = once
        strict.minSize = 100
        #expect(f.issues(width: w, height: h, options: strict).contains("small_face"))
        #expect(!f.issues(width: w, height: h, options: once).contains("small_face"))
    }

    /// Bad input is an error or no face, never a crash: tiny, flat and empty images, and
    /// landmark model files that are missing, empty or not a model.
    @Test func badInputIsAnErrorNotACrash() throws {
        for (w, h) in [(1, 1), (3, 200), (200, 3)] {
            #expect(try FaceDetector.detect(Image(width: w, height: h, fill: 128), upsample: 2).isEmpty)
        }
        #expect(throws: FaceError.self) { try FaceDetector.detect(Image(width: 0, height: 0, fill: 0)) }
        #expect(throws: FaceError.self) { try FaceDetector.detect(Image(width: 64, height: 64, fill: 0), upsample: 9) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("facet-face-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(atPath: dir + "/empty.dat", contents: Data())
        FileManager.default.createFile(atPath: dir + "/junk.dat", contents: Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) }))
        for name in ["missing.dat", "empty.dat", "junk.dat"] {
            do {
                _ = try FaceLandmarker(model: dir + "/" + name)
                Issue.record("\(name) was taken for a model")
            } catch {
                #expect(error.description.contains(name), "\(error)")
            }
        }
    }

    /// Ingest with faces on: every record carries its face (or none, with `no_face`), the face's
    /// issues join the record's, a rerun takes every analysis from the cache, and other face
    /// options search every photo again; turning faces off drops the field and the issues.
    @Test func ingestFindsFacesAndCachesThem() throws {
        let w = Support.temp("faces-ingest")
        defer { try? FileManager.default.removeItem(atPath: w) }
        var o = IngestOptions()
        o.faces = FaceOptions()
        let first = try Ingest.run(dump: Self.folder, workspace: w, options: o)
        let records = Dictionary(uniqueKeysWithValues: try JSONLines.read(Record.self, from: Workspace.manifest(w)).map { ($0.source, $0) })
        #expect(first.decoded == first.found && records.count == 44)
        for t in try Self.truth() where !t.file.hasPrefix("../") {
            let r = try #require(records[t.file])
            let f = try #require(r.face, "\(t.file): no face field")
            let (alone, _, _) = try Self.find(t.file)
            #expect(f.box == alone.box && f.faces == alone.faces, "\(t.file): ingest and facet faces differ")
            if t.kind == "none" { #expect(r.issues.contains("no_face")) }
            if t.kind == "two" { #expect(r.issues.contains("several_faces")) }
            if t.eyes != nil { #expect(!r.issues.contains("no_face") && f.landmarks.count == 68, "\(t.file)") }
        }
        let again = try Ingest.run(dump: Self.folder, workspace: w, options: o)
        #expect(again.decoded == 0)
        #expect(try JSONLines.read(Record.self, from: Workspace.manifest(w)).map(\.face) == records.keys.sorted().map { records[$0]!.face })
        o.faces!.threshold = 0
        let stricter = try Ingest.run(dump: Self.folder, workspace: w, options: o)
        #expect(stricter.decoded == records.count)
        o.faces = nil
        _ = try Ingest.run(dump: Self.folder, workspace: w, options: o)
        let plain = try JSONLines.read(Record.self, from: Workspace.manifest(w))
        #expect(plain.allSatisfy { $0.face == nil && !$0.issues.contains("no_face") })
    }
}
