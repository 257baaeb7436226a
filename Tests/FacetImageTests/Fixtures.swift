import Foundation
@testable import FacetImage

/// Paths and readers for Tests/Fixtures (found from this file, so tests run from any folder).
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures").path

    static func path(_ relative: String) -> String { root + "/" + relative }

    static func files(_ folder: String, suffix: String) -> [String] {
        let dir = path(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { $0.hasSuffix(suffix) }.sorted().map { dir + "/" + $0 }
    }

    /// A binary PPM (P6) as an RGB image.
    static func ppm(_ relative: String) throws -> Image {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(relative))))
        var fields: [String] = []
        var i = 0
        while fields.count < 4 {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A { i += 1 }
            var token = ""
            while i < bytes.count, bytes[i] != 0x20 && bytes[i] != 0x0A { token.append(Character(UnicodeScalar(bytes[i]))); i += 1 }
            fields.append(token)
        }
        i += 1
        guard fields[0] == "P6", let w = Int(fields[1]), let h = Int(fields[2]) else {
            throw FixtureError(message: "\(relative): not a P6 PPM")
        }
        return Image(width: w, height: h, channels: 3, pixels: Array(bytes[i..<(i + w * h * 3)]))
    }

    struct FixtureError: Error { let message: String }
}

extension Image {
    /// A deterministic test picture: gradients and a checkerboard, different in every corner.
    static func testPattern(width: Int, height: Int) -> Image {
        var image = Image(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                image[y, x, 0] = UInt8(x * 255 / max(width - 1, 1))
                image[y, x, 1] = UInt8(y * 255 / max(height - 1, 1))
                image[y, x, 2] = ((x / 8) + (y / 8)) % 2 == 0 ? 220 : 30
            }
        }
        return image
    }

    /// A smooth test picture (no edges), for lossy codecs.
    static func smoothPattern(width: Int, height: Int) -> Image {
        var image = Image(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let fx = Double(x) / Double(width), fy = Double(y) / Double(height)
                image[y, x, 0] = UInt8(128 + 100 * sin(fx * 6))
                image[y, x, 1] = UInt8(128 + 100 * cos(fy * 5))
                image[y, x, 2] = UInt8(128 + 90 * sin((fx + fy) * 4))
            }
        }
        return image
    }
}
