import FacetCore
import FacetImage
import Foundation
import Testing
@testable import FacetData

/// `Ingest.extend` takes added files alone only while every earlier record stays as it was.
@Suite struct IngestExtendTests {
    /// Photos of another size are added alone while the median photo area (which every record's
    /// odd_size is measured against) holds, and not once they move it; the index read back is the index written.
    @Test func addedPhotosThatMoveTheMedianAreaAreNotTakenAlone() throws {
        let root = try Support.synth("median", count: 4, seed: 5, size: 64, extras: 0)
        let big = try Support.synth("median-big", count: 5, seed: 9, size: 160, extras: 0)
        let ws = Support.temp("median-ws")
        defer { Support.remove(root, big, ws) }
        let r = try Ingest.scan(dump: root, workspace: ws)
        var state = IngestIndex(medianArea: r.medianArea, summary: r.summary, cacheSizes: IngestIndex.cacheSizes(ws))
        let appended = state.append(r.photos)
        #expect(appended)
        try state.write(ws)
        let read = try #require(IngestIndex.read(ws))
        #expect(read.count == 4 && read.medianArea == r.medianArea && read.summary.accepted == 4)
        #expect(read.members(ofShard: String(r.photos[0].group.prefix(2))).contains { $0.source == r.photos[0].source })
        let added = try FileManager.default.subpathsOfDirectory(atPath: big).filter { $0.hasSuffix(".jpg") || $0.hasSuffix(".png") || $0.hasSuffix(".JPG") }.sorted()
        #expect(added.count == 5)
        for f in added { try FileManager.default.copyItem(atPath: big + "/" + f, toPath: root + "/big-" + (f as NSString).lastPathComponent) }
        let listing = try DumpWalker.list(root)
        let files = added.map { listing.file("big-" + ($0 as NSString).lastPathComponent)! }
        // One larger photo of five: the median is still the small photos' area.
        var decoded = 0
        let one = try #require(try Ingest.extend(read, adding: [files[0]], dump: root, workspace: ws, options: IngestOptions(), decoded: &decoded))
        #expect(decoded == 1)
        #expect(one.photos.map(\.source) == [files[0].path] && one.summary.accepted == 5 && one.index.count == 5)
        // Four more: the median moves, and every record with it.
        let moved = try Ingest.extend(one.index, adding: Array(files[1...]), dump: root, workspace: ws, options: IngestOptions(), decoded: &decoded)
        #expect(moved == nil && decoded == 4)
    }

    /// Thumbnails come back by photo id from the index's file and from photos not yet written,
    /// before and after the index is written and read again; one damaged in the file does not.
    @Test func thumbnailsComeBackByIDAndADamagedOneDoesNot() throws {
        let root = try Support.synth("thumbs", count: 6, seed: 3, size: 64, extras: 0)
        let ws = Support.temp("thumbs-ws")
        defer { Support.remove(root, ws) }
        let r = try Ingest.scan(dump: root, workspace: ws)
        let expected = Dictionary(uniqueKeysWithValues: r.photos.map { ($0.analysis.sha256, $0.analysis.thumb) })
        var state = IngestIndex(medianArea: r.medianArea, summary: r.summary, cacheSizes: IngestIndex.cacheSizes(ws))
        let first = state.append(Array(r.photos.prefix(4)))
        #expect(first)
        try state.write(ws)
        var read = try #require(IngestIndex.read(ws))
        let rest = read.append(Array(r.photos.dropFirst(4)))   // in memory only
        #expect(rest && read.count == r.photos.count)
        #expect(read.thumbsByID == expected)
        let lookup = read.thumbLookup()
        #expect(expected.allSatisfy { lookup($0.key) == $0.value } && lookup(String(repeating: "0", count: 64)) == nil)
        try read.write(ws)
        #expect(try #require(IngestIndex.read(ws)).thumbsByID == expected)
        // A byte of the third thumbnail changed in the file: that one is not given.
        let file = ws + "/cache/ingest-thumbs.bin"
        var bytes = try #require(FileSystem.read(file))
        let size = r.photos[0].analysis.thumb.count
        bytes[bytes.count - 4 * size + 5] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let damaged = try #require(IngestIndex.read(ws)).thumbsByID
        #expect(damaged.count == expected.count - 1 && damaged.allSatisfy { expected[$0.key] == $0.value })
    }
}
