import Foundation
import Testing
@testable import FacetImage

/// Golden cases from tools/make_augment_fixtures.py: torchvision's tensor ops run by PyTorch.
@Suite struct AugmentOpsTests {
    struct Case: Sendable, CustomStringConvertible {
        var index: Int, input: Int, ops: [[String: Double]], names: [String], expected: String
        var description: String { "case \(index): " + names.joined(separator: " → ") }
    }

    static let cases: [Case] = {
        guard let data = FileManager.default.contents(atPath: Fixtures.path("augment/cases.json")),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let list = root["cases"] as? [[String: Any]] else { return [] }
        return list.enumerated().map { k, c in
            let ops = c["ops"] as! [[String: Any]]
            return Case(index: k, input: c["input"] as! Int,
                        ops: ops.map { $0.compactMapValues { ($0 as? NSNumber)?.doubleValue } },
                        names: ops.map { $0["op"] as! String }, expected: c["expected"] as! String)
        }
    }()

    @Test func fixturesArePresent() { #expect(Self.cases.count == 24) }

    @Test(arguments: cases)
    func matchesTorchvisionWithinOneLevel(_ c: Case) throws {
        var image = try Fixtures.ppm("augment/input-\(c.input).ppm")
        for (name, args) in zip(c.names, c.ops) {
            switch name {
            case "hflip": image = image.flippedHorizontally()
            case "vflip": image = image.flippedVertically()
            case "gaussian_blur": image = image.gaussianBlurred(kernel: Int(args["kernel"]!), sigma: args["sigma"]!)
            case "brightness": image = image.adjustingBrightness(args["factor"]!)
            case "contrast": image = image.adjustingContrast(args["factor"]!)
            case "saturation": image = image.adjustingSaturation(args["factor"]!)
            case "hue": image = image.adjustingHue(args["factor"]!)
            default: Issue.record("unknown op \(name)")
            }
        }
        let expected = try Fixtures.ppm("augment/\(c.expected)")
        let worst = image.maxAbsoluteDifference(expected)
        let off = zip(image.pixels, expected.pixels).filter { $0 != $1 }.count
        #expect(worst <= 1, "\(c): max difference \(worst), \(off) of \(image.pixels.count) samples differ")
        if ProcessInfo.processInfo.environment["FACET_VERBOSE"] != nil { print("\(c): max \(worst), \(off)/\(image.pixels.count) differ") }
    }
}

extension Image {
    /// `adjust_hue` one pixel at a time through `HSV` and Swift's own float → byte conversion:
    /// the reference `adjustingHue` is held to.
    func adjustingHueReference(_ factor: Double) -> Image {
        var out = pixels
        let shift = Float(factor)
        func byte(_ x: Float) -> UInt8 { UInt8(max(0, min(255, x * (255 + 1 - 0.001)))) }
        for i in 0..<pixelCount {
            let (h, s, v) = HSV.fromRGB(Float(out[3 * i]) / 255, Float(out[3 * i + 1]) / 255, Float(out[3 * i + 2]) / 255)
            // (h + f) mod 1 with h in [0, 1) and |f| ≤ 0.5: one subtraction or addition, exact.
            var hue = h + shift
            if hue >= 1 { hue -= 1 } else if hue < 0 { hue += 1 }
            let (r, g, b) = HSV.toRGB(hue, s, v)
            out[3 * i] = byte(r); out[3 * i + 1] = byte(g); out[3 * i + 2] = byte(b)
        }
        return Image(width: width, height: height, channels: 3, pixels: out)
    }
}

/// The vectorized photometric kernels write exactly the bytes of their one-pixel-at-a-time references.
@Suite struct FastKernelTests {
    /// Every 3rd level of each channel (86³ colours, greys and pure hues included), then random pixels.
    static let colours: Image = {
        var px: [UInt8] = []
        for r in stride(from: 0, through: 255, by: 3) { for g in stride(from: 0, through: 255, by: 3) { for b in stride(from: 0, through: 255, by: 3) {
            px += [UInt8(r), UInt8(g), UInt8(b)]
        } } }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<(3 * 20_000) { px.append(UInt8.random(in: 0...255, using: &rng)) }
        return Image(width: px.count / 3, height: 1, channels: 3, pixels: px)
    }()

    @Test(arguments: [-0.5, -0.1, -0.0371, 0, 1e-7, 0.05, 0.1, 0.25, 0.5])
    func hueEqualsItsReference(_ factor: Double) {
        #expect(Self.colours.adjustingHue(factor).pixels == Self.colours.adjustingHueReference(factor).pixels)
    }

