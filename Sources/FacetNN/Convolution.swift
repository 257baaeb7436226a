/// out (N, K, OH, OW) = conv(inp (N, C, H, W), weight (K, C, KH, KW)) + bias (K), by `path`;
/// with `relu`, max(that, 0) in the same last pass. On the Winograd path the weight's transform
/// (positions, K, C), or on the shifted path the weight at each kernel position, is left in
/// `transformedWeight` when given, for `conv2dBackward`; on the Winograd path the input's
/// transform is left in `transformedInput` when given and the batch makes one chunk.
public func conv2dForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                          _ bias: UnsafePointer<Float>?, _ s: ConvShape, path: ConvPath = .automatic,
                          columnBudget: Int = ConvShape.columnBudget, bandFloats: Int = ConvShape.bandFloats,
                          winogradFloats: Int = ConvShape.winogradFloats, relu: Bool = false,
                          transformedWeight: UnsafeMutablePointer<Float>? = nil, transformedInput: UnsafeMutablePointer<Float>? = nil) {
    let path = s.resolve(path)
    if let w = s.winograd(path) {
        return conv2dForwardWinograd(out, inp, weight, bias, w, budget: winogradFloats, relu: relu, transformed: transformedWeight,
                                     keptInput: transformedInput)
    }
    if path == .shifted {
        return conv2dForwardShifted(out, inp, weight, bias, s, budget: columnBudget, relu: relu, gathered: transformedWeight)
    }
    if path == .perImage { return conv2dForwardPerImage(out, inp, weight, bias, s, bandFloats: bandFloats, relu: relu) }
    for (start, chunk) in s.chunks(columnBudget) {
        conv2dForwardChunk(out + start * s.K * s.OH * s.OW, inp + start * s.C * s.H * s.W, weight, bias, chunk, relu: relu)
    }
}

/// Batched: the chunk unfolded on all cores into columns (C·KH·KW, N·OH·OW), one GEMM
/// (K, N·OH·OW), then laid out per image.
func conv2dForwardChunk(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                        _ bias: UnsafePointer<Float>?, _ s: ConvShape, relu: Bool) {
    let P = s.OH * s.OW, NP = s.N * P
    let colsBuffer = Scratch.take(s.patch * NP), wideBuffer = Scratch.take(s.K * NP)
    defer { Scratch.release(colsBuffer); Scratch.release(wideBuffer) }
    let (cols, wide) = (colsBuffer.p, wideBuffer.p)
    let (c, i, o, w) = (Shared(cols), Shared(inp), Shared(out), Shared(wide))
    let u = Unfolding(s)
    parallelFor(s.N) { n in im2col(c.p, i.p, s, image: n, u) }
    sgemm(s.K, NP, s.patch, weight, lda: s.patch, cols, ldb: NP, wide, ldc: NP)
    let b = bias.map(Shared.init)
    parallelFor(s.K) { k in
        let bk = b?.p[k] ?? 0
        for n in 0..<s.N {
            let src = w.p + k * NP + n * P, dst = o.p + (n * s.K + k) * P
            if relu { for q in 0..<P { dst[q] = max(src[q] + bk, 0) } } else { for q in 0..<P { dst[q] = src[q] + bk } }
        }
    }
}

/// Per image: each image's columns (C·KH·KW, OH·OW) and its GEMM straight into its output.
func conv2dForwardPerImage(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                           _ bias: UnsafePointer<Float>?, _ s: ConvShape, bandFloats: Int, relu: Bool) {
    let P = s.OH * s.OW, one = s.single, u = Unfolding(one)
    let (i, o, w, b) = (Shared(inp), Shared(out), Shared(weight), bias.map(Shared.init))
    // Shifted planes unfold a band of output pixels at a time: a VGG16 layer's columns at 224 px
    // would take 115 MB per core.
    let band = u.shifts == nil ? P : min(P, max(16, bandFloats / one.patch + 15 & ~15))
    parallelFor(s.N) { n in
        let cols = Scratch.take(one.patch * band)
        defer { Scratch.release(cols) }
        let img = i.p + n * s.C * s.H * s.W, dst = o.p + n * s.K * P
        if let shifts = u.shifts {
            for q0 in stride(from: 0, to: P, by: band) {
                let q = q0..<min(P, q0 + band)
                for c in 0..<s.C {
                    for (r, shift) in shifts.enumerated() { shift.unfold(cols.p + (c * shifts.count + r) * q.count, img + c * s.H * s.W, one, q) }
                }
                sgemm(s.K, q.count, one.patch, w.p, lda: one.patch, cols.p, ldb: q.count, dst + q0, ldc: P, split: false)
            }
        } else {
            im2col(cols.p, img, one, image: 0, u)
            sgemm(s.K, P, one.patch, w.p, lda: one.patch, cols.p, ldb: P, dst, ldc: P, split: false)
        }
        guard b != nil || relu else { return }
        for k in 0..<s.K {
            let bk = b?.p[k] ?? 0, row = dst + k * P
            if relu { for q in 0..<P { row[q] = max(row[q] + bk, 0) } } else { for q in 0..<P { row[q] += bk } }
        }
    }
}

