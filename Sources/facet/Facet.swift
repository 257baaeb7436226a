import ArgumentParser
import FacetNN

@main
enum Main {
    static func main() {
        // Before anything else: OpenBLAS's kernels are chosen when it loads (FacetNN's BLASCore).
        OpenBLASKernels.restartIfNeeded()
        BLASThreads.stopIdleWorkers()
        do {
            var command = try Facet.parseAsRoot()
            try command.run()
        } catch {
            Facet.exit(withError: SystemError.isFoundation(error) ? Sentence(error) : error)
        }
    }
}

/// Foundation's file errors (`NSCocoaErrorDomain Code=640 …`) as "PATH: the disk is full (…)";
/// every other error as it is, for argument parsing's own messages and exit codes.
struct Sentence: Error, CustomStringConvertible {
    let error: Error
    init(_ error: Error) { self.error = error }
    var description: String { SystemError.sentence(error) }
}

struct Facet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facet",
        abstract: "Turn a raw dump of face photos into a clean, labelled, split dataset, and train on it.",
        version: "0.1.0",
        subcommands: [Demo.self, Run.self, Status.self, Dag.self, Report.self, Train.self, Infer.self, Synth.self, Inspect.self, Faces.self, Ingest.self, Tag.self, Label.self, Audit.self, Split.self,
                      Augment.self, Bench.self])
}
