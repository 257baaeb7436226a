import FacetImage
import Foundation

/// Condition features from the analysis image (shorter side 256), measured once at ingest.
extension Features {
    /// Shorter side of the smoothed image the features are measured on: halving the analysis
    /// image averages away most sensor noise.
    static let side = 128

    init(_ image: Image, exifBrightness: Double?) {
        let small = image.resized(shorterSide: Features.side)
        brightness = PixelStats(small).brightness
        self.exifBrightness = exifBrightness
        borderEdges = Features.borderEdges(small.grayscale())
        let skin = SkinMask(small)
        asymmetry = skin.asymmetry
        foreign = skin.holes
    }

    /// Share of border pixels (top sixth, and the left and right sixths of the upper two
    /// thirds: where a portrait shows background) whose gradient, relative to the border's
    /// mean level, exceeds 0.12 — clutter has edges, a wall has few, whatever the exposure.
    static func borderEdges(_ gray: Image) -> Double {
        let w = gray.width, h = gray.height
        let bw = max(w / 6, 2), bh = max(h / 6, 2)
        var total = 0.0, count = 0
        var cells: [(Int, Int)] = []
        for y in 0..<(h - 1) {
            for x in 0..<(w - 1) where y < bh || ((x < bw || x >= w - bw) && y < h * 2 / 3) {
                cells.append((x, y))
                total += Double(gray[y, x, 0])
            }
        }
        guard !cells.isEmpty else { return 0 }
        let mean = max(total / Double(cells.count), 8)
        for (x, y) in cells {
            let v = Int(gray[y, x, 0])
            let g = abs(Int(gray[y, x + 1, 0]) - v) + abs(Int(gray[y + 1, x, 0]) - v)
            if Double(g) / mean > 0.12 { count += 1 }
        }
        return Double(count) / Double(cells.count)
    }
}

/// The largest skin-coloured region (by chromaticity, so exposure does not matter) and
/// how far it is from a left–right symmetric face.
struct SkinMask {
    var asymmetry = 0.0
    var holes = 0.0

    init(_ image: Image) {
        let w = image.width, h = image.height
        var skin = [Bool](repeating: false, count: w * h)
        for i in 0..<(w * h) {
            let r = Double(image.pixels[3 * i]), g = Double(image.pixels[3 * i + 1]), b = Double(image.pixels[3 * i + 2])
            let s = r + g + b
            guard s > 40, r > g, g > b else { continue }
            let rn = r / s, gn = g / s
            skin[i] = rn > 0.37 && rn < 0.52 && gn > 0.28 && gn < 0.35
        }
        let component = SkinMask.largestComponent(skin, w, h)
        guard component.count > 50 else { return }
        // Centroid and principal axis from second moments.
        var mx = 0.0, my = 0.0
        for i in component { mx += Double(i % w); my += Double(i / w) }
        mx /= Double(component.count); my /= Double(component.count)
        var sxx = 0.0, syy = 0.0, sxy = 0.0
        for i in component {
            let dx = Double(i % w) - mx, dy = Double(i / w) - my
            sxx += dx * dx; syy += dy * dy; sxy += dx * dy
        }
        let n = Double(component.count)
        sxx /= n; syy /= n; sxy /= n
        // Angle of the major axis; faces are taller than wide.
        let theta = 0.5 * atan2(2 * sxy, sxx - syy)
        let (ax, ay) = (cos(theta), sin(theta))  // unit vector of the major axis
        var inside = [Bool](repeating: false, count: w * h)
        for i in component { inside[i] = true }
        // Mirror every pixel across the major axis through the centroid.
        var matched = 0
        for i in component {
            let dx = Double(i % w) - mx, dy = Double(i / w) - my
            let along = dx * ax + dy * ay
            let mxp = mx + 2 * along * ax - dx, myp = my + 2 * along * ay - dy
            let xi = Int(mxp.rounded()), yi = Int(myp.rounded())
            if xi >= 0, xi < w, yi >= 0, yi < h, inside[yi * w + xi] { matched += 1 }
        }
        asymmetry = 1 - Double(matched) / n
        // Holes: the moment ellipse's pixels the region does not cover.
        let common = sxx + syy, diff = ((sxx - syy) * (sxx - syy) + 4 * sxy * sxy).squareRoot()
        let major = (2 * (common + diff)).squareRoot(), minor = (2 * max(common - diff, 0)).squareRoot()
        guard major > 0, minor > 0 else { return }
        var inEllipse = 0, covered = 0
        for y in 0..<h {
            for x in 0..<w {
                let dx = Double(x) - mx, dy = Double(y) - my
                let u = (dx * ax + dy * ay) / major, v = (-dx * ay + dy * ax) / minor
                if u * u + v * v <= 1 {
                    inEllipse += 1
                    if inside[y * w + x] { covered += 1 }
                }
            }
        }
        holes = inEllipse > 0 ? 1 - Double(covered) / Double(inEllipse) : 0
    }

    /// Indices of the largest 4-connected true region.
    static func largestComponent(_ mask: [Bool], _ w: Int, _ h: Int) -> [Int] {
        var seen = [Bool](repeating: false, count: mask.count)
        var best: [Int] = []
        var stack: [Int] = []
        for start in 0..<mask.count where mask[start] && !seen[start] {
            var region: [Int] = []
            seen[start] = true
            stack.append(start)
            while let i = stack.popLast() {
                region.append(i)
                let x = i % w, y = i / w
                for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)] where nx >= 0 && nx < w && ny >= 0 && ny < h {
                    let j = ny * w + nx
                    if mask[j] && !seen[j] { seen[j] = true; stack.append(j) }
                }
            }
            if region.count > best.count { best = region }
        }
        return best
    }
}
