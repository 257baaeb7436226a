import FacetCore
import FacetImage

/// Everything that decides one synthetic photo; sampled from a keyed stream, so a photo
/// depends only on (seed, index).
public struct SceneSpec: Sendable {
    public var label: Expression
    public var dim: Bool
    public var cluttered: Bool
    public var occluded: Bool
    public var width: Int
    public var height: Int
    var key: UInt64
}

enum Scene {
    static let walls: [RGB] = [RGB(0.90, 0.87, 0.80), RGB(0.82, 0.84, 0.86), RGB(0.78, 0.85, 0.90),
                               RGB(0.86, 0.90, 0.82), RGB(0.93, 0.93, 0.92), RGB(0.88, 0.80, 0.78)]
    static let things: [RGB] = [RGB(0.8, 0.2, 0.2), RGB(0.2, 0.5, 0.8), RGB(0.9, 0.7, 0.1), RGB(0.2, 0.6, 0.3),
                                RGB(0.5, 0.3, 0.6), RGB(0.95, 0.5, 0.2), RGB(0.4, 0.25, 0.15), RGB(0.1, 0.1, 0.12),
                                RGB(0.95, 0.95, 0.95), RGB(0.3, 0.7, 0.7)]

    /// Renders the upright photo of `spec` as 8-bit RGB.
    static func render(_ spec: SceneSpec) -> Image {
        var r = SplitMix64(keys: spec.key, 1)
        let w = Float(spec.width), h = Float(spec.height)
        var canvas = Canvas(width: spec.width, height: spec.height, color: r.pick(walls))
        // Background: a gentle gradient, then clutter.
        let shade = RGB(repeating: r.uniform(0.82, 0.95))
        canvas.fill(.polygon([Vec(0, h * 0.55), Vec(w, h * 0.45), Vec(w, h), Vec(0, h)]), canvas.pixelColor(0, 0) * shade, opacity: 0.6)
        if spec.cluttered { drawClutter(on: &canvas, &r) }

        let short = min(w, h)
        let scale = short * r.uniform(0.55, 0.8)
        let center = Vec(w / 2 + r.uniform(-0.1, 0.1) * w, h * 0.46 + r.uniform(-0.06, 0.06) * h)
        let pose = Pose(center: center, scale: scale, angle: r.uniform(-0.22, 0.22), yaw: r.uniform(-1, 1))
        let expression = ExpressionShape(spec.label, &r)
        Person.draw(on: &canvas, pose: pose, shape: expression, shirt: r.pick(Person.shirts))
        if spec.occluded { drawOccluder(on: &canvas, pose: pose, &r) }
        return develop(canvas, dim: spec.dim, &r)
    }

    static func drawClutter(on canvas: inout Canvas, _ r: inout SplitMix64) {
        let w = Float(canvas.width), h = Float(canvas.height)
        // A shelf of books, a few frames, plants and lamps, scattered lines.
        for _ in 0..<r.int(2...3) {
            let y = r.uniform(0.1, 0.9) * h
            canvas.fill(.box(center: Vec(w / 2, y), half: Vec(w, h * 0.012), corner: 0, angle: 0), RGB(0.45, 0.3, 0.18))
            var x = r.uniform(0, 0.2) * w
            while x < w {
                let bw = r.uniform(0.015, 0.045) * w, bh = r.uniform(0.06, 0.14) * h
                canvas.fill(.box(center: Vec(x + bw / 2, y - bh / 2), half: Vec(bw / 2, bh / 2), corner: 1, angle: r.uniform(-0.1, 0.1)), r.pick(things))
                x += bw + r.uniform(0, 0.03) * w
            }
        }
        for _ in 0..<r.int(8...16) {
            let c = Vec(r.uniform(0, w), r.uniform(0, h))
            switch r.int(0...3) {
            case 0:
                let half = Vec(r.uniform(0.04, 0.14) * w, r.uniform(0.04, 0.12) * h)
                canvas.fill(.box(center: c, half: half, corner: 2, angle: r.uniform(-0.2, 0.2)), r.pick(things))
                canvas.fill(.box(center: c, half: half * 0.75, corner: 1, angle: 0), r.pick(things))
            case 1:
                for _ in 0..<r.int(3...6) {
                    let leaf = c + Vec(r.uniform(-0.06, 0.06) * w, r.uniform(-0.06, 0.06) * h)
                    canvas.fill(.ellipse(center: leaf, radii: Vec(r.uniform(0.01, 0.03) * w, r.uniform(0.03, 0.06) * h), angle: r.uniform(-1, 1)),
                                RGB(0.15, r.uniform(0.4, 0.6), 0.2))
                }
            case 2:
                canvas.fill(.ellipse(center: c, radii: Vec(repeating: r.uniform(0.02, 0.07) * w), angle: 0), r.pick(things))
            default:
                let d = Vec(r.uniform(-0.3, 0.3) * w, r.uniform(-0.3, 0.3) * h)
                canvas.fill(.capsule(c, c + d, radius: r.uniform(0.003, 0.01) * w), r.pick(things))
            }
        }
    }

