extension Image {
    /// Resized to `width` × `height` with a triangle (bilinear) filter whose support
    /// widens with the scale factor when shrinking, so downscaling is antialiased. This is
    /// Pillow's `Image.resize(…, BILINEAR)` and torchvision's `resize(antialias=True)`.
    ///
    /// - Complexity: O(outputWidth × height + outputWidth × outputHeight) × filter support.
    public func resized(width newWidth: Int, height newHeight: Int) -> Image {
        precondition(newWidth > 0 && newHeight > 0, "resized: target must be positive")
        if newWidth == width && newHeight == height { return self }
        let c = channels
        let horizontal = _ResampleTaps(input: width, output: newWidth)
        let vertical = _ResampleTaps(input: height, output: newHeight)
        // Horizontal pass: (H, W, C) -> (H, W', C) in Float.
        var mid = [Float](repeating: 0, count: height * newWidth * c)
        pixels.withUnsafeBufferPointer { src in
            mid.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let row = y * width * c, outRow = y * newWidth * c
                    for x in 0..<newWidth {
                        let start = horizontal.start[x], taps = horizontal.weights[x]
                        for k in 0..<c {
                            var acc: Float = 0
                            for (i, wgt) in taps.enumerated() { acc += wgt * Float(src[row + (start + i) * c + k]) }
                            dst[outRow + x * c + k] = acc
                        }
                    }
                }
            }
        }
        // Vertical pass: (H, W', C) -> (H', W', C), rounded to 8 bits.
        var out = [UInt8](repeating: 0, count: newHeight * newWidth * c)
        let stride = newWidth * c
        mid.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<newHeight {
                    let start = vertical.start[y], taps = vertical.weights[y]
                    for j in 0..<stride {
                        var acc: Float = 0
                        for (i, wgt) in taps.enumerated() { acc += wgt * src[(start + i) * stride + j] }
                        dst[y * stride + j] = UInt8(max(0, min(255, acc.rounded())))
                    }
                }
            }
        }
        return Image(width: newWidth, height: newHeight, channels: c, pixels: out)
    }

    /// Resized so that the shorter side is `side`, keeping the aspect ratio.
    public func resized(shorterSide side: Int) -> Image {
        let (w, h) = Image.scaledSize(width: width, height: height, shorterSide: side)
        return resized(width: w, height: h)
    }

    /// The size `resized(shorterSide:)` gives, computed as torchvision does (the longer side truncated).
    public static func scaledSize(width: Int, height: Int, shorterSide side: Int) -> (Int, Int) {
        if width <= height { return (side, max(1, Int(Double(side) * Double(height) / Double(width)))) }
        return (max(1, Int(Double(side) * Double(width) / Double(height))), side)
    }

    /// The `width` × `height` region whose top-left corner is (`x`, `y`).
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> Image {
        precondition(x >= 0 && y >= 0 && w >= 0 && h >= 0 && x + w <= width && y + h <= height,
                     "cropped: region \(x),\(y) \(w)x\(h) outside \(width)x\(height)")
        let c = channels
        var out = [UInt8]()
        out.reserveCapacity(w * h * c)
        for row in y..<(y + h) {
            let start = (row * width + x) * c
            out.append(contentsOf: pixels[start..<(start + w * c)])
        }
        return Image(width: w, height: h, channels: c, pixels: out)
    }

    /// The centred `w` × `h` region (torchvision's `center_crop`, offsets rounded the same way).
    public func centerCropped(width w: Int, height h: Int) -> Image {
        let cw = min(w, width), ch = min(h, height)
        let x = Int((Double(width - cw) / 2).rounded()), y = Int((Double(height - ch) / 2).rounded())
        return cropped(x: x, y: y, width: cw, height: ch)
    }

    /// Centred on a `w` × `h` canvas of colour `fill` (one value per channel); the image must fit.
    public func padded(width w: Int, height h: Int, fill: [UInt8]) -> Image {
        precondition(w >= width && h >= height, "padded: canvas smaller than image")
        precondition(fill.count == channels, "padded: fill needs \(channels) values")
        var out = Image(width: w, height: h, channels: channels)
        for i in 0..<(w * h) { for k in 0..<channels { out.pixels[i * channels + k] = fill[k] } }
        let x0 = (w - width) / 2, y0 = (h - height) / 2
        for y in 0..<height {
            let src = y * width * channels, dst = ((y0 + y) * w + x0) * channels
            out.pixels.replaceSubrange(dst..<(dst + width * channels), with: pixels[src..<(src + width * channels)])
        }
        return out
    }
}

/// Filter taps for one axis of a resize: output `i` reads input `start[i] ..< start[i] + weights[i].count`.
struct _ResampleTaps {
    var start: [Int] = []
    var weights: [[Float]] = []

    init(input: Int, output: Int) {
        let scale = Double(input) / Double(output)
        let filterScale = max(scale, 1)
        let support = filterScale  // the triangle filter's support is 1, widened when shrinking
        for i in 0..<output {
            let center = (Double(i) + 0.5) * scale
            let lo = max(Int(center - support + 0.5), 0)
            let hi = min(Int(center + support + 0.5), input)
            var taps: [Double] = []
            for j in lo..<max(hi, lo + 1) {
                let t = abs((Double(j) - center + 0.5) / filterScale)
                taps.append(max(0, 1 - t))
            }
            let total = taps.reduce(0, +)
            start.append(lo)
            weights.append(taps.map { Float(total > 0 ? $0 / total : 1 / Double(taps.count)) })
        }
    }
}
