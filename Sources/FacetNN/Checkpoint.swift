import Foundation

/// A trained model as a safetensors file: the state dict under PyTorch's names, and metadata
/// (`architecture`, `classes`, `input_size`, `mean`, `std`, `scale`, and `width` for a narrowed
/// ResNet18) — so
/// `safetensors.torch.load_file` gives PyTorch a state dict that `load_state_dict` takes.
public struct Checkpoint: Sendable {
    public var architecture: Architecture
    public var classes: [String]
    public var inputSize: Int
    public var extra: [String: String] = [:]

    public init(architecture: Architecture, classes: [String], inputSize: Int) {
        (self.architecture, self.classes, self.inputSize) = (architecture, classes, inputSize)
    }

    public func save(_ model: Module, to path: String) throws {
        let n = architecture.normalization
        var metadata = extra
        metadata["format"] = "facet-checkpoint-1"
        metadata["architecture"] = architecture.rawValue
        metadata["classes"] = classes.joined(separator: "\n")
        metadata["input_size"] = String(inputSize)
        metadata["mean"] = n.mean.map { "\($0)" }.joined(separator: ",")
        metadata["std"] = n.std.map { "\($0)" }.joined(separator: ",")
        metadata["scale"] = "\(n.scale)"
        try Safetensors.write(model.stateDict(), metadata: metadata, to: path)
    }

    /// The checkpoint at `path` and its model, weights loaded.
    public static func load(_ path: String) throws -> (Checkpoint, Module) {
        let file = try Safetensors.read(path)
        let m = file.metadata
        guard m["format"] == "facet-checkpoint-1", let a = m["architecture"].flatMap(Architecture.init(rawValue:)),
              let names = m["classes"], let size = m["input_size"].flatMap(Int.init) else {
            throw WeightError("\(path): not a facet checkpoint (no architecture, classes and input size in its metadata)")
        }
        var c = Checkpoint(architecture: a, classes: names.split(separator: "\n").map(String.init), inputSize: size)
        c.extra = m.filter { !["format", "architecture", "classes", "input_size", "mean", "std", "scale"].contains($0.key) }
        let model = a.make(classes: c.classes.count, width: m["width"].flatMap(Int.init) ?? 64)
        try model.load(file.tensors, file: path)
        return (c, model)
    }
}
