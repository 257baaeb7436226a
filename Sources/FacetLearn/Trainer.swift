import FacetCore
import FacetNN
import Foundation

/// One model to train: the study's defaults (10 epochs, Adam, lr 1e-4, batch 32).
public struct TrainConfig: Codable, Sendable, Equatable {
    public enum Finetune: Codable, Sendable, Equatable {
        case all
        case head
        /// The head and the last N parameter tensors before it.
        case last(Int)

        /// `all`, `head` or `last:N` (N ≥ 0), as manifests and flags write it.
        public init?(parsing text: String) {
            switch text {
            case "all": self = .all
            case "head": self = .head
            case let s where s.hasPrefix("last:"):
                guard let n = Int(s.dropFirst(5)), n >= 0 else { return nil }
                self = .last(n)
            default: return nil
            }
        }
    }
    public var architecture: Architecture = .resnet18
    public var epochs = 10
    public var lr = 1e-4
    public var batch = 32
    /// `adam`, `adamw` or `sgd` (momentum 0.9).
    public var optimizer = "adam"
    public var weightDecay = 0.0
    public var seed: UInt64 = defaultSeed
    public var finetune = Finetune.all
    /// `constant` (the study's) or `cosine`: PyTorch's `CosineAnnealingLR(T_max: epochs, eta_min: 0)`
    /// stepped once per epoch, so epoch e (from 1) trains at lr · (1 + cos(π (e − 1) / epochs)) / 2.
    public var schedule = "constant"
    /// Channel width (64 is the published networks'; narrower trains faster on a CPU; see `Architecture.make`).
    public var width = 64
    public init() {}
}

extension EpochLog {
    /// The study's four curves as CSV: `epoch,train_loss,train_accuracy,val_loss,val_accuracy,seconds`
    /// (empty where a value is absent).
    public static func csv(_ logs: [EpochLog]) -> String {
        func f(_ x: Double?, _ format: String = "%.4f") -> String { x.map { String(format: format, $0) } ?? "" }
        return "epoch,train_loss,train_accuracy,val_loss,val_accuracy,seconds\n" + logs.map {
            [String($0.epoch), f($0.trainLoss), f($0.trainAccuracy), f($0.valLoss), f($0.valAccuracy), f($0.seconds, "%.2f")].joined(separator: ",") + "\n"
        }.joined()
    }
}

extension TrainConfig {
    /// The learning rate of an epoch (from 1) under the schedule.
    public func learningRate(epoch: Int) -> Double {
        schedule == "cosine" ? lr * (1 + cos(Double.pi * Double(epoch - 1) / Double(epochs))) / 2 : lr
    }
}

/// The four curves of the study, one line per epoch.
public struct EpochLog: Codable, Sendable, Equatable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var valLoss: Double?
    public var valAccuracy: Double?
    /// Wall time of the epoch (nil where a log must be reproducible to the byte, as in a pipeline's store).
    public var seconds: Double?

    public init(epoch: Int, trainLoss: Double, trainAccuracy: Double, valLoss: Double?, valAccuracy: Double?, seconds: Double?) {
        (self.epoch, self.trainLoss, self.trainAccuracy, self.valLoss, self.valAccuracy, self.seconds) = (epoch, trainLoss, trainAccuracy, valLoss, valAccuracy, seconds)
    }

    enum CodingKeys: String, CodingKey {
        case epoch, seconds
        case trainLoss = "train_loss", trainAccuracy = "train_accuracy", valLoss = "val_loss", valAccuracy = "val_accuracy"
    }
}

/// Trains a model on an `ImageDataset`'s train split, evaluates the val split after every epoch,
/// and keeps the best (highest val accuracy, earliest on ties) and the last weights. Batches are
/// drawn in an order shuffled by (seed, epoch), so a run is reproducible for a seed and a thread count.
///
/// With `finetune: head` the frozen backbone runs once, in evaluation mode (running statistics, no
/// dropout), over the train and val images; the head then trains on those cached features, so an
/// epoch costs a pass of one linear layer instead of the whole network.
public final class Trainer {
    public let config: TrainConfig
    public let model: Module
    let optimizer: Optimizer

    public init(_ config: TrainConfig, classes: Int, model: Module? = nil) {
        self.config = config
        let m = model ?? config.architecture.make(classes: classes, width: config.width, seed: config.seed)
        self.model = m
        switch config.finetune {
        case .all: break
        case .head:
            m.freeze()
            m.head.freeze(false)
        case .last(let n):
            m.freeze()
            let trainable = m.namedParams().filter { !$0.1.isBuffer }
            for (_, p) in trainable.suffix(n) { p.frozen = false }
            m.head.freeze(false)
        }
        switch config.optimizer {
        case "sgd": optimizer = SGD(m, lr: Float(config.lr), momentum: 0.9, weightDecay: Float(config.weightDecay))
        case "adamw": optimizer = Adam.adamW(m, lr: Float(config.lr), weightDecay: Float(config.weightDecay))
        default: optimizer = Adam(m, lr: Float(config.lr), weightDecay: Float(config.weightDecay))
        }
    }

