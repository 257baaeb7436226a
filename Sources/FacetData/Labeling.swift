import FacetImage
import Foundation

/// Where labels come from.
public enum LabelSource: Sendable {
    /// The folder at this depth of the relative path (0: the top folder; −1: the file's own folder).
    case folders(level: Int)
    /// A CSV/TSV sheet: a `file` column (relative path or file name) and a `label` column.
    case sheet(path: String)
    /// A regular expression on the relative path; its first capture group is the label.
    case pattern(String)
}

/// Options of `facet label`.
public struct LabelOptions: Sendable {
    public var source: LabelSource = .folders(level: 0)
    public var classes: [String] = ["happy", "normal", "sad"]
    /// Other names of classes, matched case-insensitively: happiness → happy.
    public var aliases: [String: String] = ["happiness": "happy", "neutral": "normal", "sadness": "sad"]
    /// Names that remove a photo on purpose.
    public var discard: [String] = ["discard"]
    /// Sheet rows that match no photo are an error (else they are listed).
    public var strict = false
    /// A sheet's columns naming the photo and its label (lower case); nil file column: the first
    /// of file, path, filename, source.
    public var fileColumn: String?
    public var labelColumn = "label"
    /// `facet label` on a workspace: photos that have a label may lose it (else that is an error).
    public var allowUnlabelling = false
    public init() {}
}

public struct LabelSummary: Sendable {
    public var perClass: [String: Int] = [:]
    public var discarded: [String] = []
    public var unlabelled: [String] = []
    /// Photos, or groups of copies, given two different labels: left unlabelled.
    public var conflicts: [(sources: [String], labels: [String])] = []
    /// Sheet rows whose file matches no photo: (line, file).
    public var unmatched: [(line: Int, file: String)] = []
}

public enum Labeling {
    /// Labels the records of `workspace`'s manifest. Unknown labels are an error listing each
    /// value and its count, and nothing is written.
    /// Photos that have a label and would lose it are an error unless `allowUnlabelling`; so are
    /// sheet rows matching no photo when `strict`. Either way nothing is written.
    public static func run(workspace: String, options: LabelOptions) throws -> LabelSummary {
        let records = try JSONLines.read(Record.self, from: Workspace.manifest(workspace))
        let duplicates = (try? JSONLines.read(DuplicateRecord.self, from: Workspace.duplicates(workspace))) ?? []
        let labeler = try Labeler(options)
        var (kept, discarded, summary) = try labeler.apply(records, duplicates: duplicates)
        summary.unmatched = try labeler.unmatchedRows(sources: records.map(\.source) + duplicates.map(\.source))
        if !options.allowUnlabelling {
            let labelled = Set(records.filter { $0.label != nil }.map(\.id))
            let lost = kept.filter { $0.label == nil && labelled.contains($0.id) }
            if !lost.isEmpty {
                let conflicted = Set(summary.conflicts.flatMap(\.sources))
                let inConflict = lost.filter { conflicted.contains($0.source) }.count
                let why = [lost.count - inConflict > 0 ? "\(lost.count - inConflict) get no label from \(options.source.words)" : nil,
                           inConflict > 0 ? "\(inConflict) are in conflicts" : nil].compactMap { $0 }.joined(separator: ", ")
                throw DataError("label: \(lost.count) photos labelled now would be left without a label (\(why); e.g. "
                                + "\(lost.prefix(3).map(\.source).joined(separator: ", "))); nothing was written. "
                                + "Check the label source, or pass --allow-unlabelling to clear those labels")
            }
        }
        try JSONLines.write(kept, to: Workspace.manifest(workspace))
        if !discarded.isEmpty || FileManager.default.fileExists(atPath: Workspace.discarded(workspace)) {
            try JSONLines.write(discarded, to: Workspace.discarded(workspace))
        }
        return summary
    }

    /// Labels `records` (copies in `duplicates` vote on their original's label): the labelled
    /// records, the discarded ones, and the summary.
    public static func apply(_ records: [Record], duplicates: [DuplicateRecord], options: LabelOptions) throws
        -> (records: [Record], discarded: [Record], summary: LabelSummary) {
        try Labeler(options).apply(records, duplicates: duplicates)
    }

    /// Label options with their sheet or pattern read once, for labelling records a part at a
    /// time (the pipeline labels by shard, each holding whole groups).
    public struct Labeler {
        let options: LabelOptions
        let lookup: Lookup
        let names: Names

