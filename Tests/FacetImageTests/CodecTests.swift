import FacetCore
import Foundation
import Testing
@testable import FacetImage

@Suite struct CodecTests {
    let pattern = Image.testPattern(width: 64, height: 48)

    @Test func pngRoundTripIsExact() throws {
        let bytes = try ImageEncoder.png(pattern)
        #expect(ImageFormat.sniff(bytes) == .png)
        let back = try ImageDecoder.decode(bytes)
        #expect(back.image == pattern)
        let gray = pattern.grayscale()
        #expect(try ImageDecoder.decode(try ImageEncoder.png(gray)).image == gray.rgb())
    }

    @Test func jpegRoundTripIsClose() throws {
        let smooth = Image.smoothPattern(width: 64, height: 48)
        let bytes = try ImageEncoder.jpeg(smooth, quality: 95)
        let back = try ImageDecoder.decode(bytes)
        #expect(back.format == .jpeg && back.image.width == 64 && back.image.height == 48)
        #expect(back.image.meanAbsoluteDifference(smooth) < 2)
        #expect(back.exif == nil)
    }

    @Test func encodingIsDeterministic() throws {
        #expect(try ImageEncoder.jpeg(pattern, quality: 80) == ImageEncoder.jpeg(pattern, quality: 80))
        #expect(try ImageEncoder.png(pattern) == ImageEncoder.png(pattern))
    }

