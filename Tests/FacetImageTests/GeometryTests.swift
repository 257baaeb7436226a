import Testing
@testable import FacetImage

@Suite struct GeometryTests {
    @Test(arguments: Orientation.allCases)
    func orientationInverseRestores(o: Orientation) {
        let image = Image.testPattern(width: 5, height: 3)
        let turned = image.applying(o)
        #expect(turned.width == (o.swapsAxes ? 3 : 5))
        #expect(turned.applying(o.inverse) == image)
    }

    @Test func rotationsMovePixelsWhereExpected() {
        // 3 wide, 2 tall, one gray channel: a b c / d e f
        let image = Image(width: 3, height: 2, channels: 1, pixels: [1, 2, 3, 4, 5, 6])
        #expect(image.applying(.right).pixels == [4, 1, 5, 2, 6, 3])       // 90° clockwise
        #expect(image.applying(.left).pixels == [3, 6, 2, 5, 1, 4])        // 90° counter-clockwise
        #expect(image.applying(.down).pixels == [6, 5, 4, 3, 2, 1])
        #expect(image.flippedHorizontally().pixels == [3, 2, 1, 6, 5, 4])
        #expect(image.flippedVertically().pixels == [4, 5, 6, 1, 2, 3])
        #expect(image.applying(.leftMirrored).pixels == [1, 4, 2, 5, 3, 6])  // transpose
        #expect(image.applying(.rightMirrored).pixels == [6, 3, 5, 2, 4, 1]) // transverse
        #expect(image.rotated(quarterTurns: 1) == image.applying(.right))
        #expect(image.rotated(quarterTurns: -1) == image.applying(.left))
    }

    @Test(arguments: [(20, 15), (32, 24), (7, 40), (100, 70), (64, 13)])
    func resizeMatchesPillowBilinear(size: (Int, Int)) throws {
        let source = try Fixtures.ppm("resize/source.ppm")
        let expected = try Fixtures.ppm("resize/bilinear_\(size.0)x\(size.1).ppm")
        let resized = source.resized(width: size.0, height: size.1)
        #expect(resized.maxAbsoluteDifference(expected) <= 1, "\(size)")
    }

    @Test func cropAndPad() {
        let image = Image.testPattern(width: 10, height: 6)
        let crop = image.centerCropped(width: 4, height: 4)
        #expect(crop.width == 4 && crop.height == 4)
        #expect(crop[0, 0, 0] == image[1, 3, 0] && crop[0, 0, 1] == image[1, 3, 1])
        let padded = image.padded(width: 10, height: 10, fill: [1, 2, 3])
        #expect(padded[0, 0, 0] == 1 && padded[0, 0, 2] == 3)
        #expect(padded.cropped(x: 0, y: 2, width: 10, height: 6) == image)
        #expect(Image.scaledSize(width: 640, height: 480, shorterSide: 224) == (298, 224))
    }

    @Test func grayAndHSV() {
        let image = Image(width: 3, height: 1, channels: 3, pixels: [255, 0, 0, 0, 255, 0, 10, 20, 200])
        #expect(image.grayscale().pixels == [76, 150, 38])
        let hsv = image.hsv()
        #expect(hsv[0] == 0 && hsv[1] == 1 && hsv[2] == 1)
        #expect(abs(hsv[3] - 1.0 / 3) < 1e-6)
        let pattern = Image.testPattern(width: 40, height: 30)
        let back = Image(width: 40, height: 30, hsv: pattern.hsv())
        #expect(back.maxAbsoluteDifference(pattern) <= 1)
    }
}

extension GeometryTests {
    @Test func windowedResizeEqualsResizeThenCrop() {
        let image = Image.testPattern(width: 90, height: 120)
        let full = image.resized(width: 40, height: 53)
        #expect(image.resized(width: 40, height: 53, window: (3, 7, 30, 40)) == full.cropped(x: 3, y: 7, width: 30, height: 40))
        #expect(image.resized(width: 90, height: 120, window: (1, 2, 5, 5)) == image.cropped(x: 1, y: 2, width: 5, height: 5))
    }

    /// The affine warp: the identity gives the image back, a quarter turn about the centre gives
    /// the quarter turn, a half-pixel shift averages neighbours, and outside is the fill.
    @Test func warpSamplesThroughTheMap() {
        let image = Image(width: 3, height: 2, channels: 1, pixels: [10, 20, 30, 40, 50, 60])
        #expect(image.warped(width: 3, height: 2, map: .init(a: 1, b: 0, c: 0, d: 1, tx: 0, ty: 0), fill: [0]) == image)
        // Output (u, v) of the 2 × 3 turned image samples source (v, 2 − u): 90° clockwise.
        let turned = image.warped(width: 2, height: 3, map: .init(a: 0, b: 1, c: -1, d: 0, tx: 0, ty: 2), fill: [0])
        #expect(turned == image.applying(.right))
        let shifted = image.warped(width: 3, height: 2, map: .init(a: 1, b: 0, c: 0, d: 1, tx: 0.5, ty: 0), fill: [0])
        #expect(shifted.pixels == [15, 25, 15, 45, 55, 30])
        let outside = image.warped(width: 2, height: 2, map: .init(a: 1, b: 0, c: 0, d: 1, tx: 10, ty: 10), fill: [7])
        #expect(outside.pixels == [7, 7, 7, 7])
    }
}
