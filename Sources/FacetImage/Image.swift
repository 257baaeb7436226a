/// An 8-bit image with interleaved channels, the one pixel type the whole project shares.
///
/// Pixels are stored row-major as (H, W, C): the sample for row `y`, column `x` and
/// channel `c` is at `(y * width + x) * channels + c`. `channels` is 3 (RGB) or 1 (gray).
///
/// ```swift
/// var image = Image(width: 2, height: 1, channels: 3, fill: 255)
/// image[0, 1, 0] = 0   // row 0, column 1, red
/// ```
public struct Image: Sendable, Equatable, Hashable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var pixels: [UInt8] // (H, W, C)

    public init(width: Int, height: Int, channels: Int = 3, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && (channels == 1 || channels == 3),
                     "Image: bad shape \(width)x\(height)x\(channels)")
        precondition(pixels.count == width * height * channels,
                     "Image: \(pixels.count) samples for \(width)x\(height)x\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    public init(width: Int, height: Int, channels: Int = 3, fill: UInt8 = 0) {
        self.init(width: width, height: height, channels: channels,
                  pixels: [UInt8](repeating: fill, count: width * height * channels))
    }

    /// The number of pixels, `width * height`.
    public var pixelCount: Int { width * height }

    public subscript(y: Int, x: Int, c: Int) -> UInt8 {
        get { pixels[(y * width + x) * channels + c] }
        set { pixels[(y * width + x) * channels + c] = newValue }
    }

    /// Mean absolute difference per sample between two images of one shape, in levels.
    public func meanAbsoluteDifference(_ other: Image) -> Double {
        precondition(width == other.width && height == other.height && channels == other.channels,
                     "meanAbsoluteDifference: shapes differ")
        if pixels.isEmpty { return 0 }
        var total = 0
        for i in pixels.indices { total += abs(Int(pixels[i]) - Int(other.pixels[i])) }
        return Double(total) / Double(pixels.count)
    }

    /// Largest absolute difference of any sample, in levels.
    public func maxAbsoluteDifference(_ other: Image) -> Int {
        precondition(width == other.width && height == other.height && channels == other.channels,
                     "maxAbsoluteDifference: shapes differ")
        var worst = 0
        for i in pixels.indices { worst = max(worst, abs(Int(pixels[i]) - Int(other.pixels[i]))) }
        return worst
    }
}
