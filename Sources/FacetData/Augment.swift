import FacetCore
import FacetImage
import Foundation

/// One augmentation operation and its probability, as the pipeline manifest lists them.
public enum AugmentOp: Sendable, Codable, Equatable {
    case hflip(p: Double)
    case vflip(p: Double)
    /// torchvision's GaussianBlur: odd `kernel`, sigma drawn once per sample from `sigma`.
    case gaussianBlur(p: Double, kernel: Int, sigma: ClosedRange<Double>)
    /// torchvision's ColorJitter: factors from [max(0, 1 − b), 1 + b] (and [−h, h] for hue), in a random order.
    case colorJitter(p: Double, brightness: Double, contrast: Double, saturation: Double, hue: Double)

    var name: String {
        switch self {
        case .hflip: "hflip"
        case .vflip: "vflip"
        case .gaussianBlur: "gaussian_blur"
        case .colorJitter: "color_jitter"
        }
    }
}

/// How photos are brought to the training size.
public enum ResizePolicy: String, Sendable, Codable {
    /// Shorter side to the size (antialiased), then the centred square.
    case crop
    /// Longer side to the size, then centred on a black square.
    case pad
}

/// Options of `facet augment`.
public struct AugmentOptions: Sendable, Codable, Equatable {
    public var splits: [String] = ["train"]
    public var size = 224
    public var policy = ResizePolicy.crop
    public var copies = 1
    /// Also write each source photo, resized but not augmented (copy 0).
    public var keepSource = true
    public var seed: UInt64 = defaultSeed
    public var quality = 95
    public var ops: [AugmentOp] = [.hflip(p: 0.5), .vflip(p: 0.5), .gaussianBlur(p: 0.5, kernel: 5, sigma: 0.1...2.0),
                                   .colorJitter(p: 1, brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1)]
    /// `crop: face`: each photo aligned by its eyes before the ops (nil: `crop: frame`, the
    /// whole photo under `policy`). Absent from the encoded options when nil, so the options of
    /// datasets made without it read and hash as they did.
    public var face: FaceAlignment? = nil
    public init() {}

    /// What the options may be: the pipeline's `augment:` schema and `facet augment` both check against these.
    public static let sizes = 8...4096, copyCounts = 0...100, qualities = 1...100

    /// The first thing wrong with these options, in words (nil: none).
    public var problem: String? {
        if !Self.sizes.contains(size) { return "size must be in \(Self.sizes.lowerBound)…\(Self.sizes.upperBound), not \(size)" }
        if !Self.copyCounts.contains(copies) { return "copies must be in \(Self.copyCounts.lowerBound)…\(Self.copyCounts.upperBound), not \(copies)" }
        if !Self.qualities.contains(quality) { return "quality must be in \(Self.qualities.lowerBound)…\(Self.qualities.upperBound), not \(quality)" }
        for case let .gaussianBlur(_, kernel, sigma) in ops where kernel < 1 || kernel % 2 == 0 || sigma.lowerBound <= 0 {
            return "gaussian_blur needs an odd kernel and sigma > 0"
        }
        return nil
    }
}

/// Everything drawn for one output: enough to replay it alone.
public struct AppliedOp: Sendable, Codable, Equatable {
    public var op: String
    public var applied: Bool
    public var kernel: Int?
    public var sigma: Double?
    /// Color jitter: the four operations in the order applied, and their factors.
    public var order: [String]?
    public var brightness: Double?
    public var contrast: Double?
    public var saturation: Double?
    public var hue: Double?
}

/// One image of the exported dataset.
public struct DatasetRecord: Sendable, Codable, Equatable {
    /// Relative to the dataset folder: `split/class/name.jpg`.
    public var file: String
    /// SHA-256 of the written bytes.
    public var id: String
    public var derivedFrom: String
    public var source: String
    public var split: String
    public var label: String
    public var lighting: String?
    public var background: String?
    public var occlusion: String?
    /// 0: the source photo, resized only; 1…N: augmented copies.
    public var copy: Int
    public var augment: [AppliedOp]
    /// `crop: face`: the eye centres the photo was aligned by (left x, y, right x, y in the
    /// displayed photo's full-size pixels); nil when the frame was used.
    public var eyes: [Double]? = nil
    /// `crop: face` with `missing_face: frame`: why this photo was framed instead (`no_face`, …).
    public var framed: String? = nil

