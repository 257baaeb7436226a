import Foundation

/// Photometric operations with torchvision's semantics on uint8 tensors (`_functional_tensor`):
/// float32 arithmetic, results clamped to 0…255 and truncated by `.to(uint8)`, except the blur,
/// which rounds half to even. Each takes and returns an 8-bit RGB image.
extension Image {
    /// `adjust_brightness`: blend with black, `f·x` truncated.
    public func adjustingBrightness(_ factor: Double) -> Image {
        blended(with: { _ in (0, 0, 0) }, factor)
    }

    /// `adjust_contrast`: blend with the mean of the uint8 grayscale image.
    public func adjustingContrast(_ factor: Double) -> Image {
        let gray = torchGray()
        var sum: Float = 0
        for g in gray { sum += Float(g) }
        let mean = sum / Float(max(gray.count, 1))
        return blended(with: { _ in (mean, mean, mean) }, factor)
    }

    /// `adjust_saturation`: blend with the uint8 grayscale image.
    public func adjustingSaturation(_ factor: Double) -> Image {
        let gray = torchGray()
        return blended(with: { i in let g = Float(gray[i]); return (g, g, g) }, factor)
    }

    /// `adjust_hue`: to [0, 1] floats, through HSV with the hue shifted (mod 1), back by ×255.999 truncated.
    public func adjustingHue(_ factor: Double) -> Image {
        var out = pixels
        let shift = Float(factor)
        for i in 0..<pixelCount {
            let (h, s, v) = HSV.fromRGB(Float(pixels[3 * i]) / 255, Float(pixels[3 * i + 1]) / 255, Float(pixels[3 * i + 2]) / 255)
            var hue = (h + shift).truncatingRemainder(dividingBy: 1)
            if hue < 0 { hue += 1 }
            let (r, g, b) = HSV.toRGB(hue, s, v)
            out[3 * i] = Image.unitToByte(r); out[3 * i + 1] = Image.unitToByte(g); out[3 * i + 2] = Image.unitToByte(b)
        }
        return Image(width: width, height: height, channels: 3, pixels: out)
    }

    /// `gaussian_blur` with an odd `kernel` and `sigma`: torch's float32 kernel, reflect padding, rounded.
    public func gaussianBlurred(kernel: Int, sigma: Double) -> Image {
        precondition(kernel > 0 && kernel % 2 == 1, "gaussianBlurred: kernel must be odd")
        let taps = Image.gaussianKernel(kernel, sigma)
        let half = kernel / 2
        guard width > half, height > half else { return self }  // torch's reflect padding needs size > pad
        func reflect(_ i: Int, _ n: Int) -> Int { i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i) }
        // Separable passes in float32 (a 2-D kernel is the outer product of these taps).
        var mid = [Float](repeating: 0, count: pixels.count)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 {
                    var acc: Float = 0
                    for k in 0..<kernel { acc += taps[k] * Float(pixels[(y * width + reflect(x + k - half, width)) * 3 + c]) }
                    mid[(y * width + x) * 3 + c] = acc
                }
            }
        }
        var out = pixels
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 {
                    var acc: Float = 0
                    for k in 0..<kernel { acc += taps[k] * mid[(reflect(y + k - half, height) * width + x) * 3 + c] }
                    out[(y * width + x) * 3 + c] = UInt8(max(0, min(255, acc.rounded(.toNearestOrEven))))
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
        (0..<pixelCount).map { i in
            let r = Float(pixels[3 * i]), g = Float(pixels[3 * i + 1]), b = Float(pixels[3 * i + 2])
            return UInt8(max(0, min(255, Float(0.2989) * r + Float(0.587) * g + Float(0.114) * b)))
        }
    }

    /// `_blend`: (f·x + (1 − f)·y) in float32, clamped, truncated.
    func blended(with other: (Int) -> (Float, Float, Float), _ factor: Double) -> Image {
        let f = Float(factor), g = Float(1 - factor)
        var out = pixels
        for i in 0..<pixelCount {
            let (a, b, c) = other(i)
            out[3 * i] = UInt8(max(0, min(255, f * Float(pixels[3 * i]) + g * a)))
            out[3 * i + 1] = UInt8(max(0, min(255, f * Float(pixels[3 * i + 1]) + g * b)))
            out[3 * i + 2] = UInt8(max(0, min(255, f * Float(pixels[3 * i + 2]) + g * c)))
        }
        return Image(width: width, height: height, channels: 3, pixels: out)
    }

    /// `convert_image_dtype(float → uint8)`: x · 255.999, truncated.
    static func unitToByte(_ x: Float) -> UInt8 { UInt8(max(0, min(255, x * (255 + 1 - 0.001)))) }
}
