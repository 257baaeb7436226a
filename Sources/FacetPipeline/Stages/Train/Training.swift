import FacetCore
import FacetData
import FacetImage
import FacetLearn
import FacetNN
import Foundation

/// What the train stage did with one model.
struct TrainedModel: Codable, Sendable {
    var name: String
    var architecture: String
    /// `trained` or `not_run`.
    var status: String
    var reason: String?
    /// Store hashes of the best checkpoint (highest validation accuracy), the last one and the epoch log (JSON Lines).
    var checkpoint: String?
    var last: String?
    var log: String?
    var bestEpoch: Int?

    enum CodingKeys: String, CodingKey {
        case name, architecture, status, reason, checkpoint, last, log
        case bestEpoch = "best_epoch"
    }
}

extension TrainStage {
    /// The train stage: each model trained on the materialized dataset, or taken from the
    /// per-model cache when its parameters, the dataset and its weights are unchanged.
    func execute(_ run: StageRun) throws -> StageResult {
        let (t, pipeline, store, manifest, inputs, force, events) = (self, run.pipeline, run.store, run.manifest, run.inputs, run.force, run.events)
        let data = try pipeline.images(inputs["augment.manifest"]!, memo: run.memo, events: events)
        let cacheFolder = manifest.workspace + "/cache/train"
        try FileManager.default.createDirectory(atPath: cacheFolder, withIntermediateDirectories: true)
        var results: [TrainedModel] = []
        var trainedNow = 0
        for m in t.models {
            let weightsHash = inputs["weights:" + m.name]
            let key = Store.hash(Array(("train-\(StageKind.train.version)\n" + m.canonical.canonical + "\n" + inputs["augment.manifest"]! + "\n" + (weightsHash ?? "")).utf8))
            let entryPath = cacheFolder + "/" + key + ".json"
            if !force, let data = FileManager.default.contents(atPath: entryPath),
               let cached = try? JSONDecoder().decode(TrainedModel.self, from: data),
               [cached.checkpoint, cached.last, cached.log].allSatisfy({ $0.map(store.has) ?? true }) {
                events.line("train: \(m.name): from the cache")
                results.append(cached)
                continue
            }
            // A model that cannot run here: an error, or with `missing_weights: skip` a "not run" with the reason.
            var unable: String?
            if let w = m.weights, weightsHash == "missing" {
                // The path as the manifest's project sees it: outputs (and so the lock) must not depend on where the checkout is.
                let shown = w.hasPrefix(manifest.root + "/") ? String(w.dropFirst(manifest.root.count + 1)) : w
                unable = "weights file \(shown) not found; put \(TrainStage.published(m.config.architecture)) there"
            } else if !m.config.architecture.admits(size: data.size) {
                unable = "\(m.config.architecture.rawValue) does not take the dataset's \(data.size) px images"
                    + (m.config.architecture == .vggface ? " (VGGFace needs augment size 224)" : "")
            }
            if let reason = unable {
                if t.missingWeights == "error" { throw DataError("train: \(m.name): \(reason)") }
                events.line("train: \(m.name): not run: \(reason)")
                results.append(TrainedModel(name: m.name, architecture: m.config.architecture.rawValue, status: "not_run", reason: reason))
                continue
            }
            var model: Module?
            if let w = m.weights {
                model = try m.config.architecture.pretrained(weights: w, classes: manifest.classes.count, width: m.config.width, seed: m.config.seed)
            }
            let trainer = Trainer(m.config, classes: manifest.classes.count, model: model)
            let features = try m.config.finetune == .head ? pipeline.backboneFeatures(m, trainer, data, weightsHash: weightsHash, dataset: inputs["augment.manifest"]!, events: events) : nil
            var checkpoint = Checkpoint(architecture: m.config.architecture, classes: manifest.classes, inputSize: data.size)
            if m.config.width != 64 { checkpoint.extra["width"] = String(m.config.width) }
            let scratch = manifest.workspace + "/tmp"
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            let bestPath = scratch + "/\(m.name)-best.safetensors", lastPath = scratch + "/\(m.name)-last.safetensors"
            var log = "", bestEpoch = 0
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys]
            _ = try trainer.fit(data, features: features, onBatch: { events.status("train: \(m.name): " + $0.description) }) { epoch, improved in
                func f(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "–" }
                events.line("train: \(m.name): epoch \(epoch.epoch)/\(m.config.epochs): train loss \(f(epoch.trainLoss)) acc \(f(epoch.trainAccuracy)), "
                            + "val loss \(f(epoch.valLoss)) acc \(f(epoch.valAccuracy)) (\(String(format: "%.1f", epoch.seconds ?? 0)) s)")
                var timeless = epoch
                timeless.seconds = nil   // the stored log is an output: the same run must give the same bytes
                log += String(decoding: try e.encode(timeless), as: UTF8.self) + "\n"
                if improved { bestEpoch = epoch.epoch; try checkpoint.save(trainer.model, to: bestPath) }
            }
            try checkpoint.save(trainer.model, to: lastPath)
            func stored(_ path: String) throws -> String {
                defer { try? FileManager.default.removeItem(atPath: path) }
                return try store.put([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
            }
            let result = TrainedModel(name: m.name, architecture: m.config.architecture.rawValue, status: "trained", reason: nil,
                                      checkpoint: try stored(bestPath), last: try stored(lastPath),
                                      log: try store.put(Array(log.utf8)), bestEpoch: bestEpoch)
            try AtomicFile.write(Array(try e.encode(result)), to: entryPath)
            results.append(result)
            trainedNow += 1
        }
        let trained = results.filter { $0.status == "trained" }.count
        return StageResult(outputs: ["models": try store.putLines(results)],
                           note: "\(trained) of \(results.count) models trained (\(trainedNow) now, \(trained - trainedNow) from the cache)",
                           work: trainedNow)
    }
}

extension Pipeline {
    /// A frozen backbone's features of the train and val images, computed once for a backbone
    /// (architecture, width, weights or seed) and dataset, and kept in WORKSPACE/cache/features:
    /// another head (a new learning rate, more epochs) trains in seconds.
    func backboneFeatures(_ m: TrainStage.Model, _ trainer: Trainer, _ data: ImageDataset, weightsHash: String?, dataset: String,
                          events: RunEvents) throws -> Trainer.FeatureCache {
        let c = m.config
        let backbone = weightsHash.map { "weights \($0)" } ?? "seed \(c.seed)"
        let key = Store.hash(Array("features-1\n\(c.architecture.rawValue)\n\(c.width)\n\(backbone)\n\(dataset)".utf8))
        let folder = manifest.workspace + "/cache/features"
        let path = folder + "/" + key + ".safetensors"
        if let cached = try? Trainer.FeatureCache.load(path) {
            events.line("train: \(m.name): backbone features from the cache")
            return cached
        }
        let start = Date(), items = data.indices("train") + data.indices("val")
        let f = trainer.features(data, items)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try f.save(to: path)
        events.line("train: \(m.name): backbone features of \(items.count) images computed once (\(String(format: "%.1f", Date().timeIntervalSince(start))) s)")
        return f
    }

