import FacetImage
import FacetNN
import Foundation

/// One image's prediction.
public struct Prediction: Codable, Sendable {
    public var path: String
    public var logits: [Float]?
    public var probs: [Float]?
    /// The most probable class, when the classes are known.
    public var label: String?
    /// Why the image could not be classified.
    public var error: String?
}

/// A model in evaluation mode with its preprocessing, classifying images in batches.
public struct Classifier {
    public let model: Module
    public let architecture: Architecture
    public let size: Int
    public let classes: [String]?

    /// Published weights (a `.pth` or safetensors state dict) for `architecture`; the head keeps the
    /// file's class count. A 1,000-way ResNet18 or VGG16 head is ImageNet's: its classes are named
    /// (`ImageNetClasses`); other heads (VGGFace's 2,622 identities) stay numbered.
    public static func pretrained(_ architecture: Architecture, weights: String, size: Int) throws -> Classifier {
        let tensors = try WeightFile.load(weights)
        let headName = architecture == .resnet18 ? "fc.weight" : architecture == .vggface ? "fc8.weight" : "classifier.6.weight"
        guard let head = tensors[headName], head.shape.count == 2 else {
            throw WeightError("\(weights): no \(headName), so not \(architecture.rawValue) weights")
        }
        let model = architecture.make(classes: head.shape[0])
        try model.load(tensors, file: weights)
        model.train(false)
        model.requiresGrad(false)
        let imagenet = architecture != .vggface && head.shape[0] == ImageNetClasses.names.count
        return Classifier(model: model, architecture: architecture, size: size, classes: imagenet ? ImageNetClasses.names : nil)
    }

    public static func checkpoint(_ path: String) throws -> Classifier {
        let (c, model) = try Checkpoint.load(path)
        model.train(false)
        model.requiresGrad(false)
        return Classifier(model: model, architecture: c.architecture, size: c.inputSize, classes: c.classes)
    }

    /// Predictions for `paths` in order, `batch` at a time; an unreadable image gets its error, not a crash.
    public func classify(_ paths: [String], batch: Int = 16) -> [Prediction] {
        var out = [Prediction?](repeating: nil, count: paths.count)
        var start = 0
        while start < paths.count {
            let indices = start..<min(start + batch, paths.count)
            start = indices.upperBound
            var images: [(Int, Tensor)] = []
            for i in indices {
                do { images.append((i, try Preprocess.load(paths[i], size: size, architecture: architecture))) } catch {
                    out[i] = Prediction(path: paths[i], error: "\(error)")
                }
            }
            guard !images.isEmpty else { continue }
            var x = Tensor(zeros: [images.count] + Array(images[0].1.shape.dropFirst()))
            let per = images[0].1.count
            for (j, (_, t)) in images.enumerated() { x.data.replaceSubrange(j * per..<(j + 1) * per, with: t.data) }
            let logits = model.forward(x)
            let k = logits.shape[1]
            for (j, (i, _)) in images.enumerated() {
                let row = logits.data[j * k..<(j + 1) * k]
                let probs = softmax(row)
                let best = probs.indices.max { probs[$0] < probs[$1] }!
                out[i] = Prediction(path: paths[i], logits: Array(row), probs: probs, label: classes.map { $0[best] })
            }
        }
        return out.map { $0! }
    }
}
