/// EXIF orientation: how the stored pixels must be turned to be displayed upright.
///
/// | value | to display the stored pixels |
/// |---|---|
/// | 1 | as they are |
/// | 2 | mirror left–right |
/// | 3 | rotate 180° |
/// | 4 | mirror top–bottom |
/// | 5 | transpose (mirror across the main diagonal) |
/// | 6 | rotate 90° clockwise |
/// | 7 | transverse (mirror across the other diagonal) |
/// | 8 | rotate 90° counter-clockwise |
public enum Orientation: Int, Sendable, Codable, CaseIterable {
    case up = 1, upMirrored, down, downMirrored, leftMirrored, right, rightMirrored, left

    /// The orientation for a raw tag value; absent or invalid values (0, 9, …) count as `.up`.
    public init(exifValue: Int?) {
        self = exifValue.flatMap(Orientation.init(rawValue:)) ?? .up
    }

    /// Whether displaying swaps width and height.
    public var swapsAxes: Bool { rawValue >= 5 }

    /// The orientation that undoes this one: storing `image.applying(o.inverse)` with tag
    /// `o` displays as `image`.
    public var inverse: Orientation {
        switch self {
        case .right: .left
        case .left: .right
        default: self
        }
    }
}

extension Image {
    /// The image as displayed for EXIF orientation `o`.
    ///
    /// - Complexity: O(width × height); `.up` returns `self` without copying.
    public func applying(_ o: Orientation) -> Image {
        if o == .up { return self }
        let w = width, h = height
        let (dw, dh) = o.swapsAxes ? (h, w) : (w, h)
        // stored (sy, sx) = (y0 + yy*dy + yx*dx, x0 + xy*dy + xx*dx) for displayed (dy, dx)
        let (y0, yy, yx, x0, xy, xx): (Int, Int, Int, Int, Int, Int) = switch o {
        case .up: (0, 1, 0, 0, 0, 1)
        case .upMirrored: (0, 1, 0, w - 1, 0, -1)
        case .down: (h - 1, -1, 0, w - 1, 0, -1)
        case .downMirrored: (h - 1, -1, 0, 0, 0, 1)
        case .leftMirrored: (0, 0, 1, 0, 1, 0)
        case .right: (h - 1, 0, -1, 0, 1, 0)
        case .rightMirrored: (h - 1, 0, -1, w - 1, -1, 0)
        case .left: (0, 0, 1, w - 1, -1, 0)
        }
        let c = channels
        let step = (yx * w + xx) * c
        let out = [UInt8](unsafeUninitializedCapacity: dw * dh * c) { dst, count in
            count = 0
            guard dw * dh * c > 0 else { return }
            pixels.withUnsafeBufferPointer { src in
                for dy in 0..<dh {
                    var s = src.baseAddress! + ((y0 + yy * dy) * w + (x0 + xy * dy)) * c
                    let d = dst.baseAddress! + dy * dw * c
                    if step == c {
                        d.initialize(from: s, count: dw * c)  // a stored row in order: one copy (the vertical flip)
                    } else if c == 3 {
                        for x in 0..<dw { d[3 * x] = s[0]; d[3 * x + 1] = s[1]; d[3 * x + 2] = s[2]; s += step }
                    } else {
                        for x in 0..<dw { for k in 0..<c { d[x * c + k] = s[k] }; s += step }
                    }
                }
            }
            count = dw * dh * c
        }
        return Image(width: dw, height: dh, channels: c, pixels: out)
    }

    public func flippedHorizontally() -> Image { applying(.upMirrored) }
    public func flippedVertically() -> Image { applying(.downMirrored) }
    /// Rotated by `quarterTurns` × 90° clockwise (negative turns go counter-clockwise).
    public func rotated(quarterTurns: Int) -> Image {
        switch ((quarterTurns % 4) + 4) % 4 {
        case 1: applying(.right)
        case 2: applying(.down)
        case 3: applying(.left)
        default: self
        }
    }
}
