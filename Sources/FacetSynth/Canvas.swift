import Foundation

/// A point or vector in pixel space (x right, y down).
public typealias Vec = SIMD2<Float>
/// An RGB colour, each channel in 0...1.
public typealias RGB = SIMD3<Float>

/// A shape for the canvas, in pixel coordinates, with an exact or near-exact signed
/// distance (negative inside) so edges are antialiased by coverage.
enum Shape {
    case ellipse(center: Vec, radii: Vec, angle: Float)
    case capsule(Vec, Vec, radius: Float)
    case stroke([Vec], radius: Float)          // a polyline of round segments
    case polygon([Vec])                        // filled, any winding
    case box(center: Vec, half: Vec, corner: Float, angle: Float)

    func distance(_ p: Vec) -> Float {
        switch self {
        case let .ellipse(c, r, angle):
            // Inigo Quilez's first-order approximation: exact on the boundary, good near it.
            let q = rotate(p - c, -angle)
            let k0 = ((q / r) * (q / r)).sum().squareRoot()
            let k1 = ((q / (r * r)) * (q / (r * r))).sum().squareRoot()
            return k1 == 0 ? -min(r.x, r.y) : k0 * (k0 - 1) / k1
        case let .capsule(a, b, radius):
            return segmentDistance(p, a, b) - radius
        case let .stroke(points, radius):
            var d = Float.infinity
            for i in 0..<(points.count - 1) { d = min(d, segmentDistance(p, points[i], points[i + 1])) }
            return d - radius
        case let .polygon(v):
            var d = ((p - v[0]) * (p - v[0])).sum()
            var inside = false
            var j = v.count - 1
            for i in 0..<v.count {
                let e = v[j] - v[i], w = p - v[i]
                let t = min(max((w * e).sum() / max((e * e).sum(), 1e-12), 0), 1)
                let b = w - e * t
                d = min(d, (b * b).sum())
                if (v[i].y > p.y) != (v[j].y > p.y), p.x < (v[j].x - v[i].x) * (p.y - v[i].y) / (v[j].y - v[i].y) + v[i].x {
                    inside.toggle()
                }
                j = i
            }
            return inside ? -d.squareRoot() : d.squareRoot()
        case let .box(c, half, corner, angle):
            let local = rotate(p - c, -angle)
            let q = Vec(abs(local.x), abs(local.y)) - half + Vec(repeating: corner)
            let outside = Vec(max(q.x, 0), max(q.y, 0))
            return (outside * outside).sum().squareRoot() + min(max(q.x, q.y), 0) - corner
        }
    }

    /// A box (minX, minY, maxX, maxY) outside which the shape has no coverage.
    var bounds: (Float, Float, Float, Float) {
        switch self {
        case let .ellipse(c, r, _):
            let m = max(r.x, r.y) + 1
            return (c.x - m, c.y - m, c.x + m, c.y + m)
        case let .capsule(a, b, radius):
            return (min(a.x, b.x) - radius - 1, min(a.y, b.y) - radius - 1, max(a.x, b.x) + radius + 1, max(a.y, b.y) + radius + 1)
        case let .stroke(points, radius):
            return Shape.hull(points, pad: radius + 1)
        case let .polygon(points):
            return Shape.hull(points, pad: 1)
        case let .box(c, half, _, _):
            let m = (half * half).sum().squareRoot() + 1
            return (c.x - m, c.y - m, c.x + m, c.y + m)
        }
    }

    static func hull(_ points: [Vec], pad: Float) -> (Float, Float, Float, Float) {
        var lo = points[0], hi = points[0]
        for p in points { lo = pointwiseMin(lo, p); hi = pointwiseMax(hi, p) }
        return (lo.x - pad, lo.y - pad, hi.x + pad, hi.y + pad)
    }
}

@inline(__always) func rotate(_ v: Vec, _ angle: Float) -> Vec {
    let c = cosf(angle), s = sinf(angle)
    return Vec(c * v.x - s * v.y, s * v.x + c * v.y)
}

@inline(__always) func segmentDistance(_ p: Vec, _ a: Vec, _ b: Vec) -> Float {
    let pa = p - a, ba = b - a
    let h = min(max((pa * ba).sum() / max((ba * ba).sum(), 1e-12), 0), 1)
    let d = pa - ba * h
    return (d * d).sum().squareRoot()
}

/// Points along the quadratic Bézier curve from `a` to `b` with control point `c`.
func bezier(_ a: Vec, _ c: Vec, _ b: Vec, steps: Int = 16) -> [Vec] {
    (0...steps).map { i in
        let t = Float(i) / Float(steps), u = 1 - t
        return a * (u * u) + c * (2 * u * t) + b * (t * t)
    }
}

/// An RGB float canvas, (H, W, 3) interleaved, that shapes are composited onto.
struct Canvas {
    let width: Int
    let height: Int
    var pixels: [Float] // (H, W, 3)

    init(width: Int, height: Int, color: RGB) {
        self.width = width
        self.height = height
        pixels = [Float](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) { pixels[3 * i] = color.x; pixels[3 * i + 1] = color.y; pixels[3 * i + 2] = color.z }
    }

    /// Composites `shape` in `color` with antialiased coverage times `opacity`.
    mutating func fill(_ shape: Shape, _ color: RGB, opacity: Float = 1) {
        let (x0, y0, x1, y1) = shape.bounds
        let xa = max(0, Int(x0.rounded(.down))), xb = min(width - 1, Int(x1.rounded(.up)))
        let ya = max(0, Int(y0.rounded(.down))), yb = min(height - 1, Int(y1.rounded(.up)))
        guard xa <= xb, ya <= yb else { return }
        pixels.withUnsafeMutableBufferPointer { px in
            for y in ya...yb {
                for x in xa...xb {
                    let d = shape.distance(Vec(Float(x) + 0.5, Float(y) + 0.5))
                    let a = min(max(0.5 - d, 0), 1) * opacity
                    if a <= 0 { continue }
                    let i = 3 * (y * width + x)
                    px[i] += (color.x - px[i]) * a
                    px[i + 1] += (color.y - px[i + 1]) * a
                    px[i + 2] += (color.z - px[i + 2]) * a
                }
            }
        }
    }
}
