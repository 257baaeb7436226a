import ArgumentParser
import FacetCore
import FacetPipeline
import FacetSynth
import Foundation

extension Facet {
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "demo",
            abstract: "Make a synthetic photo dump where the demo pipeline expects it, then run the pipeline.",
            discussion: "The dump is drawn once and kept; a second demo finds every stage fresh unless something changed.")
        @Option(help: "The demo pipeline.") var pipeline = "Pipelines/demo.yaml"
        @Option(help: "Distinct photos in the synthetic dump.") var count = 1200
        @Option(help: "Shorter side of each photo, in pixels.") var size = 256
        @Option(help: "Random seed of the synthetic dump.") var seed: UInt64 = defaultSeed
        @Flag(help: "Draw the dump again even when it is there.") var redraw = false

        func run() throws {
            let source = try PipelineManifest.source(of: pipeline)
            if redraw || !FileManager.default.fileExists(atPath: source + "/truth.csv") {
                let progress = Progress(label: "synth", unit: "photos")
                let s = try SynthDump.write(to: source, options: SynthOptions(count: count, seed: seed, size: size, extras: nil, overwrite: true),
                                            progress: { progress.update($0, of: $1) })
                progress.finish()
                say("synth: \(s.files) files in \(source) (\(s.photos) photos, the rest planted duplicates and broken files)")
            } else {
                say("synth: using the dump in \(source) (--redraw draws it again)")
            }
            try Run.parse([pipeline]).run()
        }
    }
}
