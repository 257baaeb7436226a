import FacetImage
import Foundation
import Testing
@testable import FacetData

/// `Ingest.extend` takes added files alone only while every earlier record stays as it was.
@Suite struct IngestExtendTests {
    /// Photos of another size are added alone while the median photo area (which every record's
    /// odd_size is measured against) holds, and not once they move it; the state read back is the state written.
    @Test func addedPhotosThatMoveTheMedianAreaAreNotTakenAlone() throws {
        let root = try Support.synth("median", count: 4, seed: 5, size: 64, extras: 0)
        let big = try Support.synth("median-big", count: 5, seed: 9, size: 160, extras: 0)
        let ws = Support.temp("median-ws")
        defer { Support.remove(root, big, ws) }
        let r = try Ingest.scan(dump: root, workspace: ws)
        var state = IngestState(basis: "b", dump: "d", records: "r", quarantine: "q", duplicates: "u", medianArea: r.medianArea,
                                summary: r.summary, keys: ["ab": "k"], cacheSizes: IngestState.cacheSizes(ws))
        let appended = state.append(r.photos)
        #expect(appended)
        try state.write(ws)
        let read = try #require(IngestState.read(ws))
        #expect(read.count == 4 && read.medianArea == r.medianArea && read.keys == ["ab": "k"] && read.summary.accepted == 4)
        #expect(read.members(ofShard: String(r.photos[0].group.prefix(2))).contains { $0.source == r.photos[0].source })
        let added = try FileManager.default.subpathsOfDirectory(atPath: big).filter { $0.hasSuffix(".jpg") || $0.hasSuffix(".png") || $0.hasSuffix(".JPG") }.sorted()
        #expect(added.count == 5)
        for f in added { try FileManager.default.copyItem(atPath: big + "/" + f, toPath: root + "/big-" + (f as NSString).lastPathComponent) }
        let listing = try DumpWalker.list(root)
        let files = added.map { listing.file("big-" + ($0 as NSString).lastPathComponent)! }
        // One larger photo of five: the median is still the small photos' area.
        let one = try #require(try Ingest.extend(read, adding: [files[0]], dump: root, workspace: ws, options: IngestOptions()))
        #expect(one.photos.map(\.source) == [files[0].path] && one.summary.accepted == 5 && one.state.count == 5)
        // Four more: the median moves, and every record with it.
        #expect(try Ingest.extend(one.state, adding: Array(files[1...]), dump: root, workspace: ws, options: IngestOptions()) == nil)
    }
}
