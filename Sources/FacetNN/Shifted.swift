/// A convolution of stride 1 on a small plane as one product per kernel position over only the
/// pixels that position reaches inside the input: "kn2row" (Anderson et al., "Low-memory
/// GEMM-based convolution algorithms for deep neural networks", 2017) without its padded columns.
/// On ResNet18's 2×2 planes (its last stage at 64 px) a 3×3 kernel padded by 1 reaches 16 of the
/// 36 (output, input) pixel pairs that im2col multiplies (the rest read padding): 4/9 of its work.
///
///     Y[pos] (K, N·pixels) = W[pos] (K, C) · X[pos] (C, N·pixels)
///
/// X[pos] holds, image by image, the input pixels (oh + dh, ow + dw) of the output pixels (oh, ow)
/// the position reaches; W[pos] is the weight at that position, kept from forward to backward
/// like Winograd's transform; an output pixel is its bias plus the Y of every position that
/// reaches it. Backward: dY[pos] gathered from the output gradient as X[pos] from the input,
/// dW[pos] = dY[pos] · X[pos]ᵀ, dX[pos] = W[pos]ᵀ · dY[pos] added back into the pixels they came
/// from. Each product runs on one core, the positions spread over the cores, so the sums do not
/// depend on how many there are.
struct ShiftedProducts {
    /// A kernel position that reaches the input from some output pixel.
    struct Position {
        /// Its index in the kernel, kh·KW + kw.
        let index: Int
        /// The column of X (and Y) where its pixels start: image n's at first + n·pixels.
        let first: Int
        /// Where its pixels' places in a plane start in `inputPixel` and `outputPixel`, and how many
        /// there are: the output pixels (oh, ow) whose input pixel (oh + dh, ow + dw) lies inside the
        /// input, for (dh, dw) its offset from the kernel's centre (less the padding).
        let offset: Int, pixels: Int
    }

    let s: ConvShape
    let positions: [Position]
    /// Columns of X and Y: every position's pixels over the batch.
    let columns: Int
    /// Each position's pixels (row by row) as places in an input plane and in an output plane.
    let inputPixel: [Int], outputPixel: [Int]

    init?(_ s: ConvShape) {
        guard s.stride == 1, s.OH > 0, s.OW > 0 else { return nil }
        var positions: [Position] = [], first = 0, inputPixel: [Int] = [], outputPixel: [Int] = []
        for kh in 0..<s.KH {
            for kw in 0..<s.KW {
                let dh = kh - s.padding, dw = kw - s.padding
                let (top, bottom, left, right) = (max(0, -dh), min(s.OH, s.H - dh), max(0, -dw), min(s.OW, s.W - dw))
                guard bottom > top && right > left else { continue }
                let pixels = (bottom - top) * (right - left)
                positions.append(Position(index: kh * s.KW + kw, first: first, offset: inputPixel.count, pixels: pixels))
                for oh in top..<bottom {
                    for ow in left..<right {
                        inputPixel.append((oh + dh) * s.W + ow + dw)
                        outputPixel.append(oh * s.OW + ow)
                    }
                }
                first += pixels * s.N
            }
        }
        (self.s, self.positions, columns, self.inputPixel, self.outputPixel) = (s, positions, first, inputPixel, outputPixel)
    }

    /// The share of im2col's multiplications this path does: pixel pairs that read the input over all pairs.
    var work: Double { Double(columns) / Double(s.N * s.OH * s.OW * s.KH * s.KW) }

    /// Whether this path is the faster one where Winograd's does not pay: at most a quarter of
    /// im2col's work (1×1 planes under a 3×3 kernel: 1/9), or at most half of it with 256
    /// channels or more on each side (2×2 planes: 16/36; 3×3 ones do 49/81, 4×4 ones 100/144),
    /// where the products are large enough to run well. `facet bench conv` (working-tree build),
    /// im2col's time over this path's, the weight's positions kept from forward to backward:
    /// 2×2 planes 1.00–1.31× at 512 channels (six runs, median 1.17), 1.09× at 256, 0.91× at
    /// 128; 1×1 planes 2.4× at 512, 3.0× at 128.
    var pays: Bool { work <= 0.25 || work <= 0.5 && s.C >= 256 && s.K >= 256 }

    /// Floats of the weight's positions, W[pos] (K, C) each.
    var weightFloats: Int { positions.count * s.K * s.C }

    /// W[pos] (K, C) for each position, in order, from the weight (K, C, KH, KW).
    func gatherWeight(_ u: UnsafeMutablePointer<Float>, _ weight: UnsafePointer<Float>) {
        weightPositions(UnsafeMutablePointer(mutating: weight), u, gather: true)
    }

    /// dweight (K, C, KH, KW) += dW[pos] (K, C) at each position.
    func addWeightGradient(_ dweight: UnsafeMutablePointer<Float>, _ du: UnsafePointer<Float>) {
        weightPositions(dweight, UnsafeMutablePointer(mutating: du), gather: false)
    }

