/// The networks facet trains, with what each expects of its input.
public enum Architecture: String, CaseIterable, Sendable, Codable {
    case resnet18, vgg16, vggface

    /// Per-channel mean and standard deviation of the input, on 0…1 pixel values (VGGFace's are
    /// on 0…255: it subtracts its mean from raw RGB and does not divide).
    public var normalization: (mean: [Float], std: [Float], scale: Float) {
        switch self {
        case .resnet18, .vgg16: ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225], 1 / 255)
        case .vggface: ([129.186, 104.762, 93.594], [1, 1, 1], 1)
        }
    }

    /// The input size the published weights were trained at; VGGFace admits no other (no adaptive pooling).
    public var defaultSize: Int { 224 }

    /// The classes of the published weights' head.
    public var publishedClasses: Int { self == .vggface ? 2622 : 1000 }

    /// A fresh network with a `classes`-way head. `width` scales the channels (64 is the published
    /// networks'; ResNet18's first convolution has `width` channels, VGG's every layer `width`/64 of
    /// its own, its hidden layers 4096·`width`/64): narrow copies train fast and make small test files.
    public func make(classes: Int, width: Int = 64, seed: UInt64 = 0) -> Module {
        let config = VGG.vgg16.map { $0 * width / 64 }, hidden = 4096 * width / 64
        return switch self {
        case .resnet18: ResNet18(classes: classes, width: width, seed: seed)
        case .vgg16: VGG(classes: classes, config: config, hidden: hidden, seed: seed)
        case .vggface: VGG(naming: .vggface, classes: classes, config: config, hidden: hidden, seed: seed)
        }
    }

    /// Whether `size` × `size` inputs fit the architecture.
    public func admits(size: Int) -> Bool {
        switch self {
        case .resnet18: size >= 32
        case .vgg16: size >= 32
        case .vggface: size == 224
        }
    }

    /// The network with published weights loaded by name (strictly), then its head replaced
    /// with a fresh `classes`-way one.
    public func pretrained(weights path: String, classes: Int, width: Int = 64, seed: UInt64 = 0) throws -> Module {
        let model = make(classes: publishedClasses, width: width, seed: seed)
        try model.load(try WeightFile.load(path), file: path)
        model.replaceHead(classes: classes, seed: seed)
        return model
    }
}

/// A state dict from a file: safetensors (by its extension) or a PyTorch `.pth`.
public enum WeightFile {
    public static func load(_ path: String) throws -> [String: Tensor] {
        path.hasSuffix(".safetensors") ? try Safetensors.read(path).tensors : try TorchFile.load(path)
    }
}
