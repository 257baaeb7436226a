import FacetImage
import Foundation
import FacetNN

/// Images to network input: square at the input size (shorter side resized, centre-cropped;
/// an image already at that size is used as it is), then per channel (x · scale − mean) / std.
public enum Preprocess {
    /// The photo at `path` as an (1, 3, size, size) tensor for `architecture`.
    public static func load(_ path: String, size: Int, architecture: Architecture) throws -> Tensor {
        let decoded = try ImageDecoder.decode(file: path).image
        let image = decoded.width == size && decoded.height == size && decoded.channels == 3
            ? decoded : try ImageDecoder.decodeSquare(file: path, side: size)
        return tensor([image], architecture: architecture)
    }

    /// A batch (N, 3, H, W) from RGB images of one size.
    public static func tensor(_ images: [Image], architecture: Architecture) -> Tensor {
        let (w, h) = (images[0].width, images[0].height)
        let n = architecture.normalization
        var out = Tensor(zeros: [images.count, 3, h, w])
        let plane = h * w
        for (i, image) in images.enumerated() {
            precondition(image.width == w && image.height == h && image.channels == 3, "one size of RGB image per batch")
            image.pixels.withUnsafeBufferPointer { px in
                for c in 0..<3 {
                    let a = n.scale / n.std[c], b = -n.mean[c] / n.std[c], base = (i * 3 + c) * plane
                    for p in 0..<plane { out.data[base + p] = Float(px[p * 3 + c]) * a + b }
                }
            }
        }
        return out
    }
}

/// Softmax of one row of logits.
public func softmax(_ logits: ArraySlice<Float>) -> [Float] {
    let m = logits.max() ?? 0
    let e = logits.map { expf($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}