    /// Runs every epoch; `onEpoch` sees each log line as it comes (for progress and files).
    /// `features`: the backbone's features of the train and val items when already known (a head
    /// fine-tune computes them otherwise).
    /// `onBatch` sees where training is after each batch (for a progress line).
    public func fit(_ data: ImageDataset, features known: FeatureCache? = nil, onBatch: ((BatchProgress) -> Void)? = nil,
                    onEpoch: (EpochLog, Bool) throws -> Void = { _, _ in }) throws -> [EpochLog] {
        let train = data.indices("train"), val = data.indices("val")
        guard !train.isEmpty else { throw WeightError("the dataset has no train split") }
        let cache = config.finetune == .head ? (known ?? features(data, train + val)) : nil
        if let cache, !(train + val).allSatisfy({ cache.rows[$0] != nil }) { throw WeightError("the cached features do not cover the dataset") }
        var logs: [EpochLog] = []
        var best = -1.0
        let batches = (train.count + config.batch - 1) / config.batch
        for epoch in 1...config.epochs {
            let start = Date()
            let doneSeconds = logs.reduce(0) { $0 + ($1.seconds ?? 0) }
            optimizer.lr = Float(config.learningRate(epoch: epoch))
            var order = train
            var rng = SplitMix64(seed: config.seed &+ UInt64(epoch) &* 0x9E37_79B9)
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            model.train(cache == nil)
            model.requiresGrad(true)
            model.firstConvolution?.needsInputGradient = false
            var lossSum = 0.0, correct = 0
            for b in stride(from: 0, to: order.count, by: config.batch) {
                let chunk = order[b..<min(b + config.batch, order.count)]
                model.zeroGrad()
                let (logits, y) = forward(data, chunk, cache)
                let (loss, hits, dlogits) = Self.loss(logits, y)
                lossSum += Double(loss) * Double(y.count)
                correct += hits
                _ = cache == nil ? model.backward(dlogits) : model.head.backward(dlogits)
                optimizer.step()
                if let onBatch {
                    onBatch(BatchProgress(epoch: epoch, epochs: config.epochs, batch: b / config.batch + 1, batches: batches,
                                          images: b + chunk.count, epochSeconds: Date().timeIntervalSince(start), doneEpochsSeconds: doneSeconds))
                }
            }
            var log = EpochLog(epoch: epoch, trainLoss: lossSum / Double(train.count), trainAccuracy: Double(correct) / Double(train.count),
                               valLoss: nil, valAccuracy: nil, seconds: 0)
            if !val.isEmpty {
                let (l, a, _) = evaluate(data, val, cache)
                (log.valLoss, log.valAccuracy) = (l, a)
            }
            log.seconds = Date().timeIntervalSince(start)
            Heap.release()
            let improved = (log.valAccuracy ?? log.trainAccuracy) > best
            if improved { best = log.valAccuracy ?? log.trainAccuracy }
            logs.append(log)
            try onEpoch(log, improved)
        }
        return logs
    }

    /// The backbone's features of `indices`, once, in evaluation mode: item index → row.
    public struct FeatureCache: Sendable {
        var rows: [Int: Int]
        var values: [Float]
        var width: Int

        /// As safetensors: the features as one [n, width] tensor, the item of each row in the metadata.
        public func save(to path: String) throws {
            let items = rows.sorted { $0.value < $1.value }.map { String($0.key) }.joined(separator: ",")
            let temp = path + ".tmp-\(getpid())"
            try Safetensors.write(["features": Tensor(shape: [rows.count, width], data: values)], metadata: ["items": items], to: temp)
            guard rename(temp, path) == 0 else { throw WeightError("\(path): cannot be written (errno \(errno))") }
        }

