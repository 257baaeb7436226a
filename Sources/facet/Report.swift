import ArgumentParser
import FacetData
import FacetPipeline
import FacetReport
import Foundation

extension Facet {
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Show where a pipeline's reports are, or compare the metrics of two runs.",
            discussion: """
            The report stage writes WORKSPACE/reports/RUN/ (index.html, metrics.json, figures/) and links WORKSPACE/report to the newest.
            facet report PIPELINE lists the runs kept; facet report --compare A B prints what changed from run A to run B,
            each given as a metrics.json, a report folder, or a run name of PIPELINE's workspace.
            """)
        @Argument(help: "Pipeline manifest, to list its runs or to find run names given to --compare (put it before --compare).") var pipeline: String?
        @Option(parsing: .upToNextOption, help: "Two runs: metrics.json files, report folders or run names.") var compare: [String] = []
        @Flag(help: "The comparison as JSON.") var json = false

        func run() throws {
            let workspace = try pipeline.map { try PipelineManifest.load($0).workspace }
            if !compare.isEmpty {
                guard compare.count == 2 else { throw ValidationError("--compare takes two runs, not \(compare.count)") }
                let (a, b) = (try load(compare[0], workspace), try load(compare[1], workspace))
                let c = RunComparison(a.metrics, b.metrics)
                if json {
                    let e = JSONEncoder()
                    e.outputFormatting = [.sortedKeys, .prettyPrinted]
                    print(String(decoding: try e.encode(c), as: UTF8.self))
                } else {
                    print(c.text(a.path, b.path))
                }
                return
            }
            guard let workspace else { throw ValidationError("give a pipeline to list its reports, or --compare A B") }
            let folder = Pipeline.reports(workspace)
            let runs = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter {
                FileManager.default.fileExists(atPath: "\(folder)/\($0)/metrics.json")
            }
            guard !runs.isEmpty else { print("no reports yet in \(folder): the pipeline needs a report stage, and a run"); return }
            let latest = (try? FileManager.default.destinationOfSymbolicLink(atPath: Pipeline.latestReport(workspace))).map { ($0 as NSString).lastPathComponent }
            var rows: [(Date, String)] = []
            for run in runs {
                let path = "\(folder)/\(run)"
                let date = (try? FileManager.default.attributesOfItem(atPath: path + "/index.html")[.modificationDate] as? Date) ?? .distantPast
                let m = try load(path, nil).metrics
                let scores = m.models.map { model in model.report.map { String(format: "%@ %.3f", model.name, $0.accuracy) } ?? "\(model.name) not run" }
                rows.append((date, "\(run)\(run == latest ? " (newest)" : "")  \(Self.stamp(date))  " + scores.joined(separator: ", ")))
            }
            for (_, line) in rows.sorted(by: { $0.0 < $1.0 }) { print(line) }
            print("newest: \(Pipeline.latestReport(workspace))/index.html")
        }

        static func stamp(_ d: Date) -> String {
            let f = DateFormatter()
            f.dateFormat = "yyyy-MM-dd HH:mm"
            return f.string(from: d)
        }

        /// A run's metrics from a metrics.json, a folder holding one, or a run name in the workspace.
        func load(_ run: String, _ workspace: String?) throws -> (path: String, metrics: RunMetrics) {
            var candidates = [run, run + "/metrics.json"]
            if let workspace { candidates += ["\(Pipeline.reports(workspace))/\(run)/metrics.json"] }
            var isDir: ObjCBool = false
            guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0, isDirectory: &isDir) && !isDir.boolValue }) else {
                throw DataError("\(run): no metrics.json there" + (workspace == nil ? " (give the pipeline first to name runs by their name: facet report PIPELINE --compare A B)" : " nor a run of that name"))
            }
            do {
                return (path, try JSONDecoder().decode(RunMetrics.self, from: Data(contentsOf: URL(fileURLWithPath: path))))
            } catch {
                throw DataError("\(path): not a facet metrics.json (\(error))")
            }
        }
    }
}
