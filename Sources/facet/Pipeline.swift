import ArgumentParser
import FacetCore
import FacetImage
import FacetNN
import FacetPipeline
import Foundation

/// Exit codes of the pipeline commands, documented in Pipelines/README.md.
enum PipelineExit {
    static let failed: Int32 = 1      // a stage failed; for status: some stage is not fresh
    static let invalid: Int32 = 2     // the manifest (or a -p override) is wrong; nothing ran
    static let busy: Int32 = 3        // another facet run holds the workspace
}

/// The pipeline file and `-p` overrides, shared by run, status and dag.
struct PipelineArguments: ParsableArguments {
    @Argument(help: "Pipeline manifest (Pipelines/NAME.yaml).") var pipeline: String
    @Option(name: .customShort("p"), help: "Override a parameter: -p augment.copies=2, -p augment.ops[3].color_jitter.hue=0.2.")
    var overrides: [String] = []

    func load() throws -> Pipeline {
        do { return Pipeline(try PipelineManifest.load(pipeline, overrides: overrides)) } catch let e as ManifestError {
            FileHandle.standardError.write(Data("\(e)\n".utf8))
            throw ExitCode(PipelineExit.invalid)
        }
    }
}

/// Runs `body`, turning a busy workspace and a stage's error into their exit codes.
func pipelineExits<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as PipelineBusy {
        FileHandle.standardError.write(Data("facet: \(e)\n".utf8))
        throw ExitCode(PipelineExit.busy)
    } catch let e as ExitCode {
        throw e
    } catch {
        FileHandle.standardError.write(Data("facet: \(SystemError.sentence(error))\n".utf8))
        throw ExitCode(PipelineExit.failed)
    }
}

/// A line on standard output, written at once (so it keeps its place among the run's event lines).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

extension RunEvents {
    /// Lines on standard output; progress on standard error (live on a terminal).
    static var console: RunEvents {
        let live = LiveLine()
        return RunEvents(line: { live.clear(); say($0) }, progress: { label in
            let p = Progress(label: label, unit: "photos")
            return { done, total in p.update(done, of: total); if done == total { p.finish() } }
        }, status: live.show)
    }
}

extension Facet {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run a pipeline: every stage whose parameters or inputs changed since its last run, and nothing else.",
            discussion: """
            Exit status: 0 done; 1 a stage failed (the outputs of earlier runs stay as they were); 2 the manifest is wrong
            (every problem is listed with its line and column, and nothing runs); 3 another facet run holds the workspace.
            """)
        @OptionGroup var args: PipelineArguments
        @Option(help: "Run only this stage and the stages it reads from.") var until: String?
        @Option(parsing: .upToNextOption, help: "Run these stages even when fresh, without their per-photo caches.") var force: [String] = []

        func run() throws {
            Trace.mark("command line read")
            let pipeline = try args.load()
            Trace.mark("manifest read and checked")
            func kind(_ s: String) throws -> StageKind {
                guard let k = StageKind(rawValue: s), pipeline.manifest.stages[k] != nil else {
                    throw ValidationError("\(s) is not a stage of \(args.pipeline) (\(pipeline.order.map(\.rawValue).joined(separator: ", ")))")
                }
                return k
            }
            let until = try self.until.map(kind)
            let force = Set(try self.force.flatMap { $0.split(separator: ",").map(String.init) }.map(kind))
            let outcomes = try pipelineExits { try pipeline.run(until: until, force: force, events: .console) }
            let ran = outcomes.filter { $0.state == .ran }.map(\.stage.rawValue)
            say(ran.isEmpty ? "\(pipeline.manifest.name): every stage fresh; nothing to do"
                              : "\(pipeline.manifest.name): ran \(ran.joined(separator: ", ")); workspace \(pipeline.manifest.workspace)")
            let report = Pipeline.latestReport(pipeline.manifest.workspace) + "/index.html"
            if outcomes.contains(where: { $0.stage == .report }), FileManager.default.fileExists(atPath: report) {
                say("report: \(report)")
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Say which stages of a pipeline are fresh and which would run, and why.",
            discussion: "Exit status: 0 every stage fresh; 1 some stage would run; 2 the manifest is wrong.")
        @OptionGroup var args: PipelineArguments
        @Flag(help: "One JSON object per stage: stage, state (fresh, stale, never_run), reasons.") var json = false

        func run() throws {
            let pipeline = try args.load()
            let states = try pipelineExits { try pipeline.status() }
            for s in states {
                if json {
                    let e = JSONEncoder()
                    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                    say(String(decoding: try e.encode(s), as: UTF8.self))
                } else {
                    let head = s.stage.padding(toLength: 8, withPad: " ", startingAt: 0) + " " + s.state.replacingOccurrences(of: "_", with: " ")
                    say(s.reasons.isEmpty ? head : head + ": " + s.reasons.joined(separator: "; "))
                    // What a changed label sheet changes (the labelling app's, or one edited by hand).
                    if s.stage == "label", s.state == "stale", let n = LabelTarget.changes(pipeline.manifest) {
                        say("         labels: \(n) photo\(n == 1 ? "" : "s") changed since the last run")
                    }
                }
            }
            if states.contains(where: { $0.state != "fresh" }) { throw ExitCode(PipelineExit.failed) }
        }
    }

    struct Dag: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "dag", abstract: "Show a pipeline's stages in run order, what each reads and writes.")
        @OptionGroup var args: PipelineArguments

        func run() throws {
            say(StageGraph.describe(try args.load().manifest))
        }
    }
}
