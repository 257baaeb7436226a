import ArgumentParser
import FacetImage
import Foundation

extension Facet {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure facet's speed (bench/ runs these beside their PyTorch and Pillow peers).",
            subcommands: [Decode.self])
    }
}

extension Facet.Bench {
    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
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
