import FacetCore
import FacetData
import Foundation
import Yams

/// Where `facet label PIPELINE --serve` reads photos and writes labels: the pipeline's workspace,
/// classes and label sheet (`label: {from: sheet, sheet: FILE}`). A sheet named but not written
/// yet is created empty first (the manifest requires its files to exist); a pipeline labelling
/// from folders or a pattern gets `Manifests/NAME/labels.csv`, and the note says how to use it.
public struct LabelTarget: Sendable {
    public var workspace: String
    public var classes: [String]
    public var sheet: String
    /// Set when the pipeline does not read `sheet` yet: what to add to it.
    public var note: String?

    public static func resolve(pipeline file: String) throws -> LabelTarget {
        let named = try namedSheet(file)
        if let named, !FileManager.default.fileExists(atPath: named) {
            try AtomicFile.write(Array("file,label\n".utf8), to: named)
        }
        let m = try PipelineManifest.load(file)
        guard FileManager.default.fileExists(atPath: Workspace.manifest(m.workspace)) else {
            throw DataError("\(m.workspace): no photos yet; run facet run \(file) --until tag first")
        }
        if let named { return LabelTarget(workspace: m.workspace, classes: m.classes, sheet: named) }
        let sheet = m.root + "/Manifests/\(m.name)/labels.csv"
        let relative = "Manifests/\(m.name)/labels.csv"
        return LabelTarget(workspace: m.workspace, classes: m.classes, sheet: sheet,
                           note: "this pipeline labels from its folders or a pattern; to use these labels, set label: {from: sheet, sheet: \(relative)}")
    }

    /// The label sheet a manifest names (absolute), read before the manifest is validated.
    static func namedSheet(_ file: String) throws -> String? {
        guard let data = FileManager.default.contents(atPath: file), data.count <= PipelineManifest.maxBytes,
              let text = String(data: data, encoding: .utf8),
              let yaml = try? Yams.load(yaml: text) as? [String: Any],
              let stages = yaml["stages"] as? [String: Any], let label = stages["label"] as? [String: Any],
              (label["from"] as? String) == "sheet", let sheet = label["sheet"] as? String else { return nil }
        let folder = URL(fileURLWithPath: file).standardizedFileURL.deletingLastPathComponent()
        let root = folder.lastPathComponent == "Pipelines" ? folder.deletingLastPathComponent().path : folder.path
        return PipelineManifest.absolute(sheet, root: root)
    }
}
