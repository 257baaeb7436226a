import FacetImage
import Foundation

/// The face, cut out square and upright at `side` × `side` RGB: what the learned occlusion
/// tagger looks at. Made once at ingest, so tagging never decodes.
///
/// When ingest searched faces and found one, the crop is aligned by its eyes (`aligned`): level,
/// `alignment.margin` of the width beside each, `alignment.eyeLine` of the height above, which
/// frames the face from the forehead to below the chin. Otherwise it is cut around the skin
/// region (`crop`): the largest region coloured like the middle of the photo (a portrait's centre
/// is the face, whatever the light's colour and strength), its moments giving the centre, the
/// tilt and the size; the crop spans 1.1 × the major half-axis around the centre each way.
public enum FaceCrop {
    public static let side = 32
    /// How far the skin crop reaches from the face's centre, in major half-axes.
    static let reach = 1.1
    /// Where the aligned crop puts the eyes.
    public static let alignment = FaceAlignment(margin: 0.3, eyeLine: 0.4)

    /// The crop of the face `finding` found in `image` (the photo as displayed, `width` ×
    /// `height` at full size, decoded at any scale), aligned by its eyes; nil without landmarks.
    public static func aligned(_ image: Image, finding: FaceFinding, width: Int, height: Int) -> Data? {
        guard let eyes = FaceAlignment.eyes(finding), alignment.similarity(eyes, size: side).apart > 0.5 else { return nil }
        return Data(alignment.aligned(image.rgb(), width: width, height: height, eyes: eyes, size: side).pixels)
    }

    /// `side`² RGB triplets, row by row; nil when no face-coloured region of 50 pixels is found.
    public static func crop(_ image: Image) -> Data? {
        let smooth = image.gaussianBlurred(kernel: 5, sigma: 1.0)
        let w = smooth.width, h = smooth.height, n = w * h
        guard w >= 16, h >= 16, smooth.channels == 3 else { return nil }
        let (lum, rn, gn) = smooth.lumaAndChromaticity()
        // The reference colour: medians over the middle fifth of the width, 0.36–0.56 of the height.
        var window: [Int] = []
        for y in (h * 36 / 100)..<(h * 56 / 100) { for x in (w * 2 / 5)..<(w * 3 / 5) { window.append(y * w + x) } }
        func median(_ v: [Double]) -> Double { let s = window.map { v[$0] }.sorted(); return s[s.count / 2] }
        let (rn0, gn0, lum0) = (median(rn), median(gn), median(lum))
        var skin = [Bool](repeating: false, count: n)
        for i in 0..<n {
            skin[i] = abs(rn[i] - rn0) < 0.035 && abs(gn[i] - gn0) < 0.025 && lum[i] > 0.4 * lum0 && lum[i] < 1.5 * lum0
        }
        let face = SkinMask.largestComponent(skin, w, h)
        guard face.count >= 50 else { return nil }
        let frame = Frame(face, width: w)
        var out = [UInt8](repeating: 0, count: side * side * 3)
        let step = 2 * reach / Double(side - 1)
        for i in 0..<side {
            let v = (-reach + step * Double(i)) * frame.major
            for j in 0..<side {
                let u = (-reach + step * Double(j)) * frame.major
                let (x, y) = frame.point(u: u, v: v)
                for k in 0..<3 { out[3 * (i * side + j) + k] = smooth.bilinear(x, y, channel: k) }
            }
        }
        return Data(out)
    }

    /// A region's centroid, its major axis (pointing down the face: the face is taller than wide)
    /// and the half-axes of its moment ellipse.
    struct Frame {
        var cx = 0.0, cy = 0.0, ax = 0.0, ay = 1.0, major = 0.0, minor = 0.0

        init(_ region: [Int], width w: Int) {
            for i in region { cx += Double(i % w); cy += Double(i / w) }
            let count = Double(region.count)
            cx /= count; cy /= count
            var sxx = 0.0, syy = 0.0, sxy = 0.0
            for i in region {
                let dx = Double(i % w) - cx, dy = Double(i / w) - cy
                sxx += dx * dx; syy += dy * dy; sxy += dx * dy
            }
            sxx /= count; syy /= count; sxy /= count
            let theta = 0.5 * atan2(2 * sxy, sxx - syy)
            (ax, ay) = (cos(theta), sin(theta))
            if ay < 0 { (ax, ay) = (-ax, -ay) }
            let common = (sxx + syy) / 2, spread = (((sxx - syy) / 2) * ((sxx - syy) / 2) + sxy * sxy).squareRoot()
            major = 2 * (common + spread).squareRoot()
            minor = 2 * max(common - spread, 1e-9).squareRoot()
        }

        /// Image coordinates of face coordinates `u` (across, to the right when upright) and `v` (down).
        func point(u: Double, v: Double) -> (Double, Double) { (cx + v * ax + u * ay, cy + v * ay - u * ax) }
    }
}

extension Image {
    /// Channel `k` at (x, y) by bilinear interpolation, coordinates clamped to the image.
    func bilinear(_ x: Double, _ y: Double, channel k: Int) -> UInt8 {
        let x = min(max(x, 0), Double(width - 1)), y = min(max(y, 0), Double(height - 1))
        let x0 = min(Int(x), width - 2), y0 = min(Int(y), height - 2)
        let fx = x - Double(x0), fy = y - Double(y0)
        func p(_ x: Int, _ y: Int) -> Double { Double(pixels[channels * (y * width + x) + k]) }
        let top = p(x0, y0) * (1 - fx) + p(x0 + 1, y0) * fx, bottom = p(x0, y0 + 1) * (1 - fx) + p(x0 + 1, y0 + 1) * fx
        return UInt8((top * (1 - fy) + bottom * fy).rounded())
    }
}
