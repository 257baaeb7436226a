import Foundation
import Testing
@testable import FacetData

@Suite struct SplitTests {
    /// A labelled, tagged workspace of a synth dump with `count` photos (bursts make big groups).
    static func workspace(count: Int, seed: UInt64 = 8, bursts: Bool = false) throws -> (dump: String, ws: String) {
        let dump = try Support.synth("split", count: count, seed: seed, size: 48)
        let ws = Support.temp("ws")
        var options = IngestOptions()
        if bursts { options.burstSeconds = 1500 }
        _ = try Ingest.run(dump: dump, workspace: ws, options: options)
        _ = try Labeling.run(workspace: ws, options: LabelOptions())
        _ = try Tagging.run(workspace: ws, thresholds: TagThresholds())
        return (dump, ws)
    }

    static func records(_ ws: String) throws -> [Record] { try JSONLines.read(Record.self, from: Workspace.manifest(ws)) }

    @Test(arguments: [("0.15", "0.2"), ("25", "0.2"), ("0.3", "17"), ("10", "10")])
    func everyClassWithinOnePhotoOfItsShare(test: String, val: String) throws {
        let (dump, ws) = try Self.workspace(count: 120)
        defer { Support.remove(dump, ws) }
        var o = SplitOptions()
        o.test = Int(test).map { .count($0) } ?? .fraction(Double(test)!)
        o.val = Int(val).map { .count($0) } ?? .fraction(Double(val)!)
        o.stratify = ["label", "lighting"]
        let s = try Splitting.run(workspace: ws, options: o)
        let records = try Self.records(ws).filter { $0.label != nil }
        let (t, v) = try Splitting.sizes(records.count, o)
        #expect(records.filter { $0.split == "test" }.count == t)
        #expect(records.filter { $0.split == "val" }.count == v)
        for split in Splitting.names {
            for (c, target) in s.targets[split]! {
                let got = Double(s.counts[split]?[c] ?? 0)
                #expect(abs(got - target) < 1 + 1e-9, "\(split)/\(c): \(got) vs \(target)")
            }
        }
    }

    @Test func groupsNeverStraddleSplits() throws {
        let (dump, ws) = try Self.workspace(count: 90, bursts: true)
        defer { Support.remove(dump, ws) }
        let before = try Self.records(ws)
        #expect(Dictionary(grouping: before, by: \.group).values.contains { $0.count >= 3 })
        _ = try Splitting.run(workspace: ws, options: SplitOptions())
        for members in Dictionary(grouping: try Self.records(ws), by: \.group).values {
            #expect(Set(members.map(\.split)).count == 1)
        }
        #expect(try Leakage.check(workspace: ws).isEmpty)
    }

