import FacetCore
import FacetImage
import Foundation

/// Options of `facet split`.
public struct SplitOptions: Sendable, Codable, Equatable {
    /// A number of photos or a fraction.
    public enum Amount: Sendable, Codable, Equatable {
        case count(Int)
        case fraction(Double)
    }
    /// Taken first, from all labelled photos.
    public var test: Amount = .fraction(0.15)
    /// Taken from what remains after the test split (the study: 865 test, then 80/20 train/val).
    public var val: Amount = .fraction(0.2)
    /// `label` and any of `lighting`, `background`, `occlusion`.
    public var stratify: [String] = ["label"]
    public var seed: UInt64 = defaultSeed
    /// Assign by a keyed hash of the group id: adding photos never moves one already assigned
    /// (fractions only; proportions are then close, not exact).
    public var stable = false
    /// Keep photos that share a person or day in one split (nil: near-duplicate groups only).
    public var groupBy: GroupBy? = nil

    enum CodingKeys: String, CodingKey {
        case test, val, stratify, seed, stable
        case groupBy = "group_by"
    }

    public init() {}
}

public struct SplitSummary: Sendable {
    /// split → class → count
    public var counts: [String: [String: Int]] = [:]
    /// split → class → proportional target
    public var targets: [String: [String: Double]] = [:]
    public var unlabelled = 0
    /// split → units dealt (near-duplicate groups, joined by `group_by`).
    public var groups: [String: Int] = [:]
    /// Labelled photos whose `group_by` key could not be had.
    public var keyless = 0
    public var table = ""
}

public enum Splitting {
    public static let names = ["train", "val", "test"]

    public static func run(workspace: String, options: SplitOptions) throws -> SplitSummary {
        let (records, summary) = try apply(try JSONLines.read(Record.self, from: Workspace.manifest(workspace)), options: options)
        try JSONLines.write(records, to: Workspace.manifest(workspace))
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        try AtomicFile.write(Array(try e.encode(options)) + [0x0A], to: workspace + "/split.json")
        return summary
    }

    /// Assigns a split to every labelled record.
    public static func apply(_ records: [Record], options: SplitOptions) throws -> ([Record], SplitSummary) {
        var records = records
        let conditions = try strata(records, options)
        let labelled = records.indices.filter { records[$0].label != nil }
        guard !labelled.isEmpty else { throw DataError("split: no labelled photos; run facet label first") }
        let units = try SplitUnits(records, by: options.groupBy)
        let assignment = options.stable ? try stable(records, labelled, options) : try exact(records, labelled, units.unit, conditions, options)
        var summary = SplitSummary()
        for i in records.indices { records[i].split = assignment[i] }
        summary.unlabelled = records.count - labelled.count
        let tally = SplitTally(records)
        summary.counts = tally.counts
        summary.targets = targets(records, labelled, options)
        var dealt: [String: Set<String>] = [:]
        for i in labelled { if let s = records[i].split { dealt[s, default: []].insert(units.unit[i]) } }
        summary.groups = dealt.mapValues(\.count)
        summary.keyless = labelled.filter { units.keyless[$0] }.count
        summary.table = tally.table + "\n" + groupLine(summary, options)
        return (records, summary)
    }

    /// "groups  12 train, 3 val, 3 test (by path pattern; 2 photos without a key)".
    static func groupLine(_ s: SplitSummary, _ o: SplitOptions) -> String {
        "groups " + names.map { "\(s.groups[$0] ?? 0) \($0)" }.joined(separator: ", ")
            + (o.groupBy.map { " (by \($0.name)" + (s.keyless > 0 ? "; \(s.keyless) photos without a key, each kept with its near duplicates" : "") + ")" }
               ?? " (near-duplicate groups)")
    }

    /// Stable mode on a part of the records that holds whole groups (the pipeline splits by
    /// shard): every labelled record gets its group's split. A part may hold no labelled photo.
    public static func applyStable(_ records: [Record], options: SplitOptions) throws -> [Record] {
        var records = records
        _ = try strata(records, options)
        let assignment = try stable(records, records.indices.filter { records[$0].label != nil }, options)
        for i in records.indices { records[i].split = assignment[i] }
        return records
    }

