import ArgumentParser
import FacetImage
import Foundation

extension Facet.Bench {
    /// The augment stage's steps one at a time on one photo, single-threaded: where its time goes
    /// (`bench/augment.sh` prints these beside the same steps in Pillow).
    struct Ops: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ops",
            abstract: "Time each augment step (decode, resize, flips, blur, jitter, JPEG) on one photo; median ms per step.")
        @Argument(help: "A JPEG or PNG photo.") var photo: String
        @Option(help: "Training size (the square the photo is brought to).") var size = 224
        @Option(help: "Timed repetitions of each step; the median is reported.") var repeats = 31

        func run() throws {
            let clock = ContinuousClock()
            func time(_ name: String, _ body: () throws -> Void) throws {
                var t: [Double] = []
                for _ in 0..<max(1, repeats) {
                    let d = try clock.measure(body)
                    t.append(Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15)
                }
                print("facet " + name.padding(toLength: 10, withPad: " ", startingAt: 0) + String(format: " %8.3f ms", t.sorted()[t.count / 2]))
            }
            let decoded = try ImageDecoder.decode(file: photo, options: DecodeOptions(minimumSide: size)).image
            let square = decoded.resizedSquare(size)
            try time("decode") { _ = try ImageDecoder.decode(file: photo, options: DecodeOptions(minimumSide: size)) }
            try time("resize") { _ = decoded.resizedSquare(size) }
            try time("hflip") { _ = square.flippedHorizontally() }
            try time("vflip") { _ = square.flippedVertically() }
            try time("blur") { _ = square.gaussianBlurred(kernel: 5, sigma: 1.2) }
            try time("brightness") { _ = square.adjustingBrightness(1.2) }
            try time("contrast") { _ = square.adjustingContrast(1.2) }
            try time("saturation") { _ = square.adjustingSaturation(1.2) }
            try time("hue") { _ = square.adjustingHue(0.07) }
            try time("jpeg") { _ = try ImageEncoder.jpeg(square, quality: 95) }
        }
    }
}
