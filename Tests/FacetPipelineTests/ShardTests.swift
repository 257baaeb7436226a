import Foundation
import Testing
import FacetCore
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
        let bytes = SplitStage.encodeCandidates(items)
        #expect(try SplitStage.decodeCandidates(bytes, name: "t") == items)
        #expect(throws: DataError.self) { try SplitStage.decodeCandidates(Array("not\ta candidate\n".utf8), name: "t") }
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

    /// A join brought up to date from the chunks that changed equals the join made afresh, for
    /// chunks removed, added and replaced at random; and it declines when it cannot vouch for that.
    @Test func anUpdatedJoinEqualsAFreshOne() throws {
        var rng = SystemRandomNumberGenerator()
        func line(_ source: String, _ extra: Int) -> String { #"{"n":\#(extra),"nested":{"source":"x"},"source":"\#(source)"}"# }
        func chunk(_ sources: [String]) -> [UInt8] { Array(sources.map { line($0, Int.random(in: 0..<9, using: &rng)) + "\n" }.joined().utf8) }
        for round in 0..<50 {
            // 12 chunks of distinct sources (escapes and non-ASCII among them), 3 replaced by others.
            var names = (0..<200).map { "p\(Int.random(in: 0..<1_000_000, using: &rng))/é\($0)\\\"q" }.shuffled(using: &rng)
            func take(_ k: Int) -> [String] { defer { names.removeFirst(k) }; return Array(names.prefix(k)) }
            var old = (0..<12).map { _ in chunk(Array(take(10).prefix(Int.random(in: 0...10, using: &rng)))) }
            old[0] = []
            let previous = try Shards.sortedLines(old, by: "source").bytes
            var new = old
            let changed = Array(Set((0..<3).map { _ in Int.random(in: 0..<12, using: &rng) }))
            for c in changed { new[c] = chunk(take(5) + (round % 2 == 0 ? [] : old[c].isEmpty ? [] : ["kept\(c)"])) }
            let update = try #require(Shards.updatedLines(previous, removing: changed.map { old[$0] }, adding: changed.map { new[$0] }, by: "source"))
            let fresh = try Shards.sortedLines(new, by: "source")
            #expect(update.bytes == fresh.bytes, "round \(round)")
            let lines = previous.split(separator: 0x0A)
            #expect(update.previousLines == lines.count)
            for (o, f) in zip(update.origins, fresh.order) {
                if case .added(let c, let l) = o { #expect(changed[c] == f.chunk && l == f.line) }
            }
        }
        let a = Array((line("a", 1) + "\n" + line("b", 1) + "\n").utf8)
        // A removed line that the join lacks, and an added line whose key a kept line has: declined.
        #expect(Shards.updatedLines(a, removing: [Array((line("a", 2) + "\n").utf8)], adding: [], by: "source") == nil)
        #expect(Shards.updatedLines(a, removing: [], adding: [Array((line("b", 2) + "\n").utf8)], by: "source") == nil)
        #expect(Shards.updatedLines(a, removing: [Array((line("b", 1) + "\n").utf8)], adding: [Array((line("b", 2) + "\n").utf8)], by: "source")?.bytes
                == Array((line("a", 1) + "\n" + line("b", 2) + "\n").utf8))
    }

    /// CSV rows end at line breaks outside quotes; a quoted field keeps its own.
    @Test func csvRowsSplitAtUnquotedLineBreaks() {
        let csv = Array("h1,h2\na,\"b\nc\"\n\"x\"\"\ny\",z\nlast".utf8)
        let rows = ByteScan.csvRowRanges(csv, from: 6).map { String(decoding: csv[$0], as: UTF8.self) }
        #expect(rows == ["a,\"b\nc\"\n", "\"x\"\"\ny\",z\n", "last"])
    }

    /// The rows found with `memchr` are those of a byte-by-byte walk, on random text of quotes,
    /// line breaks (empty rows too), commas and letters, with and without a last line break.
    @Test func csvRowsMatchAByteByByteWalk() {
        func walk(_ bytes: [UInt8], from start: Int) -> [Range<Int>] {
            var out: [Range<Int>] = [], rowStart = start, quoted = false
            for i in start..<bytes.count {
                if bytes[i] == UInt8(ascii: "\"") { quoted.toggle() }
                if bytes[i] == 0x0A && !quoted { out.append(rowStart..<(i + 1)); rowStart = i + 1 }
            }
            if rowStart < bytes.count { out.append(rowStart..<bytes.count) }
            return out
        }
        var state: UInt64 = 7
        let alphabet = Array("\"\n,ab\n\n".utf8)
        for trial in 0..<500 {
            let count = trial % 60
            let bytes = (0..<count).map { _ -> UInt8 in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return alphabet[Int(state >> 33) % (trial % 3 == 0 ? 3 : alphabet.count)]
            }
            for start in Set([0, min(2, count), count]) {
                #expect(ByteScan.csvRowRanges(bytes, from: start) == walk(bytes, from: start), "\(String(decoding: bytes, as: UTF8.self).debugDescription) from \(start)")
            }
        }
    }
}
