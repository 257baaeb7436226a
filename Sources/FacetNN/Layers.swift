import FacetCore
import Foundation

/// `nn.BatchNorm2d`: weight (γ), bias (β), running_mean, running_var, num_batches_tracked.
/// `relu: true` is the batch norm and the `nn.ReLU` after it in one pass (that module has no
/// parameters, so the state dict is the same).
public final class BatchNorm2d: Module {
    public let weight, bias, runningMean, runningVar, batchesTracked: Param
    public var momentum: Float = 0.1, eps: Float = 1e-5
    public let relu: Bool
    private var input = Tensor(zeros: [0])
    private var output = Tensor(zeros: [0])      // with the ReLU: where it let the gradient through
    private var mean: [Float] = [], rstd: [Float] = []

    public init(_ channels: Int, relu: Bool = false) {
        self.relu = relu
        weight = Param(Tensor(shape: [channels], data: [Float](repeating: 1, count: channels)))
        bias = Param(Tensor(zeros: [channels]))
        runningMean = Param(Tensor(zeros: [channels]), buffer: true)
        runningVar = Param(Tensor(shape: [channels], data: [Float](repeating: 1, count: channels)), buffer: true)
        batchesTracked = Param(Tensor(zeros: []), buffer: true)
    }

    override public var ownParams: [(String, Param)] {
        [("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVar), ("num_batches_tracked", batchesTracked)]
    }

    func shape(_ x: Tensor) -> BatchNormShape {
        var s = BatchNormShape(N: x.shape[0], C: x.shape[1], HW: x.count / max(1, x.shape[0] * x.shape[1]), relu: relu)
        s.eps = eps
        s.momentum = momentum
        return s
    }

    override public func forward(_ x: Tensor) -> Tensor {
        LayerTimes.measure("batch norm \(x.shape.dropFirst(2).map(String.init).joined(separator: "×")) forward") { forwardTimed(x) }
    }

    private func forwardTimed(_ x: Tensor) -> Tensor {
        let s = shape(x)
        var y = Tensor(uninitialized: x.shape)
        if training {
            input = keepsActivations ? x : Tensor(zeros: [0])
            mean = [Float](repeating: 0, count: s.C)
            rstd = mean
            batchNormForwardTraining(&y.data, &mean, &rstd, x.data, weight.value.data, bias.value.data,
                                     &runningMean.value.data, &runningVar.value.data, s)
            batchesTracked.value.data[0] += 1
            output = keepsActivations && relu ? y : Tensor(zeros: [0])
        } else {
            batchNormForwardEval(&y.data, x.data, weight.value.data, bias.value.data, runningMean.value.data, runningVar.value.data, s)
        }
        return y
    }

    override public func backward(_ dy: Tensor) -> Tensor {
        LayerTimes.measure("batch norm \(dy.shape.dropFirst(2).map(String.init).joined(separator: "×")) backward") { backwardTimed(dy) }
    }

    private func backwardTimed(_ dy: Tensor) -> Tensor {
        precondition(training, "batch norm backward needs a training-mode forward")
        let s = shape(input)
        var dx = Tensor(uninitialized: input.shape)
        var dg = Tensor(zeros: [s.C]), db = Tensor(zeros: [s.C])
        output.data.withUnsafeBufferPointer { y in
            batchNormBackward(&dx.data, &dg.data, &db.data, dy.data, input.data, weight.value.data, mean, rstd, s,
                              output: relu ? y.baseAddress : nil)
        }
        if !weight.frozen { weight.ensureGrad(); for i in 0..<s.C { weight.grad.data[i] += dg.data[i] } }
        if !bias.frozen { bias.ensureGrad(); for i in 0..<s.C { bias.grad.data[i] += db.data[i] } }
        return dx
    }
}

public final class ReLU: Module {
    private var output = Tensor(zeros: [0])
    override public func forward(_ x: Tensor) -> Tensor {
        var y = Tensor(uninitialized: x.shape)
        reluForward(&y.data, x.data, x.count)
        output = keepsActivations ? y : Tensor(zeros: [0])
        return y
    }
    override public func backward(_ dy: Tensor) -> Tensor {
        var dx = Tensor(uninitialized: dy.shape)
        reluBackward(&dx.data, dy.data, output.data, dy.count)
        return dx
    }
}

public final class MaxPool2d: Module {
    public let kernel, stride, padding: Int
    private var argmax: [Int32] = []
    private var inputShape: [Int] = []

    public init(kernel: Int, stride: Int, padding: Int = 0) { (self.kernel, self.stride, self.padding) = (kernel, stride, padding) }

    func shape(_ s: [Int]) -> PoolShape { PoolShape(planes: s[0] * s[1], H: s[2], W: s[3], kernel: kernel, stride: stride, padding: padding) }

    override public func forward(_ x: Tensor) -> Tensor {
        let s = shape(x.shape)
        inputShape = x.shape
        var y = Tensor(uninitialized: [x.shape[0], x.shape[1], s.OH, s.OW])
        argmax = [Int32](unsafeUninitializedCapacity: y.count) { _, n in n = y.count }
        maxPoolForward(&y.data, &argmax, x.data, s)
        return y
    }

    override public func backward(_ dy: Tensor) -> Tensor {
        var dx = Tensor(uninitialized: inputShape)
        maxPoolBackward(&dx.data, dy.data, argmax, shape(inputShape))
        return dx
    }
}

public final class AdaptiveAvgPool2d: Module {
    public let OH, OW: Int
    private var inputShape: [Int] = []
    public init(_ OH: Int, _ OW: Int) { (self.OH, self.OW) = (OH, OW) }

    override public func forward(_ x: Tensor) -> Tensor {
        inputShape = x.shape
        var y = Tensor(zeros: [x.shape[0], x.shape[1], OH, OW])
        adaptiveAvgPoolForward(&y.data, x.data, planes: x.shape[0] * x.shape[1], H: x.shape[2], W: x.shape[3], OH: OH, OW: OW)
        return y
    }

    override public func backward(_ dy: Tensor) -> Tensor {
        var dx = Tensor(zeros: inputShape)
        let s = inputShape
        adaptiveAvgPoolBackward(&dx.data, dy.data, planes: s[0] * s[1], H: s[2], W: s[3], OH: OH, OW: OW)
        return dx
    }
}

/// (N, …) → (N, rest).
public final class Flatten: Module {
    private var inputShape: [Int] = []
    override public func forward(_ x: Tensor) -> Tensor {
        inputShape = x.shape
        return Tensor(shape: [x.shape[0], x.count / max(1, x.shape[0])], data: x.data)
    }
    override public func backward(_ dy: Tensor) -> Tensor { Tensor(shape: inputShape, data: dy.data) }
}

/// `nn.Linear`: weight (O, I), bias (O).
public final class Linear: Module {
    public let weight: Param
    public let bias: Param?
    private var input = Tensor(zeros: [0])

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, rng: inout SplitMix64) {
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = Param(Tensor(shape: [outFeatures, inFeatures], data: rng.weights(outFeatures * inFeatures, bound)))
        self.bias = bias ? Param(Tensor(shape: [outFeatures], data: rng.weights(outFeatures, bound))) : nil
    }

    override public var ownParams: [(String, Param)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }

    override public func forward(_ x: Tensor) -> Tensor {
        precondition(x.shape.count == 2 && x.shape[1] == weight.value.shape[1], "linear: input \(x.shape) for weight \(weight.value.shape)")
        input = keepsActivations ? x : Tensor(zeros: [0])
        let (B, I, O) = (x.shape[0], x.shape[1], weight.value.shape[0])
        var y = Tensor(zeros: [B, O])
        if let bias { linearForward(&y.data, x.data, weight.value.data, bias.value.data, B: B, I: I, O: O) }
        else { linearForward(&y.data, x.data, weight.value.data, nil, B: B, I: I, O: O) }
        return y
    }

    override public func backward(_ dy: Tensor) -> Tensor {
        let (B, I, O) = (input.shape[0], input.shape[1], weight.value.shape[0])
        var dx = Tensor(zeros: input.shape)
        let dbias = bias.flatMap { $0.frozen ? nil : $0 }
        dx.data.withUnsafeMutableBufferPointer { dxp in
            withGrad(weight) { dw in
                withGrad(dbias) { db in
                    linearBackward(dxp.baseAddress, dw, db, dy.data, input.data, weight.value.data, B: B, I: I, O: O)
                }
            }
        }
        return dx
    }
}

/// `nn.Dropout`: in training, zero each element with probability p and scale the rest by 1/(1−p).
public final class Dropout: Module {
    public let p: Float
    public var rng: SplitMix64
    private var mask: [Float] = []

    public init(_ p: Float = 0.5, seed: UInt64 = 0) { self.p = p; rng = SplitMix64(seed: seed) }

    override public func forward(_ x: Tensor) -> Tensor {
        guard training, p > 0 else { mask = []; return x }
        let keep = 1 / (1 - p)
        mask = (0..<x.count).map { _ in rng.unit() < p ? 0 : keep }
        var y = x
        for i in y.data.indices { y.data[i] *= mask[i] }
        return y
    }

    override public func backward(_ dy: Tensor) -> Tensor {
        guard !mask.isEmpty else { return dy }
        var dx = dy
        for i in dx.data.indices { dx.data[i] *= mask[i] }
        return dx
    }
}
