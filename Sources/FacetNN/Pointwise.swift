/// Element-wise loops over large tensors, in blocks on all cores (each element's result does
/// not depend on the blocking).
@inline(__always)
func parallelBlocks(_ count: Int, _ body: (Int, Int) -> Void) {
    let block = 1 << 15
    parallelFor((count + block - 1) / block) { b in body(b * block, min(count, (b + 1) * block)) }
}

/// out = 0 over `count` elements, in blocks on all cores.
public func fillZero(_ out: UnsafeMutablePointer<Float>, _ count: Int) {
    let o = Shared(out)
    parallelBlocks(count) { lo, hi in (o.p + lo).update(repeating: 0, count: hi - lo) }
}

/// out = max(inp, 0).
public func reluForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ count: Int) {
    let (o, x) = (Shared(out), Shared(inp))
    parallelBlocks(count) { lo, hi in
        let (out, inp) = (o.p, x.p)
        for i in lo..<hi { out[i] = max(inp[i], 0) }
    }
}

/// dinp = dout where the forward output was positive, else 0 (PyTorch: the gradient at 0 is 0).
public func reluBackward(_ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ out: UnsafePointer<Float>, _ count: Int) {
    let (dx, dy, y) = (Shared(dinp), Shared(dout), Shared(out))
    parallelBlocks(count) { lo, hi in
        let (dinp, dout, out) = (dx.p, dy.p, y.p)
        for i in lo..<hi { dinp[i] = out[i] > 0 ? dout[i] : 0 }
    }
}

/// out = a + b (the residual connection); its backward passes dout to both.
public func addForward(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) {
    let (o, x, y) = (Shared(out), Shared(a), Shared(b))
    parallelBlocks(count) { lo, hi in
        let (out, a, b) = (o.p, x.p, y.p)
        for i in lo..<hi { out[i] = a[i] + b[i] }
    }
}

/// out = max(a + b, 0): the residual sum and the ReLU after it in one pass.
public func addReluForward(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) {
    let (o, x, y) = (Shared(out), Shared(a), Shared(b))
    parallelBlocks(count) { lo, hi in
        let (out, a, b) = (o.p, x.p, y.p)
        for i in lo..<hi { out[i] = max(a[i] + b[i], 0) }
    }
}
