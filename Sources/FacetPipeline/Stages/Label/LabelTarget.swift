import FacetCore
import FacetData
import Foundation
import Yams

/// Where `facet label PIPELINE --serve` reads photos and writes labels and condition overrides:
/// the pipeline's workspace, classes, label sheet (`label: {from: sheet, sheet: FILE}`) and
/// overrides sheet (`tag: {overrides: FILE}`). A sheet named but not written yet is created empty
/// first (the manifest requires its files to exist); one not named is `Manifests/NAME/labels.csv`
/// or `conditions.csv`, and a note says how to use it.
public struct LabelTarget: Sendable {
    public var workspace: String
    public var classes: [String]
    public var sheet: String
    /// The conditions overrides sheet (`tag: {overrides: FILE}`, or `Manifests/NAME/conditions.csv`).
    public var conditions: String
    /// Set when the pipeline does not read a sheet the app writes: what to add to it.
    public var notes: [String] = []

    public static func resolve(pipeline file: String) throws -> LabelTarget {
        let stages = stageSections(file)
        let named = namedFile(stages, file, stage: "label", key: "sheet", when: ("from", "sheet"))
        let overrides = namedFile(stages, file, stage: "tag", key: "overrides", when: nil)
        for (path, header) in [(named, "file,label\n"), (overrides, "file,lighting,background,occlusion\n")] {
            if let path, !FileManager.default.fileExists(atPath: path) { try AtomicFile.write(Array(header.utf8), to: path) }
        }
        let m = try PipelineManifest.load(file)
        guard FileManager.default.fileExists(atPath: Workspace.manifest(m.workspace)) else {
            throw DataError("\(m.workspace): no photos yet; run facet run \(file) --until tag first")
        }
        let folder = "Manifests/\(m.name)"
        var t = LabelTarget(workspace: m.workspace, classes: m.classes, sheet: named ?? m.root + "/\(folder)/labels.csv",
                            conditions: overrides ?? m.root + "/\(folder)/conditions.csv")
        if named == nil {
            t.notes.append("this pipeline labels from its folders or a pattern; to use the labels made here, set label: {from: sheet, sheet: \(folder)/labels.csv}")
        }
        if overrides == nil {
            t.notes.append("this pipeline's tag stage reads no overrides; to use the conditions set here, set tag: {overrides: \(folder)/conditions.csv}")
        }
        return t
    }

    /// The manifest's `stages` mapping, read before the manifest is validated (empty when it
    /// cannot be read: the validation then says why).
    static func stageSections(_ file: String) -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: file), data.count <= PipelineManifest.maxBytes,
              let text = String(data: data, encoding: .utf8), let yaml = try? Yams.load(yaml: text) as? [String: Any],
              let stages = yaml["stages"] as? [String: Any] else { return [:] }
        return stages
    }

    /// The file `stages.STAGE.KEY` names (absolute); with `when`, only if that key of the stage
    /// has that value.
    static func namedFile(_ stages: [String: Any], _ file: String, stage: String, key: String, when: (String, String)?) -> String? {
        guard let section = stages[stage] as? [String: Any], let path = section[key] as? String else { return nil }
        if let (k, v) = when, (section[k] as? String) != v { return nil }
        return PipelineManifest.absolute(path, root: PipelineManifest.root(of: file))
    }
}

extension LabelTarget {
    /// How many photos the label sheet now labels otherwise than the last run did (the
    /// workspace's `manifest.jsonl` and `discarded.jsonl`), the sheet read as the label stage
    /// reads it; for `facet status`. Nil when the label stage does not read a sheet, has not
    /// run, or the sheet cannot be read (the run will say why).
    public static func changes(_ m: PipelineManifest) -> Int? {
        guard let stage = m.stages[.label]?.stage as? LabelStage, case .sheet = stage.options.source,
              let records = try? JSONLines.read(Record.self, from: Workspace.manifest(m.workspace)) else { return nil }
        let discarded = (try? JSONLines.read(Record.self, from: Workspace.discarded(m.workspace))) ?? []
        let duplicates = (try? JSONLines.read(DuplicateRecord.self, from: Workspace.duplicates(m.workspace))) ?? []
        var o = stage.options
        o.strict = false
        guard let (kept, dropped, _) = try? Labeling.apply(records + discarded, duplicates: duplicates, options: o) else { return nil }
        let before = Dictionary(records.map { ($0.id, $0.label ?? "") } + discarded.map { ($0.id, "\u{0}discard") }) { a, _ in a }
        let after = Dictionary(kept.map { ($0.id, $0.label ?? "") } + dropped.map { ($0.id, "\u{0}discard") }) { a, _ in a }
        return before.filter { after[$0.key] != $0.value }.count
    }
}
