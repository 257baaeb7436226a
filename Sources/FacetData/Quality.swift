import Foundation

/// Quality scores from pixel statistics, in the spirit of cleanvision: each in 0…1, higher
/// means more of the problem, and an issue fires when its score reaches its threshold.
///
/// | score | formula | fires at |
/// |---|---|---|
/// | dark | 1 − b, b = √(0.241 R̄² + 0.691 Ḡ² + 0.068 B̄²) / 255 | ≥ 0.8 (b ≤ 0.2) |
/// | light | b | ≥ 0.9 |
/// | blurry | exp(−v / 100), v = variance of Pillow's FIND_EDGES on gray, at 256 px | ≥ 0.5 (v ≤ 69) |
/// | low_information | 1 − H / 8, H = entropy of the gray histogram in bits | ≥ 0.625 (H ≤ 3) |
/// | odd_aspect | 1 − min(w/h, h/w) | ≥ 0.5 (2:1 or longer) |
/// | odd_size | min(1, abs(log₂(area / median area)) / 4) | ≥ 0.5 (4× the median area or a quarter) |
/// | grayscale | max(0, 1 − s / 5), s = mean max(R,G,B) − min(R,G,B) in levels | ≥ 0.8 (s ≤ 1) |
extension Quality {
    public static let thresholds: [String: Double] = [
        "dark": 0.8, "light": 0.9, "blurry": 0.5, "low_information": 0.625, "odd_aspect": 0.5, "odd_size": 0.5, "grayscale": 0.8,
    ]

    init(_ s: PixelStats, width: Int, height: Int, medianArea: Double) {
        dark = Quality.unit(1 - s.brightness)
        light = Quality.unit(s.brightness)
        blurry = Quality.unit(exp(-s.edgeVariance / 100))
        lowInformation = Quality.unit(1 - s.entropy / 8)
        oddAspect = Quality.unit(1 - Double(min(width, height)) / Double(max(max(width, height), 1)))
        oddSize = Quality.unit(abs(log2(max(Double(width * height), 1) / max(medianArea, 1))) / 4)
        grayscale = Quality.unit(1 - s.colourSpread / 5)
    }

    static func unit(_ x: Double) -> Double { (min(max(x, 0), 1) * 10000).rounded() / 10000 }

    public var scores: [String: Double] {
        ["dark": dark, "light": light, "blurry": blurry, "low_information": lowInformation, "odd_aspect": oddAspect,
         "odd_size": oddSize, "grayscale": grayscale]
    }

    /// The names of the checks that fired, sorted.
    public var issues: [String] {
        scores.filter { $0.value >= Quality.thresholds[$0.key]! }.map(\.key).sorted()
    }
}
