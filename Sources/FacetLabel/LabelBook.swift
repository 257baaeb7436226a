import FacetCore
import FacetData
import Foundation

/// The labels and condition overrides the app edits, kept where the pipeline reads them: a label
/// sheet (`file,label`, the file being the photo's path in the dump) and a conditions sheet
/// (`file,lighting,background,occlusion`, what `tag: {overrides: …}` and `facet tag --calibrate`
/// read), each rewritten atomically after an action changes it, and a history (JSON lines,
/// appended and synced before a sheet is written) that undo and redo walk and that outlives the
/// server. Starting again reads the sheets, replays the history to rebuild undo and redo, and
/// finishes an action the last server was killed in the middle of.
public final class LabelBook: @unchecked Sendable {
    /// One change of one photo: its label, or (`field`) one of its conditions.
    public struct Change: Codable, Sendable, Equatable {
        public var id: String
        public var field: String?
        public var old: String?
        public var new: String?
        public init(id: String, field: String? = nil, old: String?, new: String?) {
            (self.id, self.field, self.old, self.new) = (id, field, old, new)
        }
        var key: String { field ?? "label" }
    }

    /// The conditions a photo's tags can be overridden in, and their two values.
    public static let conditions: [(name: String, values: [String])] = [
        ("lighting", ["dim", "bright"]), ("background", ["plain", "cluttered"]), ("occlusion", ["none", "partial"]),
    ]

    /// One line of the history: an action (changes made together: a near-duplicate group is
    /// labelled as one), or the undoing or redoing of the action numbered `of`.
    struct Entry: Codable {
        var seq: Int
        var time: String
        var kind: String
        var changes: [Change]
        var of: Int?
    }

