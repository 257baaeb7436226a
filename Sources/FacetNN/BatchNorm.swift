/// Batch normalisation over (N, C, HW) with PyTorch's semantics: in training, normalise by the
/// batch mean and biased variance, and move the running mean and the running *unbiased*
/// variance by `momentum`; in evaluation, normalise by the running statistics.
public struct BatchNormShape: Sendable, Equatable {
    public var N, C, HW: Int
    public var eps: Float = 1e-5
    public var momentum: Float = 0.1
    public init(N: Int, C: Int, HW: Int) { (self.N, self.C, self.HW) = (N, C, HW) }
}

/// Training forward. Saves `mean` (C) and `rstd` (C) for the backward pass; updates the running
/// statistics in place.
public func batchNormForwardTraining(_ out: UnsafeMutablePointer<Float>, _ mean: UnsafeMutablePointer<Float>, _ rstd: UnsafeMutablePointer<Float>,
                                     _ inp: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>, _ beta: UnsafePointer<Float>,
                                     _ runningMean: UnsafeMutablePointer<Float>, _ runningVar: UnsafeMutablePointer<Float>, _ s: BatchNormShape) {
    let count = s.N * s.HW
    let (o, m0, r0, x, g, b, rm, rv) = (Shared(out), Shared(mean), Shared(rstd), Shared(inp), Shared(gamma), Shared(beta), Shared(runningMean), Shared(runningVar))
    parallelFor(s.C) { c in
        let (out, mean, rstd, inp, gamma, beta, runningMean, runningVar) = (o.p, m0.p, r0.p, x.p, g.p, b.p, rm.p, rv.p)
        // Two passes in double: the mean, then the squared deviations.
        var sum = 0.0
        for n in 0..<s.N { let p = inp + (n * s.C + c) * s.HW; for i in 0..<s.HW { sum += Double(p[i]) } }
        let m = sum / Double(count)
        var sq = 0.0
        for n in 0..<s.N { let p = inp + (n * s.C + c) * s.HW; for i in 0..<s.HW { let d = Double(p[i]) - m; sq += d * d } }
        let variance = sq / Double(count)
        let r = Float(1 / (variance + Double(s.eps)).squareRoot())
        mean[c] = Float(m)
        rstd[c] = r
        let unbiased = count > 1 ? variance * Double(count) / Double(count - 1) : variance
        runningMean[c] = (1 - s.momentum) * runningMean[c] + s.momentum * Float(m)
        runningVar[c] = (1 - s.momentum) * runningVar[c] + s.momentum * Float(unbiased)
        let scale = gamma[c] * r, shift = beta[c] - Float(m) * scale
        for n in 0..<s.N {
            let p = inp + (n * s.C + c) * s.HW, o = out + (n * s.C + c) * s.HW
            for i in 0..<s.HW { o[i] = p[i] * scale + shift }
        }
    }
}

/// Evaluation forward: the running statistics.
public func batchNormForwardEval(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>,
                                 _ beta: UnsafePointer<Float>, _ runningMean: UnsafePointer<Float>, _ runningVar: UnsafePointer<Float>,
                                 _ s: BatchNormShape) {
    let (o, x) = (Shared(out), Shared(inp))
    parallelFor(s.C) { c in
        let (out, inp) = (o.p, x.p)
        let scale = gamma[c] / (runningVar[c] + s.eps).squareRoot(), shift = beta[c] - runningMean[c] * scale
        for n in 0..<s.N {
            let p = inp + (n * s.C + c) * s.HW, o = out + (n * s.C + c) * s.HW
            for i in 0..<s.HW { o[i] = p[i] * scale + shift }
        }
    }
}

/// Gradients of the training forward, accumulated into dgamma, dbeta; dinp is overwritten:
/// dx = γ·rstd/M · (M·dy − Σdy − x̂·Σ(dy·x̂)).
public func batchNormBackward(_ dinp: UnsafeMutablePointer<Float>, _ dgamma: UnsafeMutablePointer<Float>, _ dbeta: UnsafeMutablePointer<Float>,
                              _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>,
                              _ mean: UnsafePointer<Float>, _ rstd: UnsafePointer<Float>, _ s: BatchNormShape) {
    let count = Float(s.N * s.HW)
    let (dx, dg, db, d0, x, g, m0, r0) = (Shared(dinp), Shared(dgamma), Shared(dbeta), Shared(dout), Shared(inp), Shared(gamma), Shared(mean), Shared(rstd))
    parallelFor(s.C) { c in
        let (dinp, dgamma, dbeta, dout, inp, gamma) = (dx.p, dg.p, db.p, d0.p, x.p, g.p)
        let m = m0.p[c], r = r0.p[c]
        var sumDy = 0.0, sumDyXhat = 0.0
        for n in 0..<s.N {
            let p = inp + (n * s.C + c) * s.HW, d = dout + (n * s.C + c) * s.HW
            for i in 0..<s.HW { sumDy += Double(d[i]); sumDyXhat += Double(d[i] * (p[i] - m) * r) }
        }
        dgamma[c] += Float(sumDyXhat)
        dbeta[c] += Float(sumDy)
        let k = gamma[c] * r / count, a = Float(sumDy), b = Float(sumDyXhat)
        for n in 0..<s.N {
            let p = inp + (n * s.C + c) * s.HW, d = dout + (n * s.C + c) * s.HW, o = dinp + (n * s.C + c) * s.HW
            for i in 0..<s.HW { o[i] = k * (count * d[i] - a - (p[i] - m) * r * b) }
        }
    }
}
