import FacetImage
import Foundation

/// `augment: {crop: face}`: each photo turned and scaled so that its eyes are level, at a fixed
/// distance and place in the square output (a similarity transform from the two eye centres of
/// the face ingest found), before the augmentation ops.
public struct FaceAlignment: Sendable, Codable, Equatable {
    /// What to do with a photo without a face to align.
    public enum Missing: String, Sendable, Codable, CaseIterable {
        /// Leave it out of the dataset, with its reason (`dataset/left_out.jsonl`, the report).
        case skip
        /// Use the whole frame (the resize policy), and say so in its dataset record (`framed`).
        case frame
    }

    /// The share of the output's width left of the left eye (and right of the right one): the
    /// eyes are (1 − 2 × margin) × size apart. 0.34 and `eyeLine` 0.46 put them where the
    /// common 112-px face template does (ArcFace's: 38 and 74 px across, 52 down).
    public var margin = 0.34
    /// The share of the output's height above the eyes.
    public var eyeLine = 0.46
    public var missing = Missing.skip

    enum CodingKeys: String, CodingKey {
        case margin, missing
        case eyeLine = "eye_line"
    }

    public init() {}

    public init(margin: Double, eyeLine: Double) { (self.margin, self.eyeLine) = (margin, eyeLine) }

    public static let margins = 0.05...0.45, eyeLines = 0.1...0.9

    /// Why `r` cannot be aligned (nil: it can): its face was not looked for, none was found, or
    /// it has no landmarks.
    public static func problem(_ r: Record) -> String? {
        guard let face = r.face else { return "faces_not_searched" }
        guard face.box != nil else { return "no_face" }
        return face.eyes == nil ? "no_landmarks" : nil
    }

    /// The eye centres of `r`'s face as `[left x, left y, right x, right y]` in the displayed
    /// photo's full-size pixels (what a dataset record keeps to replay its image).
    public static func eyes(_ r: Record) -> [Double]? {
        r.face.flatMap(eyes)
    }

    /// The eye centres of `finding` in the same form.
    public static func eyes(_ finding: FaceFinding) -> [Double]? {
        finding.eyes.map { [$0.left.x, $0.left.y, $0.right.x, $0.right.y] }
    }

    /// The similarity that aligns by `eyes` into `size` px: the left eye, the scale `k` (output
    /// pixels per full-size pixel) and the eyes' angle; the eyes' distance apart.
    func similarity(_ e: [Double], size: Int) -> (left: FacePoint, k: Double, angle: Double, apart: Double) {
        let (lx, ly, rx, ry) = (e[0], e[1], e[2], e[3])
        let apart = ((rx - lx) * (rx - lx) + (ry - ly) * (ry - ly)).squareRoot()
        return (FacePoint(x: lx, y: ly), (1 - 2 * margin) * Double(size) / apart, atan2(ry - ly, rx - lx), apart)
    }

    /// Where a point of the full-size photo lands in the `size` × `size` aligned image (the
    /// forward map of `aligned`): to place landmarks, or to check an alignment against truth.
    public func place(_ p: FacePoint, eyes e: [Double], size: Int) -> FacePoint {
        let (left, k, angle, _) = similarity(e, size: size)
        let (dx, dy) = (p.x - left.x, p.y - left.y)
        // The inverse rotation, scaled, from the left eye's place.
        return FacePoint(x: margin * Double(size) - 0.5 + k * (cos(angle) * dx + sin(angle) * dy),
                         y: eyeLine * Double(size) - 0.5 + k * (-sin(angle) * dx + cos(angle) * dy))
    }

    /// The photo at `path`, `width` × `height` as displayed, aligned into a `size` × `size` square
    /// by `eyes` (as `eyes(_:)` gives them). It is decoded and reduced once so that the transform scales by about 1 (the
    /// reduction is antialiased, the transform bilinear); outside the photo is black.
    public func aligned(_ path: String, width w: Int, height h: Int, eyes e: [Double], size: Int) throws -> Image {
        guard e.count == 4 else { throw DataError("\(path): no eyes to align by") }
        let (_, k, _, apart) = similarity(e, size: size)
        guard apart > 0.5 else { throw DataError("\(path): the eyes are \(apart) px apart: nothing to align") }
        guard w > 0, h > 0 else { throw DataError("\(path): no size to align in") }
        let needed = Int((Double(min(w, h)) * k).rounded(.up)) + 1
        let decoded = try ImageDecoder.decode(file: path, options: DecodeOptions(minimumSide: needed))
        guard decoded.displayedWidth == w, decoded.displayedHeight == h else {
            throw DataError("\(path): \(decoded.displayedWidth)×\(decoded.displayedHeight), not the \(w)×\(h) ingest saw (has the dump changed since ingest?)")
        }
        return aligned(decoded.image, width: w, height: h, eyes: e, size: size)
    }

    /// `image` (the photo as displayed, `width` × `height` at full size, decoded at any scale)
    /// aligned into a `size` × `size` square by `eyes` (at least 0.5 px apart). It is first reduced
    /// (antialiased) to about the transform's scale, then warped bilinearly; outside the photo is black.
    public func aligned(_ image: Image, width w: Int, height h: Int, eyes e: [Double], size: Int) -> Image {
        let (left, k, angle, _) = similarity(e, size: size)
        var work = image
        if Double(work.width) / Double(w) > k * 1.01 {
            work = work.resized(width: max(1, Int((Double(w) * k).rounded())), height: max(1, Int((Double(h) * k).rounded())))
        }
        // Work pixels per full-size pixel, per axis (rounding keeps them within a pixel of k).
        let sx = Double(work.width) / Double(w), sy = Double(work.height) / Double(h)
        let cosA = cos(angle) / k, sinA = sin(angle) / k
        let (ex, ey) = (margin * Double(size), eyeLine * Double(size))
        // Output (u, v) → full size: left eye + R(angle) · ((u, v) − (ex, ey)) / k → work pixels.
        let a = sx * cosA, b = -sx * sinA, c = sy * sinA, d = sy * cosA
        let map = Image.Affine(a: a, b: b, c: c, d: d, tx: sx * (left.x + 0.5) - (a * ex + b * ey), ty: sy * (left.y + 0.5) - (c * ex + d * ey))
        return work.warped(width: size, height: size, map: map, fill: [UInt8](repeating: 0, count: work.channels))
    }
}
