import Foundation
import Testing

/// `facet infer` through the binary, against PyTorch's evaluation-mode logits for the same
/// checkpoint and image (tools/make_model_fixtures.py).
@Suite struct InferCommandTests {
    typealias C = CommandTests

    /// The float32 tensor named `name` in a one-tensor safetensors file (read by hand: this target links no FacetNN).
    static func floats(_ path: String) throws -> [Float] {
        let bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let values = Array(bytes[(8 + n)...])
        return stride(from: 0, to: values.count, by: 4).map { i in
            Float(bitPattern: UInt32(values[i]) | UInt32(values[i + 1]) << 8 | UInt32(values[i + 2]) << 16 | UInt32(values[i + 3]) << 24)
        }
    }

    @Test func aCheckpointClassifiesLikePyTorch() throws {
        let image = C.fixture("nn/face64.png")
        let run = try C.facet(["infer", "--checkpoint", C.fixture("nn/resnet18_w4_checkpoint.safetensors"), image, image, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        let expected = try Self.floats(C.fixture("nn/face64_logits.safetensors"))
        for line in lines {
            let object = try C.json(line)
            let logits = (object["logits"] as! [Double]).map { Float($0) }
            let scale = expected.map(abs).max()!
            let diff = zip(logits, expected).map { abs($0 - $1) }.max()!
            #expect(diff / scale < 1e-4, "\(logits) vs \(expected)")
            #expect(object["label"] as? String == ["happy", "normal", "sad"][expected.indices.max { expected[$0] < expected[$1] }!])
            let probs = object["probs"] as! [Double]
            #expect(abs(probs.reduce(0, +) - 1) < 1e-5)
            #expect(object["path"] as? String == image)
        }
    }

    @Test func unreadableImagesAndWrongWeightsAreReported() throws {
        let bad = try C.facet(["infer", "--checkpoint", C.fixture("nn/resnet18_w4_checkpoint.safetensors"), C.fixture("nn/face64.png"),
                               C.fixture("jpeg-crashtest/empty.jpg"), "--json"])
        #expect(bad.status == 1)
        let lines = bad.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        let second = try C.json(lines[1])
        #expect(second["error"] is String && second["logits"] == nil)
        let wrong = try C.facet(["infer", "--arch", "vgg16", "--weights", C.fixture("nn/resnet18_w4.pth"), C.fixture("nn/face64.png")])
        #expect(wrong.status == 2 && wrong.stderr.contains("no classifier.6.weight, so not vgg16 weights"), "\(wrong.stderr)")
        let hostile = try C.facet(["infer", "--arch", "resnet18", "--weights", C.fixture("nn/malicious.pth"), C.fixture("nn/face64.png")])
        #expect(hostile.status == 2 && hostile.stderr.contains("refuses the global"), "\(hostile.stderr)")
        let usage = try C.facet(["infer", C.fixture("nn/face64.png")])
        #expect(usage.status != 0 && usage.stderr.contains("--checkpoint"))
    }
}
