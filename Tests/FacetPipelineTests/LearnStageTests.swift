import Foundation
import Testing
@testable import FacetData
@testable import FacetPipeline

@Suite struct LearnStageTests {
    static let stages = """
      ingest: {}
      tag: {}
      label: {from: folders}
      split: {test: 0.25, val: 0.25, stable: true}
      augment: {size: 32, copies: 1}
      train:
        epochs: 2
        lr: 0.01
        batch: 8
        width: 4
        missing_weights: skip
        models:
          a: {arch: resnet18}
          b: {arch: resnet18, seed: 5}
          pretrained: {arch: resnet18, weights: weights/none.pth}
          face: {arch: vggface}
      evaluate: {slices: [lighting]}
    """

    @Test func modelsTrainEvaluateAndComeFromTheirOwnCache() throws {
        let root = try Support.project(count: 18, stages: Self.stages)
        let first = try Support.pipeline(root).run()
        #expect(first.allSatisfy { $0.state == .ran })
        #expect(first.first { $0.stage == .train }!.work == 2)
        for name in ["a", "b"] { #expect(FileManager.default.fileExists(atPath: root + "/ws/models/\(name)/best.safetensors")) }
        let report = try String(contentsOfFile: root + "/ws/evaluation/a.txt", encoding: .utf8)
        #expect(report.contains("precision    recall  f1-score   support") && report.contains("weighted avg"))
        #expect(try String(contentsOfFile: root + "/ws/evaluation/pretrained.txt", encoding: .utf8).contains("not run: weights file"))
        #expect(try String(contentsOfFile: root + "/ws/evaluation/face.txt", encoding: .utf8)
            .contains("not run: vggface does not take the dataset's 32 px images (VGGFace needs augment size 224)"))
        let metrics = try String(contentsOfFile: root + "/ws/evaluation/metrics.jsonl", encoding: .utf8)
        #expect(metrics.contains("\"slices\"") && metrics.contains("\"lighting\""))

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
    }

    @Test func aMissingWeightsFileIsAnErrorUnlessSkipped() throws {
        let root = try Support.project(count: 8, stages: Self.stages.replacingOccurrences(of: "missing_weights: skip", with: "missing_weights: error"))
        #expect { try Support.pipeline(root).run() } throws: { e in
            "\(e)".contains("train: pretrained: weights file") && "\(e)".contains("none.pth not found") && "\(e)".contains("resnet18-f37072fd.pth")
        }
    }
}
