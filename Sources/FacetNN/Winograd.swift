/// Winograd's minimal filtering F(2×2, 3×3) (Lavin and Gray, "Fast Algorithms for Convolutional
/// Neural Networks", 2016) for the 3×3 convolutions of stride 1 padded by 1 that make up most of
/// ResNet's and all of VGG's work: each 2×2 block of output pixels (a tile) comes from the 4×4
/// input pixels around it in 16 multiplications per pair of channels instead of 36.
///
///     V = Bᵀ d B        input tile d (4×4), per input channel
///     U = G g Gᵀ        kernel g (3×3), per (output, input) channel pair
///     Y = Aᵀ M A        M = Σ_c U ⊙ V (4×4), Y the output tile (2×2)
///
/// The sum over channels is 16 matrix products (36 for F(4×4)), one per position of the transformed tile:
/// M[pos] (K, T) = U[pos] (K, C) · V[pos] (C, T) over the T tiles of the batch. The backward pass
/// is each step's adjoint: dM = A dY Aᵀ, dU[pos] = dM[pos] · V[pos]ᵀ, dg = Gᵀ dU G,
/// dV[pos] = U[pos]ᵀ · dM[pos], dd = B dV Bᵀ added back into the overlapping input tiles.
/// F(2×2)'s transforms' entries are 0, ±1 and ±½, so its results round like the direct sums'.
/// F(4×4, 3×3) (`WinogradF4x4.swift`) is the same with 6×6 input tiles, 4×4 output tiles and 36
/// products: fewer multiplications, a few times the rounding error (see there).
///
/// The batch's tiles are taken a run of tile rows at a time (`budget`), so that the transformed
/// tiles stay within a bounded scratch. Every product runs on one core, the 16 or 36 spread over
/// the cores, so the sums do not depend on how many there are.
struct Winograd {
    /// Eight tiles' values, the tile transforms' unit of work.
    typealias Lanes = SIMD8<Float>

    let s: ConvShape
    /// Output pixels down and across a tile: 2 (F(2×2, 3×3), below) or 4 (F(4×4, 3×3), `WinogradF4x4.swift`).
    let tile: Int
    /// Tiles down and across one image: ⌈OH / tile⌉ and ⌈OW / tile⌉.
    let tilesH, tilesW: Int
    /// Values of a transformed tile: 16 or 36.
    var positions: Int { (tile + 2) * (tile + 2) }

    init?(_ s: ConvShape, tile: Int = 2) {
        guard s.KH == 3 && s.KW == 3 && s.stride == 1 && s.padding == 1 && (tile == 2 || tile == 4) else { return nil }
        (self.s, self.tile) = (s, tile)
        (tilesH, tilesW) = ((s.OH + tile - 1) / tile, (s.OW + tile - 1) / tile)
    }

    /// Whether this path is the faster one: 64 tiles or more over the batch, and 4 or more per
    /// image for F(2×2), fewer products than F(2×2)'s for F(4×4) (planes of 3×3, 4×4, and 7×7
    /// up; on 5×5 and 6×6 the two tie). `facet bench conv` (a fresh clone's build, ResNet18's
    /// layers at batch 32, two runs at 112 px and eight at 64 px), im2col's time over each path's:
    /// F(4×4) 1.5–2.8× on 28×28 to 7×7 planes against F(2×2)'s 1.1–1.5×, 1.2–2.0× on 16×16 and
    /// 8×8 against 0.9–1.6×; on 4×4 planes (one F(4×4) tile an image, 32 over the batch) F(2×2)
    /// 1.2–2.4× against F(4×4)'s 1.1–1.7×; on 2×2 planes F(2×2) 0.6–1.3× (median 0.8), so
    /// im2col stays there.
    var pays: Bool {
        let tiles = tilesH * tilesW
        guard s.N * tiles >= 64 else { return false }
        guard tile == 4, let small = Winograd(s, tile: 2) else { return tiles >= 4 }
        return tiles * positions < small.tilesH * small.tilesW * small.positions
    }

    /// Runs of tile rows (over the batch: row n·tilesH + th) whose transformed tiles, input and
    /// output side, fit in `budget` floats (at least one row each).
    func chunks(_ budget: Int) -> [Range<Int>] {
        let rows = s.N * tilesH, perRow = positions * (s.C + s.K) * tilesW
        let size = max(1, min(rows, budget / perRow))
        return stride(from: 0, to: rows, by: size).map { $0..<min(rows, $0 + size) }
    }

