import FacetImage
import Foundation
import Testing
@testable import FacetData
@testable import FacetPipeline

/// A dump that only gained files is ingested from the last ingest's state, the added files
/// analysed alone (`Ingest.extend`); that must end where an ingest of the whole dump ends.
@Suite struct IngestStageTests {
    /// Rounds of changes to a dump — new photos, a copy, near copies, a broken file, a removal —
    /// each run on the workspace and on one whose ingest is a full one: the same outputs at every
    /// stage and the same records manifest; and only the added files looked at exactly when they are
    /// new photos, or near copies that join a group without renaming it.
    @Test func anIngestOfAddedFilesEndsWhereAFullOneEnds() throws {
        // Enough photos that added ones fall in shards that hold some already (checked below).
        // (No augment stage: it reads only the split's records, which are compared.)
        let root = try Support.project(count: 100, stages: """
              ingest: {}
              tag: {}
              label: {from: folders}
              split: {test: 0.25, val: 0.25, stable: true}
            """), more = Support.temp("more")
        defer { for p in [root, more] { try? FileManager.default.removeItem(atPath: p) } }
        _ = try Support.pipeline(root).run()
        try Support.synth(more, count: 20, seed: 5, extras: 0)
        let extra = try String(contentsOfFile: more + "/truth.csv", encoding: .utf8).split(separator: "\n").dropFirst().map { row in
            let f = row.split(separator: ","); return (file: String(f[0]), label: f[1] == "normal" ? "neutral" : String(f[1]))
        }
        var next = 0, added: [String] = []
        func put(_ bytes: [UInt8], _ label: String, _ name: String) throws {
            let folder = root + "/raw/" + label + "/added"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: folder + "/" + name))
            added.append(folder + "/" + name)
        }
        func addNew(_ n: Int) throws {
            for e in extra[next..<(next + n)] { try put(Array(try Data(contentsOf: URL(fileURLWithPath: more + "/" + e.file))), e.label, "new\(next)-" + (e.file as NSString).lastPathComponent); next += 1 }
        }
        let photo = root + "/raw/happy/2024-03-01/IMG_0013.jpg"
        let group = try #require(try JSONLines.read(Record.self, from: root + "/ws/manifest.jsonl").first { $0.source == "happy/2024-03-01/IMG_0013.jpg" }?.group)
        /// A smaller, re-encoded copy (other bytes and pixel size, a close hash and thumbnail) whose id passes `test`.
        func nearCopy(tenths: Int, _ test: (String) -> Bool) throws -> [UInt8] {
            let image = try ImageDecoder.decode(file: photo).image
            for quality in stride(from: 95, to: 40, by: -1) {
                let bytes = try ImageEncoder.jpeg(image.resized(width: image.width * tenths / 10, height: image.height * tenths / 10), quality: quality)
                if test(Analyzer.sha256(bytes)) { return bytes }
            }
            throw DataError("no near copy found")
        }
        let rounds: [(change: String, alone: Bool)] = [("new", true), ("copy", false), ("new", true), ("near copy, joining", true),
                                                        ("near copy, renaming", false), ("broken", false), ("new", true),
                                                        ("removal", false), ("new", true)]
        /// The number of ingest's record shards now.
        func shardCount() throws -> Int {
            let p = try Support.pipeline(root)
            return try Shards.decodeIndex(try p.store.get(try LockFile.read(p.manifest.lock)!.stages["ingest"]!.outputs["records"]!), name: "index").count
        }
        var joined = 0
        for (round, r) in rounds.enumerated() {
            let shards = try shardCount()
            switch r.change {
            case "new": try addNew(3)
            case "copy": try addNew(1); try put(Array(try Data(contentsOf: URL(fileURLWithPath: photo))), "happy", "copy.jpg")
            // Grouped with the photo: under its group's id when theirs is larger, else the group is renamed.
            case "near copy, joining": try put(try nearCopy(tenths: 9) { $0 > group }, "happy", "near-1.jpg")
            case "near copy, renaming": try put(try nearCopy(tenths: 8) { $0 < group }, "happy", "near-2.jpg")
            case "broken": try addNew(1); try put(Array(repeating: 0x5A, count: 900), "sad", "broken.jpg")
            default: try FileManager.default.removeItem(atPath: added.removeFirst())
            }
            let note = try Support.pipeline(root).run().first { $0.stage == .ingest }!.note
            #expect(note.contains("files added were looked at") == r.alone, "round \(round), \(r.change): \(note)")
            // Each new photo decoded once, whether or not the files added were taken alone.
            if r.change == "new" || r.change.hasPrefix("near") { #expect(note.contains("; \(r.change == "new" ? 3 : 1) decoded,"), "\(note)") }
            // Shards redone that were there before: added photos joined photos of their shard.
            if r.alone, let m = note.firstMatch(of: /; (\d+) of (\d+) shards redone/) { joined += Int(m.1)! - (try shardCount() - shards) }
            // A workspace with the analysis caches (no photo decoded again) but no state: a full ingest.
            let fm = FileManager.default
            try fm.createDirectory(atPath: root + "/fresh\(round)/cache", withIntermediateDirectories: true)
            for f in ["ingest.bin", "files.tsv", "faces.bin"] { try fm.copyItem(atPath: root + "/ws/cache/" + f, toPath: root + "/fresh\(round)/cache/" + f) }
            let fresh = try Support.pipeline(root, ["workspace=fresh\(round)", "lock=fresh\(round).lock"])
            #expect(try fresh.run().first { $0.stage == .ingest }!.note.contains(" 0 decoded"))
            let a = try LockFile.read(try Support.pipeline(root).manifest.lock)!, b = try LockFile.read(fresh.manifest.lock)!
            #expect(a.stages.count == 4)
            for (stage, entry) in a.stages { #expect(entry.outputs == b.stages[stage]?.outputs, "round \(round), \(r.change): \(stage)") }
            #expect(FileManager.default.contents(atPath: root + "/ws/manifest.jsonl") == FileManager.default.contents(atPath: root + "/fresh\(round)/manifest.jsonl"))
            if r.change.hasPrefix("near") {
                let near = try JSONLines.read(Record.self, from: root + "/ws/manifest.jsonl").filter { ["happy/2024-03-01/IMG_0013.jpg", "happy/added/copy.jpg", "happy/added/near-1.jpg", "happy/added/near-2.jpg"].contains($0.source) }
                let groups = Set(near.map(\.group))
                #expect(groups.count == 1 && (r.alone ? groups == [group] : groups != [group]), "\(r.change): \(groups) \(near.map { ($0.source, $0.phash, $0.width, $0.height, $0.group.prefix(8)) })")
            }
        }
        #expect(joined > 0)
    }

    /// `ingest: {faces: …}`: every record has its face field; added photos are the only ones
    /// searched; other face options search every photo again; an unknown face key is named.
    @Test func facesAreSearchedOncePerPhoto() throws {
        let root = try Support.project(count: 12, stages: """
              ingest: {faces: {threshold: -0.5, min_size: 20}}
            """)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = try Support.pipeline(root).run().first { $0.stage == .ingest }!
        let records = try JSONLines.read(Record.self, from: root + "/ws/manifest.jsonl")
        #expect(!records.isEmpty && records.allSatisfy { $0.face != nil || $0.issues.contains("face_search_failed") })
        #expect(records.allSatisfy { ($0.face?.box == nil) == $0.issues.contains("no_face") })
        #expect(first.note.contains("0 from the cache"), "\(first.note)")
        // Two real faces (Tests/Fixtures/faces), found by the same search.
        let faces = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path + "/Fixtures/faces/"
        for f in ["001.jpg", "gray-010.jpg"] { try FileManager.default.copyItem(atPath: faces + f, toPath: root + "/raw/happy/" + f) }
        let added = try Support.pipeline(root).run().first { $0.stage == .ingest }!.note
        #expect(added.contains("; 2 decoded,"), "\(added)")
        let all = try JSONLines.read(Record.self, from: root + "/ws/manifest.jsonl")
        #expect(all.count == records.count + 2 && all.allSatisfy { $0.face != nil })
        #expect(all.filter { $0.source.hasSuffix("001.jpg") || $0.source.hasSuffix("gray-010.jpg") }.allSatisfy { $0.face?.box != nil && $0.face?.landmarks.count == 68 })
        let other = try Support.pipeline(root, ["ingest.faces.threshold=0"]).run().first { $0.stage == .ingest }!.note
        // Every photo searched again (duplicates are analysed too; quarantined files have nothing to search).
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/ws/ingest-summary.json"))) as! [String: Any]
        #expect(other.contains("; \((summary["accepted"] as! Int) + (summary["duplicates"] as! Int)) decoded,"), "\(other)")
        try Support.write(root, stages: "  ingest: {faces: {treshold: 0}}")
        #expect { try Support.pipeline(root) } throws: { "\($0)".contains("unknown key ingest.faces.treshold (did you mean threshold?)") }
    }
}
