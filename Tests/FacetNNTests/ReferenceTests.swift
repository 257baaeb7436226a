import FacetCore
import Foundation
import Testing
@testable import FacetNN

/// The fast kernels against their plain loop-nest references, on shapes the golden fixtures do not cover.
@Suite struct ReferenceTests {
    struct Rand {
        var state: UInt64
        mutating func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
        }
        mutating func array(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
    }

    /// (N, C, H, W, K, kernel, stride, padding): each way of unfolding an image (a gather table for
    /// outputs of 49 pixels or fewer; shifted planes for stride-1 kernels as wide as 2·padding + 1,
    /// down to planes narrower than the kernel; phase-split rows for kernels wider than their
    /// stride; row by row otherwise), on batches that make partial weight gradients of 4 images
    /// with a short last group.
    static let convShapes = [
        // gather table
        (1, 1, 5, 5, 1, 3, 1, 1), (2, 3, 8, 7, 5, 3, 2, 1), (2, 6, 4, 6, 8, 1, 2, 0),
        (1, 2, 3, 3, 3, 3, 3, 2), (6, 2, 11, 9, 3, 7, 2, 3), (2, 2, 3, 1, 2, 5, 1, 2),
        // shifted planes
        (3, 4, 9, 9, 2, 5, 1, 2), (9, 3, 10, 10, 6, 3, 1, 1), (2, 3, 30, 2, 2, 3, 1, 1), (2, 2, 60, 1, 2, 5, 1, 2), (3, 2, 2, 30, 3, 5, 1, 2),
        // phase-split rows
        (2, 2, 20, 19, 3, 7, 2, 3), (2, 2, 25, 26, 3, 5, 3, 2), (5, 3, 17, 16, 4, 3, 2, 1),
        // row by row
        (2, 6, 16, 18, 8, 1, 2, 0), (2, 2, 25, 25, 3, 3, 3, 2), (2, 3, 12, 12, 2, 3, 1, 0),
    ]

