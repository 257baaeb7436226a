/// Batch normalisation over (N, C, HW) with PyTorch's semantics: in training, normalise by the
/// batch mean and biased variance, and move the running mean and the running *unbiased*
/// variance by `momentum`; in evaluation, normalise by the running statistics. With `relu`, the
/// ReLU that follows is applied in the same pass (and its gradient taken in the backward's).
public struct BatchNormShape: Sendable, Equatable {
    public var N, C, HW: Int
    public var eps: Float = 1e-5
    public var momentum: Float = 0.1
    public var relu = false
    public init(N: Int, C: Int, HW: Int, relu: Bool = false) { (self.N, self.C, self.HW, self.relu) = (N, C, HW, relu) }
}

/// Σ f(i) for i in 0..<n in double, over eight lanes: one running sum would be a chain of
/// dependent additions, one per element.
@inline(__always)
func laneSum(_ n: Int, _ f: (Int) -> Double) -> Double {
    var lanes = SIMD8<Double>(repeating: 0)
    var i = 0
    while i + 8 <= n {
        lanes += SIMD8(f(i), f(i + 1), f(i + 2), f(i + 3), f(i + 4), f(i + 5), f(i + 6), f(i + 7))
        i += 8
    }
    var t = lanes.sum()
    while i < n { t += f(i); i += 1 }
    return t
}

/// (Σ dy, Σ dy·x̂) over one plane in double, both in one pass over eight lanes, dy zeroed where
/// `mask` (a fused ReLU's output) is not positive.
@inline(__always)
func gradientSums(_ d: UnsafePointer<Float>, _ p: UnsafePointer<Float>, _ mask: UnsafePointer<Float>?, _ m: Float, _ r: Float, _ n: Int) -> (Double, Double) {
    var lanesDy = SIMD8<Double>(repeating: 0), lanesDyXhat = SIMD8<Double>(repeating: 0)
    func load(_ q: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> { UnsafeRawPointer(q + i).loadUnaligned(as: SIMD8<Float>.self) }
    var i = 0
    while i + 8 <= n {
        var v = load(d, i)
        if let mask { v.replace(with: 0, where: load(mask, i) .<= 0) }
        lanesDy += SIMD8<Double>(v)
        lanesDyXhat += SIMD8<Double>(v * (load(p, i) - m) * r)
        i += 8
    }
    var (a, b) = (lanesDy.sum(), lanesDyXhat.sum())
    while i < n {
        let v = mask.map { $0[i] > 0 } ?? true ? d[i] : 0
        a += Double(v)
        b += Double(v * (p[i] - m) * r)
        i += 1
    }
    return (a, b)
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
        for n in 0..<s.N { let p = inp + (n * s.C + c) * s.HW; sum += laneSum(s.HW) { Double(p[$0]) } }
        let m = sum / Double(count)
        var sq = 0.0
        for n in 0..<s.N { let p = inp + (n * s.C + c) * s.HW; sq += laneSum(s.HW) { let d = Double(p[$0]) - m; return d * d } }
        let variance = sq / Double(count)
        let r = Float(1 / (variance + Double(s.eps)).squareRoot())
        mean[c] = Float(m)
        rstd[c] = r
        let unbiased = count > 1 ? variance * Double(count) / Double(count - 1) : variance
        runningMean[c] = (1 - s.momentum) * runningMean[c] + s.momentum * Float(m)
        runningVar[c] = (1 - s.momentum) * runningVar[c] + s.momentum * Float(unbiased)
        normalize(out, inp, c, scale: gamma[c] * r, shift: beta[c] - Float(m) * gamma[c] * r, s)
    }
}

/// out = inp · scale + shift on channel `c` (then the ReLU when fused).
@inline(__always)
func normalize(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ c: Int, scale: Float, shift: Float, _ s: BatchNormShape) {
    for n in 0..<s.N {
        let p = inp + (n * s.C + c) * s.HW, o = out + (n * s.C + c) * s.HW
        if s.relu { for i in 0..<s.HW { o[i] = max(p[i] * scale + shift, 0) } }
        else { for i in 0..<s.HW { o[i] = p[i] * scale + shift } }
    }
}

/// Evaluation forward: the running statistics.
public func batchNormForwardEval(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>,
                                 _ beta: UnsafePointer<Float>, _ runningMean: UnsafePointer<Float>, _ runningVar: UnsafePointer<Float>,
                                 _ s: BatchNormShape) {
    let (o, x) = (Shared(out), Shared(inp))
    parallelFor(s.C) { c in
        let scale = gamma[c] / (runningVar[c] + s.eps).squareRoot()
        normalize(o.p, x.p, c, scale: scale, shift: beta[c] - runningMean[c] * scale, s)
    }
}

/// Gradients of the training forward, accumulated into dgamma, dbeta; dinp is overwritten:
/// dx = γ·rstd/M · (M·dy − Σdy − x̂·Σ(dy·x̂)). With a fused ReLU, dy is first zeroed where the
/// forward's output `out` (required then) is not positive.
public func batchNormBackward(_ dinp: UnsafeMutablePointer<Float>, _ dgamma: UnsafeMutablePointer<Float>, _ dbeta: UnsafeMutablePointer<Float>,
                              _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>,
                              _ mean: UnsafePointer<Float>, _ rstd: UnsafePointer<Float>, _ s: BatchNormShape,
                              output: UnsafePointer<Float>? = nil) {
    precondition(!s.relu || output != nil, "a fused ReLU's backward needs the forward's output")
    let count = Float(s.N * s.HW)
    let (dx, dg, db, d0, x, g, m0, r0) = (Shared(dinp), Shared(dgamma), Shared(dbeta), Shared(dout), Shared(inp), Shared(gamma), Shared(mean), Shared(rstd))
    let y = output.map(Shared.init)
    parallelFor(s.C) { c in
        let (dinp, dgamma, dbeta, dout, inp, gamma) = (dx.p, dg.p, db.p, d0.p, x.p, g.p)
        let m = m0.p[c], r = r0.p[c]
        var sumDy = 0.0, sumDyXhat = 0.0
        for n in 0..<s.N {
            let at = (n * s.C + c) * s.HW
            let (a, b) = gradientSums(dout + at, inp + at, y.map { $0.p + at }, m, r, s.HW)
            sumDy += a
            sumDyXhat += b
        }
        dgamma[c] += Float(sumDyXhat)
        dbeta[c] += Float(sumDy)
        let k = gamma[c] * r / count, a = Float(sumDy), b = Float(sumDyXhat)
        for n in 0..<s.N {
            let at = (n * s.C + c) * s.HW, p = inp + at, d = dout + at, o = dinp + at
            if let y {
                let q = y.p + at
                for i in 0..<s.HW { let v = d[i]; o[i] = k * (count * (q[i] > 0 ? v : 0) - a - (p[i] - m) * r * b) }
            } else {
                for i in 0..<s.HW { o[i] = k * (count * d[i] - a - (p[i] - m) * r * b) }
            }
        }
    }
}