    /// The conditions to stratify by besides the label, checked against the records.
    static func strata(_ records: [Record], _ options: SplitOptions) throws -> [String] {
        let conditions = options.stratify.filter { $0 != "label" }
        for c in conditions where Condition(rawValue: c) == nil {
            throw DataError("split: cannot stratify by \"\(c)\"; use label, lighting, background or occlusion")
        }
        if !conditions.isEmpty, records.contains(where: { $0.label != nil && $0.conditions == nil }) {
            throw DataError("split: stratifying by \(conditions.joined(separator: ", ")) needs condition tags; run facet tag first")
        }
        return conditions
    }

    /// Sizes of test and val for `n` photos.
    static func sizes(_ n: Int, _ o: SplitOptions) throws -> (test: Int, val: Int) {
        func amount(_ a: SplitOptions.Amount, of total: Int, name: String) throws -> Int {
            switch a {
            case .count(let k):
                guard k >= 0, k <= total else { throw DataError("split: \(name) asks for \(k) photos, but only \(total) are available") }
                return k
            case .fraction(let f):
                guard f >= 0, f < 1 else { throw DataError("split: \(name) fraction \(f) must be in [0, 1)") }
                return Int((f * Double(total)).rounded())
            }
        }
        let test = try amount(o.test, of: n, name: "test")
        let val = try amount(o.val, of: n - test, name: "val")
        return (test, val)
    }

    static func targets(_ records: [Record], _ labelled: [Int], _ o: SplitOptions) -> [String: [String: Double]] {
        guard let (test, val) = try? sizes(labelled.count, o) else { return [:] }
        let n = Double(labelled.count)
        var perClass: [String: Int] = [:]
        for i in labelled { perClass[records[i].label!, default: 0] += 1 }
        var out: [String: [String: Double]] = [:]
        for (c, k) in perClass {
            out["test", default: [:]][c] = Double(test) * Double(k) / n
            out["val", default: [:]][c] = Double(val) * Double(k) / n
            out["train", default: [:]][c] = Double(labelled.count - test - val) * Double(k) / n
        }
        return out
    }

    /// A table of integers with the given row and column sums whose every cell is its share
    /// rows[i] × columns[j] / total rounded down or up (controlled rounding, which always exists
    /// for two-way tables), found as a flow: each row hands its missing units to columns through
    /// cells with a fractional share, largest fractions first.
    static func controlledRound(rows: [Int], columns: [Int]) -> [[Int]] {
        let total = rows.reduce(0, +)
        guard total > 0 else { return rows.map { _ in columns.map { _ in 0 } } }
        let exact = rows.map { r in columns.map { c in Double(r) * Double(c) / Double(total) } }
        var table = exact.map { $0.map { Int(($0 + 1e-9).rounded(.down)) } }
        var rowNeed = rows.indices.map { rows[$0] - table[$0].reduce(0, +) }
        var colNeed = columns.indices.map { j in columns[j] - table.reduce(0) { $0 + $1[j] } }
        // Cells that may take one more: a fractional share.
        let open = exact.map { $0.map { $0 - ($0 + 1e-9).rounded(.down) > 1e-9 } }
        var used = rows.map { _ in columns.map { _ in false } }
        func frac(_ i: Int, _ j: Int) -> Double { exact[i][j] - (exact[i][j] + 1e-9).rounded(.down) }
        // Augmenting paths row → column (unused cell) → row (used cell, undo) → … → column with need.
        func augment(_ i: Int, _ seen: inout Set<Int>) -> Bool {
            for j in columns.indices.sorted(by: { frac(i, $0) > frac(i, $1) }) where open[i][j] && !used[i][j] {
                if colNeed[j] > 0 { used[i][j] = true; colNeed[j] -= 1; return true }
                for k in rows.indices where k != i && used[k][j] && !seen.contains(k) {
                    seen.insert(k)
                    // Row k gives up column j to row i, and looks for another column.
                    used[k][j] = false
                    if augment(k, &seen) { used[i][j] = true; return true }
                    used[k][j] = true
                }
            }
            return false
        }
        for i in rows.indices {
            while rowNeed[i] > 0 {
                var seen: Set<Int> = [i]
                guard augment(i, &seen) else { break }
                rowNeed[i] -= 1
            }
        }
        for i in rows.indices { for j in columns.indices where used[i][j] { table[i][j] += 1 } }
        return table
    }

