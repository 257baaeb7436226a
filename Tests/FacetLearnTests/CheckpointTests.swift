import Foundation
import Testing
import FacetImage
@testable import FacetLearn
@testable import FacetNN

@Suite struct CheckpointTests {
    @Test func aCheckpointRoundTripsWithItsMetadata() throws {
        let model = ResNet18(classes: 3, width: 4, seed: 5)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("facet-ckpt-\(UUID()).safetensors").path
        var c = Checkpoint(architecture: .resnet18, classes: ["happy", "normal", "sad"], inputSize: 48)
        c.extra["width"] = "4"
        try c.save(model, to: path)
        let (back, loaded) = try Checkpoint.load(path)
        #expect(back.architecture == .resnet18 && back.classes == ["happy", "normal", "sad"] && back.inputSize == 48)
        #expect(loaded.stateDict() == model.stateDict())
        let x = Preprocess.tensor([Image(width: 48, height: 48, channels: 3, pixels: (0..<48 * 48 * 3).map { UInt8($0 % 251) })],
                                  architecture: .resnet18)
        model.train(false)
        loaded.train(false)
        #expect(model.forward(x) == loaded.forward(x))
    }

    @Test func preprocessingNormalisesPerArchitecture() {
        let image = Image(width: 1, height: 1, channels: 3, pixels: [255, 0, 128])
        let r = Preprocess.tensor([image], architecture: .resnet18).data
        #expect(abs(r[0] - (1 - 0.485) / 0.229) < 1e-5 && abs(r[1] - (0 - 0.456) / 0.224) < 1e-5)
        let f = Preprocess.tensor([image], architecture: .vggface).data
        #expect(abs(f[0] - (255 - 129.186)) < 1e-3 && abs(f[2] - (128 - 93.594)) < 1e-3)
    }
}
