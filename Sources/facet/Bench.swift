import ArgumentParser
import FacetImage
import FacetLearn
import FacetNN
import Foundation

extension Facet {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench",
            abstract: "Measure facet's speed (bench/ runs these beside their PyTorch and Pillow peers).",
            subcommands: [Decode.self, Ops.self, Train.self, Infer.self, Blas.self, Conv.self])
    }
}

extension Facet.Bench {
    /// Options shared by `bench train` and `bench infer`.
    struct Network: ParsableArguments {
        @Option(help: "resnet18, vgg16 or vggface.") var arch = "resnet18"
        @Option(help: "Input side in pixels.") var size = 112
        @Option(help: "Images per step.") var batch = 32
        @Option(help: "Timed steps (after one warm-up); the median is reported.") var steps = 5
        @Flag(help: "Also print where the timed steps' time went: each convolution shape and batch norm plane, forward and backward, and the step's parts (ms per step).") var profile = false

        func run(train: Bool) throws {
            guard let a = Architecture(rawValue: arch), a.admits(size: size) else { throw ValidationError("--arch \(arch) at --size \(size) is not a network facet has") }
            let steps = max(1, steps)
            let r = NetworkBenchmark.run(a, size: size, batch: batch, steps: steps, train: train, profile: profile)
            print(String(format: "facet %@ %@ %d px batch %d: median %.2f images/s over %d steps (%@); peak memory %.0f MiB; %d BLAS threads, OpenBLAS %@ kernels",
                         train ? "train" : "infer", arch, size, batch, r.median, r.rates.count,
                         r.rates.map { String(format: "%.2f", $0) }.joined(separator: " "), Double(r.peakBytes) / 1_048_576, BLASThreads.count, BLASCore.current))
            guard profile else { return }
            let totals = LayerTimes.totals, perStep = { (seconds: Double) in 1000 * seconds / Double(steps) }
            let step = totals.filter { $0.label.hasPrefix("step: ") }.reduce(0) { $0 + $1.seconds }
            for t in totals {
                print(String(format: "%8.2f ms %5.1f%%  %@ (%d calls)", perStep(t.seconds), 100 * t.seconds / step, t.label, t.calls / steps))
            }
            print(String(format: "%8.2f ms per step in all (the step: lines add up to it; the others are parts of them)", perStep(step)))
        }
    }

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "train", abstract: "Training steps (forward, loss, backward, Adam) on random images; images/s.")
        @OptionGroup var options: Network
        func run() throws { try options.run(train: true) }
    }

    struct Infer: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "infer", abstract: "Forward passes in evaluation mode on random images; images/s.")
        @OptionGroup var options: Network
        func run() throws { try options.run(train: false) }
    }

    struct Blas: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "blas",
            abstract: "Which OpenBLAS kernels run, and why; SGEMM GFLOPS on one core and on all, for convolution-like shapes.")
        @Option(help: "Products timed per shape (after one warm-up); the median is reported. 0: only the kernels line.") var repeats = 9

        func run() throws {
            print("OpenBLAS " + BLASCore.origin)
            guard repeats > 0 else { return }
            for (m, n, k) in [(512, 512, 512), (64, 3136, 576), (128, 784, 1152), (256, 196, 2304), (512, 49, 4608)] {
                print(String(format: "sgemm %d x %d x %d: %.1f GFLOPS on one core, %.1f on %d", m, n, k,
                             BLASCore.sgemmRate(m, n, k, split: false, repeats: repeats),
                             BLASCore.sgemmRate(m, n, k, split: true, repeats: repeats), BLASThreads.cores))
            }
        }
    }

    struct Conv: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "conv",
            abstract: "ResNet18's convolutions one by one, forward and backward, by every path that can take each (Winograd's F(2×2) and F(4×4), one product per kernel position, im2col on the batch or per image); median ms of each, the path facet takes marked.")
        @Option(help: "Input side in pixels of the network the shapes come from.") var size = 112
        @Option(help: "Images per step.") var batch = 32
        @Option(help: "Channels of the first stage (torchvision's ResNet18: 64; the demo's: 16).") var width = 64
        @Option(help: "Timed passes per shape and path (after one warm-up); the median is reported.") var repeats = 5

        func run() throws {
            guard size >= 32, batch >= 1, width >= 1 else { throw ValidationError("--size must be at least 32, --batch and --width at least 1") }
            for r in ConvolutionBenchmark.run(ConvolutionBenchmark.resnetShapes(size: size, batch: batch, width: width), repeats: max(1, repeats)) {
                let s = r.shape, fastest = r.times.min { $0.ms < $1.ms }!
                let times = r.times.map { String(format: "%@ %.2f%@", "\($0.path)", $0.ms, $0.path == r.automatic ? " (taken)" : "") }
                print(String(format: "conv %d×%d/%d %d→%d on %d×%d, batch %d%@: %@ ms; taken/fastest %.2fx",
                             s.KH, s.KW, s.stride, s.C, s.K, s.H, s.W, s.N, r.inputGradient ? "" : " (no input gradient)",
                             times.joined(separator: ", "), r.times.first { $0.path == r.automatic }!.ms / fastest.ms))
            }
        }
    }

    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "decode",
            abstract: "Decode every JPEG/PNG under a folder to a square of --size pixels on all cores; print images/s.")
        @Argument(help: "Folder of photos (searched recursively).") var folder: String
        @Option(help: "Side of the square each photo is decoded and resized to.") var size = 224
        @Option(help: "Timed passes over the folder; the median is reported.") var repeats = 5

        func run() throws {
            let files = PhotoFiles.list(folder)
            guard !files.isEmpty else { throw ValidationError("no .jpg, .jpeg or .png files under \(folder)") }
            var rates: [Double] = []
            var failed = 0
            for _ in 0..<max(repeats, 1) {
                let start = DispatchTime.now().uptimeNanoseconds
                let failures = Counter()
                DispatchQueue.concurrentPerform(iterations: files.count) { i in
                    if (try? ImageDecoder.decodeSquare(file: files[i], side: size)) == nil { failures.increment() }
                }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                rates.append(Double(files.count) / seconds)
                failed = failures.value
            }
            rates.sort()
            print(String(format: "facet decode+resize %d px: %d files (%d failed), %d cores, median %.1f images/s over %d runs (min %.1f, max %.1f)",
                         size, files.count, failed, ProcessInfo.processInfo.activeProcessorCount,
                         rates[rates.count / 2], rates.count, rates.first!, rates.last!))
        }
    }
}

/// Photo files under a folder, sorted, by extension (for benchmarks, not ingestion).
enum PhotoFiles {
    static func list(_ root: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var out: [String] = []
        while let rel = walker.nextObject() as? String {
            let ext = (rel as NSString).pathExtension.lowercased()
            if ext == "jpg" || ext == "jpeg" || ext == "png" { out.append(root + "/" + rel) }
        }
        return out.sorted()
    }
}

import Synchronization

final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    func increment() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}
