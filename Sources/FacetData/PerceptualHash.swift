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

    /// The hash as 16 lowercase hex digits, as records carry it.
    public static func hex(_ hash: UInt64) -> String {
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

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

extension PerceptualHash {
    /// Every pair (i < j) of `hashes` at most `maxDistance` bits apart, in (i, j) order — what
    /// comparing all pairs finds, without comparing all pairs. Pigeonhole: cut the 64 bits into
    /// maxDistance + 1 pieces; two hashes that close agree exactly on at least one piece, so
    /// only hashes sharing a piece's value are compared, and a pair counts at the first piece
    /// they share. Near-linear for spread-out hashes; all pairs at worst (every hash alike).
    public static func nearPairs(_ hashes: [UInt64], maxDistance d: Int) -> [(Int, Int)] {
        let n = hashes.count
        guard d >= 0 else { return [] }
        if d >= 16 || n < 64 {
            var pairs: [(Int, Int)] = []
            for i in 0..<n { for j in (i + 1)..<n where distance(hashes[i], hashes[j]) <= d { pairs.append((i, j)) } }
            return pairs
        }
        var pieces: [(shift: UInt64, mask: UInt64)] = []
        var low = 0
        for k in 0...d {
            let width = (64 - low) / (d + 1 - k)
            pieces.append((UInt64(low), width >= 64 ? ~0 : (1 << UInt64(width)) - 1))
            low += width
        }
        // Pairs packed as i << 32 | j, so that sorting them is sorting integers.
        var packed: [UInt64] = []
        var order = [Int32](repeating: 0, count: n)
        hashes.withUnsafeBufferPointer { h in
            for (k, piece) in pieces.enumerated() {
                // The indices in order of this piece's value (then index): a bucket is a run of one
                // value. A counting sort for pieces up to 16 bits wide (distances 3 and up).
                let value = { (i: Int) in (h[i] >> piece.shift) & piece.mask }
                if piece.mask < 1 << 16 {
                    var next = [Int](repeating: 0, count: Int(piece.mask) + 2)
                    for i in 0..<n { next[Int(value(i)) + 1] += 1 }
                    for v in 0...Int(piece.mask) { next[v + 1] += next[v] }
                    for i in 0..<n { let v = Int(value(i)); order[next[v]] = Int32(i); next[v] += 1 }
                } else {
                    order = (0..<n).sorted { (value($0), $0) < (value($1), $1) }.map(Int32.init)
                }
                let earlier = pieces[..<k]
                var start = 0
                while start < n {
                    let v = value(Int(order[start]))
                    var end = start + 1
                    while end < n, value(Int(order[end])) == v { end += 1 }
                    for a in start..<(end - 1) {
                        let i = Int(order[a]), hi = h[i]
                        for b in (a + 1)..<end {
                            let j = Int(order[b]), x = hi ^ h[j]
                            guard x.nonzeroBitCount <= d, !earlier.contains(where: { (x >> $0.shift) & $0.mask == 0 }) else { continue }
                            packed.append(UInt64(i) << 32 | UInt64(j))
                        }
                    }
                    start = end
                }
            }
        }
        packed.sort()
        return packed.map { (Int($0 >> 32), Int($0 & 0xFFFF_FFFF)) }
    }
}
