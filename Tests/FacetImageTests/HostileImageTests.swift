import Foundation
import Testing
@testable import FacetImage

/// Images whose shape would make a derived buffer enormous (issue 24, case 1): a 1×60000 strip
/// scaled to a 256-px shorter side would be 256×15,360,000. They are refused from the header.
@Suite struct HostileImageTests {
    @Test func extremeAspectRatiosAreRefusedBeforeDecoding() throws {
        let strip = try ImageEncoder.png(Image(width: 1, height: 60000, fill: 128))
        #expect(strip.count < 2000)
        do {
            _ = try ImageDecoder.decode(strip, path: "strip.png", options: DecodeOptions(minimumSide: 256))
            Issue.record("decoded a 1x60000 strip")
        } catch {
            #expect(error.kind == .tooLarge)
            #expect(error.description == "strip.png: too large: extreme aspect ratio 1:60000 (1x60000; facet accepts up to 1:50)")
        }
        let wide = try ImageEncoder.jpeg(Image(width: 20000, height: 10, fill: 90))
        #expect(throws: ImageError.self) { try ImageDecoder.decode(wide, path: "wide.jpg") }
        do { _ = try ImageDecoder.decode(wide, path: "wide.jpg") } catch { #expect(error.reason.hasPrefix("extreme aspect ratio 2000:1")) }
        // At the limit, and with orientation ignored, shapes are accepted.
        #expect(try ImageDecoder.decode(try ImageEncoder.png(Image(width: 1, height: 50, fill: 1))).image.height == 50)
        #expect(try ImageDecoder.decode(try ImageEncoder.png(Image(width: 3, height: 150, fill: 1))).image.height == 150)
        #expect(throws: ImageError.self) { try ImageDecoder.decode(try ImageEncoder.png(Image(width: 3, height: 151, fill: 1))) }
        #expect(throws: ImageError.self) { try ImageDecoder.decode(try ImageEncoder.png(Image(width: 1, height: 51, fill: 1))) }
        // inspect still says what the file is.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("facet-strip-\(UUID()).png").path
        try Data(strip).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let inspection = Inspection(path: path)
        #expect(inspection.ok && inspection.width == 1 && inspection.height == 60000)
    }
}