    /// The weight (K, C, KH, KW) copied to its positions u (`gather`), or u added back into it: a
    /// row of the weight (C·KH·KW floats, in cache) at a time, a position at a time. (The two
    /// loops are written out: a closure per value kept them from being vectorised, 1.2× slower
    /// at 512 channels on 2×2 planes.)
    private func weightPositions(_ weight: UnsafeMutablePointer<Float>, _ u: UnsafeMutablePointer<Float>, gather: Bool) {
        let (wp, up, KK, KC, C) = (Shared(weight), Shared(u), s.KH * s.KW, s.K * s.C, s.C)
        let index = positions.map(\.index)
        parallelFor(s.K) { k in
            let row = wp.p + k * C * KK
            for (p, i) in index.enumerated() {
                let at = up.p + p * KC + k * C
                if gather { for c in 0..<C { at[c] = row[c * KK + i] } } else { for c in 0..<C { row[c * KK + i] += at[c] } }
            }
        }
    }

    /// Moves values between the rows of X or Y (a row per channel, `count` of them) and the
    /// batch's planes of those channels (`channels` per image, planes of `plane` floats from
    /// `planes` on): `move(column, pixel)` for each column of each row and the pixel it stands for,
    /// in the input's planes (`input`) or the output's. Runs of rows are spread over the cores; every
    /// array is read through a pointer taken before (no reference counting on the cores' paths).
    @inline(__always)
    func walk(_ rows: UnsafeMutablePointer<Float>, _ planes: UnsafeMutablePointer<Float>, count: Int, channels: Int, plane: Int,
              input: Bool, _ move: (_ column: UnsafeMutablePointer<Float>, _ pixel: UnsafeMutablePointer<Float>) -> Void) {
        let (columns, N) = (self.columns, s.N)
        (input ? inputPixel : outputPixel).withUnsafeBufferPointer { table in
            positions.withUnsafeBufferPointer { positions in
                let (t, ps, r, pl) = (Shared(table.baseAddress!), Shared(positions.baseAddress!), Shared(rows), Shared(planes))
                let count0 = positions.count
                // A run of channels per core: neighbouring channels' small planes share cache lines.
                let cores = BLASThreads.cores, per = (count + cores - 1) / cores
                parallelFor(cores) { b in
                    for c in (b * per)..<min(count, (b + 1) * per) {
                        let row = r.p + c * columns, first = pl.p + c * plane
                        for q in 0..<count0 {
                            let p = ps.p[q], pixels = p.pixels, at = t.p + p.offset
                            var column = row + p.first
                            for n in 0..<N {
                                let base = first + n * channels * plane
                                for j in 0..<pixels { move(column + j, base + at[j]) }
                                column += pixels
                            }
                        }
                    }
                }
            }
        }
    }

    /// X (C, columns): each position's input pixels, image by image.
    func gatherInput(_ x: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>) {
        walk(x, UnsafeMutablePointer(mutating: inp), count: s.C, channels: s.C, plane: s.H * s.W, input: true) { $0.pointee = $1.pointee }
    }

    /// dinp (N, C, H, W) += dX (C, columns), each column into the input pixel it came from.
    func addInputGradient(_ dinp: UnsafeMutablePointer<Float>, _ dx: UnsafePointer<Float>) {
        walk(UnsafeMutablePointer(mutating: dx), dinp, count: s.C, channels: s.C, plane: s.H * s.W, input: true) { $1.pointee += $0.pointee }
    }

    /// out (N, K, OH, OW) = bias + the sum of Y (K, columns) over the positions reaching each pixel (ReLU'd when asked).
    func scatterOutput(_ out: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?, relu: Bool) {
        let (op, plane, K) = (Shared(out), s.OH * s.OW, s.K)
        let b = bias.map(Shared.init)
        parallelFor(s.N) { n in
            for k in 0..<K { (op.p + (n * K + k) * plane).update(repeating: b?.p[k] ?? 0, count: plane) }
        }
        walk(UnsafeMutablePointer(mutating: y), out, count: s.K, channels: s.K, plane: plane, input: false) { $1.pointee += $0.pointee }
        if relu {
            parallelBlocks(s.N * K * plane) { lo, hi in for i in lo..<hi { op.p[i] = max(op.p[i], 0) } }
        }
    }

    /// dY (K, columns): the output gradient at each position's output pixels, image by image.
    func gatherOutputGradient(_ dy: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>) {
        walk(dy, UnsafeMutablePointer(mutating: dout), count: s.K, channels: s.K, plane: s.OH * s.OW, input: false) { $0.pointee = $1.pointee }
    }

    /// Runs `body(i, positions[i])` for every position, the positions spread over the cores (each
    /// product on one), the largest first.
    func forEachProduct(_ body: (Int, Position) -> Void) {
        let order = positions.indices.sorted { (positions[$0].pixels, $1) > (positions[$1].pixels, $0) }
        parallelFor(order.count) { body(order[$0], positions[order[$0]]) }
    }