    /// The materialized dataset's images, decoded once per run (train and evaluate share them).
    func images(_ manifestHash: String, memo: Memo, events: RunEvents) throws -> ImageDataset {
        if let (hash, data) = memo.images, hash == manifestHash { return data }
        let data = try ImageDataset.load(dataset: DatasetExport.folder(manifest.workspace), classes: manifest.classes, progress: events.progress("load"))
        memo.images = (manifestHash, data)
        return data
    }

    /// WORKSPACE/models/NAME/{best.safetensors, last.safetensors, log.jsonl, log.csv}.
    func materializeModels(_ outputs: [String: String]) throws {
        for m in try store.lines(TrainedModel.self, outputs["models"]!) where m.status == "trained" {
            let dir = manifest.workspace + "/models/" + m.name
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            if let c = m.checkpoint { try copyIfChanged(c, to: dir + "/best.safetensors") }
            if let c = m.last { try copyIfChanged(c, to: dir + "/last.safetensors") }
            if let l = m.log {
                try copyIfChanged(l, to: dir + "/log.jsonl")
                try writeIfChanged(Array(EpochLog.csv(try store.lines(EpochLog.self, l)).utf8), to: dir + "/log.csv")
            }
        }
    }

    /// SHA-256 of a weights file, or "missing"; remembered by (path, size, mtime) in
    /// WORKSPACE/cache/weights.tsv so a 500 MB file is hashed once.
    func weightsHash(_ path: String) -> String {
        var st = stat()
        guard stat(path, &st) == 0 else { return "missing" }
        let stamp = "\(path)\t\(st.st_size)\t\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
        let cache = manifest.workspace + "/cache/weights.tsv"
        let lines = (try? String(contentsOfFile: cache, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        if let hit = lines.first(where: { $0.hasPrefix(stamp + "\t") }) { return String(hit.dropFirst(stamp.count + 1)) }
        guard let data = FileManager.default.contents(atPath: path) else { return "missing" }
        let hash = Store.hash([UInt8](data))
        let kept = lines.filter { !$0.hasPrefix(path + "\t") } + [stamp + "\t" + hash]
        try? AtomicFile.write(Array((kept.joined(separator: "\n") + "\n").utf8), to: cache)
        return hash
    }
}