    /// Floats of V for the whole batch where its tiles make one chunk of `budget` (what a layer keeps
    /// from its forward pass for its backward, which then does not transform its input again), else 0.
    func keptInputFloats(_ budget: Int) -> Int {
        let all = chunks(budget)
        return all.count == 1 ? positions * s.C * lead(all[0]) : 0
    }

    /// Floats between one channel's transformed tiles and the next's, for the tiles of tile rows
    /// `rows` (T = rows.count · tilesW): room for the eight-lane loops below to run past the last tile.
    func lead(_ rows: Range<Int>) -> Int { (rows.count * tilesW + 15) & ~7 }

    /// The largest `lead` of `chunks`: what a chunk's scratch is sized by.
    func mostLead(_ chunks: [Range<Int>]) -> Int { chunks.map(lead).max()! }

    /// Tile rows a block of the tile transforms take at once: 32 tiles or more, so that the
    /// eight-lane steps run along the tiles of several rows where rows are short.
    var blockRows: Int { max(1, (32 + tilesW - 1) / tilesW) }

    /// Floats between one of a block's arrays (a value per tile) and the next: its tiles rounded
    /// up to eight-lane steps, and room to read one tile before and after.
    var packed: Int { ((blockRows * tilesW + 7) & ~7) + 16 }

    /// Per eight-lane step of a block: 0 in the lanes of a row's first tile, else 1; the same for
    /// its last tile (what a tile's neighbour in the row is read through).
    func edgeMasks() -> (first: [Lanes], last: [Lanes]) {
        let steps = (blockRows * tilesW + 7) / 8
        func mask(_ edge: Int) -> [Lanes] {
            (0..<steps).map { o in Lanes((0..<8).map { Float((8 * o + $0) % tilesW == edge ? 0 : 1) }) }
        }
        return (mask(0), mask(tilesW - 1))
    }

