import FacetCore
import Foundation
import Testing
import FacetImage
@testable import FacetLearn
@testable import FacetNN

/// Training on a tiny dataset that a network can learn: three classes told apart by where a bright
/// square sits, on noise.
@Suite struct TrainerTests {
    static func dataset(perClass: Int = 12, size: Int = 32) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("facet-train-\(UUID())").path
        var rng = SplitMix64(seed: 3)
        var lines: [String] = []
        for c in 0..<3 {
            for i in 0..<perClass {
                let split = i < perClass - 4 ? "train" : (i < perClass - 2 ? "val" : "test")
                var pixels = (0..<size * size * 3).map { _ in UInt8(rng.next() % 90) }
                let x0 = c * size / 3 + 1, y0 = Int(rng.next() % UInt64(size / 2))
                for y in y0..<y0 + size / 3 { for x in x0..<x0 + size / 4 { for ch in 0..<3 { pixels[(y * size + x) * 3 + ch] = 240 } } }
                let file = "\(split)/\(["happy", "normal", "sad"][c])/\(i).png"
                try FileManager.default.createDirectory(atPath: root + "/" + (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                let png = try ImageEncoder.png(Image(width: size, height: size, channels: 3, pixels: pixels))
                FileManager.default.createFile(atPath: root + "/" + file, contents: Data(png))
                lines.append(#"{"file":"\#(file)","split":"\#(split)","label":"\#(["happy", "normal", "sad"][c])","lighting":"bright"}"#)
            }
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: root + "/manifest.jsonl", atomically: true, encoding: .utf8)
        return root
    }

    /// The test dataset's images, its manifest's lines read here (the pipeline reads them through FacetData's codec).
    static func load(_ root: String, classes: [String]) throws -> ImageDataset {
        let path = root + "/manifest.jsonl"
        let entries = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: String]
            return ImageDataset.Entry(file: o["file"]!, label: o["label"]!, split: o["split"]!, conditions: o.filter { $0.key == "lighting" })
        }
        return try ImageDataset.load(root, entries: entries, classes: classes, manifest: path)
    }

    static func config() -> TrainConfig {
        var c = TrainConfig()
        c.width = 4
        c.epochs = 6
        c.lr = 1e-2
        c.batch = 8
        c.seed = 11
        return c
    }

    @Test func itLearnsAndIsReproducible() throws {
        let data = try Self.load(try Self.dataset(), classes: ["happy", "normal", "sad"])
        #expect(data.indices("train").count == 24 && data.indices("val").count == 6 && data.size == 32)
        let a = try Trainer(Self.config(), classes: 3).fit(data)
        let b = try Trainer(Self.config(), classes: 3).fit(data)
        #expect(a.count == 6)
        #expect(a.last!.trainLoss < a.first!.trainLoss * 0.7, "\(a.map(\.trainLoss))")
        #expect(a.last!.trainAccuracy > 0.6, "\(a.map(\.trainAccuracy))")
        // Same seed, same thread count: the same curves to the last bit.
        #expect(a.map(\.trainLoss) == b.map(\.trainLoss) && a.map(\.valLoss) == b.map(\.valLoss))
        var other = Self.config()
        other.seed = 12
        #expect(try Trainer(other, classes: 3).fit(data).map(\.trainLoss) != a.map(\.trainLoss))
    }

    @Test func headFinetuningTrainsOnlyTheHeadOnCachedFeatures() throws {
        let data = try Self.load(try Self.dataset(perClass: 6), classes: ["happy", "normal", "sad"])
        var c = Self.config()
        c.finetune = .head
        c.epochs = 3
        let t = Trainer(c, classes: 3)
        let before = t.model.stateDict()
        let logs = try t.fit(data)
        let after = t.model.stateDict()
        // The backbone ran in evaluation mode: its weights and its running statistics are untouched.
        for (name, value) in after {
            #expect((value == before[name]!) == !name.hasPrefix("fc."), "\(name)")
        }
        #expect(logs.last!.trainLoss < logs.first!.trainLoss, "\(logs.map(\.trainLoss))")
        // The validation figures from cached features are those of the whole network run on the images.
        let (loss, accuracy, _) = t.evaluate(data, data.indices("val"))
        #expect(abs(loss - logs.last!.valLoss!) < 1e-5 && accuracy == logs.last!.valAccuracy!)
    }

    @Test func cachedFeaturesRoundTripAndTrainTheSame() throws {
        let data = try Self.load(try Self.dataset(perClass: 6), classes: ["happy", "normal", "sad"])
        var c = Self.config()
        c.finetune = .head
        let items = data.indices("train") + data.indices("val")
        let computed = Trainer(c, classes: 3).features(data, items)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("facet-features-\(UUID()).safetensors").path
        try computed.save(to: path)
        let loaded = try Trainer.FeatureCache.load(path)
        #expect(loaded.rows == computed.rows && loaded.values == computed.values && loaded.width == computed.width)
        func timeless(_ logs: [EpochLog]) -> [EpochLog] { logs.map { var l = $0; l.seconds = nil; return l } }
        let a = try Trainer(c, classes: 3).fit(data)
        let b = try Trainer(c, classes: 3).fit(data, features: loaded)
        #expect(timeless(a) == timeless(b))
        // Features of other items are refused, not silently misused.
        var partial = loaded
        partial.rows[items[0]] = nil
        #expect(throws: WeightError.self) { try Trainer(c, classes: 3).fit(data, features: partial) }
    }

    @Test func cosineScheduleIsPyTorchsCosineAnnealingLR() {
        var c = TrainConfig()
        (c.lr, c.epochs, c.schedule) = (0.1, 4, "cosine")
        // torch.optim.lr_scheduler.CosineAnnealingLR(Adam(lr=0.1), T_max=4), stepped per epoch (torch 2.13).
        let torch = [0.1, 0.08535533905932738, 0.05, 0.014644660940672627]
        for (e, want) in torch.enumerated() { #expect(abs(c.learningRate(epoch: e + 1) - want) < 1e-15) }
        c.schedule = "constant"
        #expect((1...4).allSatisfy { c.learningRate(epoch: $0) == 0.1 })
    }

    @Test func featuresAreTheHeadsInput() {
        let x = Tensor(shape: [2, 3, 32, 32], data: (0..<(2 * 3 * 32 * 32)).map { Float(($0 * 7919) % 255) / 255 })
        let models: [Module] = [ResNet18(classes: 3, width: 4, seed: 1), VGG(naming: .vggface, classes: 3, config: [4, 0, 8, 0, 8, 0, 8, 0, 8, 0], hidden: 16, pooled: 1, seed: 1)]
        for m in models {
            m.train(false)
            #expect(m.head.forward(m.features(x)) == m.forward(x))
        }
    }

    @Test func aManifestNamingAnUnknownClassOrAMissingImageIsAnError() throws {
        let root = try Self.dataset(perClass: 5)
        #expect { try Self.load(root, classes: ["happy", "sad"]) } throws: { "\($0)".contains("label normal is not one of happy, sad") }
        try FileManager.default.removeItem(atPath: root + "/train/sad/0.png")
        #expect { try Self.load(root, classes: ["happy", "normal", "sad"]) } throws: { "\($0)".contains("0.png") }
    }
}
