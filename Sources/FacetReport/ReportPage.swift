import FacetLearn
import Foundation

/// A run's report: one self-contained HTML page (figures inline, thumbnails as data URIs),
/// each figure as its own SVG file, and `metrics.json`.
public struct ReportFiles: Sendable {
    public var html: [UInt8]
    public var metrics: [UInt8]
    /// File name (`curves-accuracy.svg`, …) → SVG text, in page order.
    public var figures: [(name: String, svg: String)]
}

public enum Report {
    /// Builds the report. `thumbnails`: JPEG bytes of misclassified test images by their `file`;
    /// a miss without one is listed without a picture.
    public static func build(_ m: RunMetrics, thumbnails: [String: [UInt8]]) throws -> ReportFiles {
        let figures = Figures(m)
        let page = Page(metrics: m, figures: figures, thumbnails: thumbnails)
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return ReportFiles(html: Array(page.html().utf8), metrics: Array(try e.encode(m)) + [0x0A], figures: figures.all)
    }
}

/// The report's charts.
struct Figures {
    var overlay: [(name: String, svg: String)] = []
    /// Each model's curves and confusion matrix, in manifest order.
    var perModel: [(model: String, figures: [(name: String, svg: String)])] = []

    static let metrics: [(name: String, range: ClosedRange<Double>?)] = [("accuracy", 0...1), ("loss", nil)]

    init(_ m: RunMetrics) {
        let trained = m.models.enumerated().filter { !$0.element.epochs.isEmpty }
        func color(_ i: Int) -> String { palette[i % palette.count] }
        if !trained.isEmpty {
            for (metric, range) in Self.metrics {
                let series = trained.flatMap { i, model in Self.curves(model, metric, color: color(i), names: ("\(model.name) train", "\(model.name) val")) }
                overlay.append(("curves-\(metric).svg", LineChart(title: "\(metric.capitalized) per epoch, all models (solid: train, dashed: validation)",
                                                                  xLabel: "epoch", yLabel: metric, series: series, yRange: range, width: 560, height: 340).svg()))
            }
        }
        for (i, model) in m.models.enumerated() {
            var figs: [(name: String, svg: String)] = []
            if !model.epochs.isEmpty {
                for (metric, range) in Self.metrics {
                    figs.append(("\(model.name)-\(metric).svg", LineChart(title: "\(model.name): \(metric)", xLabel: "epoch", yLabel: metric,
                                                                         series: Self.curves(model, metric, color: color(i), names: ("train", "validation")),
                                                                         yRange: range, marker: model.bestEpoch.map { (Double($0), "best (checkpoint)") }).svg()))
                }
            }
            if let r = model.report {
                figs.append(("\(model.name)-confusion.svg", ConfusionChart(title: "\(model.name): confusion matrix (test)", classes: r.classes, counts: r.confusion).svg()))
            }
            perModel.append((model.name, figs))
        }
    }

    /// One model's train (solid) and validation (dashed) curves of `metric` (`accuracy` or `loss`).
    static func curves(_ model: RunMetrics.Model, _ metric: String, color: String, names: (train: String, val: String)) -> [LineChart.Series] {
        let loss = metric == "loss"
        func points(_ f: (EpochLog) -> Double?) -> [(x: Double, y: Double)] { model.epochs.compactMap { l in f(l).map { (Double(l.epoch), $0) } } }
        return [.init(name: names.train, color: color, dashed: false, points: points { loss ? $0.trainLoss : $0.trainAccuracy }),
                .init(name: names.val, color: color, dashed: true, points: points { loss ? $0.valLoss : $0.valAccuracy })]
    }

    var all: [(name: String, svg: String)] { overlay + perModel.flatMap(\.figures) }

    func of(_ model: String) -> [(name: String, svg: String)] { perModel.first { $0.model == model }?.figures ?? [] }
}
