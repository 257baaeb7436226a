/// The sizes of a 2-D convolution: input (N, C, H, W), weight (K, C, KH, KW), output (N, K, OH, OW).
public struct ConvShape: Sendable, Equatable {
    public var N, C, H, W, K, KH, KW, stride, padding: Int
    public var OH: Int { (H + 2 * padding - KH) / stride + 1 }
    public var OW: Int { (W + 2 * padding - KW) / stride + 1 }
    /// Rows of the unfolded input: C·KH·KW.
    var patch: Int { C * KH * KW }

    /// At most this many floats of unfolded columns at a time (128 MiB): a batch of large images
    /// is unfolded and multiplied a few images at a time.
    public static let columnBudget = 32 << 20

    /// Output pixels per image from which images are convolved one by one (`ConvPath.perImage`).
    public static let perImageMinimum = 64

    /// Floats of columns per core on the per-image path's banded unfolding (16 MiB).
    public static let bandFloats = 4 << 20

    /// At most this many floats of transformed tiles at a time on the Winograd path (32 MiB).
    public static let winogradFloats = 8 << 20

    /// The path `automatic` takes: for 3×3 kernels of stride 1 padded by 1, Winograd's F(4×4, 3×3)
    /// where it pays (`Winograd.pays`: planes of 7×7 and up), else F(2×2, 3×3) where that pays
    /// (4×4 planes); else, for stride 1, one product per kernel position where that pays
    /// (`ShiftedProducts.pays`: 1×1 planes, and 2×2 ones of 256 channels and more);
    /// else the unfolded one. A path that cannot take the shape is the unfolded one.
    public func resolve(_ path: ConvPath) -> ConvPath {
        switch path {
        case .automatic:
            if Winograd(self, tile: 4)?.pays == true { return .winograd4 }
            if Winograd(self)?.pays == true { return .winograd }
            return ShiftedProducts(self)?.pays == true ? .shifted : unfolded
        case .winograd, .winograd4: return Winograd(self) != nil ? path : unfolded
        case .shifted: return ShiftedProducts(self) != nil ? path : unfolded
        case .batched, .perImage: return path
        }
    }

    /// Floats of the weight's transform that `conv2dForward` leaves for `conv2dBackward` on the
    /// automatic path (`transformedWeight`): 16·K·C or 36·K·C on Winograd's, K·C per kernel
    /// position reaching the input on the shifted one, none elsewhere.
    public var transformedWeightFloats: Int {
        let path = resolve(.automatic)
        if path == .shifted { return ShiftedProducts(self)!.weightFloats }
        return (winograd(path)?.positions ?? 0) * K * C
    }

    /// Floats of the transformed input that `conv2dForward` can leave for `conv2dBackward` on the
    /// automatic path (`transformedInput`): Winograd's V for the whole batch, where its tiles make
    /// one chunk of `winogradFloats`; none elsewhere.
    public var transformedInputFloats: Int { transformedInputFloats(on: resolve(.automatic)) }

    /// The same on `path` (one that can take the shape, as `resolve` gives it).
    public func transformedInputFloats(on path: ConvPath) -> Int { winograd(path)?.keptInputFloats(Self.winogradFloats) ?? 0 }

    /// The Winograd transform of `path` for this shape, if it is one.
    func winograd(_ path: ConvPath) -> Winograd? {
        switch path {
        case .winograd: Winograd(self, tile: 2)
        case .winograd4: Winograd(self, tile: 4)
        default: nil
        }
    }

    /// The path of an unfolded convolution (im2col): one image at a time when each image's product
    /// is large enough and there are images for every core, else the batch at once.
    public var unfolded: ConvPath { OH * OW >= Self.perImageMinimum && N >= BLASThreads.cores ? .perImage : .batched }

    /// The same convolution on one image.
    var single: ConvShape { var one = self; one.N = 1; return one }

    /// (first image, the shape of a chunk of the batch) covering the batch within the budget.
    func chunks(_ budget: Int) -> [(Int, ConvShape)] {
        let per = max(1, patch * OH * OW)
        let size = max(1, min(N, budget / per))
        return Swift.stride(from: 0, to: N, by: size).map { start in
            var c = self
            c.N = min(size, N - start)
            return (start, c)
        }
    }

    /// The output columns lo..<hi whose input column ow·stride − padding + kw lies inside the image.
    @inline(__always)
    func inside(_ kw: Int) -> (Int, Int) {
        let first = padding - kw                                   // ow·stride ≥ first
        let lo = first <= 0 ? 0 : (first + stride - 1) / stride
        let last = W - 1 + padding - kw                            // ow·stride ≤ last
        let hi = last < 0 ? 0 : min(OW, last / stride + 1)
        return (min(lo, OW), hi)
    }

