extension Image {
    /// Resized to `width` × `height` with a triangle (bilinear) filter whose support
    /// widens with the scale factor when shrinking, so downscaling is antialiased. This is
    /// Pillow's `Image.resize(…, BILINEAR)` and torchvision's `resize(antialias=True)`.
    ///
    /// - Complexity: O(outputWidth × height + outputWidth × outputHeight) × filter support.
    public func resized(width newWidth: Int, height newHeight: Int) -> Image {
        resized(width: newWidth, height: newHeight, window: (0, 0, newWidth, newHeight))
    }

    /// The region `window` = (x, y, width, height) of `resized(width:height:)`, computing
    /// only what the region needs: resize-then-crop in one pass.
    public func resized(width fullWidth: Int, height fullHeight: Int, window: (Int, Int, Int, Int)) -> Image {
        precondition(fullWidth > 0 && fullHeight > 0, "resized: target must be positive")
        let (wx, wy, newWidth, newHeight) = window
        precondition(wx >= 0 && wy >= 0 && newWidth > 0 && newHeight > 0 && wx + newWidth <= fullWidth && wy + newHeight <= fullHeight,
                     "resized: window outside the resized image")
        if fullWidth == width && fullHeight == height {
            return window == (0, 0, width, height) ? self : cropped(x: wx, y: wy, width: newWidth, height: newHeight)
        }
        let c = channels
        let horizontal = _ResampleTaps(input: width, output: fullWidth, first: wx, count: newWidth)
        let vertical = _ResampleTaps(input: height, output: fullHeight, first: wy, count: newHeight)
        // Only the input rows that the window's output rows read.
        let rowLo = vertical.start.first!, rowHi = zip(vertical.start, vertical.count).map { $0 + $1 }.max()!
        // Horizontal pass: (H, W, C) -> (rows, W', C) in Float, over bands of rows turned on their
        // side so that an output column is a sum of whole source columns (contiguous, vectorized):
        // each value is still 0 + w₀x₀ + w₁x₁ + … in tap order. Pointers throughout: index
        // arithmetic with overflow checks would keep the loops from vectorizing.
        let rows = rowHi - rowLo, band = 32, rowFloats = newWidth * c
        let mid = UnsafeMutablePointer<Float>.allocate(capacity: rows * rowFloats)
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: width * band * c)
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: newWidth * band * c)
        let acc = UnsafeMutablePointer<Float>.allocate(capacity: rowFloats)
        defer { mid.deallocate(); columns.deallocate(); sums.deallocate(); acc.deallocate() }
        pixels.withUnsafeBufferPointer { src in
            horizontal.weights.withUnsafeBufferPointer { wts in
                for top in Swift.stride(from: 0, to: rows, by: band) {
                    let n = min(band, rows - top), column = n * c
                    // columns[x][y][k] = source[rowLo + top + y][x][k]
                    for y in 0..<n {
                        var s = src.baseAddress! + (rowLo + top + y) * width * c, d = columns + y * c
                        for _ in 0..<width {
                            if c == 3 { d[0] = Float(s[0]); d[1] = Float(s[1]); d[2] = Float(s[2]) } else { for k in 0..<c { d[k] = Float(s[k]) } }
                            s += c; d += column
                        }
                    }
                    for x in 0..<newWidth {
                        let w = wts.baseAddress! + x * horizontal.stride, first = horizontal.start[x]
                        let out = sums + x * column, in0 = columns + first * column, w0 = w[0]
                        for j in 0..<column { out[j] = 0 + w0 * in0[j] }
                        for i in 1..<horizontal.count[x] {
                            let wi = w[i], col = columns + (first + i) * column
                            for j in 0..<column { out[j] += wi * col[j] }
                        }
                    }
                    // Back to rows: mid[top + y][x][k] = sums[x][y][k]
                    for y in 0..<n {
                        var s = sums + y * c, d = mid + (top + y) * rowFloats
                        for _ in 0..<newWidth {
                            if c == 3 { d[0] = s[0]; d[1] = s[1]; d[2] = s[2] } else { for k in 0..<c { d[k] = s[k] } }
                            s += column; d += c
                        }
                    }
                }
            }
        }
        // Vertical pass: (rows, W', C) -> (H', W', C), each sum 0 + w₀x₀ + … over whole rows, rounded to 8 bits.
        var out = [UInt8](repeating: 0, count: newHeight * rowFloats)
        out.withUnsafeMutableBufferPointer { dst in
            vertical.weights.withUnsafeBufferPointer { wts in
                for y in 0..<newHeight {
                    let start = vertical.start[y] - rowLo, w = wts.baseAddress! + y * vertical.stride
                    let first = mid + start * rowFloats, w0 = w[0]
                    for j in 0..<rowFloats { acc[j] = 0 + w0 * first[j] }
                    for i in 1..<vertical.count[y] {
                        let wi = w[i], row = mid + (start + i) * rowFloats
                        for j in 0..<rowFloats { acc[j] += wi * row[j] }
                    }
                    let d = dst.baseAddress! + y * rowFloats
                    for j in 0..<rowFloats { d[j] = Image.truncByte(max(0, min(255, acc[j])) + 0.5) }
                }
            }
        }
        return Image(width: newWidth, height: newHeight, channels: c, pixels: out)
    }

    /// The shorter side resized to `side` (antialiased), then the centred `side` × `side` square,
    /// in one pass: torchvision's Resize(side) + CenterCrop(side).
    public func resizedSquare(_ side: Int) -> Image {
        let (w, h) = Image.scaledSize(width: width, height: height, shorterSide: side)
        let cw = min(side, w), ch = min(side, h)
        let x = Int((Double(w - cw) / 2).rounded()), y = Int((Double(h - ch) / 2).rounded())
        return resized(width: w, height: h, window: (x, y, cw, ch))
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

/// Filter taps for one axis of a resize: output `i` reads inputs `start[i] ..< start[i] + count[i]`
/// with weights `weights[i * stride ..< i * stride + count[i]]` (flat, so the hot loops do no
/// reference counting).
struct _ResampleTaps {
    var start: [Int] = []
    var count: [Int] = []
    var weights: [Float] = []
    var stride = 0

    /// Taps for outputs `first ..< first + count` of an `input` → `output` resize.
    init(input: Int, output: Int, first: Int = 0, count n: Int? = nil) {
        let outputs = first..<(first + (n ?? output))
        let scale = Double(input) / Double(output)
        let filterScale = max(scale, 1)
        let support = filterScale  // the triangle filter's support is 1, widened when shrinking
        stride = Int(support.rounded(.up)) * 2 + 1
        weights = [Float](repeating: 0, count: stride * outputs.count)
        for (slot, i) in outputs.enumerated() {
            let center = (Double(i) + 0.5) * scale
            let lo = max(Int(center - support + 0.5), 0)
            let hi = min(max(Int(center + support + 0.5), lo + 1), input, lo + stride)
            var taps: [Double] = []
            for j in lo..<hi {
                let t = abs((Double(j) - center + 0.5) / filterScale)
                taps.append(max(0, 1 - t))
            }
            let total = taps.reduce(0, +)
            start.append(lo)
            count.append(taps.count)
            for (k, t) in taps.enumerated() {
                weights[slot * stride + k] = Float(total > 0 ? t / total : 1 / Double(taps.count))
            }
        }
    }
}