    /// Images at a time whose X and Y fit in `budget` floats (at least one), and the batch in such chunks.
    static func chunks(_ s: ConvShape, budget: Int) -> [(Int, ShiftedProducts)] {
        guard let one = ShiftedProducts(s.single) else { return [] }
        let size = max(1, min(s.N, budget / max(1, one.columns * (s.C + s.K))))
        return stride(from: 0, to: s.N, by: size).map { start in
            var c = s
            c.N = min(size, s.N - start)
            return (start, ShiftedProducts(c)!)
        }
    }
}

/// out (N, K, OH, OW) = conv(inp, weight) + bias (ReLU'd when asked) by one product per kernel
/// position (`ShiftedProducts`); the weight's positions are left in `gathered` when given.
func conv2dForwardShifted(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                          _ bias: UnsafePointer<Float>?, _ s: ConvShape, budget: Int, relu: Bool, gathered: UnsafeMutablePointer<Float>?) {
    let chunks = ShiftedProducts.chunks(s, budget: budget), most = chunks.map(\.1.columns).max() ?? 0
    guard let first = chunks.first?.1 else { return }
    let scratch = gathered == nil ? Scratch.take(first.weightFloats) : nil, x = Scratch.take(s.C * most), y = Scratch.take(s.K * most)
    defer { [scratch, x, y].compactMap { $0 }.forEach(Scratch.release) }
    let u = gathered ?? scratch!.p
    first.gatherWeight(u, weight)
    let (up, xp, yp) = (Shared(u), Shared(x.p), Shared(y.p))
    for (start, sp) in chunks {
        sp.gatherInput(x.p, inp + start * s.C * s.H * s.W)
        sp.forEachProduct { i, p in
            // Y[pos] (K, N·pixels) = W[pos] (K, C) · X[pos] (C, N·pixels)
            sgemm(s.K, p.pixels * sp.s.N, s.C, up.p + i * s.K * s.C, lda: s.C, xp.p + p.first, ldb: sp.columns,
                  yp.p + p.first, ldc: sp.columns, split: false)
        }
        sp.scatterOutput(out + start * s.K * s.OH * s.OW, y.p, bias, relu: relu)
    }
}

/// The input's and the weight's gradients (+=) of `conv2dForwardShifted`, each only when asked
/// for; `gathered` is the weight's positions as the forward pass left them, or nil.
func conv2dBackwardShifted(_ dinp: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>?,
                           _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                           _ s: ConvShape, budget: Int, gathered: UnsafePointer<Float>?) {
    let chunks = ShiftedProducts.chunks(s, budget: budget), most = chunks.map(\.1.columns).max() ?? 0
    guard dinp != nil || dweight != nil, let first = chunks.first?.1 else { return }
    let KC = s.K * s.C
    let scratch = dinp != nil && gathered == nil ? Scratch.take(first.weightFloats) : nil, du = dweight.map { _ in Scratch.take(first.weightFloats) }
    let x = Scratch.take(s.C * most), dy = Scratch.take(s.K * most)
    defer { [scratch, du, x, dy].compactMap { $0 }.forEach(Scratch.release) }
    if let scratch { first.gatherWeight(scratch.p, weight) }
    let u = dinp == nil ? nil : gathered ?? UnsafePointer(scratch!.p)
    let (xp, yp, dup) = (Shared(x.p), Shared(dy.p), du.map { Shared($0.p) })
    for (index, (start, sp)) in chunks.enumerated() {
        sp.gatherOutputGradient(dy.p, dout + start * s.K * s.OH * s.OW)
        if let dup {
            sp.gatherInput(x.p, inp + start * s.C * s.H * s.W)
            sp.forEachProduct { i, p in
                // dW[pos] (K, C) (+)= dY[pos] (K, N·pixels) · X[pos]ᵀ (N·pixels, C)
                sgemm(transB: true, s.K, s.C, p.pixels * sp.s.N, yp.p + p.first, lda: sp.columns, xp.p + p.first, ldb: sp.columns,
                      beta: index == 0 ? 0 : 1, dup.p + i * KC, ldc: s.C, split: false)
            }
        }
        if let dinp, let u {
            let up = Shared(u)
            sp.forEachProduct { i, p in
                // dX[pos] (C, N·pixels) = W[pos]ᵀ (C, K) · dY[pos] (K, N·pixels), over X
                sgemm(transA: true, s.C, p.pixels * sp.s.N, s.K, up.p + i * KC, lda: s.C, yp.p + p.first, ldb: sp.columns,
                      xp.p + p.first, ldc: sp.columns, split: false)
            }
            sp.addInputGradient(dinp + start * s.C * s.H * s.W, x.p)
        }
    }
    if let dweight, let du { first.addWeightGradient(dweight, du.p) }
}