    /// body(channel, arrays, block, first tile of the block in the chunk) for every channel, on all
    /// cores, and every block of tile rows of `rows` in order; each channel's `count` arrays (at
    /// arrays + k·packed, one tile readable before each) zeroed once.
    @inline(__always)
    func forEachBlock(_ channels: Int, arrays count: Int, _ rows: Range<Int>,
                      _ body: (_ c: Int, _ arrays: UnsafeMutablePointer<Float>, _ block: Range<Int>, _ at: Int) -> Void) {
        let r = blockRows, size = count * packed + 8
        parallelFor(channels) { c in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: size) { buffer in
                let b = buffer.baseAddress!
                b.initialize(repeating: 0, count: size)
                for start in stride(from: rows.lowerBound, to: rows.upperBound, by: r) {
                    body(c, b + 8, start..<min(rows.upperBound, start + r), (start - rows.lowerBound) * tilesW)
                }
            }
        }
    }

    /// For each tile row of `block` (the i-th) and each of the tile + 2 input rows it covers (r,
    /// the tile row's input row tile·th − 1 + r): body(the arrays of its row r, place (r, 0), at
    /// d + (tile + 2)·r·packed + i·tilesW; the row's first pixel in (N, channels, H, W) at channel
    /// `c`, or nil where the row is padding).
    @inline(__always)
    func forEachInputRow(_ block: Range<Int>, _ c: Int, _ channels: Int, _ d: UnsafeMutablePointer<Float>,
                         _ body: (UnsafeMutablePointer<Float>, Int?) -> Void) {
        let n = tile + 2
        for (i, row) in block.enumerated() {
            let (image, th) = (row / tilesH, row % tilesH)
            for r in 0..<n {
                let ih = tile * th - 1 + r
                body(d + n * r * packed + i * tilesW, ih >= 0 && ih < s.H ? ((image * channels + c) * s.H + ih) * s.W : nil)
            }
        }
    }

    /// For each tile row of `block` (the i-th) and each of its `tile` output rows a: body(the
    /// arrays of output pixel (a, 0), at y + tile·a·packed + i·tilesW; the row's first pixel in
    /// (N, K, OH, OW) at channel k, or nil past the image's last row).
    @inline(__always)
    func forEachOutputRow(_ block: Range<Int>, _ k: Int, _ y: UnsafeMutablePointer<Float>, _ body: (UnsafeMutablePointer<Float>, Int?) -> Void) {
        for (i, row) in block.enumerated() {
            let (image, th) = (row / tilesH, row % tilesH)
            for a in 0..<tile {
                let oh = tile * th + a
                body(y + tile * a * packed + i * tilesW, oh < s.OH ? ((image * s.K + k) * s.OH + oh) * s.OW : nil)
            }
        }
    }

    /// The frame of both output transforms: for each output channel k (on all cores) and each
    /// block of tile rows of `rows`, `transform(y, q, bk, count)` makes the block's `count` tiles'
    /// output pixels, pixel (a, b) of each at y + (tile·a + b)·packed, from the channel's m at q
    /// (place j at q + j·K·lead(rows)) and its bias bk; then `write(out, y)` puts each output row
    /// of the block inside the image, from the arrays of its pixel (a, 0) at y, into out.
    @inline(__always)
    func forEachOutputBlock(_ out: UnsafeMutablePointer<Float>, _ m: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?, rows: Range<Int>,
                            transform: (_ y: UnsafeMutablePointer<Float>, _ q: UnsafePointer<Float>, _ bk: Lanes, _ count: Int) -> Void,
                            write: (_ out: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>) -> Void) {
        let ld = lead(rows), (op, mp, bp) = (Shared(out), Shared(m), bias.map(Shared.init))
        forEachBlock(s.K, arrays: tile * tile, rows) { k, y, block, at in
            transform(y, mp.p + k * ld + at, Lanes(repeating: bp?.p[k] ?? 0), block.count * tilesW)
            forEachOutputRow(block, k, y) { r, at in if let at { write(op.p + at, r) } }
        }
    }

    /// The frame of both output-gradient transforms: for each output channel k (on all cores) and
    /// each block of tile rows of `rows`, `read(dout, y)` fills the arrays of each output row of
    /// the block inside the image (those of its pixel (a, 0) at y; pixel (a, b) of each tile at
    /// y + (tile·a + b)·packed) from that row of dout, the rows past the image zeroed, and the
    /// places past its columns (the same on every row) staying zero; then `transform(y, q, count)`
    /// makes the channel's dm at q (place j at q + j·K·lead(rows)) for the block's `count` tiles.
    @inline(__always)
    func forEachOutputGradientBlock(_ dm: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, rows: Range<Int>,
                                    read: (_ dout: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) -> Void,
                                    transform: (_ y: UnsafeMutablePointer<Float>, _ q: UnsafeMutablePointer<Float>, _ count: Int) -> Void) {
        let ld = lead(rows), (mp, dp) = (Shared(dm), Shared(dout))
        forEachBlock(s.K, arrays: tile * tile, rows) { k, y, block, at in
            forEachOutputRow(block, k, y) { r, at in
                guard let at else { for b in 0..<tile { (r + b * packed).update(repeating: 0, count: tilesW) }; return }
                read(dp.p + at, r)
            }
            transform(y, mp.p + k * ld + at, block.count * tilesW)
        }
    }

    /// A block's `count` tiles after B dV Bᵀ, place (i, j) at d + (n·i + j)·packed (n = tile + 2):
    /// in every row i, column 1 of each tile gains column n − 1 of the tile before it in its row,
    /// and column n − 2 gains column 0 of the tile after it — the input columns neighbouring tiles
    /// share (`first` and `last` from `edgeMasks`).
    func foldSharedColumns(_ d: UnsafeMutablePointer<Float>, count: Int, _ first: [Lanes], _ last: [Lanes]) {
        let (n, L) = (tile + 2, packed)
        for i in 0..<n {
            let r = d + n * i * L
            for t in stride(from: 0, to: count, by: 8) {
                store(load(r + L + t) + first[t / 8] * load(r + (n - 1) * L + t - 1), r + L + t)
                store(load(r + (n - 2) * L + t) + last[t / 8] * load(r + t + 1), r + (n - 2) * L + t)
            }
        }
    }

    /// An output pixel from its transformed sum: the bias added, then the ReLU when asked.
    @inline(__always) static func finish(_ y: Lanes, _ bias: Lanes, relu: Bool) -> Lanes {
        relu ? pointwiseMax(y + bias, .zero) : y + bias
    }

    /// G ⊗ G (n², 9) for G (n, 3): row n·i + j, column 3a + b holds G[i][a]·G[j][b], so that the
    /// transform of a kernel g (9) is (G ⊗ G) g, and G g Gᵀ for every kernel at once is one
    /// matrix product.
    static func kronecker(_ G: [[Float]]) -> [Float] {
        let n = G.count
        var t = [Float](repeating: 0, count: n * n * 9)
        for r in 0..<n * n { for e in 0..<9 { t[r * 9 + e] = G[r / n][e / 3] * G[r % n][e % 3] } }
        return t
    }
    static let kernel2 = kronecker(g2), kernel4 = kronecker(g4)
    /// This path's G ⊗ G.
    var kernelTransform: [Float] { tile == 2 ? Self.kernel2 : Self.kernel4 }

    /// u (positions, K·C) = (G ⊗ G) · weightᵀ, weight (K·C, 9): every kernel's G g Gᵀ.
    func transformWeights(_ u: UnsafeMutablePointer<Float>, _ weight: UnsafePointer<Float>) {
        let KC = s.K * s.C
        kernelTransform.withUnsafeBufferPointer { t in
            sgemm(transB: true, positions, KC, 9, t.baseAddress!, lda: 9, weight, ldb: 9, u, ldc: KC)
        }
    }

    /// dweight (K·C, 9) += du (positions, K·C)ᵀ · (G ⊗ G): every kernel's Gᵀ dU G.
    func addWeightGradient(_ dweight: UnsafeMutablePointer<Float>, _ du: UnsafePointer<Float>) {
        let KC = s.K * s.C
        kernelTransform.withUnsafeBufferPointer { t in
            sgemm(transA: true, KC, 9, positions, du, lda: KC, t.baseAddress!, ldb: 9, beta: 1, dweight, ldc: 9)
        }
    }

    /// v (positions, C, lead(rows)) = Bᵀ d B for the tiles of tile rows `rows`.
    func transformInput(_ v: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, rows: Range<Int>) {
        tile == 2 ? transformInput2(v, inp, rows: rows) : transformInput4(v, inp, rows: rows)
    }

    /// out ← Aᵀ M A (+ bias, ReLU'd when asked) for the tiles of `rows`.
    func transformOutput(_ out: UnsafeMutablePointer<Float>, _ m: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                         relu: Bool, rows: Range<Int>) {
        tile == 2 ? transformOutput2(out, m, bias, relu: relu, rows: rows) : transformOutput4(out, m, bias, relu: relu, rows: rows)
    }

    /// dm = A dY Aᵀ for the tiles of `rows`.
    func transformOutputGradient(_ dm: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, rows: Range<Int>) {
        tile == 2 ? transformOutputGradient2(dm, dout, rows: rows) : transformOutputGradient4(dm, dout, rows: rows)
    }

    /// dinp += B dV Bᵀ over the input tiles of `rows`.
    func addInputGradient(_ dinp: UnsafeMutablePointer<Float>, _ dv: UnsafePointer<Float>, rows: Range<Int>) {
        tile == 2 ? addInputGradient2(dinp, dv, rows: rows) : addInputGradient4(dinp, dv, rows: rows)
    }

}