        public init(_ options: LabelOptions) throws {
            self.options = options
            lookup = try Lookup(options.source, columns: (options.fileColumn, options.labelColumn))
            names = Names(options)
        }

        /// The sheet rows whose file names none of `sources` (by relative path, or by file name
        /// for a row that gives only a name): typos that would otherwise pass unseen. With
        /// `strict`, any such row is an error that lists them.
        public func unmatchedRows(sources: [String]) throws -> [(line: Int, file: String)] {
            guard case .sheet(let path) = lookup.source else { return [] }
            let paths = Set(sources), names = Set(sources.map(Labeling.fileName))
            let unmatched = lookup.rows.filter { $0.file.utf8.contains(UInt8(ascii: "/")) ? !paths.contains($0.file) : !names.contains($0.file) }
            if options.strict && !unmatched.isEmpty {
                throw DataError("\(path): \(unmatched.count) rows match no photo (strict): " + Labeling.describe(unmatched) + "; nothing was written")
            }
            return unmatched
        }

        /// Labels `records`, whose groups are whole (copies in `duplicates` vote on their original's
        /// label): the labelled records, the discarded ones, and the summary.
        public func apply(_ records: [Record], duplicates: [DuplicateRecord]) throws
            -> (records: [Record], discarded: [Record], summary: LabelSummary) {
            // Raw words for each record and for each set-aside copy (copies vote on their original's label).
            var words: [String: [(source: String, word: String)]] = [:]   // by record id
            var unknown: [String: Int] = [:]
            for (source, id) in records.map({ ($0.source, $0.id) }) + duplicates.map({ ($0.source, $0.duplicateOf) }) {
                for word in lookup.words(for: source) {
                    if names.resolve(word) == nil { unknown[word, default: 0] += 1 } else { words[id, default: []].append((source, word)) }
                }
            }
            if !unknown.isEmpty {
                // Spellings of one word together: "surprise" (13: surprise 8, SURPRISE 5).
                let byWord = Dictionary(grouping: unknown, by: { $0.key.trimmingCharacters(in: .whitespaces).lowercased() })
                let list = byWord.map { (word: $0.key, total: $0.value.reduce(0) { $0 + $1.value }, spellings: $0.value.sorted { ($0.value, $1.key) > ($1.value, $0.key) }) }
                    .sorted { ($0.total, $1.word) > ($1.total, $0.word) }
                    .map { w in w.spellings.count == 1 && w.spellings[0].key == w.word ? "\"\(w.word)\" (\(w.total))"
                        : "\"\(w.word)\" (\(w.total): " + w.spellings.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")" }
                    .joined(separator: ", ")
                throw DataError("label: values outside the classes \(options.classes.joined(separator: ", ")): \(list); "
                                + "add an alias, a class, or a discard name")
            }

            var summary = LabelSummary()
            var kept: [Record] = [], discarded: [Record] = []
            // A near-duplicate or burst group gets one label: conflicts are looked for across the group.
            var groupLabels: [String: Set<String>] = [:], groupWords: [String: Set<String>] = [:]
            for r in records {
                for w in words[r.id] ?? [] {
                    groupLabels[r.group, default: []].insert(names.resolve(w.word)!)
                    groupWords[r.group, default: []].insert(w.word.trimmingCharacters(in: .whitespaces))
                }
            }
            var members: [String: [String]] = [:]
            for r in records { members[r.group, default: []].append(r.source) }
            let copies = Dictionary(grouping: duplicates, by: \.keptSource).mapValues { $0.map(\.source) }
            var reported = Set<String>()
            kept.reserveCapacity(records.count)
            for var r in records {
                let labels = groupLabels[r.group] ?? []
                if labels.count > 1 {
                    r.label = nil
                    if reported.insert(r.group).inserted {
                        let sources = members[r.group]!.flatMap { [$0] + (copies[$0] ?? []) }
                        // The words as written (a conflict between "Happy" and "sadness" says so).
                        summary.conflicts.append((sources, groupWords[r.group]!.sorted()))
                    }
                    kept.append(r)
                } else if let label = labels.first {
                    if label == Names.discard { discarded.append(r); summary.discarded.append(r.source); continue }
                    r.label = label
                    summary.perClass[label, default: 0] += 1
                    kept.append(r)
                } else {
                    r.label = nil
                    summary.unlabelled.append(r.source)
                    kept.append(r)
                }
            }
            return (kept, discarded, summary)
        }
    }

