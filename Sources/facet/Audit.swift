import ArgumentParser
import FacetData

extension Facet {
    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "audit",
            abstract: "Class balance, conditions and quality issues per class, and condition–label associations.")
        @Argument(help: "Workspace (after ingest, label and tag).") var workspace: String
        @Flag(help: "One JSON object instead of text.") var json = false

        func run() throws {
            let report = try FacetData.Audit.run(workspace: workspace)
            print(json ? try JSONLines.encode(report) : report.text())
        }
    }
}