    /// Exact mode: per class, then per condition stratum, whole groups dealt to the split that needs the most.
    /// `unit`: per record, the unit that goes whole to one split.
    static func exact(_ records: [Record], _ labelled: [Int], _ unit: [String], _ conditions: [String], _ o: SplitOptions) throws -> [String?] {
        let (testTotal, valTotal) = try sizes(labelled.count, o)
        let wanted = [labelled.count - testTotal - valTotal, valTotal, testTotal].filter { $0 > 0 }.count
        // Groups of labelled records; a group takes its first member's stratum.
        var groups: [String: [Int]] = [:]
        for i in labelled { groups[unit[i], default: []].append(i) }
        // Units of one person or day hold photos of several classes: then they are dealt as one
        // stratum (their classes follow the people's), else by the class of their first photo.
        var byClass: [String: [[Int]]] = [:]
        for members in groups.values { byClass[o.groupBy == nil ? records[members.min()!].label! : "*", default: []].append(members.sorted()) }
        let classes = byClass.keys.sorted()
        for c in classes {
            let photos = byClass[c]!.reduce(0) { $0 + $1.count }
            if byClass[c]!.count < wanted {
                if c == "*" { throw DataError("split: \(photos) photos in \(byClass[c]!.count) groups by \(o.groupBy!.name), fewer than the \(wanted) splits asked for") }
                throw DataError("split: class \(c) has \(photos) photos in \(byClass[c]!.count) groups, fewer than the \(wanted) splits asked for")
            }
        }
        let sizes = classes.map { c in byClass[c]!.reduce(0) { $0 + $1.count } }
        // (class × [test, val, train]) counts, each within one photo of its share, rows and columns exact.
        let perClass = controlledRound(rows: sizes, columns: [testTotal, valTotal, labelled.count - testTotal - valTotal])
        var out = [String?](repeating: nil, count: records.count)
        for (k, c) in classes.enumerated() {
            // Strata within the class by the condition values; the class's counts spread over them.
            var strata: [String: [[Int]]] = [:]
            for g in byClass[c]! {
                let r = records[g[0]]
                let key = conditions.map { name in Self.condition(r, name) }.joined(separator: "|")
                strata[key, default: []].append(g)
            }
            let keys = strata.keys.sorted()
            let weights = keys.map { strata[$0]!.reduce(0) { $0 + $1.count } }
            let perStratum = controlledRound(rows: weights, columns: perClass[k])
            for (j, key) in keys.enumerated() {
                var need = ["test": perStratum[j][0], "val": perStratum[j][1], "train": perStratum[j][2]]
                var rng = KeyedRandom(seed: o.seed, key: c + "/" + key)
                // Big groups first; among equals the seeded shuffle decides.
                let shuffled = rng.shuffled(strata[key]!.sorted { records[$0[0]].id < records[$1[0]].id })
                let dealt = shuffled.indices.sorted { (shuffled[$0].count, -$0) > (shuffled[$1].count, -$1) }.map { shuffled[$0] }
                for g in dealt {
                    let split = ["test", "val", "train"].max { need[$0]! < need[$1]! }!
                    need[split]! -= g.count
                    for i in g { out[i] = split }
                }
            }
        }
        return out
    }

    static func condition(_ r: Record, _ name: String) -> String {
        switch name {
        case "lighting": r.conditions?.lighting.value ?? "?"
        case "background": r.conditions?.background.value ?? "?"
        case "occlusion": r.conditions?.occlusion.value ?? "?"
        default: "?"
        }
    }

