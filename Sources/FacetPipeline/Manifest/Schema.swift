import Foundation
import Yams

/// Everything wrong with a pipeline manifest, each problem at its file, line and column.
public struct ManifestError: Error, CustomStringConvertible, Sendable {
    public struct Issue: Sendable, Equatable {
        public var line: Int
        public var column: Int
        public var message: String
    }
    public var file: String
    public var issues: [Issue]

    public var description: String {
        issues.map { "\(file):\($0.line):\($0.column): \($0.message)" }.joined(separator: "\n")
    }
}

/// Collects the problems of one manifest while its sections are read.
final class Problems {
    var issues: [ManifestError.Issue] = []

    func add(_ mark: Mark?, _ message: String) {
        issues.append(.init(line: mark?.line ?? 1, column: mark?.column ?? 1, message: message))
    }
}

/// One YAML mapping of the manifest, read key by key with types, defaults and ranges. Every key
/// read is recorded in `canonical` (defaults included); `finish()` reports the keys nobody read,
/// with the nearest known key as a suggestion.
final class Section {
    let path: String
    let mark: Mark?
    let problems: Problems
    private(set) var canonical: [String: Value] = [:]
    private var entries: [(key: String, keyMark: Mark?, value: Node)] = []
    private var known: [String] = []

    /// `node` nil: the section is absent and every key takes its default.
    init(_ node: Node?, path: String, problems: Problems) {
        self.path = path
        self.problems = problems
        self.mark = node?.mark
        switch node {
        case .mapping(let m)?:
            for (k, v) in m {
                guard let name = k.string else { problems.add(k.mark, "\(where_)a key must be a plain word"); continue }
                if entries.contains(where: { $0.key == name }) { problems.add(k.mark, "\(where_)\(name) is given twice"); continue }
                entries.append((name, k.mark, v))
            }
        case nil:
            break
        case let other?:
            if !Section.isNull(other) { problems.add(other.mark, "\(path.isEmpty ? "the manifest" : path) must be a mapping of keys to values") }
        }
    }

