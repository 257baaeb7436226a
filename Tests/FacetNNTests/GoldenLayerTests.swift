import Foundation
import Testing
@testable import FacetNN

/// Every layer's forward and backward against PyTorch, from the fixture that
/// tools/make_nn_fixtures.py wrote (configurations repeated here).
@Suite struct GoldenLayerTests {
    static let file = try! Safetensors.read(URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/nn/layers.safetensors").path)
    static func t(_ name: String) -> Tensor { file.tensors[name]! }

    /// Relative error against PyTorch, printed and bounded.
    static func check(_ got: Tensor, _ name: String, within tolerance: Float = 1e-5, _ line: Int = #line) {
        let err = got.maxRelativeDifference(t(name))
        print("\(name): max relative difference \(err)")
        #expect(err <= tolerance, "\(name): \(err)")
    }

    @Test(arguments: [("conv_a", 2, 1, true), ("conv_b", 1, 0, false), ("conv_c", 2, 3, false), ("conv_d", 2, 0, false)])
    func conv2d(_ c: String, _ stride: Int, _ padding: Int, _ bias: Bool) {
        let x = Self.t("\(c).x"), w = Self.t("\(c).w"), dout = Self.t("\(c).dout")
        let s = ConvShape(N: x.shape[0], C: x.shape[1], H: x.shape[2], W: x.shape[3], K: w.shape[0], KH: w.shape[2], KW: w.shape[3],
                          stride: stride, padding: padding)
        var y = Tensor(zeros: [s.N, s.K, s.OH, s.OW]), dx = Tensor(zeros: x.shape), dw = Tensor(zeros: w.shape), db = Tensor(zeros: [s.K])
        let b = bias ? Self.t("\(c).b").data : nil
        b.withOptionalPointer { bp in conv2dForward(&y.data, x.data, w.data, bp, s) }
        if bias {
            conv2dBackward(&dx.data, &dw.data, &db.data, dout.data, x.data, w.data, s)
        } else {
            conv2dBackward(&dx.data, &dw.data, nil, dout.data, x.data, w.data, s)
        }
        Self.check(y, "\(c).y")
        Self.check(dx, "\(c).dx")
        Self.check(dw, "\(c).dw")
        if bias { Self.check(db, "\(c).db") }
    }

    @Test func batchNormTrainingAndEvaluation() {
        let x = Self.t("bn.x"), gamma = Self.t("bn.gamma"), beta = Self.t("bn.beta"), dout = Self.t("bn.dout")
        let s = BatchNormShape(N: x.shape[0], C: x.shape[1], HW: x.shape[2] * x.shape[3])
        var rm = Self.t("bn.running_mean_before"), rv = Self.t("bn.running_var_before")
        var y = Tensor(zeros: x.shape), mean = [Float](repeating: 0, count: s.C), rstd = mean
        batchNormForwardTraining(&y.data, &mean, &rstd, x.data, gamma.data, beta.data, &rm.data, &rv.data, s)
        var dx = Tensor(zeros: x.shape), dg = Tensor(zeros: [s.C]), dbeta = Tensor(zeros: [s.C])
        batchNormBackward(&dx.data, &dg.data, &dbeta.data, dout.data, x.data, gamma.data, mean, rstd, s)
        Self.check(y, "bn.y")
        Self.check(rm, "bn.running_mean")
        Self.check(rv, "bn.running_var")
        Self.check(dx, "bn.dx", within: 2e-5)
        Self.check(dg, "bn.dgamma")
        Self.check(dbeta, "bn.dbeta")
        var ye = Tensor(zeros: x.shape)
        batchNormForwardEval(&ye.data, x.data, gamma.data, beta.data, rm.data, rv.data, s)
        Self.check(ye, "bn.y_eval")
    }

    @Test(arguments: [("maxpool_a", 3, 2, 1), ("maxpool_b", 2, 2, 0)])
    func maxPool(_ c: String, _ kernel: Int, _ stride: Int, _ padding: Int) {
        let x = Self.t("\(c).x")
        let s = PoolShape(planes: x.shape[0] * x.shape[1], H: x.shape[2], W: x.shape[3], kernel: kernel, stride: stride, padding: padding)
        var y = Tensor(zeros: [x.shape[0], x.shape[1], s.OH, s.OW]), arg = [Int32](repeating: 0, count: y.count)
        maxPoolForward(&y.data, &arg, x.data, s)
        var dx = Tensor(zeros: x.shape)
        maxPoolBackward(&dx.data, Self.t("\(c).dout").data, arg, s)
        Self.check(y, "\(c).y", within: 0)
        Self.check(dx, "\(c).dx", within: 0)
    }

    @Test(arguments: [("avgpool_a", 1, 1), ("avgpool_b", 7, 7), ("avgpool_c", 7, 7)])
    func adaptiveAvgPool(_ c: String, _ oh: Int, _ ow: Int) {
        let x = Self.t("\(c).x")
        let planes = x.shape[0] * x.shape[1]
        var y = Tensor(zeros: [x.shape[0], x.shape[1], oh, ow]), dx = Tensor(zeros: x.shape)
        adaptiveAvgPoolForward(&y.data, x.data, planes: planes, H: x.shape[2], W: x.shape[3], OH: oh, OW: ow)
        adaptiveAvgPoolBackward(&dx.data, Self.t("\(c).dout").data, planes: planes, H: x.shape[2], W: x.shape[3], OH: oh, OW: ow)
        Self.check(y, "\(c).y")
        Self.check(dx, "\(c).dx")
    }

    @Test func linear() {
        let x = Self.t("linear.x"), w = Self.t("linear.w"), b = Self.t("linear.b"), dout = Self.t("linear.dout")
        let (B, I, O) = (x.shape[0], x.shape[1], w.shape[0])
        var y = Tensor(zeros: [B, O]), dx = Tensor(zeros: x.shape), dw = Tensor(zeros: w.shape), db = Tensor(zeros: [O])
        linearForward(&y.data, x.data, w.data, b.data, B: B, I: I, O: O)
        linearBackward(&dx.data, &dw.data, &db.data, dout.data, x.data, w.data, B: B, I: I, O: O)
        Self.check(y, "linear.y")
        Self.check(dx, "linear.dx")
        Self.check(dw, "linear.dw")
        Self.check(db, "linear.db")
    }

    @Test func crossEntropyAndReLU() {
        let logits = Self.t("ce.logits")
        let (B, K) = (logits.shape[0], logits.shape[1])
        let targets = Self.t("ce.targets").data.map { Int32($0) }
        var probs = [Float](repeating: 0, count: B * K), d = Tensor(zeros: logits.shape)
        let loss = crossEntropyForward(&probs, logits.data, targets, B: B, K: K)
        crossEntropyBackward(&d.data, probs, targets, B: B, K: K)
        Self.check(Tensor(shape: [1], data: [loss]), "ce.loss")
        Self.check(d, "ce.dlogits")
        let x = Self.t("relu.x")
        var y = Tensor(zeros: x.shape)
        reluForward(&y.data, x.data, x.count)
        Self.check(y, "relu.y", within: 0)
    }
}

extension Optional where Wrapped == [Float] {
    func withOptionalPointer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        switch self {
        case .some(let a): a.withUnsafeBufferPointer { body($0.baseAddress) }
        case .none: body(nil)
        }
    }
}