    /// Stable mode: each near-duplicate group by a keyed hash of its id, so assignments never move.
    /// With `group_by`, a group whose photos have a key goes by a hash of that key instead (the
    /// smallest, should its photos have several), so one person's or one day's photos land
    /// together shard by shard; a group without a key goes by its id as before.
    static func stable(_ records: [Record], _ labelled: [Int], _ o: SplitOptions) throws -> [String?] {
        guard case .fraction(let tf) = o.test, case .fraction(let vf) = o.val else {
            throw DataError("split: stable mode takes fractions (--test 0.15 --val 0.2), not counts")
        }
        guard tf >= 0, vf >= 0, tf < 1, vf < 1 else { throw DataError("split: fractions must be in [0, 1)") }
        var groupKey: [String: String] = [:]
        if let by = o.groupBy {
            for (r, key) in zip(records, try SplitUnits.keys(records, by)) {
                if let key { groupKey[r.group] = min(groupKey[r.group] ?? key, key) }
            }
        }
        var out = [String?](repeating: nil, count: records.count)
        for i in labelled {
            let u = KeyedRandom.unit(seed: o.seed, key: groupKey[records[i].group].map { "group_by " + $0 } ?? records[i].group)
            out[i] = u < tf ? "test" : (u < tf + vf * (1 - tf) ? "val" : "train")
        }
        return out
    }
}

/// The split × class × condition counts of split records, which add up part by part.
public struct SplitTally: Codable, Sendable, Equatable {
    public static let values = ["dim", "bright", "plain", "cluttered", "none", "partial"]
    /// The columns of `unknown` tags (not measured), after `values`: one per condition.
    public static let unknowns = ["lighting", "background", "occlusion"]
    /// "split/class" → photos, then the photos with each of `values`, then those whose tag of
    /// each of `unknowns` is unknown.
    public var cells: [String: [Int]] = [:]

    public init() {}

    public init(_ records: [Record]) {
        for r in records {
            guard let split = r.split, let label = r.label else { continue }
            var row = cells[split + "/" + label] ?? [Int](repeating: 0, count: 1 + Self.values.count + Self.unknowns.count)
            row[0] += 1
            let tags = [r.conditions?.lighting.value, r.conditions?.background.value, r.conditions?.occlusion.value]
            for (k, v) in Self.values.enumerated() where tags.contains(v) { row[1 + k] += 1 }
            for (k, v) in tags.enumerated() where v == Condition.unknown { row[1 + Self.values.count + k] += 1 }
            cells[split + "/" + label] = row
        }
    }

    public mutating func add(_ other: SplitTally) {
        let width = 1 + Self.values.count + Self.unknowns.count
        func padded(_ r: [Int]) -> [Int] { r + [Int](repeating: 0, count: max(0, width - r.count)) }
        for (key, row) in other.cells { cells[key] = zip(padded(cells[key] ?? []), padded(row)).map(+) }
    }

    /// split → class → photos.
    public var counts: [String: [String: Int]] {
        var out: [String: [String: Int]] = [:]
        for (key, row) in cells {
            let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
            out[parts[0], default: [:]][parts[1]] = row[0]
        }
        return out
    }

    /// The table `facet split` prints.
    /// Columns of unknown tags are shown only when some photo has one.
    public var table: String {
        let known = 1 + Self.values.count
        let unknownShown = cells.values.contains { $0.count > known && $0[known...].contains { $0 > 0 } }
        let headers = Self.values + (unknownShown ? ["unk.light", "unk.backg", "unk.occl"] : [])
        var lines = ["split  class       photos" + headers.map { $0.leftPadded(10) }.joined()]
        for split in Splitting.names {
            for key in cells.keys.filter({ $0.hasPrefix(split + "/") }).sorted() {
                let row = cells[key]! + [Int](repeating: 0, count: max(0, known + Self.unknowns.count - cells[key]!.count))
                lines.append(split.padding(toLength: 7, withPad: " ", startingAt: 0)
                             + String(key.dropFirst(split.count + 1)).padding(toLength: 10, withPad: " ", startingAt: 0)
                             + String(row[0]).leftPadded(8) + row[1..<(unknownShown ? row.count : known)].map { String($0).leftPadded(10) }.joined())
            }
        }
        if unknownShown { lines.append("unk.*: photos whose lighting, background or occlusion is unknown (not measured; facet audit says why)") }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
