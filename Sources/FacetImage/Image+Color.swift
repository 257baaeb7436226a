extension Image {
    /// The same picture with one channel: L = 0.299 R + 0.587 G + 0.114 B, rounded
    /// (ITU-R 601-2 luma, as Pillow's `convert("L")`). A gray image is returned as is.
    public func grayscale() -> Image {
        if channels == 1 { return self }
        var out = [UInt8](repeating: 0, count: pixelCount)
        pixels.withUnsafeBufferPointer { p in
            for i in 0..<pixelCount {
                let r = Int(p[3 * i]), g = Int(p[3 * i + 1]), b = Int(p[3 * i + 2])
                out[i] = UInt8((r * 299 + g * 587 + b * 114 + 500) / 1000)
            }
        }
        return Image(width: width, height: height, channels: 1, pixels: out)
    }

    /// Per pixel of an RGB picture: luma 0.299 R + 0.587 G + 0.114 B (not rounded) and the
    /// chromaticities R / (R + G + B) and G / (R + G + B), the sum taken as at least 1.
    public func lumaAndChromaticity() -> (luma: [Double], r: [Double], g: [Double]) {
        precondition(channels == 3, "lumaAndChromaticity needs an RGB image")
        var luma = [Double](repeating: 0, count: pixelCount), rn = luma, gn = luma
        pixels.withUnsafeBufferPointer { p in
            for i in 0..<pixelCount {
                let r = Double(p[3 * i]), g = Double(p[3 * i + 1]), b = Double(p[3 * i + 2])
                let s = max(r + g + b, 1)
                (luma[i], rn[i], gn[i]) = (0.299 * r + 0.587 * g + 0.114 * b, r / s, g / s)
            }
        }
        return (luma, rn, gn)
    }

    /// The same picture with three channels (gray copied to R, G and B).
    public func rgb() -> Image {
        if channels == 3 { return self }
        var out = [UInt8](repeating: 0, count: pixelCount * 3)
        for i in 0..<pixelCount { out[3 * i] = pixels[i]; out[3 * i + 1] = pixels[i]; out[3 * i + 2] = pixels[i] }
        return Image(width: width, height: height, channels: 3, pixels: out)
    }

    /// HSV in [0, 1], (H, W, 3) interleaved, by torchvision's `_rgb2hsv` formulas.
    public func hsv() -> [Float] {
        let src = rgb()
        var out = [Float](repeating: 0, count: pixelCount * 3)
        for i in 0..<pixelCount {
            let (h, s, v) = HSV.fromRGB(Float(src.pixels[3 * i]) / 255, Float(src.pixels[3 * i + 1]) / 255,
                                        Float(src.pixels[3 * i + 2]) / 255)
            out[3 * i] = h; out[3 * i + 1] = s; out[3 * i + 2] = v
        }
        return out
    }

    /// An RGB image from (H, W, 3) HSV values in [0, 1] (torchvision's `_hsv2rgb`), rounded.
    public init(width: Int, height: Int, hsv: [Float]) {
        precondition(hsv.count == width * height * 3, "Image(hsv:): wrong count")
        var out = [UInt8](repeating: 0, count: hsv.count)
        for i in 0..<(width * height) {
            let (r, g, b) = HSV.toRGB(hsv[3 * i], hsv[3 * i + 1], hsv[3 * i + 2])
            out[3 * i] = HSV.byte(r); out[3 * i + 1] = HSV.byte(g); out[3 * i + 2] = HSV.byte(b)
        }
        self.init(width: width, height: height, channels: 3, pixels: out)
    }
}

/// RGB ↔ HSV on values in [0, 1], exactly as torchvision's tensor functions compute them.
public enum HSV {
    @inline(__always)
    public static func fromRGB(_ r: Float, _ g: Float, _ b: Float) -> (h: Float, s: Float, v: Float) {
        let maxc = max(r, g, b), minc = min(r, g, b)
        let equal = maxc == minc
        let cr = maxc - minc
        let s = cr / (equal ? 1 : maxc)
        let divisor = equal ? 1 : cr
        let rc = (maxc - r) / divisor, gc = (maxc - g) / divisor, bc = (maxc - b) / divisor
        var h: Float
        if maxc == r { h = bc - gc }
        else if maxc == g { h = 2 + rc - bc }
        else { h = 4 + gc - rc }
        h = h / 6 + 1
        if h >= 1 { h -= 1 }  // fmod(x, 1) for x in [5/6, 2): exact
        return (h, s, maxc)
    }

    @inline(__always)
    public static func toRGB(_ h: Float, _ s: Float, _ v: Float) -> (r: Float, g: Float, b: Float) {
        let i = (h * 6).rounded(.down)
        let f = h * 6 - i
        let p = min(max(v * (1 - s), 0), 1)
        let q = min(max(v * (1 - s * f), 0), 1)
        let t = min(max(v * (1 - s * (1 - f)), 0), 1)
        switch ((Int(i) % 6) + 6) % 6 {
        case 0: return (v, t, p)
        case 1: return (q, v, p)
        case 2: return (p, v, t)
        case 3: return (p, q, v)
        case 4: return (t, p, v)
        default: return (v, p, q)
        }
    }

    /// A value in [0, 1] as an 8-bit level, rounded and clamped.
    public static func byte(_ x: Float) -> UInt8 { UInt8(max(0, min(255, (x * 255).rounded()))) }
}
