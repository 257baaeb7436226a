import FacetCore
import Foundation
import Testing
@testable import FacetData
@testable import FacetImage
@testable import FacetSynth

@Suite struct IngestTests {
    @Test func everyFileIsAccountedForAndDuplicatesAreFound() throws {
        let dump = try Support.synth("dump", count: 150, extras: 6)
        let ws = Support.temp("ws")
        defer { Support.remove(dump, ws) }
        let before = try Support.fingerprint(dump)
        let summary = try Ingest.run(dump: dump, workspace: ws)
        #expect(try Support.fingerprint(dump) == before, "the dump was written to")

        let truth = try Support.truth(dump)
        let records = try JSONLines.read(Record.self, from: Workspace.manifest(ws))
        let quarantine = try JSONLines.read(QuarantineRecord.self, from: Workspace.quarantine(ws))
        let duplicates = try JSONLines.read(DuplicateRecord.self, from: Workspace.duplicates(ws))
        #expect(summary.found == truth.count + 1)  // and truth.csv itself, not an image
        #expect(summary.balanced)
        #expect(records.count + quarantine.count + duplicates.count == summary.found)
        #expect(quarantine.contains { $0.source == "truth.csv" && $0.kind == "notAnImage" })

        let quarantined = Set(quarantine.map(\.source))
        for row in truth.values where row.kind == "broken" { #expect(quarantined.contains(row.file), "\(row.file) not quarantined") }
        #expect(quarantined.count == truth.values.filter { $0.kind == "broken" }.count + 1)

        // Exact duplicates: one of each identical pair is set aside, and it is the copy.
        let setAside = Dictionary(uniqueKeysWithValues: duplicates.map { ($0.source, $0) })
        for row in truth.values where row.kind == "exact_duplicate" {
            let d = try #require(setAside[row.file], "\(row.file) not found as a duplicate")
            #expect(d.keptSource == row.duplicateOf)
        }
        #expect(duplicates.count == truth.values.filter { $0.kind == "exact_duplicate" }.count)

        // Near duplicates share a group with their original; different photos never do.
        let bySource = Dictionary(uniqueKeysWithValues: records.map { ($0.source, $0) })
        func origin(_ source: String) -> String { truth[source].map { $0.duplicateOf.isEmpty ? source : $0.duplicateOf } ?? source }
        for row in truth.values where row.kind == "near_duplicate" {
            if let near = bySource[row.file], let original = bySource[row.duplicateOf] { #expect(near.group == original.group, "\(row.file)") }
        }
        for members in Dictionary(grouping: records, by: \.group).values where members.count > 1 {
            #expect(Set(members.map { origin($0.source) }).count == 1, "\(members.map(\.source)) grouped")
        }
        #expect(Dictionary(grouping: records, by: \.group).values.filter { $0.count > 1 }.count == 6)

        // Records carry what the decode learnt.
        for r in records {
            let t = try #require(truth[r.source])
            #expect(r.id.count == 64 && r.format.rawValue == (r.source.hasSuffix(".png") ? "png" : "jpeg"))
            #expect(min(r.width, r.height) == 64 || t.kind == "near_duplicate")
            #expect(r.bytes > 0)
        }
    }

    @Test func addingTenPhotosDecodesTenAndEqualsAFreshIngest() throws {
        let full = try Support.synth("full", count: 40, extras: 0)
        let dump = Support.temp("growing"), ws = Support.temp("ws"), fresh = Support.temp("fresh")
        defer { Support.remove(full, dump, ws, fresh) }
        try FileManager.default.copyItem(atPath: full, toPath: dump)
        try FileManager.default.removeItem(atPath: dump + "/truth.csv")
        let added = try Support.truth(full).keys.filter { Int($0.suffix(8).prefix(4)) ?? 0 > 30 }.sorted()
        #expect(added.count == 10)
        for file in added { try FileManager.default.removeItem(atPath: dump + "/" + file) }

        let first = try Ingest.run(dump: dump, workspace: ws)
        #expect(first.decoded == 30 && first.accepted == 30)
        for file in added { try FileManager.default.copyItem(atPath: full + "/" + file, toPath: dump + "/" + file) }
        let second = try Ingest.run(dump: dump, workspace: ws)
        #expect(second.decoded == 10 && second.reused == 30 && second.accepted == 40)

        let again = try Ingest.run(dump: dump, workspace: fresh)
        #expect(again.decoded == 40)
        for file in [Workspace.manifest, Workspace.quarantine, Workspace.duplicates] {
            #expect(try Data(contentsOf: URL(fileURLWithPath: file(ws))) == Data(contentsOf: URL(fileURLWithPath: file(fresh))))
        }
        let faces = Ingest.faces(workspace: ws)
        #expect(faces.count >= 38 && faces == Ingest.faces(workspace: fresh))
    }

    /// The face store: a record cut short at its end (a write killed midway) is left out and the
    /// next append starts the file afresh; without the store, the cache is not trusted and every
    /// photo is decoded again, so no photo is left without its crop.
    @Test func theFaceStoreDropsACutShortRecordAndItsLossMeansADecode() throws {
        let dump = try Support.synth("faces", count: 12, seed: 41, extras: 0)
        let ws = Support.temp("ws")
        defer { Support.remove(dump, ws) }
        _ = try Ingest.run(dump: dump, workspace: ws)
        let faces = Ingest.faces(workspace: ws)
        #expect(faces.count >= 11 && faces.values.allSatisfy { $0.count == 3 * FaceCrop.side * FaceCrop.side })
        let path = FaceStore.path(ws)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        try (whole + whole.dropFirst(FaceStore.header.count).prefix(100)).write(to: URL(fileURLWithPath: path))
        #expect(Ingest.faces(workspace: ws) == faces)

        let file = try Support.truth(dump).keys.sorted()[0]
        try FileManager.default.copyItem(atPath: dump + "/" + file, toPath: dump + "/copy.jpg")
        try Data(try Data(contentsOf: URL(fileURLWithPath: dump + "/copy.jpg")).reversed()).write(to: URL(fileURLWithPath: dump + "/broken.jpg"))
        _ = try Ingest.run(dump: dump, workspace: ws)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect((size - FaceStore.header.count) % FaceStore.recordSize == 0 && Ingest.faces(workspace: ws) == faces)

        try FileManager.default.removeItem(atPath: path)
        let again = try Ingest.run(dump: dump, workspace: ws)
        #expect(again.reused == 0 && again.decoded >= 12)
        #expect(Ingest.faces(workspace: ws) == faces)
    }

    /// The binary analysis cache of a real ingest (photos, broken files, EXIF) reads back as
    /// each file's analysis made afresh; a record cut short at its end (a write killed midway),
    /// or damaged, ends what is read, those files are analysed again, and the next ingest writes
    /// the file afresh with the same records as a clean ingest.
    @Test func theAnalysisCacheReadsBackAndSurvivesDamage() throws {
        let dump = try Support.synth("cache", count: 30, seed: 7, extras: 6)
        let ws = Support.temp("ws"), clean = Support.temp("clean")
        defer { Support.remove(dump, ws, clean) }
        _ = try Ingest.run(dump: dump, workspace: ws)
        let files = try DumpWalker.list(dump).files
        let cache = IngestCache(workspace: ws)
        #expect(cache.lines == files.count)
        var failed = 0
        for f in files {
            var (made, _) = Ingest.analyze(f, dump: dump, cache: IngestCache(), options: IngestOptions())
            if case .photo(var p) = made { p.face = nil; made = .photo(p) } else { failed += 1 }
            #expect(cache.lookup(f) == made, "\(f.path)")
        }
        #expect(failed >= 3)

        let path = IngestCache.path(ws), whole = try #require(FileSystem.read(path))
        try AtomicFile.write(Array(whole.dropLast(5)), to: path)
        #expect(IngestCache(workspace: ws).lines == files.count - 1)
        var damaged = whole
        damaged[whole.count / 2] ^= 0x40
        try AtomicFile.write(damaged, to: path)
        let kept = IngestCache(workspace: ws).lines
        #expect(kept > 0 && kept < files.count)
        // Hostile bytes: random flips, cuts and lengths never crash a read, nor yield more records.
        var rng = SystemRandomNumberGenerator()
        for trial in 0..<300 {
            var bytes = whole
            for _ in 0..<(1 + trial % 4) {
                let at = Int.random(in: IngestCache.header.count..<bytes.count, using: &rng)
                switch trial % 3 {
                case 0: bytes[at] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes.removeLast(min(bytes.count - at, Int.random(in: 1...64, using: &rng)))
                default: for k in 0..<min(4, bytes.count - at) { bytes[at + k] = 0xFF }
                }
                if bytes.count <= IngestCache.header.count { break }
            }
            try AtomicFile.write(bytes, to: path)
            #expect(IngestCache(workspace: ws).lines <= files.count)
        }
        try AtomicFile.write(damaged, to: path)
        let summary = try Ingest.run(dump: dump, workspace: ws)
        #expect(summary.reused == kept && summary.decoded + summary.reused <= files.count)
        #expect(IngestCache(workspace: ws).lines == files.count)
        #expect(FileSystem.read(path) == whole)

        _ = try Ingest.run(dump: dump, workspace: clean)
        for file in [Workspace.manifest, Workspace.quarantine, Workspace.duplicates] {
            #expect(FileSystem.read(file(ws)) == FileSystem.read(file(clean)))
        }
    }

    @Test func touchedOrRenamedFilesAreConfirmedByContentHash() throws {
        let dump = try Support.synth("touch", count: 6, extras: 0)
        let ws = Support.temp("ws")
        defer { Support.remove(dump, ws) }
        _ = try Ingest.run(dump: dump, workspace: ws)
        let file = try Support.truth(dump).keys.sorted()[0]
        try FileManager.default.moveItem(atPath: dump + "/" + file, toPath: dump + "/renamed.jpg")
        let summary = try Ingest.run(dump: dump, workspace: ws)
        #expect(summary.decoded == 0)  // the renamed photo's bytes are known: no decode
        let records = try JSONLines.read(Record.self, from: Workspace.manifest(ws))
        #expect(records.contains { $0.source == "renamed.jpg" })
    }

    @Test func walkerHandlesLinksLoopsAndSpecialFiles() throws {
        let root = Support.temp("walk")
        defer { Support.remove(root) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/a/b", withIntermediateDirectories: true)
        try AtomicFile.write(try ImageEncoder.png(Image(width: 4, height: 4, fill: 9)), to: root + "/a/b/x.png")
        try fm.createSymbolicLink(atPath: root + "/a/b/loop", withDestinationPath: "../..")
        try fm.createSymbolicLink(atPath: root + "/dangling.jpg", withDestinationPath: root + "/nowhere.jpg")
        try fm.createSymbolicLink(atPath: root + "/linked.png", withDestinationPath: root + "/a/b/x.png")
        #expect(mkfifo(root + "/pipe", 0o644) == 0)
        let listing = try DumpWalker.list(root)
        #expect(listing.files.map(\.path) == ["a/b/x.png", "linked.png"])
        #expect(Set(listing.problems.map(\.source)) == ["dangling.jpg", "pipe"])
        #expect(listing.problems.first { $0.source == "pipe" }?.reason.contains("not a regular file") == true)
        #expect(throws: DataError.self) { try DumpWalker.list(root + "/missing") }
    }

    @Test func qualityScoresFire() {
        let flat = PixelStats(Image(width: 64, height: 64, fill: 12))
        let q = Quality(flat, width: 64, height: 200, medianArea: 64 * 64)
        #expect(Set(q.issues) == ["dark", "blurry", "low_information", "odd_aspect", "grayscale"])
        let pattern = Image.testPatternForData(width: 64, height: 64)
        let good = Quality(PixelStats(pattern), width: 64, height: 64, medianArea: 64 * 64)
        #expect(good.issues.isEmpty, "\(good)")
        #expect(Quality(PixelStats(pattern), width: 256, height: 256, medianArea: 64 * 64).issues == ["odd_size"])
    }

    @Test func perceptualHashIsStableUnderReencodingAndFarForOtherPictures() throws {
        let a = Image.testPatternForData(width: 96, height: 80)
        let b = a.flippedHorizontally()
        let reencoded = try ImageDecoder.decode(try ImageEncoder.jpeg(a, quality: 60)).image
        #expect(PerceptualHash.distance(PerceptualHash.hash(a), PerceptualHash.hash(reencoded)) <= 2)
        #expect(PerceptualHash.distance(PerceptualHash.hash(a), PerceptualHash.hash(a.resized(width: 48, height: 40))) <= 2)
        #expect(PerceptualHash.distance(PerceptualHash.hash(a), PerceptualHash.hash(b)) > 10)
    }
}

extension Image {
    static func testPatternForData(width: Int, height: Int) -> Image {
        var image = Image(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                image[y, x, 0] = UInt8(x * 255 / max(width - 1, 1))
                image[y, x, 1] = UInt8((x * y) % 256)
                image[y, x, 2] = ((x / 8) + (y / 5)) % 2 == 0 ? 220 : 30
            }
        }
        return image
    }
}

extension IngestTests {
    /// The pigeonhole search finds exactly the pairs that comparing all pairs finds, in the same
    /// order: random hashes with near copies planted (1–12 bits flipped), runs of identical
    /// hashes, every distance the stages use and more.
    @Test func nearPairsEqualComparingAllPairs() {
        var rng = SystemRandomNumberGenerator()
        for n in [0, 1, 63, 64, 300, 900] {
            var hashes: [UInt64] = []
            while hashes.count < n {
                let h = UInt64.random(in: 0...UInt64.max, using: &rng)
                hashes.append(h)
                for _ in 0..<Int.random(in: 0...3, using: &rng) where hashes.count < n {
                    var near = h
                    for _ in 0..<Int.random(in: 0...12, using: &rng) { near ^= 1 << UInt64.random(in: 0..<64, using: &rng) }
                    hashes.append(near)
                }
            }
            if n > 10 { hashes[n / 2] = hashes[3]; hashes[n / 3] = hashes[3] }
            hashes.shuffle(using: &rng)
            for d in [0, 1, 4, 6, 8, 12, 15, 20] {
                var all: [(Int, Int)] = []
                for i in 0..<n { for j in (i + 1)..<n where PerceptualHash.distance(hashes[i], hashes[j]) <= d { all.append((i, j)) } }
                let found = PerceptualHash.nearPairs(hashes, maxDistance: d)
                #expect(found.map { [$0.0, $0.1] } == all.map { [$0.0, $0.1] }, "n \(n), distance \(d)")
            }
        }
    }

    @Test func burstsGroupPhotosOfOneCameraTakenCloseTogether() throws {
        let dump = try Support.synth("burst", count: 12, extras: 0)
        let ws = Support.temp("ws")
        defer { Support.remove(dump, ws) }
        var options = IngestOptions()
        options.burstSeconds = 0
        _ = try Ingest.run(dump: dump, workspace: ws, options: options)
        let apart = try JSONLines.read(Record.self, from: Workspace.manifest(ws))
        #expect(Set(apart.map(\.group)).count == apart.count)
        // Synth photos are 7 to 12 minutes apart: a one-hour window joins neighbours of one camera.
        options.burstSeconds = 3600
        _ = try Ingest.run(dump: dump, workspace: ws, options: options)
        let joined = try JSONLines.read(Record.self, from: Workspace.manifest(ws))
        #expect(Set(joined.map(\.group)).count < joined.count)
        for members in Dictionary(grouping: joined, by: \.group).values where members.count > 1 {
            #expect(Set(members.map { $0.camera ?? "" }).count == 1)
        }
        #expect(Grouping.seconds("2024:03:01 10:00:05")! - Grouping.seconds("2024:03:01 09:59:55")! == 10)
        #expect(Grouping.seconds("garbage") == nil)
    }

    /// Of identical files the shortest path is kept, then the first in sorted order, whatever
    /// order they are listed in; the others are duplicates of it, and the kept photos come back
    /// in order of source.
    @Test func theShortestOfIdenticalFilesIsKept() throws {
        func photo(_ sha: String, phash: UInt64) -> PhotoAnalysis {
            PhotoAnalysis(sha256: sha, format: .jpeg, width: 10, height: 10, orientation: 1, taken: nil, camera: nil, warnings: [],
                          stats: PixelStats(brightness: 0.5, edgeVariance: 1, entropy: 1, colourSpread: 1),
                          features: Features(brightness: 0.5, exifBrightness: nil, borderEdges: 0, borderChroma: 0, asymmetry: 0, foreign: 0),
                          phash: phash, thumb: Data(repeating: 0, count: 768))
        }
        let a = String(repeating: "a", count: 64), b = String(repeating: "b", count: 64)
        // In order of path, as a dump is listed: the copy "(1)" sorts before its original.
        let photos = [("a/IMG_0067 (1).jpg", photo(a, phash: 1)), ("a/IMG_0067.jpg", photo(a, phash: 1)),
                      ("b/zz.jpg", photo(b, phash: ~0)), ("c/b.jpg", photo(b, phash: ~0)), ("z.jpg", photo(b, phash: ~0))]
        var options = IngestOptions()
        options.nearMaxDistance = nil
        var g = try Grouping(photos: photos, dump: "/nonexistent", options: options)
        #expect(g.duplicates.map { [$0.source, $0.keptSource] } == [["a/IMG_0067 (1).jpg", "a/IMG_0067.jpg"], ["b/zz.jpg", "z.jpg"], ["c/b.jpg", "z.jpg"]])
        #expect(g.accepted().photos.map(\.source) == ["a/IMG_0067.jpg", "z.jpg"])
    }

    /// The stat index grows by appends as files are added (later lines win), and a line that a
    /// killed append left unfinished is ended, not joined to the next.
    @Test func theStatIndexGrowsByAppendsAndEndsATornLine() throws {
        let dump = try Support.synth("index", count: 12, seed: 5, extras: 0)
        let ws = Support.temp("ws")
        defer { Support.remove(dump, ws) }
        _ = try Ingest.run(dump: dump, workspace: ws)
        let index = IngestCache.indexPath(ws)
        try FileSystem.append(Array("torn/x.jpg\t12".utf8), to: index)
        let before = try #require(FileSystem.read(index))
        let first = try #require(DumpWalker.list(dump).files.first { $0.path.hasSuffix(".jpg") })
        try FileManager.default.copyItem(atPath: dump + "/" + first.path, toPath: dump + "/added.jpg")
        _ = try Ingest.run(dump: dump, workspace: ws)
        let after = try #require(FileSystem.read(index))
        #expect(after.starts(with: before), "appended, not written afresh")
        let read = IngestCache.readIndex(ws), files = try DumpWalker.list(dump).files
        #expect(Set(read.keys) == Set(files.map(\.path)), "every file once, the torn line skipped")
        for f in files {
            #expect(read[f.path]?.sha256 == Analyzer.sha256(try #require(FileSystem.read(dump + "/" + f.path))), "\(f.path)")
            #expect(read[f.path]?.size == f.size && read[f.path]?.mtime == f.mtime, "\(f.path)")
        }
    }
}
