import FacetData
import FacetImage
import Foundation

/// `ops:` of the augment stage: a list of one-key mappings, applied in order.
enum AugmentOpsReader {
    static let names = ["hflip", "vflip", "gaussian_blur", "color_jitter"]

    static func read(_ s: Section) -> [AugmentOp] {
        guard let n = s.node("ops") else {
            let d = AugmentOptions().ops
            s.record("ops", .array(d.map(canonical)))
            return d
        }
        guard case .sequence(let items) = n else {
            s.problems.add(n.mark, "augment.ops must be a list such as [{hflip: {p: 0.5}}, {color_jitter: {brightness: 0.4}}]")
            return []
        }
        var ops: [AugmentOp] = []
        for (i, item) in items.enumerated() {
            guard case .mapping(let m) = item, m.count == 1, let (k, v) = m.first, let name = k.string else {
                s.problems.add(item.mark, "augment.ops[\(i)] must be one operation: {hflip: {p: 0.5}}")
                continue
            }
            guard names.contains(name) else {
                s.problems.add(k.mark, "augment.ops[\(i)]: unknown operation \(name)" + Suggest.hint(name, names)); continue
            }
            let p = Section(v, path: "augment.ops[\(i)].\(name)", problems: s.problems)
            let prob = p.double("p", default: name == "color_jitter" ? 1 : 0.5, in: 0...1)
            switch name {
            case "hflip": ops.append(.hflip(p: prob))
            case "vflip": ops.append(.vflip(p: prob))
            case "gaussian_blur":
                let kernel = p.int("kernel", default: 5, in: 1...99)
                if kernel % 2 == 0 { p.problems.add(p.markOf("kernel"), "\(p.path).kernel must be odd, not \(kernel)") }
                let sigma = range(p, "sigma", default: [0.1, 2.0])
                ops.append(.gaussianBlur(p: prob, kernel: kernel, sigma: sigma))
            default:
                let b = p.double("brightness", default: 0, in: 0...10), c = p.double("contrast", default: 0, in: 0...10)
                let sat = p.double("saturation", default: 0, in: 0...10), h = p.double("hue", default: 0, in: 0...0.5)
                ops.append(.colorJitter(p: prob, brightness: b, contrast: c, saturation: sat, hue: h))
            }
            p.finish()
        }
        s.record("ops", .array(ops.map(canonical)))
        return ops
    }

    /// `sigma: [min, max]` or a single number; 0 < min ≤ max.
    static func range(_ p: Section, _ key: String, default d: [Double]) -> ClosedRange<Double> {
        var values = d
        if let n = p.node(key) {
            switch n {
            case .sequence(let seq): values = seq.compactMap(Section.double)
                if values.count != seq.count || values.count != 2 { values = [] }
            default: values = Section.double(n).map { [$0, $0] } ?? []
            }
            if values.count != 2 || values[0] <= 0 || values[0] > values[1] {
                p.problems.add(n.mark, "\(p.path).\(key) must be [min, max] with 0 < min ≤ max")
                values = d
            }
        }
        p.record(key, .array(values.map(Value.double)))
        return values[0]...values[1]
    }

    static func canonical(_ op: AugmentOp) -> Value {
        switch op {
        case .hflip(let p): .object(["hflip": .object(["p": .double(p)])])
        case .vflip(let p): .object(["vflip": .object(["p": .double(p)])])
        case let .gaussianBlur(p, k, s):
            .object(["gaussian_blur": .object(["p": .double(p), "kernel": .int(k), "sigma": .array([.double(s.lowerBound), .double(s.upperBound)])])])
        case let .colorJitter(p, b, c, s, h):
            .object(["color_jitter": .object(["p": .double(p), "brightness": .double(b), "contrast": .double(c),
                                              "saturation": .double(s), "hue": .double(h)])])
        }
    }
}
