/// Winograd's F(2×2, 3×3) tile transforms (the matrices in `Winograd`'s comment):
///
///     Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]    G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
///     Aᵀ = [1 1 1 0; 0 1 −1 −1]
///
/// Like F(4×4)'s (`WinogradF4x4.swift`), they take a block of tile rows at a time, each of the 16
/// places of a tile in an array of its own, tile after tile along the rows and row after row.
/// Tile t covers input columns 2t − 1 … 2t + 2: columns 1 and 2 come from the row's even and odd
/// pixels, columns 0 and 3 are read from columns 2 and 1 one tile back and on.
extension Winograd {
    /// The four values at p, p + step, p + 2·step, p + 3·step.
    @inline(__always) static func load4(_ p: UnsafePointer<Float>, _ step: Int) -> (Lanes, Lanes, Lanes, Lanes) {
        (load(p), load(p + step), load(p + 2 * step), load(p + 3 * step))
    }

    /// z into p, p + step, p + 2·step, p + 3·step.
    @inline(__always) static func store4(_ z: (Lanes, Lanes, Lanes, Lanes), _ p: UnsafeMutablePointer<Float>, _ step: Int) {
        store(z.0, p); store(z.1, p + step); store(z.2, p + 2 * step); store(z.3, p + 3 * step)
    }

    static let g2: [[Float]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]

    /// Bᵀ d.
    @inline(__always) static func bt2(_ d: (Lanes, Lanes, Lanes, Lanes)) -> (Lanes, Lanes, Lanes, Lanes) {
        (d.0 - d.2, d.1 + d.2, d.2 - d.1, d.1 - d.3)
    }

    /// B v (the adjoint of `bt2`).
    @inline(__always) static func b2(_ v: (Lanes, Lanes, Lanes, Lanes)) -> (Lanes, Lanes, Lanes, Lanes) {
        (v.0, v.1 - v.2 + v.3, v.1 + v.2 - v.0, -v.3)
    }

    /// Aᵀ m.
    @inline(__always) static func at2(_ m: (Lanes, Lanes, Lanes, Lanes)) -> (Lanes, Lanes) { (m.0 + m.1 + m.2, m.1 - m.2 - m.3) }

    /// A y (the adjoint of `at2`).
    @inline(__always) static func a2(_ y: (Lanes, Lanes)) -> (Lanes, Lanes, Lanes, Lanes) { (y.0, y.0 + y.1, y.0 - y.1, -y.1) }

    /// v (16, C, lead(rows)) = Bᵀ d B for the tiles of tile rows `rows`.
    func transformInput2(_ v: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, rows: Range<Int>) {
        let (C, W, TW, L) = (s.C, s.W, tilesW, packed), ld = lead(rows), cs = C * ld
        let (vp, ip) = (Shared(v), Shared(inp)), (first, last) = edgeMasks()
        // Row i's columns 1 and 2 at d + (4i + 1)·L and one array on; 0 and 3 are never stored.
        forEachBlock(C, arrays: 16, rows) { c, d, block, at in
            forEachInputRow(block, c, C, d) { r, at in
                guard let at else { (r + L).update(repeating: 0, count: TW); (r + 2 * L).update(repeating: 0, count: TW); return }
                deinterleave(ip.p + at, W, r + L, r + 2 * L)
            }
            let o = vp.p + c * ld + at
            for t in stride(from: 0, to: block.count * TW, by: 8) {
                let (f, l) = (first[t / 8], last[t / 8])
                @inline(__always) func row(_ i: Int) -> (Lanes, Lanes, Lanes, Lanes) {
                    let r = d + 4 * i * L + t
                    return Self.bt2((f * load(r + 2 * L - 1), load(r + L), load(r + 2 * L), l * load(r + L + 1)))
                }
                let (x0, x1, x2, x3) = (row(0), row(1), row(2), row(3))
                @inline(__always) func put(_ j: Int, _ z: (Lanes, Lanes, Lanes, Lanes)) { Self.store4(z, o + j * cs + t, 4 * cs) }
                put(0, Self.bt2((x0.0, x1.0, x2.0, x3.0))); put(1, Self.bt2((x0.1, x1.1, x2.1, x3.1)))
                put(2, Self.bt2((x0.2, x1.2, x2.2, x3.2))); put(3, Self.bt2((x0.3, x1.3, x2.3, x3.3)))
            }
        }
    }

