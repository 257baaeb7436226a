import FacetImage
import Foundation

/// pHash: the signs of the 8×8 lowest frequencies (DC excluded from the median) of the DCT
/// of a 32×32 gray thumbnail. Re-encoding, resizing and mild edits move few bits; different
/// pictures differ in about half of them.
public enum PerceptualHash {
    /// cos((2x + 1) u π / 64) at [u * 32 + x], u < 8, x < 32.
    static let cosines: [Double] = {
        var table = [Double](repeating: 0, count: 8 * 32)
        for u in 0..<8 {
            for x in 0..<32 {
                let angle = Double(2 * x + 1) * Double(u) * Double.pi / 64
                table[u * 32 + x] = cos(angle)
            }
        }
        return table
    }()

    public static func hash(_ image: Image) -> UInt64 {
        let small = image.grayscale().resized(width: 32, height: 32).pixels.map(Double.init)
        // Separable DCT-II, keeping the first 8 coefficients on each axis.
        var rows = [Double](repeating: 0, count: 32 * 8)   // (32 y, 8 u)
        for y in 0..<32 {
            for u in 0..<8 {
                var acc = 0.0
                for x in 0..<32 { acc += small[y * 32 + x] * cosines[u * 32 + x] }
                rows[y * 8 + u] = acc
            }
        }
        var coefficients = [Double](repeating: 0, count: 64)  // (8 v, 8 u)
        for v in 0..<8 {
            for u in 0..<8 {
                var acc = 0.0
                for y in 0..<32 { acc += rows[y * 8 + u] * cosines[v * 32 + y] }
                coefficients[v * 8 + u] = acc
            }
        }
        let median = coefficients.dropFirst().sorted()[31]
        var bits: UInt64 = 0
        for (i, c) in coefficients.enumerated() where c > median { bits |= 1 << UInt64(i) }
        return bits
    }

    public static func distance(_ a: UInt64, _ b: UInt64) -> Int { (a ^ b).nonzeroBitCount }
}