    @Test(arguments: ["baseline", "progressive", "gray", "cmyk", "ycck"])
    func jpegVariantsMatchPillow(name: String) throws {
        let decoded = try ImageDecoder.decode(file: Fixtures.path("jpeg-variants/\(name).jpg"))
        let pillow = try Fixtures.ppm("jpeg-variants/\(name).ppm")
        let source = try Fixtures.ppm("jpeg-variants/source.ppm")
        #expect(decoded.image.width == 96 && decoded.image.height == 64)
        // Same libjpeg underneath; Pillow's fancy upsampling and CMYK rounding may differ by a level or two.
        #expect(decoded.image.meanAbsoluteDifference(pillow) < 1, "\(name)")
        if name != "gray" { #expect(decoded.image.meanAbsoluteDifference(source) < 3, "\(name)") }
    }

    @Test func pngExifOrientationIsApplied() throws {
        let decoded = try ImageDecoder.decode(file: Fixtures.path("jpeg-variants/exif-orientation-6.png"))
        let source = try Fixtures.ppm("jpeg-variants/source.ppm")
        #expect(decoded.orientation == .right)
        #expect(decoded.image == source.applying(.right))
    }

    @Test func formatIsSniffedNotGuessedFromTheName() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("facet-sniff-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/really-a-png.jpg"
        try AtomicFile.write(try ImageEncoder.png(pattern), to: path)
        #expect(try ImageDecoder.decode(file: path).format == .png)
    }

    @Test func errorsAreTyped() throws {
        func kind(_ bytes: [UInt8], _ options: DecodeOptions = DecodeOptions()) -> ImageError.Kind? {
            do { _ = try ImageDecoder.decode(bytes, path: "x", options: options); return nil } catch { return error.kind }
        }
        let jpeg = try ImageEncoder.jpeg(pattern)
        let png = try ImageEncoder.png(pattern)
        #expect(kind([]) == .empty)
        #expect(kind(Array("hello, world, this is text".utf8)) == .notAnImage)
        #expect(kind(Array("GIF89a".utf8) + [UInt8](repeating: 0, count: 20)) == .unsupported)
        #expect(kind(Array(jpeg.prefix(jpeg.count / 2))) == .truncated)
        #expect(kind(Array(jpeg.prefix(20))) == .truncated || kind(Array(jpeg.prefix(20))) == .corrupt)
        #expect(kind(Array(png.prefix(png.count / 2))) == .truncated)
        #expect(kind(jpeg, DecodeOptions(maxPixels: 100)) == .tooLarge)
        #expect(kind(png, DecodeOptions(maxPixels: 100)) == .tooLarge)
        var garbage = jpeg
        for i in stride(from: garbage.count / 2, to: garbage.count - 4, by: 7) { garbage[i] = 0xFF }
        #expect(kind(garbage) == .corrupt)
        #expect(throws: ImageError.self) { try ImageDecoder.decode(file: "/nonexistent/photo.jpg") }
        #expect(throws: ImageError.self) { try ImageDecoder.decode(file: FileManager.default.temporaryDirectory.path) }
    }

    @Test func errorNamesThePath() {
        do {
            _ = try ImageDecoder.decode(file: Fixtures.path("jpeg-crashtest/missing-sos.jpg"))
            Issue.record("decoded a file with no SOS marker")
        } catch {
            #expect(error.path.hasSuffix("missing-sos.jpg"))
            #expect(error.description.contains("missing-sos.jpg: corrupt data:"))
        }
    }

    /// A header that claims 20000 x 20000 is refused from the header: no 1.2 GB buffer.
    @Test func hugeHeadersAreRefusedBeforeDecoding() throws {
        var jpeg = try ImageEncoder.jpeg(Image.testPattern(width: 16, height: 16))
        let sof = try #require(jpeg.indices.dropLast().first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg[sof + 5] = 0x4E; jpeg[sof + 6] = 0x20   // height 20000
        jpeg[sof + 7] = 0x4E; jpeg[sof + 8] = 0x20   // width 20000
        do { _ = try ImageDecoder.decode(jpeg, path: "huge.jpg"); Issue.record("decoded") }
        catch { #expect(error.kind == .tooLarge); #expect(error.reason.contains("20000x20000")) }

        var png = try ImageEncoder.png(Image.testPattern(width: 16, height: 16))
        png.replaceSubrange(16..<24, with: [0, 0, 0x4E, 0x20, 0, 0, 0x4E, 0x20])
        let crc = CRC32.checksum(png[12..<29])
        png.replaceSubrange(29..<33, with: [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)])
        do { _ = try ImageDecoder.decode(png, path: "huge.png"); Issue.record("decoded") }
        catch { #expect(error.kind == .tooLarge) }
    }

    @Test func decodeTimeDownscaling() throws {
        let big = Image.smoothPattern(width: 2000, height: 1500)
        let bytes = try ImageEncoder.jpeg(big, quality: 90)
        let small = try ImageDecoder.decode(bytes, options: DecodeOptions(minimumSide: 224))
        // 2/8 scale: 500 x 375, the smallest n/8 with the shorter side >= 224.
        #expect(small.image.width == 500 && small.image.height == 375)
        #expect(small.storedWidth == 2000 && small.storedHeight == 1500)
        let full = try ImageDecoder.decode(bytes)
        #expect(small.image.meanAbsoluteDifference(full.image.resized(width: 500, height: 375)) < 1.5)
        #expect(try ImageDecoder.decode(bytes, options: DecodeOptions(minimumSide: 4000)).image.width == 2000)
    }

    @Test func exifRoundTripDropsLocation() throws {
        let info = ExifInfo(orientation: 6, dateTimeOriginal: "2024:03:01 10:20:30", make: "Canon",
                            model: "Canon EOS 80D", exposureTime: 1.0 / 60, fNumber: 2.8, iso: 800,
                            brightnessValue: -1.25, flash: 1, hasGPS: true)
        let bytes = try ImageEncoder.jpeg(pattern, exif: info)
        let back = try ImageDecoder.decode(bytes)
        var expected = info
        expected.hasGPS = false
        #expect(back.exif == expected)
        #expect(back.orientation == .right)
        #expect(back.image.width == 48 && back.image.height == 64)
        #expect(back.warnings.isEmpty)
        #expect(!bytes.containsSubsequence(Array("GPS".utf8)))
    }

    @Test func brokenExifIsAWarningNotAnError() throws {
        let bytes = try ImageEncoder.jpeg(pattern, exif: ExifInfo(orientation: 3))
        var broken = bytes
        let tiff = try #require(broken.firstRange(of: Array("Exif".utf8) + [0, 0])).upperBound
        for i in tiff..<(tiff + 16) { broken[i] = 0xEE }
        let decoded = try ImageDecoder.decode(broken)
        #expect(decoded.orientation == .up)
        #expect(!decoded.warnings.isEmpty)
        #expect(decoded.image.width == 64)
    }
}

/// CRC-32 (ISO 3309), as PNG chunks use, for building test headers.
enum CRC32 {
    static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

extension Array where Element == UInt8 {
    func containsSubsequence(_ needle: [UInt8]) -> Bool { firstRange(of: needle) != nil }
}
