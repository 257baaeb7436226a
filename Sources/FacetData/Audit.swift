import Foundation

/// What `facet audit` reports: balance, conditions per class, quality issues per class, and
/// the condition–label associations a model could learn instead of the expression.
public struct AuditReport: Codable, Sendable, Equatable {
    public struct Association: Codable, Sendable, Equatable {
        public var condition: String
        /// Cramér's V of the label × condition table, 0 (independent) … 1 (one decides the other).
        public var cramersV: Double
        public var strong: Bool
        /// Sentences like "sad photos are 80% dim (all photos: 41%)", largest deviations first.
        public var findings: [String]

        enum CodingKeys: String, CodingKey { case condition, strong, findings; case cramersV = "cramers_v" }

        public init(condition: String, cramersV: Double, strong: Bool, findings: [String]) {
            (self.condition, self.cramersV, self.strong, self.findings) = (condition, cramersV, strong, findings)
        }
    }

    public var photos: Int
    public var unlabelled: Int
    public var classes: [String: Int]
    /// Largest class over smallest class.
    public var imbalance: Double
    /// class → condition → value → count
    public var conditions: [String: [String: [String: Int]]]
    /// class → quality issue → count
    public var issues: [String: [String: Int]]
    public var associations: [Association]
    /// condition → why it is `unknown` → labelled photos (nil: no unknown tag).
    public var unknown: [String: [String: Int]]? = nil
    /// Per condition with unknown tags: whether a tag is measured at all, against the label. A
    /// strong one means the measured photos are no random sample of a class (a detector that
    /// misses one expression), and the condition's findings speak for those photos only.
    public var unknownAssociations: [Association]? = nil

    enum CodingKeys: String, CodingKey {
        case photos, unlabelled, classes, imbalance, conditions, issues, associations, unknown
        case unknownAssociations = "unknown_associations"
    }
}

public enum Audit {
    /// Cramér's V at or above this is flagged as a strong association.
    public static let strongV = 0.3

    public static func run(workspace: String) throws -> AuditReport {
        report(try JSONLines.read(Record.self, from: Workspace.manifest(workspace)))
    }

    public static func report(_ records: [Record]) -> AuditReport {
        let labelled = records.filter { $0.label != nil }
        var classes: [String: Int] = [:]
        var conditions: [String: [String: [String: Int]]] = [:]
        var issues: [String: [String: Int]] = [:]
        var unknown: [String: [String: Int]] = [:]
        for r in labelled {
            let c = r.label!
            classes[c, default: 0] += 1
            if let k = r.conditions {
                for (name, tag) in [("lighting", k.lighting), ("background", k.background), ("occlusion", k.occlusion)] {
                    conditions[c, default: [:]][name, default: [:]][tag.value, default: 0] += 1
                    if tag.value == Condition.unknown { unknown[name, default: [:]][tag.reason ?? "no reason given", default: 0] += 1 }
                }
            }
            for i in r.issues { issues[c, default: [:]][i, default: 0] += 1 }
        }
        let sizes = classes.values
        let imbalance = (sizes.min() ?? 0) > 0 ? Double(sizes.max()!) / Double(sizes.min()!) : (sizes.isEmpty ? 1 : .infinity)
        var associations: [AuditReport.Association] = []
        if labelled.contains(where: { $0.conditions != nil }) {
            for name in ["lighting", "background", "occlusion"] {
                associations.append(association(name, conditions: conditions, classes: classes))
            }
        }
        var report = AuditReport(photos: records.count, unlabelled: records.count - labelled.count, classes: classes,
                                 imbalance: imbalance, conditions: conditions, issues: issues, associations: associations)
        report.unknown = unknown.isEmpty ? nil : unknown
        if !unknown.isEmpty {
            // measured / unknown × label, through the same Cramér's V.
            var measured: [String: [String: [String: Int]]] = [:]
            for (c, byCondition) in conditions {
                for (name, values) in byCondition where unknown[name] != nil {
                    for (v, n) in values { measured[c, default: [:]][name, default: [:]][v == Condition.unknown ? "unknown" : "measured", default: 0] += n }
                }
            }
            report.unknownAssociations = unknown.keys.sorted().map { association($0, conditions: measured, classes: classes, keepUnknown: true) }
        }
        return report
    }

