import Foundation

/// An optimiser over a model's trainable parameters (frozen ones and buffers are skipped).
/// `lr` may be changed between steps: that is the learning-rate schedule hook.
public protocol Optimizer: AnyObject {
    var lr: Float { get set }
    func step()
}

/// PyTorch's `torch.optim.Adam`: weight decay added to the gradient (L2), bias-corrected moments,
/// p −= lr · m̂ / (√v̂ + eps).
public final class Adam: Optimizer {
    public var lr: Float
    public let beta1, beta2, eps, weightDecay: Float
    /// AdamW's decoupled decay: p −= lr · wd · p before the update, instead of adding wd·p to the gradient.
    public let decoupled: Bool
    let params: [Param]
    var m: [[Float]], v: [[Float]]
    var t = 0

    public init(_ model: Module, lr: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999), eps: Float = 1e-8,
                weightDecay: Float = 0, decoupled: Bool = false) {
        params = model.namedParams().map(\.1).filter(\.trainable)
        (self.lr, beta1, beta2, self.eps, self.weightDecay, self.decoupled) = (lr, betas.0, betas.1, eps, weightDecay, decoupled)
        m = params.map { [Float](repeating: 0, count: $0.value.count) }
        v = m
    }

    /// `torch.optim.AdamW` (its default weight decay is 0.01).
    public static func adamW(_ model: Module, lr: Float = 1e-3, weightDecay: Float = 0.01) -> Adam {
        Adam(model, lr: lr, weightDecay: weightDecay, decoupled: true)
    }

    public func step() {
        t += 1
        let bc1 = 1 - pow(beta1, Float(t)), bc2 = 1 - pow(beta2, Float(t))
        let stepSize = lr / bc1, bc2Root = bc2.squareRoot()
        let (beta1, beta2, eps, lr, weightDecay, decoupled) = (beta1, beta2, eps, lr, weightDecay, decoupled)
        let shrink = 1 - lr * weightDecay, oneMinusBeta1 = 1 - beta1, oneMinusBeta2 = 1 - beta2
        for (k, p) in params.enumerated() where !p.frozen && p.hasGrad {
            let n = p.value.count
            p.value.data.withUnsafeMutableBufferPointer { w in
                p.grad.data.withUnsafeBufferPointer { g in
                    m[k].withUnsafeMutableBufferPointer { m in
                        v[k].withUnsafeMutableBufferPointer { v in
                            let (w, g, m, v) = (Shared(w.baseAddress!), Shared(g.baseAddress!), Shared(m.baseAddress!), Shared(v.baseAddress!))
                            // Element by element (eight at a time: the same IEEE operations in the same
                            // order as one at a time), so blocks of a large tensor update on all cores
                            // with the same results.
                            parallelBlocks(n) { start, end in
                                let (w, g, m, v) = (w.p, g.p, m.p, v.p)
                                var i = start
                                func at(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self) }
                                func put(_ x: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p + i).storeBytes(of: x, as: SIMD8<Float>.self) }
                                while i + 8 <= end {
                                    var wi = at(w)
                                    if decoupled { wi *= shrink }
                                    let grad = decoupled ? at(g) : at(g) + weightDecay * wi
                                    let mi = beta1 * at(m) + oneMinusBeta1 * grad
                                    let vi = beta2 * at(v) + oneMinusBeta2 * grad * grad
                                    wi -= stepSize * mi / (vi.squareRoot() / bc2Root + eps)
                                    put(mi, m)
                                    put(vi, v)
                                    put(wi, w)
                                    i += 8
                                }
                                for i in i..<end {
                                    if decoupled { w[i] *= shrink }
                                    let grad = decoupled ? g[i] : g[i] + weightDecay * w[i]
                                    m[i] = beta1 * m[i] + oneMinusBeta1 * grad
                                    v[i] = beta2 * v[i] + oneMinusBeta2 * grad * grad
                                    w[i] -= stepSize * m[i] / (v[i].squareRoot() / bc2Root + eps)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// PyTorch's `torch.optim.SGD` with momentum (no dampening, not Nesterov): weight decay added to
/// the gradient; buf = momentum · buf + g; p −= lr · buf.
public final class SGD: Optimizer {
    public var lr: Float
    public let momentum, weightDecay: Float
    let params: [Param]
    var buffers: [[Float]]?

    public init(_ model: Module, lr: Float, momentum: Float = 0, weightDecay: Float = 0) {
        params = model.namedParams().map(\.1).filter(\.trainable)
        (self.lr, self.momentum, self.weightDecay) = (lr, momentum, weightDecay)
    }

    public func step() {
        let first = buffers == nil
        if first { buffers = params.map { [Float](repeating: 0, count: $0.value.count) } }
        for (k, p) in params.enumerated() where !p.frozen && p.hasGrad {
            for i in 0..<p.value.count {
                let g = p.grad.data[i] + weightDecay * p.value.data[i]
                // PyTorch starts the buffer at the first gradient itself.
                buffers![k][i] = momentum == 0 ? g : (first ? g : momentum * buffers![k][i] + g)
                p.value.data[i] -= lr * buffers![k][i]
            }
        }
    }
}
