import FacetCore
/// torchvision's VGG16 (`features.0` … `features.28`, `avgpool` to 7×7, `classifier.0/3/6`) and
/// the VGGFace port (`conv1_1` … `conv5_3`, `fc6`, `fc7`, `fc8`: the same network without the
/// adaptive pooling, so its input must be 224×224, and with 2,622 identities for a head).
public final class VGG: Module {
    public enum Naming: Sendable { case torchvision, vggface }
    public let naming: Naming
    /// torchvision: `features` children; VGGFace: named layers in order.
    private var featureLayers: [(String, Module)] = []
    private var classifierLayers: [(String, Module)] = []
    private let avgpool: AdaptiveAvgPool2d?
    private let flatten = Flatten()

    /// Configuration D (VGG16): channels, with 0 for a 2×2 max pool.
    public static let vgg16 = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]

    /// `config` scaled and `hidden` set small give the narrow copies the tests use.
    public init(naming: Naming = .torchvision, classes: Int = 1000, config: [Int] = VGG.vgg16, hidden: Int = 4096,
                pooled: Int = 7, dropout: Float = 0.5, seed: UInt64 = 0) {
        self.naming = naming
        var rng = SplitMix64(seed: seed)
        var inC = 3, block = 1, index = 1, i = 0
        for c in config {
            if c == 0 {
                featureLayers.append((naming == .torchvision ? String(i) : "pool\(block)", MaxPool2d(kernel: 2, stride: 2)))
                block += 1; index = 1; i += 1
                continue
            }
            featureLayers.append((naming == .torchvision ? String(i) : "conv\(block)_\(index)", Conv2d(inC, c, kernel: 3, padding: 1, rng: &rng)))
            featureLayers.append((naming == .torchvision ? String(i + 1) : "relu\(block)_\(index)", ReLU()))
            inC = c; index += 1; i += 2
        }
        avgpool = naming == .torchvision ? AdaptiveAvgPool2d(pooled, pooled) : nil
        let flat = inC * pooled * pooled
        let names = naming == .torchvision ? ["0", "1", "2", "3", "4", "5", "6"] : ["fc6", "relu6", "dropout6", "fc7", "relu7", "dropout7", "fc8"]
        classifierLayers = [
            (names[0], Linear(flat, hidden, rng: &rng)), (names[1], ReLU()), (names[2], Dropout(dropout, seed: seed &+ 1)),
            (names[3], Linear(hidden, hidden, rng: &rng)), (names[4], ReLU()), (names[5], Dropout(dropout, seed: seed &+ 2)),
            (names[6], Linear(hidden, classes, rng: &rng)),
        ]
    }

    override public var children: [(String, Module)] {
        switch naming {
        case .torchvision: [("features", Sequential(featureLayers.map(\.1))), ("classifier", Sequential(classifierLayers.map(\.1)))]
        case .vggface: featureLayers + classifierLayers
        }
    }

    /// The last layer, the one a fine-tune replaces.
    override public var head: Module { classifierLayers.last!.1 }

    override public var firstConvolution: Conv2d? { featureLayers.first?.1 as? Conv2d }

    override public func replaceHead(classes: Int, seed: UInt64 = 1) {
        var rng = SplitMix64(seed: seed)
        classifierLayers[classifierLayers.count - 1].1 = Linear((head as! Linear).weight.value.shape[1], classes, rng: &rng)
    }

    override public func forward(_ x: Tensor) -> Tensor { head.forward(features(x)) }

    override public func features(_ x: Tensor) -> Tensor {
        var h = forwardInOrder(featureLayers.map(\.1), x)
        if let avgpool { h = avgpool.forward(h) }
        return classifierLayers.dropLast().reduce(flatten.forward(h)) { $1.1.forward($0) }
    }

    override public func backward(_ dy: Tensor) -> Tensor {
        var d = flatten.backward(classifierLayers.reversed().reduce(dy) { $1.1.backward($0) })
        if let avgpool { d = avgpool.backward(d) }
        return featureLayers.reversed().reduce(d) { $1.1.backward($0) }
    }
}
