/// Winograd's minimal filtering F(2×2, 3×3) (Lavin and Gray, "Fast Algorithms for Convolutional
/// Neural Networks", 2016) for the 3×3 convolutions of stride 1 padded by 1 that make up most of
/// ResNet's and all of VGG's work: each 2×2 block of output pixels (a tile) comes from the 4×4
/// input pixels around it in 16 multiplications per pair of channels instead of 36.
///
///     V = Bᵀ d B        input tile d (4×4), per input channel
///     U = G g Gᵀ        kernel g (3×3), per (output, input) channel pair
///     Y = Aᵀ M A        M = Σ_c U ⊙ V (4×4), Y the output tile (2×2)
///
/// The sum over channels is 16 matrix products, one per position of the transformed tile:
/// M[pos] (K, T) = U[pos] (K, C) · V[pos] (C, T) over the T tiles of the batch. The backward pass
/// is each step's adjoint: dM = A dY Aᵀ, dU[pos] = dM[pos] · V[pos]ᵀ, dg = Gᵀ dU G,
/// dV[pos] = U[pos]ᵀ · dM[pos], dd = B dV Bᵀ added back into the overlapping input tiles.
/// The transforms' entries are 0, ±1 and ±½, so the results round like the direct sums'.
///
/// The batch's tiles are taken a run of tile rows at a time (`budget`), so that the transformed
/// tiles stay within a bounded scratch. Every product runs on one core, the 16 spread over the
/// cores, so the sums do not depend on how many there are.
struct Winograd {
    let s: ConvShape
    /// Output pixels down and across a tile: 2 (F(2×2, 3×3), below) or 4 (F(4×4, 3×3), `Winograd4.swift`).
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
    /// up; on 5×5 and 6×6 the two tie). `facet bench conv`, ResNet18's layers at batch 32
    /// (working-tree release builds, two runs each), against im2col: F(2×2) 1.2–1.4× on 8×8 to
    /// 16×16 planes, 1.0–1.4× on 4×4 and 0.6–0.7× on 2×2, where each image is one tile, 12 of its
    /// 16 inputs padding; F(4×4) 1.5–1.9× on 7×7 to 28×28 planes, 1.2–1.3× on 4×4, where 32
    /// tiles (one an image) are too few for it to beat F(2×2) with 512 channels, 0.4× on 2×2.
    var pays: Bool {
        let tiles = tilesH * tilesW
        guard s.N * tiles >= 64 else { return false }
        guard tile == 4, let small = Winograd(s, tile: 2) else { return tiles >= 4 }
        return tiles * positions < small.tilesH * small.tilesW * small.positions
    }

