/// The sizes of a 2-D convolution: input (N, C, H, W), weight (K, C, KH, KW), output (N, K, OH, OW).
public struct ConvShape: Sendable, Equatable {
    public var N, C, H, W, K, KH, KW, stride, padding: Int
    public var OH: Int { (H + 2 * padding - KH) / stride + 1 }
    public var OW: Int { (W + 2 * padding - KW) / stride + 1 }
    /// Rows of the unfolded input: C·KH·KW.
    var patch: Int { C * KH * KW }

    /// At most this many floats of unfolded columns at a time (128 MiB): a batch of large images
    /// is unfolded and multiplied a few images at a time.
    public static let columnBudget = 32 << 20

    /// Output pixels per image from which images are convolved one by one (`ConvPath.perImage`).
    public static let perImageMinimum = 64

    /// Floats of columns per core on the per-image path's banded unfolding (16 MiB).
    public static let bandFloats = 4 << 20

    /// At most this many floats of transformed tiles at a time on the Winograd path (32 MiB).
    public static let winogradFloats = 8 << 20

    /// The path `automatic` takes: for 3×3 kernels of stride 1 padded by 1, Winograd's F(4×4, 3×3)
    /// where it pays (`Winograd.pays`: planes of 7×7 and up), else F(2×2, 3×3) where that pays
    /// (4×4 planes); else, for stride 1, one product per kernel position where that pays
    /// (`ShiftedProducts.pays`: 1×1 planes, and 2×2 ones of 256 channels and more);
    /// else the unfolded one. A path that cannot take the shape is the unfolded one.
    public func resolve(_ path: ConvPath) -> ConvPath {
        switch path {
        case .automatic:
            if Winograd(self, tile: 4)?.pays == true { return .winograd4 }
            if Winograd(self)?.pays == true { return .winograd }
            return ShiftedProducts(self)?.pays == true ? .shifted : unfolded
        case .winograd, .winograd4: return Winograd(self) != nil ? path : unfolded
        case .shifted: return ShiftedProducts(self) != nil ? path : unfolded
        case .batched, .perImage: return path
        }
    }

    /// Floats of the weight's transform that `conv2dForward` leaves for `conv2dBackward` on the
    /// automatic path (`transformedWeight`): 16·K·C or 36·K·C on Winograd's, K·C per kernel
    /// position reaching the input on the shifted one, none elsewhere.
    public var transformedWeightFloats: Int {
        let path = resolve(.automatic)
        if path == .shifted { return ShiftedProducts(self)!.weightFloats }
        return (winograd(path)?.positions ?? 0) * K * C
    }

    /// Floats of the transformed input that `conv2dForward` can leave for `conv2dBackward` on the
    /// automatic path (`transformedInput`): Winograd's V for the whole batch, where its tiles make
    /// one chunk of `winogradFloats`; none elsewhere.
    public var transformedInputFloats: Int { transformedInputFloats(on: resolve(.automatic)) }

    /// The same on `path` (one that can take the shape, as `resolve` gives it).
    public func transformedInputFloats(on path: ConvPath) -> Int { winograd(path)?.keptInputFloats(Self.winogradFloats) ?? 0 }

    /// The Winograd transform of `path` for this shape, if it is one.
    func winograd(_ path: ConvPath) -> Winograd? {
        switch path {
        case .winograd: Winograd(self, tile: 2)
        case .winograd4: Winograd(self, tile: 4)
        default: nil
        }
    }

    /// The path of an unfolded convolution (im2col): one image at a time when each image's product
    /// is large enough and there are images for every core, else the batch at once.
    public var unfolded: ConvPath { OH * OW >= Self.perImageMinimum && N >= BLASThreads.cores ? .perImage : .batched }

    /// The same convolution on one image.
    var single: ConvShape { var one = self; one.N = 1; return one }

    /// (first image, the shape of a chunk of the batch) covering the batch within the budget.
    func chunks(_ budget: Int) -> [(Int, ConvShape)] {
        let per = max(1, patch * OH * OW)
        let size = max(1, min(N, budget / per))
        return Swift.stride(from: 0, to: N, by: size).map { start in
            var c = self
            c.N = min(size, N - start)
            return (start, c)
        }
    }

    /// The output columns lo..<hi whose input column ow·stride − padding + kw lies inside the image.
    @inline(__always)
    func inside(_ kw: Int) -> (Int, Int) {
        let first = padding - kw                                   // ow·stride ≥ first
        let lo = first <= 0 ? 0 : (first + stride - 1) / stride
        let last = W - 1 + padding - kw                            // ow·stride ≤ last
        let hi = last < 0 ? 0 : min(OW, last / stride + 1)
        return (min(lo, OW), hi)
    }

    /// "conv 3×3/1 256→256 on 4×4 (winograd)": kernel, stride, channels, input plane and the automatic path (`LayerTimes`).
    var label: String { "conv \(KH)×\(KW)/\(stride) \(C)→\(K) on \(H)×\(W) (\(resolve(.automatic)))" }

    public init(N: Int, C: Int, H: Int, W: Int, K: Int, KH: Int, KW: Int, stride: Int = 1, padding: Int = 0) {
        (self.N, self.C, self.H, self.W, self.K, self.KH, self.KW, self.stride, self.padding) = (N, C, H, W, K, KH, KW, stride, padding)
    }
}

/// How a convolution is laid out on the cores.
public enum ConvPath: Sendable, Equatable {
    /// Chosen from the shape (`ConvShape.resolve`).
    case automatic
    /// The batch (or as many images as the column budget allows) unfolded into one column matrix
    /// and multiplied by one GEMM split over the cores: for small images, where one image's
    /// product is too small to run well alone.
    case batched
    /// Each image unfolded and multiplied alone, images spread over the cores: the columns stay in
    /// cache and the product lands in the output's own layout, with no copy.
    case perImage
    /// Winograd's F(2×2, 3×3) (`Winograd`): 3×3 kernels of stride 1 padded by 1 only.
    case winograd
    /// Winograd's F(4×4, 3×3) (`WinogradF4x4.swift`): the same kernels, fewer products per output pixel.
    case winograd4
    /// One product per kernel position over the pixels it reaches inside the input
    /// (`ShiftedProducts`): stride 1 only; for small planes, where most of im2col's columns are padding.
    case shifted
}
