import FacetData
import FacetImage
import FacetLearn
import FacetNN
import Foundation

/// `evaluate:` — each trained model's best checkpoint on the test split: the classification
/// report, the confusion matrix, accuracy per condition value (`slices`), the misclassified photos.
struct EvaluateStage: PipelineStage {
    static let kind = StageKind.evaluate
    static let requires: [StageKind] = [.train]
    static let reads: [StageKind] = [.train, .augment]
    static let outputs = ["metrics"]
    /// 2: each test image's class probabilities in the metrics.
    static let version = 2
    var slices: [String]
    /// Slices of fewer test photos are shown greyed in the report, never marked low.
    var minSlice: Int

    init(_ s: Section, _ c: StageContext) {
        slices = s.strings("slices", default: ["lighting", "background", "occlusion"], oneOf: ["lighting", "background", "occlusion"])
        minSlice = s.int("min_slice", default: 10, in: 1...1_000_000)
    }

    func inputs(_ upstream: [StageKind: [String: String]], _ pipeline: Pipeline, keepDump: DumpKeeper) throws -> [String: String]? {
        take(upstream, [(.train, "models"), (.augment, "manifest")])
    }

    /// WORKSPACE/evaluation/{metrics.jsonl, NAME.txt}.
    func materialize(_ outputs: [String: String], previous: [String: String]?, _ pipeline: Pipeline, memo: Memo) throws {
        let dir = pipeline.manifest.workspace + "/evaluation"
        try pipeline.copyIfChanged(outputs["metrics"]!, to: dir + "/metrics.jsonl")
        for m in try pipeline.store.lines(ModelEvaluation.self, outputs["metrics"]!) {
            try pipeline.writeIfChanged(Array((m.text ?? "not run: \(m.reason ?? m.status)\n").utf8), to: dir + "/\(m.name).txt")
        }
    }

    /// The evaluate stage: each trained model's best checkpoint on the test split — the report,
    /// the confusion matrix, accuracy per condition value, the misclassified photos.
    func execute(_ run: StageRun) throws -> StageResult {
        let (store, inputs, events) = (run.store, run.inputs, run.events)
        let models = try store.lines(TrainedModel.self, inputs["train.models"]!)
        let data = try run.pipeline.images(inputs["augment.manifest"]!, memo: run.memo, events: events)
        let test = data.indices("test")
        guard !test.isEmpty else { throw DataError("evaluate: the dataset has no test split") }
        var out: [ModelEvaluation] = []
        for m in models {
            guard m.status == "trained", let ck = m.checkpoint else {
                out.append(ModelEvaluation(name: m.name, status: m.status, reason: m.reason))
                continue
            }
            let (c, model) = try Checkpoint.load(store.path(ck))
            var config = TrainConfig()
            config.architecture = c.architecture
            let (_, _, predictions, probabilities) = Trainer(config, classes: c.classes.count, model: model).evaluateWithProbabilities(data, test)
            let truth = test.map { data.items[$0].label }
            let report = ClassificationReport(truth: truth, predicted: predictions, classes: c.classes)
            var bySlice: [String: [String: ModelEvaluation.Slice]] = [:]
            for condition in slices {
                var groups: [String: (Int, Int)] = [:]
                for (j, i) in test.enumerated() {
                    guard let v = data.items[i].conditions[condition] else { continue }
                    groups[v, default: (0, 0)].0 += 1
                    if truth[j] == predictions[j] { groups[v, default: (0, 0)].1 += 1 }
                }
                bySlice[condition] = groups.mapValues { ModelEvaluation.Slice(n: $0.0, accuracy: Double($0.1) / Double($0.0)) }
            }
            let misses = test.indices.filter { truth[$0] != predictions[$0] }.map {
                ModelEvaluation.Miss(file: data.items[test[$0]].file, truth: c.classes[truth[$0]], predicted: c.classes[predictions[$0]])
            }
            events.line("evaluate: \(m.name): test accuracy \(String(format: "%.4f", report.accuracy)) on \(test.count) photos")
            var e = ModelEvaluation(name: m.name, status: "evaluated", report: report, text: report.text(), slices: bySlice, misclassified: misses,
                                    minSlice: minSlice)
            e.predictions = zip(test, probabilities).map { i, p in
                ModelEvaluation.Prediction(file: data.items[i].file, p: p.map { ($0 * 10_000).rounded() / 10_000 })
            }
            out.append(e)
        }
        return StageResult(outputs: ["metrics": try store.putLines(out)],
                           note: "\(out.filter { $0.status == "evaluated" }.count) models evaluated on \(test.count) test photos")
    }
}

/// One model's evaluation on the test split.
struct ModelEvaluation: Codable, Sendable {
    struct Slice: Codable, Sendable { var n: Int; var accuracy: Double }
    struct Miss: Codable, Sendable { var file: String; var truth: String; var predicted: String }
    var name: String
    var status: String
    var reason: String?
    var report: ClassificationReport?
    var text: String?
    /// condition → value → accuracy on the test photos with that value.
    var slices: [String: [String: Slice]]?
    var misclassified: [Miss]?
    /// Slices of fewer photos are too few to tell (`evaluate: {min_slice: …}`).
    var minSlice: Int? = nil
    /// Each test image's class probabilities, in the classes' order: what the labelling app's
    /// review ranks disputed labels by.
    var predictions: [Prediction]? = nil

    struct Prediction: Codable, Sendable { var file: String; var p: [Double] }

    enum CodingKeys: String, CodingKey {
        case name, status, reason, report, text, slices, misclassified, predictions
        case minSlice = "min_slice"
    }

}