    /// `group_by`: one day's photos (by a path pattern or the EXIF date) or one person's (by a
    /// sheet column) never straddle splits, though a day holds photos of every class; without it
    /// they do. The table counts the groups dealt to each split.
    @Test func groupByKeepsADayOrAPersonInOneSplit() throws {
        let (dump, ws) = try Self.workspace(count: 120)
        defer { Support.remove(dump, ws) }
        // Five shooting days in the EXIF dates (the synth takes one), by near-duplicate group as a
        // camera would date them; "people" by the tens of the file number (copies named
        // "IMG_0067 (1).jpg" have none: each stays with its group).
        var records = try Self.records(ws)
        let groups = Array(Set(records.map(\.group))).sorted()
        for i in records.indices { records[i].taken = "2024:03:0\(1 + groups.firstIndex(of: records[i].group)! % 5) 10:00:00" }
        try JSONLines.write(records, to: Workspace.manifest(ws))
        func person(_ r: Record) -> String { r.source.firstMatch(of: /IMG_\d*(\d)\d\./).map { String($0.1) } ?? r.group }
        func day(_ r: Record) -> String { String(r.taken!.prefix(10)) }
        let keyless = records.filter { $0.label != nil && $0.source.firstMatch(of: /IMG_\d*(\d)\d\./) == nil }.count
        #expect(Set(records.map(person)).count >= 8 && keyless < 20, "\(records.map(\.source).filter { $0.firstMatch(of: /IMG_\d*(\d)\d\./) == nil })")
        #expect(Dictionary(grouping: records, by: day).values.allSatisfy { Set($0.compactMap(\.label)).count > 1 })
        func straddling(_ key: (Record) -> String) throws -> Int {
            Dictionary(grouping: try Self.records(ws).filter { $0.split != nil }, by: key).values.filter { Set($0.map(\.split)).count > 1 }.count
        }
        _ = try Splitting.run(workspace: ws, options: SplitOptions())
        #expect(try straddling(day) > 0 && straddling(person) > 0, "without group_by days and people straddle")
        let sheet = ws + "/people.csv"
        let people = Dictionary(uniqueKeysWithValues: records.map { ($0.source, "p\(groups.firstIndex(of: $0.group)! % 7)") })
        try ("file,person\n" + people.map { "\($0),\($1)" }.joined(separator: "\n") + "\n").write(toFile: sheet, atomically: true, encoding: .utf8)
        for (by, key) in [(GroupBy.path(pattern: #"IMG_\d*(\d)\d\."#), person), (.takenDay, day),
                          (.sheet(path: sheet, column: "person"), { people[$0.source]! })] {
            var o = SplitOptions()
            o.groupBy = by
            let s = try Splitting.run(workspace: ws, options: o)
            #expect(try straddling(key) == 0, "\(by)")
            let units = Set(try Self.records(ws).filter { $0.split != nil }.map(key)).count
            // Near duplicates of two keys join them: at most as many groups as keys.
            #expect(s.groups.values.reduce(0, +) <= units && s.groups.values.allSatisfy { $0 > 0 } && s.keyless == (by.name == "path pattern" ? keyless : 0), "\(by): \(s.groups)")
            #expect(s.table.contains("groups \(s.groups["train"] ?? 0) train, \(s.groups["val"] ?? 0) val, \(s.groups["test"] ?? 0) test (by \(by.name)"), "\(s.table)")
        }
        var o = SplitOptions()
        o.groupBy = .path(pattern: "^nothing-matches")
        let none = try Splitting.run(workspace: ws, options: o)
        #expect(none.keyless == records.filter { $0.label != nil }.count && none.table.contains("photos without a key"))
        // Stable mode goes by a hash of each group's key: shard by shard, one day or one person
        // (here a key per near-duplicate group) still lands in one split.
        var stable = SplitOptions()
        (stable.stable, stable.test, stable.val) = (true, .fraction(0.2), .fraction(0.2))
        _ = try Splitting.run(workspace: ws, options: stable)
        #expect(try straddling(day) > 0, "without group_by, stable mode spreads a day")
        for (by, key) in [(GroupBy.takenDay, day), (.sheet(path: sheet, column: "person"), { people[$0.source]! })] {
            stable.groupBy = by
            let s = try Splitting.run(workspace: ws, options: stable)
            #expect(try straddling(key) == 0, "stable, \(by)")
            #expect(s.groups.values.reduce(0, +) <= Set(try Self.records(ws).filter { $0.split != nil }.map(key)).count, "stable, \(by): \(s.groups)")
            // Each part alone (the pipeline's shards) gives the same splits.
            let all = try Self.records(ws)
            let half = all.filter { $0.group < all[all.count / 2].group }, rest = all.filter { $0.group >= all[all.count / 2].group }
            let parts = try Splitting.applyStable(half, options: stable) + Splitting.applyStable(rest, options: stable)
            #expect(Dictionary(uniqueKeysWithValues: parts.map { ($0.id, $0.split) }) == Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0.split) }))
        }
    }

    @Test func seedDecidesAndRepeats() throws {
        let (dump, ws) = try Self.workspace(count: 60)
        defer { Support.remove(dump, ws) }
        func splits(_ seed: UInt64) throws -> [String?] {
            var o = SplitOptions()
            o.seed = seed
            _ = try Splitting.run(workspace: ws, options: o)
            return try Self.records(ws).map(\.split)
        }
        let a = try splits(1), b = try splits(1), c = try splits(2)
        #expect(a == b)
        #expect(a != c)
    }

    @Test func stableModeNeverMovesAnAssignedPhoto() throws {
        let full = try Support.synth("stable", count: 60, seed: 3, size: 48, extras: 0)
        let dump = Support.temp("part"), ws = Support.temp("ws")
        defer { Support.remove(full, dump, ws) }
        try FileManager.default.copyItem(atPath: full, toPath: dump)
        let later = try Support.truth(full).keys.filter { Int($0.suffix(8).prefix(4)) ?? 0 > 40 }
        for f in later { try FileManager.default.removeItem(atPath: dump + "/" + f) }
        var o = SplitOptions()
        o.stable = true
        _ = try Ingest.run(dump: dump, workspace: ws)
        _ = try Labeling.run(workspace: ws, options: LabelOptions())
        _ = try Splitting.run(workspace: ws, options: o)
        let first = Dictionary(uniqueKeysWithValues: try Self.records(ws).map { ($0.id, $0.split) })
        for f in later { try FileManager.default.copyItem(atPath: full + "/" + f, toPath: dump + "/" + f) }
        _ = try Ingest.run(dump: dump, workspace: ws)
        _ = try Labeling.run(workspace: ws, options: LabelOptions())
        _ = try Splitting.run(workspace: ws, options: o)
        let second = try Self.records(ws)
        #expect(second.count == first.count + later.count)
        for r in second where first[r.id] != nil { #expect(r.split == first[r.id]!, "\(r.source) moved") }
        #expect(Set(second.compactMap(\.split)) == ["train", "val", "test"])
        o.test = .count(5)
        #expect(throws: DataError.self) { try Splitting.run(workspace: ws, options: o) }
    }

    @Test func impossibleRequestsAreClearErrors() throws {
        let (dump, ws) = try Self.workspace(count: 6)
        defer { Support.remove(dump, ws) }
        var o = SplitOptions()
        o.test = .count(500)
        do { _ = try Splitting.run(workspace: ws, options: o); Issue.record("accepted") } catch {
            #expect("\(error)".contains("test asks for 500 photos, but only"))
        }
        o.test = .fraction(0.34)
        o.val = .fraction(0.5)
        o.stratify = ["label"]
        // 2 or 3 photos a class (one near duplicate joins a group), three splits wanted: fine; ask a condition that is not there.
        o.stratify = ["label", "mood"]
        #expect(throws: DataError.self) { try Splitting.run(workspace: ws, options: o) }
    }

    @Test func tooFewPhotosInAClass() throws {
        let (dump, ws) = try Self.workspace(count: 4)
        defer { Support.remove(dump, ws) }
        var o = SplitOptions()
        o.test = .fraction(0.3)
        o.val = .fraction(0.3)
        do { _ = try Splitting.run(workspace: ws, options: o); Issue.record("accepted") } catch {
            #expect("\(error)".contains("fewer than the 3 splits"), "\(error)")
        }
    }

    @Test func controlledRoundingKeepsSumsAndShares() {
        let t = Splitting.controlledRound(rows: [41, 41, 41], columns: [10, 10, 103])
        #expect(t.map { $0.reduce(0, +) } == [41, 41, 41])
        #expect((0..<3).map { j in t.reduce(0) { $0 + $1[j] } } == [10, 10, 103])
        for row in t { #expect(abs(Double(row[2]) - 103.0 / 3) < 1) }
        #expect(Splitting.controlledRound(rows: [5, 5], columns: [0, 0, 10]) == [[0, 0, 5], [0, 0, 5]])
    }
}

extension SplitTests {
    static func record(_ i: Int, label: String) -> Record {
        let id = String(format: "%064x", i)
        return Record(id: id, source: "p/\(i).jpg", format: .jpeg, width: 1, height: 1, orientation: 1, bytes: 1, taken: nil,
                      camera: nil, quality: Quality(PixelStats(brightness: 0.5, edgeVariance: 0, entropy: 0, colourSpread: 0), width: 1, height: 1, medianArea: 1),
                      issues: [], features: Features(brightness: 0.5, exifBrightness: nil, borderEdges: 0, borderChroma: 0, asymmetry: 0, foreign: 0),
                      phash: "0", conditions: nil, label: label, group: id, split: nil, warnings: nil)
    }

    /// Many class sizes and requests: every split × class count within one photo of its proportional target.
    @Test func withinOnePhotoForManyShapes() throws {
        var state: UInt64 = 12345
        func next(_ n: Int) -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int((state >> 33) % UInt64(n)) }
        for _ in 0..<200 {
            let sizes = (0..<(2 + next(4))).map { _ in 3 + next(200) }
            var records: [Record] = []
            for (c, n) in sizes.enumerated() { for _ in 0..<n { records.append(Self.record(records.count, label: "c\(c)")) } }
            var o = SplitOptions()
            o.test = next(2) == 0 ? .count(next(records.count / 3) + 1) : .fraction(Double(next(40)) / 100)
            o.val = next(2) == 0 ? .count(next(records.count / 3) + 1) : .fraction(Double(next(40)) / 100)
            let labelled = Array(records.indices)
            guard let assignment = try? Splitting.exact(records, labelled, records.map(\.group), [], o) else { continue }
            for i in records.indices { records[i].split = assignment[i] }
            let targets = Splitting.targets(records, labelled, o)
            for split in Splitting.names {
                for (c, target) in targets[split]! {
                    let got = Double(records.filter { $0.split == split && $0.label == c }.count)
                    #expect(abs(got - target) < 1 + 1e-9, "\(sizes) \(o.test) \(o.val): \(split)/\(c) \(got) vs \(target)")
                }
            }
        }
    }
}
