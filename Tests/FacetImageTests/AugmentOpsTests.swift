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