    /// A hand or an object over one side of the face: the other side keeps the expression readable.
    static func drawOccluder(on canvas: inout Canvas, pose: Pose, _ r: inout SplitMix64) {
        let side: Float = r.chance(0.5) ? -1 : 1
        let at = pose.p(side * r.uniform(0.14, 0.3), r.uniform(-0.12, 0.22))
        let a = pose.angle + r.uniform(-0.5, 0.5)
        if r.chance(0.6) {
            // A hand: palm and four fingers reaching up.
            let palm = Vec(pose.r(0.13), pose.r(0.16))
            canvas.fill(.ellipse(center: at, radii: palm, angle: a), Person.skinShade)
            for i in 0..<4 {
                let base = at + rotate(Vec(pose.r(-0.09 + 0.06 * Float(i)), -pose.r(0.08)), a)
                let tip = base + rotate(Vec(pose.r(r.uniform(-0.02, 0.02)), -pose.r(r.uniform(0.16, 0.22))), a)
                canvas.fill(.capsule(base, tip, radius: pose.r(0.028)), Person.skinShade)
            }
            let thumbTip = at + rotate(Vec(side * pose.r(0.2), -pose.r(0.02)), a)
            canvas.fill(.capsule(at, thumbTip, radius: pose.r(0.032)), Person.skinShade)
        } else {
            // A mug, a phone or a book.
            let color = r.pick(things)
            switch r.int(0...2) {
            case 0:
                canvas.fill(.box(center: at, half: Vec(pose.r(0.11), pose.r(0.14)), corner: pose.r(0.02), angle: a), color)
                canvas.fill(.ellipse(center: at + rotate(Vec(pose.r(0.13), 0), a), radii: Vec(pose.r(0.05), pose.r(0.07)), angle: a), color)
            case 1:
                canvas.fill(.box(center: at, half: Vec(pose.r(0.09), pose.r(0.17)), corner: pose.r(0.02), angle: a), RGB(0.08, 0.08, 0.1))
                canvas.fill(.box(center: at, half: Vec(pose.r(0.075), pose.r(0.15)), corner: pose.r(0.01), angle: a), RGB(0.2, 0.3, 0.45))
            default:
                canvas.fill(.box(center: at, half: Vec(pose.r(0.16), pose.r(0.2)), corner: pose.r(0.01), angle: a), color)
                canvas.fill(.box(center: at + rotate(Vec(0, -pose.r(0.05)), a), half: Vec(pose.r(0.1), pose.r(0.03)), corner: 0, angle: a), RGB(0.95, 0.95, 0.9))
            }
        }
    }

    /// Light and sensor: exposure, a directional fall-off, a colour cast and noise.
    static func develop(_ canvas: Canvas, dim: Bool, _ r: inout SplitMix64) -> Image {
        let exposure = dim ? r.uniform(0.22, 0.42) : r.uniform(0.95, 1.12)
        let cast = dim ? RGB(1.06, 1.0, r.uniform(0.78, 0.9)) : RGB(1, 1, r.uniform(0.97, 1.03))
        let sigma: Float = dim ? r.uniform(0.02, 0.04) : r.uniform(0.003, 0.008)
        let direction = rotate(Vec(1, 0), r.uniform(0, 2 * .pi))
        let strength = r.uniform(0.05, 0.25)
        let w = canvas.width, h = canvas.height
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                let pos = Vec(Float(x) / Float(w) - 0.5, Float(y) / Float(h) - 0.5)
                let light = exposure * (1 + strength * (pos * direction).sum() * 2)
                let luma = r.normal() * sigma
                for k in 0..<3 {
                    let i = 3 * (y * w + x) + k
                    let v = canvas.pixels[i] * light * cast[k] + luma + r.normal() * sigma * 0.5
                    out[i] = UInt8(max(0, min(255, (v * 255).rounded())))
                }
            }
        }
        return Image(width: w, height: h, channels: 3, pixels: out)
    }
}

extension Canvas {
    func pixelColor(_ x: Int, _ y: Int) -> RGB {
        let i = 3 * (y * width + x)
        return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
    }
}
