// How a convolution's input unfolds into columns for a matrix product (im2col) and folds back (col2im).

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