    /// Why an action was refused: the photo changed since the client saw it (another tab), or an
    /// unknown photo or value.
    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
    }

    public let classes: [String]
    public let discard: String
    public let sheetPath: String
    public let conditionsPath: String?
    public let historyPath: String
    /// Labels confirmed in the review (`file,confirmed`): a photo whose label is confirmed is not
    /// asked about again while it keeps that label. Beside the label sheet, `NAME.confirmed.csv`.
    public var confirmedPath: String { (sheetPath as NSString).deletingPathExtension + ".confirmed.csv" }
    /// The field of a confirmation.
    public static let confirmed = "confirmed"
    /// Photo id → its path in the dump (what the sheet's `file` column holds).
    let sources: [String: String]
    /// Field ("label", "lighting", …) → photo id → value; absent: unlabelled, or the tag as measured.
    private(set) var values: [String: [String: String]] = [:]
    /// Photo id → how many times it changed: a client's save names the revision it saw.
    private(set) var revisions: [String: Int] = [:]
    private var done: [Entry] = [], undone: [Entry] = []
    private var seq = 0
    private let lock = NSLock()

    /// `photos`: (id, path in the dump). The sheet may be missing (nothing labelled yet); rows
    /// whose file is no photo here are kept as they are when it is rewritten.
    public init(photos: [(id: String, source: String)], classes: [String], discard: String = "discard",
                sheet: String, conditions: String? = nil, history: String) throws {
        (self.classes, self.discard, sheetPath, conditionsPath, historyPath) = (classes, discard, sheet, conditions, history)
        var sources: [String: String] = [:]
        for p in photos { sources[p.id] = p.source }
        self.sources = sources
        let byPath = Dictionary(photos.map { ($0.source, $0.id) }) { a, _ in a }
        if FileManager.default.fileExists(atPath: sheet) {
            let s = try Sheet(path: sheet)
            guard let file = s.fileColumn, s.columns.contains("label") else {
                throw DataError("\(sheet): a label sheet needs a file column and a label column; found \(s.columnsDescribed)")
            }
            for row in s.rows {
                guard let path = row[file], let label = row["label"], !label.isEmpty else { continue }
                if let id = byPath[path] { values["label", default: [:]][id] = label } else { foreign.append([path, label]) }
            }
        }
        if FileManager.default.fileExists(atPath: confirmedPath) {
            let s = try Sheet(path: confirmedPath)
            if let file = s.fileColumn, s.columns.contains(Self.confirmed) {
                for row in s.rows {
                    if let path = row[file], let id = byPath[path], let v = row[Self.confirmed], !v.isEmpty { values[Self.confirmed, default: [:]][id] = v }
                }
            }
        }
        if let conditions, FileManager.default.fileExists(atPath: conditions) {
            let s = try Sheet(path: conditions)
            guard let file = s.fileColumn else { throw DataError("\(conditions): a conditions sheet needs a file column; found \(s.columnsDescribed)") }
            for row in s.rows {
                guard let path = row[file] else { continue }
                let cells = Self.conditions.map { row[$0.name]?.lowercased() ?? "" }
                guard let id = byPath[path] else { foreignConditions.append([path] + cells); continue }
                for (c, v) in zip(Self.conditions, cells) where !v.isEmpty { values[c.name, default: [:]][id] = v }
            }
        }
        try replay()
    }

    /// Sheet rows that name no photo of this workspace: written back untouched.
    private var foreign: [[String]] = [], foreignConditions: [[String]] = []

    /// Rebuilds undo and redo from the history; an action whose sheet write was cut short (the
    /// history has it, the sheet still shows the old values) is finished.
    private func replay() throws {
        guard var data = FileManager.default.contents(atPath: historyPath) else { return }
        // A last line cut short by a kill (no newline) never finished: it is cut off, so the
        // next line appended starts on a line of its own.
        if let last = data.last, last != UInt8(ascii: "\n") {
            let keep = (data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? 0
            guard truncate(historyPath, off_t(keep)) == 0 else { throw DataError("\(historyPath): cannot cut off its unfinished last line") }
            data = data.prefix(keep)
        }
        var entries: [Entry] = []
        for (n, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() {
            do { entries.append(try JSONDecoder().decode(Entry.self, from: Data(line))) } catch {
                throw DataError("\(historyPath): line \(n + 1) is not a history entry")
            }
        }
        for e in entries {
            seq = max(seq, e.seq)
            switch e.kind {
            case "undo": if let i = done.lastIndex(where: { $0.seq == e.of }) { undone.append(done.remove(at: i)) }
            case "redo": if let i = undone.lastIndex(where: { $0.seq == e.of }) { done.append(undone.remove(at: i)) }
            default: done.append(e); undone = []
            }
            for c in e.changes { revisions[c.id, default: 0] += 1 }
        }
        // The last entry's values are what the sheet must show; finish its write if it was cut short.
        if let last = entries.last, last.changes.contains(where: { value($0.key, $0.id) != $0.new && value($0.key, $0.id) == $0.old }) {
            for c in last.changes { values[c.key, default: [:]][c.id] = c.new }
            try writeSheets(for: last.changes)
        }
    }

    private func value(_ field: String, _ id: String) -> String? { values[field]?[id] }

    /// The label of photo `id`, nil when unlabelled.
    public func label(_ id: String) -> String? { lock.withLock { value("label", id) } }
    /// The value photo `id`'s condition is overridden to, nil when not.
    public func override(_ condition: String, _ id: String) -> String? { lock.withLock { value(condition, id) } }
    public func revision(_ id: String) -> Int { lock.withLock { revisions[id] ?? 0 } }
    public var canUndo: Int { lock.withLock { done.count } }
    public var canRedo: Int { lock.withLock { undone.count } }

    /// Gives `ids` the label `value` (a class, `discard`, or nil to unlabel), or with `field` sets
    /// that condition's override (one of its two values, or nil: back to the tag measured).
    /// `seen`: the revision of each photo the client showed; a photo changed since is refused,
    /// and nothing is changed.
    @discardableResult
    public func set(_ ids: [String], to value: String?, field: String? = nil, seen: [String: Int]) throws -> [Change] {
        try lock.withLock {
            if field == Self.confirmed {
                if let value, value != discard, !classes.contains(value) { throw Refusal(description: "\"\(value)\" is not a class here") }
            } else if let field {
                guard let c = Self.conditions.first(where: { $0.name == field }) else { throw Refusal(description: "no condition \(field)") }
                guard conditionsPath != nil else { throw Refusal(description: "no conditions sheet to write overrides to") }
                if let value, !c.values.contains(value) { throw Refusal(description: "\(field) is \(c.values.joined(separator: " or ")), not \"\(value)\"") }
            } else if let value, value != discard, !classes.contains(value) {
                throw Refusal(description: "\"\(value)\" is not a class here (\(classes.joined(separator: ", ")))")
            }
            for id in ids {
                guard sources[id] != nil else { throw Refusal(description: "no photo \(id)") }
                if let r = seen[id], r != (revisions[id] ?? 0) {
                    throw Refusal(description: "\(sources[id]!) changed since this page showed it (now \(self.value("label", id) ?? "unlabelled")): reload to see it")
                }
            }
            let key = field ?? "label"
            let changes = ids.filter { self.value(key, $0) != value }.map { Change(id: $0, field: field, old: self.value(key, $0), new: value) }
            guard !changes.isEmpty else { return [] }
            let e = Entry(seq: seq + 1, time: Self.now(), kind: "set", changes: changes, of: nil)
            try record(e)
            undone = []
            done.append(e)
            return changes
        }
    }

    /// Undoes the last action not undone; nil when there is none.
    public func undo() throws -> [Change]? {
        try lock.withLock {
            guard let last = done.last else { return nil }
            let back = last.changes.map { Change(id: $0.id, field: $0.field, old: $0.new, new: $0.old) }
            try record(Entry(seq: seq + 1, time: Self.now(), kind: "undo", changes: back, of: last.seq))
            undone.append(done.removeLast())
            return back
        }
    }

    /// Redoes the last action undone; nil when there is none.
    public func redo() throws -> [Change]? {
        try lock.withLock {
            guard let last = undone.last else { return nil }
            try record(Entry(seq: seq + 1, time: Self.now(), kind: "redo", changes: last.changes, of: last.seq))
            done.append(undone.removeLast())
            return last.changes
        }
    }

    /// Appends `e` to the history (synced), applies it, and rewrites the sheets it changes.
    private func record(_ e: Entry) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try FileSystem.append(Array(try encoder.encode(e)) + [0x0A], to: historyPath, durable: true)
        seq = e.seq
        for c in e.changes {
            values[c.key, default: [:]][c.id] = c.new
            revisions[c.id, default: 0] += 1
        }
        try writeSheets(for: e.changes)
    }

    /// Rewrites each sheet that holds a field of `changes`: the label sheet, the conditions sheet,
    /// the confirmations.
    private func writeSheets(for changes: [Change]) throws {
        let fields = Set(changes.map(\.key))
        let names = Self.conditions.map(\.name)
        func write(_ header: [String], _ fields: [String], _ foreign: [[String]], to path: String) throws {
            let ids = Set(fields.flatMap { (values[$0] ?? [:]).keys })
            let rows = ids.compactMap { id in sources[id].map { [$0] + fields.map { values[$0]?[id] ?? "" } } } + foreign
            try AtomicFile.write(Sheet.csv(header, rows.sorted { $0[0] < $1[0] }), to: path)
        }
        if fields.contains("label") { try write(["file", "label"], ["label"], foreign, to: sheetPath) }
        if let conditionsPath, !fields.isDisjoint(with: names) { try write(["file"] + names, names, foreignConditions, to: conditionsPath) }
        if fields.contains(Self.confirmed) { try write(["file", Self.confirmed], [Self.confirmed], [], to: confirmedPath) }
    }

    static func now() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }
}