    /// "conv 3×3/1 256→256 on 4×4 (winograd)": kernel, stride, channels, input plane and the automatic path (`LayerTimes`).
    var label: String { "conv \(KH)×\(KW)/\(stride) \(C)→\(K) on \(H)×\(W) (\(resolve(.automatic)))" }

    public init(N: Int, C: Int, H: Int, W: Int, K: Int, KH: Int, KW: Int, stride: Int = 1, padding: Int = 0) {
        (self.N, self.C, self.H, self.W, self.K, self.KH, self.KW, self.stride, self.padding) = (N, C, H, W, K, KH, KW, stride, padding)
    }
}

/// How a convolution is laid out on the cores.
public enum ConvPath: Sendable, Equatable {
    /// Chosen from the shape (`ConvShape.resolve`).
    case automatic
    /// The batch (or as many images as the column budget allows) unfolded into one column matrix
    /// and multiplied by one GEMM split over the cores: for small images, where one image's
    /// product is too small to run well alone.
    case batched
    /// Each image unfolded and multiplied alone, images spread over the cores: the columns stay in
    /// cache and the product lands in the output's own layout, with no copy.
    case perImage
    /// Winograd's F(2×2, 3×3) (`Winograd`): 3×3 kernels of stride 1 padded by 1 only.
    case winograd
    /// Winograd's F(4×4, 3×3) (`Winograd4.swift`): the same kernels, fewer products per output pixel.
    case winograd4
    /// One product per kernel position over the pixels it reaches inside the input
    /// (`ShiftedProducts`): stride 1 only; for small planes, where most of im2col's columns are padding.
    case shifted
}

/// A row of the columns of a stride-1 convolution whose output is as wide as its input (3×3 with
/// padding 1): output pixel q = oh·W + ow reads input q + dh·W + dw, so the row is the plane
/// shifted by one offset over `lo..<hi`, except at the columns `wrapped` lists, whose input lies
/// outside its row (the shift carries a neighbouring row's pixel there).
struct ShiftedRow {
    let dh, dw, lo, hi, ohLo, ohHi: Int
    /// The output columns, in each row ohLo..<ohHi, whose input column is outside the image.
    let wrapped: Range<Int>

    init?(_ s: ConvShape, kh: Int, kw: Int) {
        guard s.stride == 1 && s.OW == s.W else { return nil }
        let (OH, OW) = (s.OH, s.OW)
        (dh, dw) = (kh - s.padding, kw - s.padding)
        (ohLo, ohHi) = (max(0, -dh), min(OH, s.H - dh))
        lo = ohLo * OW + max(0, -dw)
        hi = ohHi > ohLo ? (ohHi - 1) * OW + min(OW, OW - dw) : lo
        wrapped = dw < 0 ? 0..<min(-dw, OW) : max(0, OW - dw)..<OW
    }

    /// Offset of the input pixel that output pixel `lo` reads.
    func source(_ W: Int) -> Int { lo + dh * W + dw }

    /// Zeros the wrapped columns among output pixels `band`, `row[0]` being pixel `band.lowerBound`.
    func clearWrapped(_ row: UnsafeMutablePointer<Float>, _ OW: Int, _ band: Range<Int>) {
        guard !wrapped.isEmpty else { return }
        for oh in max(ohLo, band.lowerBound / OW)..<max(ohLo, min(ohHi, (band.upperBound + OW - 1) / OW)) {
            for ow in wrapped where band.contains(oh * OW + ow) { row[oh * OW + ow - band.lowerBound] = 0 }
        }
    }

    /// Output pixels `band` of this row from `plane` (one channel of the image) into
    /// `row[0 ..< band.count]`: one copy of the shifted plane, zeros around it, the wrapped columns
    /// cleared.
    func unfold(_ row: UnsafeMutablePointer<Float>, _ plane: UnsafePointer<Float>, _ s: ConvShape, _ band: Range<Int>) {
        let lo = max(self.lo, band.lowerBound), hi = min(self.hi, band.upperBound)
        guard hi > lo else { row.update(repeating: 0, count: band.count); return }
        row.update(repeating: 0, count: lo - band.lowerBound)
        (row + lo - band.lowerBound).update(from: plane + source(s.W) + (lo - self.lo), count: hi - lo)
        (row + hi - band.lowerBound).update(repeating: 0, count: band.upperBound - hi)
        clearWrapped(row, s.OW, band)
    }
}

/// A strided convolution's input with each row split by column phase: row (c, ih) becomes
/// `stride` rows, phase φ holding columns φ, φ + stride, φ + 2·stride, …, so that the pixels one
/// kernel column reads along an output row are one contiguous run. Used when the kernel is wider
/// than the stride (7×7 and 3×3 at stride 2), where every input pixel is read by several kernel
/// columns: one strided pass instead of one per kernel column.
struct PhaseSplit {
    let S, Wq: Int

