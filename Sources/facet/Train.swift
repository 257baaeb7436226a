import ArgumentParser
import FacetCore
import FacetImage
import FacetLearn
import FacetNN
import FacetPipeline
import Foundation

extension Facet {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train",
            abstract: "Train a classifier on an exported dataset (train split), validating every epoch; evaluate the best on test.",
            discussion: """
            Writes OUT/log.jsonl and OUT/log.csv (epoch, train and val loss and accuracy), OUT/best.safetensors and
            OUT/last.safetensors (checkpoints PyTorch can load), and, when the dataset has a test split, OUT/report.txt
            (scikit-learn's classification report) and OUT/metrics.json. Defaults are the study's: 10 epochs, Adam, lr 1e-4, batch 32.
            """)
        @Argument(help: "Dataset folder (WORKSPACE/dataset, with manifest.jsonl).") var dataset: String
        @Option(name: .shortAndLong, help: "Output folder.") var out: String
        @Option(help: "Class names in order.") var classes = "happy,normal,sad"
        @Option(help: "resnet18, vgg16 or vggface.") var arch = "resnet18"
        @Option(help: "Pretrained weights (.pth or safetensors) for the architecture; the head is replaced.") var weights: String?
        @Option(help: "all, head, or last:N (the head and the last N parameter tensors).") var finetune = "all"
        @Option var epochs = 10
        @Option var lr = 1e-4
        @Option var batch = 32
        @Option(help: "adam, adamw or sgd.") var optimizer = "adam"
        @Option var weightDecay = 0.0
        @Option(help: "constant or cosine (PyTorch's CosineAnnealingLR over the epochs, stepped per epoch).") var schedule = "constant"
        @Option var seed: UInt64 = defaultSeed
        @Option(help: "Channel width: 64 is the published networks'; narrower trains faster (ResNet18 and VGG).") var width = 64

        func run() throws {
            guard let a = Architecture(rawValue: arch) else { throw ValidationError("--arch is resnet18, vgg16 or vggface") }
            var c = TrainConfig()
            (c.architecture, c.epochs, c.lr, c.batch, c.optimizer, c.weightDecay, c.seed, c.width) = (a, epochs, lr, batch, optimizer, weightDecay, seed, width)
            guard let f = TrainConfig.Finetune(parsing: finetune) else { throw ValidationError("--finetune is all, head or last:N") }
            c.finetune = f
            guard ["adam", "adamw", "sgd"].contains(optimizer) else { throw ValidationError("--optimizer is adam, adamw or sgd") }
            guard ["constant", "cosine"].contains(schedule) else { throw ValidationError("--schedule is constant or cosine") }
            c.schedule = schedule
            let names = classes.split(separator: ",").map(String.init)
            let progress = Progress(label: "load", unit: "images")
            let data = try ImageDataset.load(dataset: dataset, classes: names, progress: { progress.update($0, of: $1) })
            progress.finish()
            guard a.admits(size: data.size) else { throw ValidationError("\(arch) does not take the dataset's \(data.size) px images") }
            var model: Module?
            if let weights {
                model = try a.pretrained(weights: weights, classes: names.count, width: width, seed: seed)
            }
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let trainer = Trainer(c, classes: names.count, model: model)
            var checkpoint = Checkpoint(architecture: a, classes: names, inputSize: data.size)
            if width != 64 { checkpoint.extra["width"] = String(width) }
            var jsonl = "", logs: [EpochLog] = []
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys]
            say("train: \(data.indices("train").count) images, val \(data.indices("val").count), test \(data.indices("test").count), \(data.size) px, \(arch)")
            let live = LiveLine()
            _ = try trainer.fit(data, onBatch: { live.show("train: " + $0.description) }) { log, improved in
                func f(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "" }
                live.clear()
                say("epoch \(log.epoch)/\(c.epochs): train loss \(f(log.trainLoss)) acc \(f(log.trainAccuracy)), val loss \(f(log.valLoss)) acc \(f(log.valAccuracy)) (\(String(format: "%.1f", log.seconds ?? 0)) s)\(improved ? " *" : "")")
                jsonl += String(decoding: try e.encode(log), as: UTF8.self) + "\n"
                logs.append(log)
                try AtomicFile.write(Array(jsonl.utf8), to: out + "/log.jsonl")
                try AtomicFile.write(Array(EpochLog.csv(logs).utf8), to: out + "/log.csv")
                try checkpoint.save(trainer.model, to: out + "/last.safetensors")
                if improved { try checkpoint.save(trainer.model, to: out + "/best.safetensors") }
            }
            let test = data.indices("test")
            guard !test.isEmpty else { return }
            let (best, bestModel) = try Checkpoint.load(out + "/best.safetensors")
            let evaluator = Trainer(c, classes: names.count, model: bestModel)
            let (_, _, predictions) = evaluator.evaluate(data, test)
            let report = ClassificationReport(truth: test.map { data.items[$0].label }, predicted: predictions, classes: best.classes)
            try AtomicFile.write(Array(report.text().utf8), to: out + "/report.txt")
            let je = JSONEncoder()
            je.outputFormatting = [.sortedKeys, .prettyPrinted]
            try AtomicFile.write(Array(try je.encode(report)) + [0x0A], to: out + "/metrics.json")
            print("test (best epoch's weights):\n" + report.text())
        }
    }
}