/// Eight floats from p on, at any alignment (the tile transforms' loads and stores).
@inline(__always) func load(_ p: UnsafePointer<Float>) -> Winograd.Lanes { UnsafeRawPointer(p).loadUnaligned(as: Winograd.Lanes.self) }
@inline(__always) func load(_ p: UnsafeMutablePointer<Float>) -> Winograd.Lanes { load(UnsafePointer(p)) }
@inline(__always) func store(_ x: Winograd.Lanes, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: x, as: Winograd.Lanes.self)
}

/// out (N, K, OH, OW) = conv(inp, weight) + bias (ReLU'd when asked) by Winograd's F(2×2, 3×3)
/// or F(4×4, 3×3), as `w` says. The weight's transform (positions, K, C) is made in `transformed`
/// when given (for the backward pass), and the input's in `keptInput` when given and the batch
/// makes one chunk (`keptInputFloats`).
func conv2dForwardWinograd(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                           _ bias: UnsafePointer<Float>?, _ w: Winograd, budget: Int, relu: Bool, transformed: UnsafeMutablePointer<Float>?,
                           keptInput: UnsafeMutablePointer<Float>? = nil) {
    let s = w.s, P = w.positions, chunks = w.chunks(budget), most = w.mostLead(chunks), kept = chunks.count == 1 ? keptInput : nil
    let scratch = transformed == nil ? Scratch.take(P * s.K * s.C) : nil, m = Scratch.take(P * s.K * most)
    let v = kept == nil ? Scratch.take(P * s.C * most) : nil
    defer { [scratch, v, m].compactMap { $0 }.forEach(Scratch.release) }
    let u = transformed ?? scratch!.p, vbase = kept ?? v!.p
    w.transformWeights(u, weight)
    let (up, vp, mp) = (Shared(u), Shared(vbase), Shared(m.p))
    for rows in chunks {
        let T = rows.count * w.tilesW, ld = w.lead(rows)
        w.transformInput(vbase, inp, rows: rows)
        parallelFor(P) { pos in
            // M[pos] (K, T) = U[pos] (K, C) · V[pos] (C, T)
            sgemm(s.K, T, s.C, up.p + pos * s.K * s.C, lda: s.C, vp.p + pos * s.C * ld, ldb: ld,
                  mp.p + pos * s.K * ld, ldc: ld, split: false)
        }
        w.transformOutput(out, m.p, bias, relu: relu, rows: rows)
    }
}

