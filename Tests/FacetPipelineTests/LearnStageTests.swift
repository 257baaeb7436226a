import Foundation
import Testing
@testable import FacetData
import FacetLearn
import FacetNN
@testable import FacetPipeline
import FacetReport

/// Event lines collected from a run.
final class Lines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}

@Suite struct LearnStageTests {
    /// The stages up to augment at `size` px, and train's shared parameters.
    static func upToTrain(size: Int, copies: Int) -> String {
        """
          ingest: {}
          tag: {}
          label: {from: folders}
          split: {test: 0.25, val: 0.25, stable: true}
          augment: {size: \(size), copies: \(copies)}
          train:
            epochs: 2
            lr: 0.01
            batch: 8

        """
    }

    static let stages = upToTrain(size: 32, copies: 1) + """
        width: 4
        missing_weights: skip
        models:
          a: {arch: resnet18}
          b: {arch: resnet18, seed: 5}
          pretrained: {arch: resnet18, weights: weights/none.pth}
          face: {arch: vggface}
      evaluate: {slices: [lighting]}
      report: {thumbnails: 2}
    """

    static func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/nn/" + name).path
    }

    @Test func modelsTrainEvaluateAndComeFromTheirOwnCache() throws {
        let root = try Support.project(count: 18, stages: Self.stages)
        let first = try Support.pipeline(root).run()
        #expect(first.allSatisfy { $0.state == .ran })
        #expect(first.first { $0.stage == .train }!.work == 2)
        for name in ["a", "b"] {
            for file in ["best.safetensors", "last.safetensors", "log.jsonl"] {
                #expect(FileManager.default.fileExists(atPath: root + "/ws/models/\(name)/\(file)"), "\(name)/\(file)")
            }
            let csv = try String(contentsOfFile: root + "/ws/models/\(name)/log.csv", encoding: .utf8).split(separator: "\n")
            #expect(csv.count == 3 && csv[0] == "epoch,train_loss,train_accuracy,val_loss,val_accuracy,seconds" && csv[2].hasPrefix("2,"))
        }
        let report = try String(contentsOfFile: root + "/ws/evaluation/a.txt", encoding: .utf8)
        #expect(report.contains("precision    recall  f1-score   support") && report.contains("weighted avg"))
        #expect(try String(contentsOfFile: root + "/ws/evaluation/pretrained.txt", encoding: .utf8).contains("not run: weights file"))
        #expect(try String(contentsOfFile: root + "/ws/evaluation/face.txt", encoding: .utf8)
            .contains("not run: vggface does not take the dataset's 32 px images (VGGFace needs augment size 224)"))
        let metrics = try String(contentsOfFile: root + "/ws/evaluation/metrics.jsonl", encoding: .utf8)
        #expect(metrics.contains("\"slices\"") && metrics.contains("\"lighting\""))
        // The report: the newest run's folder behind WORKSPACE/report, with the page, its figures and metrics.json.
        let run = try FileManager.default.destinationOfSymbolicLink(atPath: root + "/ws/report")
        #expect(run.hasPrefix("reports/") && run.count == "reports/".count + 12)
        let html = try String(contentsOfFile: root + "/ws/report/index.html", encoding: .utf8)
        #expect(html.contains("not run: weights file weights/none.pth not found") && html.contains("<section id=\"model-a\">"))
        let run1 = try JSONDecoder().decode(RunMetrics.self, from: Data(contentsOf: URL(fileURLWithPath: root + "/ws/report/metrics.json")))
        #expect(run1.models.map(\.name) == ["a", "b", "pretrained", "face"] && run1.models.map(\.status) == ["evaluated", "evaluated", "not_run", "not_run"])
        #expect(run1.models[0].epochs.count == 2 && run1.dataset.imageSize == 32)
        #expect(run1.dataset.photos.values.flatMap(\.values).reduce(0, +) == run1.dataset.accepted)
        let figures = try FileManager.default.contentsOfDirectory(atPath: root + "/ws/report/figures").sorted()
        #expect(figures == ["a-accuracy.svg", "a-confusion.svg", "a-loss.svg", "b-accuracy.svg", "b-confusion.svg", "b-loss.svg",
                            "curves-accuracy.svg", "curves-loss.svg"])
        // At most two thumbnails chosen per model (a photo both missed is drawn in both sections).
        let (ma, mb) = (run1.models[0].misclassified!.count, run1.models[1].misclassified!.count)
        let pictures = html.components(separatedBy: "data:image/jpeg;base64,").count - 1
        #expect(pictures >= min(ma, 2) + min(mb, 2) && pictures <= ma + mb, "\(pictures) pictures, \(ma) + \(mb) misses")

        #expect(try Support.pipeline(root).run().allSatisfy { $0.state == .fresh })
        // From nothing again: the same lock to the byte (no times, no absolute paths in the outputs).
        let lock = try String(contentsOfFile: root + "/Manifests/t.lock", encoding: .utf8)
        try FileManager.default.removeItem(atPath: root + "/ws")
        _ = try Support.pipeline(root).run()
        #expect(try String(contentsOfFile: root + "/Manifests/t.lock", encoding: .utf8) == lock)
        // One model's parameter: that model trains again, the other comes from the cache.
        let changed = try Support.pipeline(root, ["train.models.b.lr=0.02"])
        #expect(try changed.status().first { $0.stage == "train" }!.reasons == ["parameter models.b.lr changed 0.01 → 0.02"])
        let again = try changed.run()
        #expect(again.first { $0.stage == .train }!.work == 1)
        // A second run is kept beside the first, and the two compare.
        let runs = try FileManager.default.contentsOfDirectory(atPath: root + "/ws/reports")
        #expect(runs.count == 2)
        let run2 = try JSONDecoder().decode(RunMetrics.self, from: Data(contentsOf: URL(fileURLWithPath: root + "/ws/report/metrics.json")))
        let diff = RunComparison(run1, run2)
        #expect(diff.rows.contains { $0.model == "b" && $0.metric == "test accuracy" })
        #expect(!diff.rows.contains { $0.model == "a" && $0.a != $0.b }, "model a came from the cache: nothing of it changed")
    }

    /// The study's two pretrained paths end to end on weight files with the real key layouts
    /// (narrow, random: tools/make_pretrained_fixtures.py): torchvision's ResNet18 file (zip
    /// format) fine-tuned whole, the VGG-Face port's (legacy format) with its head only.
    @Test func pretrainedAndVGGFaceWeightsLoadFinetuneAndEvaluate() throws {
        let stages = Self.upToTrain(size: 224, copies: 0) + """
            models:
              imagenet: {arch: resnet18, weights: \(Self.fixture("resnet18_imagenet_w4.pth")), width: 4}
              face: {arch: vggface, weights: \(Self.fixture("vggface_w2_legacy.pth")), width: 2, finetune: head}
          evaluate: {}
          report: {}
        """
        let root = try Support.project(count: 12, stages: stages)
        _ = try Support.pipeline(root).run()
        let m = try JSONDecoder().decode(RunMetrics.self, from: Data(contentsOf: URL(fileURLWithPath: root + "/ws/report/metrics.json")))
        #expect(m.models.map(\.status) == ["evaluated", "evaluated"])
        #expect(m.models.allSatisfy { $0.epochs.count == 2 && $0.report!.confusion.joined().reduce(0, +) == m.dataset.photos["test"]!.values.reduce(0, +) })
        #expect(m.models[1].finetune == "head")
        // The face model's backbone is the file's, untouched; its 2,622-identity head became a 3-class one.
        let published = try WeightFile.load(Self.fixture("vggface_w2_legacy.pth"))
        let (c, face) = try Checkpoint.load(root + "/ws/models/face/best.safetensors")
        let tuned = face.stateDict()
        #expect(c.architecture == .vggface && c.classes == ["happy", "normal", "sad"])
        for (name, value) in published where !name.hasPrefix("fc8") { #expect(tuned[name] == value, "\(name)") }
        #expect(tuned["fc8.weight"]!.shape == [3, 128] && published["fc8.weight"]!.shape == [2622, 128])
        // The ResNet18 was fine-tuned whole: its first convolution moved away from the file's.
        let (_, imagenet) = try Checkpoint.load(root + "/ws/models/imagenet/last.safetensors")
        #expect(imagenet.stateDict()["conv1.weight"] != (try WeightFile.load(Self.fixture("resnet18_imagenet_w4.pth")))["conv1.weight"])
        // Another head on the same backbone and data: the backbone's features come from the cache.
        let lines = Lines()
        let again = try Support.pipeline(root, ["train.models.face.lr=0.02"]).run(events: RunEvents(line: { lines.add($0) }))
        #expect(again.first { $0.stage == .train }!.work == 1)
        #expect(lines.all.contains("train: face: backbone features from the cache"), "\(lines.all)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/ws/cache/features").count == 1)
    }

    @Test func aMissingWeightsFileIsAnErrorUnlessSkipped() throws {
        let root = try Support.project(count: 8, stages: Self.stages.replacingOccurrences(of: "missing_weights: skip", with: "missing_weights: error"))
        #expect { try Support.pipeline(root).run() } throws: { e in
            "\(e)".contains("train: pretrained: weights file") && "\(e)".contains("none.pth not found") && "\(e)".contains("resnet18-f37072fd.pth")
        }
    }
}
