import Foundation

/// What keeps photos together in one split besides their near-duplicate group (`split: {group_by: …}`):
/// one person, one shooting day.
public enum GroupBy: Sendable, Codable, Equatable {
    /// The first capture group (else the whole match) of a regular expression searched in the
    /// photo's path relative to the dump: JAFFE's `^([A-Z]{2})\.` takes the poser's initials.
    case path(pattern: String)
    /// A column of a CSV/TSV sheet whose `file` column names photos (by relative path, or by
    /// file name), as a label sheet does.
    case sheet(path: String, column: String)
    /// The day of the EXIF DateTimeOriginal: one shooting day.
    case takenDay

    /// Words for the split table: "person (path)", "day taken".
    public var name: String {
        switch self {
        case .path: "path pattern"
        case .sheet(_, let column): "sheet column \(column)"
        case .takenDay: "day taken"
        }
    }
}

/// The units a split deals: near-duplicate groups joined with the photos that share a key.
public struct SplitUnits: Sendable {
    /// Per record, its unit: the smallest group id among the groups joined with it.
    public var unit: [String]
    /// Per record, whether its key could not be had (no match, not in the sheet, no EXIF date):
    /// such a photo stays with its near-duplicate group alone.
    public var keyless: [Bool]

    /// Units of `records` under `by` (nil: the near-duplicate groups themselves).
    public init(_ records: [Record], by: GroupBy?) throws {
        guard let by else {
            unit = records.map(\.group)
            keyless = records.map { _ in false }
            return
        }
        let keys = try Self.keys(records, by)
        keyless = keys.map { $0 == nil }
        // Union-find over groups: a key joins every group that holds a photo with it.
        var parent: [String: String] = [:]
        func find(_ g: String) -> String {
            var g = g
            while let p = parent[g], p != g { parent[g] = parent[p] ?? p; g = p }
            return g
        }
        var firstOfKey: [String: String] = [:]
        for (r, key) in zip(records, keys) {
            if parent[r.group] == nil { parent[r.group] = r.group }
            guard let key else { continue }
            guard let other = firstOfKey[key] else { firstOfKey[key] = r.group; continue }
            let (a, b) = (find(other), find(r.group))
            if a != b { if a < b { parent[b] = a } else { parent[a] = b } }
        }
        unit = records.map { find($0.group) }
    }

    /// Each record's key under `by`, or nil.
    static func keys(_ records: [Record], _ by: GroupBy) throws -> [String?] {
        switch by {
        case .path(let pattern):
            let regex: NSRegularExpression
            do { regex = try NSRegularExpression(pattern: pattern) } catch {
                throw DataError("split.group_by: the pattern \(pattern) is not a valid regular expression")
            }
            return records.map { r in
                let path = r.source
                guard let m = regex.firstMatch(in: path, range: NSRange(path.startIndex..., in: path)) else { return nil }
                let range = m.numberOfRanges > 1 && m.range(at: 1).location != NSNotFound ? m.range(at: 1) : m.range
                return Range(range, in: path).map { String(path[$0]) }.flatMap { $0.isEmpty ? nil : $0 }
            }
        case .sheet(let path, let column):
            let sheet = try Sheet(path: path)
            guard let fileColumn = sheet.fileColumn, sheet.columns.contains(column) else {
                throw DataError("\(path): split.group_by needs a \"file\" column and a \"\(column)\" column; found \(sheet.columnsDescribed)")
            }
            var byPath: [String: String] = [:], byName: [String: String] = [:]
            for row in sheet.rows {
                let file = row[fileColumn]!, value = row[column]!
                guard !file.isEmpty, !value.isEmpty else { continue }
                if file.utf8.contains(UInt8(ascii: "/")) { byPath[file] = value } else { byName[file] = value }
            }
            return records.map { byPath[$0.source] ?? byName[Labeling.fileName($0.source)] }
        case .takenDay:
            // "YYYY:MM:DD HH:MM:SS": the date part, when it looks like one.
            return records.map { r in
                guard let t = r.taken, t.count >= 10 else { return nil }
                let day = String(t.prefix(10))
                return day.allSatisfy({ $0.isNumber || $0 == ":" }) && day != "0000:00:00" ? day : nil
            }
        }
    }
}
