import FacetCore
import FacetData
import Foundation

/// What `facet augment` wrote: images per split, the folder, and how many photos were
/// rendered now (the others came from the per-photo cache).
public struct AugmentSummary: Sendable {
    public var written: [String: Int] = [:]
    public var folder = ""
    public var photos = 0
    public var rendered = 0
    /// Photos left out of the dataset (`crop: face` without a face), by reason.
    public var leftOut: [String: Int] = [:]
}

/// `facet augment WORKSPACE`, through the augment stage.
public enum AugmentWorkspace {
    /// `facet augment WORKSPACE`: this stage's own code run on a workspace the commands made
    /// (`facet ingest`, `label`, `split`), its records read from `manifest.jsonl` — the same
    /// per-photo cache, shards and dataset folder as in a pipeline. `force` renders every photo
    /// again; `threads` (0: all cores) never changes the bytes.
    public static func run(workspace: String, options: AugmentOptions, threads: Int = 0, force: Bool = false,
                           progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> AugmentSummary {
        if let problem = options.problem { throw DataError("augment: \(problem)") }
        let runLock = try RunLock(workspace: workspace)
        defer { withExtendedLifetime(runLock) {} }
        let manifestPath = Workspace.manifest(workspace)
        let records = try JSONLines.read(Record.self, from: manifestPath).filter { $0.split != nil && $0.label != nil }
        guard !records.isEmpty else { throw DataError("augment: no split, labelled photos; run facet split first") }
        // The manifest is outside bytes: a label or split that is not one plain name, or a source
        // that climbs out of the dump, would send reads or writes outside their folders.
        for r in records {
            for (what, name) in [("label", r.label!), ("split", r.split!)] {
                if let problem = SafePaths.nameProblem(name) { throw DataError("\(manifestPath): \(r.source): \(what) \(problem)") }
            }
            if let problem = SafePaths.relativePathProblem(r.source) { throw DataError("\(manifestPath): source \(problem)") }
        }
        var stage = AugmentStage(options: options)
        stage.threads = threads
        let parameters = StageParameters(stage: stage, canonical: .string(try JSONLines.encode(options)), files: [:])
        let pipeline = Pipeline(PipelineManifest(file: manifestPath, name: "augment", seed: options.seed, classes: [],
                                                 source: try Workspace.dump(workspace), workspace: workspace,
                                                 lock: workspace + "/cache/augment.lock", root: workspace, stages: [.augment: parameters]))
        let memo = Memo(store: pipeline.store)
        let inputs = ["split.records": try memo.put(records)]
        let built = try stage.build(StageRun(pipeline: pipeline, kind: .augment, parameters: parameters, inputs: inputs, previous: nil,
                                             force: force, memo: memo, events: RunEvents(progress: { _ in progress })))
        try stage.materialize(built.outputs, previous: nil, pipeline, memo: memo)
        return AugmentSummary(written: built.written, folder: DatasetExport.folder(workspace), photos: built.photos, rendered: built.rendered,
                              leftOut: Dictionary(grouping: built.leftOut, by: \.reason).mapValues(\.count))
    }
}