    init?(_ s: ConvShape) {
        guard s.stride > 1 && s.KW > s.stride else { return nil }
        S = s.stride
        Wq = (s.W + S - 1) / S
    }

    func count(_ s: ConvShape) -> Int { s.C * s.H * S * Wq }

    /// Offset in the split image of the pixel kernel column `kw` reads for output (ih, ow).
    @inline(__always)
    func offset(_ s: ConvShape, c: Int, ih: Int, kw: Int, ow: Int) -> Int {
        let iw = ow * S - s.padding + kw, phase = iw % S
        return ((c * s.H + ih) * S + phase) * Wq + iw / S
    }

    /// body(offset in the image (C, H, W), offset in the split) for every pixel.
    @inline(__always)
    func forEachPixel(_ s: ConvShape, _ body: (Int, Int) -> Void) {
        for r in 0..<s.C * s.H {
            for phase in 0..<S {
                var iw = phase, j = (r * S + phase) * Wq
                while iw < s.W { body(r * s.W + iw, j); iw += S; j += 1 }
            }
        }
    }

    /// split ← the image (C, H, W).
    func split(_ split: UnsafeMutablePointer<Float>, _ img: UnsafePointer<Float>, _ s: ConvShape) {
        forEachPixel(s) { i, j in split[j] = img[i] }
    }

    /// The image (C, H, W) += split.
    func merge(_ img: UnsafeMutablePointer<Float>, _ split: UnsafePointer<Float>, _ s: ConvShape) {
        forEachPixel(s) { i, j in img[i] += split[j] }
    }
}

/// For small outputs (7×7 pixels and fewer), where a copy call per output row would cost more than
/// the copy: the input pixel every output pixel reads at every kernel position, or −1 for padding.
struct GatherTable {
    static let maximumPixels = 49
    /// At kernel position r = kh·KW + kw and output pixel q: index[r·P + q].
    let index: [Int32]

    init?(_ s: ConvShape) {
        guard s.OH * s.OW <= Self.maximumPixels else { return nil }
        var index: [Int32] = []
        index.reserveCapacity(s.KH * s.KW * s.OH * s.OW)
        for kh in 0..<s.KH { for kw in 0..<s.KW { for oh in 0..<s.OH { for ow in 0..<s.OW {
            let ih = oh * s.stride - s.padding + kh, iw = ow * s.stride - s.padding + kw
            index.append(ih >= 0 && ih < s.H && iw >= 0 && iw < s.W ? Int32(ih * s.W + iw) : -1)
        } } } }
        self.index = index
    }
}

/// How the images of one convolution unfold: the same for every image of the batch, so worked
/// out once per call. A gather table for small outputs, else shifted planes (stride-1 kernels as
/// wide as 2·padding + 1, one per kernel position kh·KW + kw), else row by row, from phase-split
/// rows when the kernel is wider than the stride.
struct Unfolding {
    let table: GatherTable?
    let shifts: [ShiftedRow]?
    let phases: PhaseSplit?

    init(_ s: ConvShape) {
        table = GatherTable(s)
        let positions = (0..<s.KH * s.KW).map { (kh: $0 / s.KW, kw: $0 % s.KW) }
        shifts = table == nil && ShiftedRow(s, kh: 0, kw: 0) != nil ? positions.map { ShiftedRow(s, kh: $0.kh, kw: $0.kw)! } : nil
        phases = table == nil ? PhaseSplit(s) : nil
    }
}

extension GatherTable {
    /// For every channel c and kernel position r of image `n`: c, the offset of its row in the
    /// columns, and the input pixel of each of its output pixels.
    @inline(__always)
    func forEachRow(_ s: ConvShape, image n: Int, _ body: (_ c: Int, _ row: Int, _ at: UnsafePointer<Int32>) -> Void) {
        let P = s.OH * s.OW, NP = s.N * P, positions = s.KH * s.KW
        index.withUnsafeBufferPointer { index in
            for c in 0..<s.C {
                for r in 0..<positions { body(c, (c * positions + r) * NP + n * P, index.baseAddress! + r * P) }
            }
        }
    }
}

