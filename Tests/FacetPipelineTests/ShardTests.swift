import Foundation
import Testing
@testable import FacetData
@testable import FacetPipeline

/// The records stages keep their records in shards by group: what adding photos redoes, and the
/// pieces that put the shards back together.
@Suite struct ShardTests {
    /// Adding photos redoes only the shards they fall in, at every records stage and augment, and
    /// ends where a run from nothing ends: the same lock outputs, manifests and dataset.
    @Test func addedPhotosRedoOnlyTheirShardsAndEndWhereAFreshRunEnds() throws {
        let root = try Support.project(count: 40)
        _ = try Support.pipeline(root).run()
        try EngineTests.addPhotos(root, count: 2)
        let run = try Support.pipeline(root).run()
        for stage in [StageKind.tag, .label, .split, .augment] {
            let note = run.first { $0.stage == stage }!.note
            let redone = note.firstMatch(of: /; (\d+) of (\d+) shards redone/)
            #expect(redone != nil, "\(stage): \(note)")
            if let redone { #expect(Int(redone.1)! <= 2 && Int(redone.2)! > 10, "\(stage): \(note)") }
        }
        let fresh = try Support.pipeline(root, ["workspace=fresh", "lock=fresh.lock"])
        _ = try fresh.run()
        let a = try LockFile.read(try Support.pipeline(root).manifest.lock)!, b = try LockFile.read(fresh.manifest.lock)!
        for (stage, entry) in a.stages { #expect(entry.outputs == b.stages[stage]?.outputs, "\(stage)") }
        #expect(FileManager.default.contents(atPath: root + "/ws/manifest.jsonl") == FileManager.default.contents(atPath: root + "/fresh/manifest.jsonl"))
        #expect(try Support.hashes(root + "/ws/dataset") == Support.hashes(root + "/fresh/dataset"))
    }

    /// Lines come back in order of their top-level member, found past nested members of the same
    /// name and through escapes.
    @Test func sortedLinesOrderByTheTopLevelMember() throws {
        let chunks: [[UInt8]] = [
            Array(#"{"conditions":{"source":"zzz"},"source":"b\"q"}"#.utf8) + [0x0A] + Array(#"{"source":"d"}"#.utf8) + [0x0A],
            Array(#"{"source":"a"}"#.utf8) + [0x0A] + Array(#"{"source":"c"}"#.utf8) + [0x0A],
        ]
        let (bytes, order) = try Shards.sortedLines(chunks, by: "source")
        let values = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(values == [#"{"source":"a"}"#, #"{"conditions":{"source":"zzz"},"source":"b\"q"}"#, #"{"source":"c"}"#, #"{"source":"d"}"#])
        #expect(order.map { [$0.chunk, $0.line] } == [[1, 0], [0, 0], [1, 1], [0, 1]])
        #expect(throws: DataError.self) { try Shards.sortedLines([Array("{\"other\":1}\n".utf8)], by: "source") }
    }

    /// The leakage candidates' lines survive sources with tabs, line breaks and percent signs.
    @Test func leakageCandidatesRoundTripAnySource() throws {
        let items = ["plain/a.jpg", "tab\there.jpg", "line\nbreak\r.jpg", "100%25 %09 real%.jpg"].enumerated().map { i, s in
            Leakage.Candidate(id: String(repeating: "\(i)", count: 64), source: s, split: ["train", "val", "test", "train"][i], phash: UInt64(i) << 60 | 7)
        }
        let bytes = Pipeline.encodeCandidates(items)
        #expect(try Pipeline.decodeCandidates(bytes, name: "t") == items)
        #expect(throws: DataError.self) { try Pipeline.decodeCandidates(Array("not\ta candidate\n".utf8), name: "t") }
    }

    /// A shard memo line cut short, or one of an older form, is skipped: that shard is computed again.
    @Test func aDamagedShardMemoLineCostsOnlyItsShard() throws {
        let root = try Support.project(count: 30)
        _ = try Support.pipeline(root).run()
        let memo = root + "/ws/cache/shards/tag.jsonl"
        var lines = try String(contentsOfFile: memo, encoding: .utf8).split(separator: "\n").map(String.init)
        let total = lines.count
        lines[0] = String(lines[0].prefix(lines[0].count / 2))
        try (lines.joined(separator: "\n") + "\n").write(toFile: memo, atomically: true, encoding: .utf8)
        let run = try Support.pipeline(root).run(force: [])
        #expect(run.allSatisfy { $0.state == .fresh })   // nothing changed: the memo is not even read
        try EngineTests.addPhotos(root, count: 1)
        let again = try Support.pipeline(root).run()
        let note = again.first { $0.stage == .tag }!.note
        let redone = note.firstMatch(of: /; (\d+) of (\d+) shards redone/)
        #expect(redone.map { Int($0.1)! >= 1 && Int($0.1)! <= 2 && Int($0.2)! >= total } == true, "\(note)")
    }
}
