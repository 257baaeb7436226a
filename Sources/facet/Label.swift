import ArgumentParser
import FacetData
import FacetLabel
import FacetPipeline
import Foundation

extension Facet {
    struct Label: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "label",
            abstract: "Label the photos of a workspace from folder names, a CSV/TSV sheet or a file-name pattern.")
        enum From: String, ExpressibleByArgument { case folders, sheet, pattern }
        @Argument(help: "Workspace written by facet ingest (with --serve, or a pipeline manifest: its workspace and label sheet).") var workspace: String
        @Option(help: "Where labels come from: folders (the default), sheet (implied by --sheet) or pattern (implied by --pattern).") var from: From?
        @Option(help: "With --from folders: the folder depth that names the class (0: top folder, -1: the file's own folder).") var level = 0
        @Option(help: "With --from sheet: CSV/TSV with columns file (name or relative path) and label.") var sheet: String?
        @Option(help: "With --from pattern: a regular expression on the relative path; its first group is the label.") var pattern: String?
        @Option(parsing: .upToNextOption, help: "Class names.") var classes: [String] = ["happy", "normal", "sad"]
        @Option(name: .customLong("alias"), help: "Another name of a class, NAME=CLASS (repeatable), added to the defaults happiness=happy, neutral=normal, sadness=sad.")
        var aliases: [String] = []
        @Flag(help: "Drop the default aliases (happiness, neutral, sadness).") var noDefaultAliases = false
        @Option(help: "With --from sheet: the column naming the photo (default: file, path, filename or source).") var fileColumn: String?
        @Option(help: "With --from sheet: the column holding the label.") var labelColumn = "label"
        @Option(help: "A label that removes a photo on purpose (repeatable).") var discard: [String] = ["discard"]
        @Flag(help: "Sheet rows that match no photo are an error, and nothing is written.") var strict = false
        @Flag(help: "Let photos that have a label lose it (else that is an error, and nothing is written).") var allowUnlabelling = false
        @Flag(help: "Serve the labelling app: label by keys in a browser, saved to --labels after every action.") var serve = false
        @Option(help: "With --serve: the label sheet to write (file,label), with its history beside it. Default: WORKSPACE/labels.csv.")
        var labels: String?
        @Option(help: "With --serve: the conditions sheet to write overrides to (file,lighting,background,occlusion). Default: conditions.csv beside the labels.")
        var conditions: String?
        @Option(help: "With --serve: the address to listen on (127.0.0.1: this machine only).") var host = "127.0.0.1"
        @Option(help: "With --serve: the port (0: a free one).") var port = 0

        /// --classes as given: several options, or one comma-separated list.
        var classNames: [String] { classes.flatMap { $0.split(separator: ",").map(String.init) } }

        /// The label source: --from, or the one that --sheet or --pattern implies.
        var source: From {
            from ?? (sheet != nil ? .sheet : pattern != nil ? .pattern : .folders)
        }

        func validate() throws {
            if !serve && (labels != nil || conditions != nil || port != 0 || host != "127.0.0.1") {
                throw ValidationError("--labels, --conditions, --host and --port go with --serve")
            }
            if sheet != nil && pattern != nil { throw ValidationError("give --sheet or --pattern, not both") }
            if let sheet, source != .sheet {
                throw ValidationError("--sheet \(sheet) is read only with --from sheet, and --from \(source.rawValue) was given")
            }
            if let pattern, source != .pattern {
                throw ValidationError("--pattern \(pattern) is read only with --from pattern, and --from \(source.rawValue) was given")
            }
            if source == .sheet && sheet == nil { throw ValidationError("--from sheet needs --sheet FILE") }
            if source == .pattern && pattern == nil { throw ValidationError("--from pattern needs --pattern REGEX") }
            for c in classNames {
                if let problem = SafePaths.nameProblem(c) { throw ValidationError("class name \(problem)") }
            }
            for a in aliases where a.split(separator: "=").count != 2 { throw ValidationError("--alias takes NAME=CLASS, got \(a)") }
        }

        func run() throws {
            if serve { return try serveApp() }
            var options = LabelOptions()
            options.classes = classNames
            if noDefaultAliases { options.aliases = [:] }
            for a in aliases {
                let p = a.split(separator: "=")
                options.aliases[String(p[0]).lowercased()] = String(p[1])
            }
            (options.fileColumn, options.labelColumn) = (fileColumn, labelColumn)
            options.discard = discard
            options.strict = strict
            options.allowUnlabelling = allowUnlabelling
            switch source {
            case .folders: options.source = .folders(level: level)
            case .sheet: options.source = .sheet(path: sheet!)
            case .pattern: options.source = .pattern(pattern!)
            }
            let s = try Labeling.run(workspace: workspace, options: options)
            let counts = options.classes.map { "\($0) \(s.perClass[$0] ?? 0)" }.joined(separator: ", ")
            print("labelled \(s.perClass.values.reduce(0, +)): \(counts); discarded \(s.discarded.count); "
                  + "unlabelled \(s.unlabelled.count); conflicts \(s.conflicts.count)")
            for c in s.conflicts { print("conflict: \(c.labels.joined(separator: " vs ")): \(c.sources.joined(separator: ", "))") }
            if !s.unmatched.isEmpty { print("sheet rows matching no photo: \(s.unmatched.count): \(Labeling.describe(s.unmatched))") }
            for u in s.unlabelled.prefix(20) { print("unlabelled: \(u)") }
            if s.unlabelled.count > 20 { print("unlabelled: … and \(s.unlabelled.count - 20) more (label null in the manifest)") }
        }

        /// `--serve`: the app, until interrupted; the URL printed carries the token.
        func serveApp() throws {
            // A pipeline manifest: its workspace, classes and label sheet.
            var (ws, sheet, classes, notes) = (workspace, labels ?? workspace + "/labels.csv", classNames, [String]())
            var overrides = conditions ?? LabelApp.conditionsPath(sheet: sheet)
            if workspace.hasSuffix(".yaml") || workspace.hasSuffix(".yml") {
                let target = try LabelTarget.resolve(pipeline: workspace)
                (ws, classes, notes) = (target.workspace, target.classes, target.notes)
                sheet = labels ?? target.sheet
                overrides = conditions ?? target.conditions
            }
            let progress = Progress(label: "label: thumbnails", unit: "photos")
            let app = try LabelApp(workspace: ws, classes: classes, sheet: sheet, conditions: overrides, progress: { progress.update($0, of: $1) })
            for note in notes { say("note: \(note)") }
            let (written, conditionsSheet) = (sheet, overrides)
            var options = LabelServer.Options()
            (options.host, options.port) = (host, port)
            let server = LabelServer(app: app, options: options)
            let done = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var failure: (any Error)?
            Task {
                do {
                    try await server.run { url in
                        // Written at once (not buffered): a script reads the URL while the server runs.
                        FileHandle.standardOutput.write(Data("labels: \(written); conditions: \(conditionsSheet) (history: \(LabelApp.historyPath(sheet: written)))\nopen \(url)\n".utf8))
                    }
                } catch { failure = error }
                done.signal()
            }
            done.wait()
            if let failure { throw failure }
        }
    }
}
