import FacetCore
import Foundation

/// `nn.Conv2d` (square kernel, no dilation or groups): weight (K, C, KH, KW), bias (K).
public final class Conv2d: Module {
    public let weight: Param
    public let bias: Param?
    public let stride: Int, padding: Int
    /// False for a first layer: its input's gradient is not needed, and not computed.
    public var needsInputGradient = true
    private var input = Tensor(zeros: [0])         // (N, C, H, W), saved by forward
    /// The weight's Winograd transform (16 or 36, K, C), left by a forward pass that keeps activations
    /// for the backward pass after it (the weight does not change in between); empty otherwise.
    private var transformedWeight: [Float] = []
    /// The input's Winograd transform, left by such a forward pass where the batch's tiles make one
    /// chunk (the backward pass then does not transform the input again); empty otherwise.
    private var transformedInput: [Float] = []

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
                rng: inout SplitMix64) {
        // PyTorch's default: kaiming_uniform(a=√5) — U(−b, b) with b = 1/√fan_in, for weight and bias alike.
        let fanIn = inChannels * kernel * kernel, bound = 1 / Float(fanIn).squareRoot()
        weight = Param(Tensor(shape: [outChannels, inChannels, kernel, kernel], data: rng.weights(outChannels * fanIn, bound)))
        self.bias = bias ? Param(Tensor(shape: [outChannels], data: rng.weights(outChannels, bound))) : nil
        self.stride = stride
        self.padding = padding
    }

    override public var ownParams: [(String, Param)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }

    func shape(_ x: Tensor) -> ConvShape {
        precondition(x.shape.count == 4 && x.shape[1] == weight.value.shape[1], "conv2d: input \(x.shape) for weight \(weight.value.shape)")
        let w = weight.value.shape
        return ConvShape(N: x.shape[0], C: x.shape[1], H: x.shape[2], W: x.shape[3], K: w[0], KH: w[2], KW: w[3], stride: stride, padding: padding)
    }

    override public func forward(_ x: Tensor) -> Tensor { forward(x, relu: false) }

    /// With `relu`, the convolution and the ReLU after it in one pass: for inference only (a
    /// backward pass would need the output before the ReLU).
    func forward(_ x: Tensor, relu: Bool) -> Tensor {
        precondition(!relu || !keepsActivations, "a convolution fused with its ReLU has no backward pass")
        let s = shape(x)
        input = keepsActivations ? x : Tensor(zeros: [0])
        var y = Tensor(uninitialized: [s.N, s.K, s.OH, s.OW])
        let size = keepsActivations ? s.transformedWeightFloats : 0, inputSize = keepsActivations ? s.transformedInputFloats : 0
        if transformedWeight.count != size { transformedWeight = [Float](repeating: 0, count: size) }
        if transformedInput.count != inputSize { transformedInput = [Float](repeating: 0, count: inputSize) }
        LayerTimes.measure(s.label + " forward") {
            transformedWeight.withUnsafeMutableBufferPointer { u in
                transformedInput.withUnsafeMutableBufferPointer { v in
                    conv2dForward(&y.data, x.data, weight.value.data, bias?.value.data, s, relu: relu,
                                  transformedWeight: size > 0 ? u.baseAddress : nil, transformedInput: inputSize > 0 ? v.baseAddress : nil)
                }
            }
        }
        return y
    }

    override public func backward(_ dy: Tensor) -> Tensor {
        let s = shape(input)
        var dx = Tensor(uninitialized: needsInputGradient ? input.shape : [0])
        fillZero(&dx.data, dx.count)
        let dbias = bias.flatMap { $0.frozen ? nil : $0 }
        LayerTimes.measure(s.label + " backward") {
            dx.data.withUnsafeMutableBufferPointer { dxp in
                withGrad(weight) { dw in
                    withGrad(dbias) { db in
                        transformedInput.withUnsafeMutableBufferPointer { v in
                            conv2dBackward(needsInputGradient ? dxp.baseAddress : nil, dw, db, dy.data, input.data, weight.value.data, s,
                                           transformedWeight: transformedWeight.isEmpty ? nil : transformedWeight,
                                           transformedInput: v.isEmpty ? nil : v.baseAddress)
                        }
                    }
                }
            }
        }
        return dx
    }
}

/// Runs `body` with a pointer to `p`'s gradient, or nil when there is no trainable `p`.
func withGrad<R>(_ p: Param?, _ body: (UnsafeMutablePointer<Float>?) -> R) -> R {
    guard let p, !p.frozen else { return body(nil) }
    p.ensureGrad()
    return p.grad.data.withUnsafeMutableBufferPointer { body($0.baseAddress) }
}
