import ArgumentParser
import FacetCore
import FacetSynth

extension Facet {
    struct Synth: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "synth",
            abstract: "Write a synthetic raw photo dump of one drawn person (happy, normal, sad), with truth.csv.")
        @Argument(help: "Output folder (created; must be empty or an earlier synth dump with --overwrite).") var out: String
        @Option(help: "Distinct photos to draw.") var count: Int = 120
        @Option(help: "Random seed: the same seed writes the same bytes.") var seed: UInt64 = defaultSeed
        @Option(help: "Shorter side of each photo, in pixels.") var size: Int = 256
        @Option(help: "Exact duplicates, near duplicates and broken files, each (default: one per 40 photos).") var extras: Int?
        @Flag(help: "Replace an earlier synth dump in the output folder.") var overwrite = false

        func validate() throws {
            if count < 1 { throw ValidationError("--count must be at least 1") }
            if size < 32 || size > 4096 { throw ValidationError("--size must be between 32 and 4096") }
            if let extras, extras < 0 { throw ValidationError("--extras cannot be negative") }
        }

        func run() throws {
            let progress = Progress(label: "synth", unit: "photos")
            let summary = try SynthDump.write(
                to: out, options: SynthOptions(count: count, seed: seed, size: size, extras: extras, overwrite: overwrite),
                progress: { done, total in progress.update(done, of: total) })
            progress.finish()
            print("\(out): \(summary.photos) photos + \(summary.exactDuplicates) exact duplicates + "
                  + "\(summary.nearDuplicates) near duplicates + \(summary.broken) broken files = \(summary.files) files; "
                  + "truth in \(out)/truth.csv")
        }
    }
}
