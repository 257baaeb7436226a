import Testing
@testable import FacetImage

/// Hostile bytes: valid files with bytes flipped, cut or spliced must decode or throw an
/// ImageError — never crash, hang or exit. Deterministic (a fixed linear congruential stream).
@Suite struct MutationTests {
    struct LCG {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    static func seeds() throws -> [(String, [UInt8])] {
        let image = Image.testPattern(width: 40, height: 24)
        return [("jpeg", try ImageEncoder.jpeg(image, quality: 80, exif: ExifInfo(orientation: 6, make: "X"))),
                ("png", try ImageEncoder.png(image)),
                ("progressive", try ImageDecoder.readFile(Fixtures.path("jpeg-variants/progressive.jpg"))),
                ("cmyk", try ImageDecoder.readFile(Fixtures.path("jpeg-variants/cmyk.jpg"))),
                ("interlaced", try ImageDecoder.readFile(Fixtures.path("pngsuite/basi6a16.png")))]
    }

    @Test func mutantsDecodeOrFailCleanly() throws {
        var rng = LCG(state: 42)
        var decoded = 0, failed = 0
        for (name, seed) in try Self.seeds() {
            for round in 0..<200 {
                var bytes = seed
                switch round % 4 {
                case 0:  // flip a few bytes
                    for _ in 0..<(1 + rng.next(8)) { bytes[rng.next(bytes.count)] = UInt8(rng.next(256)) }
                case 1:  // cut
                    bytes = Array(bytes.prefix(1 + rng.next(bytes.count)))
                case 2:  // duplicate a slice somewhere else
                    let a = rng.next(bytes.count), n = rng.next(min(64, bytes.count - a)) + 1
                    bytes.insert(contentsOf: bytes[a..<(a + n)], at: rng.next(bytes.count))
                default:  // overwrite a header region, where sizes and tables live
                    for _ in 0..<4 { bytes[rng.next(min(bytes.count, 400))] = UInt8(rng.next(256)) }
                }
                do {
                    let d = try ImageDecoder.decode(bytes, path: "\(name)#\(round)", options: DecodeOptions(maxPixels: 4_000_000))
                    #expect(d.image.pixels.count == d.image.width * d.image.height * 3)
                    decoded += 1
                } catch {
                    #expect(error.path == "\(name)#\(round)")
                    failed += 1
                }
            }
        }
        #expect(decoded + failed == 1000)
        #expect(decoded > 0 && failed > 0)
    }
}