    /// body(channel, scratch, tile row, its image, its row in the image) for every channel, on all
    /// cores, and every tile row of `rows` in order; each channel's `scratch` floats zeroed once.
    @inline(__always)
    func forEachTileRow(_ channels: Int, scratch: Int, _ rows: Range<Int>,
                        _ body: (_ c: Int, _ b: UnsafeMutablePointer<Float>, _ row: Int, _ n: Int, _ th: Int) -> Void) {
        parallelFor(channels) { c in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: scratch) { buffer in
                let b = buffer.baseAddress!
                b.initialize(repeating: 0, count: scratch)
                for row in rows { body(c, b, row, row / tilesH, row % tilesH) }
            }
        }
    }

    /// Runs of tile rows (over the batch: row n·tilesH + th) whose transformed tiles, input and
    /// output side, fit in `budget` floats (at least one row each).
    func chunks(_ budget: Int) -> [Range<Int>] {
        let rows = s.N * tilesH, perRow = positions * (s.C + s.K) * tilesW
        let size = max(1, min(rows, budget / perRow))
        return stride(from: 0, to: rows, by: size).map { $0..<min(rows, $0 + size) }
    }

    /// Floats between one channel's transformed tiles and the next's, for the tiles of tile rows
    /// `rows` (T = rows.count · tilesW): room for the eight-lane loops below to run past the last tile.
    func lead(_ rows: Range<Int>) -> Int { (rows.count * tilesW + 15) & ~7 }

    /// The largest `lead` of `chunks`: what a chunk's scratch is sized by.
    func mostLead(_ chunks: [Range<Int>]) -> Int { chunks.map(lead).max()! }

    /// Tiles across rounded up to whole eight-lane steps.
    var stepsW: Int { (tilesW + 7) & ~7 }

    /// G ⊗ G (16, 9): row 4i + j, column 3a + b holds G[i][a]·G[j][b], so that the transform of a
    /// kernel g (9) is (G ⊗ G) g, and G g Gᵀ for every kernel at once is one matrix product.
    static func kernelTransform(_ G: [[Float]]) -> [Float] {
        let n = G.count
        var t = [Float](repeating: 0, count: n * n * 9)
        for r in 0..<n * n { for e in 0..<9 { t[r * 9 + e] = G[r / n][e / 3] * G[r % n][e % 3] } }
        return t
    }
    static let g2: [[Float]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
    static let kernel2 = kernelTransform(g2), kernel4 = kernelTransform(g4)
    var kernelTransform: [Float] { tile == 2 ? Self.kernel2 : Self.kernel4 }

    /// u (16, K·C) = (G ⊗ G) · weightᵀ, weight (K·C, 9): every kernel's G g Gᵀ.
    func transformWeights(_ u: UnsafeMutablePointer<Float>, _ weight: UnsafePointer<Float>) {
        let KC = s.K * s.C
        kernelTransform.withUnsafeBufferPointer { t in
            sgemm(transB: true, positions, KC, 9, t.baseAddress!, lda: 9, weight, ldb: 9, u, ldc: KC)
        }
    }

    /// dweight (K·C, 9) += du (16, K·C)ᵀ · (G ⊗ G): every kernel's Gᵀ dU G.
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

    /// v (16, C, lead(rows)) = Bᵀ d B for the tiles of tile rows `rows`.
    ///
    /// Per tile row and channel, each of the four input rows is split into its even and odd
    /// columns of the padded image (padded column p = input column + 1; tile tw covers p = 2tw …
    /// 2tw + 3), so that every step below runs along contiguous memory, eight tiles at a time.
    func transformInput2(_ v: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, rows: Range<Int>) {
        let (C, H, W, TW) = (s.C, s.H, s.W, tilesW), ld = lead(rows), span = stepsW + 8
        let (vp, ip) = (Shared(v), Shared(inp))
        // Input row 2th − 1 + i: even padded columns at b + 2i·span, odd at b + (2i + 1)·span; the
        // columns no input falls in (the same on every row) stay zero.
        forEachTileRow(C, scratch: 8 * span, rows) { c, b, row, n, th in
            let plane = ip.p + (n * C + c) * H * W
            for i in 0..<4 {
                let ih = 2 * th - 1 + i, even = b + 2 * i * span, odd = even + span
                guard ih >= 0 && ih < H else { even.update(repeating: 0, count: 2 * span); continue }
                deinterleave(plane + ih * W, W, odd, even + 1)
            }
            // Bᵀ down the columns: rows d0…d3 become d0 − d2, d1 + d2, d2 − d1, d1 − d3.
            let (r0, r1, r2, r3) = (b, b + 2 * span, b + 4 * span, b + 6 * span)
            for j in stride(from: 0, to: 2 * span, by: 8) {
                let (d0, d1, d2, d3) = (load(r0 + j), load(r1 + j), load(r2 + j), load(r3 + j))
                store(d0 - d2, r0 + j); store(d1 + d2, r1 + j); store(d2 - d1, r2 + j); store(d1 - d3, r3 + j)
            }
            // The same along each row, into positions 4i … 4i + 3.
            let at = (row - rows.lowerBound) * TW
            for i in 0..<4 {
                let even = b + 2 * i * span, odd = even + span
                let o0 = vp.p + (4 * i * C + c) * ld + at, o1 = o0 + C * ld, o2 = o1 + C * ld, o3 = o2 + C * ld
                for t in stride(from: 0, to: TW, by: 8) {
                    let (e0, e1, d0, d1) = (load(even + t), load(even + t + 1), load(odd + t), load(odd + t + 1))
                    store(e0 - e1, o0 + t); store(d0 + e1, o1 + t); store(e1 - d0, o2 + t); store(d0 - d1, o3 + t)
                }
            }
        }
    }

    /// out (N, K, OH, OW) ← Aᵀ M A (+ bias, then ReLU when asked) for the tiles of `rows`, from
    /// m (16, K, lead(rows)).
    func transformOutput2(_ out: UnsafeMutablePointer<Float>, _ m: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                         relu: Bool, rows: Range<Int>) {
        let (K, OH, OW, TW, SW) = (s.K, s.OH, s.OW, tilesW, stepsW), ld = lead(rows), st = K * ld
        let (op, mp, bp) = (Shared(out), Shared(m), bias.map(Shared.init))
        // Output rows 2th and 2th + 1, each as its even then its odd columns, at y.
        forEachTileRow(K, scratch: 4 * SW, rows) { k, y, row, n, th in
            let bk = SIMD8(repeating: bp?.p[k] ?? 0), q = mp.p + k * ld + (row - rows.lowerBound) * TW
            // Aᵀ down the columns (rows m0…m3 → m0 + m1 + m2 and m1 − m2 − m3), then along the rows.
            for t in stride(from: 0, to: TW, by: 8) {
                @inline(__always) func column(_ j: Int) -> (SIMD8<Float>, SIMD8<Float>) {
                    let (a, b, c, d) = (load(q + j * st + t), load(q + (4 + j) * st + t), load(q + (8 + j) * st + t), load(q + (12 + j) * st + t))
                    return (a + b + c, b - c - d)
                }
                let (x0, z0) = column(0), (x1, z1) = column(1), (x2, z2) = column(2), (x3, z3) = column(3)
                var ys = (x0 + x1 + x2 + bk, x1 - x2 - x3 + bk, z0 + z1 + z2 + bk, z1 - z2 - z3 + bk)
                if relu {
                    let zero = SIMD8<Float>()
                    ys = (pointwiseMax(ys.0, zero), pointwiseMax(ys.1, zero), pointwiseMax(ys.2, zero), pointwiseMax(ys.3, zero))
                }
                store(ys.0, y + t); store(ys.1, y + SW + t); store(ys.2, y + 2 * SW + t); store(ys.3, y + 3 * SW + t)
            }
            for a in 0..<2 where 2 * th + a < OH {
                interleave(op.p + ((n * K + k) * OH + 2 * th + a) * OW, OW, y + 2 * a * SW, y + (2 * a + 1) * SW)
            }
        }
    }

    /// dm (16, K, lead(rows)) = A dY Aᵀ for the tiles of `rows`, dY read from dout (N, K, OH, OW),
    /// zero beyond the image.
    func transformOutputGradient2(_ dm: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, rows: Range<Int>) {
        let (K, OH, OW, TW, SW) = (s.K, s.OH, s.OW, tilesW, stepsW), ld = lead(rows), st = K * ld
        let (mp, dp) = (Shared(dm), Shared(dout))
        // Output rows 2th and 2th + 1, each as its even then its odd columns, at y; the columns
        // past the image's (the same on every row) stay zero.
        forEachTileRow(K, scratch: 4 * SW, rows) { k, y, row, n, th in
            let q = mp.p + k * ld + (row - rows.lowerBound) * TW
            for a in 0..<2 {
                let even = y + 2 * a * SW, odd = even + SW
                guard 2 * th + a < OH else { even.update(repeating: 0, count: 2 * SW); continue }
                deinterleave(dp.p + ((n * K + k) * OH + 2 * th + a) * OW, OW, even, odd)
            }
            // A down the columns (y0, y1 → y0, y0 + y1, y0 − y1, −y1), then along the rows.
            for t in stride(from: 0, to: TW, by: 8) {
                let (e0, o0, e1, o1) = (load(y + t), load(y + SW + t), load(y + 2 * SW + t), load(y + 3 * SW + t))
                @inline(__always) func put(_ i: Int, _ e: SIMD8<Float>, _ o: SIMD8<Float>) {
                    let p = q + 4 * i * st + t
                    store(e, p); store(e + o, p + st); store(e - o, p + 2 * st); store(-o, p + 3 * st)
                }
                put(0, e0, o0); put(1, e0 + e1, o0 + o1); put(2, e0 - e1, o0 - o1); put(3, -e1, -o1)
            }
        }
    }

    /// dinp (N, C, H, W) += B dV Bᵀ over the input tiles of `rows`, from dv (16, C, lead(rows)).
    ///
    /// Neighbouring tiles share two columns (and two rows): each tile row's values are summed per
    /// even and odd padded column before they are added into the image's rows.
    func addInputGradient2(_ dinp: UnsafeMutablePointer<Float>, _ dv: UnsafePointer<Float>, rows: Range<Int>) {
        let (C, H, W, TW) = (s.C, s.H, s.W, tilesW), ld = lead(rows), st = C * ld, span = stepsW + 16
        let (gp, vp) = (Shared(dinp), Shared(dv))
        // Row i's tiles, after B on both sides: columns 0 and 1 at b + 4i·span and one span on;
        // columns 2 and 3 shifted one tile on (tile m − 1 at m), two and three spans on. Their sums
        // per even and odd padded column at b + 16·span and one span on.
        forEachTileRow(C, scratch: 18 * span, rows) { c, b, row, n, th in
            let even = b + 16 * span, odd = even + span, v = vp.p + c * ld + (row - rows.lowerBound) * TW
            // B down the columns (v0…v3 → v0, v1 − v2 + v3, −v0 + v1 + v2, −v3), then along the rows.
            for t in stride(from: 0, to: TW, by: 8) {
                @inline(__always) func column(_ j: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
                    let (a, p, e, d) = (load(v + j * st + t), load(v + (4 + j) * st + t), load(v + (8 + j) * st + t), load(v + (12 + j) * st + t))
                    return (a, p - e + d, -a + p + e, -d)
                }
                let (x0, x1, x2, x3) = (column(0), column(1), column(2), column(3))
                @inline(__always) func put(_ i: Int, _ a: SIMD8<Float>, _ p: SIMD8<Float>, _ e: SIMD8<Float>, _ d: SIMD8<Float>) {
                    let o = b + 4 * i * span
                    store(a, o + t); store(p - e + d, o + span + t); store(-a + p + e, o + 2 * span + t + 1); store(-d, o + 3 * span + t + 1)
                }
                put(0, x0.0, x1.0, x2.0, x3.0); put(1, x0.1, x1.1, x2.1, x3.1)
                put(2, x0.2, x1.2, x2.2, x3.2); put(3, x0.3, x1.3, x2.3, x3.3)
            }
            for i in 0..<4 {
                let ih = 2 * th - 1 + i
                guard ih >= 0 && ih < H else { continue }
                // Padded column 2m takes tile m's column 0 and tile m − 1's column 2; 2m + 1 takes
                // tile m's column 1 and tile m − 1's column 3. Past the last tile, zeros (the
                // eight-lane steps wrote past it; c2[0] and c3[0] stay zero).
                let c0 = b + 4 * i * span, c1 = c0 + span, c2 = c1 + span, c3 = c2 + span
                store(.zero, c0 + TW); store(.zero, c1 + TW); store(.zero, c2 + TW + 1); store(.zero, c3 + TW + 1)
                for m in stride(from: 0, to: TW + 1, by: 8) {
                    store(load(c0 + m) + load(c2 + m), even + m); store(load(c1 + m) + load(c3 + m), odd + m)
                }
                // Padded column p is input column p − 1: x[2m] += odd[m], x[2m + 1] += even[m + 1].
                interleave(gp.p + ((n * C + c) * H + ih) * W, W, odd, even + 1, adding: true)
            }
        }
    }
}

