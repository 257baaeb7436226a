import FacetCore
import FacetImage
import FacetNN
import Foundation

/// A small network that tells a partly covered face from a clear one, trained on hand-tagged
/// photos by `facet tag --calibrate` and saved as safetensors.
///
/// Input: the face crop made at ingest (32×32 RGB, face upright and centred), as three
/// channels that the light's strength and colour do not move: log luminance minus the log of
/// its median over the crop's centre, and the r and g chromaticities minus their medians there
/// (× 10). Network: three blocks of 3×3 convolution (16, 32, 32 channels), batch norm, ReLU and
/// 2×2 max pooling, then global average pooling and a 2-way linear layer. Training: Adam
/// (lr 2e-3, weight decay 1e-4) with a cosine schedule, batch 32, each crop mirrored with
/// probability ½ (a hand on the left is a hand on the right); seeded, so a sheet gives the same
/// weights every time.
public final class OcclusionTagger {
    public static let kind = "facet-occlusion-tagger"
    public static let version = "1"
    public let model: Module

    public init(seed: UInt64 = 0) {
        var rng = SplitMix64(seed: seed)
        func block(_ c: Int, _ k: Int) -> [Module] {
            [Conv2d(c, k, kernel: 3, padding: 1, bias: false, rng: &rng), BatchNorm2d(k, relu: true), MaxPool2d(kernel: 2, stride: 2)]
        }
        let layers = block(3, 16) + block(16, 32) + block(32, 32) + [AdaptiveAvgPool2d(1, 1), Flatten(), Linear(32, 2, rng: &rng)]
        (layers[0] as! Conv2d).needsInputGradient = false
        model = Sequential(layers)
    }

    /// Training settings; the defaults are what `facet tag --calibrate` uses.
    public struct Settings: Sendable {
        public var epochs = 40
        public var batch = 32
        public var lr = 2e-3
        public var weightDecay = 1e-4
        public var seed: UInt64 = 0
        public init() {}
    }

    /// A tagger trained on `crops` (each `FaceCrop.side`² RGB) and whether each is partly covered.
    /// `progress` sees (epoch, epochs) after each epoch.
    public static func train(_ crops: [Data], partial: [Bool], settings s: Settings = Settings(),
                             progress: ((Int, Int) -> Void)? = nil) throws -> OcclusionTagger {
        guard crops.count == partial.count, crops.count >= 2 else { throw WeightError("occlusion tagger: too few hand-tagged faces to train on") }
        guard Set(partial).count == 2 else { throw WeightError("occlusion tagger: the hand-tagged faces must include both none and partial") }
        let tagger = OcclusionTagger(seed: s.seed)
        let inputs = crops.map(channels)
        let optimizer = Adam(tagger.model, lr: Float(s.lr), weightDecay: Float(s.weightDecay))
        tagger.model.train(true)
        for epoch in 0..<s.epochs {
            // PyTorch's CosineAnnealingLR stepped once per epoch.
            optimizer.lr = Float(s.lr * 0.5 * (1 + cos(Double.pi * Double(epoch) / Double(s.epochs))))
            var rng = SplitMix64(seed: s.seed &+ 0x9E37_79B9 &* UInt64(epoch + 1))
            var order = Array(crops.indices)
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            for b in stride(from: 0, to: order.count, by: s.batch) {
                let chunk = order[b..<min(b + s.batch, order.count)]
                let x = batch(chunk.map { rng.next() & 1 == 1 ? mirrored(inputs[$0]) : inputs[$0] })
                let y = chunk.map { Int32(partial[$0] ? 1 : 0) }
                tagger.model.zeroGrad()
                let logits = tagger.model.forward(x)
                var probs = [Float](repeating: 0, count: logits.count), d = Tensor(zeros: logits.shape)
                _ = crossEntropyForward(&probs, logits.data, y, B: y.count, K: 2)
                crossEntropyBackward(&d.data, probs, y, B: y.count, K: 2)
                _ = tagger.model.backward(d)
                optimizer.step()
            }
            progress?(epoch + 1, s.epochs)
        }
        tagger.model.train(false)
        return tagger
    }

    /// P(partly covered) for each crop.
    public func scores(_ crops: [Data]) -> [Double] {
        model.train(false)
        model.requiresGrad(false)
        defer { model.requiresGrad(true) }
        var out: [Double] = []
        for b in stride(from: 0, to: crops.count, by: 64) {
            let logits = model.forward(Self.batch(crops[b..<min(b + 64, crops.count)].map(Self.channels)))
            for i in 0..<logits.shape[0] {
                let (a, c) = (Double(logits.data[2 * i]), Double(logits.data[2 * i + 1]))
                out.append(1 / (1 + exp(a - c)))
            }
        }
        return out
    }

    public func save(_ path: String) throws {
        try Safetensors.write(model.stateDict(), metadata: ["format": Self.kind, "version": Self.version, "input": "\(Self.side)x\(Self.side) face crop"],
                              to: path)
    }

    /// This tagger as FacetData's tagging trains and loads it: what `facet tag --calibrate` and the
    /// tag stage use.
    public static let learner = OcclusionLearner(
        train: { crops, partial, progress in model(try train(crops, partial: partial, progress: progress)) },
        load: { model(try load($0)) })

    static func model(_ tagger: OcclusionTagger) -> OcclusionModel { OcclusionModel(scores: tagger.scores, save: tagger.save) }

    public static func load(_ path: String) throws -> OcclusionTagger {
        let file = try Safetensors.read(path)
        guard file.metadata["format"] == kind else { throw WeightError("\(path): not an occlusion tagger (no \"format\": \"\(kind)\" in its metadata)") }
        guard file.metadata["version"] == version else {
            throw WeightError("\(path): occlusion tagger version \(file.metadata["version"] ?? "?"), this facet reads \(version): calibrate again")
        }
        let tagger = OcclusionTagger()
        try tagger.model.load(file.tensors, file: path)
        tagger.model.train(false)
        return tagger
    }

    static let side = 32

    /// The three input channels of one crop, (3, side, side).
    static func channels(_ crop: Data) -> [Float] {
        let n = side * side
        precondition(crop.count == 3 * n, "occlusion tagger: a face crop of \(crop.count) bytes, not \(3 * n)")
        let (luma, rn, gn) = Image(width: side, height: side, channels: 3, pixels: [UInt8](crop)).lumaAndChromaticity()
        let lum = luma.map { log(max($0, 1)) }
        // Medians over the central quarter of the crop's width and height.
        let lo = side * 3 / 8, hi = side * 5 / 8
        func median(_ v: [Double]) -> Double {
            var centre: [Double] = []
            for y in lo..<hi { for x in lo..<hi { centre.append(v[y * side + x]) } }
            centre.sort()
            return centre[centre.count / 2]
        }
        let (l0, r0, g0) = (median(lum), median(rn), median(gn))
        return lum.map { Float($0 - l0) } + rn.map { Float(($0 - r0) * 10) } + gn.map { Float(($0 - g0) * 10) }
    }

    /// The channels mirrored left to right.
    static func mirrored(_ x: [Float]) -> [Float] {
        var out = x
        for row in 0..<(x.count / side) { for j in 0..<side { out[row * side + j] = x[row * side + side - 1 - j] } }
        return out
    }

    static func batch(_ items: [[Float]]) -> Tensor {
        Tensor(shape: [items.count, 3, side, side], data: items.flatMap { $0 })
    }
}