    /// Class names, aliases and discard names, case-insensitive.
    struct Names {
        static let discard = "\u{0}discard"
        var map: [String: String] = [:]
        init(_ o: LabelOptions) {
            for c in o.classes { map[c.lowercased()] = c }
            for (alias, c) in o.aliases where o.classes.contains(c) { map[alias.lowercased()] = c }
            for d in o.discard { map[d.lowercased()] = Names.discard }
        }
        func resolve(_ word: String) -> String? {
            // Most words (class folders) are already in the map's form: looked up before they are trimmed and lowered.
            map[word] ?? map[word.trimmingCharacters(in: .whitespaces).lowercased()]
        }
    }

    /// The raw label words a source path gets from the label source.
    struct Lookup {
        var source: LabelSource
        var byPath: [String: [String]] = [:]
        var byName: [String: [String]] = [:]
        var regex: NSRegularExpression?
        /// The sheet's rows: (line, file), for finding the ones that match no photo.
        var rows: [(line: Int, file: String)] = []

        init(_ source: LabelSource, columns: (file: String?, label: String) = (nil, "label")) throws {
            self.source = source
            switch source {
            case .sheet(let path):
                let sheet = try Sheet(path: path)
                guard let fileColumn = columns.file.map({ $0.lowercased() }) ?? sheet.fileColumn, sheet.columns.contains(fileColumn),
                      sheet.columns.contains(columns.label.lowercased()) else {
                    throw DataError("\(path): a label sheet needs a \"\(columns.file ?? "file")\" and a \"\(columns.label)\" column; found \(sheet.columnsDescribed)"
                                    + " (name others with --file-column and --label-column, or label: {columns: {file: …, label: …}})")
                }
                let labelColumn = columns.label.lowercased()
                rows.reserveCapacity(sheet.rows.count)
                byPath.reserveCapacity(sheet.rows.count)
                for row in sheet.rows {
                    let file = row[fileColumn]!, label = row[labelColumn]!
                    guard !file.isEmpty else { throw DataError("\(path):\(row.line): empty file name") }
                    rows.append((row.line, file))
                    if label.isEmpty { continue }
                    if file.utf8.contains(UInt8(ascii: "/")) { byPath[file, default: []].append(label) } else { byName[file, default: []].append(label) }
                }
            case .pattern(let pattern):
                do { regex = try NSRegularExpression(pattern: pattern) } catch {
                    throw DataError("label: the pattern \(pattern) is not a valid regular expression")
                }
                guard regex!.numberOfCaptureGroups >= 1 else { throw DataError("label: the pattern \(pattern) has no capture group") }
            case .folders: break
            }
        }

        func words(for path: String) -> [String] {
            switch source {
            case .folders(let level):
                // Split on the bytes: a `/` is never part of another UTF-8 character.
                let folders = path.utf8.split(separator: UInt8(ascii: "/")).dropLast()
                let index = level >= 0 ? level : folders.count + level
                return folders.indices.contains(index) ? [String(Substring(folders[index]))] : []
            case .sheet:
                return byPath[path] ?? byName[Labeling.fileName(path)] ?? []
            case .pattern:
                let range = NSRange(path.startIndex..., in: path)
                guard let m = regex!.firstMatch(in: path, range: range), let r = Range(m.range(at: 1), in: path) else { return [] }
                return [String(path[r])]
            }
        }
    }
}

extension Labeling {
    /// The last component of a relative path (`happy/a.jpg` → `a.jpg`), without Foundation's
    /// NSString bridge, which cost most of the time of matching a large sheet.
    static func fileName(_ path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return path }
        return String(path[path.utf8.index(after: slash)...])
    }

    /// "line 4: hapy/001.jpg, line 9: …" for the first 20 rows, and how many more.
    public static func describe(_ rows: [(line: Int, file: String)]) -> String {
        rows.prefix(20).map { "line \($0.line): \($0.file)" }.joined(separator: ", ")
            + (rows.count > 20 ? ", … and \(rows.count - 20) more" : "")
    }
}

extension LabelSource {
    /// Words for messages: "the folders (level 0)", "the sheet labels.csv".
    public var words: String {
        switch self {
        case .folders(let level): "the folders (level \(level))"
        case .sheet(let path): "the sheet \(path)"
        case .pattern(let p): "the pattern \(p)"
        }
    }
}

extension Workspace {
    public static func discarded(_ w: String) -> String { w + "/discarded.jsonl" }
}
