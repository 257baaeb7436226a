import Foundation

/// Photometric operations with torchvision's semantics on uint8 tensors (`_functional_tensor`):
/// float32 arithmetic, results clamped to 0…255 and truncated by `.to(uint8)`, except the blur,
/// which rounds half to even. Each takes and returns an 8-bit RGB image.
extension Image {
    /// `adjust_brightness`: blend with black, `f·x` truncated.
    public func adjustingBrightness(_ factor: Double) -> Image {
        blended(factor, with: 0)
    }

    /// `adjust_contrast`: blend with the mean of the uint8 grayscale image.
    public func adjustingContrast(_ factor: Double) -> Image {
        let gray = torchGray()
        var sum: Float = 0
        for g in gray { sum += Float(g) }
        let mean = sum / Float(max(gray.count, 1))
        return blended(factor, with: mean)
    }

    /// `adjust_saturation`: blend with the uint8 grayscale image.
    public func adjustingSaturation(_ factor: Double) -> Image {
        let gray = torchGray()
        let f = Float(factor), g = Float(1 - factor)
        var out = pixels
        gray.withUnsafeBufferPointer { gray in
            out.withUnsafeMutableBufferPointer { o in
                guard var p = o.baseAddress else { return }
                for i in 0..<gray.count {
                    let y = g * Float(gray[i])
                    p[0] = Image.truncByte(f * Float(p[0]) + y)
                    p[1] = Image.truncByte(f * Float(p[1]) + y)
                    p[2] = Image.truncByte(f * Float(p[2]) + y)
                    p += 3
                }
            }
        }
        return Image(width: width, height: height, channels: 3, pixels: out)
    }

    /// `adjust_hue`: to [0, 1] floats, through HSV with the hue shifted (mod 1), back by ×255.999 truncated.
    ///
    /// The same float operations as `HSV.fromRGB`/`toRGB` in the same order (so the same bytes as
    /// a pixel-at-a-time loop through them, which the tests hold it to), but over blocks of planar
    /// floats with selects instead of branches, which the compiler vectorizes.
    public func adjustingHue(_ factor: Double) -> Image {
        guard channels == 3 else { return self }
        var out = pixels
        let shift = Float(factor)
        let block = 512
        var planes = [Float](repeating: 0, count: block * 6)
        out.withUnsafeMutableBufferPointer { o in
            planes.withUnsafeMutableBufferPointer { planes in
                let r = planes.baseAddress!, g = r + block, b = g + block
                let h = b + block, s = h + block, v = s + block
                var start = 0
                while start < pixelCount {
                    let n = min(block, pixelCount - start)
                    var px = o.baseAddress! + 3 * start
                    for i in 0..<n { r[i] = Float(px[0]) / 255; g[i] = Float(px[1]) / 255; b[i] = Float(px[2]) / 255; px += 3 }
                    Image.hueBlock(r, g, b, h, s, v, n, shift)
                    px = o.baseAddress! + 3 * start
                    for i in 0..<n { px[0] = Image.unitToByte(r[i]); px[1] = Image.unitToByte(g[i]); px[2] = Image.unitToByte(b[i]); px += 3 }
                    start += n
                }
            }
        }
        return Image(width: width, height: height, channels: 3, pixels: out)
    }