/// The input's and the weight's gradients (+=) of `conv2dForwardWinograd`, each only when asked
/// for; `transformed` is the weight's transform as the forward pass left it, or nil; `keptInput`
/// the input's, when the forward pass left it there (overwritten), or nil.
func conv2dBackwardWinograd(_ dinp: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>?,
                            _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                            _ w: Winograd, budget: Int, transformed: UnsafePointer<Float>?, keptInput: UnsafeMutablePointer<Float>? = nil) {
    guard dinp != nil || dweight != nil else { return }
    let s = w.s, P = w.positions, KC = s.K * s.C, chunks = w.chunks(budget), most = w.mostLead(chunks)
    let kept = chunks.count == 1 ? keptInput : nil
    let scratch = dinp != nil && transformed == nil ? Scratch.take(P * KC) : nil, du = dweight.map { _ in Scratch.take(P * KC) }
    let v = kept == nil ? Scratch.take(P * s.C * most) : nil, dm = Scratch.take(P * s.K * most)
    defer { [scratch, du, v, dm].compactMap { $0 }.forEach(Scratch.release) }
    if let scratch { w.transformWeights(scratch.p, weight) }
    let u = dinp == nil ? nil : transformed ?? UnsafePointer(scratch!.p), vbase = kept ?? v!.p
    let (up, dup, vp, mp) = (u.map(Shared.init), du.map { Shared($0.p) }, Shared(vbase), Shared(dm.p))
    for (index, rows) in chunks.enumerated() {
        let T = rows.count * w.tilesW, ld = w.lead(rows)
        if du != nil && kept == nil { w.transformInput(vbase, inp, rows: rows) }
        w.transformOutputGradient(dm.p, dout, rows: rows)
        parallelFor(P) { pos in
            let dmPos = mp.p + pos * s.K * ld, vPos = vp.p + pos * s.C * ld
            if let dup {
                // dU[pos] (K, C) (+)= dM[pos] (K, T) · V[pos]ᵀ (T, C)
                sgemm(transB: true, s.K, s.C, T, dmPos, lda: ld, vPos, ldb: ld, beta: index == 0 ? 0 : 1,
                      dup.p + pos * KC, ldc: s.C, split: false)
            }
            if let up {
                // dV[pos] (C, T) = U[pos]ᵀ (C, K) · dM[pos] (K, T), over V[pos], no longer needed
                sgemm(transA: true, s.C, T, s.K, up.p + pos * KC, lda: s.C, dmPos, ldb: ld, vPos, ldc: ld, split: false)
            }
        }
        if let dinp { w.addInputGradient(dinp, vbase, rows: rows) }
    }
    if let dweight, let du { w.addWeightGradient(dweight, du.p) }
}
