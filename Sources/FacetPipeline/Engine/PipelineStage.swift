import FacetData
import Foundation

/// The kinds of stage a pipeline can have: the keys under `stages:` in a manifest. What each
/// one is and does lives in its own folder, `Stages/<Key>/`, as a type of `PipelineStage`;
/// `StageKind.all` lists them, and the engine walks that list.
///
/// ```
/// ingest ─┬─ tag ───┬─ split ── augment ── train ── evaluate ── report
///         └─ label ─┘
/// ```
public enum StageKind: String, CaseIterable, Sendable, Comparable, Codable {
    case ingest, tag, label, split, augment, train, evaluate, report

    /// Every stage type, in the order of `StageKind`.
    static let all: [any PipelineStage.Type] = [
        IngestStage.self, TagStage.self, LabelStage.self, SplitStage.self,
        AugmentStage.self, TrainStage.self, EvaluateStage.self, ReportStage.self,
    ]

    /// The stage type of this key.
    var type: any PipelineStage.Type { Self.all.first { $0.kind == self }! }

    /// The stages whose outputs are photo records (sharded, `WORKSPACE/manifest.jsonl` shows the last's).
    public static let records: Set<StageKind> = Set(all.filter { $0.isRecords }.map { $0.kind })

    /// Stages this one needs present in the manifest.
    public var requires: [StageKind] { type.requires }
    /// Stages whose outputs this one reads, when present.
    public var reads: [StageKind] { type.reads }
    /// The names of the outputs a stage stores.
    public var outputs: [String] { type.outputs }
    /// Bumped when a stage's output for the same inputs and parameters changes, so old cache
    /// entries and lock keys stop matching.
    public var version: Int { type.version }

    public static func < (a: StageKind, b: StageKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// One YAML stage key: its parameters (read from its section of the manifest, defaults filled
/// in), what it reads and writes, its format version, how it runs and what it shows in the
/// workspace. A value of the type is the stage as one manifest configures it.
protocol PipelineStage: Sendable {
    static var kind: StageKind { get }
    /// Stages this one needs present in the manifest.
    static var requires: [StageKind] { get }
    /// Stages whose outputs this one reads, when present.
    static var reads: [StageKind] { get }
    /// The names of the outputs it stores.
    static var outputs: [String] { get }
    /// Bumped when its output for the same inputs and parameters changes.
    static var version: Int { get }
    /// Whether its outputs are photo records (`records`, sharded).
    static var isRecords: Bool { get }

    /// Reads the stage's section of the manifest; problems go to the section's list, files the
    /// parameters name to the context.
    init(_ s: Section, _ c: StageContext)

    /// A problem with the other stages present (a dependency on a stage's options), or nil.
    func problem(with stages: [StageKind: StageParameters]) -> String?

    /// The stage's inputs besides the files its parameters name: upstream outputs by name (nil:
    /// some upstream output is not known, because that stage is stale and has not run). A stage
    /// that reads the dump hands its fingerprint to `keepDump`, which returns its hash.
    func inputs(_ upstream: [StageKind: [String: String]], _ pipeline: Pipeline, keepDump: DumpKeeper) throws -> [String: String]?

    /// Runs the stage from its inputs in the store.
    func execute(_ run: StageRun) throws -> StageResult

    /// Makes the workspace show the stage's outputs where `facet audit` and people look for them.
    /// `previous`: the outputs of the stage's run before this one, when it ran now.
    func materialize(_ outputs: [String: String], previous: [String: String]?, _ pipeline: Pipeline, memo: Memo) throws
}

extension PipelineStage {
    static var isRecords: Bool { false }
    static var version: Int { 1 }
    func problem(with stages: [StageKind: StageParameters]) -> String? { nil }
    func materialize(_ outputs: [String: String], previous: [String: String]?, _ pipeline: Pipeline, memo: Memo) throws {}

    /// The outputs named, from the stages before, as inputs called `STAGE.OUTPUT`; nil when one
    /// of those stages has not run.
    func take(_ upstream: [StageKind: [String: String]], _ wanted: [(StageKind, String)]) -> [String: String]? {
        var out: [String: String] = [:]
        for (kind, name) in wanted {
            guard let outputs = upstream[kind] else { return nil }
            out[kind.rawValue + "." + name] = outputs[name]
        }
        return out
    }
}

/// Takes the dump's fingerprint and listing (what the stage that reads the dump made of it) and
/// returns the fingerprint's hash: a run keeps both for ingest, `status` only hashes.
typealias DumpKeeper = (_ fingerprint: [UInt8], _ listing: DumpListing) throws -> String

/// What parameters are read against: the project root for paths, the pipeline's seed and
/// classes; and it collects the files that parameters name (sheets, models), whose contents are
/// inputs of the stage.
final class StageContext {
    let root: String
    let seed: UInt64
    let classes: [String]
    /// Absolute paths of files named by the parameters, by parameter name.
    var files: [String: String] = [:]

    init(root: String, seed: UInt64, classes: [String]) {
        (self.root, self.seed, self.classes) = (root, seed, classes)
    }

    /// The file named by `key` in `section`, made absolute, recorded as an input; a problem when it is not a file.
    func file(_ section: Section, _ key: String) -> String? {
        guard let p = section.string(key, default: nil) else { return nil }
        let abs = PipelineManifest.absolute(p, root: root)
        var dir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: abs, isDirectory: &dir) || dir.boolValue {
            section.problems.add(section.markOf(key), "\(section.path).\(key): file \(abs) does not exist")
        }
        files[key] = abs
        return abs
    }
}

/// One run of one stage: the pipeline, the stage's parameters and inputs, and the run's memo.
struct StageRun {
    let pipeline: Pipeline
    let kind: StageKind
    let parameters: StageParameters
    let inputs: [String: String]
    /// The outputs of the stage's last run, which a stage may bring up to date (nil when forced).
    let previous: [String: String]?
    /// Run even when fresh, without the per-photo caches.
    let force: Bool
    let memo: Memo
    let events: RunEvents

    var store: Store { pipeline.store }
    var manifest: PipelineManifest { pipeline.manifest }

    /// The stage key without the inputs named (the record indexes the shards stand for).
    func shardBase(leaving: [String]) -> String {
        var rest = inputs
        for name in leaving { rest[name] = nil }
        return Pipeline.key(kind: kind, version: kind.version, params: parameters.canonical, inputs: rest)
    }

    /// Runs the stage shard by shard (`Pipeline.sharded`).
    func sharded<R: ShardResult>(keys: [String], work: ([Int]) throws -> [R]) throws -> (results: [R], redone: Int) {
        try pipeline.sharded(kind, keys: keys, force: force, work: work)
    }
}

/// What a stage's run made: its outputs' hashes by name, a line for people, and how many
/// photos it processed from scratch (decoded by ingest, rendered by augment; 0 for the others).
struct StageResult {
    var outputs: [String: String]
    var note: String
    var work = 0
}
