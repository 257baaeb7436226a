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

/// Occlusion cues from the face: the largest skin-coloured region (by chromaticity after a
/// gray-world white balance, so exposure and colour cast do not matter) defines a face frame;
/// a hand or an object over one side makes the two halves of the upper face differ.
struct SkinMask {
    /// |left − right| share of the upper face in skin-coloured shade (a hand is skin-coloured
    /// but darker than the face it covers).
    var asymmetry = 0.0
    /// |left − right| share of the upper face in strong, non-skin colours or near-black (objects).
    var holes = 0.0

    init(_ image: Image) {
        let w = image.width, h = image.height, n = w * h
        // Gray world: scale each channel to the image's overall mean.
        var sums = [0.0, 0.0, 0.0]
        for i in 0..<n { for k in 0..<3 { sums[k] += Double(image.pixels[3 * i + k]) } }
        let mean = (sums[0] + sums[1] + sums[2]) / 3
        let gain = sums.map { mean / max($0, 1) }
        var lum = [Double](repeating: 0, count: n), saturation = [Double](repeating: 0, count: n)
        var skin = [Bool](repeating: false, count: n)
        var maxLum = 0.0
        for i in 0..<n {
            let r = Double(image.pixels[3 * i]) * gain[0], g = Double(image.pixels[3 * i + 1]) * gain[1]
            let b = Double(image.pixels[3 * i + 2]) * gain[2]
            lum[i] = 0.299 * r + 0.587 * g + 0.114 * b
            maxLum = max(maxLum, lum[i])
            let hi = max(r, g, b)
            saturation[i] = hi > 0 ? (hi - min(r, g, b)) / hi : 0
            let s = r + g + b
            guard s > 0, r > g, g > b else { continue }
            let rn = r / s, gn = g / s
            skin[i] = rn > 0.37 && rn < 0.52 && gn > 0.28 && gn < 0.35
        }
        for i in 0..<n where lum[i] <= 0.25 * maxLum { skin[i] = false }
        let component = SkinMask.largestComponent(skin, w, h)
        guard component.count > 50 else { return }
        let frame = FaceCrop.Frame(component, width: w)
        let (mx, my, ax, ay, major, minor) = (frame.cx, frame.cy, frame.ax, frame.ay, frame.major, frame.minor)
        var inside = [Bool](repeating: false, count: n)
        for i in component { inside[i] = true }
        // The upper face: inside the moment ellipse, above the chin.
        var side = [Int8](repeating: 0, count: n)   // −1 left half, +1 right half, 0 outside
        var faceLum: [Double] = []
        for y in 0..<h {
            for x in 0..<w {
                let dx = Double(x) - mx, dy = Double(y) - my
                let v = dx * ax + dy * ay, u = -dx * ay + dy * ax
                guard (u / minor) * (u / minor) + (v / major) * (v / major) <= 1, v < 0.35 * major else { continue }
                side[y * w + x] = u < 0 ? -1 : 1
                if inside[y * w + x] { faceLum.append(lum[y * w + x]) }
            }
        }
        guard !faceLum.isEmpty else { return }
        faceLum.sort()
        let median = faceLum[faceLum.count / 2]
        var total = [0, 0], shade = [0, 0], foreign = [0, 0]
        for i in 0..<n where side[i] != 0 {
            let k = side[i] < 0 ? 0 : 1
            total[k] += 1
            if skin[i] && lum[i] < 0.9 * median { shade[k] += 1 }
            if !skin[i] && ((saturation[i] > 0.35 && lum[i] > 0.15 * median) || lum[i] < 0.35 * median) { foreign[k] += 1 }
        }
        func share(_ c: [Int], _ k: Int) -> Double { Double(c[k]) / Double(max(total[k], 1)) }
        asymmetry = abs(share(shade, 0) - share(shade, 1))
        holes = abs(share(foreign, 0) - share(foreign, 1))
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