@inline(__always) private func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
@inline(__always) private func load(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> { load(UnsafePointer(p)) }
@inline(__always) private func store(_ x: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: x, as: SIMD8<Float>.self)
}

/// row[2t] ← first[t] and row[2t + 1] ← second[t] along the row's `width` pixels (row[width − 1]
/// ← first[width / 2] when the width is odd), or += with `adding`; 16, 8 and 4 pixels a step.
@inline(__always) private func interleave(_ row: UnsafeMutablePointer<Float>, _ width: Int, _ first: UnsafePointer<Float>,
                                          _ second: UnsafePointer<Float>, adding: Bool = false) {
    @inline(__always) func put<V: SIMD>(_ mixed: V, _ t: Int) where V.Scalar == Float {
        let p = UnsafeMutableRawPointer(row + 2 * t)
        p.storeBytes(of: adding ? p.loadUnaligned(as: V.self) + mixed : mixed, as: V.self)
    }
    @inline(__always) func get<V: SIMD>(_ p: UnsafePointer<Float>, _ t: Int, _: V.Type) -> V where V.Scalar == Float {
        UnsafeRawPointer(p + t).loadUnaligned(as: V.self)
    }
    var t = 0
    while 2 * t + 16 <= width {
        let (a, b) = (get(first, t, SIMD8<Float>.self), get(second, t, SIMD8<Float>.self))
        put(SIMD16(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7]), t)
        t += 8
    }
    if 2 * t + 8 <= width {
        let (a, b) = (get(first, t, SIMD4<Float>.self), get(second, t, SIMD4<Float>.self))
        put(SIMD8(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3]), t)
        t += 4
    }
    if 2 * t + 4 <= width {
        let (a, b) = (get(first, t, SIMD2<Float>.self), get(second, t, SIMD2<Float>.self))
        put(SIMD4(a[0], b[0], a[1], b[1]), t)
        t += 2
    }
    if 2 * t + 2 <= width { put(SIMD2(first[t], second[t]), t); t += 1 }
    if width % 2 == 1 { row[width - 1] = adding ? row[width - 1] + first[t] : first[t] }
}

