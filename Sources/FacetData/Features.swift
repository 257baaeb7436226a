import FacetImage
import Foundation

/// Condition features from the analysis image (shorter side 256), measured once at ingest.
extension Features {
    /// Shorter side of the smoothed image the occlusion features are measured on.
    static let side = 128
    /// …and the background features: at 64 px sensor noise is averaged away and clutter is not.
    static let borderSide = 64

    /// Features from the analysis image at 128 px (`medium`) and 64 px (`small`).
    init(medium: Image, small: Image, brightness: Double, exifBrightness: Double?) {
        self.brightness = brightness
        self.exifBrightness = exifBrightness
        let border = Features.border(width: small.width, height: small.height)
        borderEdges = Features.borderEdges(small.grayscale(), border)
        borderChroma = Features.borderChroma(small, border)
        let skin = SkinMask(medium)
        asymmetry = skin.asymmetry
        foreign = skin.holes
    }

    /// Where a portrait shows background: the top sixth, and the left and right sixths of
    /// the upper two thirds (below, the shoulders reach the edges).
    static func border(width w: Int, height h: Int) -> [Int] {
        let bw = max(w / 6, 1), bh = max(h / 6, 1)
        var cells: [Int] = []
        for y in 0..<(h - 1) {
            for x in 0..<(w - 1) where y < bh || ((x < bw || x >= w - bw) && y < h * 2 / 3) { cells.append(y * w + x) }
        }
        return cells
    }

    /// Share of border pixels whose gradient |∂x| + |∂y|, relative to the border's mean
    /// level, exceeds 0.2: clutter has edges, a wall few, whatever the exposure.
    static func borderEdges(_ gray: Image, _ cells: [Int]) -> Double {
        guard !cells.isEmpty else { return 0 }
        let p = gray.pixels, w = gray.width
        let mean = max(Double(cells.reduce(0) { $0 + Int(p[$1]) }) / Double(cells.count), 8)
        var count = 0
        for i in cells {
            let g = abs(Int(p[i + 1]) - Int(p[i])) + abs(Int(p[i + w]) - Int(p[i]))
            if Double(g) / mean > 0.2 { count += 1 }
        }
        return Double(count) / Double(cells.count)
    }

    /// Spread of the border's chromaticity: std(r / (r+g+b)) + std(g / (r+g+b)). A wall is
    /// one colour in any light; shelves of books are many.
    static func borderChroma(_ image: Image, _ cells: [Int]) -> Double {
        guard !cells.isEmpty else { return 0 }
        var sr = 0.0, sg = 0.0, srr = 0.0, sgg = 0.0
        for i in cells {
            let r = Double(image.pixels[3 * i]), g = Double(image.pixels[3 * i + 1]), b = Double(image.pixels[3 * i + 2])
            let s = max(r + g + b, 1)
            sr += r / s; sg += g / s; srr += (r / s) * (r / s); sgg += (g / s) * (g / s)
        }
        let n = Double(cells.count)
        return max(srr / n - (sr / n) * (sr / n), 0).squareRoot() + max(sgg / n - (sg / n) * (sg / n), 0).squareRoot()
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