    @Test func theConvShapesCoverEveryUnfolding() {
        let kinds = Self.convShapes.map { t in
            let s = ConvShape(N: t.0, C: t.1, H: t.2, W: t.3, K: t.4, KH: t.5, KW: t.5, stride: t.6, padding: t.7)
            return GatherTable(s) != nil ? "table" : ShiftedRow(s, kh: 0, kw: 0) != nil ? "shifted" : PhaseSplit(s) != nil ? "phases" : "rows"
        }
        #expect(kinds == [String](repeating: "table", count: 6) + [String](repeating: "shifted", count: 5)
                + [String](repeating: "phases", count: 3) + [String](repeating: "rows", count: 3))
    }

    @Test(arguments: convShapes,
          [(ConvPath.batched, ConvShape.columnBudget), (.batched, 1), (.batched, 300), (.perImage, ConvShape.bandFloats), (.perImage, 0),
           (.perImage, 700), (.automatic, ConvShape.columnBudget)])
    func convMatchesTheLoopNest(_ shape: (Int, Int, Int, Int, Int, Int, Int, Int), _ plan: (ConvPath, Int)) {
        // A small budget unfolds one image (or a few) at a time, or on the per-image path shifted planes
        // a band of 16 output pixels (or a few) at a time.
        let (path, budget) = plan
        let (n, c, h, w, k, ks, stride, pad) = shape
        let s = ConvShape(N: n, C: c, H: h, W: w, K: k, KH: ks, KW: ks, stride: stride, padding: pad)
        expectConvMatchesTheLoopNest(s, path: path, budget: budget)
    }

    /// Winograd's F(2×2, 3×3) and F(4×4, 3×3) (N, C, H, W, K): sizes odd and even (tiles cut by the image's edge),
    /// planes narrower or shorter than a tile, rows wide enough for the eight-lane steps (and a part
    /// step), channels on both sides fewer and more than the cores and than eight; one tile row per
    /// chunk (budget 1), a few, and the whole batch at once.
    @Test(arguments: [(1, 1, 1, 1, 1), (2, 3, 5, 7, 4), (3, 5, 8, 8, 6), (2, 4, 9, 2, 3), (1, 2, 1, 6, 2), (5, 16, 6, 5, 9),
                      (2, 3, 17, 35, 4), (1, 9, 32, 16, 10), (1, 11, 3, 50, 3), (2, 3, 4, 29, 2)],
          [ConvShape.winogradFloats, 1, 2000])
    func winogradMatchesTheLoopNest(_ shape: (Int, Int, Int, Int, Int), _ budget: Int) {
        let (n, c, h, w, k) = shape
        let s = ConvShape(N: n, C: c, H: h, W: w, K: k, KH: 3, KW: 3, stride: 1, padding: 1)
        for path in [ConvPath.winograd, .winograd4] {
            #expect(s.resolve(path) == path)
            expectConvMatchesTheLoopNest(s, path: path, budget: budget)
            expectConvMatchesTheLoopNest(s, path: path, budget: budget, relu: true)
            // Both transforms kept from the forward pass for the backward, as a layer does (the
            // input's only where the batch makes one chunk).
            let w = s.winograd(path)!
            expectConvMatchesTheLoopNest(s, path: path, budget: budget, kept: w.positions * s.K * s.C, keptInput: w.keptInputFloats(budget))
        }
    }

    /// One product per kernel position (N, C, H, W, K, kernel, padding), stride 1: planes from 1×1 to
    /// ones most positions reach whole, kernels of 1, 3 and 5, paddings 0 to 2 (on a 1×4 plane
    /// padded by 2 some positions reach no pixel), channels fewer and more than the cores; one image
    /// per chunk (budget 1) and the whole batch; the weight's positions made by the forward pass
    /// and read by the backward, as a layer does, and made by each.
    @Test(arguments: [(1, 1, 1, 1, 1, 3, 1), (2, 3, 2, 2, 4, 3, 1), (3, 5, 2, 3, 6, 3, 1), (2, 4, 1, 1, 3, 3, 1), (2, 3, 5, 4, 2, 5, 2),
                      (1, 2, 3, 3, 5, 3, 0), (4, 9, 2, 2, 3, 1, 0), (2, 3, 1, 4, 2, 3, 2), (3, 17, 2, 2, 11, 3, 1), (2, 6, 7, 5, 3, 3, 1)],
          [ConvShape.columnBudget, 1])
    func shiftedMatchesTheLoopNest(_ shape: (Int, Int, Int, Int, Int, Int, Int), _ budget: Int) {
        let (n, c, h, w, k, ks, pad) = shape
        let s = ConvShape(N: n, C: c, H: h, W: w, K: k, KH: ks, KW: ks, stride: 1, padding: pad)
        #expect(s.resolve(.shifted) == .shifted)
        for (relu, kept) in [(false, false), (true, false), (false, true)] {
            expectConvMatchesTheLoopNest(s, path: .shifted, budget: budget, relu: relu, kept: kept ? ShiftedProducts(s)!.weightFloats : 0)
        }
    }

    /// A convolution layer whose automatic path is one product per kernel position (a 2×2 plane of
    /// 256 channels, a 1×1 one of 8) keeps the weight's positions from its forward pass for its
    /// backward: output and gradients as the loop nest's.
    @Test(arguments: [(2, 256, 2), (3, 8, 1)]) func aLayerOnTheShiftedPathMatchesTheLoopNest(_ shape: (Int, Int, Int)) {
        let (n, c, side) = shape
        var rng = SplitMix64(seed: 4)
        let layer = Conv2d(c, c, kernel: 3, padding: 1, bias: true, rng: &rng)
        let s = layer.shape(Tensor(zeros: [n, c, side, side]))
        #expect(s.resolve(.automatic) == .shifted && s.transformedWeightFloats == ShiftedProducts(s)!.weightFloats)
        var r = Rand(state: 11)
        let x = Tensor(shape: [n, c, side, side], data: r.array(n * c * side * side)), dy = Tensor(shape: x.shape, data: r.array(x.count))
        let y = layer.forward(x), dx = layer.backward(dy)
        let (w, b) = (layer.weight.value.data, layer.bias!.value.data)
        var y0 = [Float](repeating: 0, count: y.count), dx0 = [Float](repeating: 0, count: x.count)
        var dw0 = [Float](repeating: 0, count: w.count), db0 = [Float](repeating: 0, count: c)
        conv2dForwardNaive(&y0, x.data, w, b, s)
        conv2dBackwardNaive(&dx0, &dw0, &db0, dy.data, x.data, w, s)
        for (fast, slow) in [(y.data, y0), (dx.data, dx0), (layer.weight.grad.data, dw0), (layer.bias!.grad.data, db0)] {
            #expect(Tensor(shape: [fast.count], data: fast).maxRelativeDifference(Tensor(shape: [slow.count], data: slow)) < 1e-5)
        }
    }

    /// `automatic` takes Winograd's F(4×4, 3×3) for 3×3 kernels of stride 1 padded by 1 where it
    /// has fewer products than F(2×2) (planes of 4×4, and 7×7 up) with 64 tiles over the batch;
    /// F(2×2, 3×3) on 5×5 and 6×6 planes and where the batch has too few tiles for F(4×4); one
    /// product per kernel position on 1×1 planes and wide 2×2 ones; else the unfolded path.
    @Test func automaticTakesWinogradWhereItPays() {
        func path(_ n: Int, _ side: Int, kernel: Int = 3, padding: Int = 1) -> ConvPath {
            ConvShape(N: n, C: 8, H: side, W: side, K: 8, KH: kernel, KW: kernel, stride: 1, padding: padding).resolve(.automatic)
        }
        #expect(path(32, 16) == .winograd4 && path(32, 7) == .winograd4 && path(16, 8) == .winograd4 && path(64, 4) == .winograd4)
        #expect(path(16, 4) == .winograd && path(32, 4) == .winograd && path(32, 6) == .winograd && path(4, 8) == .winograd)
        #expect(path(32, 2) != .winograd && path(32, 2) != .winograd4 && path(15, 4) != .winograd && path(1, 7) != .winograd && path(1, 7) != .winograd4)
        #expect(path(32, 16, kernel: 5, padding: 2) != .winograd4 && path(32, 16, padding: 0) != .winograd4)
        // One product per kernel position on 1×1 planes, and on 2×2 ones from 256 channels on each side.
        #expect(path(32, 1) == .shifted && path(1, 1) == .shifted && path(32, 2) != .shifted && path(32, 3) != .shifted)
        #expect(ConvShape(N: 32, C: 256, H: 2, W: 2, K: 256, KH: 3, KW: 3, padding: 1).resolve(.automatic) == .shifted)
        #expect(ConvShape(N: 32, C: 256, H: 2, W: 2, K: 256, KH: 3, KW: 3, stride: 2, padding: 1).resolve(.automatic) != .shifted)
        #expect(ConvShape(N: 32, C: 8, H: 2, W: 2, K: 8, KH: 3, KW: 3, padding: 1).resolve(.winograd) == .winograd)
        #expect(ConvShape(N: 32, C: 8, H: 2, W: 2, K: 8, KH: 3, KW: 3, padding: 1).resolve(.winograd4) == .winograd4)
    }

    /// Forward (with `relu`, the ReLU of the loop nest's output) and backward of `path` against the
    /// loop nest, every budget set to `budget`; `kept`: floats of a buffer the forward pass leaves
    /// the weight's transform in for the backward pass (0: none, each makes its own).
    func expectConvMatchesTheLoopNest(_ s: ConvShape, path: ConvPath, budget: Int, relu: Bool = false, kept: Int = 0, keptInput: Int = 0) {
        var r = Rand(state: UInt64(s.N * 1000 + s.C * 100 + s.H * 10 + s.K))
        let x = r.array(s.N * s.C * s.H * s.W), wt = r.array(s.K * s.C * s.KH * s.KW), b = r.array(s.K)
        let dout = r.array(s.N * s.K * s.OH * s.OW)
        var fast = [Float](repeating: 0, count: dout.count), slow = fast
        var transformed = [Float](repeating: 7, count: kept), input = [Float](repeating: 7, count: keptInput)   // what the forward pass must overwrite
        transformed.withUnsafeMutableBufferPointer { t in
            input.withUnsafeMutableBufferPointer { v in
                conv2dForward(&fast, x, wt, b, s, path: path, columnBudget: budget, bandFloats: budget, winogradFloats: budget, relu: relu,
                              transformedWeight: kept > 0 ? t.baseAddress : nil, transformedInput: keptInput > 0 ? v.baseAddress : nil)
            }
        }
        conv2dForwardNaive(&slow, x, wt, b, s)
        if relu { slow = slow.map { max($0, 0) } }
        #expect(Tensor(shape: [fast.count], data: fast).maxRelativeDifference(Tensor(shape: [slow.count], data: slow)) < 1e-5)
        // The gradients are added to what the buffers hold.
        var dx1 = r.array(x.count), dx2 = dx1, dw1 = r.array(wt.count), dw2 = dw1, db1 = r.array(s.K), db2 = db1
        input.withUnsafeMutableBufferPointer { v in
            conv2dBackward(&dx1, &dw1, &db1, dout, x, wt, s, path: path, columnBudget: budget, winogradFloats: budget,
                           transformedWeight: kept > 0 ? transformed : nil, transformedInput: keptInput > 0 ? v.baseAddress : nil)
        }
        conv2dBackwardNaive(&dx2, &dw2, &db2, dout, x, wt, s)
        for (a, b) in [(dx1, dx2), (dw1, dw2), (db1, db2)] {
            #expect(Tensor(shape: [a.count], data: a).maxRelativeDifference(Tensor(shape: [b.count], data: b)) < 1e-5)
        }
    }

    /// Adam on a tensor large enough to be updated in blocks on all cores, against PyTorch's
    /// formulas as one scalar loop (Adam and AdamW, five steps).
    @Test(arguments: [false, true]) func adamInBlocksMatchesTheScalarLoop(decoupled: Bool) {
        let n = 100_003
        var rng = SplitMix64(seed: 9)
        let start = rng.weights(n, 1)
        let layer = Linear(1, 1, bias: false, rng: &rng)
        layer.weight.value = Tensor(shape: [n], data: start)
        layer.weight.ensureGrad()
        let adam = Adam(layer, lr: 0.01, weightDecay: 0.1, decoupled: decoupled)
        var w = start, m = [Float](repeating: 0, count: n), v = m
        for t in 1...5 {
            let g = (0..<n).map { Float(($0 * 7 + t * 13) % 101) / 50 - 1 }
            layer.weight.grad = Tensor(shape: [n], data: g)
            adam.step()
            let bc1 = 1 - pow(Float(0.9), Float(t)), bc2 = 1 - pow(Float(0.999), Float(t))
            for i in 0..<n {
                if decoupled { w[i] *= 1 - 0.01 * 0.1 }
                let grad = decoupled ? g[i] : g[i] + 0.1 * w[i]
                m[i] = 0.9 * m[i] + (1 - 0.9) * grad
                v[i] = 0.999 * v[i] + (1 - 0.999) * grad * grad
                w[i] -= 0.01 / bc1 * m[i] / (v[i].squareRoot() / bc2.squareRoot() + 1e-8)
            }
        }
        let worst = zip(layer.weight.value.data, w).map { abs($0 - $1) / max(abs($1), 1e-3) }.max()!
        #expect(worst < 1e-6, "largest relative difference \(worst)")
        #expect(layer.weight.value.data == w, "not bit-equal to the scalar loop")
    }

    /// Batch norm with its ReLU fused gives the same bits as `BatchNorm2d` followed by `ReLU`, in
    /// training (output, input gradient, γ and β gradients, running statistics) and evaluation.
    @Test func batchNormWithFusedReLUEqualsBatchNormThenReLU() {
        var r = Rand(state: 5)
        let x = Tensor(shape: [3, 4, 5, 7], data: r.array(3 * 4 * 5 * 7)), dy = Tensor(shape: x.shape, data: r.array(x.count))
        let fused = BatchNorm2d(4, relu: true), plain = BatchNorm2d(4), relu = ReLU()
        for bn in [fused, plain] {
            bn.weight.value = Tensor(shape: [4], data: [1.5, -0.5, 0.75, 2])
            bn.bias.value = Tensor(shape: [4], data: [0.1, 0.2, -0.3, 0.4])
        }
        let y1 = fused.forward(x), y2 = relu.forward(plain.forward(x))
        #expect(y1 == y2)
        #expect(y1.data.contains(0) && y1.data.contains { $0 > 0 })
        #expect(fused.backward(dy) == plain.backward(relu.backward(dy)))
        for (a, b) in zip(fused.namedParams(), plain.namedParams()) {
            #expect(a.1.value == b.1.value, "\(a.0)")
            #expect(a.1.grad == b.1.grad, "\(a.0) gradient")
        }
        fused.train(false)
        plain.train(false)
        #expect(fused.forward(x) == relu.forward(plain.forward(x)))
    }

    /// Max pooling against the bounds-checked loop nest: ties (values on a coarse grid) go to the
    /// first in window order, NaN wins, windows clipped at every edge; stride-2 windows eight at a
    /// time where they lie inside the row, the run's last eight again where it is not a multiple of
    /// eight, and the rest one by one (37 columns: 17 outputs of each row eight at a time; 32, as
    /// ResNet's stem at 64 px: 14).
    @Test(arguments: [(3, 2, 1), (2, 2, 0), (3, 2, 0), (4, 2, 1), (3, 1, 1), (5, 3, 2)])
    func maxPoolMatchesTheLoopNest(_ kernel: Int, _ stride: Int, _ padding: Int) {
        for width in [37, 32] {
            var r = Rand(state: UInt64(kernel * 10 + stride + width))
            let s = PoolShape(planes: 5, H: 9, W: width, kernel: kernel, stride: stride, padding: padding)
            var x = r.array(5 * 9 * width).map { ($0 * 3).rounded() }
            for i in [17, 100, 101, 500, 537, 538, 1200] { x[i] = .nan }
            let n = 5 * s.OH * s.OW
            var y1 = [Float](repeating: 0, count: n), y2 = y1, a1 = [Int32](repeating: 0, count: n), a2 = a1
            maxPoolForward(&y1, &a1, x, s)
            maxPoolForwardNaive(&y2, &a2, x, s)
            #expect(a1 == a2)
            #expect(zip(y1, y2).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
        }
    }

    /// In inference a convolution and its ReLU run fused: VGG's features and logits are the same
    /// bits as with activations kept (convolution, then the ReLU module), over both convolution
    /// paths (16×16 and 8×8 outputs one image at a time, 4×4 over the batch).
    @Test func inferenceFusesEachConvolutionWithItsReLU() {
        let vgg = VGG(classes: 3, config: [4, 4, 0, 8, 0, 8, 0], hidden: 16, pooled: 2, dropout: 0, seed: 3)
        vgg.train(false)
        var r = Rand(state: 11)
        let x = Tensor(shape: [3, 3, 16, 16], data: r.array(3 * 3 * 16 * 16))
        let kept = vgg.forward(x), keptFeatures = vgg.features(x)
        vgg.requiresGrad(false)
        #expect(vgg.forward(x) == kept)
        #expect(vgg.features(x) == keptFeatures)
        #expect(keptFeatures.data.contains(0) && keptFeatures.data.contains { $0 > 0 })
        var weights = SplitMix64(seed: 4)
        let seq = Sequential([Conv2d(3, 5, kernel: 3, padding: 1, rng: &weights), ReLU()])
        let y = seq.forward(x)
        seq.requiresGrad(false)
        #expect(seq.forward(x) == y)
    }

    @Test func linearMatchesTheLoopNest() {
        var r = Rand(state: 9)
        let (B, I, O) = (7, 13, 5)
        let x = r.array(B * I), w = r.array(O * I), b = r.array(O)
        var fast = [Float](repeating: 0, count: B * O), slow = fast
        linearForward(&fast, x, w, b, B: B, I: I, O: O)
        linearForwardNaive(&slow, x, w, b, B: B, I: I, O: O)
        #expect(Tensor(shape: [B, O], data: fast).maxRelativeDifference(Tensor(shape: [B, O], data: slow)) < 1e-5)
    }

    @Test func safetensorsRoundTripAndHostileHeaders() throws {
        let path = "/tmp/facet-nn-\(UInt64.random(in: 0...UInt64.max)).safetensors"
        let t = ["b.weight": Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6]), "a": Tensor(shape: [1], data: [-0.5])]
        try Safetensors.write(t, metadata: ["arch": "resnet18"], to: path)
        let back = try Safetensors.read(path)
        #expect(back.tensors == t && back.metadata == ["arch": "resnet18"])
        func header(_ json: String, data: Int = 0) -> [UInt8] {
            let h = Array(json.utf8)
            return (0..<8).map { UInt8(truncatingIfNeeded: h.count >> (8 * $0)) } + h + [UInt8](repeating: 0, count: data)
        }
        let cases: [([UInt8], String)] = [
            ([1, 2, 3], "not a safetensors file"),
            ([255, 255, 255, 255, 255, 255, 255, 127], "header length"),
            (header("[1]"), "not a JSON object"),
            (header(#"{"x":{"dtype":"F32","shape":[1]}}"#, data: 4), "x: needs dtype, shape and data_offsets"),
            (header(#"{"__metadata__":{"k":1}}"#), "__metadata__.k has the wrong type"),
            (header(#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, data: 4), "x: data_offsets must hold two numbers"),
            (header(#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: 4), "do not hold"),
            (header(#"{"x":{"dtype":"Q9","shape":[1],"data_offsets":[0,4]}}"#, data: 4), "unsupported dtype"),
            (header(#"{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: 4), "bad shape"),
        ]
        for (bytes, message) in cases {
            #expect { try Safetensors.parse(bytes, name: "f") } throws: { "\($0)".contains(message) }
        }
    }
}
