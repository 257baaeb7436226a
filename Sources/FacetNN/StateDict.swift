/// Loading weights by name, PyTorch's `load_state_dict` with its report.
public struct LoadReport: Sendable, Equatable {
    /// Names the model has and the file does not.
    public var missing: [String] = []
    /// Names the file has and the model does not.
    public var unexpected: [String] = []
    /// "layer1.0.bn1.running_mean: expected [64], found [128]"
    public var mismatched: [String] = []
    public var loaded = 0

    public var clean: Bool { missing.isEmpty && unexpected.isEmpty && mismatched.isEmpty }

    public var description: String {
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing keys: " + missing.joined(separator: ", ")) }
        if !unexpected.isEmpty { parts.append("unexpected keys: " + unexpected.joined(separator: ", ")) }
        if !mismatched.isEmpty { parts.append("shape mismatches: " + mismatched.joined(separator: "; ")) }
        return parts.joined(separator: "\n")
    }
}

extension Module {
    /// Every parameter and buffer by name, as PyTorch's `state_dict()`.
    public func stateDict() -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: namedParams().map { ($0.0, $0.1.value) })
    }

    /// Copies tensors into parameters of the same name and shape. With `strict`, anything missing,
    /// unexpected or of the wrong shape is an error naming each one (and nothing is changed);
    /// otherwise the matching ones load and the report says what did not.
    @discardableResult
    public func load(_ tensors: [String: Tensor], strict: Bool = true, file: String = "weights") throws -> LoadReport {
        var report = LoadReport()
        let params = namedParams()
        let mine = Set(params.map(\.0))
        report.unexpected = tensors.keys.filter { !mine.contains($0) }.sorted()
        for (name, p) in params {
            guard let t = tensors[name] else { report.missing.append(name); continue }
            // A scalar buffer (num_batches_tracked) may be saved with shape [] or [1].
            if t.shape != p.value.shape && !(t.count == 1 && p.value.count == 1) {
                report.mismatched.append("\(name): expected \(p.value.shape), found \(t.shape)")
            }
        }
        if strict && !report.clean { throw WeightError("\(file): does not fit the model:\n\(report.description)") }
        for (name, p) in params {
            guard let t = tensors[name], t.count == p.value.count, t.shape == p.value.shape || t.count == 1 else { continue }
            p.value.data = t.data
            report.loaded += 1
        }
        return report
    }
}
