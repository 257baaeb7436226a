import FacetCore
/// The facial expression classes of the synthetic study.
public enum Expression: String, Sendable, CaseIterable, Codable {
    case happy, normal, sad
}

/// The shape of one expression, sampled per photo: every cue is geometry (curves,
/// angles, openings), never a colour, so no single pixel gives the class away.
struct ExpressionShape {
    var mouthCurve: Float     // corners above (+) or below (−) the mouth's centre, face units
    var mouthOpen: Float      // depth of an open smile (teeth showing), 0 when closed
    var mouthWidth: Float
    var browInner: Float      // lift of the inner / outer brow ends
    var browOuter: Float
    var eyeOpen: Float        // 1 = wide open
    var cheekRaise: Bool      // lower lids pushed up (smiling eyes)
    var lidDroop: Float       // outer upper lids lowered (sad eyes)

    init(_ e: Expression, _ r: inout SplitMix64) {
        switch e {
        case .happy:
            mouthCurve = r.uniform(0.055, 0.10)
            mouthOpen = r.chance(0.5) ? r.uniform(0.03, 0.065) : 0
            mouthWidth = r.uniform(0.22, 0.29)
            browInner = r.uniform(0.0, 0.02); browOuter = r.uniform(0.01, 0.03)
            eyeOpen = r.uniform(0.55, 0.8); cheekRaise = r.chance(0.7); lidDroop = 0
        case .normal:
            mouthCurve = r.uniform(-0.012, 0.012)
            mouthOpen = 0
            mouthWidth = r.uniform(0.17, 0.22)
            browInner = r.uniform(-0.01, 0.01); browOuter = r.uniform(-0.01, 0.01)
            eyeOpen = r.uniform(0.8, 1.0); cheekRaise = false; lidDroop = 0
        case .sad:
            mouthCurve = r.uniform(-0.09, -0.045)
            mouthOpen = 0
            mouthWidth = r.uniform(0.16, 0.21)
            browInner = r.uniform(0.035, 0.07); browOuter = r.uniform(-0.035, -0.01)
            eyeOpen = r.uniform(0.6, 0.85); cheekRaise = false; lidDroop = r.uniform(0.3, 0.7)
        }
    }
}

/// Where the face is: pixels per face unit, centre, in-plane tilt and a small turn (yaw)
/// that shifts the inner features sideways. Face units: the face is 0.96 tall, y down.
struct Pose {
    var center: Vec
    var scale: Float
    var angle: Float
    var yaw: Float

    func p(_ x: Float, _ y: Float, inner: Bool = false) -> Vec {
        center + rotate(Vec(x + (inner ? yaw * 0.09 : 0), y) * scale, angle)
    }
    func r(_ v: Float) -> Float { v * scale }
}

/// The one person of every photo: fixed identity, varying expression, clothes and pose.
enum Person {
    static let skin = RGB(0.87, 0.68, 0.56)
    static let skinShade = RGB(0.76, 0.56, 0.45)
    static let hair = RGB(0.24, 0.15, 0.10)
    static let lips = RGB(0.72, 0.38, 0.36)
    static let iris = RGB(0.33, 0.22, 0.13)
    static let shirts: [RGB] = [RGB(0.20, 0.32, 0.55), RGB(0.55, 0.15, 0.18), RGB(0.85, 0.85, 0.82),
                                RGB(0.25, 0.45, 0.30), RGB(0.15, 0.15, 0.17), RGB(0.80, 0.62, 0.25)]

    static func draw(on canvas: inout Canvas, pose: Pose, shape e: ExpressionShape, shirt: RGB) {
        func fill(_ s: Shape, _ c: RGB, _ o: Float = 1) { canvas.fill(s, c, opacity: o) }
        let a = pose.angle
        // Shoulders, neck, hair behind, ears, face.
        fill(.ellipse(center: pose.p(0, 1.08), radii: Vec(pose.r(0.9), pose.r(0.5)), angle: a), shirt)
        fill(.box(center: pose.p(0, 0.55), half: Vec(pose.r(0.14), pose.r(0.16)), corner: pose.r(0.03), angle: a), skinShade)
        fill(.ellipse(center: pose.p(0, -0.1), radii: Vec(pose.r(0.43), pose.r(0.5)), angle: a), hair)
        for s: Float in [-1, 1] {
            fill(.ellipse(center: pose.p(s * 0.36, 0.02), radii: Vec(pose.r(0.055), pose.r(0.1)), angle: a), skinShade)
        }
        fill(.ellipse(center: pose.p(0, 0), radii: Vec(pose.r(0.36), pose.r(0.48)), angle: a), skin)
        // Soft shading on the side the face turns from.
        fill(.ellipse(center: pose.p(pose.yaw > 0 ? -0.2 : 0.2, 0.03), radii: Vec(pose.r(0.12), pose.r(0.3)), angle: a),
             skinShade, 0.3)
        // Fringe.
        fill(.polygon([pose.p(-0.37, -0.18), pose.p(-0.3, -0.42), pose.p(0, -0.52), pose.p(0.3, -0.42),
                       pose.p(0.37, -0.18), pose.p(0.22, -0.32), pose.p(-0.05, -0.30), pose.p(-0.25, -0.27)]), hair)

        for s: Float in [-1, 1] { drawEye(on: &canvas, pose: pose, side: s, e) }
        for s: Float in [-1, 1] {
            let inner = pose.p(s * 0.05, -0.175 - e.browInner, inner: true)
            let outer = pose.p(s * 0.24, -0.16 - e.browOuter, inner: true)
            let mid = pose.p(s * 0.145, -0.205 - (e.browInner + e.browOuter) / 2, inner: true)
            fill(.stroke(bezier(inner, mid, outer, steps: 10), radius: pose.r(0.017)), hair)
        }
        // Nose.
        fill(.stroke(bezier(pose.p(0.01, -0.04, inner: true), pose.p(0.045, 0.08, inner: true), pose.p(-0.01, 0.11, inner: true), steps: 8),
                     radius: pose.r(0.008)), skinShade)
        drawMouth(on: &canvas, pose: pose, e)
    }