    /// RGB → HSV, hue shifted, → RGB, in place on `n` planar values (h, s, v: scratch).
    @inline(__always)
    static func hueBlock(_ r: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>,
                         _ h: UnsafeMutablePointer<Float>, _ s: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>,
                         _ n: Int, _ shift: Float) {
        for i in 0..<n {
            let ri = r[i], gi = g[i], bi = b[i]
            let maxc = max(max(ri, gi), bi), minc = min(min(ri, gi), bi)
            let equal = maxc == minc
            let cr = maxc - minc
            s[i] = cr / (equal ? 1 : maxc)
            let divisor = equal ? 1 : cr
            let rc = (maxc - ri) / divisor, gc = (maxc - gi) / divisor, bc = (maxc - bi) / divisor
            let hr = bc - gc, hg = 2 + rc - bc, hb = 4 + gc - rc
            var hue = (maxc == ri ? hr : (maxc == gi ? hg : hb)) / 6 + 1
            hue = hue >= 1 ? hue - 1 : hue
            hue = hue + shift
            hue = hue >= 1 ? hue - 1 : (hue < 0 ? hue + 1 : hue)
            h[i] = hue
            v[i] = maxc
        }
        for i in 0..<n {
            let hi = h[i], si = s[i], vi = v[i]
            // floor(6h) for 6h in [0, 6) by the 2²³ trick (exact; floorf would be a call per value).
            let six = hi * 6, nearest = (six + 8_388_608) - 8_388_608
            let sector = nearest > six ? nearest - 1 : nearest
            let f = six - sector
            let p = min(max(vi * (1 - si), 0), 1)
            let q = min(max(vi * (1 - si * f), 0), 1)
            let t = min(max(vi * (1 - si * (1 - f)), 0), 1)
            // h in [0, 1): sector 0…5 (6 only if h rounds up to 1, which is sector 0 again).
            let k = sector >= 6 ? sector - 6 : sector
            r[i] = k == 0 || k == 5 ? vi : (k == 1 ? q : (k == 4 ? t : p))
            g[i] = k == 1 || k == 2 ? vi : (k == 0 ? t : (k == 3 ? q : p))
            b[i] = k == 3 || k == 4 ? vi : (k == 2 ? t : (k == 5 ? q : p))
        }
    }

