import Foundation

/// Photometric operations with torchvision's semantics on uint8 tensors (`_functional_tensor`):
/// float32 arithmetic, results clamped to 0…255 and truncated by `.to(uint8)`, except the blur,
/// which rounds half to even. Each takes and returns an 8-bit RGB image.
extension Image {
    /// `adjust_brightness`: blend with black, `f·x` truncated.
    public func adjustingBrightness(_ factor: Double) -> Image {
        mapped(Image.blendTable(factor, with: 0))
    }

    /// `adjust_contrast`: blend with the mean of the uint8 grayscale image.
    public func adjustingContrast(_ factor: Double) -> Image {
        let gray = torchGray()
        var sum: Float = 0
        for g in gray { sum += Float(g) }
        let mean = sum / Float(max(gray.count, 1))
        return mapped(Image.blendTable(factor, with: mean))
    }

    /// `adjust_saturation`: blend with the uint8 grayscale image.
    public func adjustingSaturation(_ factor: Double) -> Image {
        let gray = torchGray()
        let f = Float(factor), g = Float(1 - factor)
        var out = pixels
        gray.withUnsafeBufferPointer { gray in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<gray.count {
                    let y = g * Float(gray[i])
                    for c in 3 * i..<3 * i + 3 { o[c] = UInt8(max(0, min(255, f * Float(o[c]) + y))) }
                }
            }
        }
        return Image(width: width, height: height, channels: 3, pixels: out)
    }

    /// `adjust_hue`: to [0, 1] floats, through HSV with the hue shifted (mod 1), back by ×255.999 truncated.
    public func adjustingHue(_ factor: Double) -> Image {
        var out = pixels
        let shift = Float(factor)
        out.withUnsafeMutableBufferPointer { o in
            for i in 0..<pixelCount {
                let (h, s, v) = HSV.fromRGB(Float(o[3 * i]) / 255, Float(o[3 * i + 1]) / 255, Float(o[3 * i + 2]) / 255)
                // (h + f) mod 1 with h in [0, 1) and |f| ≤ 0.5: one subtraction or addition, exact.
                var hue = h + shift
                if hue >= 1 { hue -= 1 } else if hue < 0 { hue += 1 }
                let (r, g, b) = HSV.toRGB(hue, s, v)
                o[3 * i] = Image.unitToByte(r); o[3 * i + 1] = Image.unitToByte(g); o[3 * i + 2] = Image.unitToByte(b)
            }
        }
        return Image(width: width, height: height, channels: 3, pixels: out)
    }

    /// `gaussian_blur` with an odd `kernel` and `sigma`: torch's float32 kernel, reflect padding, rounded.
    ///
    /// - Complexity: O(width × height × kernel), in two separable passes over float rows.
    public func gaussianBlurred(kernel: Int, sigma: Double) -> Image {
        precondition(kernel > 0 && kernel % 2 == 1, "gaussianBlurred: kernel must be odd")
        let taps = Image.gaussianKernel(kernel, sigma)
        let half = kernel / 2
        guard width > half, height > half, channels == 3 else { return self }  // torch's reflect padding needs size > pad
        func reflect(_ i: Int, _ n: Int) -> Int { i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i) }
        let stride = width * 3
        // Horizontal pass: each row widened to float with reflected borders, then the taps.
        var mid = [Float](repeating: 0, count: pixels.count)
        var line = [Float](repeating: 0, count: (width + 2 * half) * 3)
        pixels.withUnsafeBufferPointer { src in
            mid.withUnsafeMutableBufferPointer { dst in
                line.withUnsafeMutableBufferPointer { line in
                    taps.withUnsafeBufferPointer { taps in
                        for y in 0..<height {
                            let row = y * stride
                            for x in 0..<(width + 2 * half) {
                                let sx = reflect(x - half, width) * 3
                                line[3 * x] = Float(src[row + sx]); line[3 * x + 1] = Float(src[row + sx + 1]); line[3 * x + 2] = Float(src[row + sx + 2])
                            }
                            // Each sum still runs over the taps in order; the loop over j vectorizes.
                            let out = dst.baseAddress! + row
                            for j in 0..<stride { out[j] = 0 }
                            for k in 0..<kernel {
                                let w = taps[k], src = line.baseAddress! + 3 * k
                                for j in 0..<stride { out[j] += w * src[j] }
                            }
                        }
                    }
                }
            }
        }
        // Vertical pass over whole rows, rounded half to even as torch.round.
        var out = [UInt8](repeating: 0, count: pixels.count)
        var acc = [Float](repeating: 0, count: stride)
        mid.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                acc.withUnsafeMutableBufferPointer { acc in
                    for y in 0..<height {
                        for j in 0..<stride { acc[j] = 0 }
                        for k in 0..<kernel {
                            let wgt = taps[k], base = reflect(y + k - half, height) * stride
                            for j in 0..<stride { acc[j] += wgt * src[base + j] }
                        }
                        for j in 0..<stride { dst[y * stride + j] = UInt8(max(0, min(255, acc[j].rounded(.toNearestOrEven)))) }
                    }
                }
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
                for i in 0..<pixelCount {
                    let r = Float(p[3 * i]), g = Float(p[3 * i + 1]), b = Float(p[3 * i + 2])
                    out[i] = UInt8(max(0, min(255, Float(0.2989) * r + Float(0.587) * g + Float(0.114) * b)))
                }
            }
            n = pixelCount
        }
    }

    /// `_blend` against a constant: the 256 possible results.
    static func blendTable(_ factor: Double, with y: Float) -> [UInt8] {
        let f = Float(factor), g = Float(1 - factor)
        return (0..<256).map { x in UInt8(max(0, min(255, f * Float(x) + g * y))) }
    }

    /// Every sample through a 256-entry table.
    func mapped(_ table: [UInt8]) -> Image {
        var out = pixels
        table.withUnsafeBufferPointer { t in
            out.withUnsafeMutableBufferPointer { o in for i in 0..<o.count { o[i] = t[Int(o[i])] } }
        }
        return Image(width: width, height: height, channels: channels, pixels: out)
    }

    /// `convert_image_dtype(float → uint8)`: x · 255.999, truncated.
    @inline(__always) static func unitToByte(_ x: Float) -> UInt8 { UInt8(max(0, min(255, x * (255 + 1 - 0.001)))) }
}
