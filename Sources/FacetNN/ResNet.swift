import FacetCore
/// torchvision's `BasicBlock`: conv3×3 → bn → relu → conv3×3 → bn, plus the identity (or a
/// 1×1 conv + bn `downsample` when the shape changes), then relu.
public final class BasicBlock: Module {
    public let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d
    public let downsample: Sequential?
    private var output = Tensor(zeros: [0])      // after the last ReLU, saved for its backward

    public init(_ inChannels: Int, _ channels: Int, stride: Int, rng: inout SplitMix64) {
        conv1 = Conv2d(inChannels, channels, kernel: 3, stride: stride, padding: 1, bias: false, rng: &rng)
        bn1 = BatchNorm2d(channels, relu: true)
        conv2 = Conv2d(channels, channels, kernel: 3, stride: 1, padding: 1, bias: false, rng: &rng)
        bn2 = BatchNorm2d(channels)
        downsample = stride != 1 || inChannels != channels
            ? Sequential([Conv2d(inChannels, channels, kernel: 1, stride: stride, bias: false, rng: &rng), BatchNorm2d(channels)]) : nil
    }

    override public var children: [(String, Module)] {
        [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)] + (downsample.map { [("downsample", $0)] } ?? [])
    }

    override public func forward(_ x: Tensor) -> Tensor {
        let main = bn2.forward(conv2.forward(bn1.forward(conv1.forward(x))))
        let identity = downsample?.forward(x) ?? x
        var y = Tensor(uninitialized: main.shape)
        addReluForward(&y.data, main.data, identity.data, y.count)
        output = keepsActivations ? y : Tensor(zeros: [0])
        return y
    }

    override public func backward(_ dy: Tensor) -> Tensor {
        var d = Tensor(uninitialized: dy.shape)
        reluBackward(&d.data, dy.data, output.data, dy.count)
        let dmain = conv1.backward(bn1.backward(conv2.backward(bn2.backward(d))))
        let didentity = downsample?.backward(d) ?? d
        var dx = Tensor(uninitialized: dmain.shape)
        addForward(&dx.data, dmain.data, didentity.data, dx.count)   // the add's backward sends d to both branches
        return dx
    }
}

/// torchvision's ResNet18 with its state-dict names (`conv1`, `bn1`, `layer1.0.conv1`, …, `fc`).
/// `width` scales every channel count (64 is torchvision's; tests use narrower copies).
public final class ResNet18: Module {
    public let conv1: Conv2d, bn1: BatchNorm2d, maxpool: MaxPool2d
    public let layer1: Sequential, layer2: Sequential, layer3: Sequential, layer4: Sequential
    public let avgpool = AdaptiveAvgPool2d(1, 1)
    public private(set) var fc: Linear
    private let flatten = Flatten()

    public init(classes: Int = 1000, width: Int = 64, seed: UInt64 = 0) {
        var rng = SplitMix64(seed: seed)
        conv1 = Conv2d(3, width, kernel: 7, stride: 2, padding: 3, bias: false, rng: &rng)
        bn1 = BatchNorm2d(width, relu: true)
        maxpool = MaxPool2d(kernel: 3, stride: 2, padding: 1)
        func stage(_ inC: Int, _ c: Int, _ stride: Int) -> Sequential {
            Sequential([BasicBlock(inC, c, stride: stride, rng: &rng), BasicBlock(c, c, stride: 1, rng: &rng)])
        }
        layer1 = stage(width, width, 1)
        layer2 = stage(width, 2 * width, 2)
        layer3 = stage(2 * width, 4 * width, 2)
        layer4 = stage(4 * width, 8 * width, 2)
        fc = Linear(8 * width, classes, rng: &rng)
    }

    override public var children: [(String, Module)] {
        [("conv1", conv1), ("bn1", bn1), ("layer1", layer1), ("layer2", layer2), ("layer3", layer3), ("layer4", layer4), ("fc", fc)]
    }

    override public var head: Module { fc }
    override public var firstConvolution: Conv2d? { conv1 }

    /// Replaces the head with a fresh `classes`-way layer.
    override public func replaceHead(classes: Int, seed: UInt64 = 1) {
        var rng = SplitMix64(seed: seed)
        fc = Linear(fc.weight.value.shape[1], classes, rng: &rng)
    }

    override public func forward(_ x: Tensor) -> Tensor { fc.forward(features(x)) }

    override public func features(_ x: Tensor) -> Tensor {
        let stem = maxpool.forward(bn1.forward(conv1.forward(x)))
        return flatten.forward(avgpool.forward([layer1, layer2, layer3, layer4].reduce(stem) { $1.forward($0) }))
    }

    override public func backward(_ dy: Tensor) -> Tensor {
        let d = avgpool.backward(flatten.backward(fc.backward(dy)))
        let dstem = [layer1, layer2, layer3, layer4].reversed().reduce(d) { $1.backward($0) }
        return conv1.backward(bn1.backward(maxpool.backward(dstem)))
    }
}
