import ArgumentParser
import FacetImage

extension Facet {
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Describe image files: format, size, orientation, EXIF, or why they fail.")
        @Argument(help: "Image files.") var files: [String]
        @Flag(help: "One JSON object per line.") var json = false
        @Option(help: "Refuse images over this many pixels.") var maxPixels = 100_000_000

        func run() throws {
            var failed = 0
            for path in files {
                let report = Inspection(path: path, maxPixels: maxPixels)
                if !report.ok { failed += 1 }
                print(json ? report.jsonLine() : report.textLine())
            }
            if failed > 0 { throw ExitCode(1) }
        }
    }
}
