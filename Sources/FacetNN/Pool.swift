/// Max pooling over (N·C) planes of H×W: kernel, stride, padding (padding counts as −∞).
/// Saves the flat index of each maximum for the backward pass; ties go to the first in
/// row-major window order, as PyTorch's CPU kernel does.
public struct PoolShape: Sendable, Equatable {
    public var planes, H, W, kernel, stride, padding: Int
    public var OH: Int { (H + 2 * padding - kernel) / stride + 1 }
    public var OW: Int { (W + 2 * padding - kernel) / stride + 1 }
    public init(planes: Int, H: Int, W: Int, kernel: Int, stride: Int, padding: Int = 0) {
        (self.planes, self.H, self.W, self.kernel, self.stride, self.padding) = (planes, H, W, kernel, stride, padding)
    }
}

public func maxPoolForward(_ out: UnsafeMutablePointer<Float>, _ argmax: UnsafeMutablePointer<Int32>, _ inp: UnsafePointer<Float>, _ s: PoolShape) {
    let (OH, OW) = (s.OH, s.OW)
    let (o, a, x) = (Shared(out), Shared(argmax), Shared(inp))
    let pairs = s.kernel == 2 && s.stride == 2 && s.padding == 0
    parallelFor(s.planes) { p in
        let plane = x.p + p * s.H * s.W, out = o.p + p * OH * OW, argmax = a.p + p * OH * OW
        for oh in 0..<OH {
            // VGG's 2×2 windows, eight outputs at a time: the even and odd columns of two rows.
            var ow0 = 0
            if pairs {
                let r0 = plane + 2 * oh * s.W, r1 = r0 + s.W
                let lanes = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
                while ow0 + 8 <= OW {
                    let top = UnsafeRawPointer(r0 + 2 * ow0).loadUnaligned(as: SIMD16<Float>.self)
                    let bottom = UnsafeRawPointer(r1 + 2 * ow0).loadUnaligned(as: SIMD16<Float>.self)
                    var best = top.evenHalf, at = lanes &+ Int32(2 * oh * s.W + 2 * ow0)
                    for (v, step) in [(top.oddHalf, Int32(1)), (bottom.evenHalf, Int32(s.W)), (bottom.oddHalf, Int32(s.W + 1))] {
                        let better = (v .> best) .| (v .!= v)
                        best.replace(with: v, where: better)
                        at.replace(with: lanes &+ Int32(2 * oh * s.W + 2 * ow0) &+ step, where: better)
                    }
                    UnsafeMutableRawPointer(out + oh * OW + ow0).storeBytes(of: best, as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(argmax + oh * OW + ow0).storeBytes(of: at, as: SIMD8<Int32>.self)
                    ow0 += 8
                }
            }
            // The window's rows and columns inside the plane, found once per row and column.
            let ih0 = oh * s.stride - s.padding, khLo = max(0, -ih0), khHi = min(s.kernel, s.H - ih0)
            for ow in ow0..<OW {
                let iw0 = ow * s.stride - s.padding, kwLo = max(0, -iw0), kwHi = min(s.kernel, s.W - iw0)
                var at = (ih0 + khLo) * s.W + iw0 + kwLo, best = plane[at]
                for kh in khLo..<khHi {
                    let r = (ih0 + kh) * s.W + iw0
                    for kw in kwLo..<kwHi {
                        // Selects, not a branch: on real activations the branch is a coin toss.
                        let v = plane[r + kw], better = v > best || v.isNaN
                        best = better ? v : best
                        at = better ? r + kw : at
                    }
                }
                out[oh * OW + ow] = best
                argmax[oh * OW + ow] = Int32(at)
            }
        }
    }
}

/// The reference: every window position checked against the plane's bounds.
public func maxPoolForwardNaive(_ out: UnsafeMutablePointer<Float>, _ argmax: UnsafeMutablePointer<Int32>, _ inp: UnsafePointer<Float>, _ s: PoolShape) {
    let (OH, OW) = (s.OH, s.OW)
    for p in 0..<s.planes {
        let plane = inp + p * s.H * s.W
        for oh in 0..<OH { for ow in 0..<OW {
            var best = -Float.infinity, at: Int32 = -1
            for kh in 0..<s.kernel { for kw in 0..<s.kernel {
                let ih = oh * s.stride - s.padding + kh, iw = ow * s.stride - s.padding + kw
                guard ih >= 0 && ih < s.H && iw >= 0 && iw < s.W else { continue }
                let v = plane[ih * s.W + iw]
                if v > best || v.isNaN || at < 0 { best = v; at = Int32(ih * s.W + iw) }
            } }
            out[(p * OH + oh) * OW + ow] = best
            argmax[(p * OH + oh) * OW + ow] = at
        } }
    }
}

/// dinp (overwritten) receives each output's gradient at its maximum.
public func maxPoolBackward(_ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ argmax: UnsafePointer<Int32>, _ s: PoolShape) {
    let per = s.OH * s.OW
    let (dx, dy, a) = (Shared(dinp), Shared(dout), Shared(argmax))
    parallelFor(s.planes) { p in
        let plane = dx.p + p * s.H * s.W, dout = dy.p + p * per, argmax = a.p + p * per
        plane.update(repeating: 0, count: s.H * s.W)
        for i in 0..<per { plane[Int(argmax[i])] += dout[i] }
    }
}

/// Adaptive pooling's bin `i` of `count` over `n` inputs, PyTorch's: floor(i·n/count) ..< ceil((i+1)·n/count).
@inline(__always)
func adaptiveBin(_ i: Int, of count: Int, over n: Int) -> Range<Int> { i * n / count ..< ((i + 1) * n + count - 1) / count }

/// Adaptive average pooling to OH×OW over PyTorch's bins.
public func adaptiveAvgPoolForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, planes: Int, H: Int, W: Int, OH: Int, OW: Int) {
    for p in 0..<planes {
        let plane = inp + p * H * W
        for oh in 0..<OH {
            let rows = adaptiveBin(oh, of: OH, over: H)
            for ow in 0..<OW {
                let cols = adaptiveBin(ow, of: OW, over: W)
                var sum: Float = 0
                for h in rows { for w in cols { sum += plane[h * W + w] } }
                out[(p * OH + oh) * OW + ow] = sum / Float(rows.count * cols.count)
            }
        }
    }
}

/// dinp (overwritten): each output's gradient shared evenly over its bin.
public func adaptiveAvgPoolBackward(_ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, planes: Int, H: Int, W: Int, OH: Int, OW: Int) {
    dinp.update(repeating: 0, count: planes * H * W)
    for p in 0..<planes {
        let plane = dinp + p * H * W
        for oh in 0..<OH {
            let rows = adaptiveBin(oh, of: OH, over: H)
            for ow in 0..<OW {
                let cols = adaptiveBin(ow, of: OW, over: W)
                let g = dout[(p * OH + oh) * OW + ow] / Float(rows.count * cols.count)
                for h in rows { for w in cols { plane[h * W + w] += g } }
            }
        }
    }
}
