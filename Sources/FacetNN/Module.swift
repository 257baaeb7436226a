/// A learnable tensor or a buffer (running statistics), with its gradient.
public final class Param {
    public var value: Tensor
    /// Same shape as `value`; accumulated by backward passes, cleared by `zeroGrad`.
    public var grad: Tensor
    /// Frozen parameters get no gradient and are left alone by optimisers.
    public var frozen = false
    /// A buffer (running mean, running variance, batches tracked): saved and loaded, never trained.
    public let isBuffer: Bool

    public init(_ value: Tensor, buffer: Bool = false) {
        self.value = value
        grad = Tensor(zeros: [0])
        isBuffer = buffer
    }

    /// Whether a backward pass has given this parameter a gradient (since the last `zeroGrad`, zeros until then).
    public var hasGrad: Bool { grad.count == value.count && !isBuffer }

    /// The gradient, allocated (zeros) on first use.
    func ensureGrad() {
        if grad.count != value.count { grad = Tensor(zeros: value.shape) }
    }

    public var trainable: Bool { !isBuffer && !frozen }
}

/// A layer or a composition of layers. Forward saves what backward needs; backward takes the
/// gradient of the output, accumulates parameter gradients (+=) and returns the gradient of
/// the input. Names follow PyTorch's module attribute names so state dicts load by name.
open class Module {
    public private(set) var training = true
    /// False in inference: layers keep nothing for a backward pass (PyTorch's `no_grad`), so
    /// activations are freed as the forward pass goes.
    public private(set) var keepsActivations = true

    public init() { Heap.configure }

    /// Child modules by attribute name (`layer1`, `0`, `downsample`), in PyTorch's order.
    open var children: [(String, Module)] { [] }
    /// This module's own parameters and buffers by name (`weight`, `running_mean`).
    open var ownParams: [(String, Param)] { [] }

    open func forward(_ x: Tensor) -> Tensor { fatalError("\(type(of: self)) has no forward") }
    open func backward(_ dy: Tensor) -> Tensor { fatalError("\(type(of: self)) has no backward") }

    /// Every parameter and buffer by dotted name: `layer1.0.bn1.running_mean`.
    public func namedParams(_ prefix: String = "") -> [(String, Param)] {
        ownParams.map { (prefix + $0.0, $0.1) } + children.flatMap { $0.1.namedParams(prefix + $0.0 + ".") }
    }

    /// The classification head (ResNet's `fc`, VGG's last layer).
    open var head: Module { preconditionFailure("\(type(of: self)) has no classification head") }

    /// The convolution that reads the input image. A training step sets its `needsInputGradient`
    /// to false: nothing reads the image's gradient (PyTorch computes none for an input without
    /// `requires_grad`), and it is the costliest product and fold of a ResNet18 backward pass.
    open var firstConvolution: Conv2d? { nil }

    /// The input of the head: `forward` without its last layer (what a frozen backbone gives).
    open func features(_ x: Tensor) -> Tensor { preconditionFailure("\(type(of: self)) has no classification head") }

    /// Replaces the classification head (ResNet's `fc`, VGG's last layer) with a fresh `classes`-way one.
    open func replaceHead(classes: Int, seed: UInt64 = 1) {
        preconditionFailure("\(type(of: self)) has no classification head")
    }

    /// Training (batch statistics, dropout) or evaluation (running statistics, no dropout), recursively.
    public func train(_ on: Bool = true) {
        training = on
        for (_, c) in children { c.train(on) }
    }

    /// Zeros every gradient in place (a gradient never computed stays unallocated).
    public func zeroGrad() {
        for (_, p) in namedParams() where p.hasGrad {
            p.grad.data.withUnsafeMutableBufferPointer { if let g = $0.baseAddress { fillZero(g, $0.count) } }
        }
    }

    /// Inference only (`false`): no activations kept, so no backward pass possible; recursively.
    public func requiresGrad(_ on: Bool) {
        keepsActivations = on
        for (_, c) in children { c.requiresGrad(on) }
    }

    /// Freezes (or unfreezes) every parameter under this module.
    public func freeze(_ on: Bool = true) {
        for (_, p) in namedParams() where !p.isBuffer { p.frozen = on }
    }
}

/// Children applied in order; named "0", "1", … as `nn.Sequential` names them.
public final class Sequential: Module {
    public var layers: [Module]
    public init(_ layers: [Module]) { self.layers = layers }
    override public var children: [(String, Module)] { layers.enumerated().map { (String($0.offset), $0.element) } }
    override public func forward(_ x: Tensor) -> Tensor { forwardInOrder(layers, x) }
    override public func backward(_ dy: Tensor) -> Tensor { layers.reversed().reduce(dy) { $1.backward($0) } }
}

/// `layers` applied in order. In inference (no activations kept), a convolution and the ReLU right
/// after it run as one pass: one large tensor fewer to allocate, fill and read per pair (VGG16 has
/// 13 such pairs).
func forwardInOrder(_ layers: [Module], _ x: Tensor) -> Tensor {
    var h = x, i = 0
    while i < layers.count {
        if let conv = layers[i] as? Conv2d, !conv.keepsActivations, i + 1 < layers.count, layers[i + 1] is ReLU {
            h = conv.forward(h, relu: true)
            i += 2
        } else {
            h = layers[i].forward(h)
            i += 1
        }
    }
    return h
}