/// Unfolds image `n` of the batch into its columns of `cols` (C·KH·KW, N·OH·OW): row r, column
/// n·P + p; zero outside the image.
func im2col(_ cols: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ s: ConvShape, image n: Int, _ u: Unfolding) {
    let (OH, OW) = (s.OH, s.OW), P = OH * OW, NP = s.N * P
    let img = inp + n * s.C * s.H * s.W
    if let table = u.table {
        table.forEachRow(s, image: n) { c, row, at in
            let plane = img + c * s.H * s.W, dst = cols + row
            for q in 0..<P { let j = Int(at[q]), v = plane[max(j, 0)]; dst[q] = j >= 0 ? v : 0 }
        }
        return
    }
    let split = u.phases.map { Scratch.take($0.count(s)) }
    defer { split.map(Scratch.release) }
    if let phases = u.phases, let split { phases.split(split.p, img, s) }
    for c in 0..<s.C {
        for kh in 0..<s.KH {
            for kw in 0..<s.KW {
                let row = cols + ((c * s.KH + kh) * s.KW + kw) * NP + n * P
                if let shift = u.shifts?[kh * s.KW + kw] {
                    shift.unfold(row, img + c * s.H * s.W, s, 0..<P)
                    continue
                }
                for oh in 0..<OH {
                    let ih = oh * s.stride - s.padding + kh
                    let dst = row + oh * OW
                    guard ih >= 0 && ih < s.H else { dst.update(repeating: 0, count: OW); continue }
                    let src = img + (c * s.H + ih) * s.W
                    // Zeros, then the columns inside the image, then zeros.
                    let (lo, hi) = s.inside(kw)
                    if lo > 0 { dst.update(repeating: 0, count: lo) }
                    if s.stride == 1 {
                        if hi > lo { (dst + lo).update(from: src + (lo - s.padding + kw), count: hi - lo) }
                    } else if let phases = u.phases, let split, hi > lo {
                        (dst + lo).update(from: split.p + phases.offset(s, c: c, ih: ih, kw: kw, ow: lo), count: hi - lo)
                    } else {
                        var iw = lo * s.stride - s.padding + kw
                        for ow in lo..<max(lo, hi) { dst[ow] = src[iw]; iw += s.stride }
                    }
                    if hi < OW { (dst + max(hi, lo)).update(repeating: 0, count: OW - max(hi, lo)) }
                }
            }
        }
    }
}

/// The adjoint of `im2col`: adds image `n`'s columns back into its gradient (C, H, W). The
/// columns are scratch: entries that fall outside the image may be cleared on the way.
func col2im(_ dinp: UnsafeMutablePointer<Float>, _ cols: UnsafeMutablePointer<Float>, _ s: ConvShape, image n: Int, _ u: Unfolding) {
    let (OH, OW) = (s.OH, s.OW), P = OH * OW, NP = s.N * P
    let img = dinp + n * s.C * s.H * s.W
    if let table = u.table {
        // Each input pixel's terms added in the same order as below: kernel position, then output pixel.
        table.forEachRow(s, image: n) { c, row, at in
            let plane = img + c * s.H * s.W, src = cols + row
            for q in 0..<P { let j = Int(at[q]); if j >= 0 { plane[j] += src[q] } }
        }
        return
    }
    let split = u.phases.map { Scratch.take($0.count(s)) }
    defer { split.map(Scratch.release) }
    if let phases = u.phases, let split { split.p.update(repeating: 0, count: phases.count(s)) }
    for c in 0..<s.C {
        for kh in 0..<s.KH {
            for kw in 0..<s.KW {
                let row = cols + ((c * s.KH + kh) * s.KW + kw) * NP + n * P
                if let shift = u.shifts?[kh * s.KW + kw] {
                    // The wrapped columns cleared (they belong to no input pixel), then one flat add.
                    guard shift.hi > shift.lo else { continue }
                    shift.clearWrapped(row, OW, 0..<P)
                    let dst = img + c * s.H * s.W + shift.source(s.W), src = row + shift.lo
                    for j in 0..<shift.hi - shift.lo { dst[j] += src[j] }
                    continue
                }
                for oh in 0..<OH {
                    let ih = oh * s.stride - s.padding + kh
                    guard ih >= 0 && ih < s.H else { continue }
                    let dst = img + (c * s.H + ih) * s.W, src = row + oh * OW
                    let (lo, hi) = s.inside(kw)
                    if s.stride == 1 {
                        let d = dst + (lo - s.padding + kw)
                        for j in 0..<max(0, hi - lo) { d[j] += src[lo + j] }
                    } else if let phases = u.phases, let split, hi > lo {
                        let d = split.p + phases.offset(s, c: c, ih: ih, kw: kw, ow: lo)
                        for j in 0..<hi - lo { d[j] += src[lo + j] }
                    } else {
                        var iw = lo * s.stride - s.padding + kw
                        for ow in lo..<max(lo, hi) { dst[iw] += src[ow]; iw += s.stride }
                    }
                }
            }
        }
    }
    if let phases = u.phases, let split { phases.merge(img, split.p, s) }
}

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
