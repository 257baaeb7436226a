import FacetImage
import Foundation

/// Condition features measured relative to the face ingest found (`ingest: {faces: …}`): the
/// face's own brightness, and the background outside the face and the body below it.
extension Features {
    /// The exclusion zone around a face box of the analysis image: the head and the hair beside
    /// and above it, and the body below it down to the frame's edge.
    static func personZone(_ box: FaceBox, scale s: Double) -> (x0: Double, x1: Double, y0: Double) {
        let w = box.width * s, h = box.height * s
        return (box.left * s - 0.35 * w, box.right * s + 0.35 * w, box.top * s - 0.45 * h)
    }

    /// A background whose visible share of the frame is below this is not measured (`unknown`:
    /// the face fills the frame).
    public static let minimumBackground = 0.08

    /// Adds the face-relative features of `finding` (boxes in the displayed photo's full-size
    /// pixels, `width` wide) measured on the analysis image `image` and its 64-px reduction `small`.
    mutating func addFace(_ finding: FaceFinding, width: Int, image: Image, small: Image) {
        guard let box = finding.box else { return }
        // The face: the middle 60 % of the box's width, from the brows to above the chin.
        let s = Double(image.width) / Double(width)
        let x0 = max(0, Int((box.left + 0.2 * box.width) * s)), x1 = min(image.width, Int((box.right - 0.2 * box.width) * s))
        let y0 = max(0, Int((box.top + 0.2 * box.height) * s)), y1 = min(image.height, Int((box.bottom - 0.1 * box.height) * s))
        if x1 > x0, y1 > y0 {
            var sums = [0.0, 0.0, 0.0]
            for y in y0..<y1 { for x in x0..<x1 { for k in 0..<3 { sums[k] += Double(image.pixels[(y * image.width + x) * 3 + k]) } } }
            let n = Double((x1 - x0) * (y1 - y0))
            faceBrightness = PixelStats.perceivedBrightness(sums[0] / n, sums[1] / n, sums[2] / n)
        }
        // The background: every cell of the 64-px image outside the person's zone.
        let zone = Features.personZone(box, scale: Double(small.width) / Double(width))
        var cells: [Int] = []
        for y in 0..<(small.height - 1) {
            for x in 0..<(small.width - 1) {
                let (cx, cy) = (Double(x) + 0.5, Double(y) + 0.5)
                if cx >= zone.x0 && cx <= zone.x1 && cy >= zone.y0 { continue }
                cells.append(y * small.width + x)
            }
        }
        backgroundShare = Double(cells.count) / Double(small.width * small.height)
        guard backgroundShare! >= Features.minimumBackground else { return }
        backgroundEdges = Features.borderEdges(small.grayscale(), cells)
        backgroundChroma = Features.borderChroma(small, cells)
    }
}