    enum CodingKeys: String, CodingKey {
        case file, id, source, split, label, lighting, background, occlusion, copy, augment, eyes, framed
        case derivedFrom = "derived_from"
    }
}

public enum Augmenting {
    /// Draws the parameters of copy `copy` of photo `id`: keyed by (seed, id, copy) only.
    public static func sample(_ ops: [AugmentOp], seed: UInt64, id: String, copy: Int) -> [AppliedOp] {
        var r = KeyedRandom(seed: seed, key: id + "#" + String(copy))
        return ops.map { op in
            switch op {
            case .hflip(let p), .vflip(let p):
                return AppliedOp(op: op.name, applied: r.unit() < p)
            case let .gaussianBlur(p, kernel, sigma):
                let applied = r.unit() < p
                let s = sigma.lowerBound + (sigma.upperBound - sigma.lowerBound) * r.unit()
                return AppliedOp(op: op.name, applied: applied, kernel: applied ? kernel : nil, sigma: applied ? s : nil)
            case let .colorJitter(p, b, c, s, h):
                let applied = r.unit() < p
                var order = ["brightness", "contrast", "saturation", "hue"]
                for i in stride(from: 3, to: 0, by: -1) { order.swapAt(i, Int(r.next() % UInt64(i + 1))) }
                func factor(_ x: Double) -> Double? { x > 0 ? max(0, 1 - x) + (1 + x - max(0, 1 - x)) * r.unit() : nil }
                let fb = factor(b), fc = factor(c), fs = factor(s)
                let fh = h > 0 ? -h + 2 * h * r.unit() : nil
                guard applied else { return AppliedOp(op: op.name, applied: false) }
                return AppliedOp(op: op.name, applied: true, order: order.filter {
                    ($0 == "brightness" && fb != nil) || ($0 == "contrast" && fc != nil) || ($0 == "saturation" && fs != nil) || ($0 == "hue" && fh != nil)
                }, brightness: fb, contrast: fc, saturation: fs, hue: fh)
            }
        }
    }

    /// Applies drawn operations in order.
    public static func apply(_ ops: [AppliedOp], to image: Image) -> Image {
        var out = image
        for op in ops where op.applied {
            switch op.op {
            case "hflip": out = out.flippedHorizontally()
            case "vflip": out = out.flippedVertically()
            case "gaussian_blur": out = out.gaussianBlurred(kernel: op.kernel!, sigma: op.sigma!)
            case "color_jitter":
                for step in op.order ?? [] {
                    switch step {
                    case "brightness": out = out.adjustingBrightness(op.brightness!)
                    case "contrast": out = out.adjustingContrast(op.contrast!)
                    case "saturation": out = out.adjustingSaturation(op.saturation!)
                    default: out = out.adjustingHue(op.hue!)
                    }
                }
            default: break
            }
        }
        return out
    }

    /// The image a photo's dataset images start from: its face aligned by `eyes` (`crop: face`;
    /// `width` × `height`: the photo as displayed), else the frame under the resize policy.
    public static func base(_ path: String, eyes: [Double]?, width: Int, height: Int, options: AugmentOptions) throws -> Image {
        if let face = options.face, let eyes {
            return try face.aligned(path, width: width, height: height, eyes: eyes, size: options.size)
        }
        return try load(path, size: options.size, policy: options.policy)
    }

    /// The source photo at the training size under `policy`.
    public static func load(_ path: String, size: Int, policy: ResizePolicy) throws -> Image {
        switch policy {
        case .crop:
            return try ImageDecoder.decodeSquare(file: path, side: size)
        case .pad:
            let image = try ImageDecoder.decode(file: path, options: DecodeOptions(minimumSide: size)).image
            let scale = Double(size) / Double(max(image.width, image.height))
            let w = max(1, Int((Double(image.width) * scale).rounded())), h = max(1, Int((Double(image.height) * scale).rounded()))
            return image.resized(width: min(w, size), height: min(h, size)).padded(width: size, height: size, fill: [0, 0, 0])
        }
    }
}