/// first[t] ← row[2t] and second[t] ← row[2t + 1] along the row's `width` pixels (first[width / 2]
/// ← row[width − 1] when the width is odd); 16, 8 and 4 pixels a step.
@inline(__always) private func deinterleave(_ row: UnsafePointer<Float>, _ width: Int, _ first: UnsafeMutablePointer<Float>,
                                            _ second: UnsafeMutablePointer<Float>) {
    @inline(__always) func put<V: SIMD>(_ x: V, _ p: UnsafeMutablePointer<Float>, _ t: Int) where V.Scalar == Float {
        UnsafeMutableRawPointer(p + t).storeBytes(of: x, as: V.self)
    }
    @inline(__always) func get<V: SIMD>(_ t: Int, _: V.Type) -> V where V.Scalar == Float {
        UnsafeRawPointer(row + 2 * t).loadUnaligned(as: V.self)
    }
    var t = 0
    while 2 * t + 16 <= width {
        let pair = get(t, SIMD16<Float>.self)
        put(pair.evenHalf, first, t); put(pair.oddHalf, second, t)
        t += 8
    }
    if 2 * t + 8 <= width {
        let pair = get(t, SIMD8<Float>.self)
        put(pair.evenHalf, first, t); put(pair.oddHalf, second, t)
        t += 4
    }
    if 2 * t + 4 <= width {
        let pair = get(t, SIMD4<Float>.self)
        put(pair.evenHalf, first, t); put(pair.oddHalf, second, t)
        t += 2
    }
    if 2 * t + 2 <= width { first[t] = row[2 * t]; second[t] = row[2 * t + 1]; t += 1 }
    if width % 2 == 1 { first[t] = row[width - 1] }
}

