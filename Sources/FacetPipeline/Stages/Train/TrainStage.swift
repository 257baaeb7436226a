import FacetData
import FacetLearn
import FacetNN
import Foundation
import Yams

/// `train:` — each model under `models` trained on the dataset (FacetLearn's `Trainer`), from
/// scratch or from pretrained weights, or taken from the per-model cache (`Training.swift`).
/// Parameters: shared defaults and a mapping of model names to their own.
public struct TrainStage: PipelineStage {
    static let kind = StageKind.train
    static let requires: [StageKind] = [.augment]
    static let reads: [StageKind] = [.augment]
    static let outputs = ["models"]
    /// 2: paths in "not run" reasons relative to the project; 3: no times in the stored logs; 4: the last checkpoint too.
    static let version = 4
    public struct Model: Sendable {
        public var name: String
        public var config: TrainConfig
        /// Absolute path of pretrained weights, when the model starts from them.
        public var weights: String?
        /// The parameters as written, defaults filled: this model's part of the cache key.
        public var canonical: Value
    }
    public var models: [Model]
    /// `error`: a missing weights file stops the run; `skip`: the model is reported as not run.
    public var missingWeights: String

    /// Where the published weights of each architecture come from (never downloaded by facet).
    public static func published(_ a: Architecture) -> String {
        switch a {
        case .resnet18: "torchvision's resnet18-f37072fd.pth (https://download.pytorch.org/models/resnet18-f37072fd.pth)"
        case .vgg16: "torchvision's vgg16-397923af.pth (https://download.pytorch.org/models/vgg16-397923af.pth)"
        case .vggface: "the VGG-Face PyTorch port vgg_face_dag.pth (https://www.robots.ox.ac.uk/~albanie/models/pytorch-mcn/vgg_face_dag.pth)"
        }
    }

    init(_ s: Section, _ c: StageContext) {
        var base = TrainConfig()
        func fill(_ sec: Section, _ d: TrainConfig) -> TrainConfig {
            var t = d
            t.epochs = sec.int("epochs", default: d.epochs, in: 1...1000)
            t.lr = sec.double("lr", default: d.lr, in: 0...10)
            t.batch = sec.int("batch", default: d.batch, in: 1...4096)
            t.optimizer = sec.string("optimizer", default: d.optimizer, oneOf: ["adam", "adamw", "sgd"]) ?? d.optimizer
            t.weightDecay = sec.double("weight_decay", default: d.weightDecay, in: 0...1)
            t.seed = UInt64(sec.int("seed", default: Int(d.seed), in: 0...Int.max))
            t.width = sec.int("width", default: d.width, in: 1...512)
            t.schedule = sec.string("schedule", default: d.schedule, oneOf: ["constant", "cosine"]) ?? d.schedule
            return t
        }
        base.seed = c.seed
        base = fill(s, base)
        let missing = s.string("missing_weights", default: "error", oneOf: ["error", "skip"]) ?? "error"
        var models: [Model] = []
        if let node = s.node("models") {
            if case .mapping(let m) = node {
                for (k, v) in m {
                    guard let name = k.string else { continue }
                    if let problem = SafePaths.nameProblem(name) { s.problems.add(k.mark, "model name \(problem)") }
                    let ms = Section(v, path: "train.models.\(name)", problems: s.problems)
                    let arch = ms.string("arch", default: "resnet18", oneOf: Architecture.allCases.map(\.rawValue)).flatMap(Architecture.init(rawValue:)) ?? .resnet18
                    var config = fill(ms, base)
                    config.architecture = arch
                    let finetune = ms.string("finetune", default: "all") ?? "all"
                    if let f = TrainConfig.Finetune(parsing: finetune) { config.finetune = f } else {
                        ms.problems.add(ms.markOf("finetune"), "train.models.\(name).finetune must be all, head or last:N, not \(finetune)")
                    }
                    let weights = ms.string("weights", default: nil).map { PipelineManifest.absolute($0, root: c.root) }
                    ms.finish()
                    models.append(Model(name: name, config: config, weights: weights, canonical: .object(ms.canonical)))
                }
            } else {
                s.problems.add(node.mark, "train.models must map model names to their parameters")
            }
        }
        if models.isEmpty { s.problems.add(s.mark, "train needs at least one model under models") }
        s.record("models", .object(Dictionary(uniqueKeysWithValues: models.map { ($0.name, $0.canonical) })))
        (self.models, missingWeights) = (models, missing)
    }

    func inputs(_ upstream: [StageKind: [String: String]], _ pipeline: Pipeline, keepDump: DumpKeeper) throws -> [String: String]? {
        guard var out = take(upstream, [(.augment, "manifest")]) else { return nil }
        for m in models { if let w = m.weights { out["weights:" + m.name] = pipeline.weightsHash(w) } }
        return out
    }

    /// WORKSPACE/models/NAME/{best.safetensors, last.safetensors, log.jsonl, log.csv}.
    func materialize(_ outputs: [String: String], previous: [String: String]?, _ pipeline: Pipeline, memo: Memo) throws {
        try pipeline.materializeModels(outputs)
    }
}