    private var where_: String { path.isEmpty ? "" : path + ": " }
    private func name(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    static func isNull(_ node: Node) -> Bool {
        if case .scalar(let s) = node { return s.tag.description == Tag.Name.null.rawValue || (s.style == .plain && ["", "~", "null", "Null", "NULL"].contains(s.string)) }
        return false
    }

    /// The node under `key`, marking the key as known.
    func node(_ key: String) -> Node? {
        known.append(key)
        return entries.first { $0.key == key }.flatMap { Section.isNull($0.value) ? nil : $0.value }
    }

    func markOf(_ key: String) -> Mark? { entries.first { $0.key == key }?.value.mark ?? mark }
    func record(_ key: String, _ value: Value) { canonical[key] = value }

    func subsection(_ key: String) -> Section {
        let s = Section(node(key), path: name(key), problems: problems)
        return s
    }

    func string(_ key: String, default d: String?, oneOf choices: [String]? = nil) -> String? {
        guard let n = node(key) else { record(key, d.map(Value.string) ?? .null); return d }
        guard case .scalar(let s) = n else { problems.add(n.mark, "\(name(key)) must be a string"); return d }
        if let choices, !choices.contains(s.string) {
            problems.add(n.mark, "\(name(key)) must be one of \(choices.joined(separator: ", ")), not \"\(s.string)\"" + Suggest.hint(s.string, choices))
            return d
        }
        record(key, .string(s.string))
        return s.string
    }

    func int(_ key: String, default d: Int, in range: ClosedRange<Int>) -> Int {
        number(key, default: d, in: range, kind: "a whole number", read: Section.int, value: Value.int)
    }

    func double(_ key: String, default d: Double, in range: ClosedRange<Double>) -> Double {
        number(key, default: d, in: range, kind: "a number", read: Section.double, value: Value.double)
    }

    private func number<T: Comparable>(_ key: String, default d: T, in range: ClosedRange<T>, kind: String,
                                       read: (Node) -> T?, value: (T) -> Value) -> T {
        guard let n = node(key) else { record(key, value(d)); return d }
        guard let v = read(n) else { problems.add(n.mark, "\(name(key)) must be \(kind), not \(Section.show(n))"); return d }
        guard range.contains(v) else { problems.add(n.mark, "\(name(key)) must be in \(range.lowerBound)…\(range.upperBound), not \(v)"); return d }
        record(key, value(v))
        return v
    }

    func bool(_ key: String, default d: Bool) -> Bool {
        guard let n = node(key) else { record(key, .bool(d)); return d }
        guard case .scalar(let s) = n, let v = Bool(s.string.lowercased()) else {
            problems.add(n.mark, "\(name(key)) must be true or false, not \(Section.show(n))"); return d
        }
        record(key, .bool(v))
        return v
    }

    /// A switch that is off by default and recorded only when on, so a manifest that never names it
    /// keeps its keys (and its lock) as they were.
    func flag(_ key: String) -> Bool {
        let v = bool(key, default: false)
        if !v { canonical[key] = nil }
        return v
    }

    func strings(_ key: String, default d: [String], oneOf choices: [String]? = nil) -> [String] {
        guard let n = node(key) else { record(key, .array(d.map(Value.string))); return d }
        let items: [Node]
        switch n {
        case .sequence(let s): items = Array(s)
        case .scalar: items = [n]
        default: problems.add(n.mark, "\(name(key)) must be a list of strings"); return d
        }
        var out: [String] = []
        for item in items {
            guard case .scalar(let s) = item else { problems.add(item.mark, "\(name(key)) must be a list of strings"); continue }
            if let choices, !choices.contains(s.string) {
                problems.add(item.mark, "\(name(key)): \"\(s.string)\" is not one of \(choices.joined(separator: ", "))" + Suggest.hint(s.string, choices))
                continue
            }
            if out.contains(s.string) { problems.add(item.mark, "\(name(key)): \"\(s.string)\" is listed twice"); continue }
            out.append(s.string)
        }
        record(key, .array(out.map(Value.string)))
        return out
    }

    /// A mapping of strings to strings (aliases).
    func stringMap(_ key: String, default d: [String: String]) -> [String: String] {
        guard let n = node(key) else { record(key, .object(d.mapValues(Value.string))); return d }
        guard case .mapping(let m) = n else { problems.add(n.mark, "\(name(key)) must be a mapping of names to names"); return d }
        var out: [String: String] = [:]
        for (k, v) in m {
            guard let ks = k.string, case .scalar(let vs) = v else { problems.add(k.mark, "\(name(key)) must map names to names"); continue }
            out[ks] = vs.string
        }
        record(key, .object(out.mapValues(Value.string)))
        return out
    }

    /// Reports every key that no reader asked for.
    func finish() {
        for e in entries where !known.contains(e.key) {
            problems.add(e.keyMark, "unknown key \(name(e.key))" + Suggest.hint(e.key, known))
        }
    }

    static func int(_ n: Node) -> Int? {
        guard case .scalar(let s) = n, s.style == .plain else { return nil }
        return Int(s.string.replacingOccurrences(of: "_", with: ""))
    }

    static func double(_ n: Node) -> Double? {
        guard case .scalar(let s) = n, s.style == .plain else { return nil }
        let text = s.string.replacingOccurrences(of: "_", with: "")
        guard text.first.map({ $0.isNumber || $0 == "-" || $0 == "+" || $0 == "." }) == true else { return nil }
        return Double(text)
    }

    static func show(_ n: Node) -> String {
        switch n {
        case .scalar(let s): "\"\(s.string)\""
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}

/// "Did you mean" for a misspelt key or value: the nearest candidate within a third of its length.
enum Suggest {
    static func hint(_ word: String, _ candidates: [String]) -> String {
        let scored = candidates.map { ($0, distance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, best.0.count / 3) else { return "" }
        return " (did you mean \(best.0)?)"
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var prev = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let cur = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
                prev = cur
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
}
