import Foundation

/// A learned occlusion tagger as tagging sees it: P(partly covered) for each face crop, and a
/// way to save it. Here, below both, because FacetData (whose tagging uses one) and FacetLearn
/// (whose `OcclusionTagger.learner` is one) are peers that do not import each other.
public struct OcclusionModel {
    public var scores: ([Data]) -> [Double]
    public var save: (String) throws -> Void

    public init(scores: @escaping ([Data]) -> [Double], save: @escaping (String) throws -> Void) {
        (self.scores, self.save) = (scores, save)
    }
}

/// How tagging trains a learned occlusion tagger on hand-tagged face crops, and loads a saved one.
public struct OcclusionLearner: Sendable {
    /// Crops, whether each is partly covered, and a progress callback (epoch, epochs).
    public var train: @Sendable ([Data], [Bool], ((Int, Int) -> Void)?) throws -> OcclusionModel
    public var load: @Sendable (String) throws -> OcclusionModel

    public init(train: @escaping @Sendable ([Data], [Bool], ((Int, Int) -> Void)?) throws -> OcclusionModel,
                load: @escaping @Sendable (String) throws -> OcclusionModel) {
        (self.train, self.load) = (train, load)
    }
}