/// Gradients of `conv2dForward` from dout (N, K, OH, OW), each only when asked for: accumulated
/// (+=) into dinp (N, C, H, W), dweight (K, C, KH, KW) and dbias (K), by `path`;
/// `transformedWeight` and `transformedInput`, when given, are what the forward pass left there
/// (the second is overwritten).
public func conv2dBackward(_ dinp: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>?, _ dbias: UnsafeMutablePointer<Float>?,
                           _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ s: ConvShape,
                           path: ConvPath = .automatic, columnBudget: Int = ConvShape.columnBudget,
                           winogradFloats: Int = ConvShape.winogradFloats, transformedWeight: UnsafePointer<Float>? = nil,
                           transformedInput: UnsafeMutablePointer<Float>? = nil) {
    let path = s.resolve(path)
    if let w = s.winograd(path) {
        if let dbias { addBiasGradient(dbias, dout, s) }
        return conv2dBackwardWinograd(dinp, dweight, dout, inp, weight, w, budget: winogradFloats, transformed: transformedWeight,
                                      keptInput: transformedInput)
    }
    if path == .shifted {
        if let dbias { addBiasGradient(dbias, dout, s) }
        return conv2dBackwardShifted(dinp, dweight, dout, inp, weight, s, budget: columnBudget, gathered: transformedWeight)
    }
    if path == .perImage { return conv2dBackwardPerImage(dinp, dweight, dbias, dout, inp, weight, s) }
    for (start, chunk) in s.chunks(columnBudget) {
        let x = start * s.C * s.H * s.W
        conv2dBackwardChunk(dinp.map { $0 + x }, dweight, dbias, dout + start * s.K * s.OH * s.OW, inp + x, weight, chunk)
    }
}

/// Images per partial weight gradient on the per-image path: each group of this many images sums
/// its own, and the groups' sums are added in order, so the result does not depend on the cores.
let imagesPerPartialGradient = 4

/// Per image: dweight from each image's columns into its group's partial sum, the input's
/// columns from each image's GEMM folded back into its gradient; the partial sums added last.
func conv2dBackwardPerImage(_ dinp: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>?, _ dbias: UnsafeMutablePointer<Float>?,
                            _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ s: ConvShape) {
    let P = s.OH * s.OW, one = s.single, patch = one.patch, wsize = s.K * patch
    let d = Shared(dout)
    if let dbias { addBiasGradient(dbias, dout, s) }
    guard dweight != nil || dinp != nil else { return }
    let groups = (s.N + imagesPerPartialGradient - 1) / imagesPerPartialGradient, u = Unfolding(one)
    let partials = dweight.map { _ in Scratch.take(groups * wsize) }
    defer { partials.map(Scratch.release) }
    let (i, w, pw, dx) = (Shared(inp), Shared(weight), partials.map { Shared($0.p) }, dinp.map(Shared.init))
    parallelFor(groups) { g in
        let cols = Scratch.take(patch * P)
        defer { Scratch.release(cols) }
        let first = g * imagesPerPartialGradient
        for n in first..<min(s.N, first + imagesPerPartialGradient) {
            let dy = d.p + n * s.K * P
            if let pw {
                // partial (K, patch) (+)= dout_n (K, P) · cols^T (P, patch)
                im2col(cols.p, i.p + n * s.C * s.H * s.W, one, image: 0, u)
                sgemm(transB: true, s.K, patch, P, dy, lda: P, cols.p, ldb: P, beta: n == first ? 0 : 1,
                      pw.p + g * wsize, ldc: patch, split: false)
            }
            if let dx {
                // dcols (patch, P) = weight^T (patch, K) · dout_n (K, P)
                sgemm(transA: true, patch, P, s.K, w.p, lda: patch, dy, ldb: P, cols.p, ldc: P, split: false)
                col2im(dx.p + n * s.C * s.H * s.W, cols.p, one, image: 0, u)
            }
        }
    }
    if let dweight, let pw {
        let dw = Shared(dweight)
        parallelBlocks(wsize) { lo, hi in
            for j in lo..<hi {
                var t: Float = 0
                for g in 0..<groups { t += pw.p[g * wsize + j] }
                dw.p[j] += t
            }
        }
    }
}

