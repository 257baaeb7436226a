import Foundation
import Testing
@testable import FacetImage

/// The real files of ../shared/corpora, copied into Tests/Fixtures with their licences.
@Suite struct CorpusTests {
    static let validPNGs = Fixtures.files("pngsuite", suffix: ".png").filter { !$0.hasPrefix(Fixtures.path("pngsuite/x")) }
    static let corruptPNGs = Fixtures.files("pngsuite", suffix: ".png").filter { $0.hasPrefix(Fixtures.path("pngsuite/x")) }

    @Test func pngSuiteIsComplete() {
        #expect(Self.validPNGs.count == 161)
        #expect(Self.corruptPNGs.count == 14)
    }

    @Test(arguments: validPNGs)
    func pngSuiteMatchesPillowWithinOneLevel(path: String) throws {
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let expected = try Fixtures.ppm("pngsuite-expected/\(name).ppm")
        let decoded = try ImageDecoder.decode(file: path)
        #expect(decoded.format == .png)
        #expect(decoded.image.width == expected.width && decoded.image.height == expected.height)
        #expect(decoded.image.maxAbsoluteDifference(expected) <= 1, "\(name)")
    }

    @Test(arguments: corruptPNGs)
    func corruptPNGsAreRejected(path: String) {
        #expect(throws: ImageError.self) { try ImageDecoder.decode(file: path) }
    }

    /// The eight files were encoded separately, so their JPEG noise differs (Pillow's own
    /// upright decodes differ by up to 3.7 levels at full size). Compared at a quarter of the
    /// size (libjpeg's 2/8 DCT scale: shorter side 300), what is left is the picture.
    static let quarter = DecodeOptions(minimumSide: 300)

    @Test(arguments: ["Landscape", "Portrait"], 1...8)
    func exifOrientationDisplaysUpright(kind: String, n: Int) throws {
        let reference = try ImageDecoder.decode(file: Fixtures.path("exif-orientation/\(kind)_1.jpg"), options: Self.quarter)
        let decoded = try ImageDecoder.decode(file: Fixtures.path("exif-orientation/\(kind)_\(n).jpg"), options: Self.quarter)
        #expect(decoded.orientation.rawValue == n)
        #expect(decoded.exif?.orientation == n)
        #expect(min(decoded.image.width, decoded.image.height) == 300)
        #expect(decoded.image.width == reference.image.width && decoded.image.height == reference.image.height)
        let mad = decoded.image.meanAbsoluteDifference(reference.image)
        #expect(mad < 2, "\(kind)_\(n): mean absolute difference \(mad)")
    }

    /// The comparison above can fail: the stored pixels of a rotated file, not turned, are far off.
    @Test(arguments: ["Landscape", "Portrait"], [2, 3, 4])
    func wrongOrientationIsFarOff(kind: String, n: Int) throws {
        let reference = try ImageDecoder.decode(file: Fixtures.path("exif-orientation/\(kind)_1.jpg"), options: Self.quarter)
        var raw = Self.quarter
        raw.applyOrientation = false
        let stored = try ImageDecoder.decode(file: Fixtures.path("exif-orientation/\(kind)_\(n).jpg"), options: raw)
        #expect(stored.image.meanAbsoluteDifference(reference.image) > 10)
    }

    @Test(arguments: ["Landscape", "Portrait"])
    func invalidOrientationZeroReadsAsOne(kind: String) throws {
        let decoded = try ImageDecoder.decode(file: Fixtures.path("exif-orientation/\(kind)_0.jpg"), options: Self.quarter)
        let reference = try ImageDecoder.decode(file: Fixtures.path("exif-orientation/\(kind)_1.jpg"), options: Self.quarter)
        #expect(decoded.exif?.orientation == 0)
        #expect(decoded.orientation == .up)
        #expect(decoded.warnings.contains { $0.contains("invalid EXIF orientation 0") })
        #expect(decoded.image.meanAbsoluteDifference(reference.image) < 2)
    }

    static let crashFiles = Fixtures.files("jpeg-crashtest", suffix: ".jpg")
        + Fixtures.files("jpeg-crashtest/imagetestsuite", suffix: ".jpg")

    /// Every malformed JPEG either decodes or throws a typed error; the process survives.
    @Test func crashTestCorpusNeverCrashes() {
        #expect(Self.crashFiles.count > 100)
        var decoded = 0, failed: [ImageError.Kind: Int] = [:]
        for path in Self.crashFiles {
            do {
                let d = try ImageDecoder.decode(file: path)
                #expect(d.image.pixels.count == d.image.width * d.image.height * 3)
                decoded += 1
            } catch {
                #expect(error.path == path)
                #expect(!error.reason.isEmpty)
                failed[error.kind, default: 0] += 1
            }
        }
        #expect(decoded + failed.values.reduce(0, +) == Self.crashFiles.count)
        #expect(decoded > 0 && !failed.isEmpty)
    }

    @Test func knownCrashFilesFailWithTheRightKind() {
        func kind(_ name: String) -> ImageError.Kind? {
            do { _ = try ImageDecoder.decode(file: Fixtures.path("jpeg-crashtest/\(name)")); return nil }
            catch { return error.kind }
        }
        #expect(kind("empty.jpg") == .empty)
        #expect(kind("max_size.jpg") == .tooLarge)
        #expect(kind("missing-sos.jpg") == .corrupt)
        #expect(kind("invalid-prediction-shift.jpg") == .unsupported)
        #expect(kind("multiple-0xff-before-eoi.jpg") == nil)
    }
}