    static func association(_ name: String, conditions: [String: [String: [String: Int]]], classes: [String: Int],
                            keepUnknown: Bool = false) -> AuditReport.Association {
        let labels = classes.keys.sorted()
        // What could not be measured says nothing of the condition: left out of the association.
        let values = Set(conditions.values.flatMap { ($0[name] ?? [:]).keys }).subtracting(keepUnknown ? [] : [Condition.unknown]).sorted()
        let table = labels.map { c in values.map { v in Double(conditions[c]?[name]?[v] ?? 0) } }
        let n = table.flatMap { $0 }.reduce(0, +)
        let rowSums = table.map { $0.reduce(0, +) }
        let colSums = values.indices.map { j in table.reduce(0) { $0 + $1[j] } }
        var chi2 = 0.0
        for i in labels.indices {
            for j in values.indices {
                let expected = rowSums[i] * colSums[j] / max(n, 1)
                if expected > 0 { chi2 += (table[i][j] - expected) * (table[i][j] - expected) / expected }
            }
        }
        let k = Double(min(labels.count, values.count) - 1)
        let v = n > 0 && k > 0 ? (chi2 / (n * k)).squareRoot() : 0
        var findings: [(Double, String)] = []
        for i in labels.indices where rowSums[i] > 0 {
            for j in values.indices where colSums[j] > 0 {
                let share = table[i][j] / rowSums[i], overall = colSums[j] / n
                findings.append((abs(share - overall), String(format: "%@ photos are %.0f%% %@ (all photos: %.0f%%)",
                                                             labels[i], share * 100, values[j], overall * 100)))
            }
        }
        let top = findings.sorted { $0.0 > $1.0 }.prefix(3).map(\.1)
        return AuditReport.Association(condition: name, cramersV: (v * 1000).rounded() / 1000, strong: v >= strongV, findings: Array(top))
    }
}

extension AuditReport {
    /// The report for people.
    public func text() -> String {
        var out: [String] = []
        let names = classes.keys.sorted()
        out.append("\(photos) photos, \(photos - unlabelled) labelled, \(unlabelled) unlabelled")
        out.append("classes: " + names.map { String(format: "%@ %d (%.0f%%)", $0, classes[$0]!, 100 * Double(classes[$0]!) / Double(max(photos - unlabelled, 1))) }
            .joined(separator: ", ") + String(format: "; largest/smallest %.2f", imbalance))
        for condition in ["lighting", "background", "occlusion"] where !conditions.isEmpty {
            let values = Set(conditions.values.flatMap { ($0[condition] ?? [:]).keys }).sorted()
            out.append("\(condition):")
            out.append("  " + "class".padding(toLength: 10, withPad: " ", startingAt: 0) + values.map { $0.padding(toLength: 11, withPad: " ", startingAt: 0) }.joined())
            for c in names {
                out.append("  " + c.padding(toLength: 10, withPad: " ", startingAt: 0)
                           + values.map { String(conditions[c]?[condition]?[$0] ?? 0).padding(toLength: 11, withPad: " ", startingAt: 0) }.joined())
            }
            if let why = unknown?[condition] {
                out.append("  unknown (not measured, left out of the association below): "
                           + why.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: "; "))
                if let a = unknownAssociations?.first(where: { $0.condition == condition }), a.strong {
                    out.append(String(format: "  measured or not × label: Cramér's V %.3f — STRONG: the %@ of one class is measured far less "
                                      + "often than of another (%@), so its findings speak for the photos measured only", a.cramersV, condition,
                                      a.findings.first ?? ""))
                }
            }
        }
        if !issues.isEmpty {
            out.append("quality issues per class:")
            for c in names { out.append("  \(c): " + (issues[c] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")) }
        }
        for a in associations {
            out.append(String(format: "%@ × label: Cramér's V %.3f%@", a.condition, a.cramersV,
                              a.strong ? " — STRONG: a model may learn the \(a.condition) instead of the expression" : ""))
            for f in a.findings { out.append("  \(f)") }
        }
        return out.joined(separator: "\n")
    }
}