        public static func load(_ path: String) throws -> FeatureCache {
            let f = try Safetensors.read(path)
            guard let t = f.tensors["features"], t.shape.count == 2, let items = f.metadata["items"] else { throw WeightError("\(path): not a feature cache") }
            let ids = items.isEmpty ? [] : items.split(separator: ",").compactMap { Int($0) }
            guard ids.count == t.shape[0] else { throw WeightError("\(path): \(ids.count) items for \(t.shape[0]) rows") }
            return FeatureCache(rows: Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) }), values: t.data, width: t.shape[1])
        }

        func batch(_ items: ArraySlice<Int>) -> Tensor {
            var out = [Float](repeating: 0, count: items.count * width)
            for (i, item) in items.enumerated() {
                let r = rows[item]!
                out.replaceSubrange(i * width..<(i + 1) * width, with: values[r * width..<(r + 1) * width])
            }
            return Tensor(shape: [items.count, width], data: out)
        }
    }

    public func features(_ data: ImageDataset, _ indices: [Int]) -> FeatureCache {
        model.train(false)
        model.requiresGrad(false)
        defer { model.requiresGrad(true) }
        var cache = FeatureCache(rows: [:], values: [], width: 0)
        for b in stride(from: 0, to: indices.count, by: config.batch) {
            let chunk = indices[b..<min(b + config.batch, indices.count)]
            let f = model.features(data.batch(chunk, architecture: config.architecture).0)
            cache.width = f.shape[1]
            for item in chunk { cache.rows[item] = cache.rows.count }
            cache.values += f.data
        }
        return cache
    }

    /// Logits and labels of a batch: through the whole model, or through the head from cached features.
    func forward(_ data: ImageDataset, _ chunk: ArraySlice<Int>, _ cache: FeatureCache?) -> (Tensor, [Int32]) {
        let y = chunk.map { Int32(data.items[$0].label) }
        if let cache { return (model.head.forward(cache.batch(chunk)), y) }
        return (model.forward(data.batch(chunk, architecture: config.architecture).0), y)
    }

    /// Mean loss, accuracy and predicted class of each item, in evaluation mode.
    public func evaluate(_ data: ImageDataset, _ indices: [Int], _ cache: FeatureCache? = nil) -> (loss: Double, accuracy: Double, predictions: [Int]) {
        let e = evaluateWithProbabilities(data, indices, cache)
        return (e.loss, e.accuracy, e.predictions)
    }

    /// `evaluate`, and each item's class probabilities (the softmax of its logits).
    public func evaluateWithProbabilities(_ data: ImageDataset, _ indices: [Int], _ cache: FeatureCache? = nil)
        -> (loss: Double, accuracy: Double, predictions: [Int], probabilities: [[Double]]) {
        model.train(false)
        model.requiresGrad(false)
        defer { model.requiresGrad(true) }
        var lossSum = 0.0, correct = 0, predictions: [Int] = [], probabilities: [[Double]] = []
        for b in stride(from: 0, to: indices.count, by: config.batch) {
            let (logits, y) = forward(data, indices[b..<min(b + config.batch, indices.count)], cache)
            let (loss, hits, _) = Self.loss(logits, y)
            lossSum += Double(loss) * Double(y.count)
            correct += hits
            let k = logits.shape[1]
            for i in 0..<y.count {
                let row = logits.data[i * k..<(i + 1) * k]
                predictions.append(row.indices.max { row[$0] < row[$1] }! - i * k)
                let top = Double(row.max()!), e = row.map { exp(Double($0) - top) }, sum = e.reduce(0, +)
                probabilities.append(e.map { $0 / sum })
            }
        }
        return (lossSum / Double(max(1, indices.count)), Double(correct) / Double(max(1, indices.count)), predictions, probabilities)
    }

    /// Cross-entropy, the number of right argmaxes, and the gradient of the logits.
    static func loss(_ logits: Tensor, _ y: [Int32]) -> (Float, Int, Tensor) {
        let (b, k) = (logits.shape[0], logits.shape[1])
        var probs = [Float](repeating: 0, count: b * k), d = Tensor(zeros: logits.shape)
        let loss = crossEntropyForward(&probs, logits.data, y, B: b, K: k)
        crossEntropyBackward(&d.data, probs, y, B: b, K: k)
        var hits = 0
        for i in 0..<b {
            let row = probs[i * k..<(i + 1) * k]
            if row.indices.max(by: { row[$0] < row[$1] })! - i * k == Int(y[i]) { hits += 1 }
        }
        return (loss, hits, d)
    }
}

/// Where training stands after a batch, as tqdm shows it: the batch, images per second, and the
/// time left in the epoch and in the run (the epochs done so far timed the validation too).
public struct BatchProgress: Sendable {
    public var epoch, epochs, batch, batches, images: Int
    public var epochSeconds, doneEpochsSeconds: Double

    public var imagesPerSecond: Double { epochSeconds > 0 ? Double(images) / epochSeconds : 0 }
    /// Seconds left in this epoch's training batches.
    public var epochLeft: Double { batch > 0 ? epochSeconds / Double(batch) * Double(batches - batch) : 0 }
    /// Seconds left in the run: this epoch's rest, then the later epochs at the mean epoch time so far.
    public var runLeft: Double {
        let perEpoch = epoch > 1 ? doneEpochsSeconds / Double(epoch - 1) : (batch > 0 ? epochSeconds / Double(batch) * Double(batches) : 0)
        return epochLeft + perEpoch * Double(epochs - epoch)
    }

    public var description: String {
        String(format: "epoch %d/%d, batch %d/%d, %.1f images/s, epoch ETA %@, run ETA %@", epoch, epochs, batch, batches, imagesPerSecond,
               clockText(epochLeft), clockText(runLeft))
    }
}