/// out (N, K, OH, OW) = conv(inp, weight) + bias (ReLU'd when asked) by Winograd's F(2×2, 3×3).
/// The weight's transform (16, K, C) is made in `transformed` when given (for the backward pass).
func conv2dForwardWinograd(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                           _ bias: UnsafePointer<Float>?, _ w: Winograd, budget: Int, relu: Bool, transformed: UnsafeMutablePointer<Float>?) {
    let s = w.s, P = w.positions, chunks = w.chunks(budget), most = w.mostLead(chunks)
    let scratch = transformed == nil ? Scratch.take(P * s.K * s.C) : nil, v = Scratch.take(P * s.C * most), m = Scratch.take(P * s.K * most)
    defer { [scratch, v, m].compactMap { $0 }.forEach(Scratch.release) }
    let u = transformed ?? scratch!.p
    w.transformWeights(u, weight)
    let (up, vp, mp) = (Shared(u), Shared(v.p), Shared(m.p))
    for rows in chunks {
        let T = rows.count * w.tilesW, ld = w.lead(rows)
        w.transformInput(v.p, inp, rows: rows)
        parallelFor(P) { pos in
            // M[pos] (K, T) = U[pos] (K, C) · V[pos] (C, T)
            sgemm(s.K, T, s.C, up.p + pos * s.K * s.C, lda: s.C, vp.p + pos * s.C * ld, ldb: ld,
                  mp.p + pos * s.K * ld, ldc: ld, split: false)
        }
        w.transformOutput(out, m.p, bias, relu: relu, rows: rows)
    }
}

/// The input's and the weight's gradients (+=) of `conv2dForwardWinograd`, each only when asked
/// for; `transformed` is the weight's transform as the forward pass left it, or nil.
func conv2dBackwardWinograd(_ dinp: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>?,
                            _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                            _ w: Winograd, budget: Int, transformed: UnsafePointer<Float>?) {
    guard dinp != nil || dweight != nil else { return }
    let s = w.s, P = w.positions, KC = s.K * s.C, chunks = w.chunks(budget), most = w.mostLead(chunks)
    let scratch = dinp != nil && transformed == nil ? Scratch.take(P * KC) : nil, du = dweight.map { _ in Scratch.take(P * KC) }
    let v = Scratch.take(P * s.C * most), dm = Scratch.take(P * s.K * most)
    defer { [scratch, du, v, dm].compactMap { $0 }.forEach(Scratch.release) }
    if let scratch { w.transformWeights(scratch.p, weight) }
    let u = dinp == nil ? nil : transformed ?? UnsafePointer(scratch!.p)
    let (up, dup, vp, mp) = (u.map(Shared.init), du.map { Shared($0.p) }, Shared(v.p), Shared(dm.p))
    for (index, rows) in chunks.enumerated() {
        let T = rows.count * w.tilesW, ld = w.lead(rows)
        if du != nil { w.transformInput(v.p, inp, rows: rows) }
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
        if let dinp { w.addInputGradient(dinp, v.p, rows: rows) }
    }
    if let dweight, let du { w.addWeightGradient(dweight, du.p) }
}