    /// out (N, K, OH, OW) ← Aᵀ M A (+ bias, then ReLU when asked) for the tiles of `rows`, from
    /// m (16, K, lead(rows)).
    func transformOutput2(_ out: UnsafeMutablePointer<Float>, _ m: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                          relu: Bool, rows: Range<Int>) {
        let (OW, L, st) = (s.OW, packed, s.K * lead(rows))
        forEachOutputBlock(out, m, bias, rows: rows, transform: { y, q, bk, count in
            for t in stride(from: 0, to: count, by: 8) {
                @inline(__always) func column(_ j: Int) -> (Lanes, Lanes) { Self.at2(Self.load4(q + j * st + t, 4 * st)) }
                let (x0, x1, x2, x3) = (column(0), column(1), column(2), column(3))
                @inline(__always) func put(_ a: Int, _ r: (Lanes, Lanes)) {
                    store(Self.finish(r.0, bk, relu: relu), y + 2 * a * L + t); store(Self.finish(r.1, bk, relu: relu), y + (2 * a + 1) * L + t)
                }
                put(0, Self.at2((x0.0, x1.0, x2.0, x3.0))); put(1, Self.at2((x0.1, x1.1, x2.1, x3.1)))
            }
        }, write: { o, r in interleave(o, OW, r, r + L) })
    }

    /// dm (16, K, lead(rows)) = A dY Aᵀ for the tiles of `rows`, dY read from dout (N, K, OH, OW),
    /// zero beyond the image.
    func transformOutputGradient2(_ dm: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, rows: Range<Int>) {
        let (OW, L, st) = (s.OW, packed, s.K * lead(rows))
        forEachOutputGradientBlock(dm, dout, rows: rows, read: { d, r in deinterleave(d, OW, r, r + L) }, transform: { y, q, count in
            // A along the rows, then down the columns.
            for t in stride(from: 0, to: count, by: 8) {
                let w0 = Self.a2((load(y + t), load(y + L + t))), w1 = Self.a2((load(y + 2 * L + t), load(y + 3 * L + t)))
                @inline(__always) func put(_ j: Int, _ z: (Lanes, Lanes, Lanes, Lanes)) { Self.store4(z, q + j * st + t, 4 * st) }
                put(0, Self.a2((w0.0, w1.0))); put(1, Self.a2((w0.1, w1.1))); put(2, Self.a2((w0.2, w1.2))); put(3, Self.a2((w0.3, w1.3)))
            }
        })
    }

    /// dinp (N, C, H, W) += B dV Bᵀ over the input tiles of `rows`, from dv (16, C, lead(rows)).
    ///
    /// Neighbouring tiles share two columns (and two rows): input column 2m takes tile m's column
    /// 1 and tile m − 1's column 3, column 2m + 1 tile m's column 2 and tile m + 1's column 0.
    func addInputGradient2(_ dinp: UnsafeMutablePointer<Float>, _ dv: UnsafePointer<Float>, rows: Range<Int>) {
        let (C, W, TW, L) = (s.C, s.W, tilesW, packed), ld = lead(rows), st = C * ld
        let (gp, vp) = (Shared(dinp), Shared(dv)), (first, last) = edgeMasks()
        // Place (i, j) of each tile of the block at d + (4i + j)·L.
        forEachBlock(C, arrays: 16, rows) { c, d, block, at in
            let v = vp.p + c * ld + at, count = block.count * TW
            for t in stride(from: 0, to: count, by: 8) {
                @inline(__always) func column(_ j: Int) -> (Lanes, Lanes, Lanes, Lanes) { Self.b2(Self.load4(v + j * st + t, 4 * st)) }
                let (x0, x1, x2, x3) = (column(0), column(1), column(2), column(3))
                @inline(__always) func put(_ i: Int, _ r: (Lanes, Lanes, Lanes, Lanes)) { Self.store4(r, d + 4 * i * L + t, L) }
                put(0, Self.b2((x0.0, x1.0, x2.0, x3.0))); put(1, Self.b2((x0.1, x1.1, x2.1, x3.1)))
                put(2, Self.b2((x0.2, x1.2, x2.2, x3.2))); put(3, Self.b2((x0.3, x1.3, x2.3, x3.3)))
            }
            foldSharedColumns(d, count: count, first, last)
            forEachInputRow(block, c, C, d) { r, at in if let at { interleave(gp.p + at, W, r + L, r + 2 * L, adding: true) } }
        }
    }
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