    /// The float → byte helpers against Swift's own conversions: every 1/4096 step of [-2, 258],
    /// the floats beside each integer and half-integer, and a million random values.
    @Test func byteConversionsEqualSwiftsOwn() {
        var xs: [Float] = (0...(260 * 4096)).map { Float(-2) + Float($0) / 4096 }
        for k in -4...520 {
            let x = Float(k) / 2
            xs += [x.nextDown, x, x.nextUp, x.nextDown.nextDown, x.nextUp.nextUp]
        }
        var rng = SystemRandomNumberGenerator()
        xs += (0..<1_000_000).map { _ in Float.random(in: -10...300, using: &rng) }
        xs += [-Float.greatestFiniteMagnitude, .greatestFiniteMagnitude, -0.0, .leastNonzeroMagnitude]
        var bad = 0
        for x in xs {
            if Image.roundByte(x) != UInt8(max(0, min(255, x.rounded(.toNearestOrEven)))) { bad += 1 }
            if Image.truncByte(x) != UInt8(max(0, min(255, x))) { bad += 1 }
        }
        #expect(bad == 0)
    }

    /// Brightness and contrast blend every sample as the 256-entry table of the same formula
    /// does, for factors across their range and means anywhere in [0, 255].
    @Test(arguments: [0.0, 1e-7, 0.37, 0.6, 0.999, 1.0, 1.0000001, 1.4, 2.5, 10.0])
    func blendEqualsItsTable(_ factor: Double) {
        let all = Image(width: 256, height: 1, channels: 1, pixels: (0..<256).map(UInt8.init))
        for y: Float in [0, 0.5, 17.25, 99.99, 127.5, 128, 254.9, 255] {
            #expect(all.blended(factor, with: y).pixels == Image.blendTable(factor, with: y), "factor \(factor), y \(y)")
        }
    }

    /// Gaussian blur against a direct two-pass loop with the same sums in the same order.
    @Test(arguments: [(3, 0.1), (5, 0.8), (5, 2.0), (7, 1.3), (1, 1.0)])
    func blurEqualsADirectLoop(_ kernel: Int, _ sigma: Double) {
        var rng = SystemRandomNumberGenerator()
        let (w, h) = (37, 23)
        let image = Image(width: w, height: h, channels: 3, pixels: (0..<(w * h * 3)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        let taps = Image.gaussianKernel(kernel, sigma), half = kernel / 2
        func reflect(_ i: Int, _ n: Int) -> Int { i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i) }
        var mid = [Float](repeating: 0, count: w * h * 3), expected = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h { for x in 0..<w { for c in 0..<3 {
            var s: Float = 0
            for k in 0..<kernel { s += taps[k] * Float(image.pixels[(y * w + reflect(x + k - half, w)) * 3 + c]) }
            mid[(y * w + x) * 3 + c] = s
        } } }
        for y in 0..<h { for x in 0..<w { for c in 0..<3 {
            var s: Float = 0
            for k in 0..<kernel { s += taps[k] * mid[(reflect(y + k - half, h) * w + x) * 3 + c] }
            expected[(y * w + x) * 3 + c] = UInt8(max(0, min(255, s.rounded(.toNearestOrEven))))
        } } }
        #expect(image.gaussianBlurred(kernel: kernel, sigma: sigma).pixels == expected)
    }
}

extension FastKernelTests {
    /// Resizing (shrinking, enlarging, a window, one channel) against a direct loop over the same
    /// taps with the same sums in the same order.
    @Test(arguments: [(83, 61, 3, 40, 29, 3, 5, 31, 20), (40, 30, 3, 97, 71, 0, 0, 97, 71), (300, 41, 1, 32, 45, 0, 7, 32, 30), (64, 64, 3, 63, 65, 1, 2, 60, 60)])
    func resizeEqualsADirectLoop(_ w: Int, _ h: Int, _ c: Int, _ fw: Int, _ fh: Int, _ wx: Int, _ wy: Int, _ ww: Int, _ wh: Int) {
        var rng = SystemRandomNumberGenerator()
        let image = Image(width: w, height: h, channels: c, pixels: (0..<(w * h * c)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        let hx = _ResampleTaps(input: w, output: fw, first: wx, count: ww), vy = _ResampleTaps(input: h, output: fh, first: wy, count: wh)
        var mid = [Float](repeating: 0, count: h * ww * c)
        for y in 0..<h { for x in 0..<ww { for k in 0..<c {
            var s: Float = 0
            for i in 0..<hx.count[x] { s += hx.weights[x * hx.stride + i] * Float(image.pixels[(y * w + hx.start[x] + i) * c + k]) }
            mid[(y * ww + x) * c + k] = s
        } } }
        var expected = [UInt8](repeating: 0, count: wh * ww * c)
        for y in 0..<wh { for x in 0..<ww { for k in 0..<c {
            var s: Float = 0
            for i in 0..<vy.count[y] { s += vy.weights[y * vy.stride + i] * mid[((vy.start[y] + i) * ww + x) * c + k] }
            expected[(y * ww + x) * c + k] = UInt8(max(0, min(255, s)) + 0.5)
        } } }
        #expect(image.resized(width: fw, height: fh, window: (wx, wy, ww, wh)).pixels == expected)
    }
}