/// dbias (K) += dout (N, K, OH, OW) summed over images and pixels.
func addBiasGradient(_ dbias: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ s: ConvShape) {
    let P = s.OH * s.OW, (d, db) = (Shared(dout), Shared(dbias))
    parallelFor(s.K) { k in
        var t: Float = 0
        for n in 0..<s.N { let src = d.p + (n * s.K + k) * P; for q in 0..<P { t += src[q] } }
        db.p[k] += t
    }
}

func conv2dBackwardChunk(_ dinp: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>?, _ dbias: UnsafeMutablePointer<Float>?,
                         _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ s: ConvShape) {
    let P = s.OH * s.OW, NP = s.N * P
    // dout laid out as (K, N·P), and the bias gradient on the way.
    let wideBuffer = Scratch.take(s.K * NP)
    defer { Scratch.release(wideBuffer) }
    let wide = wideBuffer.p
    let (w, d, db) = (Shared(wide), Shared(dout), dbias.map(Shared.init))
    parallelFor(s.K) { k in
        var t: Float = 0
        for n in 0..<s.N {
            let src = d.p + (n * s.K + k) * P, dst = w.p + k * NP + n * P
            for q in 0..<P { dst[q] = src[q]; t += src[q] }
        }
        db?.p[k] += t
    }
    guard dweight != nil || dinp != nil else { return }
    let colsBuffer = Scratch.take(s.patch * NP)
    defer { Scratch.release(colsBuffer) }
    let cols = colsBuffer.p
    let (c, i, u) = (Shared(cols), Shared(inp), Unfolding(s))
    if let dweight {
        parallelFor(s.N) { n in im2col(c.p, i.p, s, image: n, u) }
        // dweight (K, patch) += dout (K, NP) · cols^T (NP, patch)
        sgemm(transB: true, s.K, s.patch, NP, wide, lda: NP, cols, ldb: NP, beta: 1, dweight, ldc: s.patch)
    }
    if let dinp {
        // dcols (patch, NP) = weight^T (patch, K) · dout (K, NP)
        sgemm(transA: true, s.patch, NP, s.K, weight, lda: s.patch, wide, ldb: NP, cols, ldc: NP)
        let g = Shared(dinp)
        parallelFor(s.N) { n in col2im(g.p, c.p, s, image: n, u) }
    }
}

/// The reference: a plain loop nest, the definition the fast path is tested against.
public func conv2dForwardNaive(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                               _ bias: UnsafePointer<Float>?, _ s: ConvShape) {
    for n in 0..<s.N { for k in 0..<s.K { for oh in 0..<s.OH { for ow in 0..<s.OW {
        var acc: Float = bias?[k] ?? 0
        for c in 0..<s.C { for kh in 0..<s.KH { for kw in 0..<s.KW {
            let ih = oh * s.stride - s.padding + kh, iw = ow * s.stride - s.padding + kw
            if ih < 0 || ih >= s.H || iw < 0 || iw >= s.W { continue }
            acc += inp[((n * s.C + c) * s.H + ih) * s.W + iw] * weight[((k * s.C + c) * s.KH + kh) * s.KW + kw]
        } } }
        out[((n * s.K + k) * s.OH + oh) * s.OW + ow] = acc
    } } } }
}

/// The reference backward, by the same loop nest.
public func conv2dBackwardNaive(_ dinp: UnsafeMutablePointer<Float>, _ dweight: UnsafeMutablePointer<Float>, _ dbias: UnsafeMutablePointer<Float>?,
                                _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ s: ConvShape) {
    for n in 0..<s.N { for k in 0..<s.K { for oh in 0..<s.OH { for ow in 0..<s.OW {
        let g = dout[((n * s.K + k) * s.OH + oh) * s.OW + ow]
        dbias?[k] += g
        for c in 0..<s.C { for kh in 0..<s.KH { for kw in 0..<s.KW {
            let ih = oh * s.stride - s.padding + kh, iw = ow * s.stride - s.padding + kw
            if ih < 0 || ih >= s.H || iw < 0 || iw >= s.W { continue }
            let i = ((n * s.C + c) * s.H + ih) * s.W + iw, w = ((k * s.C + c) * s.KH + kh) * s.KW + kw
            dinp[i] += g * weight[w]
            dweight[w] += g * inp[i]
        } } }
    } } } }
}
