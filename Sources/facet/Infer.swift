import ArgumentParser
import FacetLearn
import FacetNN
import Foundation

extension Facet {
    struct Infer: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "infer",
            abstract: "Classify images with published weights (--arch, --weights) or a facet checkpoint (--checkpoint).",
            discussion: """
            Images are brought to the input size (shorter side resized, centre-cropped; an image already at that size is used as
            it is) and normalised per architecture: ImageNet mean and std for resnet18 and vgg16, RGB 0–255 minus the VGGFace
            mean for vggface. Output: a line per image; with --json an object {path, logits, probs, label} (label when the classes
            are known) or {path, error}. Exit status 1 when any image could not be read.
            """)
        @Option(help: "resnet18, vgg16 or vggface (with --weights).") var arch: String?
        @Option(help: "Published weights: a PyTorch .pth or a safetensors state dict.") var weights: String?
        @Option(help: "A facet checkpoint (safetensors with metadata).") var checkpoint: String?
        @Option(help: "Input size (default: 224, or the checkpoint's).") var size: Int?
        @Option(help: "Images per forward pass.") var batch = 16
        @Flag(help: "One JSON object per image.") var json = false
        @Argument(help: "Images.") var images: [String]

        func validate() throws {
            if (checkpoint == nil) == (weights == nil) { throw ValidationError("give --checkpoint FILE, or --arch and --weights FILE") }
            if weights != nil, arch.flatMap(Architecture.init(rawValue:)) == nil {
                throw ValidationError("--arch must be one of \(Architecture.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if images.isEmpty { throw ValidationError("name at least one image") }
            if batch < 1 { throw ValidationError("--batch must be at least 1") }
        }

        func run() throws {
            let classifier: Classifier
            do {
                if let checkpoint {
                    classifier = try Classifier.checkpoint(checkpoint)
                } else {
                    let a = Architecture(rawValue: arch!)!
                    let s = size ?? a.defaultSize
                    guard a.admits(size: s) else { throw ValidationError("\(a.rawValue) does not take \(s) px inputs") }
                    classifier = try Classifier.pretrained(a, weights: weights!, size: s)
                }
            } catch let e as WeightError {
                FileHandle.standardError.write(Data("facet: \(e)\n".utf8))
                throw ExitCode(2)
            }
            let predictions = classifier.classify(images, batch: batch)
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            for p in predictions {
                if json { print(String(decoding: try e.encode(p), as: UTF8.self)); continue }
                if let error = p.error { print("\(p.path): error: \(error)"); continue }
                let best = p.probs!.indices.max { p.probs![$0] < p.probs![$1] }!
                print("\(p.path): \(p.label ?? "class \(best)") (\(String(format: "%.3f", p.probs![best])))")
            }
            if predictions.contains(where: { $0.error != nil }) { throw ExitCode(1) }
        }
    }
}
