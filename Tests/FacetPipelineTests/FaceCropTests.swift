import FacetCore
import FacetData
import FacetImage
import Foundation
import Testing
@testable import FacetPipeline

/// `augment: {crop: face}` on real photos (Tests/Fixtures/faces, CC0): every image of the
/// dataset is an aligned face — found again by the detector, eyes level within 2° and where the
/// alignment puts them — and the photos without a face are left out with their reason, or
/// framed under `missing_face: frame`.
@Suite struct FaceCropTests {
    static let faces = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path + "/Fixtures/faces"

    /// The committed photos in two class folders, ingested with faces, labelled and split.
    static func prepared() throws -> (dump: String, ws: String) {
        let dump = Support.temp("faces-dump"), ws = Support.temp("faces-ws")
        let files = try FileManager.default.contentsOfDirectory(atPath: faces).filter { $0.hasSuffix(".jpg") }.sorted()
        for (n, f) in files.enumerated() {
            let folder = dump + "/" + (n % 2 == 0 ? "happy" : "sad")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: faces + "/" + f, toPath: folder + "/" + f)
        }
        var o = IngestOptions()
        o.faces = FaceOptions()
        _ = try Ingest.run(dump: dump, workspace: ws, options: o)
        var l = LabelOptions()
        l.classes = ["happy", "sad"]
        _ = try Labeling.run(workspace: ws, options: l)
        var s = SplitOptions()
        (s.test, s.val) = (.fraction(0.2), .fraction(0.2))
        _ = try Splitting.run(workspace: ws, options: s)
        return (dump, ws)
    }

    static func options(_ missing: FaceAlignment.Missing) -> AugmentOptions {
        var o = AugmentOptions()
        (o.size, o.copies, o.face) = (112, 1, FaceAlignment())
        o.face!.missing = missing
        // Ops that keep the eyes level and in place when mirrored.
        o.ops = [.hflip(p: 0.5), .colorJitter(p: 1, brightness: 0.3, contrast: 0.3, saturation: 0.3, hue: 0.05)]
        return o
    }

    @Test func everyImageIsAnAlignedFace() throws {
        let (dump, ws) = try Self.prepared()
        defer { for p in [dump, ws] { try? FileManager.default.removeItem(atPath: p) } }
        let records = try JSONLines.read(Record.self, from: Workspace.manifest(ws)).filter { $0.split != nil }
        let faceless = records.filter { $0.face?.eyes == nil }
        #expect(faceless.count >= 5, "the landscape and the turned heads have no face")
        let summary = try AugmentWorkspace.run(workspace: ws, options: Self.options(.skip))
        #expect(summary.photos == records.count - faceless.count && summary.leftOut == ["no_face": faceless.count])
        let leftOut = try JSONLines.read(DatasetExport.LeftOut.self, from: DatasetExport.folder(ws) + "/left_out.jsonl")
        #expect(Set(leftOut.map(\.id)) == Set(faceless.map(\.id)) && leftOut.allSatisfy { $0.reason == "no_face" })
        let images = try JSONLines.read(DatasetRecord.self, from: DatasetExport.folder(ws) + "/manifest.jsonl")
        #expect(images.count > summary.photos && images.allSatisfy { $0.eyes?.count == 4 && $0.framed == nil })
        // truth.csv: the eye centres of the photos with an uncovered frontal face, marked by hand.
        var truth: [String: (FacePoint, FacePoint)] = [:]
        for line in try String(contentsOfFile: Self.faces + "/truth.csv", encoding: .utf8).split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let n = f[2...5].compactMap { Double($0) }
            if n.count == 4, ["frontal", "sunglasses", "small", "two"].contains(f[1]) { truth[f[0]] = (FacePoint(x: n[0], y: n[1]), FacePoint(x: n[2], y: n[3])) }
        }
        // Where the alignment puts the eyes in 112 px (pixel-centre coordinates): 0.34 and 0.66 across, 0.46 down.
        let want = (FacePoint(x: 0.34 * 112 - 0.5, y: 0.46 * 112 - 0.5), FacePoint(x: 0.66 * 112 - 0.5, y: 0.46 * 112 - 0.5))
        func close(_ a: FacePoint, _ b: FacePoint, _ d: Double) -> Bool { abs(a.x - b.x) <= d && abs(a.y - b.y) <= d }
        let score = Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0.face?.box?.score ?? -9) })
        var checked = 0, confident = 0, refound = 0, refoundConfident = 0
        for d in images {
            let image = try ImageDecoder.decode(file: DatasetExport.folder(ws) + "/" + d.file).image
            #expect(image.width == 112 && image.height == 112)
            // Searched with a black border of 28 px: the detector's window needs some context
            // around a face, and the aligned face fills its image.
            let f = try FaceFinder.find(image.padded(width: 168, height: 168, fill: [0, 0, 0]), width: 168, height: 168, options: FaceOptions())
            if f.box != nil { refound += 1 }
            // A face the detector was sure of (dlib's own threshold, 0) is found again; those it
            // took below it (a covered face, a head half in shadow or turned) are counted.
            if score[d.derivedFrom]! >= 0 {
                confident += 1
                if f.box != nil { refoundConfident += 1 }
            }
            guard let t = truth[(d.source as NSString).lastPathComponent] else { continue }
            checked += 1
            // The hand-marked eyes, carried by the photo's alignment: level within 2°, where they belong.
            let face = FaceAlignment()
            let (l, r) = (face.place(t.0, eyes: d.eyes!, size: 112), face.place(t.1, eyes: d.eyes!, size: 112))
            let tilt = atan2(r.y - l.y, r.x - l.x) * 180 / .pi
            #expect(abs(tilt) < 2 && close(l, want.0, 4) && close(r, want.1, 4), "\(d.source): true eyes at \(l), \(r) (\(tilt)°)")
            // The detector finds the face again in the image, its eyes within 6 px of their places
            // (mirrored copies swap the eyes, not their places).
            guard let e = f.eyes else { continue }
            // Found again, the eyes are near their places: within 0.3 of the eye distance (the
            // hand-marked eyes are checked to 4 px above; the detector's landmarks on a 112-px face
            // move by several pixels).
            let again = (FacePoint(x: e.left.x - 28, y: e.left.y - 28), FacePoint(x: e.right.x - 28, y: e.right.y - 28))
            #expect(close(again.0, want.0, 11) && close(again.1, want.1, 11), "\(d.source): eyes found at \(again)")
        }
        #expect(checked >= 40 && confident >= 40, "images of photos with hand-marked eyes: \(checked), of confident faces: \(confident)")
        #expect(Double(refoundConfident) >= 0.95 * Double(confident) && Double(refound) >= 0.85 * Double(images.count),
                "found again in \(refound) of \(images.count) images, \(refoundConfident) of \(confident) of confident faces")
        print("crop: face on the committed photos: \(images.count) images of \(summary.photos) photos; found again in \(refound) "
              + "(\(refoundConfident) of the \(confident) of faces scored 0 or more); \(checked) images of photos with hand-marked eyes, each level within 2°")
        // Under missing_face: frame the photos without a face are in the dataset, framed, with why.
        let framed = try AugmentWorkspace.run(workspace: ws, options: Self.options(.frame))
        #expect(framed.photos == records.count && framed.leftOut.isEmpty && !FileSystem.exists(DatasetExport.folder(ws) + "/left_out.jsonl"))
        let all = try JSONLines.read(DatasetRecord.self, from: DatasetExport.folder(ws) + "/manifest.jsonl")
        #expect(Set(all.filter { $0.framed == "no_face" }.map(\.derivedFrom)) == Set(faceless.map(\.id)))
        // Each image replays from its record alone.
        for d in all.prefix(6) { #expect(try DatasetExport.replay(workspace: ws, file: d.file), "\(d.file)") }
    }

    /// In a pipeline: the left-out photos are in the stage's note and beside the dataset, a second
    /// run does nothing, and `crop: face` without faces at ingest is refused before anything runs.
    @Test func aPipelineLeavesOutPhotosWithoutAFaceAndSaysSo() throws {
        let root = Support.temp("faces-pipeline")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.faces).filter { $0.hasSuffix(".jpg") }.sorted()
        for (n, f) in files.enumerated() {
            let folder = root + "/raw/" + (n % 2 == 0 ? "happy" : "sad")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Self.faces + "/" + f, toPath: folder + "/" + f)
        }
        try Support.write(root, stages: """
              ingest: {faces: true}
              label: {from: folders}
              split: {test: 0.2, val: 0.2}
              augment: {size: 48, copies: 0, crop: face}
            """)
        let results = try Support.pipeline(root).run()
        let note = try #require(results.first { $0.stage == .augment }).note
        let left = try JSONLines.read(DatasetExport.LeftOut.self, from: root + "/ws/dataset/left_out.jsonl")
        #expect(left.count >= 5 && note.contains("\(left.count) photos left out (\(left.count) no_face; dataset/left_out.jsonl)"), "\(note)")
        let again = try Support.pipeline(root).run()
        #expect(again.allSatisfy { $0.state == .fresh }, "a second run does nothing")
        try Support.write(root, stages: """
              ingest: {}
              label: {from: folders}
              split: {test: 0.2, val: 0.2}
              augment: {size: 48, crop: face}
            """)
        #expect { try Support.pipeline(root).run() } throws: { "\($0)".contains("add faces: true") }
    }
}
