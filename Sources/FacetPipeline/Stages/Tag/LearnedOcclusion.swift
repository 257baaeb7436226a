import FacetData
import FacetLearn
import Foundation

extension OcclusionLearner {
    /// FacetLearn's `OcclusionTagger`, for FacetData's tagging (which does not see FacetLearn):
    /// what the tag stage and `facet tag` train and load.
    public static let learned = OcclusionLearner(
        train: { crops, partial, progress in model(try OcclusionTagger.train(crops, partial: partial, progress: progress)) },
        load: { model(try OcclusionTagger.load($0)) })

    static func model(_ tagger: OcclusionTagger) -> OcclusionModel {
        OcclusionModel(scores: tagger.scores, save: tagger.save)
    }
}
