import Foundation

/// What changed between two runs' metrics: one row per model and metric.
public struct RunComparison: Codable, Sendable {
    public struct Row: Codable, Sendable, Equatable {
        public var model: String
        public var metric: String
        public var a: Double?
        public var b: Double?
        public var delta: Double? { a.flatMap { a in b.map { $0 - a } } }
    }
    public var rows: [Row]
    /// Lines about things that are not numbers: a model run in one run only, a different status, other classes.
    public var notes: [String]

    public init(_ a: RunMetrics, _ b: RunMetrics) {
        var rows: [Row] = [], notes: [String] = []
        if a.classes != b.classes { notes.append("classes differ: \(a.classes.joined(separator: ", ")) → \(b.classes.joined(separator: ", "))") }
        for split in ["train", "val", "test"] {
            let x = a.dataset.photos[split]?.values.reduce(0, +), y = b.dataset.photos[split]?.values.reduce(0, +)
            if x != y { rows.append(Row(model: "dataset", metric: "\(split) photos", a: x.map(Double.init), b: y.map(Double.init))) }
        }
        let names = a.models.map(\.name) + b.models.map(\.name).filter { n in !a.models.contains { $0.name == n } }
        for name in names {
            let x = a.models.first { $0.name == name }, y = b.models.first { $0.name == name }
            if x?.status != y?.status {
                notes.append("\(name): \(x.map(Self.describe) ?? "absent") → \(y.map(Self.describe) ?? "absent")")
            }
            func add(_ metric: String, _ f: (RunMetrics.Model) -> Double?) {
                let (p, q) = (x.flatMap(f), y.flatMap(f))
                if p != nil || q != nil { rows.append(Row(model: name, metric: metric, a: p, b: q)) }
            }
            add("test accuracy") { $0.report?.accuracy }
            add("macro F1") { $0.report?.macro.f1 }
            add("weighted F1") { $0.report?.weighted.f1 }
            for (i, c) in (x?.report?.classes ?? y?.report?.classes ?? []).enumerated() {
                add("F1 \(c)") { m in m.report.flatMap { $0.perClass.indices.contains(i) ? $0.perClass[i].f1 : nil } }
            }
            add("final val accuracy") { $0.epochs.last?.valAccuracy }
            add("misclassified") { $0.misclassified.map { Double($0.count) } }
            let slices = [x, y].compactMap { $0?.slices }.flatMap { $0.flatMap { c, values in values.keys.map { [c, $0] } } }
            for s in Set(slices).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                add("accuracy \(s[0]): \(s[1])") { $0.slices?[s[0]]?[s[1]]?.accuracy }
            }
        }
        (self.rows, self.notes) = (rows, notes)
    }

    static func describe(_ m: RunMetrics.Model) -> String {
        m.report != nil ? "evaluated" : "not run" + (m.reason.map { " (\($0))" } ?? "")
    }

    /// A table for people: the rows that changed, in the order of the models and of their
    /// metrics (test accuracy first); unchanged rows counted.
    public func text(_ nameA: String, _ nameB: String) -> String {
        var out = ["A: \(nameA)", "B: \(nameB)"]
        out += notes
        func counts(_ metric: String) -> Bool { metric.hasSuffix("photos") || metric == "misclassified" }
        func f(_ x: Double?, _ metric: String) -> String {
            guard let x else { return "–" }
            return counts(metric) ? String(Int(x)) : String(format: "%.4f", x)
        }
        let changed = rows.filter { $0.a != $0.b }
        let width = max(28, (changed.map { $0.model.count + $0.metric.count + 2 }.max() ?? 0))
        if changed.isEmpty { out.append("no metric changed (\(rows.count) compared)") } else {
            out.append("model: metric".padding(toLength: width, withPad: " ", startingAt: 0) + "         A          B      B − A")
            for r in changed {
                let d = r.delta.map { counts(r.metric) ? String(format: "%+d", Int($0)) : String(format: "%+.4f", $0) } ?? "–"
                out.append("\(r.model): \(r.metric)".padding(toLength: width, withPad: " ", startingAt: 0)
                           + [f(r.a, r.metric), f(r.b, r.metric), d].map { String(repeating: " ", count: max(0, 10 - $0.count)) + $0 }.joined(separator: " "))
            }
            out.append("\(changed.count) of \(rows.count) metrics changed")
        }
        return out.joined(separator: "\n")
    }
}
