extension Image {
    /// An affine map from output pixels to this image's pixels: the output pixel whose centre is
    /// (u, v) samples this image at (a·u + b·v + tx, c·u + d·v + ty), in pixel-centre coordinates
    /// (pixel (0, 0) covers 0…1, its centre is 0.5).
    public struct Affine: Sendable, Equatable {
        public var a, b, c, d, tx, ty: Double
        public init(a: Double, b: Double, c: Double, d: Double, tx: Double, ty: Double) {
            (self.a, self.b, self.c, self.d, self.tx, self.ty) = (a, b, c, d, tx, ty)
        }
    }

    /// A `width` × `height` image sampled through `map` with bilinear interpolation; points
    /// outside this image take `fill`. Interpolation alone does not antialias: shrink with
    /// `resized` first so that `map` scales by about 1 or more.
    public func warped(width w: Int, height h: Int, map m: Affine, fill: [UInt8]) -> Image {
        precondition(w > 0 && h > 0 && fill.count == channels, "warped: bad size or fill")
        var out = [UInt8](repeating: 0, count: w * h * channels)
        let c = channels, sw = width, sh = height
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for v in 0..<h {
                    let cv = Double(v) + 0.5
                    for u in 0..<w {
                        let cu = Double(u) + 0.5
                        // Source coordinates in pixel-index space (centre of pixel i is i).
                        let x = m.a * cu + m.b * cv + m.tx - 0.5, y = m.c * cu + m.d * cv + m.ty - 0.5
                        let o = (v * w + u) * c
                        guard x > -1, y > -1, x < Double(sw), y < Double(sh) else {
                            for k in 0..<c { dst[o + k] = fill[k] }
                            continue
                        }
                        let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
                        let fx = x - Double(x0), fy = y - Double(y0)
                        for k in 0..<c {
                            // Neighbours outside the image count as `fill`.
                            func at(_ xx: Int, _ yy: Int) -> Double {
                                xx >= 0 && yy >= 0 && xx < sw && yy < sh ? Double(src[(yy * sw + xx) * c + k]) : Double(fill[k])
                            }
                            let top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx
                            let bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx
                            dst[o + k] = UInt8(max(0, min(255, (top * (1 - fy) + bottom * fy).rounded())))
                        }
                    }
                }
            }
        }
        return Image(width: w, height: h, channels: c, pixels: out)
    }
}
