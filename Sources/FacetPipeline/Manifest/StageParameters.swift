import FacetData
import Foundation

/// A stage as the manifest configures it (its type's value, `Stages/<Key>/`), plus its
/// parameters' canonical form (every key, defaults filled in) and the files they name, whose
/// contents are inputs of the stage.
public struct StageParameters: Sendable {
    let stage: any PipelineStage
    public var canonical: Value
    /// Absolute paths of files named by the parameters (sheets), by parameter name.
    public var files: [String: String]

    static func read(_ kind: StageKind, _ s: Section, root: String, seed: UInt64, classes: [String]) -> StageParameters {
        let context = StageContext(root: root, seed: seed, classes: classes)
        let stage = kind.type.init(s, context)
        return StageParameters(stage: stage, canonical: .object(s.canonical), files: context.files)
    }
}
