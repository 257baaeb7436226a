import Foundation

/// Classification metrics with scikit-learn's definitions: the confusion matrix (rows are the
/// truth, columns the prediction), per-class precision, recall, F1 and support, accuracy, macro
/// and support-weighted averages; a ratio with a zero denominator is 0 (`zero_division`'s
/// default outcome). `text()` is byte-identical to `classification_report(digits=2)` called
/// with every class as `labels`.
public struct ClassificationReport: Codable, Sendable, Equatable {
    public struct Scores: Codable, Sendable, Equatable {
        public var precision: Double
        public var recall: Double
        public var f1: Double
        public var support: Int

        enum CodingKeys: String, CodingKey { case precision, recall, support, f1 = "f1-score" }
    }
    public var classes: [String]
    /// confusion[truth][prediction]
    public var confusion: [[Int]]
    public var perClass: [Scores]
    public var accuracy: Double
    public var macro: Scores
    public var weighted: Scores

    /// From class indices (each in 0..<classes.count).
    public init(truth: [Int], predicted: [Int], classes: [String]) {
        precondition(truth.count == predicted.count, "truth and predictions differ in length")
        let k = classes.count
        var m = Array(repeating: Array(repeating: 0, count: k), count: k)
        for (t, p) in zip(truth, predicted) { m[t][p] += 1 }
        func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
        let scores = (0..<k).map { c in
            let tp = m[c][c]
            let predictedAs = (0..<k).reduce(0) { $0 + m[$1][c] }, support = m[c].reduce(0, +)
            return Scores(precision: ratio(tp, predictedAs), recall: ratio(tp, support), f1: ratio(2 * tp, predictedAs + support), support: support)
        }
        let total = truth.count
        func mean(_ f: (Scores) -> Double) -> Double { k == 0 ? 0 : scores.map(f).reduce(0, +) / Double(k) }
        func weightedMean(_ f: (Scores) -> Double) -> Double {
            total == 0 ? 0 : scores.map { f($0) * Double($0.support) }.reduce(0, +) / Double(total)
        }
        self.classes = classes
        confusion = m
        perClass = scores
        accuracy = ratio((0..<k).reduce(0) { $0 + m[$1][$1] }, total)
        macro = Scores(precision: mean(\.precision), recall: mean(\.recall), f1: mean(\.f1), support: total)
        weighted = Scores(precision: weightedMean(\.precision), recall: weightedMean(\.recall), f1: weightedMean(\.f1), support: total)
    }

    /// scikit-learn's text report.
    public func text(digits: Int = 2) -> String {
        let width = max(classes.map(\.count).max() ?? 0, "weighted avg".count, digits)
        func pad(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
        func num(_ x: Double) -> String { pad(String(format: "%.\(digits)f", x), 9) }
        func row(_ name: String, _ s: Scores) -> String {
            pad(name, width) + " " + " " + num(s.precision) + " " + num(s.recall) + " " + num(s.f1) + " " + pad(String(s.support), 9) + "\n"
        }
        var out = pad("", width) + " " + ["precision", "recall", "f1-score", "support"].map { " " + pad($0, 9) }.joined() + "\n\n"
        for (name, s) in zip(classes, perClass) { out += row(name, s) }
        out += "\n"
        out += pad("accuracy", width) + " " + " " + pad("", 9) + " " + pad("", 9) + " " + num(accuracy) + " " + pad(String(macro.support), 9) + "\n"
        out += row("macro avg", macro)
        out += row("weighted avg", weighted)
        return out
    }
}