    /// `gaussian_blur` with an odd `kernel` and `sigma`: torch's float32 kernel, reflect padding, rounded.
    ///
    /// - Complexity: O(width × height × kernel), in two separable passes over float rows whose
    ///   inner loops run over whole rows (vectorized).
    public func gaussianBlurred(kernel: Int, sigma: Double) -> Image {
        precondition(kernel > 0 && kernel % 2 == 1, "gaussianBlurred: kernel must be odd")
        let taps = Image.gaussianKernel(kernel, sigma)
        let half = kernel / 2
        guard width > half, height > half, channels == 3 else { return self }  // torch's reflect padding needs size > pad
        func reflect(_ i: Int, _ n: Int) -> Int { i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i) }
        let stride = width * 3
        let mid = UnsafeMutablePointer<Float>.allocate(capacity: pixels.count)
        let line = UnsafeMutablePointer<Float>.allocate(capacity: (width + 2 * half) * 3)
        let acc = UnsafeMutablePointer<Float>.allocate(capacity: stride)
        defer { mid.deallocate(); line.deallocate(); acc.deallocate() }
        // Horizontal pass: each row widened to float with reflected borders, then the taps; each
        // sum runs over the taps in order (0 + w₀x₀ + w₁x₁ …, as torch's conv does here).
        pixels.withUnsafeBufferPointer { src in
            for y in 0..<height {
                let row = src.baseAddress! + y * stride
                for j in 0..<stride { line[3 * half + j] = Float(row[j]) }
                for x in 0..<half {
                    let l = reflect(x - half, width) * 3, r = reflect(width + x, width) * 3
                    for c in 0..<3 { line[3 * x + c] = Float(row[l + c]); line[3 * (width + half + x) + c] = Float(row[r + c]) }
                }
                let out = mid + y * stride
                let w0 = taps[0]
                for j in 0..<stride { out[j] = 0 + w0 * line[j] }
                for k in 1..<kernel {
                    let w = taps[k], s = line + 3 * k
                    for j in 0..<stride { out[j] += w * s[j] }
                }
            }
        }
        // Vertical pass over whole rows, rounded half to even as torch.round.
        var out = [UInt8](repeating: 0, count: pixels.count)
        out.withUnsafeMutableBufferPointer { dst in
            for y in 0..<height {
                let w0 = taps[0], first = mid + reflect(y - half, height) * stride
                for j in 0..<stride { acc[j] = 0 + w0 * first[j] }
                for k in 1..<kernel {
                    let w = taps[k], s = mid + reflect(y + k - half, height) * stride
                    for j in 0..<stride { acc[j] += w * s[j] }
                }
                let d = dst.baseAddress! + y * stride
                for j in 0..<stride { d[j] = Image.roundByte(acc[j]) }
            }
        }
        return Image(width: width, height: height, channels: 3, pixels: out)
    }

    /// torchvision's `_get_gaussian_kernel1d` in float32.
    static func gaussianKernel(_ size: Int, _ sigma: Double) -> [Float] {
        let half = Float(size - 1) * 0.5
        let step = size > 1 ? (half - -half) / Float(size - 1) : 0
        let s = Float(sigma)
        let pdf = (0..<size).map { i -> Float in
            let x = -half + Float(i) * step
            return exp(-0.5 * (x / s) * (x / s))
        }
        let total = pdf.reduce(0, +)
        return pdf.map { $0 / total }
    }

    /// `rgb_to_grayscale` on uint8: (0.2989 r + 0.587 g + 0.114 b) in float32, truncated.
    func torchGray() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: pixelCount) { out, n in
            pixels.withUnsafeBufferPointer { p in
                guard var q = p.baseAddress else { return }
                for i in 0..<pixelCount {
                    let r = Float(q[0]), g = Float(q[1]), b = Float(q[2])
                    out[i] = Image.truncByte(Float(0.2989) * r + Float(0.587) * g + Float(0.114) * b)
                    q += 3
                }
            }
            n = pixelCount
        }
    }

    /// `_blend` against a constant `y`: f·x + (1 − f)·y for every sample, truncated. The same
    /// float operations as `blendTable` (the product (1 − f)·y is one float either way), in a
    /// loop that vectorizes where a table lookup cannot.
    func blended(_ factor: Double, with y: Float) -> Image {
        let f = Float(factor), gy = Float(1 - factor) * y
        var out = pixels
        out.withUnsafeMutableBufferPointer { o in
            guard let p = o.baseAddress else { return }
            for i in 0..<o.count { p[i] = Image.truncByte(f * Float(p[i]) + gy) }
        }
        return Image(width: width, height: height, channels: channels, pixels: out)
    }

    /// `_blend` against a constant, the 256 possible results in a table: the reference `blended` is tested against.
    static func blendTable(_ factor: Double, with y: Float) -> [UInt8] {
        let f = Float(factor), g = Float(1 - factor)
        return (0..<256).map { x in UInt8(max(0, min(255, f * Float(x) + g * y))) }
    }

    /// `convert_image_dtype(float → uint8)`: x · 255.999, truncated.
    @inline(__always) static func unitToByte(_ x: Float) -> UInt8 { truncByte(x * (255 + 1 - 0.001)) }

    // Float → byte without a libm call or a trapping conversion, so that loops vectorize: adding
    // 2²³ to a value in [0, 255] rounds it to an integer (half to even, the FPU's mode) that
    // sits in the low bits of the sum. Equal to `UInt8(max(0, min(255, x)))` (truncated) and
    // to its rounded form on every float (tested).

    /// `x` clamped to [0, 255], rounded half to even (torch.round), as a byte.
    @inline(__always) static func roundByte(_ x: Float) -> UInt8 {
        UInt8(truncatingIfNeeded: (max(0, min(255, x)) + 8_388_608).bitPattern)
    }

    /// `x` clamped to [0, 255], truncated (`.to(torch.uint8)`), as a byte.
    @inline(__always) static func truncByte(_ x: Float) -> UInt8 {
        let y = max(0, min(255, x))
        let nearest = (y + 8_388_608) - 8_388_608
        return UInt8(truncatingIfNeeded: ((nearest > y ? nearest - 1 : nearest) + 8_388_608).bitPattern)
    }
}
