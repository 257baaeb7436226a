import FacetCore
import FacetNN
import Foundation

/// Timed training and inference steps on random data, for `facet bench train|infer`.
public enum NetworkBenchmark {
    public struct Result: Sendable {
        /// Images per second of each timed step.
        public var rates: [Double]
        /// Peak resident memory of the process, bytes.
        public var peakBytes: Int
        public var median: Double { rates.sorted()[rates.count / 2] }
    }

    /// One warm-up step, then `steps` timed ones: forward, cross-entropy, backward and an Adam step
    /// when training; a forward pass in evaluation mode otherwise.
    /// `profile`: the timed steps' parts are added up in `LayerTimes` (the warm-up's are not).
    public static func run(_ arch: Architecture, size: Int, batch: Int, steps: Int, train: Bool, classes: Int = 3,
                           profile: Bool = false) -> Result {
        let model = arch.make(classes: classes)
        model.train(train)
        model.requiresGrad(train)
        model.firstConvolution?.needsInputGradient = false
        var rng = SplitMix64(seed: 7)
        let x = Tensor(shape: [batch, 3, size, size], data: rng.weights(batch * 3 * size * size, 1))
        let targets = (0..<batch).map { Int32($0 % classes) }
        let adam = train ? Adam(model, lr: 1e-4) : nil
        var rates: [Double] = []
        for step in 0...steps {
            let start = DispatchTime.now().uptimeNanoseconds
            if profile && step == 1 { LayerTimes.enable(true) }
            let logits = LayerTimes.measure("step: forward") { model.forward(x) }
            if train {
                LayerTimes.measure("step: zero gradients") { model.zeroGrad() }
                let loss = LayerTimes.measure("step: loss") { Trainer.loss(logits, targets).2 }
                _ = LayerTimes.measure("step: backward") { model.backward(loss) }
                LayerTimes.measure("step: Adam") { adam!.step() }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if step > 0 { rates.append(Double(batch) / seconds) }
        }
        LayerTimes.enable(false)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Result(rates: rates, peakBytes: usage.ru_maxrss * 1024)
    }
}

/// ResNet18's convolutions one by one, forward and backward, by every path that can take each
/// (Winograd's F(2×2, 3×3) and F(4×4, 3×3), one product per kernel position, im2col on the batch
/// or per image), for `facet bench conv`: what `ConvShape.resolve` chooses from is measured here.
public enum ConvolutionBenchmark {
    public struct Row: Sendable {
        public var shape: ConvShape
        /// Whether the input's gradient is computed (not for the stem, as in a training step).
        public var inputGradient: Bool
        /// Median milliseconds of a forward and a backward pass, per path that can take the shape.
        public var times: [(path: ConvPath, ms: Double)]
        /// The path `automatic` takes.
        public var automatic: ConvPath { shape.resolve(.automatic) }
    }

    /// ResNet18's convolutions at input side `size`, `width` channels in the first stage
    /// (torchvision's 64; the demo's network has 16) and twice as many in each next: the stem
    /// (7×7, stride 2), each stage's 3×3 of stride 1, and the 3×3 of stride 2 and the 1×1
    /// downsampling that open stages 2 to 4.
    public static func resnetShapes(size: Int, batch: Int, width: Int = 64) -> [ConvShape] {
        func half(_ side: Int) -> Int { (side - 1) / 2 + 1 }
        var shapes = [ConvShape(N: batch, C: 3, H: size, W: size, K: width, KH: 7, KW: 7, stride: 2, padding: 3)]
        var side = half(half(size))                      // the stem's stride 2, then the max pool's
        for (i, channels) in [width, 2 * width, 4 * width, 8 * width].enumerated() {
            if i > 0 {
                shapes.append(ConvShape(N: batch, C: channels / 2, H: side, W: side, K: channels, KH: 3, KW: 3, stride: 2, padding: 1))
                shapes.append(ConvShape(N: batch, C: channels / 2, H: side, W: side, K: channels, KH: 1, KW: 1, stride: 2, padding: 0))
                side = half(side)
            }
            shapes.append(ConvShape(N: batch, C: channels, H: side, W: side, K: channels, KH: 3, KW: 3, stride: 1, padding: 1))
        }
        return shapes
    }

    /// The paths that can take `s`, each as itself.
    static func paths(_ s: ConvShape) -> [ConvPath] {
        [ConvPath.winograd, .winograd4, .shifted, .batched, .perImage].filter { s.resolve($0) == $0 }
    }

    public static func run(_ shapes: [ConvShape], repeats: Int) -> [Row] {
        shapes.map { s in
            var rng = SplitMix64(seed: 3)
            let x = rng.weights(s.N * s.C * s.H * s.W, 1), w = rng.weights(s.K * s.C * s.KH * s.KW, 0.1)
            let dy = rng.weights(s.N * s.K * s.OH * s.OW, 1), inputGradient = s.C != 3
            var y = [Float](repeating: 0, count: dy.count), dx = x, dw = w
            // The weight's transform (Winograd's) or positions (shifted), and Winograd's transformed
            // input where the batch makes one chunk, made by the forward pass and read by the
            // backward, as a network's layers do.
            var kept = [Float](repeating: 0, count: 36 * s.K * s.C)
            func time(_ path: ConvPath) -> Double {
                let keeps = path != .batched && path != .perImage
                var input = [Float](repeating: 0, count: s.transformedInputFloats(on: path))
                return 1000 * Timing.medianSeconds(repeats: repeats) {
                    kept.withUnsafeMutableBufferPointer { k in
                        input.withUnsafeMutableBufferPointer { v in
                            conv2dForward(&y, x, w, nil, s, path: path, transformedWeight: keeps ? k.baseAddress : nil,
                                          transformedInput: v.isEmpty ? nil : v.baseAddress)
                            dx.withUnsafeMutableBufferPointer { d in
                                conv2dBackward(inputGradient ? d.baseAddress : nil, &dw, nil, dy, x, w, s, path: path,
                                               transformedWeight: keeps ? UnsafePointer(k.baseAddress) : nil,
                                               transformedInput: v.isEmpty ? nil : v.baseAddress)
                            }
                        }
                    }
                }
            }
            return Row(shape: s, inputGradient: inputGradient, times: paths(s).map { ($0, time($0)) })
        }
    }
}