    static func drawEye(on canvas: inout Canvas, pose: Pose, side s: Float, _ e: ExpressionShape) {
        let a = pose.angle
        let c = Vec(s * 0.14, -0.07)
        let open = 0.042 * e.eyeOpen
        canvas.fill(.ellipse(center: pose.p(c.x, c.y, inner: true), radii: Vec(pose.r(0.072), pose.r(open)), angle: a), RGB(0.96, 0.95, 0.93))
        canvas.fill(.ellipse(center: pose.p(c.x, c.y, inner: true), radii: Vec(pose.r(0.03), pose.r(min(0.03, open))), angle: a), iris)
        canvas.fill(.ellipse(center: pose.p(c.x, c.y, inner: true), radii: Vec(pose.r(0.013), pose.r(min(0.013, open))), angle: a), RGB(0.05, 0.04, 0.04))
        if e.lidDroop > 0 {
            // Skin over the outer top of the eye: the lid slopes down towards the temple.
            canvas.fill(.polygon([pose.p(c.x - s * 0.02, c.y - open - 0.02, inner: true), pose.p(c.x + s * 0.09, c.y - open - 0.02, inner: true),
                                  pose.p(c.x + s * 0.09, c.y + open * (e.lidDroop - 0.3), inner: true)]), skin)
        }
        if e.cheekRaise {
            canvas.fill(.ellipse(center: pose.p(c.x, c.y + open * 1.9, inner: true), radii: Vec(pose.r(0.09), pose.r(open * 1.1)), angle: a), skin)
        }
        // Upper lid line.
        canvas.fill(.stroke(bezier(pose.p(c.x - 0.075, c.y, inner: true), pose.p(c.x, c.y - open * 2, inner: true),
                                   pose.p(c.x + 0.075, c.y + (e.lidDroop > 0 ? s * 0 + open * e.lidDroop : 0), inner: true), steps: 10),
                            radius: pose.r(0.007)), RGB(0.2, 0.12, 0.1))
    }

    static func drawMouth(on canvas: inout Canvas, pose: Pose, _ e: ExpressionShape) {
        let y: Float = 0.25, w = e.mouthWidth / 2
        let left = pose.p(-w, y - e.mouthCurve, inner: true), right = pose.p(w, y - e.mouthCurve, inner: true)
        let control = pose.p(0, y + e.mouthCurve, inner: true)
        if e.mouthOpen > 0 {
            let lower = pose.p(0, y + e.mouthCurve + 2 * e.mouthOpen, inner: true)
            let top = bezier(left, control, right, steps: 12)
            let bottom = bezier(right, lower, left, steps: 12)
            canvas.fill(.polygon(top + bottom), RGB(0.35, 0.1, 0.1))
            let teethLow = pose.p(0, y + e.mouthCurve + e.mouthOpen * 0.9, inner: true)
            canvas.fill(.polygon(top + bezier(right, teethLow, left, steps: 12)), RGB(0.95, 0.94, 0.9))
            canvas.fill(.stroke(bottom, radius: pose.r(0.012)), lips)
        } else if e.mouthCurve < -0.03 {
            // A pout: the lower lip pushed out below a down-turned mouth.
            canvas.fill(.stroke(bezier(pose.p(-w * 0.5, y + 0.03 + e.mouthCurve * 0.1, inner: true), pose.p(0, y + 0.05, inner: true),
                                       pose.p(w * 0.5, y + 0.03 + e.mouthCurve * 0.1, inner: true), steps: 8), radius: pose.r(0.012)), skinShade)
        }
        canvas.fill(.stroke(bezier(left, control, right, steps: 16), radius: pose.r(0.016)), lips)
        if e.mouthCurve > 0.05 {
            for s: Float in [-1, 1] {  // smile lines
                canvas.fill(.stroke(bezier(pose.p(s * (w + 0.03), y - e.mouthCurve - 0.06, inner: true),
                                           pose.p(s * (w + 0.06), y - e.mouthCurve, inner: true),
                                           pose.p(s * (w + 0.03), y - e.mouthCurve + 0.05, inner: true), steps: 6),
                                    radius: pose.r(0.006)), skinShade)
            }
        }
    }
}
