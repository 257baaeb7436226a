/// The sizes of a 2-D convolution: input (N, C, H, W), weight (K, C, KH, KW), output (N, K, OH, OW).
public struct ConvShape: Sendable, Equatable {
    public var N, C, H, W, K, KH, KW, stride, padding: Int
    public var OH: Int { (H + 2 * padding - KH) / stride + 1 }
    public var OW: Int { (W + 2 * padding - KW) / stride + 1 }
    /// Rows of the unfolded input: C·KH·KW.
    var patch: Int { C * KH * KW }

    public init(N: Int, C: Int, H: Int, W: Int, K: Int, KH: Int, KW: Int, stride: Int = 1, padding: Int = 0) {
        (self.N, self.C, self.H, self.W, self.K, self.KH, self.KW, self.stride, self.padding) = (N, C, H, W, K, KH, KW, stride, padding)
    }
}

/// Unfolds one image (C, H, W) into columns (C·KH·KW, OH·OW); zero outside the image.
func im2col(_ cols: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ s: ConvShape) {
    let (OH, OW) = (s.OH, s.OW)
    for c in 0..<s.C {
        for kh in 0..<s.KH {
            for kw in 0..<s.KW {
                let row = cols + ((c * s.KH + kh) * s.KW + kw) * OH * OW
                for oh in 0..<OH {
                    let ih = oh * s.stride - s.padding + kh
                    let dst = row + oh * OW
                    guard ih >= 0 && ih < s.H else { dst.update(repeating: 0, count: OW); continue }
                    let src = inp + (c * s.H + ih) * s.W
                    for ow in 0..<OW {
                        let iw = ow * s.stride - s.padding + kw
                        dst[ow] = iw >= 0 && iw < s.W ? src[iw] : 0
                    }
                }
            }
        }
    }
}

/// The adjoint of `im2col`: adds columns back into one image's gradient (C, H, W).
func col2im(_ dinp: UnsafeMutablePointer<Float>, _ cols: UnsafePointer<Float>, _ s: ConvShape) {
    let (OH, OW) = (s.OH, s.OW)
    for c in 0..<s.C {
        for kh in 0..<s.KH {
            for kw in 0..<s.KW {
                let row = cols + ((c * s.KH + kh) * s.KW + kw) * OH * OW
                for oh in 0..<OH {
                    let ih = oh * s.stride - s.padding + kh
                    guard ih >= 0 && ih < s.H else { continue }
                    let dst = dinp + (c * s.H + ih) * s.W
                    for ow in 0..<OW {
                        let iw = ow * s.stride - s.padding + kw
                        if iw >= 0 && iw < s.W { dst[iw] += row[oh * OW + ow] }
                    }
                }
            }
        }
    }
}

/// out (N, K, OH, OW) = conv(inp (N, C, H, W), weight (K, C, KH, KW)) + bias (K), by im2col and
/// one GEMM per image. `cols` is scratch of C·KH·KW·OH·OW floats.
public func conv2dForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                          _ bias: UnsafePointer<Float>?, _ s: ConvShape, cols: UnsafeMutablePointer<Float>) {
    let P = s.OH * s.OW
    for n in 0..<s.N {
        im2col(cols, inp + n * s.C * s.H * s.W, s)
        let o = out + n * s.K * P
        sgemm(s.K, P, s.patch, weight, lda: s.patch, cols, ldb: P, o, ldc: P)
        if let bias { for k in 0..<s.K { let b = bias[k]; for p in 0..<P { o[k * P + p] += b } } }
    }
}

/// Gradients of `conv2dForward` from dout (N, K, OH, OW), each only when asked for: accumulated
/// (+=) into dinp (N, C, H, W), dweight (K, C, KH, KW) and dbias (K).
public func conv2dBackward(_ dinp: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>?, _ dbias: UnsafeMutablePointer<Float>?,
                           _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                           _ s: ConvShape, cols: UnsafeMutablePointer<Float>) {
    let P = s.OH * s.OW
    for n in 0..<s.N {
        let d = dout + n * s.K * P
        if let dbias { for k in 0..<s.K { var t: Float = 0; for p in 0..<P { t += d[k * P + p] }; dbias[k] += t } }
        if let dweight {
            im2col(cols, inp + n * s.C * s.H * s.W, s)
            // dweight (K, patch) += dout[n] (K, P) · cols^T (P, patch)
            sgemm(transB: true, s.K, s.patch, P, d, lda: P, cols, ldb: P, beta: 1, dweight, ldc: s.patch)
        }
        if let dinp {
            // dcols (patch, P) = weight^T (patch, K) · dout[n] (K, P)
            sgemm(transA: true, s.patch, P, s.K, weight, lda: s.patch, d, ldb: P, cols, ldc: P)
            col2im(dinp + n * s.C * s.H * s.W, cols, s)
        }
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
