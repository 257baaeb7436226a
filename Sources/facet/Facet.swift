import ArgumentParser
import FacetNN

@main
enum Main {
    static func main() {
        // Before anything else: OpenBLAS's kernels are chosen when it loads (FacetNN's BLASCore).
        BLASCore.restartIfNeeded()
        BLASThreads.stopIdleWorkers()
        Facet.main()
    }
}

struct Facet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facet",
        abstract: "Turn a raw dump of face photos into a clean, labelled, split dataset, and train on it.",
        version: "0.1.0",
        subcommands: [Demo.self, Run.self, Status.self, Dag.self, Report.self, Train.self, Infer.self, Synth.self, Inspect.self, Ingest.self, Tag.self, Label.self, Audit.self, Split.self,
                      Augment.self, Bench.self])
}
