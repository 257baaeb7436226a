import FacetCore
import FacetData
import FacetLearn
import Foundation

extension ImageDataset {
    /// The dataset folder `facet augment` (or the augment stage) wrote: its `manifest.jsonl` read
    /// through FacetData's codec of `DatasetRecord`, then its images decoded (FacetLearn).
    public static func load(dataset folder: String, classes: [String], progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> ImageDataset {
        let path = folder + "/manifest.jsonl"
        guard FileSystem.exists(path) else { throw DataError("\(path): missing; run facet augment (or facet run) first") }
        let entries = try JSONLines.read(DatasetRecord.self, from: path).map { r in
            var conditions: [String: String] = [:]
            for (k, v) in [("lighting", r.lighting), ("background", r.background), ("occlusion", r.occlusion)] { if let v { conditions[k] = v } }
            return Entry(file: r.file, label: r.label, split: r.split, conditions: conditions)
        }
        return try load(folder, entries: entries, classes: classes, manifest: path, progress: progress)
    }
}
