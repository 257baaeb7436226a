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
    // Stride 2 (VGG's 2×2 windows, ResNet's 3×3 with padding 1): eight outputs at a time where
    // the whole window lies inside the row, each kernel column one half (even or odd columns) of
    // a 16-wide load. Outputs owLo..<owHi qualify; the rest go one by one below.
    let strided = s.stride == 2
    let mLo = (-s.padding) >> 1, mHi = (s.kernel - 1 - s.padding) >> 1
    // The last vector starts where its widest load ends at the row's last column.
    let owLo = max(-mLo, (s.padding + 1) / 2), owHi = min(OW, (s.W - 16 - 2 * mHi) / 2 + 8)
    parallelFor(s.planes) { p in
        let plane = x.p + p * s.H * s.W, out = o.p + p * OH * OW, argmax = a.p + p * OH * OW
        for oh in 0..<OH {
            let ih0 = oh * s.stride - s.padding, khLo = max(0, -ih0), khHi = min(s.kernel, s.H - ih0)
            var ow0 = 0, ow1 = 0
            if strided && owHi - owLo >= 8 {
                var ow = owLo
                @inline(__always) func eight(_ ow: Int) {
                    let (best, at) = stride2Windows(plane, s, ih0: ih0, rows: khLo..<khHi, ow: ow)
                    UnsafeMutableRawPointer(out + oh * OW + ow).storeBytes(of: best, as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(argmax + oh * OW + ow).storeBytes(of: at, as: SIMD8<Int32>.self)
                }
                while ow + 8 <= owHi { eight(ow); ow += 8 }
                // The rest of the run as one more vector ending at its end, over outputs already
                // done (the same values again): on ResNet's 64 px stem a row has 14 such outputs.
                if ow < owHi { eight(owHi - 8); ow = owHi }
                (ow0, ow1) = (owLo, ow)
            }
            // One by one: the window's rows and columns inside the plane, found once per row and column.
            for ow in 0..<OW where ow < ow0 || ow >= ow1 {
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

/// The maxima and their indices of the stride-2 windows of outputs ow..<ow+8 in one output row,
/// whose columns all lie inside the plane's row; `rows` are the window rows inside the plane,
/// row kh being input row ih0 + kh. Kernel column kw reads the even
/// or odd half of 16 floats; candidates in window order, as one by one.
@inline(__always)
func stride2Windows(_ plane: UnsafePointer<Float>, _ s: PoolShape, ih0: Int, rows: Range<Int>, ow: Int) -> (SIMD8<Float>, SIMD8<Int32>) {
    let lanes = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
    var best = SIMD8<Float>(), at = SIMD8<Int32>(), first = true
    for kh in rows {
        let row = (ih0 + kh) * s.W
        for kw in 0..<s.kernel {
            let c = kw - s.padding, m = c >> 1
            let pair = UnsafeRawPointer(plane + row + 2 * ow + 2 * m).loadUnaligned(as: SIMD16<Float>.self)
            let v = c & 1 == 0 ? pair.evenHalf : pair.oddHalf
            let index = lanes &+ Int32(row + 2 * ow + c)
            if first { (best, at, first) = (v, index, false); continue }
            let better = (v .> best) .| (v .!= v)
            best.replace(with: v, where: better)
            at.replace(with: index, where: better)
        }
    }
    return (best, at)
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
